"""A cohort's similarity, question by question, on what the students wrote.

``dojo similarity SUBMISSIONS`` compares every pair of submissions (and each submission with
the past cohorts given as references) with copydetect's winnowing (Schleimer et al., 2003, the
algorithm MOSS uses): code is tokenised, names become ``V``/``F``, comments and whitespace go,
and k-grams of what is left are hashed and winnowed. Three things make its scores worth
reading here, where whole files would not be:

* **only what the student wrote**: each question's code is the functions and methods that
  hold its markers in the reference (:func:`~nlpdojo_autograder.authoring.markers.questions_in`),
  read from the student's files by name; everything the release ships (stubs, signatures,
  docstrings, given modules: :func:`~nlpdojo_autograder.release.release.released_topic`) is
  boilerplate, its fingerprints removed;
* **per question**: two students who copied one question and wrote the rest score high on
  that question, not a diluted whole;
* **a minimum size**: a question whose student-written code (after boilerplate) covers fewer
  than ``min_size`` characters of normalised code is not compared (short functions look
  alike: two independent one-line softmaxes are the same tokens).

A question's score for a pair is the share of both sides' fingerprinted code that matches,
``(matched_a + matched_b) / (covered_a + covered_b)``, or, where it is higher, the share of
one side's code found in the other's, for a side of :data:`CONTAINED_MIN` normalised
characters or more: a copy padded with code of the copier's own (reachable or not: no
analysis tells every branch that never runs) still has the whole original in it. copydetect
and MOSS report each side's share the same way; the size floor keeps a short idiom (a
two-line softmax) found inside a longer honest answer from scoring as a copy. From 0 to 1. A
pair is flagged on each question scoring at least ``threshold``. Nothing is sent anywhere.
"""

from __future__ import annotations

import ast
import io
import logging
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.errors import NlpdojoError
from nlpdojo.terminal import visible_text
from nlpdojo_autograder.authoring.markers import questions_in, split_lines
from nlpdojo_autograder.grading.snapshot import linked_file_inside, unwrapped
from nlpdojo_autograder.release.normal_form import flattened, normal_form
from nlpdojo_autograder.release.notebooks import NotebookError, read_notebook
from nlpdojo_autograder.release.release import released_topic
from nlpdojo_autograder.runtime.code_rules import python_source
from nlpdojo_autograder.runtime.loader import LIBRARY

#: copydetect's noise threshold: matches shorter than this many normalised characters are noise
NOISE = 25
#: copydetect's guarantee threshold: matches this long are always found (window = G - N + 1)
GUARANTEE = 25
#: a question whose student-written code covers fewer normalised characters is not compared
MIN_SIZE = 80
#: a question scoring this or more flags its pair
THRESHOLD = 0.7
#: a side's own share of matched code counts as the score from this many normalised
#: characters (twice the minimum size): below it, shares of standard idioms
CONTAINED_MIN = 2 * MIN_SIZE
#: the ranked pairs whose matched regions are found (a report shows these side by side)
REGIONS_FOR = 200
#: a file larger than this is not read (a student's module is a few KB)
MAX_FILE_BYTES = 1_000_000


class SimilarityError(NlpdojoError):
    """The similarity report cannot be made (the message says what to change)."""


@dataclass(frozen=True)
class Question:
    """A question's id (``topic.question``), the folder of its module (the topic or the
    library) and the ``(module, qualname)`` of each function holding its markers."""

    id: str
    folder: str
    owners: tuple[tuple[str, str], ...]


@dataclass
class Piece:
    """One question's student-written code in one submission."""

    submission: str
    question: str
    code: str
    origin: str
    fingerprint: Any = None
    winnowed: Any = None

    @property
    def size(self) -> int:
        """Normalised characters covered by fingerprints left after the boilerplate."""
        return int(self.fingerprint.token_coverage) if self.fingerprint is not None else 0


@dataclass
class Submission:
    """A submission's name, whether it is a reference (a past cohort), its pieces by question,
    and what could not be read in it."""

    name: str
    reference: bool = False
    pieces: dict[str, Piece] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    #: per question, what its code names; per topic, its other code by definition's name
    #: (:func:`read_submission`): a thin answer is compared with what it names of that code
    named: dict[str, set[str]] = field(default_factory=dict)
    other: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Match:
    """A question compared for a pair: its score, each side's matched and fingerprinted
    normalised characters, and the matched regions of each side's code (``[start, end)``
    character offsets)."""

    question: str
    score: float
    matched: tuple[int, int]
    covered: tuple[int, int]
    regions: tuple[list[tuple[int, int]], list[tuple[int, int]]]


@dataclass
class Pair:
    """Two submissions, the questions compared (by id), which of them are flagged, and the
    pair's score: the best question's."""

    a: str
    b: str
    reference: bool
    matches: dict[str, Match]
    threshold: float

    @property
    def score(self) -> float:
        return max((m.score for m in self.matches.values()), default=0.0)

    @property
    def overall(self) -> float:
        """Matched over fingerprinted code across every question compared."""
        matched = sum(sum(m.matched) for m in self.matches.values())
        covered = sum(sum(m.covered) for m in self.matches.values())
        return matched / covered if covered else 0.0

    @property
    def flagged(self) -> list[str]:
        return [q for q, m in self.matches.items() if m.score >= self.threshold]


@dataclass
class Report:
    """What :func:`compare_cohort` found: the topics, the questions and how many submissions
    each was compared for, the pairs ranked (flagged first, best score first), the warnings,
    and the settings used."""

    topics: list[str]
    questions: dict[str, int]
    submissions: list[Submission]
    pairs: list[Pair]
    warnings: list[str]
    threshold: float
    min_size: int
    compared_pairs: int

    def pieces(self) -> dict[tuple[str, str], Piece]:
        return {(s.name, q): p for s in self.submissions for q, p in s.pieces.items()}


# --- questions and boilerplate ---------------------------------------------------------------


def topic_questions(solutions: Path, topic: str) -> list[Question]:
    """The topic's questions (its own and its course-library ones, ``topic.question``), each
    with the functions that hold its markers in ``solutions``."""
    topic_dir = solutions / topic
    if not topic_dir.is_dir():
        raise SimilarityError(f"no topic {topic} in the solutions {solutions}: the report needs "
                              "the reference's markers to tell what a student wrote; give the "
                              "folder of the solutions that hold it with --solutions DIR")
    out = [Question(f"{topic}.{q}", topic, tuple((m, n) for m, n in owners if n))
           for q, owners in questions_in(topic_dir).items()]
    library = solutions / LIBRARY
    if library.is_dir():
        out += [Question(q, LIBRARY, tuple((m, n) for m, n in owners if n))
                for q, owners in questions_in(library).items() if q.split(".")[0] == topic]
    return [q for q in out if q.owners]


@dataclass(frozen=True)
class Boilerplate:
    """What the release ships for a topic: the fingerprints of every released module (stubs,
    given modules, the course library's), and each question's stub lines (its functions'
    signatures, docstrings and given statements, stripped): a line of a student's function
    that is one of them is not the student's."""

    hashes: Any
    lines: dict[str, frozenset[str]]
    #: every released module's lines, stripped, by ``(folder, module)``: a helper a question's
    #: code calls is the student's only where it is not the release's (:func:`_helpers`)
    released: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    #: every released definition's syntax tree (``ast.dump``: no positions, no layout) by
    #: ``(folder, module)`` and qualified name: a student's definition equal to it is the
    #: release's however it is wrapped (a formatter run on save made two honest students'
    #: given code "theirs", flagged at 1.00 on nine questions)
    released_defs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


def boilerplate(solutions: Path, topic: str, questions: list[Question]) -> Boilerplate:
    """The release's code for ``topic``, read from what ``dojo release`` makes of the
    solutions."""
    hashes: set[int] = set()
    modules: dict[tuple[str, str], Parsed | None] = {}
    for path, data in released_topic(solutions / topic).items():
        if path.endswith(".py"):
            text = data.decode("utf-8")
            # as released and as compared (ast.unparse's layout: own_code's canonical form)
            hashes |= _fingerprint(text, path).hashes | _fingerprint(canonical(text),
                                                                     path).hashes
            folder, _, name = path.removesuffix(".py").partition("/")
            modules[(LIBRARY if folder == LIBRARY else topic, name)] = _parse(
                (text, path), [])
    lines = {}
    for question in questions:
        stub = set()
        for module, qualname in question.owners:
            parsed = modules.get((question.folder, module))
            if parsed is not None and qualname in parsed[1]:
                segment = ast.get_source_segment(parsed[0], parsed[1][qualname]) or ""
                stub |= {ln.strip() for ln in segment.splitlines() if ln.strip()}
        lines[question.id] = frozenset(stub)
    released = {key: frozenset(ln.strip() for ln in parsed[0].splitlines() if ln.strip())
                for key, parsed in modules.items() if parsed is not None}
    defs = {key: {q: ast.dump(node) for q, node in parsed[1].items()}
            for key, parsed in modules.items() if parsed is not None}
    return Boilerplate(np.array(sorted(hashes), dtype=np.int64), lines, released, defs)


def _fingerprint(code: str, name: str, bp: Any = None) -> Any:
    from copydetect import CodeFingerprint

    logging.getLogger().disabled, before = True, logging.getLogger().disabled
    try:  # copydetect logs through the root logger: a warning per unknown file, not ours
        return CodeFingerprint(name, NOISE, GUARANTEE - NOISE + 1, boilerplate=bp,
                               language="python", fp=io.StringIO(code))
    finally:
        logging.getLogger().disabled = before


# --- reading a submission --------------------------------------------------------------------


def _read_text(path: Path, shown: str, skipped: list[str], inside: Path | None = None
               ) -> str | None:
    """A student's file as text, or ``None`` with the reason in ``skipped``. A link to a
    regular file inside the submission ``inside`` is read as that file, as the grader grades
    it (a module linked to ``../answers/softmax.txt`` was graded and never compared); any
    other link is not."""
    try:
        if path.is_symlink() and inside is not None:
            path = linked_file_inside(path, inside) or path
        if path.is_symlink() or not path.is_file():
            skipped.append(f"{shown}: not a regular file, not read")
            return None
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            skipped.append(f"{shown}: {size:,} bytes, over the {MAX_FILE_BYTES:,} read")
            return None
        data = path.read_bytes()
    except OSError as exc:
        skipped.append(f"{shown}: cannot be read ({exc.strerror or exc})")
        return None
    if b"\0" in data:
        skipped.append(f"{shown}: a binary file, not Python source")
        return None
    try:  # as Python reads a module, and the grader graded it (a byte-order mark, a coding
        # declaration: a file with one was "not valid Python" here, compared with none)
        return python_source(data) if path.suffix == ".py" else data.decode("utf-8")
    except (UnicodeDecodeError, SyntaxError):
        skipped.append(f"{shown}: not UTF-8 (nor text in an encoding it declares)")
        return None


def _real_dir(path: Path) -> bool:
    """A folder that is not a link (a link in a submission may point anywhere)."""
    return path.is_dir() and not path.is_symlink()


def _modules(folder: Path, topic: str, shown: str, skipped: list[str]
             ) -> dict[tuple[str, str], tuple[str, str]]:
    """``{(topic or library, module): (source, origin)}`` of one submission folder: the topic's
    files (``<topic>/`` or at the top, as uploaded to Gradescope), its ``library/`` (beside or
    inside the topic folder) and the module cells of the notebook the grader grades,
    ``<topic>.ipynb`` (another notebook is named, not read). Which wins where both hold a
    module is the grader's choice: a folder with modules of the topic is graded as a folder
    (its ``.py`` files win), one with the notebook alone as the notebook, whose cells win over
    the ``library/`` files beside it (those fill in the library modules it has no cell for)."""
    root = unwrapped(folder, [topic], loose=True)  # a folder zipped in one of its own, as graded
    topic_dir = root / topic if _real_dir(root / topic) else root
    # the library inside the topic folder first: the one beside it, which the grader grades
    # where both are there, is read last and wins (a decoy inside was compared in its place)
    libraries = list(dict.fromkeys(p for p in (topic_dir / LIBRARY, root / LIBRARY)
                                   if _real_dir(p)))
    found: dict[tuple[str, str], tuple[str, str]] = {}
    graded_as_notebook = not any(topic_dir.glob("*.py"))
    from_notebook: set[tuple[str, str]] = set()
    for notebook in sorted({*topic_dir.glob("*.ipynb"), *root.glob("*.ipynb")}):
        origin = f"{shown}/{notebook.relative_to(folder).as_posix()}"
        if notebook.stem != topic:  # a decoy that sorted first hid the graded one's cells
            skipped.append(f"{origin}: not the notebook the grader grades ({topic}.ipynb), "
                           "not read")
            continue
        if _read_text(notebook, origin, skipped, folder) is None:
            continue
        try:
            nb_topic, sources = read_notebook(notebook, strict=False)
        except (NotebookError, ValueError, OSError) as exc:
            skipped.append(f"{origin}: not read as a notebook ({exc})")
            continue
        for module, source in sources.items():
            where = (LIBRARY, module.split(".", 1)[1]) if module.startswith(f"{LIBRARY}.") \
                else (nb_topic, module)
            unread = _unparsed_cell(source)
            if unread is not None:  # read_notebook's stand-in for a cell that does not parse
                skipped.append(f"{origin}: {unread}, its questions not compared")
            found.setdefault(where, (source, origin))
            from_notebook.add(where)
    for where, base in [((topic, None), topic_dir), *(((LIBRARY, None), lib)
                                                      for lib in libraries)]:
        for path in sorted(base.glob("*.py")):
            origin = f"{shown}/{path.relative_to(folder).as_posix()}"
            if graded_as_notebook and (where[0], path.stem) in from_notebook:
                continue  # the notebook's cell is what the grader grades
            text = _read_text(path, origin, skipped, folder)
            if text is not None:
                found[(where[0], path.stem)] = (text, origin)
    return found


def _unparsed_cell(source: str) -> str | None:
    """Why a notebook's module cell was not read, where :func:`read_notebook` (not strict)
    stood in for it with the module that raises its ``SyntaxError`` (None: it was read)."""
    if not source.startswith("raise SyntaxError("):
        return None
    try:
        return str(ast.literal_eval(source.strip()[len("raise SyntaxError("):-1]))
    except (ValueError, SyntaxError):
        return "a module cell that does not parse"


#: a module read (:func:`_parse`): its source, its definitions by qualified name, where it was
#: read, and the names it imports from modules beside it (``{name: (module, name)}``)
Parsed = tuple[str, dict[str, ast.AST], str, dict[str, tuple[str, str]]]


def _definitions(tree: ast.Module) -> dict[str, ast.AST]:
    """``{qualname: node}`` of every function and class, nested ones included, and of every
    name a module-level assignment binds (its value's expression: ``f = _impl_f``, ``f =
    partial(g)``, ``f, g = make()``): the last binding of a name, as Python's (a stub left
    above a copy defined again, or rebound, below it is not the one run)."""
    out: dict[str, ast.AST] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                out[name] = child
                visit(child, f"{name}.")
            elif not prefix and isinstance(child, ast.Assign | ast.AnnAssign) and child.value:
                for target in (child.targets if isinstance(child, ast.Assign)
                               else [child.target]):
                    _bind(out, target, child.value)

    visit(tree, "")
    return out


def _bind(out: dict[str, ast.AST], target: ast.AST, value: ast.expr) -> None:
    """``target = value`` at a module's top: a name bound to ``value`` (an element of it
    where both are tuples of one length)."""
    if isinstance(target, ast.Name):
        out[target.id] = value
    elif isinstance(target, ast.Tuple | ast.List):
        parts = (value.elts if isinstance(value, ast.Tuple | ast.List)
                 and len(value.elts) == len(target.elts) else [value] * len(target.elts))
        for element, part in zip(target.elts, parts, strict=True):
            _bind(out, element, part)


#: the piece of a topic that holds the student's code outside every question's functions and
#: the helpers they name (``topic.`` + this: no question's id can be it)
OTHER_CODE = "(other code)"


def other_code(topic: str) -> str:
    """The id of ``topic``'s piece of code outside the questions (:data:`OTHER_CODE`)."""
    return f"{topic}.{OTHER_CODE}"


def read_submission(folder: Path, name: str, topics: list[str],
                    questions: dict[str, list[Question]], stubs: dict[str, frozenset[str]],
                    *, reference: bool = False,
                    released: dict[tuple[str, str], frozenset[str]] | None = None,
                    library_owned: frozenset[tuple[str, str]] = frozenset(),
                    released_defs: dict[tuple[str, str], dict[str, str]] | None = None
                    ) -> Submission:
    """The student-written code of each question found in ``folder`` (nothing of a question
    whose functions are all missing): its functions' lines that are not lines of the stubs
    (``stubs``: each question's, see :class:`Boilerplate`), and of the helpers they name; and,
    as the topic's piece :func:`other_code`, every other function or method the student wrote
    in the topic's modules and the library (none that ``library_owned``, ``(module,
    qualname)``, gives to a question of any topic): an answer moved where no name leads
    (``_impl.f()``, an alias, an import inside the function, ``self.other()``) is compared
    there. A file that cannot be read or parsed is named in ``skipped`` and costs only the
    questions it holds."""
    shown = visible_text(name)
    sub = Submission(name, reference)
    every_stub = frozenset().union(*stubs.values()) if stubs else frozenset()
    for topic in topics:
        modules = _modules(folder, topic, shown, sub.skipped)
        trees: dict[tuple[str, str], Parsed | None] = {}
        owned = {(q.folder, m, name) for q in questions[topic] for m, name in q.owners}
        owned |= {(LIBRARY, m, name) for m, name in library_owned}
        read: set[int] = set()  # the nodes a question's piece holds

        def parsed_module(key: tuple[str, str], trees=trees, modules=modules) -> Parsed | None:
            if key not in trees:
                trees[key] = _parse(modules.get(key), sub.skipped)
            return trees[key]

        for question in questions[topic]:
            parts, origins = [], []
            named: set[str] = set()  # what its code names: where a thin answer leads
            for module, qualname in question.owners:
                parsed = parsed_module((question.folder, module))
                if parsed is None or qualname not in parsed[1]:
                    continue
                if _as_released(parsed[1][qualname], released_defs, question.folder, module,
                                qualname):
                    continue  # the stub, untouched however it is wrapped
                stub = stubs.get(question.id, frozenset())
                for (where, source, node, origin) in [
                        (None, parsed[0], parsed[1][qualname], parsed[2]),
                        *_helpers(parsed_module, question.folder, module, parsed[1][qualname],
                                  owned)]:
                    read.add(id(node))
                    named |= _names_in(node)
                    given = (released or {}).get((question.folder, where), frozenset())
                    own = own_code(source, node, stub | given if where else stub)
                    if own and own not in parts:
                        parts.append(own)
                        origins.append(origin)
            if parts:
                sub.pieces[question.id] = Piece(name, question.id, "\n\n".join(parts),
                                                ", ".join(dict.fromkeys(origins)))
                sub.named[question.id] = named
        parts, origins = [], []
        others: dict[str, str] = {}  # the other code by definition's name
        for key in sorted(modules):
            parsed = parsed_module(key)
            if parsed is None:
                continue
            given = (released or {}).get(key, frozenset()) | every_stub
            for qualname, node in _other_definitions(parsed[1], key[0], key[1], owned, read):
                if _as_released(node, released_defs, key[0], key[1], qualname):
                    continue  # given code, however it is wrapped
                own = own_code(parsed[0], node, given)
                if own and own not in parts:
                    parts.append(own)
                    origins.append(parsed[2])
                    others[qualname.rsplit(".", 1)[-1]] = own
        if parts:
            sub.pieces[other_code(topic)] = Piece(name, other_code(topic), "\n\n".join(parts),
                                                  ", ".join(dict.fromkeys(origins)))
            sub.other[topic] = others
    return sub


def _as_released(node: ast.AST, released_defs: dict[tuple[str, str], dict[str, str]] | None,
                 folder: str, module: str, qualname: str) -> bool:
    """Whether a student's definition is the release's own, as Python reads it."""
    mine = (released_defs or {}).get((folder, module), {}).get(qualname)
    return mine is not None and mine == ast.dump(node)


def _names_in(node: ast.AST) -> set[str]:
    """The names, attributes and short strings ``node`` holds (``getattr(_impl, "_cooc")``
    names ``_cooc``): what a thin answer may lead to."""
    found = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            found.add(n.id)
        elif isinstance(n, ast.Attribute):
            found.add(n.attr)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) < 80:
            found.add(n.value)
    return found


def _other_definitions(defs: dict[str, ast.AST], folder: str, module: str,
                       owned: set[tuple[str, str, str]], read: set[int]
                       ) -> list[tuple[str, ast.AST]]:
    """The outermost functions and classes of a module that no question owns, holds or
    reaches (``read``): a class holding a question's method gives its other methods one by
    one, a function inside a question's is the question's."""
    mine = {q for f, m, q in owned if (f, m) == (folder, module)}
    found, taken = [], []
    for qualname in sorted(defs):  # a parent before its children
        node = defs[qualname]
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue  # a name bound to an expression: read where a question's name is it
        if any(qualname == q or qualname.startswith(f"{q}.") for q in mine):
            continue  # a question's, or inside one
        if any(qualname.startswith(f"{t}.") for t in taken):
            continue  # inside one taken whole
        if any(q.startswith(f"{qualname}.") for q in mine):
            continue  # a class of a question's method: its other methods one by one
        if id(node) in read:
            continue
        taken.append(qualname)
        found.append((qualname, node))
    return found


def _helpers(parsed_module: Callable[[tuple[str, str]], Parsed | None], folder: str,
             module: str, node: ast.AST, owned: set[tuple[str, str, str]]
             ) -> list[tuple[str, str, ast.AST, str]]:
    """``(module, source, definition, origin)`` of what ``node`` uses, in turn,
    that are no question's: defined at the top of its module or imported from a module of its
    folder (``from .helpers import f``, at the top or inside the function; ``from . import
    helpers`` and ``helpers.f``). A question's answer moved into a helper (the question's own
    function a one-line call of it) is compared as the answer; where no name leads to it (an
    alias, ``self.other()``), a thin answer is compared with the topic's other code
    (:func:`compare_cohort`)."""
    found: list[tuple[str, str, ast.AST, str]] = []
    seen = {(module, getattr(node, "name", ""))}
    todo = [(module, node)]
    while todo:
        here, current = todo.pop()
        parsed = parsed_module((folder, here))
        if parsed is None:
            continue
        source, defs, _origin, imported = parsed
        # and what the function imports itself (`from ._impl import f` inside it)
        imported = {**imported, **_imported(ast.walk(current))}
        names = {(n.id, None) for n in ast.walk(current) if isinstance(n, ast.Name)}
        names |= {(n.value.id, n.attr) for n in ast.walk(current)  # `_impl.f`: a module's
                  if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
        for name, attribute in sorted(names, key=lambda n: (n[0], n[1] or "")):
            if attribute is None:
                where, target = (here, name) if name in defs else imported.get(name,
                                                                               (None, None))
            else:
                where, module_only = imported.get(name, (None, None))
                if where is None or module_only != "":
                    continue
                target = attribute
            if where is None or target == "" or (where, target) in seen \
                    or (folder, where, target) in owned:
                continue
            seen.add((where, target))
            other = parsed_module((folder, where))
            if other is not None and target in other[1]:
                found.append((where, other[0], other[1][target], other[2]))
                todo.append((where, other[1][target]))
    return found


#: what a statement that does nothing may compute from (no call, no attribute: nothing runs)
_PURE = (ast.Constant, ast.Name, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Tuple,
         ast.List, ast.IfExp, ast.Load, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
         ast.expr_context)
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
             ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Match)


def _dead_lines(node: ast.AST) -> set[int]:
    """Lines of ``node``'s functions that hold only a statement doing nothing: ``pass``, a
    constant alone, or an assignment, computing nothing that runs, to local names nothing
    reads (in turn: a chain of them goes whole). No-op lines interleaved with a copy
    (``_z3 = 3`` after every statement) took a verbatim copy from 1.00 to 0.38."""
    dead: set[int] = set()
    for func in (n for n in ast.walk(node)
                 if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
        shared = {name for n in ast.walk(func) if isinstance(n, ast.Global | ast.Nonlocal)
                  for name in n.names}
        simple = [n for n in ast.walk(func) if isinstance(n, ast.stmt)
                  and not isinstance(n, _COMPOUND) and n is not func]
        per_line: dict[int, list[int]] = {}  # the statements on each line
        for n in simple:
            for line in range(n.lineno, (n.end_lineno or n.lineno) + 1):
                per_line.setdefault(line, []).append(id(n))
        headers = {n.lineno for n in ast.walk(func) if isinstance(n, _COMPOUND)}
        gone = _gone(simple, shared)
        for n in simple:
            if id(n) in gone:  # its lines, where every statement on them does nothing too
                lines = range(n.lineno, (n.end_lineno or n.lineno) + 1)
                if all(set(per_line[ln]) <= gone and ln not in headers for ln in lines):
                    dead.update(lines)
    return dead


def _gone(simple: list[ast.stmt], shared: set[str]) -> set[int]:
    """The ids of the statements of ``simple`` that do nothing, in turn: one doing nothing
    once every statement reading what it binds is gone (a chain ``a1 = a0; a2 = a1; ...``
    goes whole). A worklist: a statement is looked at again only when the last reader of a
    name it binds goes (one pass over every statement per link of a chain took 158 s for a
    chain of 4,000, and days for a file at the size the report reads)."""
    # a name is read by a statement that is not a call-free assignment to it alone
    # (`_k = _k if 0 else None` after every statement reads only itself)
    reads = {id(stmt): {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)
                        and isinstance(n.ctx, ast.Load) and _pure_target(stmt) != n.id}
             for stmt in simple}
    readers: dict[str, int] = {}
    for names in reads.values():
        for name in names:
            readers[name] = readers.get(name, 0) + 1
    binding: dict[str, list[ast.stmt]] = {}  # the statements that bind each name
    for stmt in simple:
        for name in _bound_names(stmt):
            binding.setdefault(name, []).append(stmt)

    read = set(readers) | shared  # read by a statement not gone, or shared with others
    gone: set[int] = set()
    todo = list(simple)
    while todo:
        stmt = todo.pop()
        if id(stmt) in gone or not _does_nothing(stmt, read):
            continue
        gone.add(id(stmt))
        for name in reads[id(stmt)]:
            readers[name] -= 1
            if readers[name] == 0 and name not in shared:  # its last reader gone: what
                read.discard(name)  # binds it may do nothing now
                todo.extend(s for s in binding.get(name, ()) if id(s) not in gone)
    return gone


def _bound_names(stmt: ast.stmt) -> list[str]:
    """The names an assignment binds (what :func:`_does_nothing` asks to be unread)."""
    if isinstance(stmt, ast.Assign):
        return [t.id for t in stmt.targets if isinstance(t, ast.Name)]
    if isinstance(stmt, ast.AugAssign | ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    return []


def _pure_target(stmt: ast.stmt) -> str | None:
    """The one name a call-free assignment binds (None for any other statement)."""
    if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign) and stmt.value is not None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if (len(targets) == 1 and isinstance(targets[0], ast.Name)
                and all(isinstance(n, _PURE) for n in ast.walk(stmt.value))):
            return targets[0].id
    return None


def _does_nothing(stmt: ast.stmt, read: set[str]) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, ast.Constant)
    if isinstance(stmt, ast.Assert):  # `assert True`: a constant that holds
        return isinstance(stmt.test, ast.Constant) and bool(stmt.test.value) and (
            stmt.msg is None or isinstance(stmt.msg, ast.Constant))
    if isinstance(stmt, ast.AugAssign):
        return _pure_target(stmt) is not None and _pure_target(stmt) not in read
    if isinstance(stmt, ast.Assign | ast.AnnAssign):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = stmt.value
        return (all(isinstance(t, ast.Name) and t.id not in read for t in targets)
                and (value is None or all(isinstance(n, _PURE) for n in ast.walk(value))))
    return False


def own_code(source: str, node: ast.AST, stub: frozenset[str]) -> str:
    """The lines of ``node`` (a function or class of ``source``) a student wrote: not a
    docstring (of it or of what it holds), not blank, not one of the ``stub`` lines, not a
    statement that does nothing (:func:`_dead_lines`)."""
    docstrings: set[int] = _dead_lines(node)
    for n in ast.walk(node):
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.body:
            first = n.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines = [line.rstrip("\r\n") for line in split_lines(source)]
    own = [lines[i - 1] for i in range(node.lineno, (node.end_lineno or node.lineno) + 1)
           if i not in docstrings and i <= len(lines) and lines[i - 1].strip()
           and lines[i - 1].strip() not in stub]
    return canonical(textwrap.dedent("\n".join(own)))


def canonical(code: str) -> str:
    """``code`` as Python's own ``ast.unparse`` writes it, where it parses: comments, line
    breaks inside brackets, redundant parentheses and quotes are the writer's, not the code's
    (a copy run through ``ast.unparse`` matched its original at 0.69 with them), and in its
    normal form (:func:`~.normal_form.normal_form`: temporaries inlined, operands in one
    order); else as written (as parsed, where the normal form cannot be made)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        try:  # lines of a function without a header the release ships: out one level
            code = flattened(code)
            tree = ast.parse(code)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return code
    for made in (lambda: normal_form(ast.parse(code)), lambda: tree):
        try:
            return ast.unparse(made())
        except (ValueError, MemoryError, RecursionError):
            continue
    return code


def _parse(found: tuple[str, str] | None, skipped: list[str]) -> Parsed | None:
    if found is None:
        return None
    source, origin = found
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        skipped.append(f"{origin}: not valid Python{line}, its questions not compared")
        return None
    except (MemoryError, RecursionError):  # 10,000 unary minuses are enough for the parser
        skipped.append(f"{origin}: nested too deeply for Python's parser, its questions not "
                       "compared")
        return None
    if _depth(tree) > MAX_TREE_DEPTH:  # what parses may still be too deep for ast.dump
        skipped.append(f"{origin}: nested more than {MAX_TREE_DEPTH} levels deep, its "
                       "questions not compared")
        return None
    return source, _definitions(tree), origin, _imported(tree.body)


#: the deepest syntax tree read: the readers after the parser (``ast.dump``, ``ast.unparse``)
#: recurse, and ``x+0+0+...`` a thousand terms deep, which parses, ended the whole report
#: with RecursionError (written code nests a few dozen levels)
MAX_TREE_DEPTH = 200


def _depth(tree: ast.AST) -> int:
    """How many levels ``tree`` nests (iteratively: no recursion to run out of)."""
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _imported(statements: Iterable[ast.AST]) -> dict[str, tuple[str, str]]:
    """The names ``statements`` import from modules beside theirs: ``{local name: (module,
    name)}``; a module itself (``from . import _impl``) as ``(module, "")``."""
    found = {}
    for node in statements:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            for alias in node.names:
                found[alias.asname or alias.name] = (
                    (node.module.split(".")[0], alias.name) if node.module else (alias.name, ""))
    return found


def submission_folders(root: Path, what: str) -> list[Path]:
    """The submission folders of a cohort folder ``root`` (hidden ones and an earlier report's
    folder skipped)."""
    if not root.exists():
        raise SimilarityError(f"{what} {root} does not exist")
    if not root.is_dir():
        raise SimilarityError(f"{what} {root} is not a folder: give a folder of submission "
                              "folders")
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))


# --- comparing -------------------------------------------------------------------------------


def compare_cohort(root: Path, solutions: Path, topics: list[str] | None = None, *,
                   references: Iterable[Path] = (), threshold: float = THRESHOLD,
                   min_size: int = MIN_SIZE, exclude: Iterable[Path] = (),
                   regions_for: int = REGIONS_FOR) -> Report:
    """Compare every pair of submissions of ``root`` and each of them with every submission of
    the ``references`` (folders of past cohorts' submission folders, or one submission's
    folder), question by question. Every input is checked before anything is compared. The
    matched regions are found for the first ``regions_for`` ranked pairs (those a page shows
    side by side); every pair is scored."""
    _require_copydetect()
    excluded = {p.resolve() for p in exclude}
    folders = [p for p in submission_folders(root, "submissions folder")
               if p.resolve() not in excluded]
    if not topics:
        topics = sorted({p.name for f in folders for p in f.iterdir()
                         if p.is_dir() and (solutions / p.name).is_dir() and p.name != LIBRARY})
        if not topics:
            raise SimilarityError(f"no submission in {root} holds a topic folder of the "
                                  f"solutions ({solutions}); name the topic (--topic TOPIC), or "
                                  "give its solutions' folder (--solutions DIR)")
    refs = [(ref, _reference_folders(ref, topics)) for ref in references]
    questions = {t: topic_questions(solutions, t) for t in topics}
    if len(folders) + sum(len(f) for _, f in refs) < 2:
        raise SimilarityError(
            f"{root} holds {len(folders)} submission folder(s): a report compares at least two "
            "(add past cohorts with --reference DIR)")
    bp = {t: boilerplate(solutions, t, questions[t]) for t in topics}
    stubs = {qid: lines for b in bp.values() for qid, lines in b.lines.items()}
    released = {key: lines for b in bp.values() for key, lines in b.released.items()}
    released_defs = {key: d for b in bp.values() for key, d in b.released_defs.items()}
    library_owned = frozenset((m, n) for owners in (
        questions_in(solutions / LIBRARY).values() if (solutions / LIBRARY).is_dir() else ())
        for m, n in owners if n)
    subs = [read_submission(f, f.name, topics, questions, stubs, released=released,
                            library_owned=library_owned, released_defs=released_defs)
            for f in folders]
    subs += [read_submission(f, ref.name if f == ref else f"{ref.name}/{f.name}", topics,
                             questions, stubs, reference=True, released=released,
                             library_owned=library_owned, released_defs=released_defs)
             for ref, ref_folders in refs for f in ref_folders]
    warnings = [w for s in subs for w in s.skipped]
    topic_of = {q.id: t for t in topics for q in questions[t]} | {
        other_code(t): t for t in topics}
    counts: dict[str, int] = {q.id: 0 for t in topics for q in questions[t]} | {
        other_code(t): 0 for t in topics}
    for sub in subs:
        for qid, piece in list(sub.pieces.items()):
            piece.fingerprint = _fingerprint(piece.code, f"{qid}.py", bp[topic_of[qid]].hashes)
        for qid, piece in list(sub.pieces.items()):
            other = sub.pieces.get(other_code(topic_of[qid]))
            led = [code for name, code in sub.other.get(topic_of[qid], {}).items()
                   if name in sub.named.get(qid, set())]
            if piece.size < min_size and other is not None and other is not piece and led:
                # a thin answer (a call of code no name leads to: getattr(m, "f"), an alias)
                # with the topic's other code it names, where a moved answer is (not all
                # of it: unrelated helpers flagged honest softmaxes, a self-test diluted a
                # copy)
                piece.code = "\n\n".join([piece.code, *led])
                piece.origin = ", ".join(dict.fromkeys([*piece.origin.split(", "),
                                                        *other.origin.split(", ")]))
                piece.fingerprint = _fingerprint(piece.code, f"{qid}.py",
                                                 bp[topic_of[qid]].hashes)
            if piece.size < min_size:
                del sub.pieces[qid]  # too little of the student's own to tell anything
            else:
                counts[qid] += 1
    if not any(counts.values()):
        raise SimilarityError(
            f"no question of {', '.join(topics)} holds {min_size} or more normalised characters "
            "of student-written code in any submission (are these untouched stubs?); nothing "
            "to compare (lower --min-size to compare shorter answers)")
    pairs, compared = _pairs(subs, threshold, regions_for)
    return Report(topics, counts, subs, pairs, warnings, threshold, min_size, compared)


def _require_copydetect() -> None:
    try:
        import copydetect  # noqa: F401
    except ImportError as exc:
        raise SimilarityError("the similarity report needs copydetect: pip install "
                              "'nlpdojo[similarity]'") from exc


def _reference_folders(ref: Path, topics: list[str]) -> list[Path]:
    """A reference is a past cohort (a folder of submission folders) or one submission (a
    folder holding a topic's folder: a known solution)."""
    if not ref.exists():
        raise SimilarityError(f"reference folder {ref} does not exist (--reference takes a past "
                              "cohort's folder of submission folders)")
    folders = submission_folders(ref, "reference folder")
    if any((ref / t).is_dir() for t in topics):
        return [ref]
    return folders


def _winnowed(piece: Piece) -> tuple[Any, Any, Any]:
    """A piece's fingerprints as arrays: the hash at each kept position, the positions (in its
    normalised code), and its distinct hashes sorted."""
    fp = piece.fingerprint
    hashes = np.array([h for h, ps in fp.hash_idx.items() for _ in ps], dtype=np.int64)
    positions = np.array([p for ps in fp.hash_idx.values() for p in ps], dtype=np.int64)
    return hashes, positions, np.unique(hashes)


def _union(positions: Any) -> int:
    """Characters covered by the k-grams starting at ``positions``: copydetect's matched
    tokens (the total length of its copied slices), without building the slices."""
    if positions.size == 0:
        return 0
    ordered = np.unique(positions)
    return int(np.minimum(np.diff(ordered), NOISE).sum()) + NOISE


def _candidates(subs: list[Submission]) -> dict[tuple[int, int], list[str]]:
    """``{(i, j): questions}`` of every pair sharing a fingerprint on a question (not two
    references), from one sparse product per question: pairs with nothing in common cost
    nothing."""
    import scipy.sparse as sp

    found: dict[tuple[int, int], list[str]] = {}
    for qid in sorted({q for sub in subs for q in sub.pieces}):
        owners = [i for i, sub in enumerate(subs) if qid in sub.pieces]
        uniques = [subs[i].pieces[qid].winnowed[2] for i in owners]
        vocab, cols = np.unique(np.concatenate(uniques), return_inverse=True)
        rows = np.repeat(np.arange(len(owners)), [u.size for u in uniques])
        m = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(len(owners), vocab.size))
        shared = sp.triu(m @ m.T, k=1).tocoo()
        for x, y in zip(shared.row.tolist(), shared.col.tolist(), strict=True):
            i, j = owners[x], owners[y]
            if not (subs[i].reference and subs[j].reference):
                found.setdefault((i, j), []).append(qid)
    return found


def _pairs(subs: list[Submission], threshold: float, regions_for: int
           ) -> tuple[list[Pair], int]:
    """Every pair sharing a fingerprint on a question, scored, ranked; the matched regions
    (copydetect's ``compare_files``) of the first ``regions_for`` pairs only, the ones a report
    shows side by side."""
    from copydetect import compare_files

    for sub in subs:
        for piece in sub.pieces.values():
            piece.winnowed = _winnowed(piece)
    candidates = _candidates(subs)
    pairs = []
    for (i, j), qids in sorted(candidates.items()):
        matches = {}
        for qid in qids:
            pa, pb = subs[i].pieces[qid], subs[j].pieces[qid]
            (ha, posa, ua), (hb, posb, ub) = pa.winnowed, pb.winnowed
            common = np.intersect1d(ua, ub, assume_unique=True)
            matched = (_union(posa[np.isin(ha, common)]), _union(posb[np.isin(hb, common)]))
            if not any(matched):
                continue
            covered = (int(pa.fingerprint.token_coverage), int(pb.fingerprint.token_coverage))
            shares = [m / c for m, c in zip(matched, covered, strict=True)
                      if c >= CONTAINED_MIN]  # each side's own, where it is large enough
            score = min(1.0, max([sum(matched) / max(sum(covered), 1), *shares]))
            matches[qid] = Match(qid, round(score, 4), matched, covered, ([], []))
        if matches:
            pairs.append(Pair(subs[i].name, subs[j].name, subs[i].reference or subs[j].reference,
                              matches, threshold))
    pairs.sort(key=lambda p: (-len(p.flagged), -p.score, -p.overall, p.a, p.b))
    pieces = {(s.name, q): p for s in subs for q, p in s.pieces.items()}
    for pair in pairs[:regions_for]:
        for qid, match in pair.matches.items():
            _, _, (slices_a, slices_b) = compare_files(pieces[(pair.a, qid)].fingerprint,
                                                       pieces[(pair.b, qid)].fingerprint)
            if slices_a.size:
                match.regions = (_regions(slices_a), _regions(slices_b))
    return pairs, len(candidates)


def _regions(slices: Any) -> list[tuple[int, int]]:
    """One side's matched regions in its raw code, ``[start, end)``, sorted and merged."""
    merged: list[tuple[int, int]] = []
    for s, e in sorted((int(s), int(e)) for s, e in zip(slices[0], slices[1], strict=True)):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged
