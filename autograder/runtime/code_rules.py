"""What graded code may not write: the rules the grader reads in a submission's source before
any of it runs.

Some of the grader's rules run in the process of the code they judge: the line counter behind
the rules against Python loops and against a backward by differences (``probes``), the
swap-in proxies, the import blockers. Code in that process can reach them through the
interpreter's reflection: switch off its own frame's line events
(``sys._getframe().f_trace_lines = False``), start a thread the tracer does not see
(``_thread``, ``ctypes``, a sub-interpreter), or replace the counting function itself
(``sys.modules[...]``). No guard in the process can stop code that runs there, so the grader
reads the source first, in its own process, and refuses a module that reaches for those tools
(docs/security.md, "The line counter..."):

- **imports**: the submission's own modules, :data:`ALLOWED_IMPORTS` (computing, text,
  plotting; of the framework only :data:`FRAMEWORK_ALLOWED`) and ``sys`` for
  :data:`SYS_ALLOWED` only (``sys.stdout``, ``sys.float_info``...: any other use of ``sys``,
  or passing it on, is refused); no private module or name (``_thread``, ``numpy._core``,
  ``from collections import _sys``) but the submission's own, no ``import *``. Not the
  interpreter's reflection (``inspect``, ``gc``), ways to load code from strings or data
  (``importlib``, ``pickle``, ``pydoc``, ``unittest.mock``), native code (``ctypes``), the
  grader's packages, or a module written at run time (the worker also starts with
  ``python -P``: its folder is not on the path);
- **names** that run or reach code by a string: :data:`REFUSED_NAMES` (``exec``, ``eval``,
  ``compile``, ``globals``, ``vars``, ``__import__``...), and ``getattr``, ``setattr`` and
  ``delattr`` other than called with a literal attribute name (checked as an attribute);
- **attributes** that reach frames, code objects, tracing and native code
  (:data:`REFUSED_ATTRIBUTES`: ``f_trace_lines``, ``f_back``, ``gi_frame``, ``settrace``,
  ``ctypeslib``...), every double-underscore attribute but :data:`DUNDERS_ALLOWED`
  (``__init__``, ``__name__``, ``__class__``...: not ``__globals__``, ``__code__``,
  ``__dict__``; none assigned, ``__class__`` included), modules reached as another module's
  attribute (``typing.sys``, ``enum.bltns``, ``typing.types``), and private attributes but
  those a method reads on its own ``self`` or ``cls`` that its module defines
  (``collections._sys`` is refused, and so is ``self`` rebound);
- **calls**: ``torch.compile`` and ``torch.jit`` (a function's Python run as a graph, never
  line by line); :data:`CALLED_ONLY` functions other than called directly by their own name
  (``update_wrapper``, ``wraps``, ``load``, ``reexport``: not aliased, not handed on, no
  ``**`` keywords), within :data:`POSITIONAL_LIMITS`, ``reexport`` only as
  ``reexport(__name__)``; the keywords that unpickle (and so run) data, ``allow_pickle=``
  (NumPy) and ``weights_only=`` (torch), or copy attributes by name (``assigned=``);
  ``Formatter().get_field`` (an attribute path in a string), ``singledispatch`` and
  ``get_type_hints`` (they evaluate annotations); and a string that is the name of a refused
  attribute (``"__code__"``).

An annotation written as a string is read as code (``typing.get_type_hints`` and
``functools.singledispatch`` evaluate it). The course's code needs none of this: no reference
solution, stub or given module breaks a rule (``dojo release`` checks them all).

What reading names cannot see (a builtin reached under a name the rules do not know) the worker
refuses where it happens (:mod:`.reflection`: the interpreter's audit events, raised by the
submission's own frames), and a grader module reached anyway cannot be changed
(:mod:`.frozen`). A refused module is never imported: the checks that need it fail with the
rule's message (its file and line), the others run. Where the grader runs without the rules
(``NLPDOJO_CODE_RULES=off``: the hostile-submission suite, to test the defences behind them)
its result says so.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nlpdojo_autograder.runtime.subject import DIFFERENTIATION_ENGINES

#: the environment variable that turns the rules off (for the grader's own tests)
ENV = "NLPDOJO_CODE_RULES"

#: the modules graded code may import (their submodules too), besides its own and ``sys``
#: (for :data:`SYS_ALLOWED`): computing, text and plotting, and the course's framework. Not
#: the interpreter's reflection and debugging (``inspect``, ``gc``, ``traceback``), ways to
#: load code from strings or data (``importlib``, ``pickle``, ``pydoc.locate``,
#: ``unittest.mock``), native code (``ctypes``), nor any private module (``_thread``)
ALLOWED_IMPORTS = frozenset({
    "__future__", "abc", "array", "base64", "bisect", "calendar", "cmath", "collections",
    "colorsys", "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "enum",
    "fractions", "functools", "glob", "gzip", "hashlib", "heapq", "io", "itertools", "json",
    "math", "numbers", "operator", "os", "pathlib", "pprint", "queue", "random", "re",
    "statistics", "string", "struct", "textwrap", "threading", "time", "typing",
    "unicodedata", "warnings", "zlib",
    "numpy", "scipy", "matplotlib", "tqdm", "array_api_compat", "nlpdojo",
    # refused in the worker with their own message (they would differentiate for you)
    *(name.split(".")[0] for name in DIFFERENTIATION_ENGINES),
})
#: the framework's modules graded code may import (not its plugin registry, data downloads,
#: notebook tools or command line)
FRAMEWORK_ALLOWED = frozenset({"backend", "module", "optim", "loss", "text", "exports",
                               "arrays", "errors"})
#: functions refused unless called directly (not aliased, not handed on, no ``**`` keywords):
#: their arguments decide whether they reach code or attributes by name
CALLED_ONLY = frozenset({"update_wrapper", "wraps", "reexport", "load"})
#: what graded code may read of ``sys``
SYS_ALLOWED = frozenset({
    "stdout", "stderr", "exit", "float_info", "int_info", "maxsize", "byteorder", "version",
    "version_info", "platform", "getsizeof", "float_repr_style", "hash_info",
})
#: names that run code given as a string, or reach a namespace by one
REFUSED_NAMES = frozenset({
    "exec", "eval", "compile", "__import__", "globals", "vars", "locals", "breakpoint",
    "__builtins__", "__loader__", "__spec__",
})
#: attributes that reach frames, code objects, tracing, module tables and native code
REFUSED_ATTRIBUTES = frozenset({
    # frames, tracebacks, generators' and coroutines' frames and code
    "f_back", "f_builtins", "f_code", "f_globals", "f_lasti", "f_lineno", "f_locals",
    "f_trace", "f_trace_lines", "f_trace_opcodes", "gi_code", "gi_frame", "gi_yieldfrom",
    "cr_code", "cr_frame", "cr_await", "ag_code", "ag_frame", "ag_await", "tb_frame",
    "tb_next", "currentframe", "_getframe", "_current_frames",
    # tracing and profiling
    "settrace", "setprofile", "gettrace", "getprofile", "settrace_all_threads",
    "setprofile_all_threads", "monitoring", "addaudithook",
    # the import system
    "meta_path", "path_hooks", "path_importer_cache", "import_module",
    # code from strings, native code
    "get_type_hints", "ForwardRef", "attrgetter", "methodcaller", "ctypeslib", "ctypes",
    "load_library", "cpp_extension", "load_inline", "LowLevelCallable", "jit",
    # getattr by a format string, returning the object (``Formatter().get_field("0.x")``)
    "Formatter", "get_field", "get_value",
    # modules reached as another module's attribute (``typing.sys``, ``enum.bltns``,
    # ``typing.types``, ``matplotlib.cbook.traceback``): the interpreter's and ways to code
    "sys", "builtins", "bltns", "gc", "inspect", "importlib", "types", "traceback",
    "copyreg", "pickle", "marshal", "logging", "pydoc", "pkgutil", "unittest", "runpy",
    "codeop", "tracemalloc", "faulthandler", "dis", "site", "pluggy", "pkg_resources",
    "setuptools", "dictConfig", "fileConfig", "singledispatch", "singledispatchmethod",
    "NpzFile",
})
#: refused attributes that a string naming them is refused as well (not the module names)
NAMED_BY_STRING = REFUSED_ATTRIBUTES - {"sys", "builtins", "gc", "inspect", "importlib", "jit",
                                        "monitoring", "ctypes"}
#: double-underscore attributes graded code may use
DUNDERS_ALLOWED = frozenset({
    "__init__", "__name__", "__qualname__", "__class__", "__doc__", "__len__", "__call__",
    "__iter__", "__next__", "__getitem__", "__setitem__", "__contains__", "__repr__",
    "__str__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__",
    "__bool__", "__array__", "__array_namespace__", "__enter__", "__exit__", "__post_init__",
    "__version__", "__module__", "__neg__", "__add__", "__sub__", "__mul__", "__truediv__",
    "__matmul__", "__pow__", "__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__main__",
    "__all__",
})
#: keyword arguments that load pickles (which run code: NumPy's and torch's), or that make
#: ``functools.update_wrapper`` copy attributes named by strings (``__code__``) onto a function
REFUSED_KEYWORDS = frozenset({"allow_pickle", "weights_only", "assigned", "updated"})
#: calls refused with more positional arguments than this: ``np.load(f, None, True)`` (a
#: positional ``allow_pickle``), ``update_wrapper(f, g, ("__code__",))``, ``wraps(g, (...))``
POSITIONAL_LIMITS = {"load": 2, "update_wrapper": 2, "wraps": 1}
#: attributes of ``torch`` that compile a function's Python into a graph the interpreter
#: never runs line by line (``torch.compile``, ``torch.jit``)
TORCH_REFUSED = frozenset({"compile", "jit", "_dynamo"})

#: the allowed imports as feedback (and docs/grading.md) lists them: not the engines
SHOWN_IMPORTS = sorted(m for m in ALLOWED_IMPORTS if m != "__future__"
                       and m not in {n for n in DIFFERENTIATION_ENGINES if "." not in n})
#: what a computed attribute name is refused as (it could name any attribute above)
_COMPUTED = ("`{}` with an attribute name computed at run time (keep sub-layers and values "
             "in a list or a dict, self.cells = [...], rather than in attributes named at run "
             "time)")
_ADVICE = ("graded code may not reach the interpreter's frames, tracing, threads' internals, "
           "module tables or the grader's own code, nor run code from strings or data: the "
           "grader's rules run in your process. The course's code needs none of this: remove "
           "it")


@dataclass(frozen=True)
class Refusal:
    """One place a module breaks a rule."""

    file: str
    line: int
    what: str

    def message(self) -> str:
        return f"{self.file} line {self.line} uses {self.what}: {_ADVICE}"


def enabled() -> bool:
    """Whether the grader applies the rules (``NLPDOJO_CODE_RULES`` is not ``off``)."""
    return os.environ.get(ENV, "").strip().lower() not in ("off", "0", "no", "false")


def refusals(source: str, file: str, own_modules: Iterable[str] = ()) -> list[Refusal]:
    """Where ``source`` (the module ``file``) breaks the rules, in line order. ``own_modules``:
    the top-level names of modules the submission itself holds (an absolute import of one,
    as a notebook's code writes it, is allowed)."""
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError:
        return []  # the import reports it, with Python's own message
    reader = _Reader(file, frozenset(own_modules), _private_names(tree))
    reader.visit(tree)
    return sorted(reader.found, key=lambda r: r.line)


def refused_modules(course: Path, folders: Iterable[str]) -> dict[str, str]:
    """The modules of ``course/<folder>/`` (each of ``folders``: the topic's, the library's)
    that break the rules, as ``{"<folder>.<module>": message}`` (``<folder>`` alone for its
    ``__init__.py``); the message names the first place."""
    found: dict[str, str] = {}
    own = {p.stem for folder in folders for p in (course / folder).glob("*.py")} | set(folders)
    for folder in folders:
        for path in sorted((course / folder).glob("*.py")):
            try:
                source = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # the import reports it
            broken = refusals(source, f"{folder}/{path.name}", own)
            if broken:
                key = folder if path.stem == "__init__" else f"{folder}.{path.stem}"
                more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
                found[key] = broken[0].message() + more
    return found


def _private_names(tree: ast.AST) -> frozenset[str]:
    """The private names a module defines itself: its functions and methods, the names it
    assigns and the attributes it sets (``self._cache = ...``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            found.add(node.attr)
    return frozenset(n for n in found if n.startswith("_") and not _dunder(n))


class _Reader(ast.NodeVisitor):
    def __init__(self, file: str, own: frozenset[str], private: frozenset[str]) -> None:
        self.file, self.own, self.private = file, own, private
        self._in_class: list[bool] = []  # whether each scope being read is a class body
        self.found: list[Refusal] = []
        #: names bound to the ``sys`` and ``torch`` modules (``import sys as s``)
        self.sys_names: set[str] = set()
        self.torch_names: set[str] = set()
        self._allowed_sys: set[int] = set()  # ids of Name nodes read as sys.<allowed>
        self._called_funcs: set[int] = set()  # ids of the funcs of calls of CALLED_ONLY
        #: the first parameter of each function being read (``self``, ``cls``), innermost last
        self._firsts: list[str] = []

    def refuse(self, node: ast.AST, what: str) -> None:
        self.found.append(Refusal(self.file, getattr(node, "lineno", 0), what))

    # -- imports ----------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            if alias.name == "sys":
                self.sys_names.add(alias.asname or "sys")
            elif top == "torch" and (alias.asname is None or alias.name == "torch"):
                self.torch_names.add(alias.asname or "torch")
            self._check_module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, f"`from {'.' * node.level}{node.module or ''} import *` (name "
                                  "what you import)")
            elif alias.name.startswith("_") and not _dunder(alias.name) and not (
                    node.level or (node.module or "").split(".")[0] in self.own):
                self.refuse(node, f"`import {alias.name}` (a private name)")
            elif alias.name in CALLED_ONLY and alias.asname not in (None, alias.name):
                self.refuse(node, f"`{alias.name}` imported under another name")
        if node.level == 0 and node.module:
            self._check_module(node, node.module)
            if node.module == "nlpdojo":
                for alias in node.names:
                    self._check_module(node, f"nlpdojo.{alias.name}")
            for alias in node.names:
                if node.module == "sys" and alias.name not in SYS_ALLOWED:
                    self.refuse(node, f"`from sys import {alias.name}`")
                elif alias.name in REFUSED_ATTRIBUTES or alias.name in REFUSED_NAMES or (
                        _dunder(alias.name) and alias.name not in DUNDERS_ALLOWED) or (
                        node.module.split(".")[0] == "torch" and alias.name in TORCH_REFUSED):
                    self.refuse(node, f"`from {node.module} import {alias.name}`")
        self.generic_visit(node)

    def _check_module(self, node: ast.AST, name: str) -> None:
        top = name.split(".")[0]
        parts = name.split(".")
        if top == "nlpdojo" and (len(parts) < 2 or parts[1] not in FRAMEWORK_ALLOWED):
            if len(parts) > 1 or not isinstance(node, ast.ImportFrom):
                self.refuse(node, f"`import {name}` (graded code may use nlpdojo's "
                                  f"{', '.join(sorted(FRAMEWORK_ALLOWED))} modules)")
            return
        if name == "sys" or top in ALLOWED_IMPORTS or top in self.own:
            if any(part.startswith("_") for part in name.split(".")[1:]):
                self.refuse(node, f"`import {name}` (a private module)")
            return
        self.refuse(node, f"`import {name}` (graded code may import its own modules, sys for "
                          f"sys.stdout and the like, and {', '.join(SHOWN_IMPORTS)})")

    # -- names and attributes ---------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store) and node.id in ("self", "cls"):
            self.refuse(node, f"`{node.id}` assigned (it is the object a method is called on)")
            return
        if isinstance(node.ctx, ast.Store) and node.id not in REFUSED_NAMES:
            return  # a module's own ``__getattr__``, ``__all__``
        if node.id in CALLED_ONLY and id(node) not in self._called_funcs:
            self.refuse(node, f"`{node.id}` other than called directly")
        if node.id in REFUSED_NAMES or (_dunder(node.id) and node.id not in (
                "__name__", "__file__", "__doc__", "__all__", "__version__")):
            self.refuse(node, f"`{node.id}`")
        elif node.id in ("getattr", "setattr", "delattr"):
            self.refuse(node, _COMPUTED.format(node.id))
        elif node.id in self.sys_names and id(node) not in self._allowed_sys:
            self.refuse(node, f"`{node.id}` (sys) other than for "
                              f"{', '.join(sorted('sys.' + a for a in SYS_ALLOWED))}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = node.value
        if isinstance(base, ast.Name) and base.id in self.sys_names:
            if node.attr in SYS_ALLOWED:
                self._allowed_sys.add(id(base))
            else:
                self.refuse(node, f"`{base.id}.{node.attr}`")
                self._allowed_sys.add(id(base))  # said once
        elif isinstance(base, ast.Name) and base.id in self.torch_names and \
                node.attr in TORCH_REFUSED:
            self.refuse(node, f"`{base.id}.{node.attr}`")
        if node.attr in CALLED_ONLY and id(node) not in self._called_funcs:
            self.refuse(node, f"`.{node.attr}` other than called directly")
        if isinstance(node.ctx, ast.Store) and _dunder(node.attr):
            self.refuse(node, f"`.{node.attr}` assigned")
        self._check_attribute(node, node.attr, base)
        self.generic_visit(node)

    def _check_attribute(self, node: ast.AST, attr: str, base: ast.expr | None = None) -> None:
        if attr in REFUSED_ATTRIBUTES or (_dunder(attr) and attr not in DUNDERS_ALLOWED):
            self.refuse(node, f"`.{attr}`")
        elif attr.startswith("_") and not _dunder(attr) and not (
                self._own(base) and attr in self.private):
            self.refuse(node, f"`.{attr}` (a private attribute: a method may use those its "
                              "module defines, on self or cls)")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "delattr", "hasattr"):
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                self._check_attribute(node, name.value, node.args[0] if node.args else None)
            elif func.id != "hasattr":
                self.refuse(node, _COMPUTED.format(func.id))
            for arg in node.args:
                self.visit(arg)
            for keyword in node.keywords:
                self.visit(keyword)
            return
        if _called(func) == "reexport" and not (
                len(node.args) == 1 and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "__name__" and not node.keywords):
            self.refuse(node, "`reexport` of another package than this one (reexport("
                              "__name__) in a package's __init__.py)")
        if _called(func) in CALLED_ONLY:
            self._called_funcs.add(id(func))
            if any(keyword.arg is None for keyword in node.keywords):
                self.refuse(node, f"`{_called(func)}` with `**` keywords (name each)")
        limit = POSITIONAL_LIMITS.get(_called(func))
        if limit is not None and len(node.args) > limit:
            self.refuse(node, f"`{_called(func)}` with more than {limit} positional "
                              f"argument{'s' if limit > 1 else ''} (name the others)")
        for keyword in node.keywords:
            if keyword.arg in REFUSED_KEYWORDS:
                self.refuse(keyword, f"`{keyword.arg}=`")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        """A string that names a refused attribute (``"__code__"``, ``"f_back"``) is one way to
        reach it (``functools.update_wrapper``, ``operator.attrgetter``, ``getattr``)."""
        value = node.value
        if isinstance(value, str) and value.isidentifier() and (
                value in NAMED_BY_STRING or (_dunder(value) and value not in DUNDERS_ALLOWED)):
            self.refuse(node, f"the string {value!r} (the name of an attribute graded code may "
                              "not use)")

    # -- annotations written as strings -----------------------------------------------------
    def visit_arg(self, node: ast.arg) -> None:
        self._string_annotation(node.annotation)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._string_annotation(node.annotation)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._string_annotation(node.returns)
        positional = [*node.args.posonlyargs, *node.args.args]
        method = bool(self._in_class) and self._in_class[-1]
        self._firsts.append(positional[0].arg if positional and method else "")
        self._in_class.append(False)
        try:
            self.generic_visit(node)
        finally:
            self._firsts.pop()
            self._in_class.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._in_class.append(True)
        try:
            self.generic_visit(node)
        finally:
            self._in_class.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._firsts.append("")
        try:
            self.generic_visit(node)
        finally:
            self._firsts.pop()

    def _own(self, base: ast.expr | None) -> bool:
        """Whether ``base`` is the object the enclosing method is called on (its first
        parameter, ``self`` or ``cls``) or ``super()``: its private attributes are its
        class's own business."""
        if isinstance(base, ast.Name):
            return base.id in ("self", "cls") and bool(self._firsts) and \
                self._firsts[-1] == base.id
        return isinstance(base, ast.Call) and _called(base.func) == "super"

    visit_AsyncFunctionDef = visit_FunctionDef

    def _string_annotation(self, annotation: ast.expr | None) -> None:
        for node in _strings(annotation):
            try:
                parsed = ast.parse(node.value, mode="eval")
            except SyntaxError:
                continue
            for inner in ast.walk(parsed):
                ast.copy_location(inner, node)
            self.visit(parsed)


def _strings(annotation: ast.expr | None) -> Iterator[ast.Constant]:
    if annotation is None:
        return
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node


def _called(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else "")


def _dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")
