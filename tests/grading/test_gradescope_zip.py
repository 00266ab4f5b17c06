"""``dojo release --gradescope autograder.zip`` (issue 14, item 1): the zip is unpacked into a
temporary tree laid out like Gradescope's ``/autograder`` (source/, submission/, results/),
``setup.sh --offline`` installs its two wheels into a fresh virtual environment (the
dependencies come from this environment's site-packages through a ``.pth``, as Gradescope's
image would have them from PyPI), and ``run_autograder`` grades a sample submission in the OS
sandbox; ``results/results.json`` is validated against Gradescope's specification."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.release.gradescope_zip import unpack

REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / "word_vectors"
TARGETS = ["softmax", "naive_softmax"]
GRAD_OUT = "grad_outside_vectors = delta[:, None] * center_vec[None, :]"
TRANSPOSED = "grad_outside_vectors = (delta[:, None] * center_vec[None, :]).T"
BASE_SCHEMA = json.loads((REPO / "tests" / "reports" / "fixtures"
                          / "gradescope-results.schema.json").read_text())
#: what Gradescope's autograder specification asks of results.json, on top of the strict
#: schema of its fields (tests/reports/fixtures): a top-level score, execution_time and
#: stdout_visibility, and tests that each carry score, max_score, name, output and visibility
REQUIRED = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "allOf": [BASE_SCHEMA, {
        "type": "object",
        "required": ["score", "execution_time", "stdout_visibility", "tests"],
        "properties": {"tests": {"type": "array", "items": {
            "type": "object",
            "required": ["score", "max_score", "name", "output", "visibility"]}}},
    }],
}


def _sandbox_available() -> str | None:
    from nlpdojo_autograder.runtime.sandbox import probe

    return probe()


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "NLPDOJO_")) and k != "VIRTUAL_ENV"}
    env |= {"NLPDOJO_AUTOGRADER_ROOT": str(root), "NLPDOJO_PLUGINS": "",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}
    if "NLPDOJO_DATA" in os.environ:
        env["NLPDOJO_DATA"] = os.environ["NLPDOJO_DATA"]
    return env | extra


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    from nlpdojo.cli.app import build_app

    dest = tmp_path_factory.mktemp("zip") / "autograder.zip"
    result = CliRunner().invoke(build_app(), ["release", "--gradescope", str(dest), *TARGETS,
                                              "--runs-per-day", "2"])
    assert result.exit_code == 0, result.output
    assert f"gradescope autograder {dest}" in result.output
    return dest


@pytest.fixture(scope="module")
def installed(autograder_zip, tmp_path_factory) -> Path:
    """``/autograder`` as Gradescope leaves it after ``setup.sh``: returns its root."""
    root = unpack(autograder_zip, tmp_path_factory.mktemp("gradescope") / "autograder")
    proc = subprocess.run(["bash", str(root / "source" / "setup.sh"), "--offline"],
                          env=_env(root, NLPDOJO_PYTHON=sys.executable), capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nlpdojo autograder ready" in proc.stdout
    (site,) = (root / "venv" / "lib").glob("python3*/site-packages")
    # the dependencies, as PyPI would have installed them: this environment's site-packages
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def _submit(root: Path, body: str | None, *, loose: bool = False) -> None:
    """The student's upload: their ``word_vectors/`` folder, or (``loose``) its files."""
    shutil.rmtree(root / "submission")
    topic = root / "submission" if loose else root / "submission" / "word_vectors"
    shutil.copytree(SOLUTION, topic, ignore=shutil.ignore_patterns("__pycache__"))
    if body:
        module = topic / "naive_softmax.py"
        module.write_text(module.read_text().replace(GRAD_OUT, body))


def _run(root: Path, **env: str) -> dict:
    results = root / "results" / "results.json"
    proc = subprocess.run([str(root / "run_autograder")], env=_env(root, **env),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # Gradescope: never a harness failure
    assert results.is_file(), proc.stderr
    data = json.loads(results.read_text())
    jsonschema.validate(data, REQUIRED)
    return data


def test_the_zip_holds_what_gradescope_takes(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        run = zf.read("run_autograder").decode()
        wheels = {n: zipfile.ZipFile(zf.open(n)).namelist() for n in names
                  if n.endswith(".whl")}
    assert {"setup.sh", "run_autograder", "constraints.txt", "README.md"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert "gradescope_run --root" in run and "-- softmax naive_softmax 2>" in run
    assert "gradescope_policy.json" in names
    (student,) = [files for n, files in wheels.items() if "nlpdojo-0" in n]
    (reference,) = [files for n, files in wheels.items() if "nlpdojo_reference" in n]
    assert not any(f.startswith("nlpdojo_solutions/") for f in student)
    assert "nlpdojo_autograder/cli/grade.py" in student
    topics = {f.split("/")[1] for f in reference if f.startswith("nlpdojo_solutions/")
              and f.count("/") >= 2}
    assert topics == {"word_vectors", "library"}  # the chosen topic and the course library


@pytest.mark.timeout(600)
def test_run_autograder_grades_a_submission_in_the_sandbox(installed):
    why = _sandbox_available()
    if why is not None:
        pytest.skip(f"the OS sandbox cannot be made here ({why}); run_autograder requires it")
    venv_python = installed / "venv" / "bin" / "python"
    where = subprocess.run(
        [str(venv_python), "-c", "import nlpdojo_autograder, nlpdojo_solutions as s; "
         "print(nlpdojo_autograder.__file__); print(s.__file__)"],
        env=_env(installed), capture_output=True, text=True, check=True).stdout.split()
    assert all(path.startswith(str(installed / "venv")) for path in where), where
    _submit(installed, TRANSPOSED)
    data = _run(installed)
    tests = {t["extra_data"]["id"]: t for t in data["tests"]}
    assert tests["softmax.values"]["status"] == "passed"
    assert tests["naive_softmax.gradient"]["status"] == "failed"
    assert "transposed" in tests["naive_softmax.gradient"]["output"]
    assert any(t["extra_data"]["hidden"] and t["visibility"] == "after_published"
               for t in data["tests"])  # the reference is installed: hidden checks ran
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    assert data["score"] < sum(t["max_score"] for t in data["tests"])
    assert "; isolation sandbox" in data["output"]
    # the reference's files, uploaded loose (no word_vectors/ folder), score full marks
    _submit(installed, None, loose=True)
    full = _run(installed)
    assert full["score"] == pytest.approx(sum(t["max_score"] for t in full["tests"]))


@pytest.mark.timeout(600)
def test_past_the_daily_limit_only_public_checks_run(installed):
    """submission_metadata.json with two graded runs today (issue 63): the zip's policy
    (--runs-per-day 2) withholds the hidden checks, keeps the last graded score and says when
    the next graded run is; the late days are said first."""
    why = _sandbox_available()
    if why is not None:
        pytest.skip(f"the OS sandbox cannot be made here ({why}); run_autograder requires it")
    _submit(installed, TRANSPOSED)
    runs = [{"submission_time": f"2027-01-21T0{h}:00:00+00:00", "score": 7.5, "results": {},
             "autograder_error": False} for h in (1, 2)]
    meta = installed / "submission_metadata.json"
    meta.write_text(json.dumps({"created_at": "2027-01-21T09:30:00+00:00",
                                "assignment": {"due_date": "2027-01-20T23:59:00+00:00"},
                                "users": [], "previous_submissions": runs}))
    try:
        data = _run(installed)
    finally:
        meta.unlink()
    assert data["tests"] and not any(t["extra_data"]["hidden"] for t in data["tests"])
    assert data["score"] == 7.5 and data["extra_data"]["nlpdojo"]["counted"] is False
    assert data["output"].startswith("Submitted 2027-01-21 09:30 UTC")
    assert "1 late day used" in data["output"]
    assert "next graded run is available from 2027-01-22 00:00 UTC" in data["output"]


def test_without_the_sandbox_the_student_still_gets_a_results_json(installed):
    _submit(installed, None)
    data = _run(installed, NLPDOJO_SANDBOX="off")  # --require-sandbox refuses to grade
    assert data["score"] == 0 and data["tests"] == []
    assert "could not grade this submission" in data["output"]
    assert "--require-sandbox" in data["output"]
    assert "tell your instructor" in data["output"]


def test_without_python_either_the_student_still_gets_a_results_json(installed):
    """The fallback that says why runs Python; where that fails too (a stripped PATH, an
    operator found), run_autograder still leaves a results.json."""
    _submit(installed, None)
    data = _run(installed, NLPDOJO_SANDBOX="off", NLPDOJO_RESULTS_PYTHON="/no/such/python3")
    assert data["score"] == 0 and data["tests"] == []
    assert "could not grade this submission" in data["output"]
    assert "tell your instructor" in data["output"]


def test_release_refuses_a_bad_destination_or_target(tmp_path):
    from nlpdojo.cli.app import build_app

    runner = CliRunner()
    result = runner.invoke(build_app(), ["release", "--gradescope", str(tmp_path / "x.tar")])
    assert result.exit_code == 2 and "zip's file name" in result.output
    result = runner.invoke(build_app(), ["release", "--gradescope", str(tmp_path / "a.zip"),
                                         "no_such_topic"])
    assert result.exit_code == 2 and "neither a topic nor a question id" in result.output
    result = runner.invoke(build_app(), ["release", "softmax"])  # a question: not a topic
    assert result.exit_code == 2 and "no topic 'softmax' in" in result.output
    assert not list(tmp_path.iterdir())
