"""Nothing the student controls steers the grader (issue 62, holes 1 and 3):

- a grading reads no setting from the submission's tree or the folder it runs in: a
  ``dojo.toml`` / ``pyproject.toml [tool.nlpdojo]`` naming torch there is not followed, and the
  result records where each setting came from (option, environment, the instructor's course
  configuration, default);
- a cohort graded from inside its submissions folder, which holds submissions named like
  packages the grader imports (``nlpdojo``, ``nlpdojo_autograder``), runs none of their code:
  every grader process starts with ``-P`` in a working folder of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app

TORCH_DOJO = 'backend = "torch"\ndevice = "cpu"\ndtype = "float64"\n'
TORCH_PYPROJECT = '[project]\nname = "mine"\n\n[tool.nlpdojo]\nbackend = "torch"\n'


def _planting(marker: Path) -> str:
    """A package's ``__init__`` that leaves ``marker`` behind if it is ever imported as the
    grader's own package (as the student's code, in a worker, it runs under the name of the
    topic it is graded as: that is grading, and without the OS sandbox it may write here)."""
    return ("from pathlib import Path\n"
            "if __name__.split('.')[0] in ('nlpdojo', 'nlpdojo_autograder'):\n"
            f"    Path({str(marker)!r}).write_text('ran')\n")


def _settings(path: Path) -> dict:
    return json.loads(path.read_text())["settings"]


def test_a_submissions_project_files_do_not_choose_the_backend(
        toy, make_submission, tmp_path, monkeypatch):
    """The instance: graded in the student's checkout, whose dojo.toml and pyproject.toml name
    torch, the grading runs on numpy and says the backend came from the default."""
    folder = make_submission()
    (folder / "dojo.toml").write_text(TORCH_DOJO)
    (folder / "pyproject.toml").write_text(TORCH_PYPROJECT)
    (folder / "toy" / "dojo.toml").write_text(TORCH_DOJO)
    monkeypatch.chdir(folder)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["toy", "--submission", ".", "-f", "json", "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(out.read_text())
    assert (data["backend"], data["device"]) == ("numpy", "cpu")
    assert data["settings"]["backend"] == {"value": "numpy", "source": "default"}
    assert data["settings"]["device"] == {"value": "cpu", "source": "default"}
    assert data["settings"]["timeout_scale"] == {"value": 1.0, "source": "default"}
    # the student is told why their file was not followed, and how to choose
    assert "dojo.toml sets backend = 'torch'" in result.output
    assert "--backend" in result.output


def test_each_setting_is_recorded_with_its_source(toy, make_submission, tmp_path, monkeypatch):
    """Option > environment > the instructor's course configuration > default, each named
    in the result; the submission's own dojo.toml is none of them."""
    folder = make_submission()
    (folder / "dojo.toml").write_text('memory_mb = 1\ntimeout_scale = 0.01\ntime_limit = 1\n')
    config = tmp_path / "course.toml"
    config.write_text("memory_mb = 3000\ntimeout_scale = 2\ntime_limit = 900\n")
    monkeypatch.setenv("NLPDOJO_TIMEOUT_SCALE", "3")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["toy", "--submission", str(folder), "--config",
                                      str(config), "--backend", "numpy", "-f", "json",
                                      "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    settings = _settings(out)
    assert settings["backend"] == {"value": "numpy", "source": "flag"}
    assert settings["timeout_scale"] == {"value": 3.0, "source": "env NLPDOJO_TIMEOUT_SCALE"}
    assert settings["memory_mb"] == {"value": 3000, "source": f"config {config}"}
    assert settings["time_limit"] == {"value": 900.0, "source": f"config {config}"}
    assert json.loads(out.read_text())["options"]["memory_mb"] == 3000
    assert json.loads(out.read_text())["options"]["time_limit"] == 900.0
    again = tmp_path / "again.json"  # a replay runs on what the result fixed, and says so
    result = CliRunner().invoke(app, ["--replay", str(out), "-f", "json", "-o", str(again)])
    assert result.exit_code in (0, 1), result.output
    assert _settings(again)["memory_mb"] == {"value": 3000, "source": f"replay {out}"}
    assert _settings(again)["time_limit"] == {"value": 900.0, "source": f"replay {out}"}
    assert _settings(again)["backend"] == {"value": "numpy", "source": f"replay {out}"}


def test_a_broken_course_configuration_stops_grading_before_it_starts(toy, tmp_path):
    config = tmp_path / "course.toml"
    config.write_text("memory = 3000\n")
    result = CliRunner().invoke(app, ["toy", "--solutions", "--config", str(config)])
    assert result.exit_code == 2
    assert "holds memory, which nlpdojo does not know" in result.output


@pytest.mark.seeded  # the right submission's points, at the cohort's fresh inputs
@pytest.mark.timeout(300)
def test_a_cohort_graded_from_inside_its_folder_runs_no_submission_as_the_grader(
        toy, make_submission, tmp_path, monkeypatch):
    """The instance of hole 3, and hole 1's sibling: graded with the submissions folder as the
    working folder, which holds submissions named like packages the grader imports and a
    planted dojo.toml naming torch, no submission's code runs in a grader process, the
    other's result is right, and the backend is the default."""
    root = tmp_path / "cohort"
    root.mkdir()
    make_submission(name="alice").rename(root / "alice")
    marker = tmp_path / "MARKER"
    for name in ("nlpdojo", "nlpdojo_autograder"):
        (root / name).mkdir()
        (root / name / "__init__.py").write_text(_planting(marker))
    (root / "nlpdojo_autograder" / "cli").mkdir()  # `-m nlpdojo_autograder.cli.grade` too
    (root / "nlpdojo_autograder" / "cli" / "__init__.py").write_text(_planting(marker))
    (root / "nlpdojo_autograder" / "cli" / "grade.py").write_text(_planting(marker))
    (root / "dojo.toml").write_text(TORCH_DOJO)
    config = tmp_path / "course.toml"
    config.write_text(f"output = {str(tmp_path / 'reports')!r}\n")
    monkeypatch.setenv("NLPDOJO_CONFIG", str(config))
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["toy", "--submissions", ".", "--jobs", "2",
                                      "-f", "json"])
    assert not marker.exists(), "a submission's code ran in a grader process"
    out = tmp_path / "reports" / "cohort-results"  # the course configuration's folder
    settings = _settings(out / "alice" / "result.json")
    assert settings["backend"] == {"value": "numpy", "source": "default"}
    assert settings["output"] == {"value": str(out), "source": f"config {config}"}
    rows = {r["name"]: r for r in json.loads((out / "summary.json").read_text())["submissions"]}
    assert rows["nlpdojo"]["score"] == rows["nlpdojo_autograder"]["score"] == 0
    assert rows["alice"]["score"] == 7.5, result.output


def test_python_m_grade_in_a_folder_that_shadows_the_grader_drops_it_and_says_so(tmp_path):
    """``python -m nlpdojo_autograder.cli.grade`` run where a folder ``nlpdojo`` lies (the form
    a student's checkout sees): the working folder is taken off the import path before the
    grader imports nlpdojo, and a note says so and what to run instead."""
    marker = tmp_path / "MARKER"
    (tmp_path / "nlpdojo").mkdir()
    (tmp_path / "nlpdojo" / "__init__.py").write_text(_planting(marker))
    ran = subprocess.run([sys.executable, "-m", "nlpdojo_autograder.cli.grade", "--help"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert not marker.exists()
    assert "holds nlpdojo, named like modules the grader may import" in ran.stderr
    assert "python -P -m" in ran.stderr


@pytest.mark.parametrize(("var", "said"), [
    ("NLPDOJO_TIMEOUT_SCALE", "NLPDOJO_TIMEOUT_SCALE='soon' must be a number of at least 0.01"),
    ("NLPDOJO_TIME_LIMIT", "NLPDOJO_TIME_LIMIT='soon' must be a number of seconds, at least 1"),
])
def test_a_setting_in_the_environment_that_is_no_number_says_what_it_must_be(
        toy, monkeypatch, var, said):
    """Not Python's "could not convert string to float" after "must be" (as it was)."""
    monkeypatch.setenv(var, "soon")
    result = CliRunner().invoke(app, ["toy", "--solutions"])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {said}", result.output
