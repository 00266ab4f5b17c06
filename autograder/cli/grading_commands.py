"""``dojo verify``: the instructor's one command that proves a course's grading."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

import typer
from rich.markup import escape

from nlpdojo.cli.common import console, report_errors
from nlpdojo.errors import NlpdojoError
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.release.verify import available_backends, verify
from nlpdojo_autograder.runtime.loader import reference_available
from nlpdojo_reports.comparison import compare_summaries, render_comparison
from nlpdojo_reports.dashboard import (
    DASHBOARD_NAME,
    RESULT_NAME,
    render_dashboard,
    report_folder_names,
    similarity_beside,
)
from nlpdojo_reports.writer import atomic_write_text, check_writable

_MISSING_HINT = ("a student installation has none; for an exercise pack, is the solutions "
                 "sub-package included in its distribution ([tool.setuptools.packages.find], "
                 "see docs/grading.md)?")


class VerifyError(NlpdojoError):
    """``dojo verify`` cannot run as asked (unknown or unavailable backend, no solutions)."""


def _backend_pairs(names: list[str] | None) -> list[tuple[str, str]] | None:
    """The (backend, device) pairs ``--backend`` selects (``None``: every available one); an
    unknown or unavailable backend is an error, not a silent "verify on nothing"."""
    if not names:
        return None
    specs = {entry.obj.name: entry.obj for entry in get_registry().entries("backend")}
    for name in names:
        if name not in specs:
            raise VerifyError(f"unknown backend {name!r} for --backend; registered backends: "
                              f"{', '.join(sorted(specs))} (`dojo backends` lists them)")
        why = specs[name].availability()
        if why is not None:
            raise VerifyError(f"backend {name!r} is not available here: {why}")
    pairs = [p for p in available_backends() if p[0] in names]
    if not pairs:
        raise VerifyError(f"backend(s) {', '.join(names)} have no usable device here")
    return pairs


@report_errors
def verify_command(
    topics: Annotated[
        list[str] | None, typer.Argument(help="Topics (default: all with solutions).")
    ] = None,
    backend: Annotated[list[str] | None, typer.Option(
        "--backend", help="Only these backends (default: every available one).")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail a planted bug that also costs points on another question than "
                         "its own (a missing swap_in), and another topic's bug in library code "
                         "this topic runs that costs points here (a missing requires).")] = False,
    integrative: Annotated[bool, typer.Option(
        "--integrative", help="Grade the integrative questions (those that train the whole "
        "pipeline) for every planted bug, to report what each bug costs there too (default: "
        "only for the bugs planted on them; their points never decide another bug's step).")
    ] = False,
    input_seed: Annotated[int | None, typer.Option(
        "--input-seed", min=0, help="Draw the checks' inputs from this seed (default: "
        "$NLPDOJO_INPUT_SEED, else the base seed whose expected values are the release's "
        "fixtures).")] = None,
    every_check: Annotated[bool, typer.Option(
        "--every-check", help="Grade every check of a planted bug's question, to list each "
        "that catches it (default: until one catches it, its gradient checks last, saying "
        "what the bug's `says` asks; the other questions are always graded in full).")] = False,
    planted_bugs_only: Annotated[bool, typer.Option(
        "--planted-bugs-only", help="Only the planted bugs (and the baseline they are judged "
        "against: the solutions graded as a submission): the stubs and the solutions on each "
        "backend are not graded. For a quick run after editing a planted bug or a question's "
        "requires; run it whole before releasing.")] = False,
) -> None:
    """Declarations agree with the solutions; stubs score 0; solutions score full marks on
    every backend; planted bugs are caught."""

    if planted_bugs_only and backend:
        raise VerifyError("--backend chooses the backends the solutions are graded on, which "
                          "--planted-bugs-only skips (planted bugs are graded on NumPy): give "
                          "one or the other")
    pairs = [] if planted_bugs_only else _backend_pairs(backend)
    if topics:
        exercises = [get_exercise(n) for n in topics]
        for exercise in exercises:
            if not reference_available(exercise.reference_package):
                raise VerifyError(
                    f"cannot verify {exercise.name}: its reference solutions "
                    f"{exercise.reference_package!r} cannot be imported; {_MISSING_HINT}")
    else:
        exercises = []
        for name in exercise_names():
            exercise = get_exercise(name)
            if reference_available(exercise.reference_package):
                exercises.append(exercise)
            else:
                console.print(f"[yellow]skip[/] {name}: its reference solutions "
                              f"{escape(exercise.reference_package)} cannot be imported; "
                              f"{escape(_MISSING_HINT)}", soft_wrap=True)
    if not exercises:
        console.print("nothing to verify: no exercise has its solutions installed")
        raise typer.Exit(1)

    def show(step):
        mark = "[green]ok  [/]" if step.ok else "[red]FAIL[/]"
        console.print(f"{mark} {step.exercise}: {escape(step.name)} — {escape(step.detail)}",
                      soft_wrap=True)

    if planted_bugs_only:
        console.print("planted bugs only: the stubs and the solutions on each backend are not "
                      "graded in this run", soft_wrap=True)
    steps = verify(exercises, backends=pairs, on_step=show, strict=strict,
                   input_seed=input_seed, integrative=integrative, every_check=every_check,
                   stubs=not planted_bugs_only)
    failed = [s for s in steps if not s.ok]
    console.print(f"{len(steps) - len(failed)}/{len(steps)} verification steps passed")
    raise typer.Exit(1 if failed else 0)


class ReportCommandError(NlpdojoError):
    """``dojo report`` cannot read the summary or write the page."""


def read_summary(summary: Path) -> dict:
    """A cohort's ``summary.json``, read and recognised as one, or an error that says what to
    give."""
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportCommandError(f"{summary}: no such file; give the summary.json that "
                                 "grade --submissions wrote") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReportCommandError(f"{summary} is not a JSON file ({exc}): give the "
                                 "summary.json that grade --submissions wrote") from exc
    except OSError as exc:
        raise ReportCommandError(f"cannot read {summary}: {exc}") from exc
    if not (isinstance(data, dict) and isinstance(data.get("submissions"), list)
            and "count" in data and "questions" in data):
        raise ReportCommandError(f"{summary} is not a cohort summary (grade --submissions "
                                 "DIR writes one as <output>/summary.json)")
    if str(data.get("schema_version", "")).split(".")[0] != "1":
        raise ReportCommandError(f"{summary}: cohort summary schema "
                                 f"{data.get('schema_version')!r} is not readable here")
    return data


class CompareFormat(StrEnum):
    table = "table"
    json = "json"


@report_errors
def report_command(
    summary: Annotated[Path | None, typer.Argument(
        help="A cohort's summary.json (written by grade --submissions).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="The HTML file to write (default: dashboard.html beside the "
        "summary); with --compare, the file for the comparison (default: stdout).")] = None,
    compare: Annotated[tuple[Path, Path] | None, typer.Option(
        "--compare", metavar="OLD NEW", help="Compare two cohort summaries instead: per "
        "submission the points before and after, the checks whose verdict changed and the "
        "new message (from each <name>/result.json beside the summaries).")] = None,
    fmt: Annotated[CompareFormat, typer.Option(
        "--format", "-f", help="With --compare: table or json.")] = CompareFormat.table,
    show_all: Annotated[bool, typer.Option(
        "--all", help="With --compare, table: list the submissions that did not change too."
    )] = False,
) -> None:
    """The cohort dashboard: one self-contained HTML page from a cohort's summary.json; or,
    with --compare OLD NEW, what changed between two gradings of a cohort."""

    if compare is not None:
        compare = (_summary_file(compare[0]), _summary_file(compare[1]))
        if summary is not None:
            raise ReportCommandError(f"--compare takes the two summaries itself; leave out "
                                     f"{summary}")
        _compare(compare[0], compare[1], output, fmt, show_all)
        return
    if fmt is not CompareFormat.table or show_all:
        raise ReportCommandError("--format and --all go with --compare OLD NEW (the "
                                 "dashboard is HTML)")
    if summary is None:
        raise ReportCommandError("give a cohort's summary.json (dojo report "
                                 "OUT/summary.json), or --compare OLD NEW")
    summary = _summary_file(summary)
    data = read_summary(summary)
    target = output if output is not None else summary.parent / DASHBOARD_NAME
    check_writable(target)
    # each submission's result lies beside the summary; link it relative to the page
    # (percent-encoded: a folder named ``a#1`` is a path, not a fragment)
    links = {}
    folders = report_folder_names([row["name"] for row in data["submissions"]])
    for name, folder in folders.items():
        result = summary.parent / folder / RESULT_NAME
        if result.is_file():
            links[name] = quote(Path(os.path.relpath(result.resolve(),
                                                     target.resolve().parent)).as_posix())
    similarity, written = similarity_beside(summary.parent)
    if similarity is not None:
        similarity = Path(os.path.relpath((summary.parent / similarity).resolve(),
                                          target.resolve().parent)).as_posix()
    atomic_write_text(target, render_dashboard(data, result_links=links, similarity=similarity,
                                               similarity_written=written))
    console.print(f"cohort dashboard written to {target}")


def _summary_file(given: Path) -> Path:
    """A cohort's summary.json: ``given``, or the one in ``given`` where it is the cohort's
    results folder (a folder was read as a file: "[Errno 21] Is a directory")."""
    if given.is_dir():
        inside = given / "summary.json"
        if inside.is_file():
            return inside
        raise ReportCommandError(f"{given} is a folder without a summary.json: give the "
                                 "summary.json that grade --submissions wrote (in its "
                                 "results folder, DIR-results)")
    return given


def _compare(old: Path, new: Path, output: Path | None, fmt: CompareFormat,
             show_all: bool) -> None:
    comparison = compare_summaries(old, read_summary(old), new, read_summary(new))
    if fmt is CompareFormat.json:
        text = json.dumps(comparison, indent=2, allow_nan=False) + "\n"
    else:
        text = render_comparison(comparison, width=max(console.width, 100),
                                 show_all=show_all)
    if output is None:
        sys.stdout.write(text)
        return
    check_writable(output)
    atomic_write_text(output, text)
    console.print(f"comparison written to {output}")


def add_grading_commands(cli: typer.Typer) -> None:
    cli.command("verify")(verify_command)
    cli.command("report")(report_command)
