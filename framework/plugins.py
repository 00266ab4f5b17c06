"""Loading plugins: the built-ins and third-party packages, all through entry points.

Every plugin, built-in or not, is a module named in the ``nlpdojo`` entry-point group. The
built-ins are those shipped in the ``nlpdojo`` distribution itself and always load. Others load
unless ``NLPDOJO_PLUGINS`` restricts them: a comma-separated list of entry-point names to load
(empty: load no third-party plugin; a name no installed plugin has is warned about, as a
:class:`PluginWarning`). Loading happens once, on first use, never at import.

The entry points chosen are kept as :class:`ChosenPlugin` (name, value, distribution): the
autograder hands its workers the grader's (:func:`chosen_plugins`), so that a worker loads the
same plugins without reading every installed distribution's metadata again.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import os
import re
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from nlpdojo import hookspecs
from nlpdojo.errors import NlpdojoError, PluginError, failure_site
from nlpdojo.registry import Registry

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

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
    "register_trainers": "trainer",
    "register_model_kinds": "model_kind",
}

#: the hook by which a plugin brings modules of its own (not a registry kind)
BRING_HOOK = "plugin_modules"

_manager: pluggy.PluginManager | None = None
_registry: Registry | None = None


def _allowed_third_party() -> set[str] | None:
    """Entry-point names allowed by ``NLPDOJO_PLUGINS``; ``None`` means all."""
    raw = os.environ.get(RESTRICT_ENV)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _dist_name(ep: EntryPoint) -> str:
    """The distribution an entry point comes from, as its metadata spells it (``?`` if unknown)."""
    dist = getattr(ep, "dist", None)
    return _metadata_name(dist) if dist is not None else "?"


@functools.cache
def _metadata_name(dist: Any) -> str:
    """``Name`` of a distribution's metadata, parsed once per distribution (an entry point's
    ``dist`` is its distribution's one object): parsing is an email-header parse of the whole
    ``METADATA`` file, which every worker's start-up otherwise did once per entry point."""
    return dist.metadata["Name"]


def _is_builtin(ep: EntryPoint) -> bool:
    return _normalize(_dist_name(ep)) == BUILTIN_DISTRIBUTION


def _normalize(name: str) -> str:
    """PEP 503 normalisation: ``NLPDojo``, ``nlpdojo`` and ``nlp_dojo`` name one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


class PluginWarning(UserWarning):
    """Something about plugin selection looks wrong but does not stop loading (a name in
    ``NLPDOJO_PLUGINS`` that no installed plugin has)."""


@dataclass(frozen=True)
class ChosenPlugin:
    """An entry point of the ``nlpdojo`` group chosen to load: its name, its value
    (``module:attr``) and the name of the distribution that declares it. Plain data: the
    grader sends its list to every worker it starts (:func:`chosen_plugins`), which loads it
    without scanning the installed distributions' metadata (23 ms of a worker's start-up, and
    28 ms more to import ``importlib.metadata``, Intel Xeon; ``bench/worker_startup.py``)."""

    name: str
    value: str
    distribution: str

    @classmethod
    def of(cls, ep: EntryPoint) -> ChosenPlugin:
        return cls(ep.name, ep.value, _dist_name(ep))

    @property
    def builtin(self) -> bool:
        return _normalize(self.distribution) == BUILTIN_DISTRIBUTION

    def provides(self, module: str | None) -> bool:
        """Whether ``module`` is the value's module or a package above it (a
        ``ModuleNotFoundError`` for it says this plugin's package is not installed)."""
        found = _VALUE.match(self.value)
        own = found["module"] if found else ""
        return bool(module) and (own == module or own.startswith(f"{module}."))

    def load(self) -> Any:
        """The object the value names, as ``EntryPoint.load`` finds it (extras ignored)."""
        found = _VALUE.match(self.value)
        if found is None:
            raise ValueError(f"{self.value!r} is not an entry point's module:attribute")
        target: Any = importlib.import_module(found["module"])
        for attr in filter(None, (found["attr"] or "").split(".")):
            target = getattr(target, attr)
        return target


#: an entry point's value (importlib.metadata's pattern): ``module[:attr.attr] [extras]``
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


def _warn_unknown(allowed: set[str], found: list[EntryPoint]) -> None:
    """Warn about names in ``NLPDOJO_PLUGINS`` that no installed plugin has (a typo would
    otherwise silently load nothing)."""
    names = {ep.name for ep in found}
    third_party = sorted({ep.name for ep in found if not _is_builtin(ep)})
    for name in sorted(allowed - names):
        close = difflib.get_close_matches(name, third_party, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        installed = ", ".join(third_party) or "none"
        warnings.warn(
            f"{RESTRICT_ENV} names {name!r}, which is not an installed plugin; {hint}"
            f"installed third-party plugins: {installed} (`dojo plugins` lists what is loaded)",
            PluginWarning, stacklevel=4)


def _plugin_entry_points() -> list[ChosenPlugin]:
    from importlib.metadata import entry_points

    allowed = _allowed_third_party()
    chosen = []
    found = list(entry_points(group=ENTRY_POINT_GROUP))
    if allowed:
        _warn_unknown(allowed, found)
    for ep in found:
        if _is_builtin(ep) or allowed is None or ep.name in allowed:
            chosen.append(ChosenPlugin.of(ep))
    # Built-ins first, then third-party by name: registration order is deterministic.
    return sorted(chosen, key=lambda ep: (not ep.builtin, ep.name))


#: the attribute of a plugin manager that holds the entry points it loaded
_CHOSEN = "nlpdojo_chosen"


def _load_failure(ep: ChosenPlugin, exc: BaseException) -> PluginError:
    """The error of a plugin that failed to import: which, from where, and what to do."""
    if ep.builtin:
        fix = "Reinstall nlpdojo (built-in plugins always load)."
    else:
        fix = (f"Fix or uninstall it, or leave it out with "
               f"{RESTRICT_ENV}=<comma-separated plugins to load>.")
    return PluginError(
        f"plugin {ep.name!r} (entry point {ep.value!r} from distribution "
        f"{ep.distribution!r}) failed to import: {type(exc).__name__}: {exc}"
        f"{failure_site(exc)}. {fix}")


def make_manager(extra_plugins: dict[str, object] | None = None, *, bring: bool = True,
                 chosen: Sequence[ChosenPlugin] | None = None) -> pluggy.PluginManager:
    """A plugin manager with every allowed entry-point plugin (plus ``extra_plugins``) loaded,
    and (``bring``) the modules they bring (``plugin_modules``: a course's topics).
    ``chosen``: the entry points to load, as another process chose them (its
    :func:`chosen_plugins`), instead of those installed here."""
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    seen: dict[str, ChosenPlugin] = {}
    builtin: set[str] = set()
    entries = list(chosen) if chosen is not None else _plugin_entry_points()
    setattr(pm, _CHOSEN, entries)
    for ep in entries:
        if ep.name in seen:
            first = seen[ep.name]
            if _normalize(first.distribution) == _normalize(ep.distribution):
                continue  # the same distribution seen twice on sys.path
            raise PluginError(
                f"two plugins are named {ep.name!r}: entry point {first.value!r} from distribution "
                f"{first.distribution!r} and {ep.value!r} from distribution {ep.distribution!r}. "
                f"Plugin names must be unique: uninstall or rename one of them."
            )
        seen[ep.name] = ep
        if ep.builtin:
            builtin.add(ep.name)  # nlpdojo's own: not to be uninstalled on its own
        try:
            module = ep.load()
        except ModuleNotFoundError as exc:
            if chosen is not None and not ep.builtin and ep.provides(exc.name):
                continue  # handed over, not installed here: as a scan here would not find it
            raise _load_failure(ep, exc) from exc
        except Exception as exc:  # noqa: BLE001 - any import failure is reported the same way
            raise _load_failure(ep, exc) from exc
        _register(pm, module, ep.name)
    for name, plugin in (extra_plugins or {}).items():
        _register(pm, plugin, name)
    if not bring:
        return pm
    for impl in pm.hook.plugin_modules.get_hookimpls():
        owner = impl.plugin_name
        try:
            brought = list(impl.function() or ())
        except Exception as exc:  # noqa: BLE001 - a module that fails to import, reported
            # a message that already says where (the course's topics do) is not told twice
            where = "" if " (at " in str(exc) else failure_site(exc)
            leave = "" if owner in builtin else ", or uninstall the plugin"
            raise PluginError(f"plugin {owner!r} failed to load its modules: "
                              f"{type(exc).__name__}: {exc}{where}. Fix the module it names"
                              f"{leave} (NLPDOJO_DEBUG=1 shows the traceback).") from exc
        for name, plugin in brought:
            if not name.startswith(owner + "."):
                raise PluginError(f"plugin {owner!r} brings a module named {name!r}; the "
                                  f"modules a plugin brings are named {owner}.<name>")
            if isinstance(plugin, BaseException):  # it failed to load: the others still do
                _left_out(pm, name, str(plugin), plugin)
                continue
            _register(pm, plugin, name)
    return pm


#: the attribute of a plugin manager that holds the brought modules left out: name -> (why,
#: the error)
_BROKEN = "nlpdojo_broken"


def _left_out(pm: pluggy.PluginManager, name: str, why: str, error: BaseException) -> None:
    """Leave the brought module ``name`` out, saying why once (a :class:`PluginWarning`): one
    topic's declaration error must not stop every command for every other topic."""
    broken = getattr(pm, _BROKEN, None)
    if broken is None:
        broken = {}
        setattr(pm, _BROKEN, broken)
    broken.setdefault(name, (why, error))
    warnings.warn(f"{name} is left out: {why}. The other plugins work; fix that line and "
                  f"run the command again (`dojo plugins` lists what is loaded).",
                  PluginWarning, stacklevel=2)


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    if pm.get_plugin(name) is not None:
        raise PluginError(f"two plugins are named {name!r}; plugin names must be unique")
    if pm.is_registered(plugin):
        raise PluginError(
            f"plugin {name!r} is the same object as plugin {pm.get_name(plugin)!r}; "
            f"register each plugin once"
        )
    _check_hookimpls(pm, plugin, name)
    try:
        pm.register(plugin, name=name)
        pm.check_pending()  # backstop: pluggy's own checks, should the ones above miss
    except pluggy.PluginValidationError as exc:
        if pm.get_plugin(name) is not None:
            pm.unregister(name=name)
        detail = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise PluginError(f"plugin {name!r} is invalid: {detail}") from exc


def _check_hookimpls(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Every ``@hookimpl`` of ``plugin`` names a real hook and only that hook's arguments."""
    for attr in dir(plugin):
        if pm.parse_hookimpl_opts(plugin, attr) is None:
            continue  # not marked with @hookimpl
        caller = getattr(pm.hook, attr, None)
        if caller is None or caller.spec is None:
            hooks = [h for h in dir(hookspecs) if hasattr(getattr(hookspecs, h), "nlpdojo_spec")]
            close = difflib.get_close_matches(attr, hooks, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise PluginError(
                f"plugin {name!r} is invalid: it implements {attr!r}, which is not an nlpdojo "
                f"hook; {hint}hooks: {', '.join(hooks)} (see nlpdojo.hookspecs)"
            )
        argnames = _required_args(getattr(plugin, attr))
        unknown = [a for a in argnames if a not in caller.spec.argnames]
        if unknown:
            raise PluginError(
                f"plugin {name!r} is invalid: its hook {attr}({', '.join(argnames)}) takes "
                f"argument(s) {', '.join(map(repr, unknown))} the hook does not provide; "
                f"{attr} provides: {', '.join(caller.spec.argnames)}"
            )


def _required_args(func: Callable[..., Any]) -> list[str]:
    """Arguments pluggy passes by name: those without a default (``self`` already bound)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in positional and p.default is p.empty]


def build_registry(pm: pluggy.PluginManager, *, without: Collection[str] = ()) -> Registry:
    """Call every ``register_*`` hook (but those named in ``without``) of every plugin, each
    with a callback bound to it."""
    registry = Registry()
    registry.broken.update({name: why for name, (why, _) in getattr(pm, _BROKEN, {}).items()})
    brought = _brought_names(pm)
    for hook_name, kind in _HOOK_KINDS.items():
        if hook_name in without:
            continue
        caller = getattr(pm.hook, hook_name)
        for impl in caller.get_hookimpls():  # registration order
            if impl.plugin_name in registry.broken:
                continue  # failed in an earlier hook: left out whole
            register = _bound_register(registry, kind, impl.plugin_name)
            # pluggy lets a hookimpl take a subset of the spec's arguments (even none).
            kwargs = {"register": register} if "register" in impl.argnames else {}
            try:
                impl.function(**kwargs)
            except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported with its name
                if impl.plugin_name in brought:  # a topic folder: the others still register
                    home = getattr(impl.plugin, "__file__", None)
                    where = failure_site(exc, within=Path(home).parent if home else None)
                    why = f"{hook_name} failed: {type(exc).__name__}: {exc}{where}"
                    registry.broken[impl.plugin_name] = why
                    registry.drop_plugin(impl.plugin_name)
                    _left_out(pm, impl.plugin_name, why, exc)
                    continue
                if isinstance(exc, NlpdojoError):
                    raise  # already names the plugin (a duplicate, an invalid name)
                raise PluginError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
    return registry


def _brought_names(pm: pluggy.PluginManager) -> set[str]:
    """The names of the plugin modules that plugins brought (``<owner>.<name>``)."""
    owners = {impl.plugin_name for impl in pm.hook.plugin_modules.get_hookimpls()}
    return {name for name, _ in pm.list_name_plugin()
            if name.partition(".")[0] in owners and "." in name}


def _bound_register(registry: Registry, kind: str, plugin: str) -> Callable[..., None]:
    def register(name: str, obj: Any, *, backend: str | None = None,
                 natives: dict[str, Any] | None = None, **meta: Any) -> None:
        registry.add(kind, name, obj, plugin=plugin, backend=backend, natives=natives, **meta)

    register.__doc__ = f"Register a {kind} on behalf of plugin {plugin!r}."
    return register


def raise_left_out(pm: pluggy.PluginManager | None = None) -> None:
    """Raise, as a :class:`PluginError` caused by it, the error of the first brought module
    that was left out (``None``: all loaded): a check that the whole course loads (a student
    bundle's) fails where a command would only warn."""
    for name, (why, error) in getattr(pm or get_manager(), _BROKEN, {}).items():
        raise PluginError(f"{name} is left out: {why}") from error


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


def build_without(hooks: Collection[str], *,
                  chosen: Sequence[ChosenPlugin] | None = None) -> Registry:
    """Build the process-wide registry now, without calling ``hooks`` (the autograder's
    worker leaves out ``register_exercises``: exercises' checks are the grader's; and
    ``plugin_modules``: the topics a course brings are never imported there). ``chosen``:
    the entry points to load (the grader's :func:`chosen_plugins`), else those installed."""
    global _manager, _registry
    known = {*_HOOK_KINDS, BRING_HOOK}
    unknown = sorted(set(hooks) - known)
    if unknown:
        raise ValueError(f"unknown hooks {unknown}; hooks: {', '.join(sorted(known))}")
    if BRING_HOOK in hooks or chosen is not None:
        _manager = make_manager(bring=BRING_HOOK not in hooks, chosen=chosen)
    _registry = build_registry(get_manager(), without=hooks)
    return _registry


def chosen_plugins(pm: pluggy.PluginManager | None = None) -> list[ChosenPlugin]:
    """The entry points the process-wide plugin manager (or ``pm``) loaded, in order."""
    return list(getattr(pm or get_manager(), _CHOSEN, []))


def bringing_plugins(pm: pluggy.PluginManager | None = None) -> list[ModuleType]:
    """The plugin modules that bring modules of their own (``plugin_modules``), whether or not
    the hook was called: the autograder's sandbox shows a worker these modules of their
    packages, and not the modules they bring."""
    pm = pm or get_manager()
    return [impl.plugin for impl in pm.hook.plugin_modules.get_hookimpls()
            if isinstance(impl.plugin, ModuleType)]


def reset() -> None:
    """Forget the loaded plugins (tests; after installing a plugin in a running process)."""
    global _manager, _registry
    _manager = None
    _registry = None


def plugin_origin(name: str) -> str:
    """Where a loaded plugin came from: ``built-in``, ``<distribution> <version>``, or ``local``
    (a module a plugin brought, ``<plugin>.<name>``, comes from where its plugin came from)."""
    from importlib.metadata import entry_points

    name = name.split(".")[0]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name and getattr(ep, "dist", None) is not None:
            if _is_builtin(ep):
                return "built-in"
            return f"{ep.dist.metadata['Name']} {ep.dist.version}"
    return "local"
