"""``dojo draws``: prepare, list and clear the draws that ``grade`` takes instead of running the
reference at a fresh one (:mod:`nlpdojo_autograder.grading.draws`)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from nlpdojo.cli.common import console, err_console, report_errors
from nlpdojo.cli.formats import DataFormat, JsonAlias, chosen, format_option
from nlpdojo.errors import NlpdojoError
from nlpdojo_autograder.grading import draws as prepared
from nlpdojo_autograder.grading.expected import ROOT_ENV
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.grading.runner import Limits
from nlpdojo_autograder.runtime.loader import reference_available

app = typer.Typer(rich_markup_mode=None, name="draws", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False,
                  help="Prepare draws ahead of gradings: the reference's expected outcomes "
                       "at fresh input seeds, each taken by one `grade` of a submission.")


class DrawsError(NlpdojoError):
    """A request ``dojo draws`` cannot carry out (exit 2, one line)."""


def _pool() -> prepared.DrawPool:
    pool = prepared.default_pool()
    if pool is None:
        raise DrawsError(f"{ROOT_ENV} is off: there is no store for the reference's expected "
                         f"outcomes, so none can be prepared or taken (unset it, or name a "
                         "folder)")
    return pool


def _topics(names: list[str] | None) -> list[str]:
    """The topics asked for, each registered and with its reference installed (default: every
    topic whose reference is)."""
    registered = exercise_names()
    if not names:
        names = [t for t in registered
                 if reference_available(get_exercise(t).reference_package)]
        if not names:
            raise DrawsError("no topic's reference solutions are installed here: a prepared "
                             "draw holds the reference's outcomes; prepare draws where the "
                             "grader runs with the solutions")
        return names
    unknown = [t for t in names if t not in registered]
    if unknown:
        raise DrawsError(f"unknown topic {', '.join(unknown)} (registered: "
                         f"{', '.join(registered)})")
    lacking = [t for t in names if not reference_available(get_exercise(t).reference_package)]
    if lacking:
        raise DrawsError(f"the reference solutions of {', '.join(lacking)} are not installed "
                         "here: a prepared draw holds the reference's outcomes; prepare draws "
                         "where the grader runs with the solutions")
    return list(dict.fromkeys(names))


@app.command("prepare")
@report_errors
def prepare_command(
    topics: Annotated[list[str] | None, typer.Argument(
        help="The topics a draw serves: a grading of any of them may take it (default: every "
             "topic whose reference is installed). Prepare draws for the topics your "
             "gradings grade: a draw is spent whole.")] = None,
    count: Annotated[int, typer.Option(
        "--count", "-n", min=1, help="How many draws to prepare.")] = 1,
    full: Annotated[bool, typer.Option(
        "--full", help="For gradings with --full (the full training budget).")] = False,
    timeout_scale: Annotated[float, typer.Option(
        "--timeout-scale", min=0.01, help="Multiply the reference's check time limits (a busy "
                                          "machine).")] = 1.0,
    fmt: format_option("what was prepared (the progress lines stay on stderr)"
                       ) = DataFormat.table,
    as_json: JsonAlias = False,
) -> None:
    """Draw fresh input seeds and run the reference at each, storing its expected outcomes for
    `grade` to take (one draw per grading, never used twice)."""
    names = _topics(topics)
    pool = _pool()
    limits = Limits(timeout_scale=timeout_scale)
    records: list[dict[str, object]] = []  # no seed: a draw's seed is as secret as a fresh one
    for n in range(count):
        started = time.perf_counter()
        try:
            one = prepared.prepare(pool, names, full=full, limits=limits)
        except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM: what is made stays
            err_console.print(f"stopped: {len(records)} of {count} draws prepared in {pool.folder} "
                              "(kept; the one under way is not)", highlight=False)
            raise
        records.append({"id": one.draw.id, "seconds": round(time.perf_counter() - started, 1),
                        "outcomes": {topic: {"stored": got, "checks": of}
                                     for topic, (got, of) in one.stored.items()}})
        held = ", ".join(f"{topic} {got}/{of}" for topic, (got, of) in one.stored.items())
        short = [t for t, (got, of) in one.stored.items() if got < of]
        err_console.print(
            f"draw {n + 1}/{count}: {held} checks' outcomes, "
            f"{time.perf_counter() - started:.0f} s"
            + (f" (the reference did not complete the rest of {', '.join(short)}: a grading "
               "taking this draw runs those)" if short else ""), highlight=False)
    ready = sum(1 for d in pool.draws() if pool.fits(d, names, full, prepared.memo_key_of()))
    if chosen(fmt, as_json) is DataFormat.json:
        typer.echo(json.dumps({"folder": str(pool.folder), "topics": names, "full": full,
                               "prepared": records, "ready": ready}, indent=2))
        return
    made = len(records)
    console.print(f"prepared {made} draw{'s' * (made != 1)} in {pool.folder}; {ready} ready "
                  f"for {', '.join(names)}{' --full' if full else ''}", highlight=False)


@app.command("list")
@report_errors
def list_command(fmt: format_option("the prepared draws") = DataFormat.table,
                 as_json: JsonAlias = False) -> None:
    """The prepared draws: per set of topics and budget, how many are ready and how many are
    stale (prepared with another reference or grader; `dojo draws clear --stale`)."""
    pool = _pool()
    data = prepared.summary(pool, prepared.memo_key_of())
    if chosen(fmt, as_json) is DataFormat.json:
        typer.echo(json.dumps(data, indent=2))
        return
    if not data["groups"]:
        console.print(f"no prepared draws in {pool.folder} (`dojo draws prepare TOPIC "
                      "--count N`)", highlight=False)
    else:
        table = Table(title=f"prepared draws in {pool.folder}")
        for column in ("topics", "budget", "ready", "stale", "size", "oldest", "newest"):
            table.add_column(column)
        for group in data["groups"]:
            table.add_row(", ".join(group["topics"]), "full" if group["full"] else "quick",
                          str(group["ready"]), str(group["stale"]),
                          f"{group['bytes'] / 1e6:.1f} MB", _when(group["oldest"]),
                          _when(group["newest"]))
        console.print(table)
    for folder in data["unreadable"]:
        console.print(f"unreadable: {folder} (`dojo draws clear --stale` removes it)",
                      highlight=False)
    for folder in data["leftovers"]:
        console.print(f"being made or claimed, or left by a killed process: {folder} (`dojo "
                      "draws clear` removes it once a day old)", highlight=False)


@app.command("clear")
@report_errors
def clear_command(stale: Annotated[bool, typer.Option(
        "--stale", help="Only draws no grading can take (prepared with another reference or "
                        "grader), unreadable folders, and what a process killed while "
                        "preparing or claiming left over a day ago.")] = False,
                 fmt: format_option("how many were removed") = DataFormat.table,
                 as_json: JsonAlias = False) -> None:
    """Remove prepared draws (every one, or the stale ones)."""
    pool = _pool()
    if stale:
        key_of = prepared.memo_key_of()
        removed = pool.remove([d for d in pool.draws() if not pool.current(d, key_of)])
        removed += pool.remove_unreadable()
    else:
        removed = pool.remove()
    if chosen(fmt, as_json) is DataFormat.json:
        typer.echo(json.dumps({"folder": str(pool.folder), "removed": removed,
                               "stale_only": stale}, indent=2))
        return
    console.print(f"removed {removed} prepared draw{'s' * (removed != 1)} from {pool.folder}",
                  highlight=False)


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def add_draws_command(cli: typer.Typer) -> None:
    cli.add_typer(app, name="draws")
