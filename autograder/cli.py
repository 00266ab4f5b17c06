"""``grade``: grade exercises, a submission, a notebook, or a whole cohort of submissions.

Exit codes: 0 when the score reaches ``--fail-under`` (default: full marks; for a cohort,
every submission must), 1 when it does not, 2 when grading could not run (bad arguments,
unknown topic, unreadable notebook) — with a one-line error, never a traceback.
"""

from __future__ import annotations

import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer

from nlpdojo.cli.common import err_console, report_errors
from nlpdojo.errors import NlpdojoError

app = typer.Typer(name="grade", add_completion=False, pretty_exceptions_enable=False,
                  help=__doc__.split("\n\n")[0] if __doc__ else None)

DEFAULT_SUBMISSION = Path("exercises")


class UsageError(NlpdojoError):
    """Arguments that cannot work together."""


@app.command()
@report_errors
def grade_command(
    topics: Annotated[list[str] | None, typer.Argument(
        help="Topics (word_vectors) or question ids (softmax) to grade; default: all.")] = None,
    submission: Annotated[Path | None, typer.Option(
        "--submission", "-s", help="A folder laid out like exercises/, or a notebook (.ipynb). "
        "Default: ./exercises")] = None,
    submissions: Annotated[Path | None, typer.Option(
        "--submissions", help="A folder of submission folders: grade each (see --jobs).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1,
                                      help="Submissions graded in parallel.")] = 1,
    solutions: Annotated[bool, typer.Option(
        "--solutions", help="Grade the reference solutions themselves.")] = False,
    backend: Annotated[str | None, typer.Option(
        "--backend", help="numpy | torch (default: NLPDOJO_BACKEND, config, numpy).")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu | cuda | cuda:N")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="table | json | junit | gradescope")] = "table",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the report here (a folder with --submissions).")] = None,
    fail_under: Annotated[float | None, typer.Option(
        "--fail-under", help="Exit 0 only at or above this score (default: full marks).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Base seed of every check.")] = 0,
    full: Annotated[bool, typer.Option(
        "--full", help="Metric checks train with their full budget (slow).")] = False,
    as_student: Annotated[bool, typer.Option(
        "--as-student", help="Grade as a student release would: fixtures, no hidden checks.")]
        = False,
    timeout_scale: Annotated[float, typer.Option(
        "--timeout-scale", min=0.01, help="Multiply every check's time limit.")] = 1.0,
    memory_mb: Annotated[int, typer.Option(
        "--memory-mb", min=0, help="Memory a check may allocate (MB; 0: no limit).")] = 4096,
    replay: Annotated[Path | None, typer.Option(
        "--replay", help="Rerun the grading recorded in a JSON result exactly.")] = None,
) -> None:
    """Grade exercises and print per-check points, verdicts and feedback."""
    from nlpdojo_autograder.grading import GradeOptions
    from nlpdojo_autograder.runner import Limits

    if replay is not None:
        given = [flag for flag, value in (
            ("TOPIC", topics), ("--submission", submission), ("--submissions", submissions),
            ("--solutions", solutions), ("--backend", backend), ("--device", device),
            ("--seed", seed), ("--full", full), ("--as-student", as_student)) if value]
        if given:
            raise UsageError(f"--replay reruns exactly what was recorded; leave out "
                             f"{', '.join(given)} (--format, --output and --fail-under are fine)")
        recorded = _load_replay(replay)
        topics, submission_str = recorded["topics"], recorded.get("submission")
        submission = Path(submission_str) if submission_str else None
        solutions, seed, full = recorded["solutions"], recorded["seed"], recorded["full"]
        backend, device = recorded["backend"], recorded["device"]
        as_student = not recorded.get("use_reference", True)
        questions = recorded.get("questions")
        timeout_scale = recorded.get("timeout_scale", timeout_scale)
        memory_mb = recorded.get("memory_mb", memory_mb)
    else:
        questions = None
    if solutions and as_student:
        raise UsageError("--solutions grades the reference, --as-student grades without it: "
                         "choose one")
    if solutions and (submission or submissions):
        raise UsageError("--solutions grades the reference; leave out --submission/--submissions")
    if submission and submissions:
        raise UsageError("use --submission for one submission or --submissions for a folder of "
                         "them, not both")

    resolved_backend, resolved_device = _resolve_backend(backend, device)
    topic_names, question_filter = _resolve_topics(topics or [], questions)
    options = GradeOptions(backend=resolved_backend, device=resolved_device, seed=seed, full=full,
                           use_reference=not as_student, questions=question_filter,
                           limits=Limits(timeout_scale=timeout_scale, memory_mb=memory_mb))
    replay_options = {"topics": topics or [], "questions": sorted(question_filter)
                      if question_filter else None, "solutions": solutions, "seed": seed,
                      "full": full, "backend": resolved_backend, "device": resolved_device,
                      "use_reference": not as_student, "timeout_scale": timeout_scale,
                      "memory_mb": memory_mb}

    if submissions is not None:
        code = _grade_cohort(submissions, topic_names, options, replay_options, fmt, output,
                             fail_under, jobs)
        raise typer.Exit(code)

    with tempfile.TemporaryDirectory(prefix="nlpdojo-notebook-") as tmp:
        folder = None if solutions else _submission_folder(submission, Path(tmp))
        names = topic_names or _default_topics(folder, solutions)
        given = None if solutions else (submission or _default_submission())
        replay_options["submission"] = str(given.resolve()) if given else None
        result = _grade_one(folder, names, options, replay_options, progress=True)
    _emit(result, fmt, output)
    raise typer.Exit(_exit_code(result.score, result.max_score, fail_under))


def _grade_one(folder: Path | None, topics: list[str], options: Any,
               replay_options: dict[str, Any], *, progress: bool = False) -> Any:
    from nlpdojo_autograder.grading import get_exercise, grade, has_reference, select_checks

    if not progress:
        return grade(topics, submission=folder, options=options, replay_options=replay_options)
    from tqdm import tqdm

    total = sum(len(select_checks(e, options, has_reference(e, options)))
                for e in map(get_exercise, topics))
    # on stderr, and only on a terminal (disable=None): CI logs and pipes stay clean
    with tqdm(total=total, desc="grading", unit="check", file=sys.stderr, disable=None,
              leave=False) as bar:
        def done(check: Any) -> None:
            bar.set_postfix_str(check.id, refresh=False)
            bar.update(1)

        return grade(topics, submission=folder, options=options,
                     replay_options=replay_options, on_done=done)


def _resolve_backend(backend: str | None, device: str | None) -> tuple[str, str | None]:
    """Validate the backend choice here, so a bad one is one clear error before any work."""
    from nlpdojo.selection import load_backend, resolve

    sel = resolve(backend, device)
    chosen = load_backend(backend, device)  # raises with the fix when unavailable
    return str(sel.backend.value), chosen.device


def _resolve_topics(args: list[str], recorded_questions: list[str] | None
                    ) -> tuple[list[str], frozenset[str] | None]:
    """Split arguments into topics and question ids (a question selects its topic)."""
    from nlpdojo_autograder.grading import exercise_names, get_exercise

    names = exercise_names()
    topics: list[str] = []
    questions: set[str] = set(recorded_questions or [])
    owner = {c.question: n for n in names for c in get_exercise(n).checks}
    for arg in args:
        if arg in names:
            topics.append(arg)
        elif arg in owner:
            questions.add(arg)
            topics.append(owner[arg])
        else:
            known = ", ".join(names) or "none registered"
            raise UsageError(f"{arg!r} is neither a topic nor a question id. Topics: {known}; "
                             f"questions: {', '.join(sorted(owner)) or 'none'}")
    return list(dict.fromkeys(topics)), frozenset(questions) if questions else None


def _default_topics(folder: Path | None, solutions: bool) -> list[str]:
    from nlpdojo_autograder.grading import exercise_names, get_exercise
    from nlpdojo_autograder.loader import reference_available

    names = exercise_names()
    if folder is None:
        found = [n for n in names
                 if reference_available(get_exercise(n).reference_package)] if solutions else []
    else:
        found = [n for n in names if (folder / n).is_dir()]
    if not found:
        where = "installed solutions" if folder is None else str(folder)
        raise UsageError(f"no exercise to grade in {where}; registered exercises: "
                         f"{', '.join(names) or 'none'}")
    return found


def _submission_folder(submission: Path | None, tmp: Path) -> Path:
    path = submission or _default_submission()
    if path.suffix == ".ipynb":
        return _notebook_folder(path, tmp)
    if path.is_file():
        raise UsageError(f"{path} is a file: pass a folder laid out like exercises/ (or a "
                         "topic's folder), or a .ipynb notebook")
    if not path.is_dir():
        hint = " (run `dojo release` to create exercises/)" if submission is None else ""
        raise UsageError(f"submission folder {path} does not exist{hint}")
    return path


def _default_submission() -> Path:
    """``./exercises``, or the working folder itself when it holds topic folders (a student
    who ran ``cd exercises``)."""
    from nlpdojo_autograder.grading import exercise_names

    if DEFAULT_SUBMISSION.is_dir():
        return DEFAULT_SUBMISSION
    here = Path(".")
    if any((here / name).is_dir() for name in exercise_names()):
        return here
    return DEFAULT_SUBMISSION


def _notebook_folder(notebook: Path, tmp: Path) -> Path:
    """Turn a notebook submission into a folder laid out like exercises/."""
    from nlpdojo_autograder.grading import get_exercise
    from nlpdojo_autograder.loader import load_reference_dir, reference_available
    from nlpdojo_autograder.notebooks import materialize_notebook, read_notebook

    if not notebook.is_file():
        raise UsageError(f"notebook {notebook} does not exist")
    topic, _ = read_notebook(notebook, strict=False)
    template = notebook.parent if (notebook.parent / "__init__.py").exists() else None
    if template is None:
        template = DEFAULT_SUBMISSION / topic if (DEFAULT_SUBMISSION / topic).is_dir() else None
    package = get_exercise(topic).reference_package
    if template is None and reference_available(package):
        template = load_reference_dir(package)
    if template is None:
        raise UsageError(f"cannot find the released exercises/{topic}/ folder the notebook "
                         "belongs to; run grade from the folder that holds exercises/")
    materialize_notebook(notebook, tmp / topic, template)
    return tmp


def _emit(result: Any, fmt: str, output: Path | None) -> None:
    from nlpdojo.cli.common import console
    from nlpdojo_reports.table import TableReporter
    from nlpdojo_reports.writer import get_reporter, write_report

    get_reporter(fmt)  # an unknown format fails before anything is written
    if fmt == "table" and output is None:
        TableReporter().print_to(console, result)
        return
    if output is None:
        write_report(result, fmt, None)
        return
    path = write_report(result, fmt, output)
    TableReporter().print_to(err_console, result)
    err_console.print(f"{fmt} report written to {path}")


def _exit_code(score: float, max_score: float, fail_under: float | None) -> int:
    threshold = max_score if fail_under is None else fail_under
    return 0 if score + 1e-9 >= threshold else 1


def _grade_cohort(root: Path, topics: list[str], options: Any, replay_options: dict[str, Any],
                  fmt: str, output: Path | None, fail_under: float | None, jobs: int) -> int:
    from nlpdojo.cli.common import console
    from nlpdojo_reports.cohort import cohort_renderable, summarize
    from nlpdojo_reports.writer import get_reporter, write_report

    if not root.is_dir():
        raise UsageError(f"submissions folder {root} does not exist")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise UsageError(f"{root} holds no submission folders")
    reporter = get_reporter(fmt)
    out_dir = output or root.parent / f"{root.name}-results"
    out_dir.mkdir(parents=True, exist_ok=True)

    def one(folder: Path) -> tuple[str, Any]:
        names = topics or [t for t in _registered() if (folder / t).is_dir()] or _registered()
        result = _grade_one(folder, names, options, {**replay_options,
                                                     "submission": str(folder.resolve())})
        ext = Path(reporter.default_filename).suffix or ".txt"
        write_report(result, fmt, out_dir / f"{folder.name}{ext}")
        if fmt != "json":
            write_report(result, "json", out_dir / f"{folder.name}.result.json")
        return folder.name, result

    from tqdm import tqdm

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = dict(tqdm(pool.map(one, folders), total=len(folders), desc="grading",
                            unit="submission", file=sys.stderr, disable=None))
    summary = summarize(results)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    console.print(cohort_renderable(summary))  # a renderable: messages are not markup
    console.print(f"results per submission and summary.json written to {out_dir}")
    codes = [_exit_code(r.score, r.max_score, fail_under) for r in results.values()]
    return max(codes)


def _registered() -> list[str]:
    from nlpdojo_autograder.grading import exercise_names

    return exercise_names()


def _load_replay(path: Path) -> dict[str, Any]:
    from nlpdojo_autograder.results import GradingResult

    try:
        recorded = GradingResult.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"cannot replay {path}: {exc}") from exc
    opts = recorded.options
    needed = {"topics", "solutions", "seed", "full", "backend", "device"}
    if not needed <= set(opts):
        raise UsageError(f"{path} does not record how it was graded (options lack "
                         f"{sorted(needed - set(opts))}); it cannot be replayed")
    return opts


def main() -> None:
    from nlpdojo.cli.common import run_app

    run_app(app)


if __name__ == "__main__":
    main()
