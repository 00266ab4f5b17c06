"""``dojo data``: list, inspect, fetch and locate the registered data sets."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from nlpdojo.cli.common import console, err_console, report_errors
from nlpdojo.cli.formats import DataFormat, JsonAlias, chosen, format_option
from nlpdojo.errors import NlpdojoError

if TYPE_CHECKING:
    from nlpdojo.dataset import Dataset

data_app = typer.Typer(rich_markup_mode=None,
    name="data",
    help="Real corpora: list them, show their sources and checksums, fetch them into the cache.",
    no_args_is_help=True,
)


def _say(text: str, *, soft_wrap: bool = False) -> None:
    """Print plain text: no markup, emoji codes or highlighting (names contain ':' and '[')."""
    console.print(text, markup=False, emoji=False, highlight=False, soft_wrap=soft_wrap)


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _datasets(names: list[str]) -> list[Dataset]:
    from nlpdojo.plugins import get_registry

    registry = get_registry()
    return [registry.get("dataset", name) for name in names]


def _all_names() -> list[str]:
    from nlpdojo.plugins import get_registry

    return [e.name for e in get_registry().entries("dataset")]


@data_app.command("list")
@report_errors
def list_(
    fmt: format_option("the data sets") = DataFormat.table,
    as_json: JsonAlias = False,
) -> None:
    """Every data set with its status in the cache (cached / missing / corrupt) and size."""
    from nlpdojo.data.cache import data_root

    if chosen(fmt, as_json) is DataFormat.json:
        typer.echo(json.dumps({"root": str(data_root()), "datasets": [
            {"name": ds.name, "status": ds.status().value, "size": ds.size(),
             "description": ds.description, "license": ds.license}
            for ds in _datasets(_all_names())]}, indent=2))
        return
    table = Table(title=f"nlpdojo data sets in {data_root()}")
    for col in ("name", "status", "size", "description"):
        table.add_column(col)
    colours = {"cached": "green", "missing": "yellow", "corrupt": "red"}
    for ds in _datasets(_all_names()):
        status = ds.status().value
        table.add_row(ds.name, Text(status, style=colours[status]), _human(ds.size()),
                      Text(ds.description))
    console.print(table)
    console.print("Fetch with: dojo data fetch NAME (or --all)")


@data_app.command("info")
@report_errors
def info(name: Annotated[str, typer.Argument(help="Data set name (see `dojo data list`).")]
         ) -> None:
    """Sources, license, files with checksums, and splits of one data set."""
    (ds,) = _datasets([name])
    console.print(Text.assemble((ds.name, "bold"), ": ", ds.description))
    _say(f"status:   {ds.status().value} in {ds.folder()}")
    _say(f"license:  {ds.license}")
    if ds.homepage:
        _say(f"homepage: {ds.homepage}")
    if ds.citation:
        _say(f"cite:     {ds.citation}")
    splits = ", ".join(ds.splits) or "none (load everything)"
    _say(f"splits:   {splits}")
    if ds.split_note:
        _say(f"          {ds.split_note}", soft_wrap=True)
    console.print("sources, in order of preference:")
    for i, source in enumerate(ds.sources, 1):
        pin = getattr(source, "sha256", None)
        _say(f"  {i}. {source.describe()}" + (f"\n     sha256 {pin}" if pin else ""),
             soft_wrap=True)
    _say(f"files ({len(ds.files)}, {_human(ds.size())}):")
    shown = ds.files if len(ds.files) <= 12 else ds.files[:10]
    for f in shown:
        _say(f"  {f.name}  {f.size:,} bytes  sha256 {f.sha256}", soft_wrap=True)
    if len(shown) < len(ds.files):
        _say(f"  ... and {len(ds.files) - len(shown)} more")


@data_app.command("fetch")
@report_errors
def fetch(
    names: Annotated[list[str] | None, typer.Argument(help="Data sets to fetch.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Fetch every registered data set.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Fetch again even if cached.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Download, verify and install data sets into the cache (a no-op for cached ones)."""
    if all_ == bool(names):
        raise typer.BadParameter("name one or more data sets, or pass --all (not both)")
    chosen = _datasets(_all_names() if all_ else list(names or []))
    failed: list[str] = []
    for ds in chosen:
        if not force and ds.is_cached():
            _say(f"{ds.name}: cached")
            continue
        _say(f"{ds.name}: fetching ({_human(ds.size())}) ...")
        try:
            folder = ds.fetch(progress=not quiet, force=force)
        except NlpdojoError as exc:
            if len(chosen) == 1:
                raise
            err_console.print(Text.assemble(("error:", "bold red"), f" {exc}"), soft_wrap=True)
            failed.append(ds.name)
            continue
        console.print(Text.assemble(f"{ds.name}: ", ("ok", "green"), f" -> {folder}"))
    if failed:
        raise typer.Exit(2)


@data_app.command("path")
@report_errors
def path(name: Annotated[str, typer.Argument(help="Data set name.")]) -> None:
    """Print the data set's folder (it fails, saying how to fetch, when not cached)."""
    (ds,) = _datasets([name])
    typer.echo(str(ds.path()))
