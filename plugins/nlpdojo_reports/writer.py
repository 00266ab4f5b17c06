"""Writing a report: by format name, to a file (atomically) or to stdout."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import IO

from nlpdojo.errors import NlpdojoError
from nlpdojo.files import atomic_write
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading.reporting import Reporter
from nlpdojo_autograder.grading.results import GradingResult


class ReportError(NlpdojoError):
    """A report cannot be written (unwritable path) or its format failed to render it."""


def get_reporter(fmt: str) -> Reporter:
    """The reporter registered as ``fmt``; an unknown name raises ``UnknownNameError`` that
    lists the formats there are."""
    return get_registry().get("reporter", fmt)


def report_path(output: str | Path, fmt: str) -> Path:
    """Where ``--output`` puts a report: ``output`` itself, or ``output/<default_filename>``
    when ``output`` is an existing folder or is written with a trailing slash (``results/``)."""
    text = os.fspath(output)
    path = Path(text)
    if _is_dir(path) or text.endswith(("/", os.sep)):
        path = path / get_reporter(fmt).default_filename
    return path


def check_writable(path: Path, *, folder: bool = False) -> None:
    """Fail now, with a clear :class:`ReportError`, if a report could not be written at ``path``
    (a file; ``folder=True``: a folder that will receive reports). Creates the missing parent
    folders (the folder itself with ``folder=True``), tries a temporary file there, and takes
    away again the folders it made: a command refused after the check (a misspelt submission
    folder) leaves nothing behind, and the report's writer makes them when it writes."""
    path = Path(os.path.abspath(path))
    too_long = [part for part in path.parts if len(os.fsencode(part)) > _name_max(None)]
    if too_long:
        raise ReportError(f"cannot write to {path}: the name {too_long[0][:40]}... is longer "
                          f"than the {_name_max(None)} bytes a file name may have")
    if folder:
        if path.exists() and not path.is_dir():
            raise ReportError(f"--output {path} is a file: give a folder for the reports")
        where = path
    else:
        if path.is_dir():
            raise ReportError(f"cannot write the report to {path}: it is a folder")
        if path.exists() and not path.is_file():
            raise ReportError(f"cannot write the report to {path}: it is not a regular file "
                              "(leave out --output to write the report to stdout)")
        where = path.parent
    existing = where
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ReportError(f"cannot write to {path}: {existing} is a file, not a folder")
    name_max = _name_max(existing)
    for part in path.relative_to(existing).parts:
        if len(os.fsencode(part)) > name_max:
            raise ReportError(f"cannot write to {path}: the name {part[:40]}... is longer than "
                              f"the {name_max} bytes the file system allows")
    made = [p for p in (where, *where.parents) if not p.exists()]  # deepest first
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, prefix=".nlpdojo-", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise ReportError(f"cannot create files in {where}: {exc.strerror or exc} (check the "
                          "path and its permissions)") from exc
    finally:
        for folder in made:
            try:
                folder.rmdir()
            except OSError:  # one that something else put a file in meanwhile stays
                break


def _name_max(folder: Path | None) -> int:
    """The longest file name (bytes) in ``folder``; ``None``: the common limit, 255."""
    if folder is None:
        return 255
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long, a permission problem: check_writable says which
        return False


def render_report(result: GradingResult, fmt: str) -> str:
    """``fmt``'s rendering of ``result``; a reporter that raises becomes a :class:`ReportError`
    that names the format and the plugin that registered it."""
    reporter = get_reporter(fmt)
    try:
        return reporter.render(result)
    except NlpdojoError:
        raise
    except Exception as exc:  # noqa: BLE001 - a reporter's bug, reported with its plugin
        raise _render_failed(fmt, exc) from exc


def _render_failed(fmt: str, exc: Exception) -> ReportError:
    from nlpdojo.plugins import plugin_origin

    plugin = get_registry().entry("reporter", fmt).plugin
    origin = plugin_origin(plugin)
    if origin == "built-in":
        where, fix = f"built-in plugin {plugin!r}", ("a bug in nlpdojo, please report it; choose "
                                                     "another --format meanwhile")
    else:
        where = f"plugin {plugin!r}" + (f", {origin}" if origin != "local" else "")
        fix = "choose another --format, or fix or uninstall that plugin"
    return ReportError(f"report format {fmt!r} ({where}) failed to render the result: "
                       f"{type(exc).__name__}: {exc}; {fix}")


def write_report(
    result: GradingResult, fmt: str, output: str | Path | None, *,
    stream: IO[str] | None = None,
) -> Path | None:
    """Render ``result`` as ``fmt`` and write it.

    ``output=None`` writes to ``stream`` (stdout by default). Otherwise the report is rendered
    in full first, then written to a temporary file beside ``output`` and moved over it with
    :func:`os.replace`, so a reader never sees half a report and a failure leaves any earlier
    file untouched. Missing parent folders are created; an existing folder as ``output`` (or a
    path ending in ``/``) receives the reporter's ``default_filename``. The file gets the
    permissions of an ordinary new file (``0666`` less the umask), or keeps those of the file it
    replaces. Returns the path written, or ``None``. A reporter that raises becomes a
    :class:`ReportError` naming the format and its plugin.
    """
    reporter = get_reporter(fmt)
    if output is None:
        out = stream if stream is not None else sys.stdout
        try:
            reporter.write(result, out)
        except (NlpdojoError, OSError):
            raise
        except Exception as exc:  # noqa: BLE001 - a reporter's bug, reported with its plugin
            raise _render_failed(fmt, exc) from exc
        return None
    path = report_path(output, fmt)
    text = render_report(result, fmt)
    atomic_write_text(path, text)  # (its missing folders made)
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, its missing folders made; a report it
    replaces keeps its mode."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text, keep_mode=True)
