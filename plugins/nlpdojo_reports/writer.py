"""Writing a report: by format name, to a file (atomically) or to stdout."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import IO

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.reporting import Reporter
from nlpdojo_autograder.results import GradingResult


def get_reporter(fmt: str) -> Reporter:
    """The reporter registered as ``fmt``; an unknown name raises ``UnknownNameError`` that
    lists the formats there are."""
    return get_registry().get("reporter", fmt)


def write_report(
    result: GradingResult, fmt: str, output: Path | None, *, stream: IO[str] | None = None
) -> Path | None:
    """Render ``result`` as ``fmt`` and write it.

    ``output=None`` writes to ``stream`` (stdout by default). Otherwise the report is rendered
    in full first, then written to a temporary file beside ``output`` and moved over it with
    :func:`os.replace`, so a reader never sees half a report and a failure leaves any earlier
    file untouched. Missing parent folders are created; an existing folder as ``output``
    receives the reporter's ``default_filename``. Returns the path written, or ``None``.
    """
    reporter = get_reporter(fmt)
    if output is None:
        reporter.write(result, stream if stream is not None else sys.stdout)
        return None
    path = Path(output)
    if path.is_dir():
        path = path / reporter.default_filename
    text = reporter.render(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, text)
    return path


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
