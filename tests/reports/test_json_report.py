"""The JSON report: a lossless round trip that validates against the shipped schema."""

from __future__ import annotations

import json

import jsonschema

from nlpdojo_autograder.grading.results import GradingResult
from nlpdojo_reports.json_report import JsonReporter
from nlpdojo_reports.schema import load_schema


def _strict_loads(text: str):
    def refuse(name: str):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_round_trip_equals_original(result):
    text = JsonReporter().render(result)
    assert GradingResult.from_dict(json.loads(text)) == result


def test_validates_against_results_schema(result):
    data = _strict_loads(JsonReporter().render(result))
    jsonschema.Draft202012Validator(load_schema()).validate(data)
    assert data["schema_version"] == "1.6"
    assert data["score"] == 6 and data["max_score"] == 16


def test_headline_fields_and_metric_values(result):
    data = json.loads(JsonReporter().render(result))
    assert list(data)[:4] == ["schema_version", "score", "max_score", "backend"]
    checks = {c["id"]: c for ex in data["exercises"] for c in ex["checks"]}
    assert checks["lm.perplexity"]["value"] == 152.3
    assert checks["lm.perplexity"]["threshold"] == 160.0
    assert {c["status"] for c in checks.values()} == {
        "passed", "failed", "error", "timeout", "not_implemented"
    }


def test_non_finite_metric_becomes_null(result):
    ppl = result.exercises[1].checks[0]
    ppl.value = float("nan")
    ppl.details["history"] = [1.0, float("inf")]
    data = _strict_loads(JsonReporter().render(result))
    jsonschema.Draft202012Validator(load_schema()).validate(data)
    check = data["exercises"][1]["checks"][0]
    assert check["value"] is None
    assert check["details"]["history"] == [1.0, None]
    assert check["threshold"] == 160.0
