"""``dojo plugins``: every loaded plugin, where it came from and what it registered."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from nlpdojo.cli.common import console, report_errors
from nlpdojo.cli.formats import DataFormat, JsonAlias, chosen, format_option


@report_errors
def plugins(
    fmt: format_option("the plugins") = DataFormat.table,
    as_json: JsonAlias = False,
) -> None:
    """List every loaded plugin and what it registered, by kind."""
    from nlpdojo.plugins import get_manager, get_registry, plugin_origin

    pm, registry = get_manager(), get_registry()
    grouped = registry.by_plugin()
    rows = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin)
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        registered: dict[str, list[str]] = {}
        for e in grouped.get(name, []):
            label = e.name if not e.is_native else f"{e.name} [native: {e.backend}]"
            registered.setdefault(e.kind, []).append(label)
        rows.append({"name": name, "origin": plugin_origin(name), "hooks": hooks,
                     "registered": registered})
    rows.sort(key=lambda r: (r["origin"] != "built-in", r["name"]))
    if chosen(fmt, as_json) is DataFormat.json:
        typer.echo(json.dumps({"plugins": rows}, indent=2))
        return
    table = Table(title="nlpdojo plugins")
    for col in ("plugin", "origin", "registered"):
        table.add_column(col)
    for r in rows:
        what = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in r["registered"].items())
        if "register_commands" in r["hooks"]:
            what = (what + "; " if what else "") + "commands"
        table.add_row(r["name"], r["origin"], what or "-")
    console.print(table)
