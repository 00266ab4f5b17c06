"""Question markers in solution modules, parsed strictly, and the stubs that replace them.

What a student writes sits between two comment lines, inside a function or method::

    def softmax(x):
        \"\"\"Row-wise softmax.\"\"\"
        ### BEGIN SOLUTION softmax
        e = np.exp(x - x.max(axis=-1, keepdims=True))  # (N, C)
        return e / e.sum(axis=-1, keepdims=True)
        ### END SOLUTION

:func:`strip_solutions` replaces each block (both marker lines included) with one line at the
BEGIN line's indentation, ``raise NotImplementedError("softmax: not implemented yet — ...")``,
and keeps every other byte. Markers are found with :mod:`tokenize`, so only real comments count
(a docstring that *mentions* a marker is left alone). Anything that looks like a marker but is not
exactly one is an error rather than silently shipped to students.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from nlpdojo.errors import NlpdojoError

#: what an exact marker looks like (the comment token, trailing whitespace ignored)
#: a question id: ``softmax`` (in a topic's folder: a question of that topic) or
#: ``topic.question`` (required in the course library, whose modules serve several topics)
QUESTION_ID = r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?"
BEGIN_RE = re.compile(rf"### BEGIN SOLUTION (?P<question>{QUESTION_ID})")
END_RE = re.compile(r"### END SOLUTION")
#: anything a human may have meant as a marker: any number of ``#``, any case, any spacing
LOOKS_LIKE_MARKER_RE = re.compile(r"#+\s*(?P<kind>begin|end)[\s_:-]*sol", re.IGNORECASE)
QUESTION_RE = re.compile(QUESTION_ID)

STUB_HINT = "replace this line with your code"

_EXACT_BEGIN = "### BEGIN SOLUTION <question-id>"
_EXACT_END = "### END SOLUTION"


class MarkerError(NlpdojoError):
    """A solution module's question markers are malformed (the message names file and line).

    ``problems`` lists each problem (``file:line: ...``) separately; the message holds them all.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]

    @classmethod
    def of(cls, where: str, problems: list[tuple[int, str]]) -> MarkerError:
        """One error for every ``(line, message)`` problem of file ``where``."""
        messages = [m for _, m in sorted(problems, key=lambda p: p[0])]
        if len(messages) == 1:
            return cls(messages[0])
        head = f"{where}: {len(messages)} marker problems:"
        return cls("\n".join([head, *(f"  {m}" for m in messages)]), messages)


@dataclass(frozen=True)
class Block:
    """One ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block.

    ``start_line`` and ``end_line`` are the 1-based lines of the two markers; ``indent`` is the
    BEGIN line's leading whitespace, exactly as written (the stub reuses it).
    """

    question: str
    start_line: int
    end_line: int
    indent: str

    @property
    def column(self) -> int:
        """Width of the indentation in characters."""
        return len(self.indent)


def stub_line(question: str, indent: str, newline: str = "\n") -> str:
    """The single line that replaces a block of question ``question``."""
    message = f"{question}: not implemented yet — {STUB_HINT}"
    return f'{indent}raise NotImplementedError("{message}"){newline}'


def _read(path_or_text: str | Path, path: str | Path | None) -> tuple[str, str]:
    """``(text, where)``: a :class:`~pathlib.Path` is read, a ``str`` is the source itself."""
    if isinstance(path_or_text, Path):
        try:
            return path_or_text.read_bytes().decode("utf-8"), str(path or path_or_text)
        except (OSError, UnicodeDecodeError) as exc:
            raise MarkerError(f"{path_or_text}: cannot read it as UTF-8 text ({exc}).") from exc
    return path_or_text, str(path) if path is not None else "<string>"


def split_lines(text: str) -> list[str]:
    """Lines with their endings kept, split on ``\\n`` only (as :mod:`tokenize` counts lines)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _comments(text: str, where: str) -> list[tuple[int, int, str]]:
    """Every comment token as ``(line, column, text)``; untokenizable text is an error."""
    try:
        return list(_comment_tokens(text))
    except SyntaxError as exc:  # e.g. inconsistent dedent
        raise MarkerError(f"{where}:{exc.lineno}: not valid Python ({exc.msg}).") from exc
    except tokenize.TokenError as exc:  # e.g. an unclosed bracket: ask the parser where
        line, msg = (exc.args[1][0] if len(exc.args) > 1 else "?"), exc.args[0]
        try:
            ast.parse(text)
        except SyntaxError as syntax:
            line, msg = syntax.lineno, syntax.msg
        raise MarkerError(f"{where}:{line}: not valid Python ({msg}).") from exc


@functools.lru_cache(maxsize=256)
def _comment_tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    """The comments of ``text``, tokenized once per text (a release scans each module's
    markers several times)."""
    return tuple((t.start[0], t.start[1], t.string)
                 for t in tokenize.generate_tokens(io.StringIO(text).readline)
                 if t.type == tokenize.COMMENT)


def _has_code(lines: list[str], start: int, end: int) -> bool:
    """Whether lines strictly between ``start`` and ``end`` (1-based) hold code."""
    for line in lines[start : end - 1]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return True
    return False


def parse_blocks(path_or_text: str | Path, *, path: str | Path | None = None) -> list[Block]:
    """Every solution block of a module, in order; malformed markers raise one
    :class:`MarkerError` listing every problem of the module (``problems``, in line order).

    ``path_or_text`` is a :class:`~pathlib.Path` to read, or the source text itself (then
    ``path`` names it in error messages).
    """
    text, where = _read(path_or_text, path)
    blocks, problems = _scan(text, where)
    if problems:
        raise MarkerError.of(where, problems)
    return blocks


def _scan(text: str, where: str) -> tuple[list[Block], list[tuple[int, str]]]:
    """``(blocks, problems)``: every marker problem as ``(line, message)``. After a problem the
    scan goes on as if the marker were what it looks like (a malformed BEGIN still opens a
    block, a malformed END still closes one), so one mistake is reported once, not again as a
    missing or unmatched marker further down."""
    lines = split_lines(text)
    blocks: list[Block] = []
    problems: list[tuple[int, str]] = []
    #: open blocks (question, line, indent, valid); more than one only after a nesting error
    stack: list[tuple[str, int, str, bool]] = []

    def problem(line: int, message: str) -> None:
        problems.append((line, message))

    for lineno, col, comment in _comments(text, where):
        body = comment.rstrip()
        looks = LOOKS_LIKE_MARKER_RE.match(body)
        if looks is None:
            continue
        line = lines[lineno - 1]
        indent = line[:col]
        at = f"{where}:{lineno}"
        kind = looks.group("kind").lower()
        if indent.strip():
            problem(lineno,
                    f"{at}: a solution marker must be on a line of its own, not after code; "
                    "move it to its own line.")
            if kind == "begin":
                stack.append(("?", lineno, line[: len(line) - len(line.lstrip())], False))
            elif stack:
                stack.pop()
            continue
        if kind == "begin":
            match = BEGIN_RE.fullmatch(body)
            question = match.group("question") if match else "?"
            valid = match is not None
            if match is None:
                problem(lineno, _malformed_begin(at, body))
            elif stack:
                problem(lineno,
                        f"{at}: '### BEGIN SOLUTION {question}' is nested inside the block of "
                        f"'{stack[-1][0]}' opened at line {stack[-1][1]}; close that block with "
                        f"'{_EXACT_END}' first (blocks cannot nest).")
                valid = False
            elif not indent:
                problem(lineno,
                        f"{at}: the block of '{question}' is at module level; solution blocks "
                        "must sit inside a function or method body so the stub keeps its "
                        "signature and docstring.")
                valid = False
            stack.append((question, lineno, indent, valid))
            continue
        if END_RE.fullmatch(body) is None:
            problem(lineno,
                    f"{at}: malformed END marker {body!r}; write exactly '{_EXACT_END}' "
                    "(three '#', upper case, nothing after it).")
            if stack:
                stack.pop()
            continue
        if not stack:
            problem(lineno,
                    f"{at}: '{_EXACT_END}' without a matching '{_EXACT_BEGIN}' above it; "
                    "add the BEGIN marker or delete this line.")
            continue
        question, start, begin_indent, valid = stack.pop()
        if not valid:
            continue
        if indent != begin_indent:
            problem(lineno,
                    f"{at}: '{_EXACT_END}' is indented {len(indent)} characters but its "
                    f"'### BEGIN SOLUTION {question}' (line {start}) is indented "
                    f"{len(begin_indent)}; indent both markers alike.")
        elif not _has_code(lines, start, lineno):
            problem(start,
                    f"{where}:{start}: the block of '{question}' (lines {start}-{lineno}) is "
                    "empty; put the solution code between the markers or remove them.")
        else:
            blocks.append(Block(question, start, lineno, begin_indent))
    for question, start, _, _ in stack:
        problem(start,
                f"{where}:{start}: '### BEGIN SOLUTION {question}' is never closed; add "
                f"'{_EXACT_END}' after the solution code, at the same indentation.")
    problems.sort(key=lambda p: p[0])
    return blocks, problems


def _malformed_begin(at: str, body: str) -> str:
    """The message for a BEGIN-looking comment that is not exactly a BEGIN marker."""
    prefix = "### BEGIN SOLUTION "
    if body.startswith(prefix) and body[len(prefix) :].strip():
        qid = body[len(prefix) :]
        if QUESTION_RE.fullmatch(qid.strip()):
            return (
                f"{at}: malformed BEGIN marker {body!r}: extra whitespace around the question id; "
                f"write exactly '### BEGIN SOLUTION {qid.strip()}'."
            )
        return (
            f"{at}: malformed question id {qid!r} in {body!r}; a question id is snake_case "
            "([a-z][a-z0-9_]*, or topic.question in the course library), e.g. "
            "'### BEGIN SOLUTION skipgram_loss', with nothing after it."
        )
    if body.rstrip() == prefix.rstrip():
        return (
            f"{at}: BEGIN marker without a question id; write '{_EXACT_BEGIN}', "
            "e.g. '### BEGIN SOLUTION softmax'."
        )
    return (
        f"{at}: malformed BEGIN marker {body!r}; write exactly '{_EXACT_BEGIN}' "
        "(three '#', upper case, one space between words)."
    )


def strip_solutions(text: str, path: str | Path | None = None, *, empty: bool = False) -> str:
    """``text`` with every solution block replaced by a ``NotImplementedError`` stub (with
    ``empty``, by ``pass``: ``dojo verify``'s proof that the blocks hold the work).

    Everything outside the blocks is kept byte for byte. Raises :class:`MarkerError` for
    malformed markers (``path`` names the file in messages).
    """
    where = str(path) if path is not None else "<string>"
    blocks, problems = _scan(text, where)
    try:
        ast.parse(text)
    except SyntaxError as exc:
        problems.append((exc.lineno or 0,
                         f"{where}:{exc.lineno}: not valid Python ({exc.msg}); fix the solution "
                         "first."))
    if problems:
        raise MarkerError.of(where, problems)
    if not blocks:
        return text
    lines = split_lines(text)
    out: list[str] = []
    cursor = 0  # 0-based index of the next line to copy
    for block in blocks:
        out.extend(lines[cursor : block.start_line - 1])
        begin = lines[block.start_line - 1]
        newline = "\r\n" if begin.endswith("\r\n") else "\n"
        out.append(f"{block.indent}pass{newline}" if empty else
                   stub_line(block.question, block.indent, newline))
        cursor = block.end_line
    out.extend(lines[cursor:])
    stubbed = "".join(out)
    try:
        ast.parse(stubbed)
    except SyntaxError as exc:  # a block whose removal breaks the code around it
        block = next((b for b in blocks if b.start_line >= (exc.lineno or 0)), blocks[-1])
        raise MarkerError(
            f"{where}:{block.start_line}: replacing the block of '{block.question}' with a stub "
            f"leaves invalid Python ({exc.msg}); a block must hold complete statements (for "
            "example a whole try/except, not only its try part)."
        ) from exc
    return stubbed


def _enclosing(tree: ast.Module, line: int) -> str | None:
    """Qualified name of the innermost def/class that contains ``line`` (``None`` at top level)."""
    best: str | None = None

    def visit(node: ast.AST, prefix: str) -> None:
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                end = child.end_lineno or child.lineno
                if child.lineno <= line <= end:
                    best = f"{prefix}{child.name}"
                    visit(child, f"{best}.")
                continue
            visit(child, prefix)

    visit(tree, "")
    return best


def python_modules(package_dir: Path) -> list[Path]:
    """Every ``.py`` file under ``package_dir`` (recursively, caches skipped), sorted."""
    return sorted(
        p
        for p in package_dir.rglob("*.py")
        if "__pycache__" not in p.relative_to(package_dir).parts
        and not any(part.startswith(".") for part in p.relative_to(package_dir).parts)
    )


def module_name(package_dir: Path, path: Path) -> str:
    """Dotted module name of ``path`` relative to its package (``softmax``, ``sub.mod``)."""
    rel = path.relative_to(package_dir).with_suffix("")
    return ".".join(rel.parts)


def questions_in(package_dir: str | Path) -> dict[str, list[tuple[str, str | None]]]:
    """Which functions belong to which question: ``{question: [(module, qualname), ...]}``.

    ``qualname`` is the enclosing function (``Affine.backward`` for a method), or ``None`` when
    a block sits in top-level control flow. Questions appear in file order; pairs are unique.
    """
    root = Path(package_dir)
    result: dict[str, list[tuple[str, str | None]]] = {}
    for path in python_modules(root):
        module = module_name(root, path)
        try:
            found = _module_questions(path.read_bytes())
        except (MarkerError, UnicodeDecodeError):
            parse_blocks(path)  # the same problem, said with the file's path
            raise
        for question, qualname in found:
            owners = result.setdefault(question, [])
            if (module, qualname) not in owners:
                owners.append((module, qualname))
    return result


@functools.lru_cache(maxsize=1024)
def _module_questions(source: bytes) -> tuple[tuple[str, str | None], ...]:
    """``(question, enclosing function)`` of each solution block of one module's source, in
    order: read once per content (every grading reads the same modules again)."""
    text = source.decode("utf-8")
    blocks = parse_blocks(text)
    if not blocks:
        return ()
    tree = ast.parse(text)
    return tuple((block.question, _enclosing(tree, block.start_line)) for block in blocks)
