"""The registry: what plugins registered, looked up by kind, name and backend.

Plugins never write here directly. Each ``register_*`` hook receives a ``register`` callback
bound to the calling plugin (see :mod:`nlpdojo.plugins`), so the registry always knows who
registered what, and a clash can name both plugins.

An entry's ``backend`` is ``None`` when it is written against the array namespace and so runs
on every backend; a backend name marks a native implementation (a fused kernel, cuDNN LSTM)
that takes precedence over the generic one on that backend only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nlpdojo.errors import DuplicateNameError, PluginError, UnknownNameError

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
)


@dataclass(frozen=True)
class Entry:
    """One registered object and where it came from."""

    kind: str
    name: str
    obj: Any
    plugin: str
    backend: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def backend_label(self) -> str:
        return self.backend or "any"


class Registry:
    """Everything the loaded plugins registered, keyed by ``(kind, name, backend)``."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str | None], Entry] = {}

    def add(
        self,
        kind: str,
        name: str,
        obj: Any,
        *,
        plugin: str,
        backend: str | None = None,
        **meta: Any,
    ) -> Entry:
        """Record ``obj`` under ``(kind, name, backend)``; a clash names both plugins."""
        if kind not in KINDS:
            raise PluginError(f"plugin {plugin!r} registered unknown kind {kind!r}; kinds: {KINDS}")
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise PluginError(f"plugin {plugin!r} registered a {kind} with invalid name {name!r}")
        key = (kind, name, backend)
        if key in self._entries:
            first = self._entries[key].plugin
            where = f" for backend {backend!r}" if backend else ""
            raise DuplicateNameError(
                f"{kind} {name!r}{where} is registered twice: by plugin {first!r} and by plugin "
                f"{plugin!r}. Uninstall one of them, or restrict loading with NLPDOJO_PLUGINS."
            )
        entry = Entry(kind=kind, name=name, obj=obj, plugin=plugin, backend=backend, meta=meta)
        self._entries[key] = entry
        return entry

    def entry(self, kind: str, name: str, backend: str | None = None) -> Entry:
        """The entry for ``name``: the backend's native one if any, else the generic one."""
        if backend is not None and (kind, name, backend) in self._entries:
            return self._entries[(kind, name, backend)]
        if (kind, name, None) in self._entries:
            return self._entries[(kind, name, None)]
        on = f" on backend {backend!r}" if backend else ""
        only_for = sorted(
            e.backend for e in self._entries.values()
            if e.kind == kind and e.name == name and e.backend is not None
        )
        if only_for:  # registered, but natively for other backends only
            raise UnknownNameError(
                f"{kind} {name!r} is registered only for backend(s) {', '.join(only_for)}, "
                f"not{on or ' for every backend'}. Choose one of those backends, or one of: "
                f"{', '.join(self.names(kind, backend, generic_only=backend is None)) or 'none'}."
            )
        available = self.names(kind, backend, generic_only=backend is None)
        listing = ", ".join(available) if available else "none are registered"
        raise UnknownNameError(
            f"unknown {kind} {name!r}{on}. Available{on}: {listing}. "
            f"`dojo plugins` shows what each plugin registered."
        )

    def get(self, kind: str, name: str, backend: str | None = None) -> Any:
        """The registered object for ``name`` (see :meth:`entry`)."""
        return self.entry(kind, name, backend).obj

    def names(self, kind: str, backend: str | None = None, *,
              generic_only: bool = False) -> list[str]:
        """Sorted names usable on ``backend`` (generic ones plus that backend's own).

        ``backend=None`` lists every name of ``kind``; with ``generic_only`` only those that
        run on every backend (what :meth:`entry` finds without a backend).
        """
        def usable(e: Entry) -> bool:
            if e.backend is None:
                return True
            return not generic_only and (backend is None or e.backend == backend)

        return sorted({e.name for e in self._entries.values() if e.kind == kind and usable(e)})

    def entries(self, kind: str | None = None) -> list[Entry]:
        """All entries (of one kind, if given), in registration order."""
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
