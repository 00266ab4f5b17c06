"""A student's course folder made from the reference solutions, with planted edits: the
starting point of the grading tests that change one line and watch what the grader says."""

from __future__ import annotations

import shutil
import types
from pathlib import Path

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
