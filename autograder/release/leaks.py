"""What of the reference solutions a student wheel would ship: every line of a solution block,
searched for in every text the wheel holds, in every form.

A student wheel leaves out ``nlpdojo_solutions``, but the rest of it is text too: the course's
checks, planted bugs and oracles, the framework, the plugins, the fixtures, the metadata. A
planted bug that quotes the reference in its ``find`` or an oracle that re-implements it ships
the answer as data. :func:`solution_lines` collects what must not ship (each substantial line of
every ``### BEGIN SOLUTION`` block, and the name of every function or class defined only inside
one), :func:`scan_files` finds each of them in the files of a wheel:

* in a Python module: its source lines, each line of every string constant (docstrings,
  f-string parts and implicitly joined literals included: what :mod:`ast` sees), and its
  comments;
* in any other text member (JSON fixtures, ``.md``, ``.txt``, ``.toml``, the metadata): its
  lines, and each line of every string in a JSON document;
* in an ``.npz`` fixture: the values of every array of strings (numbers are values, not code).

Lines are compared as :func:`key` makes them: the code without a trailing comment and without
any whitespace (a copy reformatted or indented otherwise is still found), and one contained in
a longer line counts (``find="..."`` holds it with more). Not searched for, since the student
has them anyway or they say nothing: lines shorter than :data:`MIN_CHARS` characters of code, a
lone ``return name``, ``pass``, ``break``, ``continue`` and brackets, and every line that also
stands in the released exercises (stubs and given code). :func:`scan_wheel` puts it together for
a built wheel; the student bundle refuses a wheel with any finding
(:func:`nlpdojo_autograder.release.bundle.check_wheel`).
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlpdojo_autograder.authoring.markers import parse_blocks, python_modules, split_lines

#: a line of a solution block with fewer characters of code than this (whitespace not counted)
#: is not searched for: ``h = h + d`` says nothing a student would not write
MIN_CHARS = 16
#: a comment of a solution block is searched for from this many characters on
MIN_COMMENT_CHARS = 24
#: identifiers defined only in a solution block shorter than this are too common to search for
MIN_NAME_CHARS = 5
#: lines that say nothing even when long enough (whitespace collapsed): names returned or
#: alone, a keyword, brackets, a loop over a name, a test of a name against a constant, a
#: name appended to a list, a keyword argument given a constant
_TRIVIAL = re.compile(
    r"(return )?[\w.]+(, [\w.]+)*,?|pass|break|continue|else:|try:|finally:|[\[\](){},: ]*"
    r"|for [\w, ()]+ in [\w.]+:|(if|elif|while) [\w. =!<>]+:|[\w.]+\.append\([\w.]*\)"
    r"|\w+=[\w.\-+]+[),]*")
#: the members of a wheel read as text (a fixture of arrays is read as arrays)
_TEXT_SUFFIXES = (".py", ".json", ".md", ".txt", ".toml", ".cfg", ".ini", ".rst", ".csv",
                  ".yaml", ".yml", ".ipynb")
_TEXT_NAMES = ("METADATA", "entry_points.txt", "GIVEN", "FINGERPRINT", "top_level.txt")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Leak:
    """One solution line (or name) found in a shipped file: ``file`` (its path in the wheel)
    and ``line`` (1-based; 0 for a member read as arrays), the ``form`` it takes there
    (``code``, ``string``, ``comment``, ``name``, ``text``, ``data``), the solution ``text`` it
    matches and ``source`` (``solutions/...py:LINE``, where that text is written)."""

    file: str
    line: int
    form: str
    text: str
    source: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({self.form}) holds {self.source}: {self.text}"


@dataclass
class SolutionText:
    """What must not ship: ``lines`` (:func:`key` of a solution line -> ``(its text, where it
    is written)``) and ``names`` (an identifier defined only in a solution block -> where)."""

    lines: dict[str, tuple[str, str]]
    names: dict[str, str]

    def __post_init__(self) -> None:
        # every key found in a longer text through its first MIN_CHARS characters
        self._by_prefix: dict[str, list[str]] = {}
        for k in self.lines:
            self._by_prefix.setdefault(k[:MIN_CHARS], []).append(k)
        self._names = (re.compile(r"\b(" + "|".join(map(re.escape, sorted(self.names)))
                                  + r")\b") if self.names else None)

    def found_in(self, text: str) -> list[str]:
        """The keys of the solution lines that ``text`` (one line, any form) holds."""
        squeezed = "".join(text.split())
        if len(squeezed) < MIN_CHARS:
            return []
        hits: list[str] = []
        for i in range(len(squeezed) - MIN_CHARS + 1):
            for k in self._by_prefix.get(squeezed[i:i + MIN_CHARS], ()):
                if squeezed.startswith(k, i) and k not in hits:
                    hits.append(k)
        return hits

    def names_in(self, text: str) -> list[str]:
        """The solution-only identifiers ``text`` mentions as whole words."""
        return sorted(set(self._names.findall(text))) if self._names else []


def _comment_at(line: str) -> int:
    """Where a Python line's trailing comment starts (``len(line)`` without one): the first
    ``#`` outside a string literal on that line (a line of a longer statement counts its own
    quotes only, a fair guess for the one-line strings of solution code)."""
    quote, i = "", 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif line.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif c in "'\"":
            quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else c
            i += len(quote) - 1
        elif c == "#":
            return i
        i += 1
    return len(line)


def split_comment(line: str) -> tuple[str, str]:
    """``(code, comment)`` of one line, each stripped (the comment without its ``#``)."""
    at = _comment_at(line)
    return line[:at].strip(), line[at:].lstrip("#").strip()


def key(text: str) -> str:
    """What a line is compared by: every whitespace character removed."""
    return "".join(text.split())


def _keys(line: str) -> Iterator[tuple[str, str]]:
    """``(key, text)`` of what a solution line holds worth searching for: its code, or the
    text of a long comment on a line of its own (a comment after code annotates it: shapes,
    the idea's name, as feedback says it too)."""
    code, comment = split_comment(line)
    if len(key(code)) >= MIN_CHARS and not _TRIVIAL.fullmatch(" ".join(code.split())):
        yield key(code), " ".join(code.split())
    if not code and len(key(comment)) >= MIN_COMMENT_CHARS:
        yield key(comment), "# " + " ".join(comment.split())


def _defined_in(tree: ast.AST, start: int, end: int) -> Iterator[str]:
    """Names of functions and classes defined between lines ``start`` and ``end``."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and start < node.lineno < end):
            yield node.name


def solution_lines(solutions_dir: Path, given: Mapping[str, bytes] = {}) -> SolutionText:  # noqa: B006
    """Every substantial line of every solution block under ``solutions_dir`` and every name
    defined only in one, less what ``given`` (the released exercises, ``{path: bytes}``) holds:
    a line of a stub or of given code, an identifier of their Python files."""
    handed_out: set[str] = set()
    handed_names: set[str] = set()
    for path, data in given.items():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if path.endswith(".ipynb"):
            text = "\n".join(_notebook_code(text))
        elif not path.endswith(".py"):
            continue
        for line in split_lines(text):
            handed_out.update(k for k, _ in _keys(line))
        handed_names.update(_NAME.findall(text))
    lines: dict[str, tuple[str, str]] = {}
    names: dict[str, str] = {}
    root = Path(solutions_dir)
    for path in python_modules(root):
        text = path.read_text(encoding="utf-8")
        blocks = parse_blocks(text, path=path)
        if not blocks:
            continue
        source = split_lines(text)
        tree = ast.parse(text)
        where = f"solutions/{path.relative_to(root).as_posix()}"
        for block in blocks:
            for n in range(block.start_line + 1, block.end_line):
                for k, shown in _keys(source[n - 1]):
                    if k not in handed_out:
                        lines.setdefault(k, (shown, f"{where}:{n}"))
            for name in _defined_in(tree, block.start_line, block.end_line):
                if len(name) >= MIN_NAME_CHARS and name not in handed_names:
                    names.setdefault(name, f"{where}:{block.start_line}")
    return SolutionText(lines, names)


def _notebook_code(text: str) -> list[str]:
    """The source of every cell of a notebook (empty where it does not parse)."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return []
    return ["".join(c.get("source", "")) if isinstance(c.get("source"), list)
            else str(c.get("source", "")) for c in cells if isinstance(c, dict)]


def _constants(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """``(first line, value)`` of every string constant (docstrings, f-string parts, bytes)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            value = node.value
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            yield node.lineno, value


def _comments(text: str) -> Iterator[tuple[int, str]]:
    """``(line, text)`` of every comment of a module (none where it does not tokenize)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string.lstrip("#")
    except (tokenize.TokenError, SyntaxError):
        return


def _leaks(found: SolutionText, file: str, line: int, form: str, text: str) -> list[Leak]:
    return [Leak(file, line, form, found.lines[k][0], found.lines[k][1])
            for k in found.found_in(text)]


def scan_python(found: SolutionText, file: str, text: str) -> list[Leak]:
    """Solution lines and names in one Python module: in its code lines, string constants and
    comments (a module that does not parse is scanned as text)."""
    out: list[Leak] = []
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return scan_text(found, file, text)
    for n, value in _constants(tree):
        for i, part in enumerate(split_lines(value)):
            code, comment = split_comment(part)
            out += _leaks(found, file, n + i, "string", code)
            if comment:
                out += _leaks(found, file, n + i, "string", comment)
    for n, comment in _comments(text):
        out += _leaks(found, file, n, "comment", comment)
    for n, line in enumerate(split_lines(text), 1):
        code, _ = split_comment(line)  # what a string's or comment's finding does not say
        out += _leaks(found, file, n, "code", code)
        for name in found.names_in(line):
            out.append(Leak(file, n, "name", name, found.names[name]))
    return _unique(out)


def scan_text(found: SolutionText, file: str, text: str) -> list[Leak]:
    """Solution lines and names in a text member: its lines, and the lines of every string
    of a JSON document (where the escapes of a JSON string would hide one)."""
    out: list[Leak] = []
    for n, line in enumerate(split_lines(text), 1):
        out += _leaks(found, file, n, "text", line)
        out += [Leak(file, n, "name", name, found.names[name]) for name in found.names_in(line)]
    if file.endswith((".json", ".ipynb")):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        for value in _json_strings(document):
            for part in split_lines(value):
                out += _leaks(found, file, 0, "data", part)
    return _unique(out)


def _json_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v)


def scan_arrays(found: SolutionText, file: str, data: bytes) -> list[Leak]:
    """Solution lines in the strings of an ``.npz`` fixture (arrays of numbers say no code);
    an array that needs pickle to load is reported, since it could hold anything."""
    out: list[Leak] = []
    try:
        arrays = np.load(io.BytesIO(data), allow_pickle=False)
        names = list(arrays.files)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        return [Leak(file, 0, "data", f"unreadable without pickle ({exc})", file)]
    for name in names:
        try:
            array = arrays[name]
        except ValueError as exc:
            out.append(Leak(file, 0, "data", f"{name}: needs pickle to load ({exc})", file))
            continue
        if array.dtype.kind in "US":
            for value in array.ravel().tolist():
                value = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                for part in split_lines(value):
                    out += _leaks(found, f"{file}:{name}", 0, "data", part)
    return _unique(out)


def _unique(leaks: Iterable[Leak]) -> list[Leak]:
    """Each finding once: a line's solution text in the first form found (a string's or a
    comment's before its source line's)."""
    seen: dict[tuple[str, int, str], Leak] = {}
    for leak in leaks:
        seen.setdefault((leak.file, leak.line, leak.text), leak)
    return list(seen.values())


def scan_files(found: SolutionText, files: Mapping[str, bytes]) -> list[Leak]:
    """Every solution line and name found in ``files`` (``{path: bytes}``, as a wheel holds
    them), by file and line."""
    out: list[Leak] = []
    for name in sorted(files):
        data = files[name]
        base = name.rsplit("/", 1)[-1]
        if base == "RECORD" or base.endswith((".pyc", ".pyo")):
            continue  # hashes; bytecode is built from the sources scanned
        if name.endswith(".npz"):
            out += scan_arrays(found, name, data)
            continue
        if not (name.endswith(_TEXT_SUFFIXES) or base in _TEXT_NAMES):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                out.append(Leak(name, 0, "data", "a binary file the scan cannot read", name))
                continue
        text = data.decode("utf-8", "replace")
        out += scan_python(found, name, text) if name.endswith(".py") else scan_text(
            found, name, text)
    return out


def wheel_members(wheel: Path) -> dict[str, bytes]:
    """``{path: bytes}`` of every file in ``wheel``."""
    with zipfile.ZipFile(wheel) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}


def scan_wheel(wheel: Path, solutions: SolutionText) -> list[Leak]:
    """Every line and name of ``solutions`` (:func:`solution_lines`) that ``wheel`` holds."""
    return scan_files(solutions, wheel_members(wheel))
