"""Which functions of the code under test one check ran: ``dojo verify``'s record of the
solutions' own execution, so that a planted bug is graded again only where its change runs.

Recorded in the worker for code compiled from files under the course folder the worker was
given (the topic and the library), and named by file (relative to that folder) and *unit*: a
top-level function, or a method (``Class.method``), the unit a planted bug changes
(:func:`nlpdojo_autograder.release.changes.changed_units`). A nested function, a lambda or a
comprehension counts as the unit that defines it (``f.<locals>.g`` is ``f``), since it runs only
when that unit has run; code at a module's or a class's top level runs on import, before any
check, and is named by no unit.

Two recorders, the same record:

- **coverage.py's C tracer** where coverage is installed (the ``dev`` extra): the lines run in
  files under the folder, each line then named by the code objects that hold it (a line two
  code objects share, ``def f(): return 1`` on one line, names both: the record may say more
  ran than did, never less). Frames of other files cost a C call, not a Python one: the record
  adds about a fifth to a grading, the call-event one a third to two thirds
  (``bench/verify_record.py``, docs/benchmarks.md), and both give the same record.
- **``sys.settrace``'s call events** otherwise (no line events: one call of a small Python
  function per frame entered anywhere).

While the probes' line counter holds the tracer (:func:`nlpdojo_autograder.runtime.probes.
python_lines`), it notes each frame it sees here (:func:`recording`, :meth:`ExecutedCode.note`):
what a check runs only under the counter is recorded too.

Only ever switched on for the instructor's own solutions (``dojo verify``): what a student's
worker would report is the student's to forge, and nothing of a student's grading reads it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from types import CodeType, FrameType
from typing import Any

#: how a nested code object's qualified name marks the unit that defines it
LOCALS = ".<locals>"

#: the record being taken in this process, or None (:func:`recording`)
_RECORDING: ExecutedCode | None = None


def unit_of(qualname: str) -> str:
    """The top-level function or method a code object belongs to (``A.f.<locals>.g`` ->
    ``A.f``)."""
    return qualname.split(LOCALS, 1)[0]


def recording() -> ExecutedCode | None:
    """The record being taken in this process (between :meth:`ExecutedCode.start` and
    :meth:`~ExecutedCode.stop`), or None."""
    return _RECORDING


def _code_objects(code: CodeType) -> Iterator[CodeType]:
    """``code`` and every code object compiled inside it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _code_objects(const)


def _coverage(root: str) -> Any:
    """A ``coverage.Coverage`` measuring the files under ``root`` (no data file, no
    configuration read), or None where coverage is not installed (imported here: only
    ``dojo verify``'s workers record, and a worker starts faster without it)."""
    try:
        import coverage
    except ImportError:
        return None
    measure = coverage.Coverage(data_file=None, config_file=False, branch=False,
                                include=[os.path.join(root, "*")])
    measure.set_option("run:disable_warnings", ["no-data-collected"])  # a check running none
    return measure


class ExecutedCode:
    """Records, between :meth:`start` and :meth:`stop`, the units run from files under
    ``root`` in this thread. ``fast``: coverage's C tracer (where installed); False: the
    call-event tracer. The call-event tracer chains to none (the worker installs nothing
    else)."""

    def __init__(self, root: str, *, fast: bool = True) -> None:
        self.root = os.path.abspath(root)  # as the code's file names say it
        self.prefix = os.path.join(self.root, "")
        #: as coverage names files (symbolic links resolved)
        self.real_root = os.path.realpath(root)
        self._ours: dict[CodeType, bool] = {}
        self._ran: set[CodeType] = set()
        #: file -> line -> the units whose code holds the line (coverage's lines named)
        self._units_by_line: dict[str, dict[int, set[str]]] = {}
        self._coverage = _coverage(self.real_root) if fast else None
        #: what ``sys.gettrace()`` returns while recording (the line counter chains past it)
        self.tracer: Any = None
        self.active = False

    def note(self, code: CodeType) -> None:
        """Count ``code`` as run (if it is compiled from a file under the folder)."""
        ours = self._ours.get(code)
        if ours is None:
            ours = self._ours[code] = code.co_filename.startswith(self.prefix)
        if ours:
            self._ran.add(code)

    def _trace(self, frame: FrameType, event: str, arg: Any) -> None:
        # :meth:`note` written out: this runs for every frame entered, a call less each
        code = frame.f_code
        ours = self._ours.get(code)
        if ours is None:
            ours = self._ours[code] = code.co_filename.startswith(self.prefix)
        if ours:
            self._ran.add(code)
        return None  # no line events: the frame runs untraced

    def start(self) -> None:
        global _RECORDING
        self._ran = set()
        self.active = True
        _RECORDING = self
        if self._coverage is not None:
            self._coverage.erase()
            self._coverage.start()
            self.tracer = sys.gettrace()
        else:
            self.tracer = self._trace
            sys.settrace(self.tracer)

    def stop(self) -> list[list[str]]:
        """``[[file, unit], ...]`` run since :meth:`start`, sorted; the tracer removed."""
        global _RECORDING
        if self.active:
            if self._coverage is not None:
                self._coverage.stop()
            else:
                sys.settrace(None)
            self.active = False
            _RECORDING = None
            self.tracer = None
        found = {(os.path.relpath(code.co_filename, self.root), unit_of(code.co_qualname))
                 for code in self._ran}
        if self._coverage is not None:
            data = self._coverage.get_data()
            for filename in data.measured_files():
                units = self._units_of_lines(filename)
                rel = os.path.relpath(filename, self.real_root)
                found.update((rel, unit) for line in data.lines(filename) or ()
                             for unit in units.get(line, ()))
        self._ran = set()
        return [list(pair) for pair in sorted(found)]

    def _units_of_lines(self, filename: str) -> dict[int, set[str]]:
        """Line -> the units whose code objects hold it, for a file under the folder (compiled
        again from its source, as the worker imported it; a module's own code names no
        unit)."""
        units = self._units_by_line.get(filename)
        if units is None:
            units = self._units_by_line[filename] = {}
            try:
                with open(filename, "rb") as source:
                    module = compile(source.read(), filename, "exec", dont_inherit=True)
            except (OSError, SyntaxError, ValueError):
                return units
            for code in _code_objects(module):
                if code is module:
                    continue
                unit = unit_of(code.co_qualname)
                for _start, _end, line in code.co_lines():
                    if line is not None:
                        units.setdefault(line, set()).add(unit)
        return units
