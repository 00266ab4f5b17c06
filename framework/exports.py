"""A package whose modules' public names are its own: ``from ..library import Linear, Adam``.

The course library is one namespace that re-exports every piece (needle's ``nn/__init__.py``):
a topic imports from one place whichever module holds a layer, and a topic that adds a file of
its own (``library/mgu.py`` with ``__all__ = ["MGUCell"]``) is re-exported with no edit
elsewhere. The package's ``__init__.py`` says so in two lines::

    from nlpdojo.exports import reexport

    __getattr__, __dir__ = reexport(__name__)

Which module exports which name is read from each module's ``__all__`` *statically* (the
source parsed, never run), so the grader resolves ``from ..library import Linear`` to
``library/layers.py`` the same way without importing a student's code. At run time a name is
imported on first use (PEP 562) from its own module only: one broken module (a half-written
file that does not parse, or raises at import) breaks only the names it exports, and importing
one of those says which file to fix. A module without ``__all__`` exports nothing through the
package; a name two modules export, or an exported name that is also a module's, is ambiguous
(:meth:`Exports.problems`: ``dojo release`` refuses it; importing it raises).
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ExportsError(ValueError):
    """A module's ``__all__`` cannot be read without running it."""


def declared_all(source: str | bytes) -> tuple[str, ...] | None:
    """The names a module's ``__all__`` lists (``None``: it has none), read from its source:
    top-level ``__all__ = [...]`` (or a tuple, annotated or not) and ``__all__ += [...]`` of
    string literals. A :class:`SyntaxError` for a source that does not parse, an
    :class:`ExportsError` for an ``__all__`` that is not such a literal."""
    found: list[str] | None = None
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets, value, extend = node.targets, node.value, False
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value, extend = [node.target], node.value, False
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
            targets, value, extend = [node.target], node.value, True
        else:
            continue
        if not any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            continue
        if len(targets) != 1 or not isinstance(value, ast.List | ast.Tuple) or not all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts):
            raise ExportsError(f"line {node.lineno}: __all__ is not a list of string literals, "
                               "so what the module exports cannot be read without running it")
        names = [e.value for e in value.elts]
        found = [*(found or []), *names] if extend else names
    return None if found is None else tuple(found)


@dataclass(frozen=True)
class Exports:
    """What the modules of a package export, by their ``__all__``."""

    #: every module of the package (``__init__`` aside), sorted
    modules: tuple[str, ...]
    #: each name exactly one module exports -> that module
    names: Mapping[str, str] = field(default_factory=dict)
    #: each name several modules export -> those modules, sorted
    duplicates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the modules whose ``__all__`` could not be read -> why
    unreadable: Mapping[str, str] = field(default_factory=dict)

    def listing(self, name: str) -> tuple[str, ...]:
        """The modules whose ``__all__`` lists ``name`` (none, one or several)."""
        if name in self.duplicates:
            return self.duplicates[name]
        return (self.names[name],) if name in self.names else ()

    def problems(self, folder: str = "library") -> list[tuple[str, str]]:
        """``(module, message)`` for each thing that makes an import from the package
        ambiguous or blind: a name two modules export, an exported name that is also a
        module's, an ``__all__`` that cannot be read. Files are named ``<folder>/<m>.py``."""
        found: list[tuple[str, str]] = []
        for name, modules in sorted(self.duplicates.items()):
            files = " and ".join(f"{folder}/{m}.py" for m in modules)
            found.append((modules[0], f"{files} both export {name!r} (in __all__), so `from "
                          f"..{folder} import {name}` cannot tell which one is meant; export "
                          "it from one module only, or rename one of them"))
        for name, module in sorted(self.names.items()):
            if name in self.modules:
                found.append((module, f"{folder}/{module}.py exports {name!r}, which is also "
                              f"the module {folder}/{name}.py; rename one of them"))
        for module, why in sorted(self.unreadable.items()):
            found.append((module, f"{folder}/{module}.py: {why}; the package cannot re-export "
                          "its names (write `__all__ = [\"Name\", ...]` of string literals)"))
        return found


def exports_of(sources: Mapping[str, str | bytes]) -> Exports:
    """The :class:`Exports` of modules ``{module: source}``."""
    return _collect({m: _read(s) for m, s in sources.items()})


def folder_exports(folder: str | Path) -> Exports:
    """The :class:`Exports` of the modules of a package folder (its ``*.py`` files but
    ``__init__.py``). Each file is parsed again only when its size or time changed."""
    found: dict[str, tuple[tuple[str, ...] | None, str | None]] = {}
    for path in sorted(Path(folder).glob("*.py")):
        if path.stem == "__init__" or not path.stem.isidentifier():
            continue
        try:
            stat = path.stat()
        except OSError as exc:
            found[path.stem] = (None, f"cannot be read ({exc.strerror})")
            continue
        found[path.stem] = _file_exports(str(path), stat.st_mtime_ns, stat.st_size)
    return _collect(found)


@functools.lru_cache(maxsize=512)
def _file_exports(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, ...] | None,
                                                                  str | None]:
    try:
        return _read(Path(path).read_bytes())
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"


def _read(source: str | bytes) -> tuple[tuple[str, ...] | None, str | None]:
    """``(names in __all__ or None, why it cannot be read or None)``."""
    try:
        return declared_all(source), None
    except SyntaxError as exc:
        return None, f"does not parse (SyntaxError: {exc.msg}, line {exc.lineno})"
    except (ExportsError, ValueError) as exc:
        return None, str(exc)


def _collect(read: Mapping[str, tuple[tuple[str, ...] | None, str | None]]) -> Exports:
    listing: dict[str, list[str]] = {}
    unreadable: dict[str, str] = {}
    for module in sorted(read):
        names, why = read[module]
        if why is not None:
            unreadable[module] = why
        for name in dict.fromkeys(names or ()):
            listing.setdefault(name, []).append(module)
    return Exports(modules=tuple(sorted(read)),
                   names={n: ms[0] for n, ms in sorted(listing.items()) if len(ms) == 1},
                   duplicates={n: tuple(ms) for n, ms in sorted(listing.items()) if len(ms) > 1},
                   unreadable=unreadable)


def uses_reexport(source: str | bytes) -> bool:
    """Whether a package's ``__init__.py`` imports :func:`reexport` (the grader then resolves
    ``from <package> import <name>`` through its modules' ``__all__``)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(node, ast.ImportFrom) and node.module == __name__
               and any(a.name == "reexport" for a in node.names) for node in ast.walk(tree))


def reexport(package: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the package named ``package`` (its
    ``__name__``): every name its modules list in ``__all__`` is an attribute of the package,
    imported from that module when first asked for (never cached: what a module binds is
    looked up each time). A module's own name gives the module (``library.optim``)."""

    def folder() -> Path:
        return Path(next(iter(sys.modules[package].__path__)))

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook (PEP 562)
        here = folder()
        if name == "__all__":  # `from package import *`
            return sorted(folder_exports(here).names)
        if name.startswith("_"):
            raise AttributeError(f"module {package!r} has no attribute {name!r}", name=name)
        if (here / f"{name}.py").is_file():
            return importlib.import_module(f"{package}.{name}")
        return _resolve(package, here, folder_exports(here), name)

    def __dir__() -> list[str]:  # noqa: N807 - the module hook (PEP 562)
        exports = folder_exports(folder())
        return sorted({*vars(sys.modules[package]), *exports.names, *exports.modules})

    return __getattr__, __dir__


def _resolve(package: str, here: Path, exports: Exports, name: str) -> Any:
    """``name`` from the one module that exports it, else an error naming what to fix."""
    shown = here.name
    if name in exports.duplicates:
        files = " and ".join(f"{shown}/{m}.py" for m in exports.duplicates[name])
        raise ImportError(f"cannot import {name!r} from {shown}/: {files} both export it (in "
                          "__all__); export it from one of them only", name=package)
    owner = exports.names.get(name)
    if owner is not None:
        file = here / f"{owner}.py"
        try:
            module = importlib.import_module(f"{package}.{owner}")
        except Exception as exc:
            raise ImportError(
                f"cannot import {name!r} from {shown}/: {shown}/{owner}.py, which exports it, "
                f"does not import ({type(exc).__name__}: {exc}); fix that file first",
                name=package, path=str(file)) from exc
        try:
            return getattr(module, name)
        except AttributeError:
            raise ImportError(f"cannot import {name!r} from {shown}/: {shown}/{owner}.py lists "
                              "it in __all__ but does not define it", name=package,
                              path=str(file)) from None
    failed: list[str] = []
    for module_name in exports.unreadable:  # its __all__ unknown: it may be there
        try:
            module = importlib.import_module(f"{package}.{module_name}")
        except Exception as exc:  # noqa: BLE001 - said below, with the file
            failed.append(f"{shown}/{module_name}.py ({type(exc).__name__}: {exc})")
            continue
        listed = getattr(module, "__all__", None)
        if hasattr(module, name) and (listed is None or name in listed):
            return getattr(module, name)
    if failed:
        raise ImportError(
            f"cannot import {name!r} from {shown}/: no module lists it in __all__, and "
            f"{'; '.join(failed)} does not import, so it may be there; fix that file first",
            name=package)
    close = difflib.get_close_matches(name, list(exports.names), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise AttributeError(f"module {package!r} has no attribute {name!r}: no module of {shown}/ "
                         f"lists it in __all__{hint}", name=name)


__all__ = ["Exports", "ExportsError", "declared_all", "exports_of", "folder_exports",
           "reexport", "uses_reexport"]
