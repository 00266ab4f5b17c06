"""What ``grade`` leaves unimported until it needs it: every grading pays for what its process
imports (a cohort's children, CI's jobs, the test suite's hundreds of ``grade`` runs), so the
course record's modules load only with a course, rich's live display and progress bar only
where they are drawn, ``urllib.request`` only for a download, and torch not at all in a
student release's grading on NumPy (its fixtures hold what torch would compute). Each in a
fresh process: what the test process imported says nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: modules a grading without a course, a terminal or a download never uses
NOT_AT_START = ("nlpdojo_autograder.course.recording", "nlpdojo_autograder.course.store",
                "rich.live", "rich.progress", "urllib.request", "ssl")
PROBE = """
import json, sys
{imports}
print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))
"""


def _loaded(imports: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NLPDOJO_COURSE", "FORCE_COLOR")}
    done = subprocess.run([sys.executable, "-c", PROBE.format(imports=imports,
                                                               names=NOT_AT_START)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_grade_command_imports_none_of_them():
    assert _loaded("import nlpdojo_autograder.cli.grade") == []


@pytest.mark.parametrize(("imports", "loaded"), [
    ("from nlpdojo_autograder.course.recording import course_recording",
     ["nlpdojo_autograder.course.recording", "nlpdojo_autograder.course.store"]),
    ("import io, nlpdojo_autograder.grading.progress as p, rich.console as c\n"
     "terminal = c.Console(force_terminal=True, file=io.StringIO())\n"
     "p.CohortProgress(terminal, 1).__enter__().__exit__()",
     ["rich.live", "rich.progress"]),
    ("from nlpdojo.data.download import download\n"
     "try:\n    download('http://127.0.0.1:9/x', __import__('pathlib').Path('x'), timeout=1)\n"
     "except Exception:\n    pass", ["ssl", "urllib.request"]),
])
def test_each_loads_where_it_is_used(imports, loaded, tmp_path, monkeypatch):
    """The probe above can fail: the same modules are imported where they are used."""
    monkeypatch.chdir(tmp_path)
    assert _loaded(imports) == loaded


RELEASE_GRADING = """
import runpy, sys
sys.argv = ["grade", "neural_networks.affine", "--as-student", "--no-cache", "--submission",
            sys.argv[1], "-f", "json", "-o", sys.argv[2]]
try:
    runpy.run_module("nlpdojo_autograder.cli.grade", run_name="__main__")
except SystemExit:
    pass
print("torch" in sys.modules)
"""


def test_a_student_releases_grading_of_a_layer_imports_no_torch(tmp_path):
    """The layer's output shape comes from the values check's fixture, the torch oracles'
    values with their inputs' digests from the fixtures too (~1.3 CPU-s of a release's
    grading of neural_networks' 5 was torch's import); the grading gives full marks."""
    pytest.importorskip("torch")
    import shutil

    root = Path(__file__).resolve().parents[1]
    submission = tmp_path / "exercises"
    for folder in ("neural_networks", "library"):
        shutil.copytree(root / "solutions" / folder, submission / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "result.json"
    done = subprocess.run([sys.executable, "-c", RELEASE_GRADING, str(submission), str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={k: v for k, v in os.environ.items() if k != "NLPDOJO_COURSE"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False", done.stdout[-2000:]
    result = json.loads(out.read_text())
    assert result["score"] == result["max_score"] > 0, result["score"]
