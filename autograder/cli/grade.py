"""``grade``: grade exercises, a submission, a notebook, or a whole cohort of submissions.

Exit codes: 0 when the score reaches ``--fail-under`` (default: full marks; for a cohort,
every submission must), 1 when it does not, 2 when grading could not run (bad or incompatible
options, unknown topic or format, unreadable notebook, an output that cannot be written, missing
expected values), 3 on an internal error (a bug in nlpdojo or a plugin). Always a one-line
error, never a traceback. Options are checked before any grading starts.
"""

from __future__ import annotations

import difflib
import functools
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nlpdojo import selection
from nlpdojo.cli.common import (
    EXIT_ERROR,
    console,
    describe_error,
    err_console,
    plugin_warnings_as_lines,
    point_torch_cache,
    print_error,
    print_warning,
    report_errors,
    run_app,
)
from nlpdojo.errors import NlpdojoError
from nlpdojo.plugins import get_registry
from nlpdojo.settings import Choice, CourseConfig, pick
from nlpdojo.startup import imports_without_collection
from nlpdojo_autograder.authoring.questions import QuestionError, resolve, selected, split
from nlpdojo_autograder.authoring.reference_runs import STORE_ENV as AT_SCALE_STORE_ENV
from nlpdojo_autograder.cli.grade_options import (
    DEFAULT_MEMORY_MB,
    HTML_FORMAT,
    REPLAYED_FROM,
    RESULT_NAME,
    GradeRequest,
    UsageError,
    reference_present,
    replayed_warning,
)
from nlpdojo_autograder.cli.version import VersionOption
from nlpdojo_autograder.course import COURSE_ENV
from nlpdojo_autograder.grading.child import (
    Interrupted,
    end_with_parent,
    resume_children,
    run_child,
    stop_children,
)
from nlpdojo_autograder.grading.cluster import connect, result_of, submit_all
from nlpdojo_autograder.grading.draws import take as take_draw
from nlpdojo_autograder.grading.expected import ROOT_ENV as EXPECTED_ROOT_ENV
from nlpdojo_autograder.grading.grade import (
    INPUT_SEED_ENV,
    PARTIAL,
    check_expected,
    error_result,
    exercise_names,
    get_exercise,
    grade,
    has_reference,
    select_checks,
    store_expected,
)
from nlpdojo_autograder.grading.gradecache import GradeCache
from nlpdojo_autograder.grading.progress import (
    EVENTS_ENV,
    CohortProgress,
    EventLog,
    Fanout,
    LiveProgress,
    submission_line,
)
from nlpdojo_autograder.grading.results import GradingResult
from nlpdojo_autograder.grading.resume import (
    GradingKey,
    resumed,
    write_mark,
)
from nlpdojo_autograder.grading.snapshot import SubmissionError, cohort_output, unwrapped
from nlpdojo_autograder.release.notebook_feedback import locate
from nlpdojo_autograder.release.notebook_submission import notebook_submission
from nlpdojo_autograder.release.notebooks import NotebookError, notebook_layout
from nlpdojo_autograder.runtime.loader import LIBRARY, REFERENCE_PACKAGE, reference_available
from nlpdojo_reports.cohort import cohort_renderable, summarize
from nlpdojo_reports.dashboard import (
    DASHBOARD_NAME,
    render_dashboard,
    report_folder_names,
    similarity_beside,
)
from nlpdojo_reports.gradebook import GRADEBOOK_NAME, render_gradebook
from nlpdojo_reports.leaderboard import LEADERBOARD_ENV, write_cohort_leaderboard
from nlpdojo_reports.sanitize import visible_name
from nlpdojo_reports.table import TableReporter
from nlpdojo_reports.writer import (
    atomic_write_text,
    check_writable,
    get_reporter,
    report_path,
    write_report,
)

if TYPE_CHECKING:
    from nlpdojo_autograder.course.recording import CourseRecording

app = typer.Typer(rich_markup_mode=None, name="grade", pretty_exceptions_enable=False,
                  help=__doc__.split("\n\n")[0] if __doc__ else None)

DEFAULT_SUBMISSION = Path("exercises")
SUMMARY_NAME = "summary.json"
#: the summary's key naming the course assignment a cohort graded with ``--course`` was of
ASSIGNMENT_KEY = "assignment"
#: threads that collect a cluster's results and write the reports
COHORT_WRITERS = 8


@app.command()
@report_errors
def grade_command(
    topics: Annotated[list[str] | None, typer.Argument(
        help="Topics or question ids to grade (`dojo plugins` lists the installed topics, one "
             "course.<topic> plugin each); default: every topic.")] = None,
    submission: Annotated[Path | None, typer.Option(
        "--submission", "-s", help="A folder laid out like exercises/, or a notebook (.ipynb). "
        "Default: ./exercises")] = None,
    submissions: Annotated[Path | None, typer.Option(
        "--submissions", help="A folder of submission folders: grade each (see --jobs).")] = None,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, help="Submissions graded in parallel (--submissions; default 1; "
        "with --cluster local, its worker processes)."
    )] = None,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", metavar="ADDRESS", help="Grade --submissions on a Dask cluster, one task "
        "per submission: a scheduler address (tcp://host:8786), or 'local' for a LocalCluster "
        "of --jobs worker processes (pip install 'nlpdojo[cluster]').")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="With --submissions: keep the results an earlier run of this cohort "
        "wrote to the same --output for submissions, options and grader unchanged since, on "
        "its input seed; grade the rest.")] = False,
    solutions: Annotated[bool, typer.Option(
        "--solutions", help="Grade the reference solutions themselves.",
        hidden=not reference_available(REFERENCE_PACKAGE))] = False,
    backend: Annotated[str | None, typer.Option(
        "--backend", help="numpy | torch | strict (NumPy under array_api_strict arrays: "
        "finds code that leaves the array namespace; `dojo backends` lists them) (default: "
        "NLPDOJO_BACKEND, the course configuration, "
        "numpy; never a dojo.toml or pyproject.toml: a grading reads no setting from the "
        "files it grades or the folder it runs in).")] = None,
    device: Annotated[str | None, typer.Option(
        "--device", help="cpu | cuda | cuda:N (default: NLPDOJO_DEVICE, the course "
        "configuration, the backend's first).")] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", metavar="FILE", help="The instructor's course configuration (TOML: "
        "backend, device, timeout_scale, memory_mb, time_limit, output); default: the file "
        "NLPDOJO_CONFIG names, else config.toml in the user's nlpdojo configuration folder. "
        "Options and the environment win over it.")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="table | json | junit | gradescope; with --submissions also "
        "html (the cohort dashboard, dashboard.html)")] = "table",
    output: Annotated[str | None, typer.Option(
        "--output", "-o", metavar="PATH", help="Write the report to this file (to a folder: an "
        "existing one, or a path ending in /); with --submissions, the folder for all reports.")]
        = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="The table: the total line alone (and any warning); a "
        "cohort's: its tables left out (its files hold them).")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="The table: every check with its message (default: a row per "
        "question whose checks all passed, every check of the others).")] = False,
    fail_under: Annotated[float | None, typer.Option(
        "--fail-under", help="Exit 0 only at or above this score (default: full marks).")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Base seed of every check (default 0; with the reference present, "
        "value and gradient checks draw fresh inputs unless --seed is given).")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Metric checks train with their full budget (slow).")] = False,
    as_student: Annotated[bool, typer.Option(
        "--as-student", help="Grade as a student release would: fixtures, no hidden checks.")]
        = False,
    timeout_scale: Annotated[float | None, typer.Option(
        "--timeout-scale", min=0.01, help="Multiply every check's time limit (default: "
        "NLPDOJO_TIMEOUT_SCALE, the course configuration, 1).")]
        = None,
    memory_mb: Annotated[int | None, typer.Option(
        "--memory-mb", min=0, help="Memory a check may allocate (MB; 0: no limit; default: "
        f"NLPDOJO_MEMORY_MB, the course configuration, {DEFAULT_MEMORY_MB}).")] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=1, help="Seconds for the grading of one submission (each of a "
        "cohort's): the check running when they are spent is stopped, the later ones are not "
        "run (0 points each), and the report is written; set it below a CI job's own limit "
        "(default: NLPDOJO_TIME_LIMIT, the course configuration, none).")] = None,
    replay: Annotated[Path | None, typer.Option(
        "--replay", help="Rerun the grading recorded in a JSON result exactly.")] = None,
    require_sandbox: Annotated[bool, typer.Option(
        "--require-sandbox", help="Refuse to grade without the OS sandbox (bubblewrap; for CI "
        "grading untrusted code). See docs/security.md in the nlpdojo source.")] = False,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Run every check, reusing no verdict from earlier runs (the cache "
        "is never used with --submissions, --replay or --require-sandbox).")] = False,
    course: Annotated[Path | None, typer.Option(
        "--course", metavar="PATH", rich_help_panel="Course record",
        help="Record the grading in this course file (docs/course.md; default with "
        "--submissions or --student: NLPDOJO_COURSE): a student's attempt each.")] = None,
    student: Annotated[str | None, typer.Option(
        "--student", rich_help_panel="Course record",
        help="With --submission and --course: whose attempt this is (id, login or email).")]
        = None,
    assignment: Annotated[str | None, typer.Option(
        "--assignment", rich_help_panel="Course record",
        help="With --course: the assignment graded (default: the one whose topics are named, "
        "or the only one); its topics are graded where no TOPIC is named.")] = None,
    manifest: Annotated[Path | None, typer.Option(
        "--manifest", metavar="CSV", rich_help_panel="Course record",
        help="With --submissions and --course: when each was submitted (folder,submitted_at; "
        "default: the files' modification time, with a warning).")] = None,
    submitted_at: Annotated[str | None, typer.Option(
        "--submitted-at", rich_help_panel="Course record",
        help="With --student: when it was submitted (ISO 8601 with its offset).")] = None,
    leaderboard: Annotated[bool | None, typer.Option(
        "--leaderboard/--no-leaderboard", help="With --submissions: rank the cohort on each "
        "training question's held-out metric under anonymous aliases (summary.json and the "
        "dashboard; each student's own rank in a leaderboard.json beside their result); "
        "default: NLPDOJO_LEADERBOARD, else the course configuration's leaderboard, else "
        "off.")] = None,
    version: VersionOption = None,
) -> None:
    """Grade exercises and print per-check points, verdicts and feedback."""
    recording = _course_recording(course, student=student, assignment=assignment,
                                  manifest=manifest, submitted_at=submitted_at,
                                  submission=submission, submissions=submissions, topics=topics)
    if recording is not None and not topics:
        topics = recording.targets  # the assignment's
    if fail_under is not None and math.isnan(fail_under):
        raise UsageError("--fail-under takes a number of points (nan is below and above "
                         "every score: the job would always fail)")
    if fail_under is not None and fail_under < 0:
        raise UsageError(f"--fail-under takes the points a grading needs, 0 or more "
                         f"({fail_under:g} is below every score: the job could never fail)")
    if time_limit is not None and not math.isfinite(time_limit):
        raise UsageError(f"--time-limit takes a number of seconds, at least 1 ({time_limit} is "
                         "none: leave the option out for no such limit)")
    request = GradeRequest(
        topics=topics or [], submission=submission, submissions=submissions, jobs=jobs,
        cluster=cluster, resume=resume, solutions=solutions, backend=backend, device=device,
        fmt=fmt, output=output, fail_under=fail_under, seed=seed, full=full, as_student=as_student,
        timeout_scale=timeout_scale, memory_mb=memory_mb, time_limit=time_limit, replay=replay,
        require_sandbox=require_sandbox, no_cache=no_cache, config=config).reconciled()
    resolved_backend, resolved_device, chosen = resolve_selection(
        request.backend, request.device, request.course_config())
    if request.submissions is None and request.replay is None:
        _note_ignored_project_file(chosen)
    topic_names, question_filter = _resolve_topics(request.topics, request.questions)
    options = request.grade_options(resolved_backend, resolved_device, question_filter,
                                    request.settings(chosen))
    output = request.output  # a cohort's: the course configuration's folder where it has one
    replay_options = request.replay_options(topic_names, question_filter, options)
    if recording is not None and options.inputs == 0 and options.use_reference:
        raise UsageError("--course records gradings that count, and input seed 0 is the "
                         "student release's, whose fixtures answer the checks: leave out "
                         "--seed (each grading draws a fresh one)")
    if (options.inputs == 0 and options.use_reference and not request.solutions
            and reference_present(topic_names)):
        # the student release's fixtures answer the checks at input seed 0: an answer looked
        # up in them passes only here
        print_warning("input seed 0 is the student release's: its fixtures hold the answers "
                      "of these checks, so a grading for credit draws a fresh one (leave out "
                      "--seed)")

    if leaderboard and request.submissions is None:
        raise UsageError("--leaderboard ranks a cohort: give --submissions DIR")
    if request.submissions is not None:
        leaderboard = pick("leaderboard", leaderboard, LEADERBOARD_ENV, False,
                           request.course_config()).value
    if request.submissions is not None:
        raise typer.Exit(_grade_cohort(request.submissions, topic_names, options,
                                       replay_options, fmt, output, fail_under,
                                       request.jobs or 1, request.cluster, request.jobs,
                                       resume=request.resume,
                                       seed_given=seed is not None, recording=recording,
                                       leaderboard=leaderboard,
                                       quiet=_detail(quiet, verbose) == "quiet"))

    detail = _detail(quiet, verbose)  # before grading: asking for both is a usage error
    path = None
    if output is not None:
        path = report_path(output, fmt)
        check_writable(path)  # before grading: a bad --output must not cost the grading
        if recording is not None:  # nor replace the course it records the grading in
            recording.course.refuse_as_output(path)
    # a grading recorded as an attempt counts: nothing of it comes from the cache
    result = _grade_single(topic_names, request.submission, request.solutions, options,
                           replay_options, fmt, path,
                           use_cache=request.use_cache and recording is None,
                           prepared=request.drawn and not request.solutions)
    _emit(result, fmt, path, detail)
    if recording is not None:
        recording.record_single(request.submission or _default_submission(), result)
    _warn_unreachable(fail_under, result.max_score)
    raise typer.Exit(_exit_code(result.score, result.max_score, fail_under))


def _course_recording(course: Path | None, *, student: str | None, assignment: str | None,
                      manifest: Path | None, submitted_at: str | None,
                      submission: Path | None, submissions: Path | None,
                      topics: list[str] | None) -> CourseRecording | None:
    """:func:`~nlpdojo_autograder.course.recording.course_recording`, whose modules (the course
    record's, ~20 ms of imports) load only where a course option or ``$NLPDOJO_COURSE`` is
    given: without any, nothing is recorded and nothing refused, and a grading does not pay
    for them."""
    if course is None and not os.environ.get(COURSE_ENV) and not any(
            (student, assignment, manifest, submitted_at)):
        return None
    from nlpdojo_autograder.course.recording import course_recording

    return course_recording(course, student=student, assignment=assignment, manifest=manifest,
                            submitted_at=submitted_at, submission=submission,
                            submissions=submissions, topics=topics)


def _grade_single(topic_names: list[str], submission: Path | None, solutions: bool,
                  options: Any, replay_options: dict[str, Any], fmt: str,
                  path: Path | None, *, use_cache: bool = False, prepared: bool = False) -> Any:
    """Grade one submission (or the reference). With ``--format gradescope --output F``, a
    submission that cannot be graded still gets ``F``: score 0 and the reason, for the student
    to read (Gradescope shows a missing results.json as a failure of its harness).
    ``use_cache``: reuse the verdicts of checks whose inputs did not change (gradecache.py);
    ``prepared``: the input seed was drawn afresh, and a prepared draw may take its place
    (:func:`_take_prepared_draw`)."""
    given = None if solutions else (submission or _default_submission())
    replay_options["submission"] = str(given.resolve()) if given else None
    if use_cache and given is not None:
        options.cache = GradeCache(given)
    names = topic_names
    with tempfile.TemporaryDirectory(prefix="nlpdojo-notebook-") as tmp:
        try:
            folder, notebook = (None, None) if solutions else _submission_folder(
                submission, Path(tmp), options, expect=functools.partial(
                    _require_notebooks_topic, path=given, names=topic_names))
            names = topic_names or _default_topics(folder, solutions)
            replay_options["topics"] = names
            check_expected(names, options)
            if prepared:
                _take_prepared_draw(names, options, replay_options)
            result = _grade_one(folder, names, options, replay_options, progress=True)
            if notebook is not None:
                result.submission_sha256 = notebook.sha256  # what the student submitted
                result.warnings = [*notebook.skipped, *result.warnings]
                locate(result, notebook_layout(notebook.notebook),  # cells, not the modules
                       notebook.notebook.name)
            if notebook is None and folder is not None:
                result.warnings.extend(_notebooks_worked_in(folder, result))
            if replay_options.get(REPLAYED_FROM):
                result.warnings.append(replayed_warning(replay_options[REPLAYED_FROM]))
            if _warnings_unseen(fmt, path):
                _warn_skipped(result.warnings)  # (a table they go to shows them)
            return result
        except (KeyboardInterrupt, SystemExit) as stop:
            partial = getattr(stop, PARTIAL, None)
            if path is not None and partial is not None:  # what was graded before the stop
                _write_partial_report(partial, fmt, path)
            raise
        except Exception as exc:
            if path is not None and (fmt == "gradescope" or _refused(exc)):
                _write_failure_report(exc, names, options, replay_options, fmt, path)
            raise


def _take_prepared_draw(names: list[str], options: Any, replay_options: dict[str, Any]
                        ) -> None:
    """Grade on a prepared draw (``dojo draws prepare``) instead of the fresh seed drawn,
    where one serves these topics: its seed in the options, the replay record and the result's
    ``settings`` (``input_seed``, source ``prepared ID``, the draw's name, not the grader's
    folder); else say why none did, where draws were prepared (the reference then runs at the
    fresh draw, as without any). A grading of some questions only takes none."""
    if options.questions is not None:
        return  # a few questions' checks: the reference's run for them is cheap, a draw is not
    topics = [name for name in names if has_reference(get_exercise(name), options)]
    draw, why = take_draw(topics, options.full)
    if draw is None:
        if why:
            print_warning(why)
        return
    options.input_seed = replay_options["input_seed"] = draw.input_seed
    options.settings["input_seed"] = Choice(draw.input_seed, f"prepared {draw.id}").record()


def _write_partial_report(result: Any, fmt: str, path: Path) -> None:
    """The report of a grading stopped before its end (Ctrl-C, SIGTERM: a CI job's time limit),
    quickly, before the process exits as the stop asks: a job's SIGKILL follows its SIGTERM
    within seconds."""
    try:
        write_report(result, fmt, path)
        err_console.print(f"stopped: the {fmt} report of the checks graded so far written to "
                          f"{path}")
    except Exception as exc:  # noqa: BLE001 - the stop is what this process reports
        print_warning(f"could not write the {fmt} report to {path}: {describe_error(exc)[0]}")


#: how a cohort's summary and its error lines begin for a submission it refused (the grading
#: did not fail: the student's folder was not one to grade; course/regrade.py reads it too)
REFUSED_PROBLEM = "refused"


def _refused(exc: Exception) -> bool:
    """Whether the submission itself was refused (a link out of it, a pipe, a malformed
    notebook): then every format's ``--output`` gets a report with score 0 and the reason, as
    Gradescope's always does, for the student to read."""
    return isinstance(exc, SubmissionError | NotebookError)


def _warn_skipped(warnings: list[str]) -> None:
    """The result's warnings (what the snapshot left out, questions waiting for another, data
    missing...) on stderr as well as in every report, for a person to see where the report
    goes elsewhere (a file, a pipe, another format)."""
    for warning in warnings:
        print_warning(warning)


def _write_failure_report(exc: Exception, topics: list[str], options: Any,
                          replay_options: dict[str, Any], fmt: str, path: Path) -> None:
    message, code = describe_error(exc)
    if code == EXIT_ERROR and _refused(exc):
        text = f"could not grade this submission: {message}"
    elif code == EXIT_ERROR:  # the grader's set-up (a data set not fetched): not the student's
        # (on Gradescope a missing data set read as the student's zero; a CI integrator's trial)
        text = (f"could not grade this submission: {message}; this is not your fault, please "
                "tell your instructor")
    else:
        text = (f"the autograder failed ({type(exc).__name__}: {exc}); this is not your fault, "
                "please tell your instructor")
    try:
        result = error_result(topics, text, options=options, replay_options=replay_options,
                              submission=str(replay_options.get("submission") or ""),
                              refused=code == EXIT_ERROR and _refused(exc))
        write_report(result, fmt, path)
        err_console.print(f"{fmt} report with score 0 and the error written to {path}")
    except Exception as write_exc:  # noqa: BLE001 - the original error is the one to report
        print_warning(f"could not write the {fmt} report to {path}: "
                      f"{describe_error(write_exc)[0]}")


def _grade_one(folder: Path | None, topics: list[str], options: Any,
               replay_options: dict[str, Any], *, progress: bool = False) -> Any:
    """Grade; with ``progress``, a line per check as it finishes and a spinner for the
    running one on stderr, only where stderr is a terminal (see progress.py)."""
    if not progress:
        return grade(topics, submission=folder, options=options, replay_options=replay_options)

    with LiveProgress(err_console) as live:
        events = os.environ.get(EVENTS_ENV)
        listener = Fanout(live, EventLog(events)) if events else live
        return grade(topics, submission=folder, options=options,
                     replay_options=replay_options, listener=listener)


def resolve_backend(backend: str | None, device: str | None) -> tuple[str, str | None]:
    """Validate the backend choice here, so a bad one is one clear error before any work
    (``None``, ``None``: ``NLPDOJO_BACKEND``, the course configuration, numpy, as ``pytest
    exercises`` too)."""
    return resolve_selection(backend, device)[:2]


def resolve_selection(backend: str | None, device: str | None,
                      config: CourseConfig | None = None
                      ) -> tuple[str, str, dict[str, Choice]]:
    """The backend and device a grading runs on, and where each came from: option,
    environment, the instructor's course configuration ``config``, default; never a project
    file (``dojo.toml``, ``pyproject.toml``) of the submission or the working folder, which a
    student controls (docs/security.md). The backend is made once here, so that an
    unavailable one is one clear error before any work."""
    course = config if config is not None else CourseConfig()
    # no dtype: a grading has none (its checks ask for float64 or the backend's default)
    chose = pick("backend", backend or None, selection.BACKEND_ENV, selection.DEFAULT_BACKEND,
                 course)
    dev = pick("device", device or None, selection.DEVICE_ENV, None, course)
    # raises with the fix when unavailable
    made = selection.make_backend(str(chose.value), dev.value, None, device_source=dev.source)
    # the device's name, as --device takes it: the strict backend's own device is an object
    # of array_api_strict's (a layer's `device=backend.device` must work there), run on "cpu"
    name = made.device if isinstance(made.device, str) else dev.value or "cpu"
    return str(chose.value), name, {"backend": chose, "device": Choice(name, dev.source)}


def _note_ignored_project_file(chosen: dict[str, Choice]) -> None:
    """Where the working folder's project file (``dojo.toml``, ``pyproject.toml
    [tool.nlpdojo]``) names a backend or device that this grading does not use, say so once:
    ``dojo train`` follows it, ``grade`` never does."""
    try:
        found = selection.find_config(max_bytes=2**16)
    except (NlpdojoError, OSError):
        return  # it is not read: a broken one is not the grading's problem
    if found is None:
        return
    table, path = found
    ignored = [f"{key} = {table[key]!r}" for key in ("backend", "device")
               if isinstance(table.get(key), str) and table[key] != chosen[key].value]
    if ignored:
        err_console.print(f"note: {path} sets {', '.join(ignored)}; grade reads no setting "
                          "from the files it grades or the folder it runs in (a student "
                          f"controls them): this grading runs on {chosen['backend'].value} "
                          f"({chosen['backend'].source}). Choose with --backend/--device, "
                          "NLPDOJO_BACKEND/NLPDOJO_DEVICE or the course configuration "
                          "(docs/backends.md)", markup=False, highlight=False)


def _resolve_topics(args: list[str], recorded_questions: list[str] | None
                    ) -> tuple[list[str], frozenset[str] | None]:
    """Split arguments into topics and question ids (a question selects its topic). Question
    ids come back in full (``topic.question``); a bare id two topics share is an error."""
    names = exercise_names()
    exercises = [get_exercise(n) for n in names]
    topics: list[str] = []
    questions: set[str] = set()
    for arg in [*(recorded_questions or []), *args]:
        if arg in names and arg not in (recorded_questions or []):
            topics.append(arg)
            continue
        try:
            full = resolve(arg, exercises)
        except QuestionError as exc:
            if "ambiguous" in str(exc):
                raise UsageError(str(exc)) from None
            left_out = get_registry().broken_for(arg.partition(".")[0])
            if left_out:
                raise UsageError(f"topic {arg.partition('.')[0]!r} is not graded: plugin "
                                 f"{left_out[0]!r} failed to load: {left_out[1]}") from None
            topic, dot, question = arg.partition(".")
            if dot and topic in names:  # a known topic's unknown question: list that topic's
                own = sorted({c.question for c in get_exercise(topic).checks})
                near = difflib.get_close_matches(question, own, n=1)
                hint = f"did you mean {topic}.{near[0]}? " if near else ""
                raise UsageError(f"{topic} has no question {question!r}; {hint}its questions: "
                                 f"{', '.join(own)}") from None
            known = ", ".join(names) or "none registered"
            every = sorted(f"{e.name}.{q}" for e in exercises for q in {c.question
                                                                        for c in e.checks})
            bare = {q.split(".", 1)[1]: q for q in every}
            close = difflib.get_close_matches(arg, [*names, *every, *bare], n=3, cutoff=0.75)
            guess = list(dict.fromkeys(bare.get(c, c) for c in close))
            hint = f"; did you mean {' or '.join(guess)}?" if guess else ""
            if guess:  # the list of every question only where there is no near one
                raise UsageError(f"{arg!r} is neither a topic nor a question id{hint}") from None
            raise UsageError(f"{arg!r} is neither a topic nor a question id. Topics: "
                             f"{known}; questions: {', '.join(every) or 'none'}") from None
        questions.add(full)
        if arg not in (recorded_questions or []):
            topics.append(split(full)[0])
    return list(dict.fromkeys(topics)), frozenset(questions) if questions else None


def _default_topics(folder: Path | None, solutions: bool) -> list[str]:
    """The topics to grade when none is named: those whose folder the submission holds; a
    submission that *is* one topic's folder (``subs/alice/activations``) grades that topic."""
    names = exercise_names()
    if folder is None:
        found = [n for n in names
                 if reference_available(get_exercise(n).reference_package)] if solutions else []
    else:
        found = [n for n in names if (folder / n).is_dir()]
        if not found and folder.resolve().name in names and any(folder.glob("*.py")):
            found = [folder.resolve().name]
    if not found:
        where = "installed solutions" if folder is None else str(folder)
        hint = ""
        if folder is not None and folder.resolve().name == LIBRARY and any(folder.glob("*.py")):
            hint = (f"; {folder} is the course library's folder, which every topic builds on: "
                    "give the folder that holds both library/ and the topics' folders, "
                    f"grade --submission {folder.resolve().parent}")
        elif folder is not None and any(folder.glob("*.py")):
            hint = (f"; {folder} holds Python files but no topic folder: name the topic, "
                    f"grade TOPIC --submission {folder}")
        raise UsageError(f"no exercise to grade in {where}; registered exercises: "
                         f"{', '.join(names) or 'none'}{hint}")
    return found


def _submission_folder(submission: Path | None, tmp: Path, options: Any,
                       within: Path | None = None,
                       expect: Callable[[str], None] | None = None) -> tuple[Path, Any]:
    """``(folder, notebook)``: the folder to grade (``grade()`` snapshots it) and ``None``; or
    for a notebook, the package rebuilt from it and its
    :class:`~nlpdojo_autograder.release.notebook_submission.NotebookSubmission`: snapshotted
    first, its cells written over the released template (the reference's release where the
    reference is used), never over the files that lie next to the notebook."""
    path = submission or _default_submission()
    if path.suffix == ".ipynb":
        if not os.path.lexists(path):  # a usage error, as a missing folder is
            raise UsageError(f"notebook {path} does not exist")
        notebook = notebook_submission(path, tmp / "notebook-submission",
                                       use_reference=options.use_reference, within=within,
                                       expect=expect)
        return notebook.folder, notebook
    if path.is_file():
        raise UsageError(f"{path} is a file: pass a folder laid out like exercises/ (or a "
                         "topic's folder), or a .ipynb notebook")
    if not path.is_dir():
        if submission is None:
            raise UsageError("no ./exercises here: run grade from the folder that contains "
                             "exercises/ (or from inside exercises/ or a topic folder such as "
                             "exercises/<topic>), or pass --submission FOLDER")
        raise UsageError(f"submission folder {path} does not exist")
    notebook = _only_a_notebook(path)
    if notebook is not None:
        err_console.print(f"{path} holds no module of a topic, only the notebook "
                          f"{notebook.name}: grading the notebook")
        return _submission_folder(notebook, tmp, options, within=path, expect=expect)
    return path, None


def _require_notebooks_topic(topic: str, *, path: Path, names: list[str]) -> None:
    """Refuse a notebook of ``topic`` graded as another topic (``grade word_vectors
    --submission neural_networks.ipynb``), as soon as its topic is read: its package holds only
    its own topic, so each check would say a module is missing, not that the notebook is the
    wrong one. ``names``: the topics asked for (none: the notebook's own)."""
    others = [n for n in names if n != topic]
    if others:
        asked = ", ".join(others)
        raise UsageError(f"{path} is the notebook of {topic}, not of {asked}: grade "
                         f"{topic} --submission {path}, or give {asked}'s notebook "
                         f"({others[0]}.ipynb)")


def _notebooks_worked_in(folder: Path, result: GradingResult) -> list[str]:
    """A hint for each topic graded from its modules where some checks say "not implemented"
    and its notebook (``<topic>/<topic>.ipynb``) was saved after every module of it: a
    student who works in the notebook and runs ``grade`` grades the untouched modules (a
    newcomer's finding: 0 points and no word of the notebook)."""
    said = []
    for exercise in result.exercises:
        if not any(c.status == "not_implemented" for c in exercise.checks):
            continue
        topic = folder / exercise.name
        notebook = topic / f"{exercise.name}.ipynb"
        modules = list(topic.glob("*.py"))
        try:
            newer = notebook.is_file() and all(
                notebook.stat().st_mtime > m.stat().st_mtime for m in modules)
        except OSError:
            continue
        if newer:
            said.append(f"{notebook} was saved after {exercise.name}'s modules, which are what "
                        "was graded here (some say \"not implemented\"): if you work in the "
                        f"notebook, grade it with `grade --submission {notebook}`")
    return said


def _only_a_notebook(folder: Path) -> Path | None:
    """The topic notebook (``<topic>.ipynb``, the one there) of a folder that holds no topic
    folder and no Python file: what a student who worked in the notebook uploads (Gradescope's
    ``run_autograder`` grades the submission folder), with or without their ``library/``.
    Without this the folder graded as empty, every check "not implemented"."""
    names = exercise_names()
    if any((folder / name).is_dir() for name in names) or any(folder.glob("*.py")):
        return None
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.stem in names)
    if len(notebooks) > 1:
        raise UsageError(f"{folder} holds the notebooks {', '.join(p.name for p in notebooks)} "
                         "and no modules: grade one with --submission NOTEBOOK")
    return notebooks[0] if notebooks else None


def _default_submission() -> Path:
    """``./exercises``, or the working folder itself when it holds topic folders (a student
    who ran ``cd exercises``) or is one (``cd exercises/<topic>``: that topic is graded), or
    the folder above the course library (``cd exercises/library``: the library's code is
    graded with the topics beside it)."""
    if DEFAULT_SUBMISSION.is_dir():
        return DEFAULT_SUBMISSION
    here = Path(".")
    names = exercise_names()
    if any((here / name).is_dir() for name in names):
        return here
    if here.resolve().name in names and any(here.glob("*.py")):
        return here
    parent = here.resolve().parent  # `cd exercises/library`: the course it belongs to
    if here.resolve().name == LIBRARY and any((parent / name).is_dir() for name in names):
        return parent
    return DEFAULT_SUBMISSION


def _table_on_stdout(fmt: str, path: Path | None) -> bool:
    """Whether the report is the table, printed on stdout."""
    return fmt == "table" and path is None


def _warnings_unseen(fmt: str, path: Path | None) -> bool:
    """Whether the result's warnings must go to stderr too: not where stderr shows the table
    (a report written to a file: :func:`_emit` prints the table there), nor where the table
    on stdout reaches the same place as stderr (a terminal, ``2>&1``, one log file): said
    once, not twice."""
    if path is not None:
        return False
    return not (fmt == "table" and (console.is_terminal or _same_destination()))


def _same_destination() -> bool:
    """Whether stdout and stderr are the same file, pipe or terminal."""
    try:
        out, err = os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    return (out.st_dev, out.st_ino) == (err.st_dev, err.st_ino)


def _detail(quiet: bool, verbose: bool) -> str:
    """The table's detail (:data:`nlpdojo_reports.table.DETAILS`) ``--quiet``/``--verbose``
    ask for: the summary where neither does."""
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose ask for opposite tables: give one")
    return "quiet" if quiet else "verbose" if verbose else "summary"


def _emit(result: Any, fmt: str, path: Path | None, detail: str = "summary") -> None:
    table = TableReporter(detail)
    if _table_on_stdout(fmt, path):
        table.print_to(console, result)
        return
    if path is None:
        try:
            write_report(result, fmt, None)
        except Exception:
            table.print_to(err_console, result)  # the grading is not lost
            raise
        return
    table.print_to(err_console, result)  # shown even if writing the report fails
    written = write_report(result, fmt, path)
    err_console.print(f"{fmt} report written to {written}")


def _exit_code(score: float, max_score: float, fail_under: float | None) -> int:
    threshold = max_score if fail_under is None else fail_under
    return 0 if score + 1e-9 >= threshold else 1


def _warn_unreachable(fail_under: float | None, max_score: float) -> None:
    if fail_under is not None and fail_under > max_score + 1e-9:
        print_warning(f"--fail-under {fail_under:g} is above the maximum score {max_score:g}: "
                      "this grading can never pass")


def _grade_cohort(root: Path, topics: list[str], options: Any, replay_options: dict[str, Any],
                  fmt: str, output: str | None, fail_under: float | None, jobs: int,
                  cluster: str | None = None, jobs_given: int | None = None, *,
                  resume: bool = False, seed_given: bool = False,
                  recording: CourseRecording | None = None, leaderboard: bool = False,
                  quiet: bool = False) -> int:
    """Grade every sub-folder of ``root`` against the same topics; write
    ``<out>/<submission>/result.json`` (plus the ``--format`` report beside it) and
    ``<out>/summary.json``. A submission whose grading fails becomes an ``error`` result and
    the others go on; the summary is always written. ``cluster``: grade each submission as
    a task on that Dask cluster (``local``: a LocalCluster of ``jobs_given`` processes).
    ``resume``: keep what an earlier run graded the same way (:mod:`.grading.resume`), each
    on the input seed it was graded on (on ``options.inputs`` only where ``seed_given``)."""
    if root.is_file():
        raise UsageError(f"--submissions {root} is a file: give a folder that holds one folder "
                         "per submission (grade a single submission with --submission)")
    if not root.is_dir():
        raise UsageError(f"submissions folder {root} does not exist")
    out_dir = Path(output) if output is not None else cohort_output(root)
    if out_dir.resolve() == root.resolve():
        raise UsageError(f"--output {output} is the submissions folder itself: give another "
                         f"folder (default: {cohort_output(root)})")
    if out_dir.resolve().is_relative_to(root.resolve()):  # the next grading's submission
        raise UsageError(f"--output {output} is inside the submissions folder {root}: its "
                         "reports would be graded as a submission next time; give a folder "
                         f"outside it (default: {cohort_output(root)})")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                     and p.resolve() != out_dir.resolve())  # an earlier run's reports
    if not folders:
        raise UsageError(f"{root} holds no submission folders: put one folder per submission "
                         "in it (each laid out like exercises/), or grade one submission with "
                         "--submission")
    names = topics or _cohort_topics(root, folders)
    check_expected(names, options)
    check_writable(out_dir, folder=True)
    _refuse_other_gradings_reports(out_dir, sorted(options.questions or names),
                                   recording.assignment.id if recording is not None else None)
    if recording is not None:  # a report folder inside the course's sources replaces them
        recording.course.refuse_as_output(out_dir)
    _check_case_collisions(folders, out_dir)
    report_dirs = _report_folders(folders, out_dir)
    for line in recording.prepare(folders) if recording is not None else []:
        print_warning(line)  # folders matching no student, students with none
    if not topics:
        _warn_lacking(folders, names)
    notebooks = sorted(p.name for p in root.glob("*.ipynb"))
    if notebooks:
        print_warning(f"{len(notebooks)} notebook(s) in {root} not graded ({notebooks[0]}...): "
                      "--submissions grades sub-folders; grade a notebook with --submission")
    report_name = (RESULT_NAME if fmt == HTML_FORMAT
                   else _cohort_report_name(get_reporter(fmt).default_filename, fmt))

    deadline_s = _cohort_deadline(names, options)
    key = GradingKey.of(grade_child_argv(names, options, replay_options), options.backend)
    kept = {}
    if resume:  # each kept on the seed it was graded on; the rest never on one of those
        why: dict[str, int] = {}
        for f in folders:
            earlier, reason = resumed(report_dirs[f.name], f, key,
                                      options.inputs if seed_given else None, RESULT_NAME)
            if earlier is not None:
                kept[f.name] = earlier
            else:
                why[reason] = why.get(reason, 0) + 1
        fresh = "" if seed_given or len(kept) == len(folders) else (
            f" on input seed {options.inputs} (an earlier run's seed is in its students' "
            "results: new or changed work is never graded on it)")
        reasons = "" if not why else " (" + ", ".join(
            f"{n} {reason}" for reason, n in sorted(why.items(), key=lambda kv: -kv[1])) + ")"
        err_console.print(f"resuming: {len(kept)} of {len(folders)} submissions were graded "
                          "earlier with these options, grader and files, kept; grading "
                          f"{len(folders) - len(kept)}{reasons}{fresh}")

    def one(folder: Path) -> tuple[str, Any, int, list[str]]:
        opts = {**replay_options, "topics": names, "submission": str(folder.resolve())}
        code, problems = 0, []
        try:
            if folder.name in kept:
                result = kept[folder.name]
            else:
                result = (result_of(futures[folder.name], folder) if futures is not None else
                          _grade_in_child(folder, names, options, replay_options, deadline_s,
                                          env))
                # the child was given every setting as an option: where each came from is
                # the cohort's to say
                result.settings = dict(options.settings)
        except Interrupted:
            raise  # the cohort is stopping: nothing of this one is written or recorded
        except Exception as exc:  # noqa: BLE001 - one broken submission must not stop the rest
            message, code = describe_error(exc)
            code = max(code, getattr(exc, "exit_code", 0))  # a child's internal error: 3
            refused = _refused(exc) or getattr(exc, "refused", False)
            if refused:  # the student's doing: 0 points, and the exit code follows scores
                code = 0
            problems.append(f"{REFUSED_PROBLEM if refused else 'grading failed'}: {message}")
            result = error_result(names, f"could not grade this submission: {message}",
                                  options=options, replay_options=opts,
                                  submission=str(folder.resolve()), refused=refused)
        if recording is not None and not problems:  # before the mark: --resume records it
            try:
                problem = recording.record(folder, result, key.grader)
            except Exception as exc:  # noqa: BLE001 - one submission's record stops no other's
                message, record_code = describe_error(exc)
                code, problem = max(code, record_code), f"not recorded in the course: {message}"
            problems += [problem] if problem else []
        try:
            _write_submission_reports(result, fmt, report_dirs[folder.name], report_name)
            if not problems:  # a grading that failed is graded again by --resume
                write_mark(report_dirs[folder.name], key, result)
        except Exception as exc:  # noqa: BLE001 - its grading is kept in the summary
            message, write_code = describe_error(exc)
            code = max(code, write_code)
            problems.append(f"reports not written: {message}")
        return folder.name, result, code, problems

    futures = None
    with ExitStack() as stack:
        env = child_env(options)
        if len(folders) > len(kept) and (cluster is None or cluster == "local"):
            # the reference's expected values computed once, here, for every child (on this
            # machine: a remote cluster's tasks compute their own)
            shared = Path(tempfile.mkdtemp(prefix="nlpdojo-expected-"))  # 0700
            stack.callback(shutil.rmtree, shared, ignore_errors=True)
            store_expected(names, options, shared, on_topic=lambda topic, n: err_console.print(
                f"{topic}: the reference's expected values of {n} checks, once for the "
                "cohort", highlight=False))
            env[EXPECTED_ROOT_ENV] = str(shared)
            # and the reference's runs at scale, kept by the first child to make each
            env[AT_SCALE_STORE_ENV] = str(shared / "at-scale")
        if cluster is not None:
            client = stack.enter_context(connect(cluster, jobs_given))
            argv = grade_child_argv(names, options, replay_options)
            futures = submit_all(client, [f for f in folders if f.name not in kept],
                                 lambda _: argv, env, deadline_s)
            workers = len(client.scheduler_info().get("workers", {}))
            err_console.print(f"grading {len(folders) - len(kept)} submissions on the Dask "
                              f"cluster {client.scheduler.address} ({workers} workers)")
        # on a cluster the tasks are all submitted: threads only wait and write reports
        threads = min(len(folders), COHORT_WRITERS) if futures is not None else jobs
        with (ThreadPoolExecutor(max_workers=threads) as pool,
              CohortProgress(err_console, len(folders)) as progress):
            graded = _in_order(pool, one, folders, progress, kept)
    results = {name: result for name, result, _, _ in graded}
    summary = summarize(results)
    if recording is not None:  # the course's assignment these reports are of
        summary[ASSIGNMENT_KEY] = recording.assignment.id
    trouble = {name: problems for name, _, _, problems in graded if problems}
    for row in summary["submissions"]:
        # a failed grading's reason is its result's error already ("could not grade this
        # submission: ..."): said once in the summary and grades.csv, not twice
        said = " ".join(row["errors"])
        row["errors"] += [p for p in trouble.get(row["name"], [])
                          if p.partition(": ")[2] not in said]
    if leaderboard:  # a course's: its enrolled students only (not a folder matching none, nor
        # one of a student who withdrew)
        ranked = (results if recording is None or recording.match is None else
                  {n: r for n, r in results.items() if n in recording.match.matched
                   and not recording.match.matched[n].withdrawn})  # (a TA's trial: ranked)
        write_cohort_leaderboard(ranked, summary, report_dirs)
        if not summary["leaderboard"]["metrics"]:
            print_warning("--leaderboard: no check graded here measures a metric (a trained "
                          "model's accuracy or perplexity), so there was nothing to rank; "
                          "grade the questions that train one")
    atomic_write_text(out_dir / SUMMARY_NAME, json.dumps(summary, indent=2) + "\n")
    atomic_write_text(out_dir / GRADEBOOK_NAME, render_gradebook(summary))
    # for people, on stderr: a cohort's reports are its files, as a single grading's are with
    # --output (stdout stays clean for a pipe)
    if not quiet:  # -q: the total lines and the errors alone, as a single grading's
        err_console.print(cohort_renderable(summary))  # a renderable: not markup
    if fmt == HTML_FORMAT:
        similarity, written = similarity_beside(out_dir)
        atomic_write_text(out_dir / DASHBOARD_NAME, render_dashboard(
            summary, similarity=similarity, similarity_written=written))
        if not quiet:
            err_console.print(f"cohort dashboard written to {out_dir / DASHBOARD_NAME}")
        if similarity:  # an earlier run's, perhaps of other files than these
            print_warning(f"the dashboard links {out_dir / similarity}, written by dojo "
                          f"similarity at {written}, before this grading: run `dojo "
                          f"similarity {root}` again if the submissions changed since")
    for name, problems in trouble.items():
        said = print_warning if all(p.startswith(REFUSED_PROBLEM) for p in problems) else \
            print_error
        said(f"submission {visible_name(name)}: {'; '.join(problems)}")
    if not quiet:  # (a regrade's cohort said "written to" a folder it had removed)
        err_console.print(f"results per submission ({RESULT_NAME}"
                          f"{'' if report_name == RESULT_NAME else ', ' + report_name}), "
                          f"{SUMMARY_NAME} and {GRADEBOOK_NAME} written to {out_dir}")
    if recording is not None:
        err_console.print(recording.summary())
    max_score = max((r.max_score for r in results.values()), default=0.0)
    _warn_unreachable(fail_under, max_score)
    codes = [max(code, _exit_code(result.score, result.max_score, fail_under))
             for _, result, code, _ in graded]
    return max(codes)


def _in_order(pool: ThreadPoolExecutor, one: Any, folders: list[Path],
              progress: CohortProgress, kept: dict[str, Any]) -> list[Any]:
    """``one(folder)`` for every folder on ``pool``, told to ``progress`` as each ends (in the
    order they end), returned in the folders' order."""
    def timed(folder: Path) -> tuple[Any, float]:
        began = time.monotonic()
        return one(folder), time.monotonic() - began

    resume_children()  # (an earlier cohort of this process may have been stopped)
    pending = [pool.submit(timed, folder) for folder in folders]
    try:
        for future in as_completed(pending):
            (name, result, _, problems), seconds = future.result()
            progress.graded(submission_line(visible_name(name), result.score,
                                            result.max_score, seconds, kept=name in kept,
                                            failed=bool(problems)))
    except BaseException:  # Ctrl-C, SIGTERM (raised as SystemExit): stop, not finish
        for future in pending:
            future.cancel()  # those not started
        stop_children()  # those running: killed, their submissions neither written nor kept
        wait(pending)
        done = sum(1 for f in pending if not f.cancelled() and f.exception() is None)
        err_console.print(f"interrupted: {done} of {len(folders)} submissions graded, their "
                          "reports written (and recorded, with --course); the others were "
                          "stopped: the same command with --resume grades them")
        raise
    return [future.result()[0] for future in pending]


def _cohort_deadline(topics: list[str], options: Any) -> float:
    """How long one submission's grading may take: every selected check's time limit, plus
    start-up and the reference's expected values."""
    total = sum(c.timeout_s for t in topics for c in select_checks(
        get_exercise(t), options, has_reference(get_exercise(t), options)))
    deadline = total * options.limits.timeout_scale + 300.0
    limit = options.limits.time_limit_s  # (the child stops itself then; this is the backstop)
    return deadline if limit is None else min(deadline, limit + 300.0)


def _grade_in_child(folder: Path, topics: list[str], options: Any,
                    replay_options: dict[str, Any], deadline_s: float,
                    env: dict[str, str] | None = None) -> Any:
    """Grade one submission of a cohort in a process of its own (its own session), so that
    whatever happens to it (killed by the student's code where there is no OS sandbox, a
    crash, a hang) costs that submission only. Its JSON result is read size-capped and
    validated; the cohort's grader writes every report itself."""
    return run_child(folder, grade_child_argv(topics, options, replay_options),
                     env if env is not None else child_env(options), deadline_s)


def grade_child_argv(topics: list[str], options: Any, replay_options: dict[str, Any]
                     ) -> list[str]:
    """The ``grade`` command line (without ``--submission`` and ``--output``) that grades one
    submission of a cohort: the same for the local pool and a cluster's tasks."""
    targets = sorted(options.questions) if options.questions else topics
    argv = [*targets, "--format", "json", "--backend", options.backend,
            "--timeout-scale", str(replay_options["timeout_scale"]),
            "--memory-mb", str(replay_options["memory_mb"])]
    # `--seed S` also sets the input seed to S: given only where the cohort's inputs are the
    # base seed's (a seed asked for, or a student release's fixtures). Otherwise the children
    # draw the cohort's fresh inputs from child_env's variable (with `--seed 0`, every child
    # graded on the inputs whose answers the student release ships)
    argv += ["--seed", str(options.seed)] if options.inputs == options.seed else []
    argv += ["--device", options.device] if options.device else []
    argv += (["--time-limit", str(replay_options["time_limit"])]
             if replay_options.get("time_limit") is not None else [])
    argv += ["--full"] if options.full else []
    argv += ["--as-student"] if not options.use_reference else []
    argv += ["--require-sandbox"] if replay_options.get("require_sandbox") else []
    argv += ["--no-cache"]  # a cohort's grading never reuses what a submission could write
    return argv


def child_env(options: Any) -> dict[str, str]:
    """What a cohort's child ``grade`` gets on top of its environment: the input seed."""
    return {INPUT_SEED_ENV: str(options.inputs)}


def _cohort_topics(root: Path, folders: list[Path]) -> list[str]:
    """Without TOPIC, a cohort is graded on every registered topic that at least one submission
    holds: the same topics, and so the same maximum score, for everyone."""
    registered = _registered()
    found = [t for t in registered if any((unwrapped(f, registered) / t).is_dir()
                                          for f in folders)]
    if not found:
        raise UsageError(f"no submission in {root} holds a topic folder (registered: "
                         f"{', '.join(registered) or 'none'}); name the topics to grade: "
                         f"grade TOPIC --submissions {root}")
    return found


def _warn_lacking(folders: list[Path], found: list[str]) -> None:
    lacking = [f.name for f in folders if not all((unwrapped(f, found) / t).is_dir()
                                                  for t in found)]
    if lacking:
        shown = ", ".join(lacking[:5]) + (f" and {len(lacking) - 5} more" if len(lacking) > 5
                                          else "")
        print_warning(f"grading every submission on {', '.join(found)}, the topics found in the "
                      f"submissions (name TOPICs to choose); submissions without some of these "
                      f"folders score 0 on their checks: {shown}")


def _cohort_report_name(default_filename: str, fmt: str) -> str:
    """The ``--format`` report's name inside a submission's folder, never ``result.json``
    unless it is that result."""
    if fmt == "json":
        return RESULT_NAME
    name = Path(default_filename).name or f"report.{fmt}"
    return f"{fmt}-{name}" if name == RESULT_NAME else name


def _write_submission_reports(result: Any, fmt: str, folder: Path, report_name: str) -> None:
    """``result.json`` and the ``--format`` report into a submission's report folder; the
    report another format wrote there in an earlier run goes (it told of an older grading,
    beside this one's result)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_report(result, "json", folder / RESULT_NAME)
    if report_name != RESULT_NAME:
        write_report(result, fmt, folder / report_name)
    for name in _other_report_names(report_name):
        (folder / name).unlink(missing_ok=True)


def _refuse_other_gradings_reports(out_dir: Path, names: list[str],
                                   assignment: str | None = None) -> None:
    """Refuse an ``out_dir`` that holds a cohort's reports of questions ``names`` does not
    select, or of another course assignment than ``assignment`` (by the summary an earlier
    grading wrote there): this grading would replace them, and leave beside its own the
    reports of submissions it does not grade again (a TA's trials: a2's cohort graded into
    a1's report folder; a3's, whose topic holds a1's question, too). A grading of the same
    questions again replaces its reports, as ever (``--resume`` keeps them)."""
    try:
        earlier = json.loads((out_dir / SUMMARY_NAME).read_text(encoding="utf-8"))
        questions = {f"{q['exercise']}.{q['question']}" for q in earlier["questions"]}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return  # none, or no summary of this grader's: nothing known to be replaced
    before = earlier.get(ASSIGNMENT_KEY) if isinstance(earlier, dict) else None
    if isinstance(before, str) and assignment is not None and before != assignment:
        raise UsageError(f"--output {out_dir} holds the reports of assignment {before}'s "
                         f"grading; grading {assignment} there would replace them: give "
                         f"another --output, or remove {out_dir} first")
    other = sorted(q for q in questions if not selected(q, names))
    if other:
        shown = ", ".join(other[:4]) + (", ..." if len(other) > 4 else "")
        raise UsageError(f"--output {out_dir} holds the reports of a grading of other "
                         f"questions ({shown}); grading {', '.join(names)} there would replace "
                         f"them: give another --output, or remove {out_dir} first")


def _other_report_names(report_name: str) -> set[str]:
    """The names a cohort's other ``--format`` reports take in a submission's folder (a
    registered reporter's, as :func:`_cohort_report_name` makes them), less ``report_name``
    and the result."""
    names = {_cohort_report_name(get_reporter(fmt).default_filename, fmt)
             for fmt in get_registry().names("reporter")}
    return names - {report_name, RESULT_NAME}


def _report_folders(folders: list[Path], out_dir: Path) -> dict[str, Path]:
    """Where each submission's reports go: ``out_dir/<its folder's name>``, except for a
    folder named like a file the cohort writes there (``summary.json``, ``dashboard.html``,
    in any case): a folder of that name would stop the summary or the dashboard from being
    written for everyone (an attacker's submission did). Its reports go to
    ``submission-<name>`` (:func:`~nlpdojo_reports.dashboard.report_folder_names`), and grade
    says so."""
    names = report_folder_names([folder.name for folder in folders])
    for name, folder in names.items():
        if folder != name:
            print_warning(f"submission '{visible_name(name)}' has the name of a file the "
                          f"cohort's grading writes; its reports go to {out_dir / folder}")
    return {name: out_dir / folder for name, folder in names.items()}


def _check_case_collisions(folders: list[Path], out_dir: Path) -> None:
    """Submission folders whose names differ only in case (``Alice``, ``alice``) or in Unicode
    normalisation (``José`` composed and decomposed) would share one report folder where
    ``out_dir`` ignores the difference (case: macOS and Windows; normalisation: macOS's APFS):
    refuse before grading. Whether it does is asked of ``out_dir`` itself, for each pair of
    such names."""
    groups: dict[str, list[str]] = {}
    for folder in folders:
        groups.setdefault(_folded(folder.name), []).append(folder.name)
    clashes = [names for names in groups.values()
               if len(names) > 1 and _one_entry(out_dir, names)]
    if clashes:
        listing = "; ".join(" and ".join(map(ascii, names)) for names in clashes)
        raise UsageError(f"submission folders differ only in case or Unicode normalisation "
                         f"({listing}) and {out_dir} does not tell them apart: their reports "
                         "would overwrite each other; rename them or write the reports to a "
                         "file system that tells them apart")


def _folded(name: str) -> str:
    """``name`` without case or normalisation differences (NFD, casefolded, NFC)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def _one_entry(out_dir: Path, names: list[str]) -> bool:
    """Whether ``out_dir``'s file system takes two of ``names`` for one entry: in a probe
    folder made there, a file is made under the first name and looked for under the others."""
    probe = Path(tempfile.mkdtemp(dir=out_dir, prefix=".nlpdojo-probe-"))
    try:
        (probe / names[0]).touch()
        return any((probe / other).exists() for other in names[1:])
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def _registered() -> list[str]:
    return exercise_names()


def _list_topics_in_help() -> None:
    """``grade --help`` ends with the topics installed, in course order (the registry's: a
    topic added as a folder or by an exercise pack shows up with no edit here)."""
    try:
        names = exercise_names()
    except Exception:  # noqa: BLE001 - a broken plugin is reported by the command itself
        return
    if names and app.registered_commands:
        app.registered_commands[0].epilog = (
            f"Topics installed: {', '.join(names)} (`dojo plugins` lists the plugin of each).")


def main() -> None:
    point_torch_cache()
    end_with_parent()  # a cohort's child: not an orphan when its pool or Dask worker dies
    plugin_warnings_as_lines()  # before the plugins load: the help's topic list loads them
    with imports_without_collection():  # the plugins' modules and declarations
        _list_topics_in_help()
    run_app(app)


if __name__ == "__main__":
    main()
