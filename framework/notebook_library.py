"""The course library in a topic's notebook: the student's own ``library/`` folder, imported.

A topic built on the course library imports its pieces with ``from ..library import Linear``.
Its notebook holds, as cells, the library modules with questions of that topic; the
library's other modules (an earlier topic's ``Linear``, Adam...) come from the student's own
``exercises/library/``, next to the topic folder the notebook lives in. The notebook's set-up
cell (written by ``dojo release``) binds what the cells import::

    from nlpdojo.notebook_library import course_library

    _library = course_library("layers", "optim")
    Linear = _library.layers.Linear
    optim = _library.optim

The folder holding the topic folders is imported as the package :data:`PACKAGE` (a name no
student module or installed package has), so the library's own relative imports (``from .init
import xavier_uniform``) work as in ``grade``, and nothing is put on ``sys.path``. Each call
imports the files afresh: re-running the set-up cell picks up edits made in ``library/``.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import re
import sys
import warnings
from pathlib import Path
from types import ModuleType

from nlpdojo.errors import NlpdojoError

#: the package the folder holding the topic folders is imported as
PACKAGE = "nlpdojo_notebook_course"
#: the course library's folder, next to the topic folders
LIBRARY = "library"


#: a stub left in a library module: ``NotImplementedError("neural_networks.affine: not ...``
STUB = re.compile(r"NotImplementedError\(\s*[\"'](?P<topic>[a-z][a-z0-9_]*)\."
                   r"(?P<question>[a-z][a-z0-9_]*): not implemented yet")


class CourseLibraryError(NlpdojoError):
    """The student's ``library/`` folder cannot be found next to the notebook's topic folder."""


class UnansweredLibraryWarning(UserWarning):
    """A library module imported from ``library/`` still has questions to answer."""


def _notebook_folder() -> Path | None:
    """The folder of the notebook this kernel runs, where it can be told (else ``None``)."""
    try:
        from nlpdojo.notebook import _shell, find_notebook

        return find_notebook(None, _shell()).resolve().parent
    except (NlpdojoError, OSError):
        return None


def find_library(start: str | Path | None = None) -> Path:
    """The ``library/`` folder next to the topic folder ``start`` (default: the notebook's
    folder, else the working folder, where Jupyter starts a notebook's kernel). A
    :class:`CourseLibraryError` saying where it looked when there is none."""
    tried: list[Path] = []
    folders = [Path(start)] if start is not None else [f for f in (_notebook_folder(),
                                                                      Path.cwd()) if f]
    for folder in folders:
        candidate = folder.resolve().parent / LIBRARY
        if (candidate / "__init__.py").is_file():
            return candidate
        if candidate not in tried:
            tried.append(candidate)
    raise CourseLibraryError(
        "this notebook builds on the course library, and there is no library/ folder (with its "
        f"__init__.py) next to its topic folder: looked for {', '.join(map(str, tried))}. Keep "
        "the notebook in its topic folder, next to library/, as released (exercises/<topic>/ "
        "and exercises/library/); `dojo release` or your course's download has both.")


def _forget() -> None:
    """Drop what an earlier call imported, so that the files are read again."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def course_library(*modules: str, start: str | Path | None = None) -> ModuleType:
    """The student's course library package, with ``modules`` (``"layers"``...) imported from
    its folder (:func:`find_library`; ``start``: the topic folder) and set as its attributes:
    ``course_library("layers").layers.Linear``."""
    library = find_library(start)
    _forget()
    importlib.invalidate_caches()
    spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(library.parent)]
    sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)
    package = importlib.import_module(f"{PACKAGE}.{LIBRARY}")
    for module in modules:
        importlib.import_module(f"{PACKAGE}.{LIBRARY}.{module}")
    _warn_unanswered(library, modules)
    return package


def _warn_unanswered(library: Path, modules: tuple[str, ...]) -> None:
    """Say which of ``modules`` still hold stubs: work done in an earlier topic's notebook
    lives in its cells, not in ``library/``, until it is copied there."""
    found: dict[str, list[str]] = {}
    for module in modules:
        try:
            text = (library / f"{module}.py").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for match in STUB.finditer(text):
            found.setdefault(match.group("topic"), [])
            if match.group("question") not in found[match.group("topic")]:
                found[match.group("topic")].append(match.group("question"))
    for topic, questions in found.items():
        warnings.warn(
            f"{library} still has unanswered questions of {topic} ({', '.join(questions)}): the "
            "cells that use them will raise NotImplementedError. If you answered them in the "
            f"{topic} notebook, copy those cells (tagged nlpdojo:library.<module>) into the "
            f"files of library/ (`dojo notebook {topic} --save-library` does it), then re-run "
            "this cell.", UnansweredLibraryWarning, stacklevel=3)


__all__ = ["PACKAGE", "CourseLibraryError", "UnansweredLibraryWarning", "course_library",
           "find_library"]
