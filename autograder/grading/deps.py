"""Which files of a submission a check depends on, read from the code (for ``grade``'s cache).

A check reaches the student's code through the modules it names (``ctx.function("softmax",
...)``, recorded in ``Context.touched``). What those modules run is found statically: the
closure of their imports inside the submission (``from .softmax import softmax``, ``from
..library.layers import Linear``), every package ``__init__.py`` on the way, and, for an import
that finds no file, the file that *would* be imported (recorded as absent, so that creating it
invalidates the check).

A name imported from a package that re-exports its modules' names (``from ..library import
Linear``; the library's ``__init__.py`` uses :func:`nlpdojo.exports.reexport`) is the module
whose ``__all__`` lists it, read from the sources as the package reads them: that module's
file, and an entry ``library/__all__:Linear`` whose value is the modules listing the name
(another module that starts to list it makes the import ambiguous). A name no module lists
depends on every module of the package (one whose ``__all__`` cannot be read may hold it).

The analysis must never let a changed file keep an old verdict, so wherever it cannot see what
code does it widens the dependency instead of guessing:

* the worker imports every module of the topic and of the course library before the checks
  (``subject.py``); a module whose import could run code of the submission (a top-level call
  of the student's own functions, a loop, a ``try``, a decorator or base class defined in the
  submission) could change what any other module does, so it is a dependency of *every* check
  of the topic (:func:`import_effects`);
* a module that can reach code or files without a static import (``importlib``,
  ``__import__``, ``sys``, ``exec``, ``open``, ``__file__``, ``os``, ``pickle``...), and a
  check that uses a probe (which may reach any module), depends on *every* file of the topic
  and library folders;
* a module that changes a library's own state (``np.set_printoptions``, ``np.seterr``, the
  global RNG's seed, an attribute of an imported module assigned) changes what every module
  sees, whatever it imports: it is a dependency of every check of the topic
  (:func:`_changes_library_state`);
* every file the worker receives that is not a module (:meth:`Course.received_data`: a
  ``weights.txt``, a ``vocab.json``) is a dependency of every check: code reads data at run
  time by means no list of names can foresee (``getattr(np, "loadtxt")``, a helper of another
  package), so the names above only decide which *modules* a check reaches;
* one worker runs a grading's checks one after another, so state a module keeps (a
  module-level list or dict, a class attribute, a mutable default argument, a ``global``
  rebound) can carry what an earlier check's code did into a later check: a check that reaches
  such a module depends on every module that can reach it too, whichever check ran them
  (:meth:`Course.sharing`).
"""

from __future__ import annotations

import ast
import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from nlpdojo.exports import folder_exports, uses_reexport
from nlpdojo_autograder.runtime.loader import CODE_SUFFIXES, LIBRARY

#: names whose use lets code reach modules or files the import statements do not show
DYNAMIC_NAMES = frozenset({
    "importlib", "__import__", "exec", "eval", "compile", "globals", "locals", "vars",
    "__file__", "__path__", "__loader__", "__spec__", "open", "sys", "builtins", "__builtins__",
    "gc", "inspect", "os", "io", "pathlib", "Path", "pickle", "shelve", "marshal", "mmap",
    "subprocess", "ctypes", "runpy", "load", "loadtxt", "genfromtxt", "fromfile", "memmap",
    "read_csv", "read_text", "read_bytes", "fromregex", "linecache", "getline", "getlines",
    "tokenize", "zipfile", "tarfile", "shutil", "glob", "fileinput", "tomllib", "codecs",
})
#: attributes that may read a file (``np.load``, ``pd.read_csv``, ``scipy.io.loadmat``,
#: ``Image.open``, ``imageio.imread``, ``np.fromregex``, ``linecache.getline``,
#: ``Path.iterdir``): counted as reaching every file. Over-broad on purpose (``np.fromiter``
#: reads nothing): a module that uses one is graded again on any change of the topic
FILE_READING_PREFIXES = ("load", "read", "open", "imread", "from", "genfrom", "getline",
                         "glob", "iterdir", "scandir", "listdir", "walk")
#: the files of the topic and library folders (their top level) that the worker receives
#: (``remote._private_copy``): anything else of the submission is not there to be read
RECEIVED_SUFFIXES = CODE_SUFFIXES
#: builtins that top-level code may call without running anything of the submission
SAFE_BUILTINS = frozenset({
    "property", "staticmethod", "classmethod", "frozenset", "tuple", "dict", "list", "set",
    "range", "int", "float", "str", "bool", "bytes", "complex", "len", "min", "max", "abs",
    "sorted", "object", "type", "TypeVar",
})
_HOOKS = frozenset({"__init_subclass__", "__set_name__", "__class_getitem__"})
#: ``<package>/__all__:<name>``: which modules of a re-exporting package list ``name``
EXPORT_ENTRY = "__all__:"


def sha256_file(path: Path) -> str | None:
    """The file's content hash, ``None`` when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def fingerprint(path: Path) -> str | None:
    """What a dependency is now: a file's content hash (``None``: absent), or, for an entry
    ``<package>/__all__:<name>``, the modules of the package that list ``name`` in
    ``__all__`` (comma-separated)."""
    if path.name.startswith(EXPORT_ENTRY):
        return ",".join(folder_exports(path.parent).listing(path.name[len(EXPORT_ENTRY):]))
    return sha256_file(path)


@dataclass
class Dependencies:
    """What one check's verdict depends on: files (relative to the course folder, ``None`` =
    absent), or ``everything`` (every file of the topic and library folders)."""

    files: dict[str, str | None] = field(default_factory=dict)
    everything: bool = False


class Course:
    """The course folder of a graded topic: ``<root>/<topic>/`` and ``<root>/library/``.

    ``given``: the instructor's source of each given module (``Topic.given_modules``) where
    the grading runs it instead of the submission's copy (the reference is installed): its
    imports, resolved in the submission as the worker resolves them, are what a check that
    runs it reaches. Read from the submission's copy, a given module emptied or deleted there
    made a training check depend on that file alone, and its cached pass outlived the
    student's model code (the submission's copy is still fingerprinted: an edit to it reruns
    the check, which costs only time)."""

    def __init__(self, topic_folder: Path, given: dict[str, str] | None = None) -> None:
        self.topic = topic_folder.resolve()
        self.root = self.topic.parent
        library = self.root / LIBRARY
        self.library = library if library.is_dir() and library != self.topic else None
        self._parsed: dict[Path, ast.Module | None] = {}
        self._closures: dict[Path, tuple[set[Path], bool]] = {}
        #: the file of each given module in the submission -> the source that runs there
        self._run_instead: dict[Path, str] = {}
        for name, source in (given or {}).items():
            base, parts = self._module_path(name)
            self._run_instead[base.joinpath(*parts).with_suffix(".py")] = source

    # -- files ------------------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def folders(self) -> list[Path]:
        return [f for f in (self.topic, self.library) if f is not None]

    def all_files(self) -> dict[str, str | None]:
        """Every file of the topic and library folders (caches and checkpoints aside)."""
        skipped = {"__pycache__", ".ipynb_checkpoints"}
        return {self.rel(p): sha256_file(p) for folder in self.folders()
                for p in sorted(folder.rglob("*"))
                if p.is_file() and not skipped & set(p.relative_to(self.root).parts)}

    def received_data(self) -> dict[str, str | None]:
        """The files the worker receives that are not modules, with their hashes: data that
        code under test may read at run time (every check depends on them)."""
        return {self.rel(p): sha256_file(p) for folder in self.folders()
                for p in sorted(folder.iterdir())
                if p.suffix in RECEIVED_SUFFIXES and p.suffix != ".py" and p.is_file()
                and not p.is_symlink()}

    def preloaded(self) -> list[Path]:
        """The modules the worker imports before any check (see ``subject._preload``)."""
        found = []
        for folder in self.folders():
            found += sorted(folder.glob("*.py"))
        return found

    def _tree(self, path: Path) -> ast.Module | None:
        if path not in self._parsed:
            try:
                source = self._run_instead.get(path)
                self._parsed[path] = ast.parse(path.read_bytes() if source is None else source)
            except (OSError, SyntaxError, ValueError):
                self._parsed[path] = None  # a syntax error fails at import: nothing runs
        return self._parsed[path]

    def module_files(self, name: str) -> list[Path]:
        """The candidate files of a module named as checks name them (``softmax``,
        ``..library.layers``): the module and each package ``__init__.py`` on the way; for a
        package that re-exports (``..library``), every module of it too (a check may take any
        of their names from it)."""
        base, parts = self._module_path(name)
        package = base.joinpath(*parts)
        init = package / "__init__.py"
        if parts and init.is_file() and uses_reexport(init.read_bytes()):
            return [*self._candidates(base, parts), *sorted(package.glob("*.py"))]
        return self._candidates(base, parts)

    def _module_path(self, name: str) -> tuple[Path, list[str]]:
        """Where a module named as checks name them lies: its base folder (the topic's, or the
        course folder for ``..library...``) and its dotted parts."""
        base = self.topic
        if name.startswith(".."):
            base, name = self.root, name[2:]
        return base, [p for p in name.split(".") if p]

    def _candidates(self, base: Path, parts: list[str]) -> list[Path]:
        found, here = [], base
        for i, part in enumerate(parts):
            if i < len(parts) - 1:
                here = here / part
                found.append(here / "__init__.py")
            else:
                found += [here / f"{part}.py", here / part / "__init__.py"]
        return found

    # -- imports ----------------------------------------------------------------------------
    def imports(self, path: Path) -> tuple[list[Path], bool]:
        """The submission files ``path`` imports (candidates, present or not) and whether it
        can reach code or files in ways the imports do not show."""
        tree = self._tree(path)
        if tree is None:
            return [], False
        found: list[Path] = []
        dynamic = False
        package = path.parent
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package
                    for _ in range(node.level - 1):
                        base = base.parent
                    if not base.is_relative_to(self.root):
                        dynamic = True
                        continue
                    parts = node.module.split(".") if node.module else []
                    found += self._candidates(base, parts) if parts else [base / "__init__.py"]
                    for alias in node.names:  # `from . import sgd`: maybe a submodule
                        found += self._candidates(base, [*parts, alias.name])
                    found += self._reexported(base.joinpath(*parts), node.names)
                else:
                    found += self._absolute(node.module or "")
                dynamic |= any(a.name in DYNAMIC_NAMES for a in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    found += self._absolute(alias.name)
                    dynamic |= alias.name.split(".")[0] in DYNAMIC_NAMES
            elif isinstance(node, ast.Name) and node.id in DYNAMIC_NAMES:
                dynamic = True
            elif isinstance(node, ast.Attribute) and (node.attr in DYNAMIC_NAMES or node.attr.
                                                      startswith(FILE_READING_PREFIXES)):
                dynamic = True
        return [p for p in found if p.is_relative_to(self.root)], dynamic

    def _reexported(self, package: Path, names: list[ast.alias]) -> list[Path]:
        """What ``from <package> import <names>`` reaches besides the package and its
        submodules, when the package re-exports (:mod:`nlpdojo.exports`): for each name, its
        entry ``__all__:<name>`` and the module listing it, or, where none does, every
        module of the package."""
        init = package / "__init__.py"
        if not (package.is_dir() and init.is_file() and uses_reexport(init.read_bytes())):
            return []
        exports = folder_exports(package)
        found: list[Path] = []
        for alias in names:
            if (package / f"{alias.name}.py").is_file():
                continue  # the submodule itself, counted already
            owners = exports.modules if alias.name == "*" else exports.listing(alias.name)
            if alias.name != "*":
                found.append(package / f"{EXPORT_ENTRY}{alias.name}")
            found += [package / f"{m}.py" for m in owners or exports.modules]
        return found

    def _absolute(self, module: str) -> list[Path]:
        """An absolute import of a name the course folder holds (``import softmax``) is
        counted as that file, present or not: whether it resolves depends on ``sys.path``."""
        parts = [p for p in module.split(".") if p]
        if not parts:
            return []
        found = []
        for base in (self.topic, self.root):
            if (base / f"{parts[0]}.py").exists() or (base / parts[0]).is_dir():
                found += self._candidates(base, parts)
        return found

    def closure(self, start: list[Path]) -> tuple[set[Path], bool]:
        """Every file reachable from ``start`` by imports, and whether any can reach more."""
        seen: set[Path] = set()
        todo = list(start)
        dynamic = False
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            if path.is_file() or path in self._run_instead:
                more, dyn = self.imports(path)
                dynamic |= dyn
                todo += more
        return seen, dynamic

    # -- what importing a module may do ------------------------------------------------------
    def import_effects(self) -> dict[str, str | None]:
        """The modules whose import could run code of the submission (and the package
        ``__init__.py`` files, imported with any module), and those that change a library's
        own state (:func:`_changes_library_state`): every check depends on them."""
        return self._import_effects(library_state=True)

    def _import_effects(self, *, library_state: bool) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for folder in self.folders():
            init = folder / "__init__.py"
            found[self.rel(init)] = sha256_file(init)
        for path in self.preloaded():
            files, _ = self._closure_of(path)
            if any(p.is_file() and not self._inert(p) for p in files) or (
                    library_state and self._changes_library_state(path)):
                found[self.rel(path)] = sha256_file(path)
                found.update({self.rel(p): fingerprint(p) for p in files})
        return found

    def _changes_library_state(self, path: Path) -> bool:
        tree = self._tree(path)
        return tree is not None and _changes_library_state(tree)

    def import_runs_code(self) -> list[str]:
        """The modules whose import could run code of the submission: those of
        :meth:`import_effects`, the package ``__init__.py`` files only where their own top
        level could (``dojo verify``: a function called on import changes what every check
        sees, whether or not the check calls it). Not a module that changes a library's state
        in its functions only (``matplotlib.use`` in word_vectors' plot.py): its import runs
        nothing; ``dojo verify`` asks of each planted bug whether the file it changes does
        (:func:`changes_library_state`)."""
        return [rel for rel in self._import_effects(library_state=False)
                if Path(rel).name != "__init__.py" or not self._inert(self.root / rel)]

    def _inert(self, path: Path) -> bool:
        tree = self._tree(path)
        if tree is None:
            return True
        local = {p.stem for folder in self.folders() for p in folder.iterdir()}
        local |= {p.name for p in self.root.iterdir()}
        return _Inert(_external_names(tree) - local).block(tree.body)

    # -- one check ---------------------------------------------------------------------------
    def dependencies(self, touched: set[str]) -> Dependencies:
        """What a check that reached the modules ``touched`` depends on."""
        if "*" in touched:
            return Dependencies(everything=True)
        start = [p for name in sorted(touched) for p in self.module_files(name)]
        files, dynamic = self.closure(start)
        if dynamic:
            return Dependencies(everything=True)
        files |= self.sharing(files)
        return Dependencies(files={self.rel(p): fingerprint(p) for p in sorted(files)})

    def sharing(self, files: set[Path]) -> set[Path]:
        """The modules that can reach state kept by a module among ``files`` (and what they
        import): whatever an earlier check ran of them in the worker may have changed it."""
        keeping = {p for p in files if p.is_file() and p.suffix == ".py" and self._keeps_state(p)}
        if not keeping:
            return set()
        found: set[Path] = set()
        for module in self.preloaded():
            reach, _ = self._closure_of(module)
            if reach & keeping:
                found |= reach
        return found

    def _closure_of(self, module: Path) -> tuple[set[Path], bool]:
        if module not in self._closures:
            self._closures[module] = self.closure([module])
        return self._closures[module]

    def _keeps_state(self, path: Path) -> bool:
        tree = self._tree(path)
        return tree is not None and _keeps_state(tree)

    def unchanged(self, deps: Dependencies) -> bool:
        """Whether every file ``deps`` names is as it was."""
        if deps.everything:
            return self.all_files() == deps.files
        return all(fingerprint(self.root / rel) == sha for rel, sha in deps.files.items())


#: calls whose result cannot be changed in place (a module's constants made of them keep no
#: state): the immutable built-ins and the sentinels
IMMUTABLE_CALLS = frozenset({"frozenset", "tuple", "int", "float", "str", "bool", "complex",
                             "bytes", "range", "object", "TypeVar", "NewType",
                             "field"})  # a dataclass field: a default per instance


def _keeps_state(tree: ast.Module) -> bool:
    """Whether a module can keep state from one call of its code to the next: a module-level
    or class-level value that can change in place (a list, a dict, an array, an object), a
    mutable default argument, or a ``global`` rebinding. (``__all__`` and the other
    double-underscore names a module binds are declarations; ``nonlocal`` rebinds a name of
    one call.)"""
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            if any(not _immutable(d) for d in
                   (*args.defaults, *(d for d in args.kw_defaults if d is not None))):
                return True
    bodies = [tree.body, *(n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef))]
    for body in bodies:
        for node in body:
            if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(_dunders(t) for t in targets):
                continue
            if node.value is not None and not _immutable(node.value):
                return True
    return False


#: the attributes of a library whose call changes its state for every later caller
#: (``np.set_printoptions``, ``np.seterr``, ``np.random.seed``, ``torch.manual_seed``,
#: ``torch.set_default_dtype``, ``warnings.filterwarnings``, ``matplotlib.use``...): a prefix
#: each, over-broad on purpose (``np.setdiff1d`` changes nothing: its module is graded again
#: on any edit, never kept wrongly)
STATE_SETTERS = ("set", "seed", "reset", "manual_seed", "filterwarnings", "simplefilter",
                 "register", "use", "enable", "disable")


@functools.lru_cache(maxsize=256)
def changes_library_state(source: str) -> bool:
    """:func:`_changes_library_state` of a module's text (True where it does not parse). Kept
    per text: ``dojo verify`` asks it of a module once per planted bug there, and of every
    other topic's bug in the library's modules (a parse and two walks each: a tenth of the
    grading process's time in a strict verify of cnn_text)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return True
    return _changes_library_state(tree)


def _changes_library_state(tree: ast.Module) -> bool:
    """Whether a module's code (its functions' too) changes state a library keeps, which every
    module sees whatever it imports: a setter of an imported name (:data:`STATE_SETTERS`)
    named anywhere, called or kept for later, or looked up by ``getattr`` with a name that is
    not a constant; an imported name's attribute or item assigned or deleted (``np.pi = 3``,
    ``np.random.x = ...``), ``setattr``/``delattr`` on one. A trial's
    ``np.set_printoptions(edgeitems=7)`` in softmax's function, read by negative sampling
    through ``np.get_printoptions()``, kept its cached pass once the line was gone."""
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            imported.update(a.asname or a.name for a in node.names)
    if not imported:
        return False

    def of_library(target: ast.expr) -> bool:
        while isinstance(target, ast.Attribute | ast.Subscript):
            target = target.value
            if isinstance(target, ast.Name):
                return target.id in imported
        return False

    for node in ast.walk(tree):
        # a setter named, called or not (``show = np.set_printoptions`` then ``show(...)``),
        # imported by name (``from numpy import seterr``) or looked up by a name that is not
        # a constant (``getattr(np, "set_" + what)``)
        if (isinstance(node, ast.Attribute) and node.attr.startswith(STATE_SETTERS)
                and _root_name(node.value) in imported):
            return True
        if (isinstance(node, ast.Name) and node.id in imported
                and node.id.startswith(STATE_SETTERS)):
            return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args
                and _root_name(node.args[0]) in imported):
            if node.func.id in ("setattr", "delattr"):
                return True
            name = node.args[1] if node.func.id == "getattr" and len(node.args) > 1 else None
            if name is not None and not (isinstance(name, ast.Constant) and isinstance(
                    name.value, str) and not name.value.startswith(STATE_SETTERS)):
                return True
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        if any(of_library(t) for t in targets):
            return True
    return False


def _dunders(target: ast.expr) -> bool:
    """Whether an assignment binds double-underscore names only (``__all__``)."""
    if isinstance(target, ast.Tuple | ast.List):
        return all(_dunders(e) for e in target.elts)
    return isinstance(target, ast.Name) and target.id.startswith("__") and \
        target.id.endswith("__")


def _immutable(node: ast.expr) -> bool:
    """Whether an expression's value cannot be changed in place: constants, names and
    attributes (functions, classes, modules and constants bound elsewhere: a mutable one is
    counted where it is made), lambdas, and tuples, subscripts (type aliases), operations and
    immutable calls of those."""
    if isinstance(node, (ast.Constant, ast.Name, ast.Attribute, ast.Lambda)):
        return True
    if isinstance(node, ast.Tuple):
        return all(_immutable(e) for e in node.elts)
    if isinstance(node, ast.Subscript):  # a type alias (list[int]) or an item of a constant
        return _immutable(node.value) and _immutable(node.slice)
    if isinstance(node, ast.UnaryOp):
        return _immutable(node.operand)
    if isinstance(node, ast.BinOp):
        return _immutable(node.left) and _immutable(node.right)
    if isinstance(node, ast.Call):
        return (_root_name(node.func) in IMMUTABLE_CALLS
                and all(_immutable(a) for a in node.args)
                and all(_immutable(k.value) for k in node.keywords))
    return False


def _external_names(tree: ast.Module) -> set[str]:
    """Names bound by absolute imports (numpy, dataclasses...): calling them at import time
    runs no code of the submission."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.update(a.asname or a.name for a in node.names)
    return names


class _Inert:
    """Whether top-level statements run only outside code on plain values: imports,
    definitions, assignments of expressions whose calls are of imported or safe built-in
    names, ``if __name__ == "__main__"`` and ``if TYPE_CHECKING`` blocks."""

    def __init__(self, external: set[str]) -> None:
        self.external = external
        self.classes: set[str] = set()

    def block(self, body: list[ast.stmt]) -> bool:
        return all(self.statement(s) for s in body)

    def statement(self, node: ast.stmt) -> bool:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)):
            return True
        if isinstance(node, ast.Expr):
            return isinstance(node.value, ast.Constant)
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            return (all(_names(t) for t in targets)
                    and (node.value is None or self.pure(node.value)))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            defaults = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
            return (all(self.decorator(d) for d in node.decorator_list)
                    and all(self.pure(d) for d in defaults))
        if isinstance(node, ast.ClassDef):
            ok = (all(self.base(b) for b in node.bases)
                  and all(self.pure(k.value) for k in node.keywords)
                  and all(self.decorator(d) for d in node.decorator_list)
                  and not any(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                              and s.name in _HOOKS for s in node.body)
                  and self.block(node.body))
            self.classes.add(node.name)
            return ok
        if isinstance(node, ast.If):
            return _main_guard(node.test) or (_type_checking(node.test) and self.block(
                node.body) and self.block(node.orelse))
        return False

    def base(self, node: ast.expr) -> bool:
        root = _root_name(node)
        return root is not None and (root in self.external or root in self.classes
                                     or root in SAFE_BUILTINS)

    def decorator(self, node: ast.expr) -> bool:
        """A decorator is called at import time: only an imported or safe built-in one."""
        root = _root_name(node.func if isinstance(node, ast.Call) else node)
        return (root is not None and (root in self.external or root in SAFE_BUILTINS)
                and self.pure(node))

    def pure(self, node: ast.expr) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                root = _root_name(sub.func)
                if root is None or not (root in self.external or root in SAFE_BUILTINS):
                    return False
            elif isinstance(sub, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
                return False
        return True


def _names(target: ast.expr) -> bool:
    """Whether an assignment target binds plain names only (``x``, ``a, b``)."""
    if isinstance(target, ast.Tuple | ast.List):
        return all(_names(e) for e in target.elts)
    return isinstance(target, ast.Name)


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")


def _type_checking(test: ast.expr) -> bool:
    return _root_name(test) == "TYPE_CHECKING" or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
