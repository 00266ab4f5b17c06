"""Which functions of the code under test one check ran: ``dojo verify``'s record of the
solutions' own execution, so that a planted bug is graded again only where its change runs.

Recorded in the worker with ``sys.settrace``'s *call* events (no line events: one call of a
small Python function per frame entered), for code compiled from files under the course folder
the worker was given (the topic and the library), and named by file (relative to that folder)
and *unit*: a top-level function, or a method (``Class.method``), the unit a planted bug
changes (:func:`nlpdojo_autograder.release.changes.changed_units`). A nested function, a
lambda or a comprehension counts as the unit that defines it (``f.<locals>.g`` is ``f``),
since it runs only when that unit has run; code at a module's or a class's top level runs on
import, before any check, and is named by no unit.

Only ever switched on for the instructor's own solutions (``dojo verify``): what a student's
worker would report is the student's to forge, and nothing of a student's grading reads it.
"""

from __future__ import annotations

import os
import sys
from types import CodeType, FrameType
from typing import Any

#: how a nested code object's qualified name marks the unit that defines it
LOCALS = ".<locals>"


def unit_of(qualname: str) -> str:
    """The top-level function or method a code object belongs to (``A.f.<locals>.g`` ->
    ``A.f``)."""
    return qualname.split(LOCALS, 1)[0]


class ExecutedCode:
    """Records, between :meth:`start` and :meth:`stop`, the units run from files under
    ``root``; the tracer it installs chains to none (the worker installs nothing else)."""

    def __init__(self, root: str) -> None:
        self.prefix = os.path.join(os.path.abspath(root), "")
        self.root = os.path.abspath(root)
        self._ours: dict[CodeType, bool] = {}
        self._ran: set[CodeType] = set()
        self.active = False

    def _trace(self, frame: FrameType, event: str, arg: Any) -> None:
        code = frame.f_code
        ours = self._ours.get(code)
        if ours is None:
            ours = self._ours[code] = code.co_filename.startswith(self.prefix)
        if ours:
            self._ran.add(code)
        return None  # no line events: the frame runs untraced

    def start(self) -> None:
        self._ran = set()
        self.active = True
        sys.settrace(self._trace)

    def stop(self) -> list[list[str]]:
        """``[[file, unit], ...]`` run since :meth:`start`, sorted; the tracer removed."""
        if self.active:
            sys.settrace(None)
            self.active = False
        found = {(os.path.relpath(code.co_filename, self.root), unit_of(code.co_qualname))
                 for code in self._ran}
        self._ran = set()
        return [list(pair) for pair in sorted(found)]
