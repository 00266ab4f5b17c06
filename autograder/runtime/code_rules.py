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
  ``__dict__``; none assigned, ``__class__`` included), modules an imported module keeps as
  an attribute (``typing.sys``, ``enum.bltns``, ``typing.types``; ``self.types`` is the
  student's own), an imported module's attribute assigned (``os.sep = ...``: the grader's
  code in the worker shares it), and private names but those the submission defines
  (``collections._sys`` is refused; ``self._cache``, ``other._words``, ``Conv._im2col`` are
  the student's own), and ``self`` or ``cls`` rebound;
- **definitions**: double-underscore methods outside a list that libraries do not call with
  what they return (``__reduce_ex__``, ``__setstate__``: ``copy`` runs them), and the
  double-underscore names libraries read to find a module or paste into code they compile
  (``__module__``, ``__file__``, ``__annotations__``);
- **classes**: metaclasses, three-argument ``type(...)`` and ``make_dataclass`` (a namespace
  whose keys are computed can spell any method);
- **calls**: ``torch.compile`` and ``torch.jit`` (a function's Python run as a graph, never
  line by line); :data:`CALLED_ONLY` functions other than called directly by their own name
  (``wraps``, ``load``, ``reexport``: not aliased, not handed on, no ``**`` keywords),
  within :data:`POSITIONAL_LIMITS`, ``wraps`` only as a decorator, ``reexport`` only as
  ``reexport(__name__)``; ``update_wrapper`` (it writes an object's ``__dict__``); the
  keywords that unpickle (and so run) data, ``allow_pickle=`` (NumPy) and ``weights_only=``
  (torch), other than as the literal that refuses pickles;
  ``Formatter().get_field`` (an attribute path in a string), ``singledispatch`` and
  ``get_type_hints`` (they evaluate annotations), ``enum.global_enum``, a plotting backend
  other than by a name written out (``matplotlib.use("Agg")``, not ``module://...``); a
  string that names a frame's attribute or a refused double-underscore one (``"__code__"``);
  and a library's test helpers and build tools (``matplotlib.testing``, which holds a mock
  library, ``numpy.f2py``, which evaluates strings).

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
import hashlib
import io
import os
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpdojo_autograder.runtime import source_memo, subject
from nlpdojo_autograder.runtime.subject import COURSE_TOOLS, DIFFERENTIATION_ENGINES

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
    "logging", "numpy", "scipy", "matplotlib", "tqdm", "array_api_compat", "nlpdojo",
    # refused in the worker with their own message (they would differentiate for you)
    *(name.split(".")[0] for name in DIFFERENTIATION_ENGINES),
})
#: the framework's modules graded code may import (not its plugin registry, data downloads,
#: notebook tools or command line)
FRAMEWORK_ALLOWED = frozenset({"backend", "module", "optim", "loss", "text", "exports",
                               "arrays", "errors", "training"})
#: functions refused unless called directly (not aliased, not handed on, no ``**`` keywords):
#: their arguments decide whether they reach code or attributes by name
CALLED_ONLY = frozenset({"wraps", "reexport", "load"})
#: what graded code may read of ``sys``
SYS_ALLOWED = frozenset({
    "stdout", "stderr", "stdin", "exit", "argv", "exc_info", "executable",
    "getrecursionlimit", "float_info", "int_info", "maxsize", "byteorder", "version",
    "version_info", "platform", "getsizeof", "float_repr_style", "hash_info",
})
#: names that run code given as a string, or reach a namespace by one
REFUSED_NAMES = frozenset({
    "exec", "eval", "compile", "__import__", "globals", "vars", "locals", "breakpoint",
    "__builtins__", "__loader__", "__spec__",
})
#: attributes that reach frames, code objects, tracing and the import system: refused on any
#: object, and as strings (``"f_back"``: what ``getattr``, ``attrgetter`` would be handed)
FRAME_ATTRIBUTES = frozenset({
    # frames, tracebacks, generators' and coroutines' frames and code
    "f_back", "f_builtins", "f_code", "f_globals", "f_lasti", "f_lineno", "f_locals",
    "f_trace", "f_trace_lines", "f_trace_opcodes", "gi_code", "gi_frame", "gi_yieldfrom",
    "cr_code", "cr_frame", "cr_await", "ag_code", "ag_frame", "ag_await", "tb_frame",
    "tb_next", "currentframe", "_getframe", "_current_frames",
    # tracing and profiling
    "settrace", "setprofile", "gettrace", "getprofile", "settrace_all_threads",
    "setprofile_all_threads", "addaudithook",
    # the import system
    "meta_path", "path_hooks", "path_importer_cache", "import_module",
})
#: attributes refused on any object: code from strings, native code, attribute paths in strings
#: torch's autograd, as graded code on the torch backend could reach it through tensors and
#: the namespace (a graph built under ``inference_mode(False)`` and walked by calling its
#: ``grad_fn`` nodes computed any layer's backward): refused on any object
AUTOGRAD_ATTRIBUTES = frozenset({
    "grad_fn", "next_functions", "requires_grad", "requires_grad_", "retain_grad",
    "register_hook", "register_post_accumulate_grad_hook", "inference_mode", "enable_grad",
    "set_grad_enabled", "autograd", "forward_ad", "overrides", "get_testing_overrides",
})
_AUTOGRAD = ("torch's autograd would compute the backward pass for you: the course asks you to "
             "write it with the chain rule")
#: SciPy's numerical differentiation: ``scipy.optimize`` (``approx_fprime``, ``check_grad``,
#: an optimizer's finite-difference ``jac``) and the functions by name, wherever reached. The
#: import blocker cannot hide the module (``scipy.stats`` imports it); no course question
#: needs SciPy's optimizers (the course writes its own). Two calls of ``approx_fprime`` with
#: ``+h`` and ``-h`` averaged are central differences: the gradcheck question's loop
#: unwritten, full marks (found by an attacker)
NUMERICAL_DERIVATIVES = frozenset({"approx_fprime", "check_grad", "approx_derivative"})
_NUMERICAL = ("SciPy's finite differences would compute the derivatives for you: write the "
              "differences (or the backward pass) yourself, with xp")
#: why graded code on the torch backend may not import torch: its layers' kernels and their
#: backward kernels (``torch.nn.functional.conv1d``, ``torch.nn.grad.conv1d_input``,
#: ``torch.ops.aten.native_batch_norm_backward``) would compute a layer for the student
_TORCH_ITSELF = ("graded code reaches torch through the backend's array namespace only (xp = "
                 "self.xp, or array_namespace(x)), the same code as on NumPy: torch itself "
                 "holds ready-made layers and their backward passes, which the course asks "
                 "you to write")
REFUSED_ATTRIBUTES = FRAME_ATTRIBUTES | frozenset({
    "get_type_hints", "ForwardRef", "attrgetter", "methodcaller", "ctypeslib", "ctypes",
    "load_library", "cpp_extension", "load_inline", "LowLevelCallable",
    # getattr by a format string, returning the object (``Formatter().get_field("0.x")``)
    "Formatter", "get_field",
    "dictConfig", "fileConfig", "singledispatch", "singledispatchmethod", "NpzFile",
    "read_array", "global_enum", "load_backend_module", "myeval", "update_wrapper",
    "make_dataclass",
})
#: modules an allowed module keeps as an attribute (``typing.sys``, ``enum.bltns`` is
#: ``builtins``, ``typing.types``, ``matplotlib.cbook.traceback``): refused on any object (a
#: module handed to a function as its parameter is any object), but :data:`MODULE_WORDS`
MODULE_ATTRIBUTES = frozenset({
    "sys", "builtins", "bltns", "gc", "inspect", "importlib", "types", "traceback",
    "copyreg", "pickle", "marshal", "pydoc", "pkgutil", "unittest", "runpy", "codeop",
    "tracemalloc", "faulthandler", "dis", "site", "pluggy", "pkg_resources", "setuptools",
    "monitoring", "jit", "f2py", "distutils", "testing", "sphinxext", "mock", "pytest",
    "multiprocessing", "asyncio", "subprocess", "atexit", "ast", "signal", "crackfortran",
    "weakref",
})
#: of :data:`MODULE_ATTRIBUTES`, those also ordinary words of the course's code (word *types*),
#: refused only where the object is an imported module (what ``types`` gives, function and
#: code constructors, the worker's audit layer refuses)
MODULE_WORDS = frozenset({"types"})
#: parts of a module path graded code may not import, in any package: test helpers (a mock
#: library among them), build tools that compile and evaluate code
REFUSED_MODULE_PARTS = frozenset({"testing", "tests", "conftest", "mock", "f2py",
                                  "distutils", "sphinxext"})
#: functions that load a module named by their argument: called with a literal name only, and
#: not a ``module://`` one (``matplotlib.use("Agg")`` is fine)
BACKEND_SWITCHES = frozenset({"use", "switch_backend"})
#: double-underscore names a module or a class body may assign (not ``__module__``,
#: ``__file__``, ``__annotations__``: libraries read them to find a module, or paste them into
#: code they compile)
STORED_DUNDERS = frozenset({"__all__", "__getattr__", "__dir__", "__slots__", "__doc__",
                            "__version__", "__author__", "__hash__"})
#: double-underscore methods a class may define besides :data:`DUNDERS_ALLOWED` (not
#: ``__reduce_ex__``, ``__setstate__``: ``copy`` runs what they return)
DEFINED_DUNDERS = frozenset({"__getattr__", "__new__", "__abs__", "__iadd__", "__isub__",
                             "__imul__", "__itruediv__", "__floordiv__", "__mod__",
                             "__format__", "__index__", "__float__", "__int__", "__rmatmul__",
                             "__pos__", "__invert__", "__and__", "__or__", "__xor__",
                             "__reversed__", "__missing__", "__copy__", "__deepcopy__",
                             # the rest of arithmetic (an operator calls them, on the
                             # submission's own objects)
                             "__rpow__", "__rfloordiv__", "__rmod__", "__ipow__",
                             "__ifloordiv__", "__imod__", "__imatmul__", "__rand__", "__ror__",
                             "__rxor__", "__divmod__", "__rdivmod__", "__round__", "__trunc__",
                             "__floor__", "__ceil__"})
#: the public API of named tuples, whose names start with an underscore
NAMEDTUPLE_API = frozenset({"_replace", "_asdict", "_fields", "_field_defaults", "_make"})
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
#: keyword arguments that load pickles (which run code: NumPy's and torch's) unless given as
#: the literal that refuses them (``allow_pickle=False`` and ``weights_only=True`` are fine)
PICKLE_KEYWORDS = {"allow_pickle": False, "weights_only": True}
#: keywords that make ``functools.update_wrapper`` and ``wraps`` copy attributes named by
#: strings (``__code__``) onto a function
WRAPPER_KEYWORDS = frozenset({"assigned", "updated"})
#: calls refused with more positional arguments than this: ``np.load(f, None, True)`` (a
#: positional ``allow_pickle``), ``wraps(g, ("__code__",))``
POSITIONAL_LIMITS = {"load": 2, "wraps": 1}
#: attributes of ``torch`` that compile a function's Python into a graph the interpreter
#: never runs line by line (``torch.compile``, ``torch.jit``)
TORCH_REFUSED = frozenset({"compile", "jit", "_dynamo", "func", "autograd", "library",
                           "overrides"})

#: the allowed imports as feedback (and docs/grading.md) lists them: not the engines
SHOWN_IMPORTS = sorted(m for m in ALLOWED_IMPORTS if m != "__future__"
                       and m not in {n for n in DIFFERENTIATION_ENGINES if "." not in n})
#: what a computed attribute name is refused as (it could name any attribute above)
_COMPUTED = ("`{}` with an attribute name computed at run time (keep sub-layers and values "
             "in a list or a dict, self.cells = [...], rather than in attributes named at run "
             "time)")
#: the advice of a refused private attribute
_PRIVATE = ("a private name of a library or of another module is theirs to change: use their "
            "public names (your own modules' private names are yours)")
_ADVICE = ("graded code may not reach the interpreter's frames, tracing, threads' internals, "
           "module tables or the grader's own code, nor run code from strings or data: the "
           "grader's rules run in your process. The course's code needs none of this: remove "
           "it")


@dataclass(frozen=True)
class Refusal:
    """One place a module breaks a rule, and what to do instead."""

    file: str
    line: int
    what: str
    advice: str = _ADVICE

    def message(self) -> str:
        return f"{self.file} line {self.line} uses {self.what}" + (
            f": {self.advice}" if self.advice else "")


def enabled() -> bool:
    """Whether the grader applies the rules (``NLPDOJO_CODE_RULES`` is not ``off``)."""
    return os.environ.get(ENV, "").strip().lower() not in ("off", "0", "no", "false")


def refusals(source: str, file: str, own_modules: Iterable[str] = (),
             private: Iterable[str] | None = None, given: Iterable[str] = (), *,
             topic: str = "", autograd: bool = True) -> list[Refusal]:
    """Where ``source`` (the module ``file``) breaks the rules, in line order. ``own_modules``:
    the top-level names of modules the submission itself holds (an absolute import of one,
    as a notebook's code writes it, is allowed); ``private``: the private names the
    submission defines (default: those this module defines); ``given``: the topic's given
    modules, which a module other than one of them may not import, nor the ``topic`` package
    that holds them; ``autograd``: torch's autograd names are refused too (graded on the
    torch backend, where graded code holds tensors)."""
    try:
        tree = _without_main_block(ast.parse(source, filename=file))
    except SyntaxError:
        return []  # the import reports it, with Python's own message
    given = frozenset() if Path(file).stem in given else frozenset(given)
    return _read(tree, file, frozenset(own_modules),
                 private_names(tree) if private is None else frozenset(private), given,
                 topic, autograd)


def _main_guard(test: ast.expr) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(a, ast.Name) and a.id == "__name__" and isinstance(b, ast.Constant)
               and b.value == "__main__" for a, b in (sides, sides[::-1]))


def _binds_name_dunder(tree: ast.AST) -> bool:
    """Whether anything in ``tree`` binds the name ``__name__`` (an assignment, an import's
    alias, a def, a parameter, a ``global`` ...): then ``__name__ == "__main__"`` may hold."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound = [node.id]
        elif isinstance(node, ast.alias):
            bound = [node.asname or node.name]
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound = node.names
        else:
            bound = [getattr(node, field, None) for field in ("name", "arg")]
        if "__name__" in bound:
            return True
    return False


def _without_main_block(tree: ast.Module) -> ast.Module:
    """``tree`` without the bodies of its top-level ``if __name__ == "__main__":`` blocks (a
    module's self-test, which ``np.testing`` may serve): code the grader's import never runs,
    since a module's ``__name__`` is its own name, unless the module binds ``__name__`` itself
    (then nothing is left out). Their ``else`` branches, which do run, are read."""
    guarded = [node for node in tree.body if isinstance(node, ast.If) and _main_guard(node.test)]
    if not guarded or _binds_name_dunder(tree):
        return tree
    for node in guarded:
        node.body = [ast.copy_location(ast.Pass(), node)]
    return tree


def _read(tree: ast.AST, file: str, own: frozenset[str], private: frozenset[str],
          given: frozenset[str] = frozenset(), topic: str = "", autograd: bool = True
          ) -> list[Refusal]:
    reader = _Reader(file, own, private, given, topic, autograd)
    reader.visit(tree)
    return sorted(reader.found, key=lambda r: r.line)


def folder_refusals(course: Path, folders: Iterable[str], given: Iterable[str] = (), *,
                    autograd: bool = True) -> dict[Path, list[Refusal]]:
    """Where the modules of ``course/<folder>/`` (each of ``folders``, graded together: the
    topic's, first, and the library's) break the rules, by file (only those that do). Their
    own modules are those of these folders, their private names those any of them defines (a
    subclass in one file uses its base's private helpers from another); ``given``: the
    topic's given modules (``Topic.given_modules``), which only one another may import;
    ``autograd``: torch's autograd names refused too (the torch backend's grading)."""
    folders = list(folders)
    paths = [path for folder in folders for path in sorted((course / folder).glob("*.py"))]
    parsed: dict[Path, _Parsed] = {}
    too_deep: dict[Path, list[Refusal]] = {}
    for path in paths:
        try:
            parsed[path] = _parsed(path.read_bytes(), str(path))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue  # read as Python reads it: its import fails too, and reports it
        except (RecursionError, MemoryError):  # ``x+0+0+...`` a thousand terms deep
            too_deep[path] = [_too_deep(path)]
    own = frozenset({p.stem for p in paths} | set(folders))
    private = frozenset().union(*(p.private for p in parsed.values()))
    given = frozenset(given)
    topic = folders[0] if folders else ""
    found = {}
    for path, module in parsed.items():
        file = f"{path.parent.name}/{path.name}"
        key = (module.digest, file, own, private, frozenset()
               if path.parent.name == topic and path.stem in given else given, topic, autograd)
        if key not in _READ:
            _kept(_READ)
            try:
                _READ[key] = _read(module.tree, *key[1:])
            except (RecursionError, MemoryError):
                _READ[key] = [_too_deep(path)]
        found[path] = _READ[key]
    return {path: broken for path, broken in {**found, **too_deep}.items() if broken}


def _too_deep(path: Path) -> Refusal:
    """The refusal of a module whose expressions nest too deeply for the rules to be read
    (a student's ``return x+0+0+...``, a thousand terms: the reader's recursion ran out, and
    the whole grading ended as the grader's internal error)."""
    return Refusal(f"{path.parent.name}/{path.name}", 1,
                   "expressions nested too deeply for the grader to read",
                   "write them with fewer levels (a sum over a list, a loop)")


@dataclass(frozen=True)
class _Parsed:
    """A module's tree without its ``__main__`` block, and the private names it defines."""

    digest: str
    tree: ast.AST
    private: frozenset[str]


def python_source(data: bytes) -> str:
    """A module's bytes as the text Python runs when it imports them (PEP 263: a UTF-8
    byte-order mark, else a coding declaration in the first two lines, else UTF-8; its line
    ends as ``\\n``), the mark dropped: what a reader that judges a student's module as text
    reads (the rules parse the bytes themselves, :func:`_parsed`). Read as UTF-8 alone, a
    module with a byte-order mark (Notepad writes one) or ``# -*- coding: latin-1 -*-`` failed
    to decode and was skipped, "the import reports it", while Python imported it: the rules
    never read it (SciPy's finite differences earned the gradcheck question's points), and
    the similarity report compared none of it (an adversarial trial). Raises
    :class:`UnicodeDecodeError`, or :class:`SyntaxError` for an unknown encoding, where
    Python's import fails too."""
    # CPython's tokenizer reads \r\n and a lone \r as line ends before it looks for the
    # declaration on lines 1 and 2; tokenize's readline splits at \n alone (a declaration
    # after a lone \r was read, or missed, where Python did the other: an adversarial trial).
    # Every encoding Python takes for source is ASCII-compatible: these bytes are line ends
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding).removeprefix("\ufeff")


def _parsed(source: bytes, filename: str) -> _Parsed:
    """``source`` parsed once per content (a planted bug, or a student's next grading,
    changes one file of a folder: the others are not parsed again), from its bytes by
    CPython's own tokenizer, as the import compiles them (its encoding declaration, byte-order
    mark and line ends read as the import reads them)."""
    digest = hashlib.sha256(source).hexdigest()
    if digest not in _PARSED:
        tree = _without_main_block(ast.parse(source, filename=filename))
        _kept(_PARSED)
        _PARSED[digest] = _Parsed(digest, tree, private_names(tree))
    return _PARSED[digest]


def _kept(cache: dict[Any, Any]) -> None:
    """Room for one more entry in ``cache`` (the oldest dropped past :data:`_REFUSED_KEPT`)."""
    while len(cache) >= _REFUSED_KEPT:
        del cache[next(iter(cache))]


def refused_modules(course: Path, folders: Iterable[str], given: Iterable[str] = (), *,
                    autograd: bool = True) -> dict[str, str]:
    """The modules of ``course/<folder>/`` (:func:`folder_refusals`) that break the rules, as
    ``{"<folder>.<module>": message}`` (``<folder>`` alone for its ``__init__.py``); the
    message names the first places (three at most: a student fixes them in one go)."""
    folders = list(folders)
    contents = tuple((folder, path.name, hashlib.sha256(path.read_bytes()).hexdigest())
                     for folder in folders for path in sorted((course / folder).glob("*.py")))
    key = (contents, tuple(folders), frozenset(given), autograd)
    if key not in _REFUSED:  # every grading reads the same modules again: once per content

        def read() -> dict[str, str]:
            found: dict[str, str] = {}
            for path, broken in folder_refusals(course, folders, given,
                                                autograd=autograd).items():
                folder = path.parent.name
                name = folder if path.stem == "__init__" else f"{folder}.{path.stem}"
                shown = "; ".join(r.message() for r in broken[:3])
                more = f" (and {len(broken) - 3} more)" if len(broken) > 3 else ""
                found[name] = shown + more
            return found

        # and once per content between the grader's processes (the rules' source in the key)
        _kept(_REFUSED)
        _REFUSED[key] = source_memo.remembered(
            "code_rules", [list(contents), folders, sorted(given), autograd], read,
            code=(sys.modules[__name__], subject))
    return dict(_REFUSED[key])


#: :func:`refused_modules`' answers by the folders' contents (names and hashes of their
#: modules), the given modules and the autograd rule: the rules read nothing else
_REFUSED: dict[tuple[Any, ...], dict[str, str]] = {}
_REFUSED_KEPT = 256
#: each module parsed, by its content's hash; each module's refusals, by its content, name
#: and the rule's inputs (:func:`folder_refusals`)
_PARSED: dict[str, _Parsed] = {}
_READ: dict[tuple[Any, ...], list[Refusal]] = {}


def private_names(tree: ast.AST) -> frozenset[str]:
    """The private names a module defines itself: its functions, methods and classes, the
    names it assigns and the attributes it sets (``self._cache = ...``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            found.add(node.attr)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "setattr" and len(node.args) > 1
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            found.add(node.args[1].value)  # setattr(self, "_calls", n): set as self._calls is
    return frozenset(n for n in found if n.startswith("_") and not _dunder(n))


class _Reader(ast.NodeVisitor):
    def __init__(self, file: str, own: frozenset[str], private: frozenset[str],
                 given: frozenset[str] = frozenset(), topic: str = "",
                 autograd: bool = True) -> None:
        self.file, self.own, self.private, self.given = file, own, private, given
        #: the topic's package, which holds the given modules, and whether torch's autograd
        #: names are refused (the torch backend)
        self.topic, self.autograd = topic, autograd
        #: ids of ``.testing`` attributes read for an ``assert_...`` of NumPy's
        self._testing_asserts: set[int] = set()
        self.found: list[Refusal] = []
        #: names bound to the ``sys`` and ``torch`` modules (``import sys as s``)
        self.sys_names: set[str] = set()
        self.torch_names: set[str] = set()
        #: names bound to modules the submission does not hold (``import numpy as np``, and
        #: a plain alias of one: ``m = np``)
        self.imported: set[str] = set()
        #: names bound by ``from <library> import ...`` to the functions of CALLED_ONLY
        self.imported_functions: set[str] = set()
        self._allowed_sys: set[int] = set()  # ids of Name nodes read as sys.<allowed>
        self._called_funcs: set[int] = set()  # ids of the funcs of calls of CALLED_ONLY
        self._decorators: set[int] = set()  # ids of decorator expressions

    def refuse(self, node: ast.AST, what: str, advice: str = _ADVICE) -> None:
        self.found.append(Refusal(self.file, getattr(node, "lineno", 0), what, advice))

    # -- imports ----------------------------------------------------------------------------
    def _given_import(self, node: ast.AST, parts: list[str]) -> None:
        """Refuse an import of a given module of the topic (``parts``: the imported module's
        dotted name, relative or absolute, or the names ``from . import`` takes): its helpers
        serve the given training and scoring code, and some compute what a question asks
        (log-probabilities of any scores, a model being anything with a ``__call__``)."""
        name = next((part for part in parts if part in self.given), None)
        if name is not None:
            self.refuse(node, f"an import of the given module `{name}`",
                        "it serves the given training and scoring code, not your answers: "
                        "write what you need in your own code")

    def _topic_bound(self, node: ast.AST) -> None:
        self.refuse(node, f"the topic's package `{self.topic}` itself",
                    "import what you need from its modules (`from .rnn_lm import RNNLM`)")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._given_import(node, alias.name.split("."))
            # a notebook's `import topic`, or `import topic.module`, which binds `topic` too
            if self.given and (alias.name == self.topic or (
                    alias.asname is None and alias.name.split(".")[0] == self.topic)):
                self._topic_bound(node)
            top = alias.name.split(".")[0]
            if alias.name == "sys":
                self.sys_names.add(alias.asname or "sys")
            elif top == "torch" and (alias.asname is None or alias.name == "torch"):
                self.torch_names.add(alias.asname or "torch")
            if top not in self.own:
                self.imported.add(alias.asname or top)
            self._check_module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if self.given and (node.level or (node.module or "").split(".")[0] in self.own):
            # `from .lm_training import`, `from ..topic.lm_training import`, `from . import
            # lm_training`, `from ..topic import lm_training`, a notebook's `from lm_training
            # import` or `from topic import lm_training`; and never the topic's package itself
            # (`from .. import topic`), whose attributes are its modules, the given ones too
            parts = node.module.split(".") if node.module else []
            self._given_import(node, parts)
            if not parts or parts[-1] == self.topic:
                self._given_import(node, [a.name for a in node.names])
                if any(a.name == self.topic for a in node.names):
                    self._topic_bound(node)
        external = not node.level and (node.module or "").split(".")[0] not in self.own
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, f"`from {'.' * node.level}{node.module or ''} import *`",
                            "name what you import")
            elif alias.name.startswith("_") and not _dunder(alias.name) and external:
                self.refuse(node, f"`import {alias.name}` (a private name)", _PRIVATE)
            elif alias.name in CALLED_ONLY and alias.asname not in (None, alias.name):
                self.refuse(node, f"`{alias.name}` imported under another name")
            elif external:
                bound = alias.asname or alias.name
                if alias.name in CALLED_ONLY:
                    self.imported_functions.add(bound)
                elif alias.name[:1].islower():  # (a module, perhaps: `from numpy import linalg`)
                    self.imported.add(bound)
        if node.level == 0 and node.module:
            # `from numpy.testing import assert_allclose`: comparisons, a self-test's
            self._check_module(node, node.module, asserts=node.module.endswith(".testing") and
                               all(a.name.startswith("assert_") for a in node.names))
            if node.module == "nlpdojo":
                for alias in node.names:
                    self._check_module(node, f"nlpdojo.{alias.name}")
            for alias in node.names:
                if node.module == "sys" and alias.name not in SYS_ALLOWED:
                    self.refuse(node, f"`from sys import {alias.name}`")
                elif alias.name in NUMERICAL_DERIVATIVES or (
                        node.module == "scipy" and alias.name == "optimize"):
                    self.refuse(node, f"`from {node.module} import {alias.name}`", _NUMERICAL)
                elif self.autograd and alias.name == "torch":
                    self.refuse(node, f"`from {node.module} import torch`", _TORCH_ITSELF)
                elif alias.name in REFUSED_ATTRIBUTES or alias.name in MODULE_ATTRIBUTES or (
                        self.autograd and alias.name in AUTOGRAD_ATTRIBUTES) or (
                        alias.name in REFUSED_NAMES) or (
                        _dunder(alias.name) and alias.name not in DUNDERS_ALLOWED) or (
                        node.module.split(".")[0] == "torch" and alias.name in TORCH_REFUSED):
                    self.refuse(node, f"`from {node.module} import {alias.name}`")
        self.generic_visit(node)

    def _check_module(self, node: ast.AST, name: str, *, asserts: bool = False) -> None:
        """``asserts``: the names imported from a ``testing`` module are its comparisons
        (``assert_allclose``), not its helpers that build or patch code."""
        top = name.split(".")[0]
        parts = name.split(".")
        written = (f"`from {name} import ...`" if isinstance(node, ast.ImportFrom)
                   else f"`import {name}`")
        if name in COURSE_TOOLS:
            self.refuse(node, f"`import {name}`", f"{name} {COURSE_TOOLS[name]}")
            return
        if name == "scipy.optimize" or name.startswith("scipy.optimize."):
            self.refuse(node, written, _NUMERICAL)
            return
        if top == "nlpdojo" and (len(parts) < 2 or parts[1] not in FRAMEWORK_ALLOWED):
            if len(parts) > 1 or not isinstance(node, ast.ImportFrom):
                self.refuse(node, f"`import {name}`", "graded code may use nlpdojo's "
                            f"{', '.join(sorted(FRAMEWORK_ALLOWED))} modules (a notebook's "
                            "set-up lines belong in its untagged cells)")
            return
        if self.autograd and (top == "torch" or name.startswith("array_api_compat.torch")):
            # the torch backend's (NumPy's worker hides torch); the namespace's own modules
            # import torch (``array_api_compat.torch.linalg.torch``)
            self.refuse(node, written, _TORCH_ITSELF)
            return
        if name == "sys" or top in ALLOWED_IMPORTS or top in self.own:
            if top not in self.own and any(part.startswith("_") for part in parts[1:]):
                self.refuse(node, f"`import {name}` (a private module)", _PRIVATE)
            elif top == "torch" and TORCH_REFUSED & set(parts[1:]):
                self.refuse(node, f"`import {name}`", _AUTOGRAD)
            elif top not in self.own and REFUSED_MODULE_PARTS & set(parts[1:]) and not (
                    asserts and REFUSED_MODULE_PARTS & set(parts[1:]) == {"testing"}):
                self.refuse(node, written, "graded code may not import a library's test "
                            "helpers or build tools (its assert_... comparisons excepted)")
            return
        self.refuse(node, f"`import {name}`", "graded code may import its own modules, sys (for "
                    f"sys.stdout and the like) and {', '.join(SHOWN_IMPORTS)}")

    # -- names and attributes ---------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        if self._imported(node.value):  # an alias of an imported module, or of its attribute
            self.imported.update(t.id for t in node.targets if isinstance(t, ast.Name))
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store) and node.id in ("self", "cls"):
            self.refuse(node, f"`{node.id}` assigned", f"`{node.id}` is the object a method is "
                        "called on: give the new value a name of its own")
            return
        if isinstance(node.ctx, ast.Store) and _dunder(node.id) and \
                node.id not in STORED_DUNDERS:
            self.refuse(node, f"`{node.id}` assigned", "libraries read it to find a module, "
                        "or paste it into code they compile: leave it as Python sets it")
            return
        if isinstance(node.ctx, ast.Store) and node.id not in REFUSED_NAMES:
            return  # a module's own ``__getattr__``, ``__all__``
        if node.id in self.imported_functions and id(node) not in self._called_funcs:
            self.refuse(node, f"`{node.id}` other than called directly",
                        "call it by its name where you need it")
        if node.id in REFUSED_NAMES or (_dunder(node.id) and node.id not in (
                "__name__", "__file__", "__doc__", "__all__", "__version__", "__debug__")):
            self.refuse(node, f"`{node.id}`")
        elif node.id in ("getattr", "setattr", "delattr"):
            self.refuse(node, _COMPUTED.format(node.id), "")
        elif node.id in self.sys_names and id(node) not in self._allowed_sys:
            self.refuse(node, f"`{node.id}` (sys) other than for "
                              f"{', '.join(sorted('sys.' + a for a in SYS_ALLOWED))}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = node.value
        if isinstance(base, ast.Name) and base.id in self.sys_names:
            if node.attr in SYS_ALLOWED:
                self._allowed_sys.add(id(base))
            else:
                self.refuse(node, f"`{base.id}.{node.attr}`",
                            "the grader sets the module path: remove this" if node.attr == "path"
                            else "graded code may read " + ", ".join(
                                sorted("sys." + a for a in SYS_ALLOWED)))
                self._allowed_sys.add(id(base))  # said once
        elif isinstance(base, ast.Name) and base.id in self.torch_names and \
                node.attr in TORCH_REFUSED:
            self.refuse(node, f"`{base.id}.{node.attr}`")
        imported = self._imported(base)
        if node.attr in CALLED_ONLY and imported and id(node) not in self._called_funcs:
            self.refuse(node, f"`.{node.attr}` other than called directly",
                        "call it by its name where you need it")
        if isinstance(node.ctx, ast.Store) and _dunder(node.attr):
            self.refuse(node, f"`.{node.attr}` assigned")
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and imported:
            self.refuse(node, f"`.{node.attr}` of an imported module assigned",
                        "a library's names are the same for the grader's code in your "
                        "process: give your value a name of your own")
        if node.attr.startswith("assert_") and isinstance(node.value, ast.Attribute) and \
                node.value.attr == "testing":  # np.testing.assert_allclose: a comparison
            self._testing_asserts.add(id(node.value))
        if node.attr in MODULE_ATTRIBUTES and (imported or node.attr not in MODULE_WORDS) and \
                id(node) not in self._testing_asserts:
            self.refuse(node, f"`.{node.attr}` (a module kept by another)")
        self._check_attribute(node, node.attr, base)
        self.generic_visit(node)

    def _imported(self, base: ast.expr | None) -> bool:
        """Whether ``base`` is, or is an attribute of, a name bound to an imported module."""
        while isinstance(base, ast.Attribute):
            base = base.value
        return isinstance(base, ast.Name) and base.id in self.imported

    def _check_attribute(self, node: ast.AST, attr: str, base: ast.expr | None = None) -> None:
        if attr == "torch" and self.autograd:  # torch kept by a module (``xp.linalg.torch``)
            self.refuse(node, "`.torch`", _TORCH_ITSELF)
        elif attr in AUTOGRAD_ATTRIBUTES:
            if self.autograd:
                self.refuse(node, f"`.{attr}`", _AUTOGRAD)
        elif attr in NUMERICAL_DERIVATIVES or (attr == "optimize" and self._imported(base)):
            self.refuse(node, f"`.{attr}`", _NUMERICAL)
        elif attr in REFUSED_ATTRIBUTES or (_dunder(attr) and attr not in DUNDERS_ALLOWED):
            self.refuse(node, f"`.{attr}`")
        elif attr.startswith("_") and not _dunder(attr) and attr not in NAMEDTUPLE_API and (
                attr not in self.private or self._imported(base)):
            self.refuse(node, f"`.{attr}` (a private name)", _PRIVATE)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "delattr", "hasattr"):
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                self._check_attribute(node, name.value, node.args[0] if node.args else None)
                if func.id in ("setattr", "delattr") and node.args and \
                        self._imported(node.args[0]):
                    self.refuse(node, f"`{func.id}` on an imported module",
                                "give your value a name of your own")
            elif func.id != "hasattr":
                self.refuse(node, _COMPUTED.format(func.id), "")
            for arg in node.args:
                self.visit(arg)
            for keyword in node.keywords:
                self.visit(keyword)
            return
        called = _called(func)
        if called == "wraps" and id(node) not in self._decorators:
            self.refuse(node, "`wraps` other than as a decorator",
                        "write @functools.wraps(func) above the wrapper's def")
        if called == "type" and isinstance(func, ast.Name) and len(node.args) > 1:
            self.refuse(node, "`type` with a name, bases and a namespace",
                        "define the class with a class statement")
        if called in CALLED_ONLY:
            self._called_funcs.add(id(func))
            if any(keyword.arg is None for keyword in node.keywords):
                self.refuse(node, f"`{called}` with `**` keywords", "name each argument")
            for keyword in node.keywords:
                if keyword.arg in WRAPPER_KEYWORDS:
                    self.refuse(keyword, f"`{keyword.arg}=`")
        if called == "reexport" and not (
                len(node.args) == 1 and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "__name__" and not node.keywords):
            self.refuse(node, "`reexport` of another package than this one",
                        "a package's __init__.py re-exports itself: reexport(__name__)")
        if called in BACKEND_SWITCHES and self._imported(func) and not (
                len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and not node.args[0].value.startswith("module:")):
            self.refuse(node, f"`{called}` with a name other than a backend's written out",
                        "write the backend's name: matplotlib.use(\"Agg\")")
        limit = POSITIONAL_LIMITS.get(called)
        if limit is not None and len(node.args) > limit:
            self.refuse(node, f"`{called}` with more than {limit} positional "
                              f"argument{'s' if limit > 1 else ''}", "name the others")
        for keyword in node.keywords:
            if self.autograd and keyword.arg in AUTOGRAD_ATTRIBUTES:  # requires_grad=True
                self.refuse(keyword, f"`{keyword.arg}=`", _AUTOGRAD)
            if keyword.arg in PICKLE_KEYWORDS and not (
                    isinstance(keyword.value, ast.Constant)
                    and keyword.value.value is PICKLE_KEYWORDS[keyword.arg]):
                self.refuse(keyword, f"`{keyword.arg}=` other than "
                                     f"{PICKLE_KEYWORDS[keyword.arg]}",
                            "a pickle runs code when it is loaded: save arrays (np.save, "
                            "np.savez) and load them without pickles")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        """A string that names a frame's, a code object's or a tracer's attribute, or a
        refused double-underscore one (``"__code__"``, ``"f_back"``), is one way to reach it
        (``functools.update_wrapper``, ``getattr``)."""
        value = node.value
        if isinstance(value, str) and value.startswith("module:"):
            self.refuse(node, f"the string {value[:40]!r} (a module loaded by its name)",
                        "name a backend (\"Agg\"), not a module")
        if isinstance(value, str) and value.isidentifier() and (
                value in FRAME_ATTRIBUTES or (_dunder(value) and value not in DUNDERS_ALLOWED)):
            self.refuse(node, f"the string {value!r} (the name of an attribute graded code may "
                              "not use)")
        elif self.autograd and isinstance(value, str) and value in AUTOGRAD_ATTRIBUTES:
            self.refuse(node, f"the string {value!r} (a name of torch's autograd)", _AUTOGRAD)

    # -- annotations written as strings -----------------------------------------------------
    def visit_arg(self, node: ast.arg) -> None:
        self._string_annotation(node.annotation)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._string_annotation(node.annotation)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if any(k.arg == "metaclass" for k in node.keywords) or any(
                isinstance(b, ast.Name) and b.id == "type" for b in node.bases):
            self.refuse(node, f"a metaclass for `{node.name}`", "the course's code needs "
                        "none: a plain class, or a dataclass")
        self._decorators.update(id(d) for d in node.decorator_list)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._decorators.update(id(d) for d in node.decorator_list)
        if _dunder(node.name) and node.name not in DUNDERS_ALLOWED | DEFINED_DUNDERS:
            self.refuse(node, f"a method `{node.name}`", "libraries call it with what it "
                        "returns (copy, pickle, enum): the course's code needs none")
        self._string_annotation(node.returns)
        self.generic_visit(node)

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
