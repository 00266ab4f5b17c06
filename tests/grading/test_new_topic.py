"""Adding a topic is adding two folders (issue 24): ``dojo new topic NAME`` scaffolds
``solutions/NAME/`` and ``course/NAME/``, and the new topic releases (alone, ``dojo release
NAME``), verifies strictly and grades at once, with no central file edited.

The commands run in processes whose ``nlpdojo_solutions`` and ``nlpdojo_course`` are copies in
a temporary folder (``PYTHONPATH`` comes before the editable install's finder), so the
checkout is never written to.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


@pytest.fixture
def course(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the course's two packages on ``PYTHONPATH``, and the environment to run
    ``dojo`` and ``grade`` on it, with the test's input seed kept (tests/conftest.py): no
    verdict of these commands depends on a random draw."""
    packages = tmp_path / "packages"
    shutil.copytree(REPO / "solutions", packages / "nlpdojo_solutions", ignore=IGNORE)
    shutil.copytree(REPO / "course", packages / "nlpdojo_course", ignore=IGNORE)
    env = {**os.environ, "PYTHONPATH": str(packages),
           "NLPDOJO_GRADE_CACHE": str(tmp_path / "grade-cache")}
    return packages, env


def run(env: dict[str, str], cwd: Path, *argv: str, timeout: float = 600):
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_a_new_topic_releases_verifies_and_grades_at_once(course, tmp_path: Path):
    packages, env = course
    solutions, course_dir = packages / "nlpdojo_solutions", packages / "nlpdojo_course"
    made = run(env, tmp_path, "dojo", "new", "topic", "dojo_demo", "--title", "A demo topic",
               "--solutions", str(solutions), "--course", str(course_dir))
    assert made.returncode == 0, made.stderr
    assert "dojo release" in made.stdout and "dojo verify dojo_demo --strict" in made.stdout
    written = sorted(p.relative_to(packages).as_posix()
                     for p in packages.rglob("*dojo_demo*/**/*") if p.is_file())
    assert written == ["nlpdojo_course/dojo_demo/__init__.py",
                       "nlpdojo_course/dojo_demo/questions.py",
                       "nlpdojo_course/dojo_demo/withheld/__init__.py",
                       "nlpdojo_solutions/dojo_demo/README.md",
                       "nlpdojo_solutions/dojo_demo/__init__.py",
                       "nlpdojo_solutions/dojo_demo/scale.py"]

    listed = run(env, tmp_path, "dojo", "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)["plugins"]}
    assert rows["course.dojo_demo"]["registered"] == {"exercise": ["dojo_demo"]}  # its folder

    exercises = tmp_path / "exercises"
    released = run(env, tmp_path, "dojo", "release", "dojo_demo", "--solutions",
                   str(solutions), "--output", str(exercises))
    assert released.returncode == 0, released.stdout + released.stderr
    assert (exercises / "dojo_demo" / "scale.py").is_file()
    assert (exercises / "dojo_demo" / "dojo_demo.ipynb").is_file()
    assert not (exercises / "word_vectors").exists()  # only the topic named
    assert "NotImplementedError" in (exercises / "dojo_demo" / "scale.py").read_text()
    assert (course_dir / "dojo_demo" / "fixtures" / "scale.values.json").is_file()

    again = run(env, tmp_path, "dojo", "release", "dojo_demo", "--solutions", str(solutions),
                "--output", str(exercises))
    assert again.returncode == 0, again.stderr
    assert "reused" in again.stdout  # nothing changed: the fixtures are not computed again

    verified = run(env, tmp_path, "dojo", "verify", "dojo_demo", "--strict",
                   "--backend", "numpy")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "11/11 verification steps passed" in verified.stdout  # + library, baseline, given,
    # requires, bug

    stubs = run(env, tmp_path, "grade", "dojo_demo", "--submission", str(exercises / "dojo_demo"),
                "--format", "json")
    solved = run(env, tmp_path, "grade", "dojo_demo", "--solutions", "--format", "json")
    assert json.loads(stubs.stdout)["score"] == 0
    assert json.loads(solved.stdout)["score"] == json.loads(solved.stdout)["max_score"] == 1.0


def test_a_topic_name_that_cannot_be_one_is_refused_and_nothing_written(course, tmp_path):
    packages, env = course
    solutions, course_dir = packages / "nlpdojo_solutions", packages / "nlpdojo_course"
    before = sorted(p.name for p in course_dir.iterdir())
    for name, says in (("Bad-Name", "cannot name a topic"), ("library", "is reserved"),
                       ("word_vectors", "exists: topic 'word_vectors' is taken"),
                       # exercises/numpy/ shadowed NumPy for every topic run from there
                       ("numpy", "'numpy' cannot name a topic: it is the name of a module"),
                       ("random", "it is the name of a module Python imports here"),
                       ("class", "'class' cannot name a topic: it is a Python keyword")):
        made = run(env, tmp_path, "dojo", "new", "topic", name, "--solutions", str(solutions),
                   "--course", str(course_dir))
        assert made.returncode == 2, made.stdout
        assert says in made.stderr and "Traceback" not in made.stderr
    assert sorted(p.name for p in course_dir.iterdir()) == before


def test_a_long_title_with_quotes_is_kept_whole_in_code_that_keeps_the_style(tmp_path):
    """The title goes into docstrings and a string literal: wrapped to the line length, with
    quotes and backslashes that stay text (the title a newcomer types, not valid Python)."""
    import ast

    from nlpdojo_autograder.authoring.scaffold import new_topic

    title = ('RNN variants: vanishing gradients, clipping, LSTM, GRU, bidirectional and stacked '
             'RNNs, the "fancy" ones of lecture 7, and a back\\slash')
    (tmp_path / "s").mkdir()
    (tmp_path / "c").mkdir()
    made = new_topic("long_title", tmp_path / "s", tmp_path / "c", title=title)
    tree = ast.parse((made.course / "__init__.py").read_text())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call)
                and getattr(n.func, "id", "") == "Topic")
    assert ast.literal_eval(next(k.value for k in call.keywords if k.arg == "title")) == title
    doc = ast.get_docstring(ast.parse((made.solutions / "__init__.py").read_text()))
    assert title in " ".join(doc.split())  # wrapped, word for word
    linted = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "--select", "E,F,W",
                             "--line-length", "100", str(tmp_path)],
                            capture_output=True, text=True, check=False)
    assert linted.returncode == 0, linted.stdout
