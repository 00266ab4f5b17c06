"""The ``dojo`` app: built-in command groups (``backends``, ``plugins``, ``data``, ``train``,
whose trainers plugins register) plus those plugins add via ``register_commands``."""

from __future__ import annotations

from typing import Annotated

import typer

from nlpdojo.cli.backends import backends
from nlpdojo.cli.common import run_app
from nlpdojo.cli.data import data_app
from nlpdojo.cli.plugins import plugins
from nlpdojo.cli.train import make_train_app
from nlpdojo.startup import imports_without_collection, one_blas_thread_at_start


def build_app() -> typer.Typer:
    """A fresh ``dojo`` app with every plugin's commands (one per process, or per test)."""
    from nlpdojo.plugins import get_manager

    app = typer.Typer(rich_markup_mode=None,
        name="dojo",
        help="nlpdojo: backends, plugins, data, exercises and training.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    app.command("backends")(backends)
    app.command("plugins")(plugins)
    app.add_typer(data_app, name="data")
    app.add_typer(make_train_app(), name="train")
    get_manager().hook.register_commands(cli=app)
    return app


def version_text(command: str) -> str:
    """``<command> (nlpdojo) <version>``: the installed distribution's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("nlpdojo")
    except PackageNotFoundError:  # a source tree that is not installed
        number = "unknown (not installed)"
    return f"{command} (nlpdojo) {number}"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text("dojo"))
        raise typer.Exit(0)


def _root(
    version: Annotated[bool | None, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = None,
) -> None:
    """nlpdojo: backends, plugins, data, exercises and training."""


def main() -> None:
    one_blas_thread_at_start()  # before anything imports NumPy (nlpdojo.startup)
    from nlpdojo.cli.common import plugin_warnings_as_lines, point_torch_cache, print_error
    from nlpdojo.errors import NlpdojoError

    point_torch_cache()  # dojo verify and dojo train run torch.optim too
    plugin_warnings_as_lines()  # before the plugins load: building the app loads them
    try:
        with imports_without_collection():  # the plugins' and commands' imports
            app = build_app()
    except NlpdojoError as exc:  # a broken plugin: say which, never a traceback
        print_error(exc)
        raise SystemExit(2) from exc
    run_app(app)
