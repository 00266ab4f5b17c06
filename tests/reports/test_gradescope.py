"""Gradescope results.json: valid against the spec, scores add up, hidden checks stay hidden."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from nlpdojo_reports.gradescope import GradescopeReporter

SCHEMA = json.loads(
    (Path(__file__).with_name("fixtures") / "gradescope-results.schema.json").read_text()
)


def _render(result, **kw) -> dict:
    def refuse(name: str):
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(GradescopeReporter(**kw).render(result), parse_constant=refuse)


def _tests(doc: dict) -> dict[str, dict]:
    return {t["extra_data"]["id"]: t for t in doc["tests"]}


def test_validates_against_gradescope_schema(result):
    jsonschema.Draft202012Validator(SCHEMA).validate(_render(result))


def test_fixture_schema_is_strict(result):
    doc = _render(result)
    doc["tests"][0]["status"] = "error"  # Gradescope knows only passed/failed
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_scores_add_up(result):
    doc = _render(result)
    assert doc["score"] == result.score == 6
    assert sum(t["score"] for t in doc["tests"]) == pytest.approx(doc["score"])
    assert sum(t["max_score"] for t in doc["tests"]) == pytest.approx(result.max_score)
    assert len(doc["tests"]) == len(result.checks())


def test_status_mapping_keeps_nlpdojo_status(result):
    tests = _tests(_render(result))
    assert tests["softmax.values"]["status"] == "passed"
    for cid, status in [("softmax.gradient", "failed"), ("skipgram.loss", "error"),
                        ("skipgram.timeout", "timeout"), ("cbow.values", "not_implemented")]:
        assert tests[cid]["status"] == "failed"
        assert status in tests[cid]["tags"]
        assert tests[cid]["extra_data"]["status"] == status
    assert tests["cbow.values"]["output"].startswith("not implemented: NotImplementedError")


def test_numbering_names_and_output(result):
    tests = _render(result)["tests"]
    assert [t["number"] for t in tests[:2]] == ["1.1", "1.2"]
    assert tests[6]["number"] == "2.1"
    assert tests[0]["name"] == "softmax.values: softmax values"
    loss = _tests({"tests": tests})["skipgram.loss"]
    assert "<script>alert('x')</script>" in loss["output"]
    assert "naïve ✓ 日本語" in loss["output"]
    ppl = _tests({"tests": tests})["lm.perplexity"]
    assert "metric: 152.3 (threshold 160)" in ppl["output"]


def test_top_level_summary(result):
    doc = _render(result)
    assert doc["visibility"] == "visible" and doc["stdout_visibility"] == "hidden"
    assert doc["execution_time"] == 45.5
    assert "backend numpy on cpu" in doc["output"]
    assert "broken: ImportError" in doc["output"]


@pytest.mark.parametrize("setting", ["after_published", "hidden"])
def test_hidden_checks_visibility(result, setting):
    tests = _tests(_render(result, hidden_visibility=setting))
    assert tests["skipgram.hidden_values"]["visibility"] == setting
    assert tests["lm.hidden_perplexity"]["visibility"] == setting
    assert tests["softmax.values"]["visibility"] == "visible"


def test_leaderboard_has_visible_metrics_only(result):
    board = {e["name"]: e for e in _render(result)["leaderboard"]}
    # lm.accuracy failed (0.71 < 0.8): a failed check earns no rank
    assert set(board) == {"validation perplexity"}
    assert board["validation perplexity"] == {
        "name": "validation perplexity", "value": 152.3, "order": "asc"}
    accuracy = next(c for e in result.exercises for c in e.checks if c.id == "lm.accuracy")
    accuracy.status = "passed"
    board = {e["name"]: e for e in _render(result)["leaderboard"]}
    assert "order" not in board["lm.accuracy"]  # higher is better: Gradescope's default desc


def test_non_finite_metric(result):
    result.exercises[1].checks[0].value = float("inf")
    doc = _render(result)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert _tests(doc)["lm.perplexity"]["extra_data"]["value"] is None
    assert "validation perplexity" not in {e["name"] for e in doc.get("leaderboard", [])}


def test_leaderboard_can_be_turned_off(result):
    assert "leaderboard" not in _render(result, leaderboard=False)
