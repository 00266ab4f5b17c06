"""The built-in course's plugin: every topic folder of :mod:`nlpdojo_course` becomes a plugin
of its own (``course.<topic>``), implementing ``register_exercises``, ``register_trainers``
and ``register_commands`` itself, exactly as a third-party exercise pack does."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

import nlpdojo_course
from nlpdojo.errors import failure_site
from nlpdojo.hookspecs import hookimpl


def topic_modules() -> list[tuple[str, ModuleType | ImportError]]:
    """``(course.<topic>, module)`` for every topic folder (a package of this one), by name; a
    folder that fails to import is ``(course.<topic>, ImportError)`` naming the line of the
    topic's own file where it failed (a declaration's mistake, not the engine line that
    refused it), and is left out while the other topics load."""
    found = sorted(m.name for m in pkgutil.iter_modules(nlpdojo_course.__path__) if m.ispkg)
    modules: list[tuple[str, ModuleType | ImportError]] = []
    for name in found:
        try:
            modules.append((f"course.{name}", importlib.import_module(f"nlpdojo_course.{name}")))
        except Exception as exc:  # noqa: BLE001 - any failure of the topic's own code
            folder = Path(nlpdojo_course.__path__[0]) / name
            error = ImportError(f"topic folder course/{name} failed to import: "
                                f"{type(exc).__name__}: {exc}{failure_site(exc, within=folder)}")
            error.__cause__ = exc  # the traceback, for NLPDOJO_DEBUG and the install check
            modules.append((f"course.{name}", error))
    return modules


@hookimpl
def plugin_modules():
    return topic_modules()
