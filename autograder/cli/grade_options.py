"""``grade``'s options: what its command line gave (:class:`GradeRequest`), reconciled one
concern at a time into what a grading runs with.

Each concern is a method, checked in this order, so that the first problem is the one
reported (one line, exit 2, before any grading): ``--replay`` (:meth:`GradeRequest.replayed`:
the recorded options, and no option that would change them), defaults
(:meth:`~GradeRequest.with_defaults`), options that cannot work together
(:meth:`~GradeRequest.check_combinations`), the OS sandbox where it is required
(:meth:`~GradeRequest.check_sandbox`), the input seed (:meth:`~GradeRequest.with_input_seed`)
and the report format (:meth:`~GradeRequest.check_format`). :meth:`~GradeRequest.reconciled`
runs them all; :meth:`~GradeRequest.grade_options` and :meth:`~GradeRequest.replay_options`
then say what the grader runs and what a JSON result records to be replayed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlpdojo.cli.common import print_warning
from nlpdojo.errors import NlpdojoError
from nlpdojo.settings import Choice, CourseConfig, pick
from nlpdojo_autograder.grading.draws import fresh_seed
from nlpdojo_autograder.grading.grade import (
    REPLAYED_FROM,
    GradeOptions,
    exercise_names,
    get_exercise,
    seed_from_environment,
)
from nlpdojo_autograder.grading.results import GradingResult
from nlpdojo_autograder.grading.runner import Limits
from nlpdojo_autograder.grading.snapshot import SubmissionError, content_hash
from nlpdojo_autograder.runtime.loader import reference_available
from nlpdojo_autograder.runtime.sandbox import level
from nlpdojo_reports.writer import get_reporter

DEFAULT_TIMEOUT_SCALE = 1.0
DEFAULT_MEMORY_MB = 4096
#: the environment's say on the limits and on where a cohort's reports go (after the options,
#: before the course configuration: nlpdojo.settings)
TIMEOUT_SCALE_ENV = "NLPDOJO_TIMEOUT_SCALE"
MEMORY_MB_ENV = "NLPDOJO_MEMORY_MB"
TIME_LIMIT_ENV = "NLPDOJO_TIME_LIMIT"
OUTPUT_ENV = "NLPDOJO_GRADE_OUTPUT"
#: in a cohort's output folder, each submission's folder holds its replayable JSON result as
RESULT_NAME = "result.json"
#: ``--format html`` with ``--submissions``: the cohort dashboard (nlpdojo_reports.dashboard)
HTML_FORMAT = "html"


class UsageError(NlpdojoError):
    """Arguments that cannot work together."""


#: set by CI services (GitHub Actions, GitLab CI, CircleCI, Travis CI, Buildkite, ...): a
#: grading there counts, so it reuses no verdict of ``grade``'s incremental cache, which is
#: the student's local feedback (a runner that keeps ``~/.cache`` between jobs kept it too)
CI_ENV = "CI"


def on_ci() -> bool:
    """Whether this runs in a CI job: ``$CI`` set to anything but empty, 0, false or no."""
    return os.environ.get(CI_ENV, "").strip().lower() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class GradeRequest:
    """The options of one ``grade`` command, as given (``None``: not given)."""

    topics: list[str] = field(default_factory=list)
    submission: Path | None = None
    submissions: Path | None = None
    jobs: int | None = None
    cluster: str | None = None
    #: ``--resume``: a cohort keeps what an earlier run of it graded the same way
    resume: bool = False
    solutions: bool = False
    backend: str | None = None
    device: str | None = None
    fmt: str = "table"
    output: str | None = None
    fail_under: float | None = None
    seed: int | None = None
    full: bool = False
    as_student: bool = False
    timeout_scale: float | None = None
    memory_mb: int | None = None
    #: ``--time-limit``: seconds for the grading of one submission (None: no such limit)
    time_limit: float | None = None
    replay: Path | None = None
    require_sandbox: bool = False
    no_cache: bool = False
    #: the question ids a replayed grading selected (``None``: the topics' every question)
    questions: list[str] | None = None
    #: the seed of the checks' inputs (``None`` after :meth:`with_input_seed`: the base seed)
    input_seed: int | None = None
    #: ``--config``: the instructor's course configuration (None: ``NLPDOJO_CONFIG``'s, or
    #: the user's configuration folder's; nlpdojo.settings)
    config: Path | None = None
    #: where the settings resolved so far came from (``{"timeout_scale": "env ..."}``)
    sources: dict[str, str] = field(default_factory=dict)
    #: the input seed was drawn afresh for this grading (no ``--seed``, no replay, not a
    #: cohort's child): a prepared draw may stand in for it (:mod:`~.grading.draws`)
    drawn: bool = False

    def reconciled(self) -> GradeRequest:
        """The request a grading runs with: every concern checked, in the module's order."""
        request = self.replayed() if self.replay is not None else dataclasses.replace(
            self, input_seed=self.seed)
        request = request.with_defaults()
        request.check_combinations()
        request.check_sandbox()
        return request.with_input_seed().checked_format()

    def replayed(self) -> GradeRequest:
        """``--replay``: the options the JSON result recorded; an option that would change
        them is refused (``--format``, ``--output`` and ``--fail-under`` are fine)."""
        given = [flag for flag, value in (
            ("TOPIC", self.topics), ("--submission", self.submission),
            ("--submissions", self.submissions), ("--solutions", self.solutions),
            ("--backend", self.backend), ("--device", self.device),
            ("--seed", self.seed is not None), ("--full", self.full),
            ("--as-student", self.as_student),
            ("--timeout-scale", self.timeout_scale is not None),
            ("--memory-mb", self.memory_mb is not None),
            ("--time-limit", self.time_limit is not None), ("--jobs", self.jobs is not None),
            ("--resume", self.resume),
            ("--cluster", self.cluster is not None)) if value]
        if given:
            raise UsageError(f"--replay reruns exactly what was recorded; leave out "
                             f"{', '.join(given)} (--format, --output and --fail-under are fine)")
        assert self.replay is not None
        recorded = load_replay(self.replay)
        # what a replay takes from the file is the file's to say: never a grading of the
        # reference (a submission's result edited to `solutions: true` replayed to full marks)
        # nor one without a memory limit on the grader's machine
        if recorded.get("solutions"):
            raise UsageError(f"{self.replay} records a grading of the reference solutions: "
                             "--replay reruns a submission's grading (grade --solutions "
                             "grades the reference)")
        if recorded.get("memory_mb") == 0:
            raise UsageError(f"{self.replay} records a grading without a memory limit "
                             "(memory_mb 0): a replay keeps one; grade the submission again "
                             "with --memory-mb 0 if that is meant")
        if recorded.get("use_reference") is False and reference_present(recorded["topics"]):
            raise UsageError(f"{self.replay} records a grading as a student release (the "
                             "shipped fixtures at input seed 0, without the hidden checks): "
                             "where the reference is installed a replay grades with it; grade "
                             "--as-student yourself if that is meant")
        submission = recorded.get("submission")
        return dataclasses.replace(
            self, topics=recorded["topics"], submission=Path(submission) if submission else None,
            solutions=recorded["solutions"], seed=recorded["seed"], full=recorded["full"],
            input_seed=recorded.get("input_seed", recorded["seed"]),
            require_sandbox=self.require_sandbox or bool(recorded.get("require_sandbox")),
            backend=recorded["backend"], device=recorded["device"],
            as_student=not recorded.get("use_reference", True),
            questions=recorded.get("questions"),
            timeout_scale=recorded.get("timeout_scale", self.timeout_scale),
            memory_mb=recorded.get("memory_mb", self.memory_mb),
            time_limit=recorded.get("time_limit", self.time_limit),
            sources={key: f"replay {self.replay}" for key in (
                "backend", "device", *(k for k in ("timeout_scale", "memory_mb", "time_limit")
                                       if k in recorded))})

    def course_config(self) -> CourseConfig:
        """The instructor's course configuration (read when a setting falls through to it)."""
        return CourseConfig(self.config)

    def with_defaults(self) -> GradeRequest:
        """The time and memory limits not given (and a cohort's report folder): from the
        environment, else the course configuration, else their defaults; never from a file of
        the submission's or of the working folder (nlpdojo.settings)."""
        config = self.course_config()
        scale = pick("timeout_scale", self.timeout_scale, TIMEOUT_SCALE_ENV,
                     DEFAULT_TIMEOUT_SCALE, config)
        memory = pick("memory_mb", self.memory_mb, MEMORY_MB_ENV, DEFAULT_MEMORY_MB, config)
        time_limit = (Choice(self.time_limit, self.sources["time_limit"])  # (None: none)
                      if self.sources.get("time_limit", "").startswith("replay ") else
                      pick("time_limit", self.time_limit, TIME_LIMIT_ENV, None, config))
        sources = {"timeout_scale": scale.source, "memory_mb": memory.source,
                   "time_limit": time_limit.source}
        output = self.output
        if self.submissions is not None:
            folder = pick("output", self.output, OUTPUT_ENV, None, config)
            if self.output is None and folder.value is not None:
                # a course's folder for every cohort's reports: this cohort's go in it, under
                # the name they have by default beside the submissions
                output = str(Path(folder.value) / f"{self.submissions.resolve().name}-results")
            sources["output"] = folder.source
        return dataclasses.replace(self, timeout_scale=scale.value, memory_mb=memory.value,
                                   time_limit=time_limit.value, output=output,
                                   sources={**sources, **self.sources})

    def check_combinations(self) -> None:
        """Options that cannot work together: one clear error before any work."""
        seed = self.seed or 0
        if self.solutions and self.as_student:
            raise UsageError("--solutions grades the reference, --as-student grades without "
                             "it: choose one")
        if self.solutions and (self.submission or self.submissions):
            raise UsageError("--solutions grades the reference; leave out "
                             "--submission/--submissions")
        if self.submission and self.submissions:
            raise UsageError("use --submission for one submission or --submissions for a "
                             "folder of them, not both")
        if self.as_student and (seed != 0 or self.full):
            flags = " and ".join(f for f, on in (("--seed", seed != 0), ("--full", self.full))
                                 if on)
            raise UsageError(f"--as-student grades against the fixtures of a student release, "
                             f"stored for seed 0 and the quick budget only: leave out {flags}")
        if self.jobs is not None and self.submissions is None:
            raise UsageError("--jobs grades several submissions in parallel: use it with "
                             "--submissions")
        if self.resume and self.submissions is None:
            raise UsageError("--resume goes on with a cohort an earlier run left unfinished: use "
                             "it with --submissions (and the same --output)")
        if self.cluster is not None and self.submissions is None:
            raise UsageError("--cluster grades a cohort on a Dask cluster: use it with "
                             "--submissions")
        if self.cluster not in (None, "local") and self.jobs is not None:
            raise UsageError(f"--jobs sets the worker processes of --cluster local; the "
                             f"cluster at {self.cluster} has its own workers: leave out --jobs")

    def check_sandbox(self) -> None:
        """``--require-sandbox`` where there is no OS sandbox: one line saying why not."""
        if self.require_sandbox:
            level(require=True)

    def with_input_seed(self) -> GradeRequest:
        """The input seed where none is given (:func:`default_input_seed`); the base seed 0
        where none is given."""
        input_seed, drawn = self.input_seed, False
        if input_seed is None:
            input_seed, drawn = default_input_seed_drawn(self.topics, as_student=self.as_student)
        return dataclasses.replace(self, input_seed=input_seed, seed=self.seed or 0,
                                   drawn=drawn)

    def checked_format(self) -> GradeRequest:
        """The report format exists (and ``html`` is a cohort's): one line now, not after
        the grading."""
        if self.fmt == HTML_FORMAT and self.submissions is None:
            raise UsageError("--format html is the cohort dashboard: use it with "
                             "--submissions DIR (or `dojo report summary.json` on a cohort "
                             "already graded)")
        if self.fmt != HTML_FORMAT:
            get_reporter(self.fmt)
        return self

    @property
    def use_cache(self) -> bool:
        """Whether verdicts of unchanged checks may be reused (never for a grading that
        counts: a replay, a required sandbox, the reference, a CI job: :func:`on_ci`)."""
        return not (self.no_cache or self.replay is not None or self.require_sandbox
                    or self.solutions or on_ci())

    def settings(self, chosen: dict[str, Choice]) -> dict[str, dict[str, Any]]:
        """What a result records of where each setting came from: ``chosen`` (backend and
        device, as resolved) and the limits (and a cohort's output folder), with a replay's
        source for what the replayed result fixed."""
        values = {"timeout_scale": self.timeout_scale, "memory_mb": self.memory_mb,
                  "time_limit": self.time_limit, "output": self.output}
        found = {**chosen, **{k: Choice(values[k], self.sources[k]) for k in values
                              if k in self.sources}}
        return {k: Choice(c.value, self.sources.get(k, c.source)).record()
                for k, c in found.items()}

    def grade_options(self, backend: str, device: str | None,
                      questions: frozenset[str] | None,
                      settings: dict[str, dict[str, Any]] | None = None) -> GradeOptions:
        """What the grader runs with, on the resolved ``backend`` and ``device``;
        ``settings``: what its result records of where each came from (:meth:`settings`)."""
        assert self.timeout_scale is not None and self.memory_mb is not None
        return GradeOptions(settings=settings or {},
            backend=backend, device=device, seed=self.seed or 0, full=self.full,
            use_reference=not self.as_student, questions=questions,
            input_seed=self.input_seed,
            limits=Limits(timeout_scale=self.timeout_scale, memory_mb=self.memory_mb,
                          isolation="sandbox" if self.require_sandbox else "auto",
                          time_limit_s=self.time_limit))

    def replay_options(self, topics: list[str], questions: frozenset[str] | None,
                       options: GradeOptions) -> dict[str, Any]:
        """What a JSON result records for ``--replay`` (the submission is added where it is
        known)."""
        return {"topics": topics, "questions": sorted(questions) if questions else None,
                "solutions": self.solutions, "seed": options.seed, "full": self.full,
                "backend": options.backend, "device": options.device,
                "use_reference": not self.as_student, "timeout_scale": self.timeout_scale,
                "memory_mb": self.memory_mb, "time_limit": self.time_limit,
                "input_seed": options.inputs,
                "require_sandbox": self.require_sandbox,
                **({REPLAYED_FROM: str(self.replay)} if self.replay is not None else {})}


def replayed_warning(path: str) -> str:
    """The line a replayed grading's result carries (``dojo course record`` refuses it)."""
    return (f"replayed from {path}: on the input seed that result records, which its student "
            "was given (every check's inputs follow from it), so this verdict reproduces the "
            "earlier grading and counts for nothing new; grade the submission anew for credit")


def default_input_seed(topics: list[str] | None, *, as_student: bool = False) -> int | None:
    """The input seed of a grading that names none (``grade``, ``pytest exercises``): where
    the reference is installed and used, a cohort grader's for its children
    (:data:`~nlpdojo_autograder.grading.grade.INPUT_SEED_ENV`) or else a fresh one; otherwise
    ``None`` (the base seed: a student release's fixtures)."""
    return default_input_seed_drawn(topics, as_student=as_student)[0]


def default_input_seed_drawn(topics: list[str] | None, *, as_student: bool = False
                             ) -> tuple[int | None, bool]:
    """:func:`default_input_seed` and whether it was drawn fresh here (not the environment's),
    from one reading of the environment."""
    if as_student or not reference_present(topics):
        return None, False  # the fixtures' base seed: the only one they answer
    seed = seed_from_environment()
    return (seed, False) if seed is not None else (fresh_seed(), True)


def reference_present(topics: list[str] | None) -> bool:
    """Whether the reference of any of ``topics`` (None or unknown: any topic) is installed."""
    names = exercise_names()
    wanted = [t for t in (topics or []) if t in names] or names
    return any(reference_available(get_exercise(t).reference_package) for t in wanted)


def load_replay(path: Path) -> dict[str, Any]:
    """The options a JSON result recorded, for ``--replay`` (a warning where the submission
    changed since)."""
    hint = (f"replay a --format json report, or a cohort submission's "
            f"<output>/<submission>/{RESULT_NAME}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"cannot replay {path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot replay {path}: {exc}") from exc
    except ValueError as exc:
        raise UsageError(f"cannot replay {path}: not JSON ({exc}); {hint}") from exc
    if not isinstance(data, dict) or "exercises" not in data:
        if isinstance(data, dict) and "submissions" in data and "count" in data:
            what = "a cohort summary"
        elif isinstance(data, dict) and "tests" in data:
            what = "a Gradescope report"
        else:
            what = "not an nlpdojo JSON result"
        raise UsageError(f"cannot replay {path}: it is {what}; {hint}")
    try:
        recorded = GradingResult.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"cannot replay {path}: {exc}") from exc
    opts = recorded.options
    needed = {"topics", "solutions", "seed", "full", "backend", "device"}
    if not needed <= set(opts):
        raise UsageError(f"{path} does not record how it was graded (options lack "
                         f"{sorted(needed - set(opts))}); it cannot be replayed")
    wrong = _malformed_options(opts)
    if wrong:
        raise UsageError(f"cannot replay {path}: its options are not what grade records "
                         f"({wrong}); replay the report as grade wrote it")
    _refuse_if_changed(path, opts.get("submission"), recorded.submission_sha256)
    return opts


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: what each recorded option holds (a replay file edited by hand: ``topics: 5`` ended grade
#: with an internal error, ``timeout_scale: -1`` timed every check out, ``input_seed: "abc"``
#: wrote a result its schema refuses; a CI integrator's trial)
_RECORDED: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "topics": ("a list of topic names", lambda v: isinstance(v, list)
               and all(isinstance(t, str) for t in v)),
    "questions": ("null or a list of question ids", lambda v: v is None or (
        isinstance(v, list) and all(isinstance(q, str) for q in v))),
    "solutions": ("true or false", lambda v: isinstance(v, bool)),
    "full": ("true or false", lambda v: isinstance(v, bool)),
    "use_reference": ("true or false", lambda v: isinstance(v, bool)),
    "require_sandbox": ("true or false", lambda v: isinstance(v, bool)),
    "seed": ("a whole number", _is_int),
    "input_seed": ("null or a whole number of 0 or more", lambda v: v is None or (
        _is_int(v) and v >= 0)),
    "backend": ("a backend's name", lambda v: isinstance(v, str) and bool(v)),
    "device": ("a device's name", lambda v: isinstance(v, str) and bool(v)),
    "timeout_scale": ("a number above 0", lambda v: isinstance(v, (int, float))
                      and not isinstance(v, bool) and math.isfinite(v) and v > 0),
    "memory_mb": ("null or a whole number of 0 or more", lambda v: v is None or (
        _is_int(v) and v >= 0)),
    "time_limit": ("null or a number of seconds, 1 or more", lambda v: v is None or (
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        and v >= 1)),
    "submission": ("null or a path", lambda v: v is None or isinstance(v, str)),
}


def _malformed_options(opts: dict[str, Any]) -> str:
    """What is wrong with the recorded options ``opts`` (``""``: nothing)."""
    wrong = [f"{key} is {json.dumps(opts[key])[:40]}, not {what}"
             for key, (what, fits) in _RECORDED.items() if key in opts and not fits(opts[key])]
    return "; ".join(wrong)


def _refuse_if_changed(path: Path, submission: str | None, recorded: str) -> None:
    """``--replay`` grades the files the result graded, on its input seed: files changed
    since are refused (graded on a seed their student was given, a table of that draw's
    answers passed: a trial's 0 of 4 afresh, 4 of 4 so)."""
    if not submission or not recorded:
        return
    try:
        now = content_hash(Path(submission))
    except (OSError, SubmissionError) as exc:
        print_warning(f"cannot compare the submission with the one graded: {exc}")
        return
    if now != recorded:
        raise UsageError(f"cannot replay {path}: the submission changed since it was graded "
                         f"(recorded sha256 {recorded[:16]}…, now {now[:16]}…), and a replay "
                         "grades on the input seed its student was given; grade the files as "
                         "they are now without --replay (a fresh draw)")
