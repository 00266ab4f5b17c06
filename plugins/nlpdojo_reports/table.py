"""The terminal report: one rich table of checks per exercise, a total, and how it was run."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from nlpdojo_autograder.grading.reporting import Reporter
from nlpdojo_autograder.grading.results import STATUSES, ExerciseResult, GradingResult
from nlpdojo_reports.formatting import (
    STATUS_LABELS,
    fmt_number,
    fmt_points,
    fmt_score,
    metric_text,
    run_lines,
    shown_status,
)
from nlpdojo_reports.sanitize import visible_text

#: rich style of each verdict
STATUS_STYLES: dict[str, str] = {
    "passed": "bold green",
    "failed": "bold red",
    "error": "bold magenta",
    "timeout": "bold yellow",
    "not_implemented": "yellow",
    "skipped": "cyan",
}

RENDER_WIDTH = 120
#: below this many columns a table would squeeze messages into slivers: print a list instead
COMPACT_BELOW = 100


#: how much a table shows (``grade -q``/``-v``): ``quiet`` the total line and the warnings,
#: ``summary`` a row per question whose checks all passed and every check of the others (what
#: ``grade`` prints: a solved topic printed 800 lines of passed checks' messages), ``verbose``
#: every check with its message
DETAILS = ("quiet", "summary", "verbose")


class TableReporter(Reporter):
    """``grade --format table``: what a student reads in the terminal.

    Messages wrap (``overflow="fold"``), never end in an ellipsis: the failing index and the
    values involved are the point of a message. :meth:`render` gives plain text, 120 columns;
    :meth:`print_to` prints in colour to a rich console. ``detail``: one of :data:`DETAILS`.
    """

    name = "table"
    default_filename = "report.txt"

    def __init__(self, detail: str = "verbose") -> None:
        if detail not in DETAILS:
            raise ValueError(f"detail must be one of {', '.join(DETAILS)}, not {detail!r}")
        self.detail = detail

    def render(self, result: GradingResult) -> str:
        """The report as plain text (no colour codes), 120 columns wide."""
        console = Console(
            file=StringIO(), width=RENDER_WIDTH, force_terminal=False, color_system=None,
            record=True, highlight=False,
        )
        self.print_to(console, result)
        return console.export_text()

    def print_to(self, console: Console, result: GradingResult) -> None:
        """Print the report to ``console`` (colours if the console has them); on a terminal
        narrower than :data:`COMPACT_BELOW` columns, one check per paragraph instead of a
        table."""
        compact = console.width < COMPACT_BELOW
        console.print(self.renderable(result, compact=compact))

    def write(self, result: GradingResult, stream: IO[str]) -> None:
        """Write to ``stream``: in colour when it is a terminal, plain text otherwise."""
        if stream.isatty():
            self.print_to(Console(file=stream, highlight=False), result)
        else:
            stream.write(self.render(result))

    def renderable(self, result: GradingResult, *, compact: bool = False) -> RenderableType:
        """Everything as one rich renderable: the tables, the total, the footer."""
        layout = exercise_list if compact else exercise_table
        summary = self.detail == "summary"
        parts: list[RenderableType] = [] if self.detail == "quiet" else [
            layout(ex, summary=summary) for ex in result.exercises]
        parts.append(total_line(result))
        if summary and any(len(rows) < len(ex.checks) for ex in result.exercises
                           for rows in [summary_rows(ex)]):
            parts.append(Text("(a row per question whose checks all passed; -v shows every "
                              "check)", style="dim"))
        parts += [Text(f"warning: {w}", style="yellow") for w in result.warnings]
        if self.detail != "quiet":
            parts.append(footer(result))
        return Group(*parts)


def verdict(status: str, *, cached: bool = False) -> Text:
    """The coloured verdict of one check; ``cached``: reused from an earlier run."""
    text = Text(STATUS_LABELS[status], style=STATUS_STYLES[status])
    if cached:
        text.append(" (cached)", style="dim")
    return text


def hidden_note(ex: ExerciseResult) -> Text | None:
    """The hidden checks left out of this grading, per question: ``None`` when there are
    none (or they ran)."""
    if not ex.hidden_points:
        return None
    parts = ", ".join(f"{q} {fmt_score(p)}" for q, p in ex.hidden_points.items())
    total = sum(ex.hidden_points.values())
    return Text(f"Hidden checks, not run here: {fmt_score(total)} more point"
                f"{'' if total == 1 else 's'} ({parts}); they run when your work is graded "
                "after you submit it.", style="italic")


def _with_hidden(ex: ExerciseResult, body: RenderableType) -> RenderableType:
    note = hidden_note(ex)
    return Group(body, note) if note is not None else body


def exercise_table(ex: ExerciseResult, *, summary: bool = False) -> RenderableType:
    """One exercise: a row per check (a metric column only if some check measured something;
    ``summary``: one row for a question whose checks all passed, :func:`summary_rows`), the
    exercise-wide error if there was one, and the points of hidden checks not run."""
    return _with_hidden(ex, _exercise_table(ex, summary=summary))


#: the narrowest the Check column gets (with ``ratio``, rich takes ``width`` as the least, not
#: ``min_width``): its titles wrap on words, never inside one (with a metric column it had
#: shrunk to 6-9 characters and broke words)
CHECK_MIN_WIDTH = 24


def none_graded(ex: ExerciseResult) -> str | None:
    """The one message of an exercise none of whose checks ran (its folder missing from the
    submission: every check an error with that message), or None. The default table says it
    once for the topic (``grade`` of an empty folder printed it for 44 checks of one topic,
    "the same as ..." for 32 of them); ``-v`` and the JSON report keep every check."""
    messages = {c.message for c in ex.checks}
    if (ex.error is None or len(messages) != 1
            or any(c.status != "error" for c in ex.checks)):
        return None
    return messages.pop()


def _heading(ex: ExerciseResult) -> str:
    return f"{ex.name}: {ex.title}  {fmt_points(ex.score, ex.max_score)}"


def _none_graded_lines(ex: ExerciseResult, message: str) -> RenderableType:
    return Group(Text(_heading(ex), style="italic"),
                 Text(visible_text(f"{ex.name}: {message} " + (
                     f"(none of its {len(ex.checks)} checks ran)" if len(ex.checks) > 1
                     else "(its one check did not run)")), style="bold red"))


def _exercise_table(ex: ExerciseResult, *, summary: bool = False) -> RenderableType:
    title = _heading(ex)
    if summary and (message := none_graded(ex)) is not None:
        return _none_graded_lines(ex, message)
    error = Text(visible_text(f"{ex.name}: {ex.error}"), style="bold red") if ex.error else None
    if not ex.checks:
        heading = Text(title, style="italic")
        return Group(heading, error) if error is not None else heading
    with_metric = any(c.value is not None or c.threshold is not None for c in ex.checks)
    table = Table(title=title, title_justify="left", expand=True)
    table.add_column("Question", no_wrap=True)
    table.add_column("Check", overflow="fold", ratio=2, width=CHECK_MIN_WIDTH)
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Message", overflow="fold", ratio=5)
    if with_metric:
        table.add_column("Metric", no_wrap=True)  # short: "152.3 (threshold 160)"
    for row_checks, name, message in (summary_rows(ex) if summary else _every_row(ex)):
        check = row_checks[0]
        score = sum(c.score for c in row_checks)
        most = sum(c.max_score for c in row_checks)
        row: list[RenderableType] = [
            check.question,
            Text(visible_text(name)),
            fmt_points(score, most),
            verdict(shown_status(check), cached=all(c.cached for c in row_checks)),
            # Text(): brackets in a message are not rich markup
            Text(message),
        ]
        if with_metric:
            row.append(metric_text(check) if len(row_checks) == 1 else "")
        table.add_row(*row)
    return Group(table, error) if error is not None else table


Row = tuple[list, str, str]


def _every_row(ex: ExerciseResult) -> list[Row]:
    """``([check], its name, its message)`` for every check."""
    return [([check], _name(check), message)
            for check, message in zip(ex.checks, shown_messages(ex), strict=True)]


def _name(check) -> str:
    return (check.title or check.id) + (" (hidden)" if check.hidden else "")


def summary_rows(ex: ExerciseResult) -> list[Row]:
    """The rows of ``grade``'s default table: a question whose every check passed is one row
    (its points, "3 checks passed", no message), the others a row per check with its message,
    so that what is left to do is what the table shows."""
    every = _every_row(ex)
    rows: list[Row] = []
    done: set[str] = set()
    for checks, name, message in every:
        question = checks[0].question
        own = [c for c in ex.checks if c.question == question]
        if not all(c.status == "passed" for c in own):
            rows.append((checks, name, message))
        elif question not in done:
            done.add(question)
            rows.append((own, name, message) if len(own) == 1 else
                        (own, f"{len(own)} checks passed", ""))
    return rows


#: lines of what a failing check printed, shown under its message
PRINTED_LINES = 3


def message_text(check) -> str:
    """The message, and for a check that did not pass the last lines the code printed during
    it (a student's debugging prints are the first thing they look for), saying how many it
    printed and how many the JSON report keeps (``output`` is capped; where it was cut its
    first line says so and ``details["printed"]`` holds the lines printed in all)."""
    text = visible_text(check.message)
    lines = visible_text(check.output).splitlines()
    cut = check.details.get("printed") if isinstance(check.details, dict) else None
    if cut and lines:
        lines = lines[1:]  # the line that says how much was cut: said below instead
    printed = [line for line in lines if line.strip()]
    if printed and check.status != "passed":
        shown = printed[-PRINTED_LINES:]
        more = ""
        if cut:
            total = cut.get("lines", 0)
            more = (f" {total:,} line{'' if total == 1 else 's'} (the last {len(shown)} here; "
                    f"only the last {len(lines):,} are kept, in --format json)")
        elif len(printed) > len(shown):
            more = f" (last {len(shown)} of {len(printed)} lines; all in --format json)"
        text += f"\nyour code printed{more}:\n" + "\n".join(f"  {line}" for line in shown)
    return text


def shown_messages(ex: ExerciseResult) -> list[str]:
    """Each check's :func:`message_text`, where a failed check's is the same as an earlier
    failed check's of its question (one error raised by the forward every check runs) said
    once: the later ones point to the first. The JSON report keeps every message whole."""
    first: dict[tuple[str, str], str] = {}
    shown = []
    for check in ex.checks:
        text = message_text(check)
        if check.status == "passed" or not check.message:
            shown.append(text)
            continue
        key = (check.question, text)
        if key in first:
            shown.append(f"the same as {first[key]}")
        else:
            first[key] = visible_text(check.title or check.id)
            shown.append(text)
    return shown


def exercise_list(ex: ExerciseResult, *, summary: bool = False) -> RenderableType:
    """One exercise for a narrow terminal: a line per check, its message indented below
    (``summary``: a line for a question whose checks all passed)."""
    return _with_hidden(ex, _exercise_list(ex, summary=summary))


def _exercise_list(ex: ExerciseResult, *, summary: bool = False) -> RenderableType:
    if summary and (message := none_graded(ex)) is not None:
        return _none_graded_lines(ex, message)
    parts: list[RenderableType] = [Text(_heading(ex), style="italic")]
    if ex.error:
        parts.append(Text(visible_text(f"{ex.name}: {ex.error}"), style="bold red"))
    for checks, _, detail in (summary_rows(ex) if summary else _every_row(ex)):
        check = checks[0]
        score, most = sum(c.score for c in checks), sum(c.max_score for c in checks)
        line = Text(f"{fmt_points(score, most):>7} ")
        line.append_text(verdict(shown_status(check), cached=all(c.cached for c in checks)))
        line.append(f"  {check.id}" + (" (hidden)" if check.hidden else "") if len(checks) == 1
                    else f"  {check.question}: {len(checks)} checks passed")
        metric = metric_text(check)
        if metric and check.status != "passed":
            detail += f" [{metric}]"
        style = "dim" if check.status == "passed" else ""
        parts.append(line)
        if detail:
            parts.append(Padding(Text(detail, style=style), (0, 0, 0, 8)))
    return Group(*parts)


def total_line(result: GradingResult) -> Text:
    """``Total: 7.5/10 (75.0%)  4 passed, 1 failed ...``."""
    counts = Counter(shown_status(c) for _, c in result.checks())
    pct = 100.0 * result.score / result.max_score if result.max_score else 0.0
    line = Text(f"Total: {fmt_points(result.score, result.max_score)} ({pct:.1f}%)", style="bold")
    for status in (*STATUSES, "skipped"):
        if counts[status]:
            line.append("  ")
            line.append(f"{counts[status]} {STATUS_LABELS[status]}", style=STATUS_STYLES[status])
    if result.hidden_points:
        plural = "" if result.hidden_points == 1 else "s"
        line.append(f"  + {fmt_score(result.hidden_points)} point{plural} of hidden checks "
                    "at submission", style="italic")
    cached = sum(c.cached for _, c in result.checks())
    if cached:
        line.append(f"  ({cached} unchanged, from the cache; --no-cache runs all)", style="dim")
    return line


def _hidden_ran(result: GradingResult) -> str:
    """`` (hidden checks ran)`` where some hidden check of a topic that was graded ran: a topic
    none of whose checks ran (:func:`none_graded`) ran none of its hidden ones either."""
    ran = any(c.hidden for ex in result.exercises if none_graded(ex) is None for c in ex.checks)
    return " (hidden checks ran)" if ran else ""


def footer(result: GradingResult) -> Text:
    """How the run was made: backend, device, seeds, versions, submission."""
    lines = [
        *run_lines(result),
        f"submission {result.submission}"
        + (f"; started {result.started_at}" if result.started_at else "")
        + f"; took {fmt_number(result.duration_s, 3)} s"
        + (f"; solutions present{_hidden_ran(result)}" if result.solutions_present else ""),
    ]
    return Text("\n".join(lines), style="dim")
