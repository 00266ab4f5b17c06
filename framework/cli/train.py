"""``dojo train``: the training commands plugins register (:class:`nlpdojo.trainers.Trainer`).

The core owns the group and knows no trainer: ``dojo train`` (or ``dojo train --list``) lists
what the loaded plugins registered through ``register_trainers``, ``dojo train NAME [OPTIONS]``
runs one, ``dojo train NAME --help`` shows its options, and an unknown name is one ``error:``
line listing the trainers (exit code 2). The registry is read only when ``dojo train`` is used,
so ``dojo --help`` never imports a topic's training code.
"""

from __future__ import annotations

import difflib
import json
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from nlpdojo.cli.common import EXIT_ERROR, console, print_error, report_errors
from nlpdojo.cli.formats import DataFormat, JsonAlias, chosen, format_option
from nlpdojo.errors import NlpdojoError, PluginError
from nlpdojo.registry import Entry

KIND = "trainer"


def trainer_entries() -> list[Entry]:
    """The registered trainers, sorted by name; a plugin that registered something other than
    a :class:`~nlpdojo.trainers.Trainer`, or one under another name, is a :class:`PluginError`
    naming it."""
    from nlpdojo.plugins import get_registry
    from nlpdojo.trainers import Trainer

    entries = sorted(get_registry().entries(KIND), key=lambda e: e.name)
    for e in entries:
        if not isinstance(e.obj, Trainer):
            raise PluginError(f"plugin {e.plugin!r} registered trainer {e.name!r} as a "
                              f"{type(e.obj).__name__}; register an nlpdojo.trainers.Trainer")
        if e.obj.name != e.name:
            raise PluginError(f"plugin {e.plugin!r} registered trainer {e.obj.name!r} under the "
                              f"name {e.name!r}; register it as register(trainer.name, trainer)")
    return entries


def _listing(entries: list[Entry]) -> str:
    return ", ".join(f"{e.name} ({e.obj.topic})" for e in entries) or "none are registered"


def unknown_trainer_message(name: str, entries: list[Entry]) -> str:
    """``unknown trainer 'x'``, the closest name if any, and every trainer with its topic."""
    close = difflib.get_close_matches(name, [e.name for e in entries], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (f"unknown trainer {name!r}; {hint}available: {_listing(entries)}. `dojo train` lists "
            f"them, `dojo train NAME --help` shows a trainer's options.")


def _command(entry: Entry) -> Any:
    """The click command typer builds from a trainer's function (errors as one line)."""
    trainer = entry.obj
    # completion is the dojo app's: a trainer's own would list --install-completion
    app = typer.Typer(rich_markup_mode=None, add_completion=False, pretty_exceptions_enable=False)
    app.command(trainer.name, short_help=trainer.summary)(report_errors(trainer.command))
    command = typer.main.get_command(app)
    help_text = command.format_help

    def format_help(ctx: Any, formatter: Any) -> None:
        # the models are described only when the help is shown: describing them imports
        # every kind's module, which a run of one of them does not need
        command.epilog = _models_epilog(trainer)
        help_text(ctx, formatter)

    command.format_help = format_help
    return command


def _models_epilog(trainer: Any) -> str | None:
    """What ``--help`` says below the options of a trainer with ``models``: its kinds, those
    other plugins added included (the registry's ``describe()``); nothing where it has none
    or they cannot be described (a kind that fails to import fails when chosen, not here)."""
    describe = getattr(trainer.models, "describe", None)
    if not callable(describe):
        return None
    try:
        return describe()
    except Exception:  # noqa: BLE001 - help text only: the command itself reports the error
        return None


class TrainerGroup(TyperGroup):
    """A typer group whose commands are the registered trainers, looked up when used."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [e.name for e in trainer_entries()]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        for e in trainer_entries():
            if e.name == cmd_name:
                return _command(e)
        return None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0]
        try:
            if name.startswith("-") or ctx.resilient_parsing or self.get_command(ctx, name):
                return super().resolve_command(ctx, args)
            message = unknown_trainer_message(name, trainer_entries())
        except NlpdojoError as exc:  # a broken trainer plugin
            message = str(exc)
        print_error(message)
        raise typer.Exit(EXIT_ERROR)


def print_trainers(entries: list[Entry], fmt: DataFormat = DataFormat.table) -> None:
    """The trainers as a table (or JSON): name, topic, summary and the plugin that registered
    each."""
    if fmt is DataFormat.json:
        typer.echo(json.dumps({"trainers": [
            {"name": e.name, "topic": e.obj.topic, "summary": e.obj.summary,
             "plugin": e.plugin} for e in entries]}, indent=2))
        return
    if not entries:
        console.print("no trainers are registered: a plugin adds them with the "
                      "register_trainers hook (docs/plugins.md)", markup=False)
        return
    table = Table(title="nlpdojo trainers (dojo train NAME --help shows a trainer's options)")
    for col in ("name", "topic", "summary", "plugin"):
        table.add_column(col)
    for e in entries:
        table.add_row(e.name, e.obj.topic, e.obj.summary, e.plugin)
    console.print(table)


def make_train_app() -> typer.Typer:
    """A fresh ``train`` group (one per ``dojo`` app)."""
    app = typer.Typer(rich_markup_mode=None, name="train", cls=TrainerGroup,
                      invoke_without_command=True,
                      help="Train models: `dojo train` lists the trainers the plugins "
                           "registered; `dojo train NAME --help` shows one's options.")

    @app.callback()
    @report_errors
    def train(
        ctx: typer.Context,
        list_: Annotated[bool, typer.Option("--list", help="List the trainers and exit.")] = False,
        fmt: format_option("the list of trainers") = DataFormat.table,
        as_json: JsonAlias = False,
    ) -> None:
        """Train models: `dojo train` lists the trainers; `dojo train NAME` runs one."""
        if list_ or ctx.invoked_subcommand is None:
            print_trainers(trainer_entries(), chosen(fmt, as_json))
            raise typer.Exit(0)

    return app
