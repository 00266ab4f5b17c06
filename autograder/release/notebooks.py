"""One Jupyter notebook per topic, generated from its modules, and turned back into modules.

``exercises/<topic>/<topic>.ipynb`` holds the topic's README as a Markdown cell, a how-to cell
(which says how to grade the notebook itself), then one code cell per module in question order
(the order of the registered exercise's ``questions``), never before a module it imports. In a
notebook all
cells share one namespace, so a module's intra-topic relative imports (``from .softmax import
softmax``) are removed from its cell and recorded in the cell metadata::

    {"nlpdojo": {"module": "skipgram", "imports": ["from .softmax import softmax"], "lines": [7]},
     "tags": ["nlpdojo:skipgram"]}

A module imported whole (``from . import sgd``, then ``sgd.linear_decay``) gets a stand-in
object, defined in an untagged set-up cell, that looks its attributes up in that namespace.

A topic built on the course library (``from ..library import Linear``, a name of the module
whose ``__all__`` lists it, read from its source; or ``from ..library.layers import Linear``)
also holds, as modules ``library.<module>`` tagged ``nlpdojo:library.<module>``, the library
modules with its questions; their imports (``from .init import xavier_uniform``, ``from
..library import Linear``) are recorded like the topic's own. What the cells import from the
library's other modules, the set-up cell binds from the student's ``library/`` folder
(:mod:`nlpdojo.notebook_library`), and :func:`materialize_notebook` writes that folder, with
the notebook's library cells, next to the topic's package.

:func:`extract_notebook` reverses all this (the imports go back where they were), and
:func:`materialize_notebook` writes a package folder the grader imports like a folder submission.
Generation is deterministic (fixed cell ids, no outputs or execution counts, nbformat's stable
JSON), so ``dojo release --check`` can compare notebooks byte for byte.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import re
import shutil
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlpdojo.errors import NlpdojoError
from nlpdojo.exports import exports_of
from nlpdojo_autograder.authoring.markers import split_lines, strip_solutions
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.runtime.loader import LIBRARY

if TYPE_CHECKING:
    from nbformat import NotebookNode

TAG_PREFIX = "nlpdojo:"
#: a course library module in a notebook: ``library.layers`` (the folder ``library/``)
LIBRARY_PREFIX = f"{LIBRARY}."
META_KEY = "nlpdojo"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

HOWTO = """\
**How this notebook works.** Each code cell tagged `nlpdojo:<module>` is one module of this topic
(the same code as `<module>.py` in this folder). The cells follow the order of the questions.
Fill in the functions that raise `NotImplementedError`, run the cells top to bottom, and
experiment in cells of your own: cells without an `nlpdojo:` tag are never graded, so a helper
function belongs in the tagged cell that uses it. Keep the tags,
do not split or merge the tagged cells, and do not add imports between the topic's modules (all
cells share one namespace; the grader restores those imports when it rebuilds the modules from
this notebook).

**Checking your work here.** Run the set-up cell below once, then, in a cell of your own,
`check("{question}")` grades one question and `check()` every question: the grader runs the
checks in its sandbox (never in this kernel) and shows points, verdicts and feedback below
the cell, with errors pointing at the cell and line. It grades the tagged cells as you last ran
them (re-run a cell after editing it; a cell not run since the kernel started is graded as
saved).

**Grading from a terminal.** Save the notebook, then, in this folder:

    grade --submission {topic}.ipynb  # every question
    grade {question} --submission {topic}.ipynb  # one question

(from the folder that holds `exercises/`: `grade --submission exercises/{topic}/{topic}.ipynb`).
The `grade {topic}` and `grade <question>` commands in the instructions above grade the `.py`
files of this folder, not this notebook: work in one or the other."""


HOWTO_LIBRARY = """\
**The course library.** This topic builds on the course library (`../library/`, the folder
next to this one). A cell tagged `nlpdojo:library.<module>` is the library module
`library/<module>.py` that holds questions of this topic: the notebook and its grading use that
cell, not the file. The library's other modules come from your own `library/` folder, as your
`.py` files import them: the set-up cell imports them from there (re-run it after editing them),
and grading the notebook takes them from there too, so keep this notebook in its folder next to
`library/`."""


def howto_source(topic: str, first_question: str | None = None, *,
                 library: bool = False) -> str:
    """The how-to cell: how the notebook is organised and how to grade it (not the .py files);
    ``library``: the topic builds on the course library (a paragraph on where it comes from)."""
    text = HOWTO.format(topic=topic, question=first_question or "<question>")
    if not library:
        return text
    first, rest = text.split("\n\n", 1)
    return f"{first}\n\n{HOWTO_LIBRARY}\n\n{rest}"


class NotebookError(NlpdojoError):
    """A notebook cannot be generated, or a submitted notebook is malformed (names the cell)."""


# --------------------------------------------------------------------------- generation


def module_file(module: str) -> str:
    """The file of a notebook module, for messages: ``softmax.py``, ``library/layers.py``."""
    return module.replace(".", "/") + ".py"


def is_module_name(name: object) -> bool:
    """A notebook module's name: a topic module (``softmax``) or a course library module
    (``library.layers``); never a path."""
    if not isinstance(name, str):
        return False
    head, dot, tail = name.partition(".")
    return (head == LIBRARY and tail.isidentifier()) if dot else name.isidentifier()


def library_exports(library: Mapping[str, str]) -> dict[str, str]:
    """``{name: library.<module>}`` for each name the course library re-exports (the one
    module whose ``__all__`` lists it; :mod:`nlpdojo.exports`), read from the sources
    ``{module: source}``; a module's own name stays the module's."""
    exports = exports_of(library)
    return {name: LIBRARY_PREFIX + owner for name, owner in exports.names.items()
            if name not in library}


def _import_targets(node: ast.ImportFrom, module: str,
                    exports: Mapping[str, str] | None = None) -> list[str] | None:
    """The notebook modules a relative import in ``module`` names, or ``None`` for a form a
    notebook cannot hold. A topic module may write ``from .a import x``, ``from . import a``,
    ``from ..library.a import x``, ``from ..library import a`` and ``from ..library import
    Name`` (``exports``: :func:`library_exports`, the module that exports each name); a
    library module (``library.layers``) ``from .a import x`` and ``from . import a`` (library
    modules)."""
    in_library = module.startswith(LIBRARY_PREFIX)
    names = [a.name for a in node.names]
    if node.level == 1:
        prefix = LIBRARY_PREFIX if in_library else ""
        if node.module is None:
            return [prefix + n for n in names]
        return [prefix + node.module] if "." not in node.module else None
    if node.level == 2 and not in_library:
        if node.module == LIBRARY:
            return [(exports or {}).get(n, LIBRARY_PREFIX + n) for n in names]
        head, _, tail = (node.module or "").partition(".")
        if head == LIBRARY and tail.isidentifier():
            return [LIBRARY_PREFIX + tail]
    return None


def _relative_imports(source: str, module: str, modules: set[str],
                      exports: Mapping[str, str] | None = None) -> list[ast.ImportFrom]:
    """The module's top-level relative imports (``from .x import y``, ``from ..library.x import
    y``, ``from ..library import Y``); unsupported forms raise. ``modules``: every module such
    an import may name; ``exports``: as for :func:`_import_targets`."""
    tree = _parsed(source)
    top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.level > 0]
    top_ids = {id(n) for n in top}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0 and id(node) not in top_ids:
            raise NotebookError(
                f"{module_file(module)}:{node.lineno}: a relative import inside a function or "
                "block cannot become a notebook cell; move it to the top of the module."
            )
    lines = split_lines(source)
    header_end = _header_end(tree)
    for node in top:
        where = f"{module_file(module)}:{node.lineno}"
        if node.lineno > header_end:
            raise NotebookError(
                f"{where}: relative imports must sit in the import block at the top of the module "
                "(before any other statement) so the notebook can restore them; move it up."
            )
        targets = _import_targets(node, module, exports)
        if targets is None or any(t not in modules for t in targets):
            unexported = [a.name for a, t in zip(node.names, targets or [], strict=False)
                          if node.level == 2 and node.module == LIBRARY and t not in modules]
            if unexported:  # the usual cause: a new library module without __all__
                raise NotebookError(
                    f"{where}: 'from ..library import {', '.join(unexported)}': no module of "
                    "the course library lists "
                    f"{' or '.join(unexported)} in its __all__ (library/__init__.py re-exports "
                    "each module's __all__); add it to the __all__ of the module that defines "
                    "it, or import it from that module ('from ..library.<module> import "
                    f"{unexported[0]}').")
            raise NotebookError(f"{where}: {_allowed_imports(module, modules)}")
        if any(alias.asname not in (None, alias.name) for alias in node.names):
            raise NotebookError(
                f"{where}: 'import ... as ...' between the course's modules cannot become a "
                "notebook cell (all cells share one namespace); import the name unchanged."
            )
        end = node.end_lineno or node.lineno
        if node.col_offset != 0 or lines[end - 1][node.end_col_offset or 0 :].strip().startswith(
            ";"
        ):
            raise NotebookError(f"{where}: put the relative import on a line of its own.")
    return top


def _allowed_imports(module: str, modules: set[str]) -> str:
    """What relative imports ``module`` may write in a notebook, for an error message."""
    in_library = module.startswith(LIBRARY_PREFIX)
    library = sorted(m[len(LIBRARY_PREFIX):] for m in modules if m.startswith(LIBRARY_PREFIX))
    own = library if in_library else sorted(m for m in modules if "." not in m)
    text = (f"only 'from .<module> import <name>' or 'from . import <module>' with sibling "
            f"modules ({', '.join(own) or 'none'})")
    if library and not in_library:
        text += (", or 'from ..library.<module> import <name>', 'from ..library import "
                 f"<module>' with modules of the course library ({', '.join(library)}) or "
                 "'from ..library import <name>' with a name one of them lists in __all__")
    return text + " can become a notebook cell."


def module_dependencies(sources: Mapping[str, str], known: set[str] | None = None,
                        exports: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """For each module, the modules of ``sources`` it imports relatively (sorted); ``known``:
    the modules an import may name besides (default: only those of ``sources``); ``exports``:
    the course library's re-exported names (:func:`library_exports`)."""
    names = set(sources) | (known or set())
    deps: dict[str, list[str]] = {}
    for module, source in sources.items():
        try:
            imports = _relative_imports(source, module, names, exports)
        except SyntaxError as exc:
            raise NotebookError(
                f"{module_file(module)}:{exc.lineno}: not valid Python ({exc.msg})."
            ) from exc
        targets = {t for n in imports for t in _import_targets(n, module, exports) or []}
        deps[module] = sorted((targets & set(sources)) - {module})
    return deps


def imported_names(sources: Mapping[str, str], known: set[str],
                   exports: Mapping[str, str] | None = None
                   ) -> list[tuple[str, str, str | None]]:
    """Every ``(importing module, imported module, name)`` of the modules' relative imports:
    ``name`` is ``None`` for a module imported whole (``from ..library import optim``); a name
    the course library re-exports (``from ..library import Linear``, ``exports``:
    :func:`library_exports`) is its module's (``library.layers``)."""
    found: list[tuple[str, str, str | None]] = []
    names = set(sources) | known
    for module, source in sources.items():
        for node in _relative_imports(source, module, names, exports):
            targets = _import_targets(node, module, exports) or []
            if node.module is None or (node.module == LIBRARY and node.level == 1):
                found += [(module, t, None) for t in targets]
            elif node.module == LIBRARY:
                found += [(module, t, a.name if a.name in (exports or {}) else None)
                          for a, t in zip(node.names, targets, strict=True)]
            else:
                found += [(module, targets[0], a.name) for a in node.names]
    return found


def _top_level_names(source: str) -> set[str]:
    """Names a module binds at top level (defs, classes, assignments, imports)."""
    names: set[str] = set()
    for node in _parsed(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if not (isinstance(node, ast.ImportFrom) and node.level > 0):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


#: after each line end, ``\n``, ``\r\n`` or a lone ``\r``
_LINE_ENDS = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")


@functools.lru_cache(maxsize=256)
def _parsed(source: str) -> ast.Module:
    """``ast.parse(source)``, once per source (a release reads each module's tree several
    times); callers only read the tree."""
    return ast.parse(source)


def _definitions(source: str) -> dict[str, str]:
    """``{name: source text}`` of the module's top-level defs, classes and simple assignments
    (dunder names such as ``__all__`` left out)."""
    return dict(_definitions_of(source))


@functools.lru_cache(maxsize=256)
def _definitions_of(source: str) -> tuple[tuple[str, str], ...]:
    tree = _parsed(source)
    lines = _LINE_ENDS.split(source)  # as ast.get_source_segment splits (no form feed)

    def segment(node: ast.stmt) -> str:  # ast.get_source_segment, without splitting per call
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        if first == last:
            return lines[first].encode()[node.col_offset:node.end_col_offset].decode()
        head = lines[first].encode()[node.col_offset:].decode()
        tail = lines[last].encode()[:node.end_col_offset].decode()
        return head + "".join(lines[first + 1:last]) + tail

    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = segment(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = segment(node)
    return tuple((k, v) for k, v in found.items()
                 if not (k.startswith("__") and k.endswith("__")))


def check_shared_namespace(sources: Mapping[str, str]) -> None:
    """Two modules defining the same top-level name differently would overwrite each other in
    the notebook's single namespace: that is a :class:`NotebookError` naming both."""
    seen: dict[str, tuple[str, str]] = {}
    for module in sorted(sources):
        for name, text in _definitions(sources[module]).items():
            if name in seen and seen[name][1] != text:
                raise NotebookError(
                    f"modules {seen[name][0]} and {module} both define {name!r} at top level, "
                    "differently; in the notebook all cells share one namespace and the later one "
                    "would replace the other. Rename one (a leading underscore is not enough)."
                )
            seen.setdefault(name, (module, text))


def _bound_name(module: str) -> str:
    """The name a module imported whole is bound to: ``optim`` for ``library.optim``."""
    return module.rsplit(".", 1)[-1]


def module_imports(sources: Mapping[str, str], known: set[str] | None = None,
                   exports: Mapping[str, str] | None = None) -> list[str]:
    """Modules of ``sources`` imported whole (``from . import sgd``, ``from ..library import
    optim``: ``library.optim``) by some module, sorted.

    In the notebook each becomes a stand-in object whose attributes are looked up in the
    notebook's namespace, so ``sgd.linear_decay(...)`` works there too. A stand-in must not
    share its name with anything a module defines at top level, nor with another module
    imported whole (``optim`` of the topic and ``library.optim``).
    """
    imports = imported_names(sources, known or set(), exports)
    whole = sorted({target for _, target, name in imports if name is None})
    by_name: dict[str, str] = {}
    for target in whole:
        other = by_name.setdefault(_bound_name(target), target)
        if other != target:
            raise NotebookError(
                f"modules {other} and {target} are both imported whole as "
                f"{_bound_name(target)!r}; in a notebook all cells share one namespace, so "
                "import the names from one of them instead.")
    for module, source in sources.items():
        clash = sorted(set(by_name) & _top_level_names(source))
        if clash:
            raise NotebookError(
                f"{module_file(module)} defines {', '.join(clash)} at top level, which is also "
                "the name of a module imported with 'from . import ...'; in a notebook all cells "
                "share one namespace, so rename one of them or import the names from the module."
            )
    return [t for t in whole if t in sources]


def library_bindings(sources: Mapping[str, str], known: set[str],
                     exports: Mapping[str, str] | None = None
                     ) -> list[tuple[str, str | None]]:
    """``(library module, name)`` for each name the notebook's modules import from a library
    module that has no cell in it (``None``: the module imported whole; ``exports``: as for
    :func:`imported_names`), sorted: the set-up cell binds them from the student's own
    ``library/`` folder. A name bound so must not be one a cell defines, nor come from two
    modules."""
    wanted = sorted({(target, name) for _, target, name in imported_names(sources, known,
                                                                          exports)
                     if target not in sources})
    bound: dict[str, str] = {}
    for target, name in wanted:
        as_name = name or _bound_name(target)
        other = bound.setdefault(as_name, target)
        if other != target:
            raise NotebookError(
                f"the name {as_name!r} is imported from both {module_file(other)} and "
                f"{module_file(target)}; in a notebook all cells share one namespace, so "
                "rename one of them.")
        for module, source in sources.items():
            if as_name in _top_level_names(source):
                raise NotebookError(
                    f"{module_file(module)} defines {as_name!r} at top level, which the "
                    f"notebook also imports from {module_file(target)} (your library/ folder); "
                    "in a notebook all cells share one namespace, so rename one of them.")
    return wanted


def library_closure(sources: Mapping[str, str], library: Mapping[str, str],
                    start: Iterable[str] = ()) -> list[str]:
    """The library modules without a cell that the notebook imports, directly or through each
    other (``library.layers`` imports ``library.init``), sorted; ``start``: library modules
    (``library.gated``) reached whatever the sources import. None of them may import a
    library module that has a cell: the kernel would run the copy in ``library/``, the grader
    the cell's, and the two may differ. A module the library does not hold is a KeyError."""
    known = set(sources) | {LIBRARY_PREFIX + m for m in library}
    exports = library_exports(library)
    pending = [t for _, t, _ in imported_names(sources, known, exports) if t not in sources]
    pending += start
    reached: set[str] = set()
    while pending:
        module = pending.pop()
        if module in reached:
            continue
        reached.add(module)
        own = {module: library[module[len(LIBRARY_PREFIX):]]}
        for _, target, _ in imported_names(own, known, exports):
            if target in sources:
                raise NotebookError(
                    f"{module_file(module)} (imported from your library/ folder) imports "
                    f"{module_file(target)}, which has a cell in this notebook; the notebook would "
                    "run one copy and the grader the other. Move that import, or give the "
                    "library module's questions to this topic.")
            pending.append(target)
    return sorted(reached)


CHECK_SETUP = """\
# Set-up (not graded). check("{question}") grades one question of this notebook, check() all of
# them, in the grader's sandbox, and shows the feedback below the cell: the tagged cells as you
# last ran them (a tagged cell not run since the kernel started: as saved on disk).
from nlpdojo import check

check.watch()
"""

SIBLING_TEMPLATE = '''
# Some modules of this notebook write `from . import <module>` and then use `<module>.name`;
# all cells of a notebook share one namespace, so each such module gets a stand-in that looks
# its names up there.
class _SiblingModule:
    """Stands in for a module of this notebook: attributes come from its namespace."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        try:
            return globals()[attr]
        except KeyError:
            raise AttributeError(
                f"{{attr!r}} is not defined yet: run the cell of module {{self._name!r}} first"
            ) from None


{assignments}'''


LIBRARY_TEMPLATE = '''
# This topic builds on the course library. Its modules without a cell in this notebook come from
# your own library/ folder next to this topic's folder (exercises/library/), as your .py files
# import them: re-run this cell after editing them there.
from nlpdojo.notebook_library import course_library

_library = course_library({modules})
{assignments}'''


def setup_source(stand_ins: list[str], first_question: str | None = None,
                 library: Sequence[tuple[str, str | None]] = (),
                 closure: Sequence[str] = ()) -> str:
    """The untagged first code cell: ``check`` for grading inside the notebook, the stand-ins
    for modules imported whole (``from . import <module>``) if any, and the names imported from
    library modules without a cell (:func:`library_bindings`; ``closure``: every such module,
    :func:`library_closure`), bound from the student's ``library/`` folder."""
    text = CHECK_SETUP.format(question=first_question or "<question>")
    if stand_ins:
        assignments = "\n".join(f"{_bound_name(name)} = _SiblingModule({name!r})"
                                for name in stand_ins)
        text += SIBLING_TEMPLATE.format(assignments=assignments)
    if library:
        modules = ", ".join(repr(m[len(LIBRARY_PREFIX):]) for m in closure)
        lines = []
        for module, name in library:
            attribute = f"_library.{module[len(LIBRARY_PREFIX):]}"
            lines.append(f"{_bound_name(module)} = {attribute}" if name is None
                         else f"{name} = {attribute}.{name}")
        text += LIBRARY_TEMPLATE.format(modules=modules, assignments="\n".join(lines))
    return text.rstrip("\n")


def dependency_order(sources: Mapping[str, str], known: set[str] | None = None,
                     exports: Mapping[str, str] | None = None) -> list[str]:
    """Modules ordered so each comes after the modules it imports; ties alphabetical
    (``known``, ``exports``: as for :func:`module_dependencies`)."""
    deps = module_dependencies(sources, known, exports)
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(deps):
        ready = sorted(m for m in deps if m not in done and all(d in done for d in deps[m]))
        if not ready:
            cycle = sorted(m for m in deps if m not in done)
            raise NotebookError(
                f"the modules {', '.join(cycle)} import each other in a cycle; a notebook needs "
                "an order in which every module comes after those it imports."
            )
        order.append(ready[0])
        done.add(ready[0])
    return order


#: a question in a module: its solution marker, or the stub that replaced it
_QUESTION_IN_SOURCE_RE = re.compile(
    r"### BEGIN SOLUTION (?P<marker>[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?)"
    r"|NotImplementedError\(\s*[\"'](?P<stub>[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?): not "
    r"implemented yet"
)


def module_questions(source: str) -> list[str]:
    """The question ids a module holds, in file order (solution markers or their stubs)."""
    found: list[str] = []
    for match in _QUESTION_IN_SOURCE_RE.finditer(source):
        question = match.group("marker") or match.group("stub")
        if question not in found:
            found.append(question)
    return found


def bare_question(question: str) -> str:
    """A question id without its topic: ``affine`` for a library marker's
    ``topic.affine``."""
    return question.rsplit(".", 1)[-1]


def registered_questions(topic: str) -> list[str] | None:
    """The question ids of the registered exercise ``topic``, in the order its instructions
    present them; ``None`` when no such exercise is registered (or it names no questions)."""
    try:
        if topic not in exercise_names():
            return None
        questions = list(get_exercise(topic).questions)
    except Exception:  # noqa: BLE001 - the order is a nicety; generation must not depend on it
        return None
    return questions or None


def question_order(sources: Mapping[str, str], questions: Sequence[str] | None,
                   known: set[str] | None = None,
                   exports: Mapping[str, str] | None = None) -> list[str]:
    """Modules in the order of their first question in ``questions`` (modules without one, or
    whose questions are not listed, last), each after the modules it imports; ties alphabetical.
    A library module's question ``topic.affine`` counts as ``affine``. Without ``questions``:
    :func:`dependency_order` (``known``, ``exports``: as for :func:`module_dependencies`)."""
    if not questions:
        return dependency_order(sources, known, exports)
    rank = {q: i for i, q in enumerate(questions)}
    key = {m: (min((rank[q] for q in map(bare_question, module_questions(src)) if q in rank),
                   default=len(rank)), m)
           for m, src in sources.items()}
    deps = module_dependencies(sources, known, exports)
    dependency_order(sources, known, exports)  # a cycle is the same clear error
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(deps):
        ready = [m for m in deps if m not in done and all(d in done for d in deps[m])]
        # the earliest question first, unless a module it needs must come before it
        wanted = min((m for m in deps if m not in done), key=key.__getitem__)
        chosen = wanted if wanted in ready else _first_needed(wanted, deps, done, key)
        order.append(chosen)
        done.add(chosen)
    return order


def _first_needed(module: str, deps: Mapping[str, list[str]], done: set[str],
                  key: Mapping[str, tuple[int, str]]) -> str:
    """A module ``module`` (transitively) imports that can come now: the earliest by ``key``."""
    seen: set[str] = set()
    stack = [module]
    candidates: list[str] = []
    while stack:
        current = stack.pop()
        if current in seen or current in done:
            continue
        seen.add(current)
        pending = [d for d in deps[current] if d not in done]
        if not pending:
            candidates.append(current)
        stack.extend(pending)
    return min(candidates, key=key.__getitem__)


def split_module(source: str, module: str, modules: set[str],
                 exports: Mapping[str, str] | None = None) -> tuple[str, list[str], list[int]]:
    """``(cell_source, imports, lines)``: the source without its relative imports, the removed
    statements' text and the 1-based lines where they started in the module (``exports``: as
    for :func:`module_dependencies`)."""
    lines = split_lines(source)
    imports: list[str] = []
    starts: list[int] = []
    drop: set[int] = set()
    for node in _relative_imports(source, module, modules, exports):
        end = node.end_lineno or node.lineno
        imports.append("".join(lines[node.lineno - 1 : end]).rstrip("\r\n"))
        starts.append(node.lineno)
        drop.update(range(node.lineno - 1, end))
    kept = "".join(line for i, line in enumerate(lines) if i not in drop)
    if kept.endswith("\n"):
        kept = kept[:-1]
    return kept, imports, starts


def _first_paragraph(source: str) -> str:
    """The first paragraph of a module's docstring, joined onto one line ('' if none)."""
    try:
        doc = ast.get_docstring(ast.parse(source))
    except SyntaxError:
        return ""
    if not doc:
        return ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def _cell(
    kind: str, cell_id: str, source: str, metadata: dict[str, Any] | None = None
) -> NotebookNode:
    """A v4 cell with a fixed id (nbformat would otherwise draw a random one)."""
    import nbformat  # deferred: nbformat and jsonschema cost every `grade` 0.3 s to import
    if kind == "markdown":
        cell = nbformat.v4.new_markdown_cell(source)
    else:
        cell = nbformat.v4.new_code_cell(source)
    cell.id = cell_id[:64]
    if metadata:
        cell.metadata.update(metadata)
    return cell


def library_cells(topic: str, library: Mapping[str, str]) -> dict[str, str]:
    """``{library.<module>: source}`` for the course library modules (``{module: source}``)
    that hold questions of ``topic`` (markers ``### BEGIN SOLUTION topic.q`` or their stubs):
    they get a cell in the topic's notebook. A library module holding questions of several
    topics is a :class:`NotebookError`: its code would be in two notebooks, and grading one
    would rebuild the module from that notebook's cell without the other topic's work."""
    cells: dict[str, str] = {}
    for module, source in sorted(library.items()):
        topics = sorted({q.split(".")[0] for q in module_questions(source) if "." in q})
        if len(topics) > 1:
            raise NotebookError(
                f"{module_file(LIBRARY_PREFIX + module)} holds questions of the topics "
                f"{', '.join(topics)}; a library module belongs to one topic's notebook, so "
                "split it into one module per topic.")
        if topics == [topic]:
            cells[LIBRARY_PREFIX + module] = source
    return cells


def notebook_from_sources(
    topic: str, modules: Mapping[str, str], readme: str | None,
    questions: Sequence[str] | None = None, library: Mapping[str, str] | None = None,
) -> NotebookNode:
    """The topic notebook for module sources ``{module: source}`` and README text. Module cells
    follow ``questions`` (default: the registered exercise's question order, see
    :func:`question_order`). ``library``: the course library's modules ``{module: source}``;
    those holding questions of the topic get cells too (:func:`library_cells`), the others
    the topic imports are bound by the set-up cell (:func:`library_bindings`)."""
    if questions is None:
        questions = registered_questions(topic)
    library = dict(library or {})
    sources = {**modules, **library_cells(topic, library)}
    known = set(sources) | {LIBRARY_PREFIX + m for m in library}
    exports = library_exports(library)
    order = question_order(sources, questions, known, exports)
    in_modules = [bare_question(q) for m in order for q in module_questions(sources[m])]
    first = next((q for q in questions or () if q in in_modules), None) or next(
        iter(in_modules), None)
    check_shared_namespace(sources)
    stand_ins = module_imports(sources, known, exports)
    bindings = library_bindings(sources, known, exports)
    closure = library_closure(sources, library)
    on_library = bool(closure) or any(m.startswith(LIBRARY_PREFIX) for m in sources)
    cells = [
        _cell("markdown", "readme", (readme or f"# {topic}\n").rstrip("\n")),
        _cell("markdown", "nlpdojo-howto", howto_source(topic, first, library=on_library)),
    ]
    cells.append(_cell("code", "nlpdojo-setup", setup_source(stand_ins, first, bindings,
                                                              closure)))
    for module in order:
        source = sources[module]
        paragraph = _first_paragraph(source)
        heading = f"## `{module_file(module)}`" + (f"\n\n{paragraph}" if paragraph else "")
        slug = module.replace(".", "-")
        cells.append(_cell("markdown", f"doc-{slug}", heading))
        cell_source, imports, starts = split_module(source, module, known, exports)
        meta = {
            META_KEY: {"module": module, "imports": imports, "lines": starts},
            "tags": [f"{TAG_PREFIX}{module}"],
        }
        cells.append(_cell("code", f"code-{slug}", cell_source, meta))
    import nbformat

    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"},
            META_KEY: {"topic": topic, "modules": order, "generated_by": "dojo release"},
        }
    )
    return nb


def topic_modules(topic_dir: Path, *, stub: bool = True) -> dict[str, str]:
    """``{module: source}`` for the topic's top-level modules (not ``__init__``), stubbed or not."""
    sources: dict[str, str] = {}
    for path in sorted(topic_dir.glob("*.py")):
        if path.name == "__init__.py":
            continue
        text = path.read_bytes().decode("utf-8")
        sources[path.stem] = strip_solutions(text, path) if stub else text
    return sources


def notebook_modules(topic_dir: str | Path, *, stub: bool = True) -> dict[str, str]:
    """``{module: source}`` of the modules a topic's notebook holds, as :func:`extract_notebook`
    returns them: the topic's, and ``library.<module>`` for each module of the sibling course
    library that holds questions of the topic."""
    root = Path(topic_dir)
    library = root.parent / LIBRARY
    own = library_cells(root.name, topic_modules(library, stub=stub)) \
        if (library / "__init__.py").is_file() and root.name != LIBRARY else {}
    return {**topic_modules(root, stub=stub), **own}


def build_notebook(topic_dir: str | Path, *, stub: bool = True) -> NotebookNode:
    """The notebook for a topic folder: stubbed (student) or with the solutions (``stub=False``);
    the course library next to it (``<topic_dir>/../library``), if any, stubbed the same way."""
    root = Path(topic_dir)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else None
    library = root.parent / LIBRARY
    sources = topic_modules(library, stub=stub) \
        if (library / "__init__.py").is_file() and root.name != LIBRARY else None
    return notebook_from_sources(root.name, topic_modules(root, stub=stub), text,
                                 library=sources)


def dumps(nb: NotebookNode) -> str:
    """Stable JSON text for a notebook (sorted keys, one-space indent, final newline)."""
    import nbformat
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


# --------------------------------------------------------------------------- extraction


def _load(path: Path) -> NotebookNode:
    """Read and validate a notebook file as nbformat v4."""
    import nbformat
    from nbformat.v4.rwbase import rejoin_lines
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise NotebookError(f"{path}: cannot read the notebook ({exc}).") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotebookError(
            f"{path}: not a notebook, the file is not valid JSON ({exc}); save it again from "
            "Jupyter or start from a fresh copy of the released notebook."
        ) from exc
    except (RecursionError, MemoryError) as exc:  # '[' * 200,000: no notebook, a hazard
        raise NotebookError(
            f"{path}: not a notebook, its JSON is nested too deeply to read "
            f"({type(exc).__name__}); start from a fresh copy of the released notebook."
        ) from exc
    if not isinstance(data, dict) or data.get("nbformat") != 4:
        found = data.get("nbformat") if isinstance(data, dict) else type(data).__name__
        raise NotebookError(
            f"{path}: not an nbformat v4 notebook (nbformat = {found!r}); save it from a current "
            "Jupyter or start from a fresh copy of the released notebook."
        )
    nb = nbformat.from_dict(data)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
        raise NotebookError(f"{path}: invalid nbformat v4 notebook: {first}") from exc
    return rejoin_lines(nb)


def notebook_topic(nb: NotebookNode, path: Path) -> tuple[str, list[str]]:
    """``(topic, modules)`` from the notebook metadata written at release."""
    meta = nb.metadata.get(META_KEY)
    modules = meta.get("modules") if isinstance(meta, dict) else None
    topic = meta.get("topic") if isinstance(meta, dict) else None
    if not isinstance(topic, str) or not isinstance(modules, list):
        raise NotebookError(
            f"{path}: the notebook metadata has no 'nlpdojo' section naming its topic and modules; "
            "it was not generated by `dojo release` or the metadata was edited. Copy your code "
            "into a fresh copy of the released notebook."
        )
    bad = [repr(m) for m in [topic] if not topic.isidentifier()]
    bad += [repr(m) for m in modules if not is_module_name(m)]
    if bad:
        raise NotebookError(
            f"{path}: the notebook metadata names {', '.join(bad[:3])}, which is not a plain "
            "module name (letters, digits and underscores, or library.<module>; no paths); copy "
            "your code into a fresh copy of the released notebook."
        )
    return topic, [str(m) for m in modules]


def _tagged_cells(
    nb: NotebookNode, path: Path, expected: list[str]
) -> dict[str, tuple[int, NotebookNode]]:
    """``{module: (cell number, cell)}``; duplicated, missing or misplaced tags raise."""
    found: dict[str, tuple[int, NotebookNode]] = {}
    for number, cell in enumerate(nb.cells, start=1):
        tags = [
            t for t in cell.get("metadata", {}).get("tags", []) if str(t).startswith(TAG_PREFIX)
        ]
        if not tags:
            continue
        if len(tags) > 1:
            raise NotebookError(f"{path}: cell {number} has several module tags {tags}; keep one.")
        module = tags[0][len(TAG_PREFIX) :]
        if cell.cell_type != "code":
            raise NotebookError(
                f"{path}: cell {number} (tag {tags[0]}) is a {cell.cell_type} cell; module cells "
                "must be code cells."
            )
        if module not in expected:
            raise NotebookError(
                f"{path}: cell {number} is tagged {tags[0]}, but the topic's modules are "
                f"{', '.join(expected)}; remove that tag."
            )
        if module in found:
            raise NotebookError(
                f"{path}: module {module!r} appears in two tagged cells ({found[module][0]} and "
                f"{number}); keep your code in one cell and delete the tag from the other."
            )
        found[module] = (number, cell)
    missing = [m for m in expected if m not in found]
    if missing:
        raise NotebookError(
            f"{path}: no cell tagged {', '.join(TAG_PREFIX + m for m in missing)}; each module "
            "needs its tagged code cell (copy it from a fresh copy of the released notebook)."
        )
    return found


def _is_docstring(node: ast.stmt, index: int) -> bool:
    return (index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _leading_end(tree: ast.Module, keep: Callable[[ast.stmt], bool]) -> int:
    """Last line of the leading docstring and the statements ``keep`` accepts (0 if none)."""
    end = 0
    for index, node in enumerate(tree.body):
        if not (_is_docstring(node, index) or keep(node)):
            break
        end = node.end_lineno or node.lineno
    return end


def _prelude_end(tree: ast.Module) -> int:
    """Last line of the docstring and ``from __future__`` imports at the top (0 if none)."""
    return _leading_end(tree, lambda n: isinstance(n, ast.ImportFrom) and n.module == "__future__")


def _header_end(tree: ast.Module) -> int:
    """Last line of the leading docstring and imports (0 if the module starts with code)."""
    return _leading_end(tree, lambda n: isinstance(n, ast.Import | ast.ImportFrom))


def _insert(lines: list[str], imports: list[str], starts: list[int]) -> list[str] | None:
    """Put the imports back at their recorded lines; ``None`` when that no longer fits."""
    out = list(lines)
    for text, start in zip(imports, starts, strict=True):
        if not 1 <= start <= len(out) + 1:
            return None
        out[start - 1 : start - 1] = split_lines(text + "\n")
    try:
        tree = ast.parse("".join(out))
    except SyntaxError:
        return None
    top = {n.lineno for n in tree.body if isinstance(n, ast.ImportFrom) and n.level > 0}
    header_end = _header_end(tree)
    return out if all(start in top and start <= header_end for start in starts) else None


def restore_imports(cell_source: str, imports: list[str], starts: list[int]) -> str:
    """A cell's source as a module again: final newline and the relative imports put back
    where they were, or after the docstring/``__future__`` imports if the cell's top changed."""
    lines = split_lines(cell_source + "\n")
    if not imports:
        return "".join(lines)
    restored = _insert(lines, imports, starts) if len(starts) == len(imports) else None
    if restored is None:
        at = _prelude_end(ast.parse("".join(lines)))
        block = [line for text in imports for line in split_lines(text + "\n")]
        restored = lines[:at] + block + lines[at:]
    return "".join(restored)


def _one_relative_import(text: str) -> bool:
    """Whether ``text`` is one statement, ``from .module import ...`` (a relative import)."""
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):
        return False
    return len(body) == 1 and isinstance(body[0], ast.ImportFrom) and body[0].level > 0


def _cell_imports(cell: NotebookNode, number: int, path: Path) -> tuple[list[str], list[int]]:
    """The relative imports recorded in a module cell's metadata."""
    meta = cell.metadata.get(META_KEY, {})
    imports = meta.get("imports", []) if isinstance(meta, dict) else []
    starts = meta.get("lines", []) if isinstance(meta, dict) else []
    if not (isinstance(imports, list) and all(isinstance(i, str) for i in imports)):
        raise NotebookError(
            f"{path}: cell {number}: metadata 'nlpdojo.imports' must be a list of strings."
        )
    for text in imports:  # each one relative import, as the release wrote it: any text was
        # put into the graded module, code no cell shows (an adversarial trial: 1.5 points
        # from a cell holding a docstring alone)
        if not _one_relative_import(text):
            raise NotebookError(
                f"{path}: cell {number}: metadata 'nlpdojo.imports' holds {text[:80]!r}, which "
                "is not one relative import (`from .module import name`), all the release "
                "records there; take the cell's metadata from the released notebook.")
    if not (isinstance(starts, list) and all(isinstance(s, int) for s in starts)):
        starts = []
    return list(imports), list(starts)


def read_notebook(path: str | Path, *, strict: bool = True) -> tuple[str, dict[str, str]]:
    """``(topic, {module: source})`` from a student's notebook (see :func:`extract_notebook`).

    With ``strict=False`` a module cell with a syntax error does not stop the reading: its
    module becomes one that raises that ``SyntaxError`` (cell, line, column) when imported, so
    grading loses only the checks that need it, as for a ``.py`` submission.
    """
    nb_path = Path(path)
    nb = _load(nb_path)
    topic, expected = notebook_topic(nb, nb_path)
    cells = _tagged_cells(nb, nb_path, expected)
    sources: dict[str, str] = {}
    for module in expected:
        number, cell = cells[module]
        source = cell.source
        try:
            ast.parse(source)
        except (SyntaxError, RecursionError, MemoryError) as exc:
            if isinstance(exc, SyntaxError):
                col = f", column {exc.offset}" if exc.offset else ""
                message = (f"cell {number} (module {module}), line {exc.lineno}{col}: "
                           f"{exc.msg}. Module cells must be plain Python (no %magics or "
                           "!shell lines).")
            else:  # 100,000 unary minuses: Python's parser gives up, and so would import
                message = (f"cell {number} (module {module}): too deeply nested for Python's "
                           f"parser ({type(exc).__name__}); write it as plain code")
            if strict:
                raise NotebookError(f"{nb_path}: {message}") from exc
            sources[module] = f"raise SyntaxError({message!r})\n"
            continue
        imports, starts = _cell_imports(cell, number, nb_path)
        sources[module] = restore_imports(source, imports, starts)
    return topic, sources


def extract_notebook(path: str | Path) -> dict[str, str]:
    """``{module: source}`` rebuilt from the tagged cells of a student's notebook.

    Raises :class:`NotebookError` for a file that is not JSON or not a valid nbformat v4
    notebook, a missing or duplicated module cell, or a module cell with a syntax error (line
    numbers relative to the cell).
    """
    return read_notebook(path)[1]


def _skip(path: Path, root: Path) -> bool:
    """Caches, hidden files and notebooks are not part of a materialized package."""
    parts = path.relative_to(root).parts
    return any(p == "__pycache__" or p.startswith(".") for p in parts) or path.suffix in {
        ".pyc",
        ".ipynb",
    }


def uses_library(sources: Mapping[str, str]) -> bool:
    """Whether modules (``{module: source}``, as :func:`extract_notebook` returns them) hold
    course library modules or import the library (``from ..library.layers import Linear``)."""
    for module, source in sources.items():
        if module.startswith(LIBRARY_PREFIX):
            return True
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        if any(isinstance(n, ast.ImportFrom) and n.level == 2
               and (n.module or "").split(".")[0] == LIBRARY for n in ast.walk(tree)):
            return True
    return False


def copy_files(src_dir: Path, dest_dir: Path) -> None:
    """The files of ``src_dir`` (caches, hidden files and notebooks left out) into ``dest_dir``.

    ``src_dir`` is a snapshot or a release the grader wrote (:mod:`nlpdojo_autograder.
    notebook_submission`), which hold regular files only: a link, a pipe or a device here is
    refused, never followed or read (reading ``/dev/zero`` would fill the disk)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    for src in sorted(src_dir.rglob("*")):
        if _skip(src, src_dir):
            continue
        mode = src.lstat().st_mode
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode):
            raise NotebookError(f"{src} is not a regular file (a link, pipe or device): a "
                                "notebook is materialised from a snapshot of the released "
                                "folder only; remove it")
        dest = dest_dir / src.relative_to(src_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest, follow_symlinks=False)


def materialize_notebook(path: str | Path, out_dir: str | Path, template_dir: str | Path,
                         library_dir: str | Path | None = None) -> Path:
    """Write the notebook's topic as a package folder ``out_dir`` the grader can import.

    Files come from ``template_dir`` (the released ``exercises/<topic>``: ``__init__.py``, data,
    modules without a cell), then each tagged cell overwrites its module. A notebook built on
    the course library also gets the library next to ``out_dir`` (``out_dir/../library``, where
    the grader's loader looks for it): the files of ``library_dir`` (the released
    ``exercises/library``), then each ``library.<module>`` cell overwrites its module; without
    ``library_dir`` that is a :class:`NotebookError`. Returns ``out_dir``.

    ``grade`` passes a private copy of the notebook and, as templates, the release it made from
    the installed reference or snapshots of the released folders
    (:mod:`.notebook_submission`): never live folders, whose links and odd
    files would be copied before any refusal ran.
    """
    topic, sources = read_notebook(path, strict=False)
    template = Path(template_dir)
    if not (template / "__init__.py").is_file():
        raise NotebookError(f"{template}: not a released topic folder (no __init__.py).")
    if template.name != topic:
        raise NotebookError(
            f"{path}: the notebook belongs to topic {topic!r}, not {template.name!r}; submit it "
            f"for {topic!r}."
        )
    library = Path(library_dir) if library_dir is not None else None
    if uses_library(sources) and (library is None or not (library / "__init__.py").is_file()):
        where = f" ({library} is not the course library: no __init__.py)" if library else ""
        raise NotebookError(
            f"{path}: this notebook builds on the course library, and grading it needs your "
            f"library/ folder next to its topic folder{where}; grade it where it was released, "
            f"in exercises/{topic}/ next to exercises/library/."
        )
    out = Path(out_dir)
    files = {m: _module_path(m, template, library) for m in sources}
    unknown = [m for m, file in files.items() if file is None or not file.is_file()]
    if unknown:
        raise NotebookError(
            f"{path}: modules {', '.join(unknown)} are not part of the released topic {topic!r} "
            "or its course library; start from a fresh copy of the released notebook."
        )
    copy_files(template, out)
    if library is not None and uses_library(sources):
        copy_files(library, out.parent / LIBRARY)
    for module, source in sources.items():
        dest = _module_path(module, out, out.parent / LIBRARY)
        if dest is None:  # never a path out of ``out`` (checked on reading too)
            raise NotebookError(f"{path}: {module!r} is not a module name")
        dest.write_bytes(source.encode("utf-8"))
    return out


def _module_path(module: str, topic_dir: Path, library_dir: Path | None) -> Path | None:
    """The file of a notebook module: ``topic_dir/softmax.py``, ``library_dir/layers.py``;
    ``None`` for a name that is no module's (or a library module without ``library_dir``)."""
    if not is_module_name(module):
        return None
    if module.startswith(LIBRARY_PREFIX):
        return library_dir / f"{module[len(LIBRARY_PREFIX):]}.py" if library_dir else None
    return topic_dir / f"{module}.py"


# --------------------------------------------------------------------------- cells of a module


@dataclass(frozen=True)
class ModuleCell:
    """Where a module of a graded notebook came from: its tagged cell's number (1-based, as
    Jupyter shows the notebook top to bottom), the cell's first non-blank line, and for each
    line of the rebuilt module the cell line it came from (``None``: a restored import)."""

    module: str
    number: int
    first_line: str
    lines: tuple[int | None, ...]

    def label(self) -> str:
        """``cell 5 (`def softmax(x):`)``: the number and the first line, as a student finds it."""
        first = self.first_line if len(self.first_line) <= 40 else self.first_line[:39] + "…"
        return f"cell {self.number} (`{first}`)" if first else f"cell {self.number}"

    def cell_line(self, module_line: int) -> int | None:
        """The cell line of the module's line ``module_line`` (``None``: not from the cell)."""
        if 1 <= module_line <= len(self.lines):
            return self.lines[module_line - 1]
        return None


@dataclass(frozen=True)
class NotebookLayout:
    """What grading feedback needs to speak of a notebook's cells instead of the modules
    rebuilt from them: the module cells (:class:`ModuleCell`) and, for each name that cells
    outside the graded ones define at top level, where: ``"cell 7"``, or ``"In [12]"`` for code
    run in the kernel (:func:`nlpdojo.notebook.check`) that no cell of the saved notebook
    holds."""

    modules: dict[str, ModuleCell]
    elsewhere: dict[str, list[str]]


def _line_map(cell_source: str, module_source: str) -> tuple[int | None, ...]:
    """For each module line, the cell line it is (the cell's lines appear in order; the
    restored imports are the only additions)."""
    cell = split_lines(cell_source + "\n")
    module = split_lines(module_source)
    found: list[int | None] = [None] * len(module)
    matcher = difflib.SequenceMatcher(None, cell, module, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            found[block.b + k] = block.a + k + 1
    return tuple(found)


def _first_line(source: str) -> str:
    return next((line.strip() for line in source.splitlines() if line.strip()), "")


def defined_names(source: str) -> set[str]:
    """Names a cell of code defines at top level; IPython's ``%magic`` and ``!shell`` lines are
    left out, and a cell that is not Python defines nothing."""
    kept = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())
    try:
        return _top_level_names(kept)
    except (SyntaxError, ValueError):
        return set()


#: where :func:`nlpdojo.notebook.check` records, in the notebook it grades, code run in the
#: kernel that no saved cell holds: ``[{"execution_count": 12, "source": "..."}]``
HISTORY_KEY = "kernel_history"


def notebook_layout(path: str | Path) -> NotebookLayout:
    """The :class:`NotebookLayout` of a notebook that :func:`read_notebook` accepts."""
    nb_path = Path(path)
    nb = _load(nb_path)
    _, expected = notebook_topic(nb, nb_path)
    cells = _tagged_cells(nb, nb_path, expected)
    modules: dict[str, ModuleCell] = {}
    for module, (number, cell) in cells.items():
        try:
            imports, starts = _cell_imports(cell, number, nb_path)
            rebuilt = restore_imports(cell.source, imports, starts)
        except (NotebookError, SyntaxError):
            rebuilt = cell.source + "\n"
        modules[module] = ModuleCell(module, number, _first_line(cell.source),
                                     _line_map(cell.source, rebuilt))
    tagged = {number for number, _ in cells.values()}
    elsewhere: dict[str, list[str]] = {}
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code" and number not in tagged:
            for name in defined_names(cell.source):
                elsewhere.setdefault(name, []).append(f"cell {number}")
    meta = nb.metadata.get(META_KEY, {})
    history = meta.get(HISTORY_KEY, []) if isinstance(meta, dict) else []
    for entry in history if isinstance(history, list) else []:
        if not (isinstance(entry, dict) and isinstance(entry.get("source"), str)):
            continue
        count = entry.get("execution_count")
        for name in defined_names(entry["source"]):
            if name not in elsewhere:
                elsewhere[name] = [f"In [{count}]" if isinstance(count, int) else "the kernel"]
    return NotebookLayout(modules, elsewhere)
