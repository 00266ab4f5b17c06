"""The registry: what plugins registered, looked up by kind, name and backend.

Plugins never write here directly. Each ``register_*`` hook receives a ``register`` callback
bound to the calling plugin (see :mod:`nlpdojo.plugins`), so the registry always knows who
registered what, and a clash can name both plugins.

A name has one **generic** entry (``backend=None``: written against the array namespace, runs on
every backend) and may have **native** variants, one per backend (a fused kernel, cuDNN LSTM;
simonw/llm's ``register(model, async_model=...)``: one name, its variants). Look-ups return the
generic entry; a native is used only when asked for (``get(..., backend="torch", native=True)``),
so a native never stands in for the code under test. A native without a generic entry is
reachable with ``native=True`` only.

    registry.get("module", "lstm")                                # the generic LSTM
    registry.get("module", "lstm", backend="torch", native=True)  # cuDNN's, if registered
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from nlpdojo.errors import (
    DuplicateNameError,
    NativeRefusedError,
    PluginError,
    UnknownNameError,
)

#: The kinds of things a plugin can register, one per ``register_*`` hook.
KINDS = (
    "backend",
    "module",
    "loss",
    "optimizer",
    "dataset",
    "exercise",
    "reporter",
    "trainer",
    "model_kind",
)


@dataclass(frozen=True)
class Entry:
    """One registered object and where it came from.

    ``backend`` is ``None`` for the generic entry of a name and the backend's name for a native
    variant (``is_native``).
    """

    kind: str
    name: str
    obj: Any
    plugin: str
    backend: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def is_native(self) -> bool:
        """Whether this is a backend's native variant rather than the generic entry."""
        return self.backend is not None

    @property
    def backend_label(self) -> str:
        return self.backend or "any"


class Registry:
    """Everything the loaded plugins registered, keyed by ``(kind, name, backend)``.

    ``backend`` in a key is ``None`` for the generic entry and a backend name for a native.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str | None], Entry] = {}
        self._natives_refused: str | None = None
        #: plugin modules a plugin brought (a course's topic folders) that failed to load or
        #: to register, by name (``course.attention``): why, with the file and line. They are
        #: left out, the others usable; a look-up of a name such a module would have
        #: registered says why it is missing (:meth:`entry`)
        self.broken: dict[str, str] = {}

    def broken_for(self, name: str) -> tuple[str, str] | None:
        """The left-out module named like ``name`` (``course.<name>``: a topic whose folder
        failed to load) and why, if there is one."""
        return next(((module, why) for module, why in self.broken.items()
                     if module.rpartition(".")[2] == name), None)

    def drop_plugin(self, plugin: str) -> None:
        """Forget everything ``plugin`` registered (a module that failed halfway through)."""
        self._entries = {k: e for k, e in self._entries.items() if e.plugin != plugin}

    def refuse_natives(self, why: str) -> None:
        """From now on every request for a native (``native=True``) raises
        :class:`NativeRefusedError` saying ``why``. The grader's worker calls it before any
        graded code runs: a native (cuDNN's LSTM, a fused kernel) must never stand in for the
        code under test."""
        self._natives_refused = why

    def add(
        self,
        kind: str,
        name: str,
        obj: Any,
        *,
        plugin: str,
        backend: str | None = None,
        natives: Mapping[str, Any] | None = None,
        **meta: Any,
    ) -> Entry:
        """Record ``obj`` under ``(kind, name, backend)``; a clash names both plugins.

        :param backend: ``None``: ``obj`` is the generic entry of ``name``; a backend name:
            ``obj`` is that backend's native variant of ``name`` (another plugin may add one to
            a built-in name).
        :param natives: ``{backend: obj}``, native variants registered with the generic entry
            in one call (``backend`` must then be ``None``); they share ``meta``.
        :returns: the entry for ``obj``.
        """
        if kind not in KINDS:
            raise PluginError(f"plugin {plugin!r} registered unknown kind {kind!r}; kinds: {KINDS}")
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise PluginError(f"plugin {plugin!r} registered a {kind} with invalid name {name!r}")
        if natives and backend is not None:
            raise PluginError(
                f"plugin {plugin!r} registered {kind} {name!r} with backend={backend!r} and "
                f"natives=: natives are variants of the generic entry; register them with "
                f"backend=None, or each native alone with backend=<its backend>."
            )
        for native_backend in natives or {}:
            if not isinstance(native_backend, str) or not native_backend:
                raise PluginError(f"plugin {plugin!r} registered a native of {kind} {name!r} "
                                  f"for an invalid backend {native_backend!r}")
        entry = self._put(Entry(kind=kind, name=name, obj=obj, plugin=plugin, backend=backend,
                                meta=meta))
        for native_backend, native in (natives or {}).items():
            self._put(Entry(kind=kind, name=name, obj=native, plugin=plugin,
                            backend=native_backend, meta=dict(meta)))
        return entry

    def _put(self, entry: Entry) -> Entry:
        key = (entry.kind, entry.name, entry.backend)
        if key in self._entries:
            first = self._entries[key].plugin
            where = f" (native) for backend {entry.backend!r}" if entry.backend else ""
            raise DuplicateNameError(
                f"{entry.kind} {entry.name!r}{where} is registered twice: by plugin {first!r} "
                f"and by plugin {entry.plugin!r}. Uninstall one of them, or restrict loading "
                f"with NLPDOJO_PLUGINS."
            )
        self._entries[key] = entry
        return entry

    def entry(self, kind: str, name: str, backend: str | None = None, *,
              native: bool = False) -> Entry:
        """The entry for ``name``: the generic one, or with ``native=True`` ``backend``'s native
        variant when one is registered (else the generic one; ``entry.is_native`` says which).

        A name with natives only is found with ``native=True`` on one of their backends; any
        other look-up of it is an :class:`UnknownNameError` that lists those backends.
        """
        if native and self._natives_refused is not None:
            raise NativeRefusedError(f"{kind} {name!r} (native=True): {self._natives_refused}")
        if native and backend is not None and (kind, name, backend) in self._entries:
            return self._entries[(kind, name, backend)]
        if (kind, name, None) in self._entries:
            return self._entries[(kind, name, None)]
        on = f" on backend {backend!r}" if backend else ""
        native_for = sorted(self.natives(kind, name))
        if native_for:  # no generic entry, natives only
            backends = ", ".join(native_for)
            generic = ", ".join(self.names(kind)) or "none"
            if not native:
                raise UnknownNameError(
                    f"{kind} {name!r} has no generic implementation, only native ones (used only "
                    f"on request) for backend(s) {backends}: ask with "
                    f"get({kind!r}, {name!r}, backend={native_for[0]!r}, native=True). "
                    f"Generic {kind}s: {generic}."
                )
            raise UnknownNameError(
                f"{kind} {name!r} has native implementations for backend(s) {backends} only, "
                f"none{on or ' without a backend'}, and no generic one. Choose one of those "
                f"backends, or one of: {generic}."
            )
        available = self.names(kind)
        listing = ", ".join(available) if available else "none are registered"
        natives_here = [n for n in self.names(kind, backend, native=True) if n not in available]
        extra = (f"; native only (native=True){on}: {', '.join(natives_here)}"
                 if natives_here and backend is not None else "")
        own = self.broken_for(name)
        broken = (f" Plugin {own[0]!r} failed to load, so whatever it registers is missing: "
                  f"{own[1]}." if own else "".join(
                      f" (Plugin {module!r} failed to load and is left out: {why}.)"
                      for module, why in self.broken.items()))
        raise UnknownNameError(
            f"unknown {kind} {name!r}{on}. Available{on}: {listing}{extra}.{broken} "
            f"`dojo plugins` shows what each plugin registered."
        )

    def get(self, kind: str, name: str, backend: str | None = None, *,
            native: bool = False) -> Any:
        """The registered object for ``name`` (see :meth:`entry`)."""
        return self.entry(kind, name, backend, native=native).obj

    def natives(self, kind: str, name: str) -> dict[str, Entry]:
        """The native variants of ``name``, by backend (empty when it has none)."""
        return {e.backend: e for e in self._entries.values()
                if e.kind == kind and e.name == name and e.backend is not None}

    def names(self, kind: str, backend: str | None = None, *, native: bool = False) -> list[str]:
        """Sorted names of ``kind`` that :meth:`entry` finds: the generic ones, and with
        ``native=True`` also those with a native for ``backend`` (for any backend when
        ``backend`` is ``None``)."""
        def found(e: Entry) -> bool:
            if e.backend is None:
                return True
            return native and (backend is None or e.backend == backend)

        return sorted({e.name for e in self._entries.values() if e.kind == kind and found(e)})

    def entries(self, kind: str | None = None) -> list[Entry]:
        """All entries (of one kind, if given), generic and native, in registration order."""
        return [e for e in self._entries.values() if kind is None or e.kind == kind]

    def by_plugin(self) -> dict[str, list[Entry]]:
        """Entries grouped by the plugin that registered them."""
        grouped: dict[str, list[Entry]] = {}
        for e in self._entries.values():
            grouped.setdefault(e.plugin, []).append(e)
        return grouped

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)
