"""A topic named ``attention`` added as an instructor adds one (issue 65, "done when"):
``dojo new topic attention``, then only its two folders and one library file. A layer of the
course library (``AttentionPooling``: a softmax over a padded sentence's real positions,
checked against torch), an unroll in the topic's folder (the library's RNN pooled by it, over
the grader's stand-in cells, requiring an earlier topic's RNN) and a question trained on MR
by a given module on the training kit's loop (:func:`nlpdojo.training.train_on_sentences`).
It releases, verifies strictly, grades (stubs 0, the reference full marks), and leaves every
other topic's fixtures current: a new library file is read by no other topic.

The files are those of docs/examples/attention/. The commands run on copies of the course's
two packages (:func:`tests.grading.test_new_topic.course`): the checkout is never written to.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.grading.test_new_topic import course, run  # noqa: F401 - the fixture

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "attention"
#: the example's files, by where they go in the course's two packages
FILES = {f"nlpdojo_solutions/{p.relative_to(EXAMPLE / 'solutions').as_posix()}":
         p for p in sorted((EXAMPLE / "solutions").rglob("*.*"))} | {
    f"nlpdojo_course/{p.relative_to(EXAMPLE / 'course').as_posix()}":
    p for p in sorted((EXAMPLE / "course").rglob("*.py"))}

#: each topic's fixtures current: the fingerprint its FINGERPRINT file recorded is the one
#: its sources give now (run where the copied packages are imported)
CURRENT = """
import json, sys
from pathlib import Path
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.release.fixtures import FINGERPRINT, fingerprint
solutions = Path(sys.argv[1])
found = {}
for name in get_registry().names("exercise"):
    exercise = get_registry().get("exercise", name)
    recorded = Path(exercise.fixtures) / FINGERPRINT
    found[name] = (recorded.is_file() and recorded.read_text().split()[0]
                   == fingerprint(exercise, solutions / name))
print(json.dumps(found))
"""


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _current(env: dict[str, str], cwd: Path, solutions: Path) -> dict[str, bool]:
    done = subprocess.run([sys.executable, "-c", CURRENT, str(solutions)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.long
@pytest.mark.timeout(1200)
def test_an_attention_topic_on_the_library_and_the_training_kit(course, tmp_path):  # noqa: F811
    packages, env = course
    solutions, course_dir = packages / "nlpdojo_solutions", packages / "nlpdojo_course"
    before = _tree(packages)
    assert all(_current(env, tmp_path, solutions).values())  # the shipped fixtures are
    made = run(env, tmp_path, "dojo", "new", "topic", "attention", "--title", "Attention",
               "--order", "8", "--solutions", str(solutions), "--course", str(course_dir))
    assert made.returncode == 0, made.stderr
    (solutions / "attention" / "scale.py").unlink()  # the scaffold's example question
    withheld = course_dir / "attention" / "withheld" / "__init__.py"
    withheld.write_text(re.sub(r"BUGS = \[.*\]", "BUGS = []", withheld.read_text(),
                               flags=re.S))  # (the topic's bugs are declared with its questions)
    for target, source in FILES.items():
        (packages / target).write_text(source.read_text())
    after = _tree(packages)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert {p.split("/")[1] if p.split("/")[1] != "library" else p for p in changed} == {
        "attention", "nlpdojo_solutions/library/attention.py"}, changed

    exercises = tmp_path / "exercises"
    released = run(env, tmp_path, "dojo", "release", "attention", "--solutions",
                   str(solutions), "--output", str(exercises))
    assert released.returncode == 0, released.stdout + released.stderr
    stub = (exercises / "library" / "attention.py").read_text()
    assert "NotImplementedError" in stub and "grad_scores" not in stub
    assert "self.pool(hs, lengths)" not in (exercises / "attention" / "encoder.py").read_text()
    # the given module is released whole, and the fixtures record it as given
    assert (exercises / "attention" / "polarity_training.py").read_text() == (
        solutions / "attention" / "polarity_training.py").read_text()
    fixtures = course_dir / "attention" / "fixtures"
    assert set(json.loads((fixtures / "GIVEN").read_text())) == {"polarity_training"}
    assert (fixtures / "attention_polarity.accuracy.json").is_file()
    # every other topic's fixtures stay current: none reads the new library file
    current = _current(env, tmp_path, solutions)
    assert current.pop("attention") and current and all(current.values()), current

    verified = run(env, tmp_path, "dojo", "verify", "attention", "--strict", "--backend",
                   "numpy")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # library, consistency, every question a bug, stubs, emptied blocks, solutions, baseline,
    # given code, requires, 3 bugs
    assert verified.stdout.splitlines()[-1] == "13/13 verification steps passed", (
        verified.stdout)
    assert "the checks ran 1 module(s) of the topic from the submission" in verified.stdout

    stubs = run(env, tmp_path, "grade", "attention", "--submission", str(exercises),
                "--format", "json")
    solved = run(env, tmp_path, "grade", "attention", "--solutions", "--format", "json")
    assert json.loads(stubs.stdout)["score"] == 0, stubs.stdout[-2000:]
    report = json.loads(solved.stdout)
    assert report["score"] == report["max_score"] == 7.0, solved.stdout[-3000:]
    checks = {c["id"]: c for e in report["exercises"] for c in e["checks"]}
    assert {"attention_pooling.torch", "attentive_encoder.gradients",
            "attention_polarity.accuracy"} <= set(checks)
    accuracy = checks["attention_polarity.accuracy"]
    assert accuracy["status"] == "passed" and accuracy["value"] > 0.7, accuracy
