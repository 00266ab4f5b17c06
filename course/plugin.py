"""The built-in course's plugin: every topic folder of :mod:`nlpdojo_course` becomes a plugin
of its own (``course.<topic>``), implementing ``register_exercises``, ``register_trainers``
and ``register_commands`` itself, exactly as a third-party exercise pack does."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import nlpdojo_course
from nlpdojo.errors import failure_site
from nlpdojo.hookspecs import hookimpl


def topic_modules() -> list[tuple[str, ModuleType]]:
    """``(course.<topic>, module)`` for every topic folder (a package of this one), by name."""
    found = sorted(m.name for m in pkgutil.iter_modules(nlpdojo_course.__path__) if m.ispkg)
    modules = []
    for name in found:
        try:
            modules.append((f"course.{name}", importlib.import_module(f"nlpdojo_course.{name}")))
        except Exception as exc:
            raise ImportError(f"topic folder course/{name} failed to import: "
                              f"{type(exc).__name__}: {exc}{failure_site(exc)}") from exc
    return modules


@hookimpl
def plugin_modules():
    return topic_modules()
