"""Gradescope's ``results.json`` (https://gradescope-autograders.readthedocs.io/en/latest/specs/).

Mapping: one Gradescope test per check, numbered ``<exercise index>.<check index>``.

* ``status``: ``"passed"`` for passed, ``"failed"`` for everything else (Gradescope has only
  those two); the nlpdojo status is the first word of ``output`` and is kept in ``tags`` and
  ``extra_data.status``.
* ``visibility``: ``"visible"``; a hidden check gets :attr:`GradescopeReporter.hidden_visibility`
  (``"after_published"`` by default, ``"hidden"`` to show it to instructors only).
* the top-level ``score`` is the run's score, which equals the sum of the tests' scores;
  ``output`` summarizes the run (score, exercise-wide errors, then backend, device, seeds,
  versions). ``grade --format gradescope --output F`` writes ``F`` even when the submission
  cannot be graded at all (score 0, the reason in ``output`` and in every test).
* ``leaderboard``: one entry per visible metric check that passed with a finite value (a
  failed one earns no rank: ``leaderboard.ranked_value``); none at all where none did.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from nlpdojo_autograder.grading.reporting import Reporter
from nlpdojo_autograder.grading.results import CheckResult, GradingResult, json_default
from nlpdojo_reports.formatting import (
    STATUS_LABELS,
    fmt_points,
    metric_text,
    run_lines,
    shown_status,
)
from nlpdojo_reports.leaderboard import metric_entries
from nlpdojo_reports.sanitize import finite_json

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]


class GradescopeReporter(Reporter):
    """``grade --format gradescope``: write it to ``/autograder/results/results.json``."""

    name = "gradescope"
    default_filename = "results.json"

    def __init__(
        self, hidden_visibility: Visibility = "after_published", leaderboard: bool = True
    ) -> None:
        self.hidden_visibility = hidden_visibility
        self.leaderboard = leaderboard

    def render(self, result: GradingResult) -> str:
        """The ``results.json`` document."""
        return json.dumps(finite_json(self.to_dict(result), default=json_default), indent=2) + "\n"

    def to_dict(self, result: GradingResult) -> dict[str, Any]:
        """The document as a dict (before NaN clean-up)."""
        tests = []
        for i, ex in enumerate(result.exercises, start=1):
            for j, check in enumerate(ex.checks, start=1):
                tests.append(self._test(check, f"{i}.{j}", ex.name))
        doc: dict[str, Any] = {
            "score": result.score,
            "execution_time": round(result.duration_s, 3),
            "output": _summary(result),
            "output_format": "text",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": tests,
        }
        board = metric_entries(result) if self.leaderboard else []  # the cohort's source too
        if board:
            doc["leaderboard"] = board
        return doc

    def _test(self, check: CheckResult, number: str, exercise: str) -> dict[str, Any]:
        return {
            "score": check.score,
            "max_score": check.max_score,
            "status": "passed" if check.passed else "failed",
            "name": f"{check.id}: {check.title}" if check.title else check.id,
            "name_format": "text",
            "number": number,
            "output": _test_output(check),
            "output_format": "text",
            "tags": [exercise, check.question, check.kind, check.status],
            "visibility": self.hidden_visibility if check.hidden else "visible",
            "extra_data": {
                "id": check.id,
                "exercise": exercise,
                "question": check.question,
                "kind": check.kind,
                "status": check.status,
                "hidden": check.hidden,
                "value": check.value,
                "threshold": check.threshold,
                "duration_s": check.duration_s,
                "details": check.details,
            },
        }


def _test_output(check: CheckResult) -> str:
    label = STATUS_LABELS[shown_status(check)]
    lines = [f"{label}: {check.message}" if check.message else label]
    metric = metric_text(check)
    if metric:
        lines.append(f"metric: {metric}")
    if check.output:
        lines += ["", "--- your code printed ---", check.output]
    return "\n".join(lines)


def _summary(result: GradingResult) -> str:
    lines = [f"nlpdojo: {fmt_points(result.score, result.max_score)} points"]
    lines += [f"{ex.name}: {ex.error}" for ex in result.exercises if ex.error]  # first: students
    lines += [f"warning: {w}" for w in result.warnings]  # files of theirs that were not graded
    return "\n".join([*lines, *run_lines(result)])
