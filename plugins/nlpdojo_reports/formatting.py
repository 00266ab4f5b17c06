"""Small text helpers shared by the report formats: points, verdict labels, metric lines."""

from __future__ import annotations

import math

from nlpdojo_autograder.grading.results import CheckResult, GradingResult

#: how each status reads to a person (the JSON keeps the machine value)
STATUS_LABELS: dict[str, str] = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "timeout": "timeout",
    "not_implemented": "not implemented",
    "skipped": "skipped",
}


def shown_status(check: CheckResult) -> str:
    """How a check's verdict reads in a report for people: its ``status``, or ``skipped`` for
    a check the grader did not run (status ``error`` with ``details["skipped"]``: its data
    set is not fetched here)."""
    return "skipped" if check.details.get("skipped") else check.status


def fmt_number(x: float | None, digits: int = 4) -> str:
    """A compact number: ``2`` not ``2.0``, ``1.5``, ``152.3``; ``-`` for ``None``."""
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.{digits}g}"


#: decimals points are shown with: a check's points are multiples of 0.025 at the finest
#: (autograder.authoring.builders.split_points), a partial score is shown to the same digits
POINT_DECIMALS = 3


def fmt_score(x: float | None) -> str:
    """Points as a person writes them: ``2``, ``137.5``, ``0.35``, ``0.375``: up to
    :data:`POINT_DECIMALS` decimals, never float noise (``137.500001``) and never cut to
    significant digits (``166.25``, not ``166.2``); ``-`` for ``None``."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return fmt_number(x)
    text = f"{round(float(x), POINT_DECIMALS):.{POINT_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_points(score: float, max_score: float) -> str:
    """``"1.5/2"``."""
    return f"{fmt_score(score)}/{fmt_score(max_score)}"


def metric_text(check: CheckResult) -> str:
    """``"152.3 (threshold 160)"`` for a check that measured something, else ``""``."""
    if check.value is None and check.threshold is None:
        return ""
    if check.threshold is None:
        return fmt_number(check.value)
    return f"{fmt_number(check.value)} (threshold {fmt_number(check.threshold)})"


def first_line(text: str) -> str:
    """The first non-empty line of ``text`` (whole, never cut), or ``""``."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def run_lines(result: GradingResult) -> list[str]:
    """How a run was made: ``backend ... on ...; seeds ...`` and ``versions: ...``."""
    seeds = ", ".join(f"{k}={v}" for k, v in sorted(result.seeds.items())) or "-"
    versions = ", ".join(f"{k} {v}" for k, v in sorted(result.versions.items())) or "-"
    isolation = f"; isolation {result.isolation}" if result.isolation else ""
    return [f"backend {result.backend} on {result.device}; seeds {seeds}{isolation}",
            f"versions: {versions}"]
