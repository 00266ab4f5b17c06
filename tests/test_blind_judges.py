"""The release's probe of checks that need the reference's values (``release/blind_judges.py``):
a judge that compares with the reference, or with an oracle its run computed in the grader,
fails against wrong figures; one that reads neither passes, and is named."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring.checks import Check, Verdict
from nlpdojo_autograder.authoring.compare import MISTAKE_KEY, compare_payloads
from nlpdojo_autograder.authoring.context import ORACLE_DIGEST
from nlpdojo_autograder.grading.runner import Outcome
from nlpdojo_autograder.release.blind_judges import blind_judges, poisoned

TORCH = "torch|"


def _check(name: str, judge, points: float = 1.0, needs_expected: bool = True) -> Check:
    return Check("q", name, name, points, "custom", collect=lambda ctx: {}, judge=judge,
                 needs_expected=needs_expected)


def _mine(payload):
    return {k: v for k, v in payload.items() if not k.startswith(TORCH)}


def _judges():
    def against_expected(actual, expected):
        return compare_payloads(_mine(actual), _mine(expected), rtol=1e-6, atol=1e-9)

    def against_oracle(actual, expected):  # torch's outputs, run in the grader, decide
        oracle = {k[len(TORCH):]: v for k, v in actual.items()
                  if k.startswith(TORCH) and not k.endswith(ORACLE_DIGEST)}
        return compare_payloads(_mine(actual), oracle, rtol=1e-6, atol=1e-9)

    def finite_only(actual, expected):  # reads neither
        return Verdict(bool(np.isfinite(actual["out"]).all()), "finite")

    def above_the_reference(actual, expected):  # a threshold relative to the reference
        return Verdict(float(actual["score"]) >= float(expected["score"]) - 0.01, "score")

    return {"expected": against_expected, "oracle": against_oracle, "blind": finite_only,
            "threshold": above_the_reference}


def _outcome() -> Outcome:
    out = np.array([[0.5, -1.5], [2.0, 0.0]])
    return Outcome(status="ok", arrays={"out": out, TORCH + "out": out.copy()},
                   scalars={"score": 0.8, TORCH + ORACLE_DIGEST: "abc123", "count": 3})


def test_only_the_judge_that_reads_neither_the_reference_nor_an_oracle_is_named():
    checks = [_check(name, judge) for name, judge in _judges().items()]
    outcomes = {c.id: _outcome() for c in checks}
    problems = blind_judges(checks, outcomes)
    assert len(problems) == 1 and problems[0].startswith("q.blind: needs the reference's values")
    assert "oracle=" in problems[0] and "right=(rtol, atol)" in problems[0]


def test_checks_without_points_without_the_reference_or_not_completed_are_not_probed():
    blind = _judges()["blind"]
    checks = [_check("free", blind, points=0.0), _check("own", blind, needs_expected=False),
              _check("failed", blind)]
    outcomes = {c.id: _outcome() for c in checks}
    outcomes["q.failed"] = Outcome(status="error", message="broke")
    assert blind_judges(checks, outcomes) == []


def test_every_figure_is_made_wrong_both_ways_and_digests_and_mistakes_kept():
    outcome = Outcome(status="ok", arrays={
        "x": np.array([1.0, -2.0, 0.0]), "ids": np.array([3, 4]), "mask": np.array([True]),
        MISTAKE_KEY + "0|x": np.array([9.0])}, scalars={"s": "text", "n": 2, "f": 0.0, "b": False,
                                                   "p" + ORACLE_DIGEST: "d"})
    up, down = poisoned(outcome, 1), poisoned(outcome, -1)
    assert np.allclose(up.arrays["x"], [2.5, 0.5, 0.5])  # larger, the order kept
    assert np.allclose(down.arrays["x"], [-2.5, 3.5, -0.5])  # reflected, the order reversed
    assert up.arrays["ids"].tolist() == [7, 9] and down.arrays["ids"].tolist() == [-7, -9]
    assert up.arrays["mask"].tolist() == [False]
    assert up.arrays[MISTAKE_KEY + "0|x"].tolist() == [9.0]
    assert up.scalars["s"] != "text" and up.scalars["n"] == 5 and down.scalars["f"] == -0.5
    assert up.scalars["b"] is True and up.scalars["p" + ORACLE_DIGEST] == "d"


def test_texts_and_ranks_are_made_wrong_too():
    """An instructor's trial: a judge of tokens (a string array) and one of the most frequent
    n-gram (the order of integer counts) were refused however they compared: string arrays
    were left as they were and integers kept their order."""
    def tokens(actual, expected):
        return compare_payloads(actual, expected, rtol=0, atol=0)

    def top(actual, expected):  # the most frequent n-gram is the reference's
        return Verdict(int(np.argmax(actual["counts"])) == int(np.argmax(expected["counts"])),
                       "top")

    outcome = Outcome(status="ok", arrays={"tokens": np.array(["the", "cat"]),
                                           "counts": np.array([3, 7, 2])})
    checks = [_check("tokens", tokens), _check("top", top)]
    assert blind_judges(checks, {c.id: outcome for c in checks}) == []
