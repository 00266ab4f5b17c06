"""``grade``'s live progress on a terminal: a line per check as its verdict is known, and a
spinner for the running one with its elapsed time (a metric check says what it trains); for a
cohort (``grade --submissions``), a line per submission as it is graded, in the order they
finish, and a bar counting them.

Only on a terminal (:func:`live_display`): piped output and CI logs get no progress at all,
so that they hold nothing but the report, the same on every run. The spinner is rich's
:class:`~rich.live.Live` display, transient: when grading ends it disappears and the report
follows the per-check lines. rich's live display, spinner and progress bar (~8 ms of imports)
are imported only where they are drawn: a ``grade`` in CI never draws them.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from rich.console import Console, RenderableType
from rich.text import Text

from nlpdojo_autograder.authoring.checks import Check
from nlpdojo_autograder.grading.grade import Listener
from nlpdojo_autograder.grading.results import CheckResult
from nlpdojo_reports.formatting import STATUS_LABELS, fmt_points, shown_status

if TYPE_CHECKING:
    from rich.live import Live
    from rich.progress import Progress
    from rich.spinner import Spinner

#: a running check's elapsed time is shown from this many seconds on
SHOW_ELAPSED_S = 2.0
#: a finished check's duration is shown from this many seconds on
SHOW_DURATION_S = 1.0

_MARKS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "magenta"),
          "timeout": ("⏱", "yellow"), "not_implemented": ("·", "yellow"),
          "skipped": ("-", "cyan")}


def running_text(topic: str, check: Check, elapsed: float, *, reference: bool) -> Text:
    """What the spinner says about the running check."""
    who = "the reference: " if reference else ""
    text = Text(f"{topic} {check.id}", style="bold")
    if check.kind == "metric":
        what = f"training ({check.budget})" if check.budget else "training"
        text.append(f"  {who}{what}: {check.title}")
    else:
        text.append(f"  {who}{check.title}")
    if elapsed >= SHOW_ELAPSED_S:
        text = Text(f"{elapsed:.0f} s  ", style="dim") + text
    text.no_wrap, text.overflow = True, "ellipsis"  # one line, however long the budget
    return text


def finished_line(topic: str, result: CheckResult) -> Text:
    """One finished check: mark, points, id, verdict, and how long it took if long."""
    status = shown_status(result)
    mark, style = _MARKS.get(status, ("?", ""))
    line = Text(f"{mark} ", style=style)
    line.append(f"{fmt_points(result.score, result.max_score):>7}  ")
    line.append(f"{topic} {result.id}  ")
    line.append(STATUS_LABELS.get(status, status), style=style)
    if result.cached:
        line.append("  (cached)", style="dim")
    elif result.duration_s >= SHOW_DURATION_S:
        line.append(f"  {result.duration_s:.1f} s", style="dim")
    return line


def live_display(console: Console) -> bool:
    """Whether ``console`` shows a live display: a terminal, and not one only because
    ``FORCE_COLOR`` says so where the stream is no terminal (many CI set-ups export it, for
    colours: a grading's spinner wrote ~450 frames, 33 KB, into a CI log; a CI integrator's
    trial)."""
    if not console.is_terminal:
        return False
    isatty = getattr(console.file, "isatty", None)
    return bool(isatty and isatty()) or "FORCE_COLOR" not in os.environ


class LiveProgress(Listener):
    """Prints to ``console`` while grading, if it is a terminal; use as a context manager."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.enabled = live_display(console)
        self.spinner: Spinner | None = None
        self.current: tuple[str, Check, float, bool] | None = None
        self.live: Live | None = None

    def __enter__(self) -> LiveProgress:
        if self.enabled:
            from rich.live import Live
            from rich.spinner import Spinner

            self.spinner = Spinner("dots", text=Text("starting the grader"))
            self.live = Live(console=self.console, get_renderable=self._render,
                             refresh_per_second=8, transient=True)
            self.live.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _render(self) -> RenderableType:
        assert self.spinner is not None  # (drawn only once entered, where enabled)
        if self.current is not None:
            topic, check, since, reference = self.current
            self.spinner.update(text=running_text(topic, check, time.monotonic() - since,
                                                  reference=reference))
        return self.spinner

    def started(self, topic: str, check: Check, *, reference: bool = False) -> None:
        self.current = (topic, check, time.monotonic(), reference)
        if self.live is not None:
            self.live.refresh()

    def finished(self, topic: str, check: Check, result: CheckResult) -> None:
        self.current = None
        if self.live is not None:
            assert self.spinner is not None  # (made with the live display)
            self.spinner.update(text=Text("…"))  # the next check starts
            self.live.console.print(finished_line(topic, result))


def submission_line(name: str, score: float, max_score: float, seconds: float, *,
                    kept: bool = False, failed: bool = False) -> Text:
    """One graded submission of a cohort: mark, points, name, and how long it took."""
    mark, style = (("!", "magenta") if failed else ("✓", "green") if score >= max_score > 0
                   else ("✗", "red") if score <= 0 else ("~", "yellow"))
    line = Text(f"{mark} ", style=style)
    line.append(f"{fmt_points(score, max_score):>11}  ")
    line.append(name, style="bold")  # a renderable: a folder's name is not markup
    if failed:
        line.append("  could not be graded", style=style)
    if kept:
        line.append("  (kept from the earlier run)", style="dim")
    elif seconds >= SHOW_DURATION_S:
        line.append(f"  {seconds:.1f} s", style="dim")
    return line


class CohortProgress:
    """A cohort's progress on ``console``, only if it is a terminal (as :class:`LiveProgress`):
    a line per submission as its grading ends, and a transient bar with the count and the
    time so far. Use as a context manager; :meth:`graded` from any thread."""

    def __init__(self, console: Console, total: int) -> None:
        self.console, self.total = console, total
        self.progress: Progress | None = None

    def __enter__(self) -> CohortProgress:
        if live_display(self.console):
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                SpinnerColumn(), TextColumn("grading submissions"), BarColumn(),
                MofNCompleteColumn(), TimeElapsedColumn(), console=self.console,
                transient=True)
            self.progress.start()
            self.task = self.progress.add_task("grading", total=self.total)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def graded(self, line: Text) -> None:
        if self.progress is not None:
            self.progress.console.print(line)
            self.progress.advance(self.task)


#: an internal channel: where ``grade`` appends a JSON line per check event, for a caller that
#: shows its own progress (``check()`` in a notebook,
#: :mod:`nlpdojo_autograder.release.notebook_check`)
EVENTS_ENV = "NLPDOJO_PROGRESS_EVENTS"


class EventLog(Listener):
    """Appends ``{"event": "started" | "finished", ...}`` lines to a file, flushed per line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def _write(self, record: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps({**record, "at": time.time()}) + "\n")

    def started(self, topic: str, check: Check, *, reference: bool = False) -> None:
        self._write({"event": "started", "topic": topic, "id": check.id, "kind": check.kind,
                     "title": check.title, "budget": check.budget, "reference": reference})

    def finished(self, topic: str, check: Check, result: CheckResult) -> None:
        self._write({"event": "finished", "topic": topic, "id": check.id,
                     "status": result.status, "score": result.score,
                     "max_score": result.max_score, "cached": result.cached,
                     "duration_s": result.duration_s})


class Fanout(Listener):
    """Tells every listener in turn."""

    def __init__(self, *listeners: Listener) -> None:
        self.listeners = listeners

    def started(self, topic: str, check: Check, *, reference: bool = False) -> None:
        for listener in self.listeners:
            listener.started(topic, check, reference=reference)

    def finished(self, topic: str, check: Check, result: CheckResult) -> None:
        for listener in self.listeners:
            listener.finished(topic, check, result)
