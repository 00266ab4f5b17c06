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


class SubmissionImportError(NlpdojoError):
    """The student's package could not be imported at all."""


def reference_available(package: str) -> bool:
    """Whether a reference package (``nlpdojo_solutions.<topic>``) is installed."""
    try:
        return importlib.util.find_spec(package) is not None
    except ModuleNotFoundError:
        return False


def load_folder_package(folder: Path, topic: str, *, tag: str = "") -> str:
    """Register ``folder`` as a package and return its import name.

    ``folder`` holds the topic's modules (``softmax.py``...). An ``__init__.py`` is used when
    present; without one the folder is still importable. ``tag`` keeps several submissions
    of one topic apart in one process.
    """
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise SubmissionImportError(f"no folder {folder} for topic {topic!r}")
    name = f"{SUBMISSION_PREFIX}_{tag}_{topic}" if tag else f"{SUBMISSION_PREFIX}_{topic}"
    if name in sys.modules:
        return name
    init = folder / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, init if init.is_file() else None, submodule_search_locations=[str(folder)]
    ) if init.is_file() else importlib.machinery.ModuleSpec(name, None, is_package=True)
    if spec is None:
        raise SubmissionImportError(f"cannot import {folder} as a package")
    if not init.is_file():
        spec.submodule_search_locations = [str(folder)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        if spec.loader is not None:
            spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[name]
        raise
    return name


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
