"""Feedback on a graded notebook speaks of its cells, not of the modules rebuilt from them.

A notebook is graded as the package :func:`~.notebooks.materialize_notebook`
writes: one module per tagged cell, with the relative imports put back. Messages and
tracebacks then name ``softmax.py`` and its line numbers, a file the student never saw. Here
every such reference becomes the cell's number, its first line and the line in the cell::

    ZeroDivisionError: division by zero (at softmax.py line 22: p = e / 0)
    ZeroDivisionError: division by zero (at cell 5 (`def softmax(x):`), line 20: p = e / 0)

and a ``NameError`` for a name that only an untagged cell defines says exactly that: the
grader never sees that cell, so the name must move into the tagged cell that uses it.
"""

from __future__ import annotations

import re
from typing import Any

from nlpdojo_autograder.grading.grade import WAITING_ADVICE
from nlpdojo_autograder.release.notebooks import LIBRARY_PREFIX, NotebookLayout
from nlpdojo_autograder.runtime.loader import LIBRARY

_NAME_ERROR = re.compile(r"NameError: name '(?P<name>[A-Za-z_]\w*)' is not defined")


def _reference(modules: list[str]) -> re.Pattern[str]:
    """``File "/x/softmax.py", line 22`` / ``softmax.py line 22`` / ``softmax.py:22``; a course
    library module's (``library.layers``) as ``library/layers.py`` or ``layers.py``."""
    stems = {m.rsplit(".", 1)[-1] for m in modules}
    names = "|".join(re.escape(m) for m in sorted(stems, key=len, reverse=True))
    return re.compile(
        r"(?P<file>File \")?(?P<folder>[^\s\"'()`]*/)?(?<![\w.])(?P<module>" + names + r")\.py"
        r"(?:\", line |, line | line |:)(?P<line>\d+)")


def _module(match: re.Match[str], layout: NotebookLayout) -> str | None:
    """The notebook module a reference names: a file in a ``library/`` folder is the library
    module's; a bare ``layers.py`` the topic's module of that name, else the library's."""
    stem, folder = match.group("module"), match.group("folder") or ""
    library = f"{LIBRARY_PREFIX}{stem}"
    if folder.endswith(f"/{LIBRARY}/") or folder == f"{LIBRARY}/":
        return library if library in layout.modules else None
    if folder and stem not in layout.modules:
        return None  # a file of that name elsewhere: not a cell of this notebook
    return stem if stem in layout.modules else library if library in layout.modules else None


def in_cells(text: str, layout: NotebookLayout) -> str:
    """``text`` with every reference to a rebuilt module's line replaced by its cell's."""
    if not text or not layout.modules:
        return text
    pattern = _reference(list(layout.modules))

    def replace(match: re.Match[str]) -> str:
        module = _module(match, layout)
        if module is None:
            return match.group(0)
        cell = layout.modules[module]
        line = cell.cell_line(int(match.group("line")))
        if line is None:
            return f"{cell.label()}, at an import the grader restored"
        return f"{cell.label()}, line {line}"

    return pattern.sub(replace, text)


def _used_in(text: str, layout: NotebookLayout) -> str | None:
    """The module whose line the (last) reference in ``text`` names."""
    if not layout.modules:
        return None
    found = [m for m in (_module(match, layout) for match in
                         _reference(list(layout.modules)).finditer(text)) if m is not None]
    return found[-1] if found else None


def name_error_hint(message: str, traceback: str, question: str,
                    layout: NotebookLayout) -> str | None:
    """Why a name is not defined, when a cell the grader never sees defines it."""
    match = _NAME_ERROR.search(message) or _NAME_ERROR.search(traceback)
    if match is None:
        return None
    name = match.group("name")
    where = layout.elsewhere.get(name)
    if not where:
        return None
    module = _used_in(traceback, layout) or _used_in(message, layout)
    cell = layout.modules.get(module) if module else None
    places = " and ".join(where[:3])
    target = f"the tagged cell of question {question}"
    if cell is not None:
        target += f" (cell {cell.number}, which uses it)"
    which = "which is" if len(where) == 1 else "which are"
    return f"`{name}` is defined in {places}, {which} not graded: move it into {target}."


def notebook_advice(stub: str, topic: str, notebook: str) -> str:
    """What shows what is left of question ``stub`` (``topic.question``) to a student who
    works in ``notebook`` (a file name) of ``topic``: ``check`` in a notebook, and the
    notebook's ``grade --submission`` from a terminal, never ``grade`` of the .py files."""
    other, _, question = stub.rpartition(".")
    if other == topic:
        return (f'(`check("{question}")` in the notebook, or `grade {stub} --submission '
                f'{notebook}`, shows what is left)')
    return (f'(`check("{question}")` in the {other} notebook, or `grade {stub} --submission '
            f'{other}.ipynb` in its folder, shows what is left)')


def _in_notebook_terms(warning: str, topic: str, notebook: str) -> str:
    """A grading warning whose advice names a command on the .py files
    (:data:`~nlpdojo_autograder.grading.grade.WAITING_ADVICE`), in the notebook's terms."""
    head, _, tail = WAITING_ADVICE.partition("{stub}")
    pattern = re.compile(re.escape(head) + r"(?P<stub>[\w.]+)" + re.escape(tail))
    return pattern.sub(lambda m: notebook_advice(m.group("stub"), topic, notebook), warning)


def locate(result: Any, layout: NotebookLayout, notebook: str | None = None) -> Any:
    """Rewrite ``result``'s messages and tracebacks (a :class:`GradingResult`) in place for a
    notebook with ``layout``; returns ``result``. ``notebook``: its file name, for the advice
    of the result's warnings (which command shows what is left: the notebook's)."""
    if notebook is not None and result.exercises:
        topic = result.exercises[0].name
        result.warnings = [_in_notebook_terms(w, topic, notebook) for w in result.warnings]
    for exercise in result.exercises:
        for check in exercise.checks:
            traceback = check.details.get("traceback", "") if check.details else ""
            hint = name_error_hint(check.message, traceback, check.question, layout)
            check.message = in_cells(check.message, layout)
            if hint and hint not in check.message:
                check.message = f"{hint} {check.message}"
            if traceback:
                check.details["traceback"] = in_cells(traceback, layout)
        if exercise.error:
            exercise.error = in_cells(exercise.error, layout)
    return result
