"""A student's course folder made from the reference solutions, with planted edits: the
starting point of the grading tests that change one line and watch what the grader says."""

from __future__ import annotations

import os
import shutil
import types
from collections.abc import Iterable
from pathlib import Path

import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading.grade import GradeOptions, seed_from_environment

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


class OneModule:
    """A code provider of one module, whatever name is asked, and no given module (a
    ``LocalSubject``'s code, for the builders' tests that grade a layer defined in the test)."""

    code_dir = ""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    def module(self, name: str) -> types.ModuleType:
        return self._module

    def given(self, name: str) -> types.ModuleType:
        raise KeyError(name)


def edited_course(root: Path, folders: tuple[str, ...],
                  edits: dict[str, tuple[str, str]] | None = None,
                  appended: dict[str, str] | None = None, *, once: bool = True) -> Path:
    """``folders`` of the solutions copied under ``root`` (returned), with ``edits``
    (``{file: (old, new)}``, each ``old`` found exactly once; ``once=False``: at least once,
    every occurrence replaced) and text ``appended`` to files (``{file: text}``); file names
    are relative to ``root``."""
    for name in folders:
        shutil.copytree(SOLUTIONS / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for rel, (old, new) in (edits or {}).items():
        path = root / rel
        text = path.read_text()
        found = text.count(old)
        assert found == 1 or (found > 1 and not once), f"{old!r} is in {rel} {found} times"
        path.write_text(text.replace(old, new))
    for rel, text in (appended or {}).items():
        path = root / rel
        path.write_text(path.read_text() + "\n" + text)
    return root


def run_options(**options) -> GradeOptions:
    """Options of a grading with the reference at the run's input seed (tests/conftest.py pins
    one; the seeded run varies it), as the other gradings of the course's topics are: their
    expected outcomes are then computed once for the run (the shared store). A student
    release's grading (``use_reference=False``) keeps the fixtures' draw."""
    if options.get("use_reference", True):
        options.setdefault("input_seed", seed_from_environment())
    return GradeOptions(**options)


#: set in the slow runs (``make test-seeds``, ``dojo verify --strict``): the tests that train
#: what ``make test`` leaves out run then
SLOW_ENV = "NLPDOJO_SLOW_TESTS"


def slow_only(how_long: str, who_sets: str = "make test-seeds does") -> pytest.MarkDecorator:
    """Skip the test unless :data:`SLOW_ENV` is set, saying ``how_long`` it takes."""
    return pytest.mark.skipif(not os.environ.get(SLOW_ENV),
                              reason=f"{how_long}: set {SLOW_ENV}=1 ({who_sets})")


def trained_questions(topic: str, slow: Iterable[str], *, in_slow: bool) -> frozenset[str]:
    """The full ids (``topic.question``) of ``topic``'s questions in ``slow`` (``in_slow``
    True: those graded in the slow runs only) or of all the others (False); each of ``slow``
    must be one of the topic's trained (integrative) questions."""
    exercise = get_registry().get("exercise", topic)
    slow = set(slow)
    assert slow <= set(exercise.integrative), (slow, exercise.integrative)
    return frozenset(f"{topic}.{q}" for q in exercise.questions if (q in slow) == in_slow)
