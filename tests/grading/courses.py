"""A student's course folder made from the reference solutions, with planted edits: the
starting point of the grading tests that change one line and watch what the grader says."""

from __future__ import annotations

import shutil
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


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
