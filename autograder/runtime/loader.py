"""Importing a topic's code: the reference solutions, or a student's folder, as a package.

A student's ``exercises/<topic>/`` folder is imported under a private package name, so its
relative imports (``from .softmax import softmax``) work and it can never shadow or be
shadowed by the installed ``nlpdojo_solutions`` package.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from nlpdojo.errors import NlpdojoError

REFERENCE_PACKAGE = "nlpdojo_solutions"
SUBMISSION_PREFIX = "nlpdojo_submission"
#: the course library's folder and package name, next to the topics (``solutions/library``)
LIBRARY = "library"
#: the files of a topic's folder (and the library's) that its grading's worker receives,
#: the rest left out: its modules, and the text its code may read beside them
CODE_SUFFIXES = (".py", ".txt", ".json", ".md")


class SubmissionImportError(NlpdojoError):
    """The student's package could not be imported at all."""


def reference_available(package: str) -> bool:
    """Whether a reference package (``nlpdojo_solutions.<topic>``) is installed."""
    try:
        return importlib.util.find_spec(package) is not None
    except ModuleNotFoundError:
        return False


def load_folder_package(folder: Path, topic: str, *, tag: str = "") -> str:
    """Register ``folder`` as topic ``topic`` of a course package and return its import name.

    ``folder`` holds the topic's modules (``softmax.py``...). Its parent folder becomes the
    course package (``nlpdojo_submission[_<tag>]``) and the topic one of its subpackages, so
    that topic code reaches the course library, the sibling folder ``library/``, with a
    relative import (``from ..library.layers import Linear``), exactly as the reference does
    (``nlpdojo_solutions.<topic>`` next to ``nlpdojo_solutions.library``). An ``__init__.py``
    is used when present; without one the folder is still importable. ``tag`` keeps several
    submissions apart in one process.
    """
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise SubmissionImportError(f"no folder {folder} for topic {topic!r}")
    course = f"{SUBMISSION_PREFIX}_{tag}" if tag else SUBMISSION_PREFIX
    name = f"{course}.{topic}"
    if name in sys.modules:
        return name
    if course not in sys.modules:
        spec = importlib.machinery.ModuleSpec(course, None, is_package=True)
        spec.submodule_search_locations = [str(folder.parent)]
        sys.modules[course] = importlib.util.module_from_spec(spec)
    elif list(sys.modules[course].__path__) != [str(folder.parent)]:
        raise SubmissionImportError(
            f"{folder} is not in the course folder {list(sys.modules[course].__path__)} "
            f"already loaded as {course}; grade one course folder at a time")
    _load_package(name, folder)
    return name


def _load_package(name: str, folder: Path) -> ModuleType:
    """``folder`` imported as package ``name`` (its ``__init__.py`` run where there is one)."""
    init = folder / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(folder)])
    else:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    if spec is None:
        raise SubmissionImportError(f"cannot import {folder} as a package")
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        if spec.loader is not None:
            spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[name]
        raise
    return package


def forget_package(name: str) -> None:
    """Drop package ``name``, its modules and (for a topic) its course package, from
    ``sys.modules``: the next load reads the files again."""
    course = name.rsplit(".", 1)[0] if "." in name else name
    for key in [n for n in sys.modules if n == course or n.startswith(course + ".")]:
        del sys.modules[key]


def load_folder_module(folder: Path, topic: str, module: str, *, tag: str = "") -> ModuleType:
    """``<folder>/<module>.py`` imported as part of the folder's package."""
    package = load_folder_package(folder, topic, tag=tag)
    return importlib.import_module(f"{package}.{module}")


def load_reference_dir(package: str) -> Path:
    """The folder of an installed reference package."""
    spec = importlib.util.find_spec(package) if reference_available(package) else None
    if spec is None or not spec.submodule_search_locations:
        raise SubmissionImportError(f"the reference solutions {package!r} are not installed")
    return Path(list(spec.submodule_search_locations)[0])
