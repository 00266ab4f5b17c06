"""Planting a :class:`~.checks.PlantedBug` into a copy of the solutions.

A planted bug is a text edit: its ``find`` is replaced by its ``replace`` in one module of the
topic. Text edits rot silently when the solutions are reformatted or rewritten, so
:func:`plant` is strict and fails loudly instead:

* ``find`` must occur **exactly once**, matched as written (whitespace and line breaks count);
  zero or several occurrences are an error. When a whitespace-insensitive match exists (the
  code was reformatted), the error says where, so the author can copy the new text;
* the edited module must still parse, and its AST (``ast.dump``) must differ from the
  original's: a bug that only touches a comment or whitespace would be "planted" without
  planting anything.

Exact matching is a choice: the planted text is then exactly what the author wrote and
reviewed, and a reformatting makes the bug fail (never silently pass or land elsewhere).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from nlpdojo.errors import NlpdojoError
from nlpdojo_autograder.authoring.checks import PlantedBug
from nlpdojo_autograder.authoring.markers import BEGIN_RE, END_RE


class PlantError(NlpdojoError):
    """A planted bug cannot be planted as defined: ``where`` (``file`` or ``file:line``) and
    ``reason`` (what is wrong, what to do) make the message."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


def bug_path(topic_dir: Path, bug: PlantedBug) -> Path:
    """The file of ``bug.module``: a module name relative to the topic (``tanh``, ``sub.mod``),
    or one of the course library next to it (``..library.layers``)."""
    return module_path(topic_dir, bug.module)


def module_path(topic_dir: Path, module: str) -> Path:
    """The file of ``module`` as the builders spell it (:func:`bug_path`)."""
    if module.startswith(".."):
        return Path(topic_dir).parent.joinpath(*module[2:].split(".")).with_suffix(".py")
    return Path(topic_dir).joinpath(*module.split(".")).with_suffix(".py")


def blocks_around(text: str, find: str) -> list[frozenset[str]]:
    """For each occurrence of ``find`` in ``text``, the questions whose solution blocks
    (``### BEGIN SOLUTION <question>`` to ``### END SOLUTION``, the marker lines included)
    it overlaps, as the markers name them (``lstm_cell``, ``rnn_variants.lstm_cell``). Read
    line by line, not tokenized: the markers' form is the release checks' business, and a
    topic places its bugs at every start of the grader where they are installed."""
    found = []
    at = text.find(find) if find else -1
    while at != -1:
        first = _line_of(text, at)
        last = first + find.count("\n")
        found.append(frozenset(q for start, end, q in _block_spans(text)
                               if start <= last and end >= first))
        at = text.find(find, at + 1)
    return found


@functools.lru_cache(maxsize=64)
def _block_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """``(BEGIN line, END line, question)`` of each solution block of ``text`` (one module
    carries many planted bugs: scanned once)."""
    spans: list[tuple[int, int, str]] = []
    opened: tuple[int, str] | None = None
    for number, line in enumerate(text.split("\n"), 1):
        if "### " not in line:
            continue
        begin = BEGIN_RE.search(line)
        if begin:
            opened = (number, begin["question"])
        elif opened is not None and END_RE.search(line):
            spans.append((opened[0], number, opened[1]))
            opened = None
    return tuple(spans)


def _line_of(text: str, offset: int) -> int:
    """1-based line number of character ``offset``."""
    return text.count("\n", 0, offset) + 1


def loose_lines(text: str, find: str) -> list[int]:
    """Lines where ``find`` occurs when all whitespace is ignored (a reformatted ``find``)."""
    kept = [(i, c) for i, c in enumerate(text) if not c.isspace()]
    squeezed = "".join(c for _, c in kept)
    needle = "".join(c for c in find if not c.isspace())
    lines, start = [], squeezed.find(needle) if needle else -1
    while start != -1:
        lines.append(_line_of(text, kept[start][0]))
        start = squeezed.find(needle, start + 1)
    return lines


@functools.lru_cache(maxsize=64)
def _code_of(text: str) -> str:
    """``ast.dump`` of the module ``text``: what its code is, without comments or layout
    (one module carries many planted bugs: parsed once)."""
    return ast.dump(ast.parse(text))


def plant(bug: PlantedBug, text: str, where: str) -> str:
    """``text`` (the module ``where``) with ``bug`` planted; a :class:`PlantError` when its
    ``find`` does not occur exactly once or replacing it leaves the module's AST unchanged
    or unparsable."""
    return _planted(bug.name, bug.find, bug.replace, text, where, bug.in_place)


#: how messages name a bug's two texts: given as find and replace, or written in place
_WORDS = {False: {"find": "`find`", "into": "into `find`", "update": "`find` (and `replace`)",
                  "replace": "`replace`"},
          True: {"find": "its text before the change (each «old → new» read as old)",
                 "into": "into the bug's text", "update": "the bug's text",
                 "replace": "the change's new side"}}


@functools.lru_cache(maxsize=512)
def _planted(name: str, find: str, replace: str, text: str, where: str,
             in_place: bool = False) -> str:
    """:func:`plant`, kept per bug and module text: ``dojo verify`` plants each bug two or three
    times (its declaration's check, its grading, the other topics' gradings it may touch),
    and each time parsed and dumped the planted module (2 s of a verify of neural_networks).
    ``in_place``: the bug was written ``«old → new»`` (its messages say so)."""
    words = _WORDS[in_place]
    count = text.count(find) if find else 0
    if count == 0:
        loose = loose_lines(text, find)
        hint = (f"it occurs with different whitespace or line breaks at line "
                f"{', '.join(map(str, loose))}: copy that text {words['into']} exactly"
                if loose else f"the code changed: update {words['update']} to the "
                "current text")
        raise PlantError(where, f"planted bug {name!r}: {words['find']} {find!r} does not "
                         f"occur; {hint}.")
    if count > 1:
        lines, at = [], text.find(find)
        while at != -1:
            lines.append(_line_of(text, at))
            at = text.find(find, at + 1)
        raise PlantError(where, f"planted bug {name!r}: {words['find']} {find!r} occurs "
                         f"{count} times (lines {', '.join(map(str, lines))}); lengthen it "
                         "until it matches only the place meant.")
    planted = text.replace(find, replace, 1)
    line = _line_of(text, text.find(find))
    try:
        before = _code_of(text)
    except SyntaxError as exc:
        raise PlantError(f"{where}:{exc.lineno}", f"not valid Python ({exc.msg}); fix the "
                         "solution first.") from exc
    try:
        after = ast.dump(ast.parse(planted))
    except SyntaxError as exc:
        raise PlantError(f"{where}:{line}", f"planted bug {name!r}: the module no longer "
                         f"parses after the replacement ({exc.msg}, line {exc.lineno}); fix "
                         f"{words['replace']}.") from exc
    if after == before:
        raise PlantError(f"{where}:{line}", f"planted bug {name!r}: the replacement changes "
                         f"no code (only comments or whitespace); make {words['replace']} "
                         "change what the code does.")
    return planted
