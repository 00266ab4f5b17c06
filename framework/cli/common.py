"""Shared CLI pieces: the console, and turning nlpdojo errors into one clear line."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from nlpdojo.errors import NlpdojoError


def _width(stream: object) -> int | None:
    """The terminal's width; 120 columns when writing to a file or a CI log (rich would
    assume 80, too narrow for feedback tables)."""
    isatty = getattr(stream, "isatty", lambda: False)
    return None if isatty() or os.environ.get("COLUMNS") else 120


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))


def print_error(exc: BaseException) -> None:
    """``error: <message>`` on stderr, one line, the message shown as is (not rich markup:
    messages hold things like ``[3, 7]``)."""
    err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM (a CI job's time limit) unwinds like Ctrl-C, so clean-up code runs: child
    processes are killed and temporary folders removed."""
    raise SystemExit(128 + signum)


def run_app(app: typer.Typer, argv: list[str] | None = None) -> Any:
    """Run a typer app; an :class:`NlpdojoError` prints as ``error: ...`` and exits with 2."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        return app(args=argv, standalone_mode=True)
    except NlpdojoError as exc:
        print_error(exc)
        sys.exit(2)


def report_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for commands: nlpdojo errors become ``typer.Exit(2)`` with a one-line message
    (so CliRunner sees the same behaviour as the console script)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NlpdojoError as exc:
            print_error(exc)
            raise typer.Exit(2) from exc

    return wrapper
