"""The JSON report: :meth:`GradingResult.to_json`, schema in docs/results-schema.md."""

from __future__ import annotations

import json

from nlpdojo_autograder.grading.reporting import Reporter
from nlpdojo_autograder.grading.results import GradingResult, json_default
from nlpdojo_reports.sanitize import finite_json


class JsonReporter(Reporter):
    """``grade --format json``: the whole result, readable back with ``GradingResult.load``.

    JSON has no NaN: when a check measured a non-finite value (a diverged model), that number
    is written as ``null`` rather than failing the report; the check's message says what happened.
    """

    name = "json"
    default_filename = "results.json"

    def render(self, result: GradingResult) -> str:
        """The result as indented JSON, ending in a newline."""
        try:
            text = result.to_json()
        except ValueError:  # NaN or infinity somewhere: write null instead
            text = json.dumps(
                finite_json(result.to_dict(), default=json_default), indent=2, allow_nan=False
            )
        return text + "\n"
