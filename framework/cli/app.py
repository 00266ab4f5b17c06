"""The ``dojo`` app: built-in command groups (``backends``, ``plugins``, ``data``, ``train``,
whose trainers plugins register) plus those plugins add via ``register_commands``."""

from __future__ import annotations

import typer

from nlpdojo.cli.backends import backends
from nlpdojo.cli.common import run_app
from nlpdojo.cli.data import data_app
from nlpdojo.cli.plugins import plugins
from nlpdojo.cli.train import make_train_app


def build_app() -> typer.Typer:
    """A fresh ``dojo`` app with every plugin's commands (one per process, or per test)."""
    from nlpdojo.plugins import get_manager

    app = typer.Typer(
        name="dojo",
        help="nlpdojo: backends, plugins, data, exercises and training.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.command("backends")(backends)
    app.command("plugins")(plugins)
    app.add_typer(data_app, name="data")
    app.add_typer(make_train_app(), name="train")
    get_manager().hook.register_commands(cli=app)
    return app


def main() -> None:
    from nlpdojo.cli.common import print_error
    from nlpdojo.errors import NlpdojoError

    try:
        app = build_app()
    except NlpdojoError as exc:  # a broken plugin: say which, never a traceback
        print_error(exc)
        raise SystemExit(2) from exc
    run_app(app)
