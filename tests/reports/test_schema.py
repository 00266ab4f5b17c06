"""The shipped JSON Schema: loadable, itself valid, and strict where the format is fixed."""

from __future__ import annotations

import json

import jsonschema
import pytest

from nlpdojo_autograder.grading.results import SCHEMA_VERSION
from nlpdojo_reports.json_report import JsonReporter
from nlpdojo_reports.schema import load_schema


def test_schema_is_valid_draft_2020_12():
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_matches_result_model_version():
    pattern = load_schema()["properties"]["schema_version"]["pattern"]
    assert pattern.startswith(f"^{SCHEMA_VERSION.split('.')[0]}\\.")


def _valid(result) -> dict:
    return json.loads(JsonReporter().render(result))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["exercises"][0]["checks"][0].__setitem__("status", "skipped"),
        lambda d: d["exercises"][0]["checks"][0].pop("id"),
        lambda d: d.__setitem__("schema_version", "2.0"),
        lambda d: d["seeds"].__setitem__("global", "zero"),
        lambda d: d["exercises"][1]["checks"][0].__setitem__("value", "152"),
    ],
    ids=["unknown-status", "missing-id", "major-2", "seed-not-int", "value-not-number"],
)
def test_schema_rejects_broken_documents(result, mutate):
    data = _valid(result)
    mutate(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, load_schema(), cls=jsonschema.Draft202012Validator)


def test_schema_accepts_additive_minor_version(result):
    data = _valid(result)
    data["schema_version"] = "1.3"
    data["new_top_level_field"] = {"anything": 1}
    data["exercises"][0]["checks"][0]["new_check_field"] = True
    jsonschema.validate(data, load_schema(), cls=jsonschema.Draft202012Validator)
