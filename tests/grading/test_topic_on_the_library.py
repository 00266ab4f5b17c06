"""A topic built on the course library, added by touching only its own folders and one library
file (issue 24, "done when"): a cell with a gradient check and a torch check, in a new library
file that the library re-exports with no edit (``__all__ = ["MGUCell"]``), and, in the topic's
own folder, a bidirectional unroll of it that imports the cell and the library's RNN from one
place (``from ..library import RNN, MGUCell``), checked over the grader's stand-in cells, that
requires the cell and an earlier topic's question (the library's RNN, from
``language_models``). It releases (the notebook holds the library file as a cell and binds RNN
from library/), grades (stubs 0, reference full marks) and verifies strictly.

The topic's files are those of docs/examples/toy_mgu/, which docs/authoring.md's walk-through
shows. The commands run in processes whose ``nlpdojo_solutions`` and ``nlpdojo_course`` are
copies in a temporary folder (``PYTHONPATH`` comes before the editable install's finder), so the
checkout is never written to.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from tests.grading.test_new_topic import course, run  # noqa: F401 - the fixture

#: the topic's files, as docs/authoring.md's walk-through shows them, complete: the one
#: library file (the minimal gated unit, Zhou et al. 2016), the topic's unroll, its README and
#: its declarations
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "toy_mgu"
MGU_LIBRARY = (EXAMPLE / "solutions" / "library" / "mgu.py").read_text(encoding="utf-8")
BIMGU_TOPIC = (EXAMPLE / "solutions" / "toy_mgu" / "bimgu.py").read_text(encoding="utf-8")
README = (EXAMPLE / "solutions" / "toy_mgu" / "README.md").read_text(encoding="utf-8")
QUESTIONS = (EXAMPLE / "course" / "toy_mgu" / "questions.py").read_text(encoding="utf-8")


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
            and "fixtures" not in p.parts}


def test_a_topic_on_the_library_touches_its_folders_and_one_library_file(course, tmp_path):  # noqa: F811
    packages, env = course
    solutions, course_dir = packages / "nlpdojo_solutions", packages / "nlpdojo_course"
    before = _tree(packages)
    made = run(env, tmp_path, "dojo", "new", "topic", "toy_mgu", "--title", "A gated cell",
               "--order", "7", "--solutions", str(solutions), "--course", str(course_dir))
    assert made.returncode == 0, made.stderr
    # the scaffold's example question goes, and with it its planted bug in withheld/ (the
    # walk-through's bugs are declared with its questions; a bug of a question the topic no
    # longer has is refused when the topic registers)
    (solutions / "toy_mgu" / "scale.py").unlink()
    withheld = course_dir / "toy_mgu" / "withheld" / "__init__.py"
    withheld.write_text(re.sub(r"BUGS = \[.*\]", "BUGS = []", withheld.read_text(encoding="utf-8"),
                               flags=re.S), encoding="utf-8")
    assert "BUGS = []" in withheld.read_text(encoding="utf-8")
    (solutions / "toy_mgu" / "README.md").write_text(README, encoding="utf-8")
    (solutions / "library" / "mgu.py").write_text(MGU_LIBRARY, encoding="utf-8")
    (solutions / "toy_mgu" / "bimgu.py").write_text(BIMGU_TOPIC, encoding="utf-8")
    (course_dir / "toy_mgu" / "questions.py").write_text(QUESTIONS, encoding="utf-8")
    after = _tree(packages)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert {p.split("/")[1] if p.split("/")[1] != "library" else p for p in changed} == {
        "toy_mgu", "nlpdojo_solutions/library/mgu.py"}, changed

    exercises = tmp_path / "exercises"
    released = run(env, tmp_path, "dojo", "release", "toy_mgu", "--solutions", str(solutions),
                   "--output", str(exercises))
    assert released.returncode == 0, released.stdout + released.stderr
    stub = (exercises / "library" / "mgu.py").read_text()
    assert "NotImplementedError" in stub and "grad_af" not in stub
    assert "xp.flip" not in (exercises / "toy_mgu" / "bimgu.py").read_text()
    nb = json.loads((exercises / "toy_mgu" / "toy_mgu.ipynb").read_text())
    assert nb["metadata"]["nlpdojo"]["modules"] == ["library.mgu", "bimgu"]
    cells = {c["metadata"]["nlpdojo"]["module"]: c for c in nb["cells"]
             if "nlpdojo" in c["metadata"]}
    assert cells["bimgu"]["metadata"]["nlpdojo"]["imports"] == [
        "from ..library import RNN, MGUCell"]
    setup = "".join(next(c["source"] for c in nb["cells"] if c["id"] == "nlpdojo-setup"))
    assert "RNN = _library.rnn.RNN" in setup and "MGUCell =" not in setup  # the cell's

    verified = run(env, tmp_path, "dojo", "verify", "toy_mgu", "--strict", "--backend",
                   "numpy")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # + library, baseline, 2 bugs, language_models' bugs in library/rnn.py (they cost nothing
    # here: bimgu requires language_models.rnn, whose reference stands in)
    assert "verification steps passed" in verified.stdout.splitlines()[-1], verified.stdout

    # the requirement forgotten: a student's mistake in their RNN would cost points on bimgu
    # too, which --strict now says (an instructor's finding: it passed)
    questions = course_dir / "toy_mgu" / "questions.py"
    forgotten = QUESTIONS.replace('requires=(MGU_CELL, "language_models.rnn")',
                                  "requires=(MGU_CELL,)")
    assert forgotten != QUESTIONS
    questions.write_text(forgotten, encoding="utf-8")
    # (the planted bugs only: the stubs and the solutions were verified above)
    forgot = run(env, tmp_path, "dojo", "verify", "toy_mgu", "--strict", "--planted-bugs-only")
    assert forgot.returncode == 1, forgot.stdout + forgot.stderr
    assert "planted bugs only" in forgot.stdout and "stubs score 0" not in forgot.stdout
    assert "baseline for the planted bugs" in forgot.stdout
    assert "FAIL toy_mgu: language_models's planted bug" in forgot.stdout, forgot.stdout
    assert "declare requires=(..., 'language_models.rnn') on bimgu" in forgot.stdout
    # ... unless the checks run the student's own RNN on purpose (own_code, as a training
    # check does): then losing points there is by design, and the step says so
    on_purpose = forgotten.replace(
        "points=2.0,  # 131,072", 'points=2.0, own_code=("language_models.rnn",),  # 131,072')
    assert on_purpose != forgotten
    questions.write_text(on_purpose, encoding="utf-8")
    own = run(env, tmp_path, "dojo", "verify", "toy_mgu", "--strict", "--planted-bugs-only")
    assert own.returncode == 0, own.stdout + own.stderr
    assert "which run the student's own language_models.rnn on purpose (own_code)" in (
        own.stdout), own.stdout
    questions.write_text(QUESTIONS, encoding="utf-8")

    stubs = run(env, tmp_path, "grade", "toy_mgu", "--submission", str(exercises),
                "--format", "json")
    solved = run(env, tmp_path, "grade", "toy_mgu", "--solutions", "--format", "json")
    assert json.loads(stubs.stdout)["score"] == 0, stubs.stdout[-2000:]
    report = json.loads(solved.stdout)
    assert report["score"] == report["max_score"] == 5.0, solved.stdout[-3000:]
    checks = {c["id"]: c for e in report["exercises"] for c in e["checks"]}
    assert "mgu_cell.torch" in checks and "bimgu.gradients" in checks
