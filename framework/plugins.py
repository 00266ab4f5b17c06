"""Loading plugins: the built-ins and third-party packages, all through entry points.

Every plugin, built-in or not, is a module named in the ``nlpdojo`` entry-point group. The
built-ins are those shipped in the ``nlpdojo`` distribution itself and always load. Others load
unless ``NLPDOJO_PLUGINS`` restricts them: a comma-separated list of entry-point names to load
(empty: load no third-party plugin). Loading happens once, on first use, never at import.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from nlpdojo import hookspecs
from nlpdojo.errors import PluginError
from nlpdojo.registry import Registry

ENTRY_POINT_GROUP = "nlpdojo"
RESTRICT_ENV = "NLPDOJO_PLUGINS"
BUILTIN_DISTRIBUTION = "nlpdojo"

#: hook name -> registry kind
_HOOK_KINDS = {
    "register_backends": "backend",
    "register_modules": "module",
    "register_losses": "loss",
    "register_optimizers": "optimizer",
    "register_datasets": "dataset",
    "register_exercises": "exercise",
    "register_reporters": "reporter",
}

_manager: pluggy.PluginManager | None = None
_registry: Registry | None = None


def _allowed_third_party() -> set[str] | None:
    """Entry-point names allowed by ``NLPDOJO_PLUGINS``; ``None`` means all."""
    raw = os.environ.get(RESTRICT_ENV)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _is_builtin(ep: EntryPoint) -> bool:
    dist = getattr(ep, "dist", None)
    return dist is not None and dist.metadata["Name"] == BUILTIN_DISTRIBUTION


def _plugin_entry_points() -> list[EntryPoint]:
    allowed = _allowed_third_party()
    chosen = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if _is_builtin(ep) or allowed is None or ep.name in allowed:
            chosen.append(ep)
    # Built-ins first, then third-party by name: registration order is deterministic.
    return sorted(chosen, key=lambda ep: (not _is_builtin(ep), ep.name))


def make_manager(extra_plugins: dict[str, object] | None = None) -> pluggy.PluginManager:
    """A plugin manager with every allowed entry-point plugin (plus ``extra_plugins``) loaded."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    for ep in _plugin_entry_points():
        if pm.get_plugin(ep.name) is not None:
            continue  # the same distribution seen twice on sys.path
        try:
            module = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import failure is reported the same way
            dist = ep.dist.metadata["Name"] if getattr(ep, "dist", None) else "?"
            raise PluginError(
                f"plugin {ep.name!r} (entry point {ep.value!r} from distribution {dist!r}) failed "
                f"to import: {type(exc).__name__}: {exc}. Fix or uninstall it, or leave it out "
                f"with {RESTRICT_ENV}=<comma-separated plugins to load>."
            ) from exc
        _register(pm, module, ep.name)
    for name, plugin in (extra_plugins or {}).items():
        _register(pm, plugin, name)
    return pm


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    try:
        pm.register(plugin, name=name)
        pm.check_pending()  # a misspelled hook name fails here, naming the plugin
    except (pluggy.PluginValidationError, ValueError) as exc:
        pm.unregister(name=name) if pm.get_plugin(name) is not None else None
        raise PluginError(f"plugin {name!r} is invalid: {exc}") from exc


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Call every ``register_*`` hook of every plugin, each with a callback bound to it."""
    registry = Registry()
    for hook_name, kind in _HOOK_KINDS.items():
        caller = getattr(pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order
            impl.function(register=_bound_register(registry, kind, impl.plugin_name))
    return registry


def _bound_register(registry: Registry, kind: str, plugin: str) -> Callable[..., None]:
    def register(name: str, obj: Any, *, backend: str | None = None, **meta: Any) -> None:
        registry.add(kind, name, obj, plugin=plugin, backend=backend, **meta)

    register.__doc__ = f"Register a {kind} on behalf of plugin {plugin!r}."
    return register


def get_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loaded on first use."""
    global _manager
    if _manager is None:
        _manager = make_manager()
    return _manager


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _registry
    if _registry is None:
        _registry = build_registry(get_manager())
    return _registry


def reset() -> None:
    """Forget the loaded plugins (tests; after installing a plugin in a running process)."""
    global _manager, _registry
    _manager = None
    _registry = None


def plugin_origin(name: str) -> str:
    """Where a loaded plugin came from: ``built-in``, ``<distribution> <version>``, or ``local``."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name and getattr(ep, "dist", None) is not None:
            if _is_builtin(ep):
                return "built-in"
            return f"{ep.dist.metadata['Name']} {ep.dist.version}"
    return "local"
