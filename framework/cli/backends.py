"""``dojo backends``: every registered backend, whether it runs here, its devices and version."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from nlpdojo.cli.common import console, err_console, report_errors
from nlpdojo.cli.formats import DataFormat, JsonAlias, chosen, format_option


@report_errors
def backends(
    fmt: format_option("the backends") = DataFormat.table,
    as_json: JsonAlias = False,
) -> None:
    """List every backend: available or why not, devices, library version, and the selection."""
    from nlpdojo.plugins import get_registry
    from nlpdojo.selection import resolve

    sel = resolve()
    registry = get_registry()
    rows = []
    for entry in registry.entries("backend"):
        spec = entry.obj
        reason = spec.availability()
        rows.append(
            {
                "name": spec.name,
                "available": reason is None,
                "reason": reason,
                "devices": spec.devices() if reason is None else [],
                "version": spec.version(),
                "plugin": entry.plugin,
                "selected": spec.name == sel.backend.value,
                "description": spec.description,
                # native variants for this backend, used only on request (docs/plugins.md)
                "natives": [f"{e.kind} {e.name}" for e in registry
                            if e.is_native and e.backend == spec.name],
            }
        )
    registered = any(r["selected"] for r in rows)
    if chosen(fmt, as_json) is DataFormat.json:
        payload = {
            "selected": {"backend": sel.backend.value, "backend_source": sel.backend.source,
                         "device": sel.device.value, "device_source": sel.device.source,
                         "registered": registered},
            "backends": rows,
        }
        typer.echo(json.dumps(payload, indent=2))
        _fail_if_unregistered(sel, rows, registered)
        return
    table = Table(title="nlpdojo backends")
    for col in ("backend", "status", "devices", "version", "plugin", "natives"):
        table.add_column(col)
    for r in rows:
        status = "[green]available[/]" if r["available"] else f"[red]unavailable[/]: {r['reason']}"
        name = f"{r['name']} *" if r["selected"] else r["name"]
        table.add_row(name, status, ", ".join(r["devices"]) or "-", r["version"] or "-",
                      r["plugin"], ", ".join(r["natives"]) or "-")
    console.print(table)
    device = sel.device.value or "its first device"
    console.print(
        f"* selected: backend [bold]{sel.backend.value}[/] ({sel.backend.source}), "
        f"device {device} ({sel.device.source}). "
        "Change with --backend/--device, NLPDOJO_BACKEND/NLPDOJO_DEVICE, "
        "or \\[tool.nlpdojo] in pyproject.toml or dojo.toml."
    )
    _fail_if_unregistered(sel, rows, registered)


def _fail_if_unregistered(sel, rows: list[dict], registered: bool) -> None:
    """The listing is printed either way; an unknown selected backend then fails (exit 2)."""
    if registered:
        return
    names = ", ".join(r["name"] for r in rows)
    err_console.print(
        f"[bold red]error:[/] the selected backend {sel.backend.value!r} "
        f"(from {sel.backend.source}) is not registered; available: {names}",
        highlight=False, soft_wrap=True,
    )
    raise typer.Exit(2)
