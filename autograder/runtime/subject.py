"""The code under test: a student's folder (in the sandboxed worker) or the reference (trusted).

:class:`StudentCode` runs in the worker. It never holds reference code: where a check swaps
the reference in for an earlier question ("no double charge": a bug in ``softmax`` costs
points on the softmax question only, not again on every question that calls it), every name
bound to the student's function of that question, in every module of the student's package,
is rebound to a *proxy* that sends the call to the grader, which checks it and has the
reference process run it (:mod:`.callbacks`), and the result comes back
(:mod:`.worker`). A module that does not import at all (a syntax error in
softmax.py) is stood in for by a module of such proxies during the check. Given code that a
check relies on (a training loop and its budget) arrives as source text from the grader and
replaces the submission's copy.

:class:`ReferenceCode` is the reference solutions, trusted code: an installed package, or a
folder of solutions being released (``dojo release``); in the grader's process, and in the
reference process, where :class:`Fence` keeps the code of the questions not swapped in for a
check from running.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from nlpdojo.plugins import bringing_plugins
from nlpdojo_autograder.runtime.calls import MissingName
from nlpdojo_autograder.runtime.loader import LIBRARY, forget_package, load_folder_package
from nlpdojo_autograder.runtime.objects import StateError, exact_class

#: ``call(module, name, args, kwargs)``: run the reference's ``module.name`` on the trusted side
ReferenceCall = Callable[[str, str, tuple, dict], Any]
#: the grader's package: in the worker only :data:`WORKER_MODULES` of it can be imported (the
#: rest, checks, metrics, fixtures, is the grader's; the analogy metric is a question's answer)
GRADER_PACKAGE = "nlpdojo_autograder"
#: the modules of :data:`GRADER_PACKAGE` the worker runs on, named below it: the runtime's
#: worker side (``runtime.probes`` and ``runtime.objects``: the generic procedures the
#: builders' checks run on the code under test and the state of an object crossing for a
#: swapped method; they compare nothing; ``runtime.lifetime``: the worker ends with its
#: grader; ``runtime.processes``: it starts no process; ``runtime.executed``: ``dojo
#: verify``'s record of what a check ran; ``runtime.signatures``: a call whose arguments do not
#: fit the code under test's signature is told so; ``runtime.callbacks``: what a check lets
#: the student's code ask of the reference process, which refuses the rest), and
#: ``plugin``, ``grading.results`` and
#: ``grading.reporting``: loaded with the plugins, they register and format, they check
#: nothing. The packages above a module (``runtime``) come with it, their ``__init__`` only.
WORKER_MODULES = ("runtime.worker", "runtime.worker_main", "runtime.channel", "runtime.calls",
                  "runtime.subject", "runtime.loader", "runtime.probes", "runtime.objects",
                  "runtime.untrusted", "runtime.replies", "runtime.lifetime", "runtime.processes",
                  "runtime.executed", "runtime.frozen", "runtime.reflection",
                  "runtime.signatures", "runtime.callbacks", "runtime.forkserver", "plugin",
                  "grading.results", "grading.reporting")
#: tools the course gives students for their own use that answer a question when graded code
#: imports them (``nlpdojo.gradcheck`` is the central-difference checker that
#: a topic's gradcheck question asks students to write): refused to graded code, with why
COURSE_TOOLS = {
    "nlpdojo.gradcheck": "is a tool for checking your gradients in a notebook or a test, not "
                         "for graded code: graded code computes its own (the gradcheck "
                         "question asks you to write central differences yourself)",
}
#: packages that compute derivatives for the code that calls them (automatic, symbolic or
#: numerical differentiation): a backward pass written with one is not written at all. The
#: grader hides (sandbox) and refuses (import blocker) each of them to graded code, except
#: those the backend itself runs on (``BackendSpec.packages``: torch on the torch backend,
#: where :func:`nlpdojo_autograder.runtime.worker.disable_autograd` turns its autograd off)
DIFFERENTIATION_ENGINES = ("torch", "functorch", "jax", "jaxlib", "autograd", "tensorflow",
                           "mxnet", "sympy", "mpmath", "numdifftools", "findiff",
                           "scipy.differentiate")
ENGINE_REFUSAL = ("is not available to graded code: it would compute the derivatives for you, "
                  "and the backward pass is yours to write (with this backend's array "
                  "namespace, xp)")
#: the check-building API an exercise pack's plugin module may import when it is loaded (in
#: the worker too, before any student code runs): the authoring facade and the modules it
#: imports (``authoring.planted`` and ``authoring.markers``: a topic places its withheld
#: bugs by the solution blocks, which a worker never does, the withheld bugs being hidden
#: there); generic, it answers no question; the sandbox shows it, the import blocker refuses
#: it to student code like the rest
PACK_API_MODULES = ("authoring", "authoring.topic", "authoring.checks", "authoring.context",
                    "authoring.kinds", "authoring.properties", "authoring.compare",
                    "authoring.inputs",
                    "authoring.at_scale", "authoring.reference_runs", "authoring.planted",
                    "authoring.markers", "authoring.returned", "authoring.deferred",
                    "authoring.builders",
                    *(f"authoring.builders.{shape}" for shape in (
                        "cases", "choices", "dropout", "function", "layer", "loss", "metric",
                        "optimizer", "padded", "points", "saturation", "sequence", "torch_cnn",
                        "torch_oracle", "torch_stack", "train_eval", "vectorization", "wire")))


class StudentCode:
    """A student's topic folder imported as a package, with swap-in by proxy."""

    def __init__(self, folder: Path, topic: str, *,
                 question_functions: dict[str, list[tuple[str, str | None]]],
                 reference_names: dict[str, list[str]],
                 given_sources: dict[str, str], hanging_modules: dict[str, float],
                 reference_call: ReferenceCall, blocked_packages: Iterable[str] = (),
                 refused_modules: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.topic = topic
        self.question_functions = question_functions
        self.reference_names = reference_names
        self.given_sources = given_sources
        self.hanging_modules = hanging_modules
        #: ``{"<topic or library>.<module>": why}``: modules that break the code rules, read by
        #: the grader before this process started (:mod:`.code_rules`), never imported
        self.refused_modules = dict(refused_modules or {})
        self.reference_call = reference_call
        # the course folder: the library's files are the student's code too
        self.code_dir = str(folder.resolve().parent)
        self.blocked = tuple(blocked_packages)
        self._package: str | None = None
        self._preloaded = False
        self._given: dict[str, ModuleType] = {}
        self._given_errors: dict[str, Exception] = {}
        self._swapped: list[tuple[ModuleType, str, Any]] = []
        self._withheld: frozenset[tuple[str, str]] = frozenset()
        #: the withheld functions the student's code called in this check (for the message:
        #: a mistake in one of them shows in the check too)
        self.withheld_called: set[tuple[str, str]] = set()
        self._stand_ins: set[str] | None = None
        self._originals: dict[tuple[str, str], Any] = {}
        #: (module, name) pairs whose proxies are live in the current check
        self.live: set[tuple[str, str]] = set()

    def seal(self) -> None:
        """Before any student code runs: the reference packages and the grader's own modules
        (but the worker's) cannot be imported (defence in depth; in the OS sandbox their files
        are not there at all)."""
        for top in self.blocked:
            _forget(top)
            sys.meta_path.insert(0, _Blocker(
                top, ENGINE_REFUSAL if top in DIFFERENTIATION_ENGINES else
                "is not available to submitted code: write your own implementation"))
        for tool, why in COURSE_TOOLS.items():
            _forget(tool)
            sys.meta_path.insert(0, _Blocker(tool, why))
        allowed = tuple(f"{GRADER_PACKAGE}.{m}" for m in WORKER_MODULES)
        _forget(GRADER_PACKAGE, keep=allowed)
        sys.meta_path.insert(0, _Blocker(GRADER_PACKAGE, "is the grader's, not available to "
                                         "submitted code", allowed=allowed))
        for plugin in bringing_plugins():  # a course: its plugin module only, never its topics
            package = plugin.__name__.rpartition(".")[0]
            if package:
                _forget(package, keep=(plugin.__name__,))
                sys.meta_path.insert(0, _Blocker(package, "is the grader's, not available to "
                                                 "submitted code", allowed=(plugin.__name__,)))

    @property
    def package(self) -> str:
        if self._package is None:
            if self.topic in self.refused_modules:  # its __init__.py: never run
                raise ImportError(self.refused_modules[self.topic])
            self._package = load_folder_package(self.folder, self.topic)
            if self.hanging_modules:  # before anything imports one of them, given code too
                sys.meta_path.insert(0, _HangingBlocker(self._package, self.hanging_modules))
            if self.refused_modules:
                course = self._package.rsplit(".", 1)[0]
                sys.meta_path.insert(0, _RefusedBlocker(course, self.refused_modules))
            for name, source in self.given_sources.items():
                try:
                    self._given[name] = self._install_given(name, source)
                except Exception as exc:  # noqa: BLE001 - said by the checks that use it
                    # (a module of the submission it imports fails, or hung before): never
                    # the submission's own copy in its place
                    self._given_errors[name] = exc
        return self._package

    def _install_given(self, name: str, source: str) -> ModuleType:
        """The instructor's copy of given module ``name``, as ``<package>.<name>``."""
        full = f"{self._package}.{name}"
        module = types.ModuleType(full)
        module.__package__ = self._package
        module.__file__ = f"<given {name}.py>"
        sys.modules[full] = module
        try:
            exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
        except BaseException:
            del sys.modules[full]
            raise
        return module

    def module(self, name: str) -> ModuleType:
        if name in self.hanging_modules:
            raise MissingName(_hanging_message(name, self.hanging_modules[name]))
        refused = self.refused_modules.get(
            name[2:] if name.startswith("..") else f"{self.topic}.{name}")
        if refused is not None:
            raise ImportError(refused)
        self._preload()
        return _import(self.package, name, f"{_display(name)} is missing from the submission; "
                                           "keep the files of the released exercise")

    def given(self, name: str) -> ModuleType:
        self._preload()
        if name in self._given_errors:
            raise self._given_errors[name]
        return self._given[name] if name in self._given else self.module(name)

    def module_names(self) -> list[str]:
        """Import every module of the submission (errors resurface in the checks that need
        the module); the names of those that imported."""
        try:
            self._preload()
        except Exception:  # noqa: BLE001 - the package itself: its checks report why
            return []
        return sorted(n.rsplit(".", 1)[1] for n in sys.modules
                      if n.startswith(self.package + ".") and sys.modules[n] is not None)

    def _preload(self) -> None:
        """Import every module of the package once, before any swap, so that no module binds
        a proxy at its own import time (and keeps it after the restore)."""
        if self._preloaded:
            return
        self._preloaded = True
        names = [p.stem for p in sorted(self.folder.glob("*.py"))
                 if p.stem != "__init__" and p.stem not in self.given_sources]
        library = self.folder.parent / LIBRARY
        if library.is_dir() and library != self.folder:  # the course library, next to the topic
            names += [f"..{LIBRARY}.{p.stem}" for p in sorted(library.glob("*.py"))
                      if p.stem != "__init__"]
        for name in names:
            try:
                self.module(name)
            except Exception:  # noqa: BLE001 - resurfaces in the check that imports it
                pass

    # -- swap-in ----------------------------------------------------------------------------
    def swap(self, questions: Iterable[str],
             withheld: Collection[tuple[str, str]] = ()) -> None:
        """Swap the reference in for ``questions``' functions and methods, but ``withheld``:
        ``(module, function)`` pairs of them that stay the student's own (the reference of
        the question under test never reaches them: :mod:`~nlpdojo_autograder.authoring.reach`)."""
        questions = tuple(questions)
        if not questions:
            return
        self._withheld = frozenset(withheld)
        self._preload()
        self._stand_in(questions)
        for question in questions:
            self._swap(question)

    def _proxy(self, module: str, name: str) -> Callable[..., Any]:
        call = self.reference_call

        def proxy(*args: Any, **kwargs: Any) -> Any:
            return call(module, name, args, kwargs)

        proxy.__name__ = proxy.__qualname__ = name
        proxy.__doc__ = f"The reference {module}.{name}, run by the grader (swapped in)."
        self.live.add((module, name))
        return proxy

    def _method_proxy(self, module: str, qualname: str) -> Callable[..., Any]:
        """A method that runs the reference's on the object's state (objects.py)."""
        call = self.reference_call

        def proxy(instance: Any, *args: Any, **kwargs: Any) -> Any:
            return call(module, qualname, args, kwargs, instance=instance)

        proxy.__name__ = qualname.rsplit(".", 1)[1]
        proxy.__qualname__ = qualname
        proxy.__doc__ = f"The reference {module}.{qualname}, run by the grader (swapped in)."
        self.live.add((module, qualname))
        return proxy

    @property
    def course(self) -> str:
        """The course package: the topic's and the library's modules are under it."""
        return self.package.rsplit(".", 1)[0]

    def _stand_in(self, questions: tuple[str, ...]) -> None:
        """A module of a swapped-in question that does not import is replaced, during this
        check, by a module of proxies to the reference's functions, so that ``from .softmax
        import softmax`` in the student's naive_softmax.py works. A function of the module
        that belongs to a question not swapped in (the question under test, in the same file)
        is no proxy: it raises the module's own import error."""
        for question in questions:
            for module_name, _ in self.question_functions.get(question, []):
                full = full_name(self.package, module_name)
                if full in sys.modules or module_name not in self.reference_names:
                    continue
                try:
                    self.module(module_name)
                except Exception as exc:  # noqa: BLE001 - its own checks report why
                    if self._stand_ins is None:
                        self._stand_ins = {n for n in sys.modules if n.startswith(self.course)}
                    sys.modules[full] = self._stand_in_module(full, module_name, questions, exc)

    def _stand_in_module(self, full: str, module_name: str, questions: tuple[str, ...],
                         error: Exception) -> ModuleType:
        owned = {(m, f): q for q, pairs in self.question_functions.items() for m, f in pairs}
        stand_in = types.ModuleType(full)
        stand_in.__package__ = full.rsplit(".", 1)[0]
        for name in self.reference_names[module_name]:
            owner = owned.get((module_name, name))
            setattr(stand_in, name, self._proxy(module_name, name)
                    if (owner is None or owner in questions)
                    and (module_name, name) not in self._withheld
                    else _unimportable(module_name, name, error))

        def other(name: str) -> Any:  # PEP 562: a name the reference's functions do not hold
            if name.startswith("__"):  # the import system's questions: not there
                raise AttributeError(name)
            raise _import_failure(module_name, name, error)  # a class of the question under test

        stand_in.__getattr__ = other  # type: ignore[method-assign]
        return stand_in

    def _swap(self, question: str) -> None:
        prefix = self.course + "."
        student_modules = [m for n, m in list(sys.modules.items())
                           if n.startswith(prefix) and m is not None]
        for module_name, func_name in self.question_functions.get(question, []):
            if func_name is None:  # a block outside any function: nothing to rebind
                continue
            if "." in func_name:
                self._swap_method(module_name, func_name)
                continue
            key = (module_name, func_name)
            if key not in self._originals:
                try:
                    self._originals[key] = getattr(self.module(module_name), func_name)
                except Exception:  # noqa: BLE001 - the module does not import: nothing to swap
                    continue
            original = self._originals[key]
            # withheld: the student's own, noted where called; else the reference's proxy
            proxy = (_noting(original, key, self.withheld_called) if key in self._withheld
                     else self._proxy(module_name, func_name))
            for mod in student_modules:
                for attr, value in list(vars(mod).items()):
                    if value is original:
                        self._swapped.append((mod, attr, original))
                        setattr(mod, attr, proxy)

    def _swap_method(self, module_name: str, qualname: str) -> None:
        """``Class.method`` of the student's ``module_name`` runs the reference's method on
        the object's state; every object of the class (and of its subclasses that do not
        override the method) sees it."""
        owner_name, method = qualname.rsplit(".", 1)
        try:
            owner: Any = self.module(module_name)
            for part in owner_name.split("."):
                owner = getattr(owner, part)
        except Exception:  # noqa: BLE001 - the module does not import: nothing to swap
            return
        if not isinstance(owner, type):
            return
        self._swapped.append((owner, method, owner.__dict__.get(method, _ABSENT)))
        setattr(owner, method, self._method_proxy(module_name, qualname))

    def restore(self) -> None:
        """Undo every swap-in (after each check)."""
        for mod, attr, original in reversed(self._swapped):
            if original is _ABSENT:
                delattr(mod, attr)
            else:
                setattr(mod, attr, original)
        self._swapped.clear()
        self.live.clear()
        self._withheld = frozenset()
        self.withheld_called.clear()
        if self._stand_ins is not None:
            # forget the stand-ins and every module of the student's imported next to them
            for name in [n for n in sys.modules
                         if n.startswith(self.course + ".") and n not in self._stand_ins
                         and n != self.package]:
                del sys.modules[name]
            self._stand_ins = None
            self._originals.clear()
            for name, module in self._given.items():
                sys.modules[f"{self.package}.{name}"] = module


def _noting(original: Callable[..., Any], key: tuple[str, str],
            called: set[tuple[str, str]]) -> Callable[..., Any]:
    """``original`` (the student's own function of a swapped-in question, withheld), which
    adds ``key`` to ``called`` when it runs."""
    @functools.wraps(original)
    def noted(*args: Any, **kwargs: Any) -> Any:
        called.add(key)
        return original(*args, **kwargs)

    return noted


class ReferenceCode:
    """The reference solutions, trusted code: the installed package ``package``, or (``dojo
    release``) the solutions in ``folder``. In the grader's process for the grader's own
    inputs; in the reference process (:class:`~.worker.ReferenceWorker`)
    for a swapped-in question called by a student's code."""

    _loads = 0

    def __init__(self, package: str, folder: Path | None = None, topic: str = "") -> None:
        self._package = package
        self.folder = folder
        self.topic = topic
        self._folder_package: str | None = None
        if folder is not None:
            self.code_dir = str(folder.resolve())
        else:
            spec = importlib.util.find_spec(package)
            self.code_dir = (str(Path(spec.origin).parent) if spec and spec.origin else "")

    @property
    def package(self) -> str:
        if self.folder is None:
            return self._package
        if self._folder_package is None:  # a fresh import: the folder may have changed
            ReferenceCode._loads += 1
            self._folder_package = load_folder_package(
                self.folder, self.topic, tag=f"release{ReferenceCode._loads}")
        return self._folder_package

    def spec(self) -> dict[str, str | None]:
        """What another process needs to load the same code (:meth:`from_spec`)."""
        return {"package": self._package, "topic": self.topic,
                "folder": None if self.folder is None else str(self.folder.resolve())}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> ReferenceCode:
        folder = spec.get("folder")
        return cls(str(spec["package"]), None if folder is None else Path(folder),
                   str(spec.get("topic") or ""))

    def folders(self) -> list[Path]:
        """The folders this code is read from, which the reference process's sandbox shows
        read-only: a release's course folder (the topic and the library next to it), or the
        installed package's top-level folders (the topic imports ``..library``)."""
        if self.folder is not None:
            return [self.folder.resolve().parent]
        top = self._package.split(".", 1)[0]
        spec = importlib.util.find_spec(top)
        if spec is None:
            return []
        if spec.submodule_search_locations:
            return [Path(p).resolve() for p in spec.submodule_search_locations]
        return [Path(spec.origin).resolve().parent] if spec.origin else []

    def forget(self) -> None:
        """Drop a folder's modules from ``sys.modules`` (the next load reads the files)."""
        if self._folder_package is not None:
            forget_package(self._folder_package)
            self._folder_package = None

    def module(self, name: str) -> ModuleType:
        return _import(self.package, name, f"the reference has no module {name}.py")

    def source_path(self, name: str) -> Path | None:
        """The file of module ``name``, found without running it (its parent packages are
        imported, not the module: the grader reads a reference module's names and given
        code without paying its imports, such as SciPy's statistics); None: no such module."""
        try:
            spec = importlib.util.find_spec(full_name(self.package, name))
        except ModuleNotFoundError:
            return None
        return Path(spec.origin) if spec is not None and spec.origin else None

    def given(self, name: str) -> ModuleType:
        return self.module(name)


class NotSwappedIn(Exception):
    """Reference code of a question that is not swapped in for the check was reached."""


class Fence:
    """Keeps the reference code of every question that is not swapped in for a check from
    running in the reference process during that check: each such function, in every module
    of the reference course that binds it, and each such method, on its class, is replaced by
    one that raises :class:`NotSwappedIn`. So a swapped-in reference never runs the code of
    the question under test, whatever it is handed (a helper that calls it, an object graph
    that leads to it): the grader refuses such requests first; this is the second wall."""

    def __init__(self, code: ReferenceCode) -> None:
        self.code = code
        self._methods: list[tuple[type, str, Any]] = []
        self._blockers: dict[int, Any] = {}  # id(blocker) -> the original function
        self._closed: tuple[tuple[str, ...], ...] = ()

    def close(self, blocked: Iterable[tuple[str, str, str]]) -> None:
        """Block ``(module, name, question)`` for the next check (the last check's undone;
        kept as it is when the next check blocks the same)."""
        blocked = tuple(tuple(b) for b in blocked)
        if blocked == self._closed:
            return
        self.open()
        self._closed = blocked
        for module_name, name, question in blocked:
            try:
                module = self.code.module(module_name)
            except Exception:  # noqa: BLE001 - a module the reference lacks: nothing to block
                continue
            if "." in name:
                self._block_method(module, name, question)
            else:
                self._block_function(module, name, question)

    def open(self) -> None:
        """Undo every block (also in modules imported while it was closed)."""
        self._closed = ()
        for owner, method, original in reversed(self._methods):
            if original is _ABSENT:
                delattr(owner, method)
            else:
                setattr(owner, method, original)
        self._methods.clear()
        if self._blockers:
            for module in self._course_modules():
                for attr, value in list(vars(module).items()):
                    if id(value) in self._blockers:
                        setattr(module, attr, self._blockers[id(value)])
        self._blockers.clear()

    def _block_method(self, module: ModuleType, qualname: str, question: str) -> None:
        owner_name, method = qualname.rsplit(".", 1)
        try:
            owner = exact_class(module, owner_name)
        except StateError:
            return
        self._methods.append((owner, method, owner.__dict__.get(method, _ABSENT)))
        setattr(owner, method, _blocker(qualname, question))

    def _block_function(self, module: ModuleType, name: str, question: str) -> None:
        original = vars(module).get(name)
        if not callable(original):
            return
        blocker = _blocker(name, question)
        self._blockers[id(blocker)] = original
        for mod in self._course_modules():
            for attr, value in list(vars(mod).items()):
                if value is original:
                    setattr(mod, attr, blocker)

    def _course_modules(self) -> list[ModuleType]:
        course = self.code.package.rsplit(".", 1)[0]
        return [m for n, m in list(sys.modules.items())
                if (n == course or n.startswith(course + ".")) and m is not None]


def _import_failure(module: str, name: str, error: Exception) -> ImportError:
    """Why ``name`` of ``module``, a module that does not import, cannot be used."""
    why = f"{type(error).__name__}: {error}"[:1000]
    return ImportError(f"{_display(module)} could not be imported ({why}), so {name} cannot "
                       "run; fix that file first")


def _unimportable(module: str, name: str, error: Exception) -> Callable[..., Any]:
    """Stands in for ``name`` of a module that does not import: says why, when called."""
    def unimportable(*args: Any, **kwargs: Any) -> Any:
        raise _import_failure(module, f"{name}()", error)

    unimportable.__name__ = unimportable.__qualname__ = name
    return unimportable


def _blocker(name: str, question: str) -> Callable[..., Any]:
    def blocked(*args: Any, **kwargs: Any) -> Any:
        raise NotSwappedIn(f"the reference reached {name}(), the code of question {question}, "
                           "which is not swapped in for this check: a swapped-in reference "
                           "runs only the code of the questions it stands in for")

    blocked.__name__ = name.rsplit(".", 1)[-1]
    blocked.__qualname__ = name
    return blocked


def full_name(package: str, name: str) -> str:
    """The import name of module ``name`` of topic package ``package``: ``softmax`` is the
    topic's own module, ``..library.layers`` one of the course library's (a relative name, as
    the topic's code would import it)."""
    return importlib.util.resolve_name(name if name.startswith(".") else "." + name, package)


def _display(name: str) -> str:
    """``softmax`` -> ``softmax.py``; ``..library.layers`` -> ``library/layers.py``."""
    return name.lstrip(".").replace(".", "/") + ".py"


def _import(package: str, name: str, missing: str) -> ModuleType:
    """Module ``name`` of ``package`` (see :func:`full_name`); ``MissingName(missing)`` when
    there is no such file (an import error inside the module propagates as it is)."""
    full = full_name(package, name)
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name != full:
            raise
        raise MissingName(missing) from exc


_ABSENT = object()  # a swapped method the class only inherited: deleted again on restore


def _forget(top: str, keep: tuple[str, ...] = ()) -> None:
    """Drop ``top`` and its modules from ``sys.modules`` and from the attributes of the
    packages above them; with ``keep`` (modules of ``top`` to keep), the packages above them
    (``top`` too) stay."""
    for name in [n for n in sys.modules if (n == top and not keep) or (
            n.startswith(top + ".") and not any(n == k or n.startswith(k + ".")
                                                or k.startswith(n + ".") for k in keep))]:
        del sys.modules[name]
        parent, _, child = name.rpartition(".")
        if parent in sys.modules and sys.modules[parent] is not None:
            try:
                delattr(sys.modules[parent], child)
            except AttributeError:
                pass


class _Blocker:
    """A meta-path finder that refuses one top-level package and its modules (but the
    modules ``allowed``, the packages above them included: ``top`` itself when one is)."""

    def __init__(self, top: str, why: str, allowed: tuple[str, ...] = ()) -> None:
        self.top, self.why, self.allowed = top, why, allowed

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if any(name == a or name.startswith(a + ".") or a.startswith(name + ".")
               for a in self.allowed):
            return None
        if name == self.top or name.startswith(self.top + "."):
            raise ImportError(f"{name} {self.why}", name=name)
        return None


def _hanging_message(name: str, seconds: float) -> str:
    return (f"importing {name}.py took longer than {seconds:g} s and was stopped: code at the "
            "top level of a file runs when it is imported; move loops and experiments into "
            "functions (or under `if __name__ == \"__main__\":`)")


class _RefusedBlocker:
    """Fails the import of a module that breaks the code rules (:mod:`.code_rules`), and of
    the packages whose ``__init__.py`` does: it never runs."""

    def __init__(self, course: str, refused: dict[str, str]) -> None:
        self.names = {f"{course}.{key}": why for key, why in refused.items()}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name in self.names:
            raise ImportError(self.names[name], name=name)
        return None


class _HangingBlocker:
    """Fails the import of a module whose import hung in an earlier worker, at once."""

    def __init__(self, package: str, hanging: dict[str, float]) -> None:
        self.names = {f"{package}.{name}": (name, seconds) for name, seconds in hanging.items()}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name in self.names:
            raise ImportError(_hanging_message(*self.names[name]), name=name)
        return None
