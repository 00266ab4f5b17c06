"""Shared CLI pieces: the console, and turning errors into one clear line and a stable exit code.

Exit codes of every command (``grade`` adds 1 for "below the pass mark"):

* ``2``: the command could not do its job: bad arguments, a missing or unreadable file, a path
  that cannot be written, a plugin that failed (an :class:`NlpdojoError` or an ``OSError``);
* ``3``: an internal error, a bug in nlpdojo or in a plugin (any other exception);
* ``130``: interrupted (Ctrl-C); ``143``: terminated (SIGTERM); ``141``: the reader of
  stdout went away (``... | head``), quietly, as a shell's SIGPIPE.

Either way the user reads one line, ``error: ...``, never a traceback (``NLPDOJO_DEBUG=1``
prints the traceback of an internal error too).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from nlpdojo.errors import InterruptRequested, NlpdojoError, StopRequested
from nlpdojo.terminal import visible_text

#: the command could not run (bad invocation, unreadable input, unwritable output)
EXIT_ERROR = 2
#: a bug in nlpdojo or a plugin: not the user's fault, not the student's
EXIT_INTERNAL = 3
#: Ctrl-C
EXIT_INTERRUPTED = 130
#: the reader of stdout went away (``dojo course history ... | head``): as a shell's SIGPIPE
EXIT_PIPE_CLOSED = 141


def _torch_cache_folder() -> str:
    """Where torch's compiler cache goes: nlpdojo's user cache folder, or, where that cannot
    be written (a read-only home in a CI job), a temporary folder removed at exit.
    ``torch.optim``'s first step (a grader-side oracle) makes torch create the cache; one it
    could not create failed every optimizer's torch check, told to the student as "the values
    your code returned could not be used" (a CI integrator's trial: the reference 41.75/44)."""
    from platformdirs import user_cache_path  # (on use: the commands that grade)

    folder = user_cache_path("nlpdojo", appauthor=False) / "torchinductor"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK | os.X_OK):
            return str(folder)
    except OSError:
        pass
    temporary = tempfile.mkdtemp(prefix="nlpdojo-torchinductor-")
    atexit.register(shutil.rmtree, temporary, ignore_errors=True)
    return temporary


def point_torch_cache() -> None:
    """Point torch's compiler cache (``TORCHINDUCTOR_CACHE_DIR``) at :func:`_torch_cache_folder`
    unless the user chose one: ``torch.optim``'s first step creates it, by default as
    ``torchinductor_<user>`` in $TMPDIR, where a grading leaves nothing (docs/security.md)."""
    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = _torch_cache_folder()


def _pipe_closed() -> int:
    """Quiet, as a command killed by SIGPIPE is: the rest of the output goes nowhere (and so
    does Python's own flush of it at exit), no ``error: [Errno 32] Broken pipe``."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a stdout without a descriptor (a test's)
        pass
    return EXIT_PIPE_CLOSED


DEBUG_ENV = "NLPDOJO_DEBUG"


def _width(stream: object) -> int | None:
    """The terminal's width; 120 columns when writing to a file or a CI log (rich would
    assume 80, too narrow for feedback tables)."""
    isatty = getattr(stream, "isatty", lambda: False)
    return None if isatty() or os.environ.get("COLUMNS") else 120


console = Console(width=_width(sys.stdout))
err_console = Console(stderr=True, width=_width(sys.stderr))


def print_error(exc: BaseException | str) -> None:
    """``error: <message>`` on stderr, one line, the message shown as is (not rich markup:
    messages hold things like ``[3, 7]``; terminal controls, from a folder's name say, as
    escapes)."""
    err_console.print(f"[bold red]error:[/] {escape(visible_text(str(exc)))}", highlight=False,
                      soft_wrap=True)


def print_warning(message: str) -> None:
    """``warning: <message>`` on stderr, one line (terminal controls as escapes)."""
    err_console.print(f"[bold yellow]warning:[/] {escape(visible_text(message))}", highlight=False,
                      soft_wrap=True)


def os_error_message(exc: OSError) -> str:
    """``/proc/x.json: No such file or directory`` rather than ``[Errno 2] ...``."""
    what = exc.strerror or type(exc).__name__
    if exc.filename is not None:
        where = f"{exc.filename} -> {exc.filename2}" if exc.filename2 is not None else \
            str(exc.filename)
        return f"{where}: {what} (check the path and its permissions)"
    return str(exc) or what


def describe_error(exc: BaseException) -> tuple[str, int]:
    """The one-line message and the exit code for an exception a command let escape."""
    if isinstance(exc, NlpdojoError):
        return str(exc), EXIT_ERROR
    if isinstance(exc, OSError):
        return os_error_message(exc), EXIT_ERROR
    return (f"internal error (a bug in nlpdojo or a plugin; please report it with the command "
            f"you ran): {type(exc).__name__}: {exc}"), EXIT_INTERNAL


def handle_error(exc: BaseException) -> int:
    """Print ``exc`` as one line (plus its traceback when ``NLPDOJO_DEBUG`` is set and it is an
    internal error or has a cause); return the exit code."""
    message, code = describe_error(exc)
    if os.environ.get(DEBUG_ENV) and (code == EXIT_INTERNAL or exc.__cause__ is not None):
        # an error with a cause (a plugin's module that failed to import) shows it too
        traceback.print_exception(exc, file=sys.stderr)
    elif code == EXIT_INTERNAL:
        message += f" (set {DEBUG_ENV}=1 to see the traceback)"
    print_error(message)
    return code


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM (a CI job's time limit) unwinds like Ctrl-C, so clean-up code runs: child
    processes are killed and temporary folders removed. Once: a second SIGTERM (a job's
    runner may send one to the process and one to its group) does not interrupt the clean-up
    and the report that the first one started (a handler, not SIG_IGN, which programs started
    meanwhile would inherit)."""
    signal.signal(signal.SIGTERM, _terminating)
    raise StopRequested(128 + signum)


def _terminating(signum: int, frame: Any) -> None:
    """SIGTERM while stopping: nothing more to do."""


def _interrupt(signum: int, frame: Any) -> None:
    """Ctrl-C, as Python's own handler raises it (``KeyboardInterrupt``), of a type no code
    the command runs can have raised (:class:`~nlpdojo.errors.InterruptRequested`)."""
    raise InterruptRequested()


#: typer's (click's) own control flow: ``typer.Exit`` (a ``RuntimeError``), ``Abort``, usage
#: errors (``ClickException``, reached through a public class: typer may vendor click)
_CLICK_FLOW: tuple[type[BaseException], ...] = (
    typer.Exit, typer.Abort, *(c for c in typer.BadParameter.__mro__
                               if c.__name__ == "ClickException"))


def plugin_warnings_as_lines() -> None:
    """Show nlpdojo's plugin warnings (a topic left out, an unknown plugin named) as
    ``warning: <message>`` lines, not as Python's ``FILE:LINE: PluginWarning`` with a line of
    the loader's source; other warnings as Python shows them. The commands call it first,
    before the plugins load."""
    import warnings

    from nlpdojo.plugins import PluginWarning

    shown = warnings.showwarning
    if getattr(shown, "_nlpdojo_lines", False):
        return

    def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(category, type) and issubclass(category, PluginWarning):
            print_warning(str(message))
        else:
            shown(message, category, *args, **kwargs)

    show._nlpdojo_lines = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def run_app(app: typer.Typer, argv: list[str] | None = None) -> Any:
    """Run a typer app; errors print as ``error: ...`` with the exit codes above."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # (not where ignored)
        signal.signal(signal.SIGINT, _interrupt)
    plugin_warnings_as_lines()
    try:
        return app(args=argv, standalone_mode=True)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        sys.exit(_pipe_closed())
    except _CLICK_FLOW:
        raise
    except Exception as exc:  # noqa: BLE001 - one line and a stable code, never a traceback
        sys.exit(handle_error(exc))


def report_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for commands: errors become ``typer.Exit(code)`` with a one-line message (so
    CliRunner sees the same behaviour as the console script): 2 for nlpdojo errors and
    ``OSError``, 3 for anything else (an internal error), 130 for Ctrl-C."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _CLICK_FLOW:
            raise
        except KeyboardInterrupt as exc:
            print_error("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from exc
        except BrokenPipeError as exc:
            raise typer.Exit(_pipe_closed()) from exc
        except Exception as exc:  # noqa: BLE001 - one line and a stable code, never a traceback
            raise typer.Exit(handle_error(exc)) from exc

    return wrapper
