"""Importing a folder as a package under a chosen name, and forgetting it again (tests)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def import_package(folder: Path, name: str) -> ModuleType:
    """Import ``folder`` as a package called ``name`` (call :func:`forget` afterwards)."""
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return package


def forget(name: str) -> None:
    """Remove package ``name`` and its modules from ``sys.modules``."""
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]
