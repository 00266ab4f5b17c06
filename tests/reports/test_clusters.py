"""Failures clustered by pattern (issue 14, item 4), on messages the grader really wrote:
copied from `grade softmax naive_softmax --submissions` on copies of the reference with a
transposed and a doubled gradient of ``outside_vectors``."""

from __future__ import annotations

from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult
from nlpdojo_reports.clusters import (
    NAMED,
    cluster_failures,
    cluster_title,
    diagnoses,
    kind_of,
    normalize_pattern,
)
from nlpdojo_reports.cohort import render_cohort_table, summarize

SHAPE_T = "grad_outside_vectors has shape ({}), expected ({}) (the transposed shape)"
GRAD_T = ("dL/doutside_vectors: your gradient equals the true one transposed (shape ({}) instead "
          "of ({}))\nSwap the matmul operands (x.T @ g rather than g.T @ x), or transpose the "
          "result.")
VALUE_2X = ("grad_outside_vectors: 50 of 50 entries differ; worst at [{}]: yours {}, expected {}; "
            "yours is twice the expected one")
GRAD_2X = ("dL/doutside_vectors: max relative error 0.5 at [{}] (yours {}, numerical {}); your "
           "gradient is twice the true one\n50 of 50 checks failed (checked all 50 coordinates; a "
           "check passes when relative error < 1e-05 or absolute error < 1e-08). Typical cause: a "
           "term counted twice, or d(x²)/dx = 2x where the loss has ½x².")


def _grads(diagnosis: str | None) -> dict:
    return {"gradients": [
        {"name": "center_vec", "passed": True, "diagnosis": None},
        {"name": "outside_vectors", "passed": diagnosis is None, "diagnosis": diagnosis}]}


def _check(cid: str, status: str, message: str = "", kind: str = "value",
           details: dict | None = None) -> CheckResult:
    return CheckResult(id=cid, question=cid.split(".")[0], kind=kind,
                       score=1.0 if status == "passed" else 0.0, max_score=1.0, status=status,
                       message=message, details=details or {})


def _result(checks: list[CheckResult]) -> GradingResult:
    return GradingResult(exercises=[ExerciseResult("word_vectors", "Word vectors", checks)],
                         backend="numpy", device="cpu", submission="x", seeds={}, versions={},
                         options={})


def transposed(v: str, e: str) -> list[CheckResult]:
    return [
        _check("softmax.values", "passed", "ok"),
        _check("naive_softmax.values", "failed", SHAPE_T.format(v, e)),
        _check("naive_softmax.gradient", "failed", GRAD_T.format(v, e), "gradient",
               _grads(f"your gradient equals the true one transposed (shape ({v}) instead of "
                      f"({e}))")),
        _check("naive_softmax.hidden", "failed", SHAPE_T.format(v, e)),
    ]


def doubled(i: str, y: str, x: str) -> list[CheckResult]:
    return [
        _check("softmax.values", "passed", "ok"),
        _check("naive_softmax.values", "failed", VALUE_2X.format(i, y, x)),
        _check("naive_softmax.gradient", "failed", GRAD_2X.format(i, y, x), "gradient",
               _grads("your gradient is twice the true one")),
        _check("naive_softmax.hidden", "failed", VALUE_2X.format(i, y, x)),
    ]


def test_normalize_pattern_replaces_shapes_indices_numbers_and_quoted_values():
    assert normalize_pattern(SHAPE_T.format("5, 10", "10, 5")) == (
        "grad_outside_vectors has shape (…), expected (…) (the transposed shape)")
    assert normalize_pattern("worst at [4, 2]: yours -2.65304, expected 1e-05") == (
        "worst at […]: yours #, expected #")
    assert normalize_pattern("softmax() returned 'abc' for \"x\" (3,)") == (
        "softmax() returned '…' for '…' (…)")
    # identifiers keep their digits; different shapes of the same pattern normalise alike
    assert normalize_pattern("expected float64, got float32 in W1") == (
        "expected float64, got float32 in W1")
    assert (normalize_pattern(SHAPE_T.format("3, 7", "7, 3"))
            == normalize_pattern(SHAPE_T.format("5, 10", "10, 5")))


def test_kind_of_the_grader_diagnoses():
    assert kind_of("your gradient equals the true one transposed") == "transposed"
    assert kind_of(SHAPE_T) == "transposed"
    assert kind_of("yours is twice the expected one") == "factor"
    assert kind_of("your gradient has shape (…), but x has shape (…)") == "shape"
    assert kind_of("your gradient is all zeros") == "zeros"
    assert kind_of("softmax() changed its argument '…' in place") == "in place"
    assert kind_of("ValueError: boom") is None


def test_diagnoses_per_kind_of_check():
    grad = doubled("4, 2", "0.00279", "0.0014")[2]
    assert diagnoses(grad) == ["dL/doutside_vectors: your gradient is twice the true one"]
    value = doubled("4, 4", "-2.65304", "-1.32652")[1]
    assert diagnoses(value) == ["grad_outside_vectors: yours is twice the expected one"]
    assert diagnoses(_check("a.b", "not_implemented", "naive_softmax: not implemented yet")) == [
        "not implemented yet"]
    timeout = _check("a.b", "timeout", "took longer than 30 s and was stopped (at softmax.py "
                     "line 12: while True:)")
    assert diagnoses(timeout) == ["took longer than # s and was stopped"]
    error = _check("a.b", "error", "ZeroDivisionError: division by zero\n  File softmax.py")
    assert diagnoses(error) == ["ZeroDivisionError: division by zero"]
    # the student's line of code, parentheses and all, is not the pattern: two students'
    # log of an underflowed probability, each in words of their own, are one diagnosis
    mine, theirs = (_check("a.b", "error", f"FloatingPointError: divide by zero encountered in "
                           f"log (at naive_softmax.py line {n}: loss = -xp.log({v}[o]))")
                    for n, v in ((31, "p"), (40, "probs")))
    called = _check("a.b", "error", "ValueError: bad shape (at layers.py line 9: raise "
                    "ValueError(msg), called from model.py line 3: h = f(x))")
    assert diagnoses(mine) == diagnoses(theirs) == [
        "FloatingPointError: divide by zero encountered in log"]
    assert diagnoses(called) == ["ValueError: bad shape"]


def test_one_line_per_mistake_across_checks_and_students():
    results = {
        "ada": _result(transposed("5, 10", "10, 5")),
        "bo": _result(transposed("3, 8", "8, 3")),  # other shapes: the same mistake
        "cy": _result(doubled("4, 4", "-2.65304", "-1.32652")),
        "di": _result(transposed("5, 10", "10, 5")[:1]),  # passes what it has
        "ed": _result([_check("naive_softmax.values", "error", "ValueError: 'x' is bad"),
                       _check("naive_softmax.hidden", "error", "ValueError: 'y' is bad")]),
    }
    clusters = cluster_failures(results)
    assert [(c["question"], c["kind"], c["count"]) for c in clusters] == [
        ("naive_softmax", "transposed", 2), ("naive_softmax", "factor", 1),
        ("naive_softmax", None, 1)]
    top = clusters[0]
    assert top["submissions"] == ["ada", "bo"]
    assert top["checks"] == {"naive_softmax.gradient": 2, "naive_softmax.hidden": 2,
                             "naive_softmax.values": 2}
    assert {p["diagnosis"] for p in top["patterns"]} == {
        "grad_outside_vectors has shape (…), expected (…) (the transposed shape)",
        "dL/doutside_vectors: your gradient equals the true one transposed (shape (…) instead "
        "of (…))"}
    assert cluster_title(top).startswith("naive_softmax: transposed (")
    assert cluster_title(top).endswith("— 2 students")
    assert clusters[2]["diagnosis"] == "ValueError: '…' is bad"  # quoted values merged
    assert clusters[2]["checks"] == {"naive_softmax.hidden": 1, "naive_softmax.values": 1}


def test_a_real_mistake_comes_before_work_not_started_however_many():
    """An operator's finding: ten "not implemented" rows came before the one real bug."""
    stubs = {f"s{i}": _result([_check("naive_softmax.values", "not_implemented",
                                      "naive_softmax: not implemented yet")]) for i in range(10)}
    clusters = cluster_failures({**stubs, "ada": _result(transposed("5, 10", "10, 5"))})
    assert [(c["kind"], c["count"]) for c in clusters] == [
        ("transposed", 1), ("not implemented", 10)]
    assert clusters[-1]["diagnosis"] == "not implemented yet"


def test_the_summary_carries_the_clusters_and_the_table_shows_them():
    results = {"ada": _result(transposed("5, 10", "10, 5")),
               "cy": _result(doubled("4, 4", "-2.65304", "-1.32652"))}
    summary = summarize(results)
    assert summary["schema_version"] == "1.2"
    assert [c["kind"] for c in summary["failure_clusters"]] == ["factor", "transposed"]
    text = render_cohort_table(summary, width=200)
    assert "Failures clustered by pattern" in text
    assert "naive_softmax: transposed" in text


def test_nothing_failed_means_no_cluster():
    ok = {"ada": _result([_check("softmax.values", "passed", "ok")])}
    assert cluster_failures(ok) == []
    assert cluster_failures({}) == []


#: what the rnn_variants checks wrote for an LSTM cell whose backward leaves out the path from
#: h to c (``grade rnn_variants.lstm_cell --submissions``): three checks name the mistake, three
#: fail in words of their own
H_TO_C = ("a backward that leaves out the path from h to c: c reaches the loss directly (dL/dc) "
          "and through h = o ⊙ tanh(c), so dL/dc += dL/dh ⊙ o ⊙ (1 − tanh²(c)) before it goes "
          "on to the gates and c_prev")
DIRECT = "a backward that leaves out the direct path from h to h_prev"


def lstm_without_h_to_c(worst: str) -> list[CheckResult]:
    named = {"mistake": H_TO_C}
    return [
        _check("lstm_cell.values", "failed", f"Your outputs are exactly those of {H_TO_C}. "
               f"grad bias: 7 of 20 entries differ; worst at [{worst}]", details=named),
        _check("lstm_cell.gradients", "failed", f"dL/dbias: max relative error 1.7 at [{worst}] "
               "(yours -0.0668, numerical 0.0997)", "gradient",
               {"gradients": [{"name": "bias", "passed": False, "diagnosis": None}]}),
        _check("lstm_cell.repeated", "failed", "dL/dbias: max relative error 0.32 along a "
               "random direction (yours -0.65, numerical -0.443)", "gradient"),
        _check("lstm_cell.accumulate", "failed", "the gradient of weight_x, weight_h, bias "
               "after one backward pass is not right yet"),
        _check("lstm_cell.torch", "failed", "against torch.nn.LSTMCell on the same parameters "
               f"and inputs: your outputs are exactly those of {H_TO_C}.", details=named),
        _check("lstm_cell.hidden", "failed", f"Your outputs are exactly those of {H_TO_C}.",
               details=named),
    ]


def test_a_named_mistake_is_one_cluster_of_every_failure_of_its_question():
    """A check that names the mistake (details["mistake"]) gathers the question's other
    failures of that submission: one LSTM bug was six clusters, one per check's wording."""
    results = {"dave": _result(lstm_without_h_to_c("10")),
               "erin": _result(lstm_without_h_to_c("3")),
               # another mistake on the same question, named by one check only
               "finn": _result([_check("lstm_cell.values", "failed", "x", details={
                   "mistake": DIRECT}), _check("lstm_cell.repeated", "failed", "y")]),
               # the same question failed without a name: clustered as before
               "gus": _result(transposed("5, 10", "10, 5"))}
    clusters = cluster_failures(results)
    named = [c for c in clusters if c["kind"] == NAMED]
    assert [(c["question"], c["diagnosis"], c["submissions"]) for c in named] == [
        ("lstm_cell", H_TO_C, ["dave", "erin"]), ("lstm_cell", DIRECT, ["finn"])]
    top = named[0]
    assert top["checks"] == {f"lstm_cell.{n}": 2 for n in (
        "accumulate", "gradients", "hidden", "repeated", "torch", "values")}
    assert top["patterns"] == [{"diagnosis": H_TO_C, "count": 2}]
    assert top["example"].startswith("Your outputs are exactly those of")  # a naming check's
    assert named[1]["checks"] == {"lstm_cell.repeated": 1, "lstm_cell.values": 1}
    assert cluster_title(top) == f"lstm_cell: named mistake ({H_TO_C}) — 2 students"
    assert [c["kind"] for c in clusters if c["question"] == "naive_softmax"] == ["transposed"]
