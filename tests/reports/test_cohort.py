"""The cohort summary: scores, pass rates, and failure messages grouped across numbers."""

from __future__ import annotations

import json

import pytest

from nlpdojo_autograder.grading.results import ExerciseResult
from nlpdojo_reports.cohort import normalize_message, render_cohort_table, summarize


@pytest.fixture
def cohort(build_result, make_check):
    """Three submissions: ada (the fixture result), bob (all softmax passes), cy (gradients
    off by different amounts, and one crash)."""
    ada = build_result()
    bob = build_result()
    sm = bob.exercises[0].checks
    sm[1] = make_check("softmax.gradient", "passed", 2.5, 2.5, "ok", kind="gradient")
    cy = build_result()
    cy.exercises[0].checks[1].message = "gradient of W_out off by 0.5 at index (1, 2)"
    cy.exercises[0].checks[0] = make_check("softmax.values", "error", 0, 2, "ValueError: boom")
    ada.exercises[0].checks[1].message = "gradient of W_out off by 0.31 at index (17, 3)"
    return {"cy": cy, "ada": ada, "bob": bob}


def _by(rows: list[dict], **match) -> dict:
    (row,) = [r for r in rows if all(r[k] == v for k, v in match.items())]
    return row


def test_normalize_message():
    assert normalize_message("off by 0.31 at index (17, 3)") == "off by # at index (#, #)"
    assert normalize_message("off by -1.5e-06  at\n[2]") == "off by # at [#]"
    # numbers inside identifiers tell different failures apart
    assert normalize_message("expected float64, got float32 in W1") == (
        "expected float64, got float32 in W1")


def test_submission_scores_and_statistics(cohort):
    s = summarize(cohort)
    assert s["schema_version"] == "1.2" and s["count"] == 3
    assert [r["name"] for r in s["submissions"]] == ["ada", "bob", "cy"]
    scores = {r["name"]: r["score"] for r in s["submissions"]}
    assert scores == {"ada": 6, "bob": 8.5, "cy": 4}
    assert s["score"]["mean"] == pytest.approx(18.5 / 3)
    assert s["score"]["median"] == 6
    assert (s["score"]["min"], s["score"]["max"], s["score"]["max_score"]) == (4, 8.5, 16)
    ada = _by(s["submissions"], name="ada")
    assert ada["statuses"]["not_implemented"] == 1 and ada["fraction"] == pytest.approx(6 / 16)
    assert ada["errors"] == ["broken: ImportError: cannot import name 'rnn_step' from <student>"]


def test_question_pass_rates(cohort):
    qs = summarize(cohort)["questions"]
    softmax = _by(qs, exercise="word_vectors", question="softmax")
    assert (softmax["passed"], softmax["graded"]) == (1, 3)  # only bob passed both checks
    assert softmax["pass_rate"] == pytest.approx(1 / 3)
    assert softmax["mean_score"] == pytest.approx((2 + 4.5 + 0) / 3)
    assert softmax["max_score"] == 4.5
    assert _by(qs, question="cbow")["pass_rate"] == 0


def test_check_pass_rates_and_common_failures(cohort):
    checks = summarize(cohort)["checks"]
    grad = _by(checks, id="softmax.gradient")
    assert (grad["passed"], grad["graded"]) == (1, 3)
    assert grad["statuses"]["failed"] == 2 and grad["statuses"]["passed"] == 1
    (top,) = grad["common_failures"]  # two messages differing only in numbers: one entry
    assert top["count"] == 2
    assert top["message"] == "gradient of W_out off by # at index (#, #)"
    assert top["example"].startswith("gradient of W_out off by")
    values = _by(checks, id="softmax.values")
    assert values["pass_rate"] == pytest.approx(2 / 3)
    assert values["common_failures"] == [
        {"message": "ValueError: boom", "count": 1, "example": "ValueError: boom"}]
    assert _by(checks, id="lm.perplexity")["common_failures"] == []


def test_top_three_failures_most_common_first(build_result, make_check):
    results = {}
    messages = ["a 1", "a 2", "a 3", "b 1", "c", "b 2", "d 1", "d 9"]  # a:3, b:2, d:2, c:1
    for i, msg in enumerate(messages):
        r = build_result()
        r.exercises = [ExerciseResult("ex", "Ex", [make_check("q.c", "failed", 0, 1, msg)])]
        results[f"s{i}"] = r
    (row,) = summarize(results)["checks"]
    assert [(f["message"], f["count"]) for f in row["common_failures"]] == [
        ("a #", 3), ("b #", 2), ("d #", 2)]


def test_summary_is_json(cohort):
    s = summarize(cohort)
    assert json.loads(json.dumps(s, allow_nan=False)) == s


def test_empty_cohort():
    s = summarize({})
    assert s["count"] == 0 and s["score"]["mean"] is None
    assert s["submissions"] == s["questions"] == s["checks"] == []
    assert "Submissions (0)" in render_cohort_table(s)


def test_render_cohort_table(cohort):
    text = render_cohort_table(summarize(cohort))
    assert "\x1b" not in text
    for name in ("ada", "bob", "cy"):
        assert name in text
    assert "mean 6.167, median 6, min 4, max 8.5 of 16" in text
    assert "1/3 (33%)" in text
    assert "2x gradient of W_out off by # at index (#, #)" in text
    (row,) = [line for line in text.splitlines() if "softmax.gradient" in line]
    assert "word_vectors" in row and "1/3 (33%)" in row


def test_each_submission_carries_its_points_per_question(cohort):
    rows = {r["name"]: r for r in summarize(cohort)["submissions"]}
    assert rows["bob"]["question_scores"]["word_vectors.softmax"] == 4.5
    assert rows["cy"]["question_scores"]["word_vectors.softmax"] == 0
    for row in rows.values():
        assert sum(row["question_scores"].values()) == pytest.approx(row["score"])


def test_the_gradebook_is_the_summary_as_a_spreadsheet_reads_it(cohort):
    import csv
    import io

    from nlpdojo_reports.gradebook import render_gradebook

    summary = summarize(cohort)
    rows = list(csv.DictReader(io.StringIO(render_gradebook(summary))))
    assert [r["submission"] for r in rows] == ["ada", "bob", "cy"]
    header = list(rows[0])
    assert header[:4] == ["submission", "score", "max_score", "percent"]
    assert header[-1] == "errors"
    assert header[4:-1] == [f"{q['exercise']}.{q['question']}" for q in summary["questions"]]
    bob = rows[1]
    assert (bob["score"], bob["max_score"], bob["percent"]) == ("8.5", "16", "53.12")
    assert bob["word_vectors.softmax"] == "4.5"
    assert rows[0]["errors"].startswith("broken: ImportError")


def test_the_gradebook_never_hands_a_spreadsheet_a_formula(cohort):
    """A submission's folder name and its error messages are the student's text: a cell
    starting a formula (``=HYPERLINK(...)``) would run in the instructor's spreadsheet."""
    import csv
    import io

    from nlpdojo_reports.gradebook import render_gradebook

    cohort["=HYPERLINK(\"http://x\")"] = cohort.pop("cy")
    cohort["ada"].exercises[1].error = "x"
    summary = summarize(cohort)
    summary["submissions"][0]["errors"] = ["@SUM(A1:A9)"]
    rows = list(csv.DictReader(io.StringIO(render_gradebook(summary))))
    names = [r["submission"] for r in rows]
    assert "'=HYPERLINK(\"http://x\")" in names
    assert rows[0]["errors"] == "'@SUM(A1:A9)"


def test_names_that_differ_only_in_normalisation_read_apart(build_result):
    """Two folders a Linux file system tells apart (José composed and decomposed) are two
    submissions: the table shows the decomposed one's combining mark as an escape, in the
    submissions and in the failure clusters alike."""
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    text = render_cohort_table(summarize({composed: build_result(),
                                          decomposed: build_result()}))
    assert "Jose\\u0301" in text and composed in text
    assert decomposed not in text
    clusters = text[text.index("Failures clustered by pattern"):]
    assert any(composed in line and "Jose\\u0301" in line for line in clusters.splitlines())


def test_a_questions_points_are_summed_without_float_noise(cohort, make_check):
    """A question's points split in float shares (0.3, 0.15...) summed to 3.000000000000001
    in the summary; its totals are rounded as a result's are."""
    for result in cohort.values():
        result.exercises[0].checks[:2] = [
            make_check("softmax.values", "passed", 0.1 * 3, 0.1 * 3, "ok"),
            make_check("softmax.gradient", "passed", 0.2 * 3, 0.2 * 3, "ok", kind="gradient")]
    assert 0.1 * 3 + 0.2 * 3 != 0.9  # the noise this is about
    softmax = _by(summarize(cohort)["questions"], question="softmax")
    assert softmax["max_score"] == 0.9 and softmax["mean_score"] == 0.9
