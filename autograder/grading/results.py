"""The result model every report format renders: one grading run, its exercises, their checks.

Serialized as JSON with a versioned schema (``docs/results-schema.md``; the machine-readable
``results.schema.json`` ships with the ``nlpdojo_reports`` plugin). Reports are plugins
(``register_reporters``) over these classes, so the terminal table, JSON, JUnit XML and
Gradescope outputs can never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

SCHEMA_VERSION = "1.6"
#: a check's ``details`` key set in the result of a submission the grading refused (a link out
#: of it, too many files, an unreadable notebook): the student's doing, not the grader's
REFUSED = "refused"

Status = Literal["passed", "failed", "error", "timeout", "not_implemented"]
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "timeout", "not_implemented")
CheckKind = Literal["value", "gradient", "metric", "property", "custom"]


MAX_MESSAGE, MAX_OUTPUT, MAX_TRACEBACK, MAX_LINES = 2_000, 4_000, 8_000, 200


def cap_text(text: str, limit: int, lines: int = MAX_LINES) -> str:
    """``text`` cut to ``limit`` characters and ``lines`` lines, saying how much was cut."""
    if not isinstance(text, str):
        return text
    cut = text
    if cut.count("\n") > lines:
        cut = "\n".join(cut.split("\n", lines + 1)[:lines])
    if len(cut) > limit:
        cut = cut[:limit]
    if len(cut) == len(text):
        return text
    return f"{cut} … ({len(text) - len(cut):,} characters cut)"


def printed_output(tail: str, printed_bytes: int, printed_lines: int,
                   whole: bool = True) -> tuple[str, dict[str, int]]:
    """A check's ``output`` from ``tail``, the end of what the code printed (``whole``: all of
    it): the tail itself where it fits the caps, else its last lines (at most ``MAX_LINES``,
    within ``MAX_OUTPUT`` characters) under a first line that says how much was printed and
    how much is kept. The caps are deliberate: a flood of output stays small in every report.
    The second value, for the check's ``details["printed"]``, holds the lines and bytes
    printed in all where anything was cut, and is empty where nothing was."""
    budget = MAX_OUTPUT - 200  # room for the first line
    partial = not whole  # the first line kept lost its beginning
    if len(tail) > budget:
        tail, partial = tail[-budget:], True
    lines = tail.split("\n")  # the last is "" where the tail ends with a newline
    if partial and any(lines[1:]):
        lines, partial = lines[1:], False  # from the start of a line where one is kept
    end = 1 if lines[-1] == "" else 0
    if len(lines) - end > MAX_LINES:
        lines, partial = lines[-(MAX_LINES + end):], False
    shown = "\n".join(lines)
    if whole and shown == tail and len(tail) <= budget:
        return shown, {}
    kept = len(lines) - end
    what = (f"the last {len(shown):,} characters of its last line" if partial
            else f"the last {kept:,} line{'' if kept == 1 else 's'}")
    head = (f"… (your code printed {printed_lines:,} line{'' if printed_lines == 1 else 's'}, "
            f"{printed_bytes:,} bytes in all; only {what} are kept)")
    return f"{head}\n{shown}", {"lines": printed_lines, "bytes": printed_bytes}


def _cap_output(text: str) -> str:
    """``text`` cut to its last ``MAX_LINES`` lines within ``MAX_OUTPUT`` characters: the end
    of what the code printed is what matters (an output from :func:`printed_output` fits)."""
    if not isinstance(text, str) or (len(text) <= MAX_OUTPUT
                                     and text.count("\n") <= MAX_LINES + 1):
        return text
    shown, _ = printed_output(text, len(text.encode("utf-8", "replace")),
                              text.count("\n") + (not text.endswith("\n")))
    return shown


def total_points(points: Iterable[float]) -> float:
    """A sum of points as every total is reported: rounded to 6 digits (the shares of a
    question's points are floats: 3.000000000000001 is 3)."""
    return round(sum(points), 6)


@dataclass
class CheckResult:
    """The verdict on one check. ``id`` is ``<question>.<check>``, e.g. ``softmax.values``."""

    id: str
    question: str
    kind: str
    score: float
    max_score: float
    status: str
    message: str
    title: str = ""
    hidden: bool = False
    duration_s: float = 0.0
    #: metric checks: the measured value and the threshold it had to reach
    value: float | None = None
    threshold: float | None = None
    #: anything else a reporter or a human may want (worst index, diagnosis, budget...);
    #: ``skipped`` (``"data"``) and ``datasets``: a check not run for want of data (status
    #: ``error``, see docs/results-schema.md)
    details: dict[str, Any] = field(default_factory=dict)
    #: the tail of what the student's code printed during this check; where it was cut, a first
    #: line says how much was printed (and ``details["printed"]`` holds the lines and bytes)
    output: str = ""
    #: the verdict was reused from ``grade``'s cache: none of the check's inputs changed
    #: since it was computed (see ``nlpdojo_autograder.grading.gradecache``)
    cached: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"check {self.id}: status {self.status!r} is not one of {STATUSES}")
        # the one place text from a submission is bounded: a 50 MB exception message must not
        # reach a terminal renderer or a report
        self.message = cap_text(self.message, MAX_MESSAGE)
        self.output = _cap_output(self.output)
        if isinstance(self.details.get("traceback"), str):
            self.details["traceback"] = cap_text(self.details["traceback"], MAX_TRACEBACK)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class ExerciseResult:
    """All checks of one exercise (one topic, graded in its own child processes)."""

    name: str
    title: str
    checks: list[CheckResult]
    duration_s: float = 0.0
    #: a problem that affected the whole exercise (its package failed to import...)
    error: str | None = None
    #: how the code under test was isolated: "sandbox" (the OS sandbox), "process" (a child
    #: process without it), "trusted" (the reference, run by the grader itself); see
    #: docs/security.md
    isolation: str = ""
    #: points of the hidden checks not run in this grading, per question: they need the
    #: reference and run where the work is submitted (a student release lists them so)
    hidden_points: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return total_points(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return total_points(c.max_score for c in self.checks)


@dataclass
class GradingResult:
    """One run of ``grade``: what was graded, how (backend, device, seeds, versions), and the
    verdicts. ``options`` holds exactly what ``grade --replay`` needs to run it again."""

    exercises: list[ExerciseResult]
    backend: str
    device: str
    submission: str
    seeds: dict[str, int]
    versions: dict[str, str]
    options: dict[str, Any]
    solutions_present: bool = False
    started_at: str = ""
    duration_s: float = 0.0
    schema_version: str = SCHEMA_VERSION
    #: the weakest isolation any exercise was graded with (see ``ExerciseResult.isolation``)
    isolation: str = ""
    #: sha256 of what was graded (the snapshot of the submission; a notebook's own bytes)
    submission_sha256: str = ""
    #: what the grader left out of the submission and why (a file whose name is not UTF-8),
    #: one line each: shown with every report, so the student knows it was not graded
    warnings: list[str] = field(default_factory=list)
    #: each setting the grading ran with and where it came from, ``{name: {"value": ...,
    #: "source": ...}}``: ``flag``, ``env NAME``, ``config PATH`` (the instructor's course
    #: configuration), ``replay PATH`` or ``default``; never a file of the submission's
    #: (``nlpdojo.settings``, docs/security.md)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return total_points(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return total_points(e.max_score for e in self.exercises)

    @property
    def hidden_points(self) -> float:
        """Points of hidden checks not run here (they run at submission)."""
        return total_points(sum(e.hidden_points.values()) for e in self.exercises)

    def checks(self) -> list[tuple[ExerciseResult, CheckResult]]:
        return [(e, c) for e in self.exercises for c in e.checks]

    # -- JSON --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = self.score
        data["max_score"] = self.max_score
        data["hidden_points"] = self.hidden_points
        for ex_data, ex in zip(data["exercises"], self.exercises, strict=True):
            ex_data["score"] = ex.score
            ex_data["max_score"] = ex.max_score
        # a stable key order: the headline first
        head = ["schema_version", "score", "max_score", "backend", "device", "submission",
                "submission_sha256", "solutions_present", "isolation", "seeds", "versions",
                "options", "settings", "started_at", "duration_s", "hidden_points", "warnings"]
        return {k: data[k] for k in head} | {"exercises": data["exercises"]}

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=json_default)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradingResult:
        version = str(data.get("schema_version", ""))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ValueError(
                f"result schema version {version!r} is not readable by this nlpdojo "
                f"(reads {SCHEMA_VERSION})"
            )
        exercises = []
        for ex in data["exercises"]:
            checks = [CheckResult(**_known(CheckResult, c)) for c in ex["checks"]]
            exercises.append(ExerciseResult(**(_known(ExerciseResult, ex) | {"checks": checks})))
        return cls(**(_known(cls, data) | {"exercises": exercises}))

    @classmethod
    def load(cls, path: str | Path) -> GradingResult:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` for what results may hold: NumPy values, paths."""
    if hasattr(obj, "tolist"):  # numpy scalars and arrays in details
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
