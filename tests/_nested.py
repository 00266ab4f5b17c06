"""Folders nested deeper than Python's recursion limit, made and removed without recursion:
``os.makedirs``, ``os.walk`` and ``shutil.rmtree`` (pytest's clean-up of old temporary folders
too) all recurse, and one left behind breaks every later run's clean-up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: deeper than the default recursion limit (1000)
DEPTH = 1100


@contextmanager
def nested(*tops: Path, depth: int = DEPTH) -> Iterator[list[Path]]:
    """Make ``depth`` folders ``d`` nested below each new folder of ``tops``, a file ``late.py``
    in the deepest; yield the deepest folders; remove each whole afterwards."""
    deepest = []
    try:
        for top in tops:
            top.mkdir()
            here = top
            for _ in range(depth):
                here = here / "d"
                here.mkdir()
            (here / "late.py").write_text("X = 1\n")
            deepest.append(here)
        yield deepest
    finally:
        for top in tops:
            remove(top)


def remove(top: Path) -> None:
    """Remove the folder ``top`` and all it holds, bottom up, without recursion."""
    folders, todo = [], [os.fsencode(top)]
    while todo:
        folder = todo.pop()
        folders.append(folder)
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                todo.append(entry.path)
            else:
                os.unlink(entry.path)
    for folder in reversed(folders):
        if os.path.isdir(folder):
            os.rmdir(folder)
