"""The judges of the count-model checks (``course/language_models/smoothing.py`` and
``sampling.py``) on hand-made evidence: what passes, what fails, and what the failure message
teaches (the grader end to end is in tests/grading/test_language_models_grading.py)."""

from __future__ import annotations

import numpy as np

from nlpdojo_course.language_models import sampling, smoothing


def _sum_judge():
    return smoothing._sums("absolute_discount_log_probs", (2,))[1]


def test_sums_to_one_passes_within_1e_9_and_says_which_way_it_is_off():
    judge = _sum_judge()
    assert judge({"n=2, context [3]": np.asarray(1.0 + 1e-12)}, None).passed
    more = judge({"n=2, context [3]": np.asarray(1.3)}, None)
    assert not more.passed and "1.3" in more.message and "more than 1" in more.message
    assert "discount subtracted" in more.message
    less = judge({"n=2, context [3]": np.asarray(0.8)}, None)
    assert not less.passed and "less than 1" in less.message and "γ = 1" in less.message
    assert not judge({"n=2, context [3]": np.asarray(np.nan)}, None).passed


def _frequencies(observed, p, name="T=1.0, top_k=None"):
    return {f"{name}|observed": np.asarray(observed),
            f"{name}|expected": np.asarray(p, np.float64) * sampling.DRAWS}


def test_chi_square_accepts_exact_draws_and_rejects_a_wrong_temperature():
    rng = np.random.default_rng(0)
    p = sampling.exact_tempered(np.array([[0.0, 1.0, 2.0, -1.0]]), 0.7, None)[0]
    good = np.bincount(rng.choice(4, sampling.DRAWS, p=p), minlength=4)
    assert sampling._frequency_judge(_frequencies(good, p), None).passed
    wrong = sampling.exact_tempered(np.array([[0.0, 1.0, 2.0, -1.0]]), 1 / 0.7, None)[0]
    bad = np.bincount(rng.choice(4, sampling.DRAWS, p=wrong), minlength=4)
    verdict = sampling._frequency_judge(_frequencies(bad, p), None)
    assert not verdict.passed and "chi-square" in verdict.message
    assert "Divide the scores by T" in verdict.message


def test_draws_that_are_always_one_word_are_named_greedy_or_ignoring_rng():
    """A sampler that returns the argmax was told to divide the scores by T (a student
    trial): every draw of a repeated row its best word is named greedy decoding or one
    uniform number for the batch (which a second trial's sampler drew); another word, one
    uniform number for the batch or a draw that ignores ``rng`` or the scores."""
    scores = np.array([0.0, 1.0, 2.0, -1.0])
    p = sampling.exact_tempered(scores[None], 1.0, None)[0]
    name = "T=1.0, top_k=None"
    greedy = {**_frequencies([0, 0, sampling.DRAWS, 0], p), f"{name}|scores": scores}
    verdict = sampling._frequency_judge(greedy, None)
    assert not verdict.passed and "argmax (greedy decoding)" in verdict.message
    assert "one uniform number for the whole batch" in verdict.message
    assert "Divide the scores by T" not in verdict.message
    fixed = {**_frequencies([sampling.DRAWS, 0, 0, 0], p), f"{name}|scores": scores}
    verdict = sampling._frequency_judge(fixed, None)
    assert not verdict.passed and "all" in verdict.message and "word 0" in verdict.message
    assert "`rng`" in verdict.message and "greedy" not in verdict.message
    assert "one uniform number per row" in verdict.message


def test_a_draw_of_a_zero_probability_word_fails_at_once():
    p = np.array([0.5, 0.5, 0.0])
    verdict = sampling._frequency_judge(_frequencies([9999, 10000, 1], p), None)
    assert not verdict.passed and "word 2" in verdict.message and "probability 0" in verdict.message


def test_a_word_tied_at_the_kth_score_never_drawn_is_named_as_a_tie():
    """The fixed tied row of the frequencies check: a tied word never drawn is named as a tie;
    the top word never drawn is a plain chi-square failure, not called a tie."""
    row, k = sampling.TIED_ROW, sampling.TIED_K
    name = f"ties, top_k={k}"
    p = sampling.exact_tempered(row[None], 1.0, k)[0]
    for dropped, tie in ((2, True), (0, False)):  # word 2 scores 1.0 (the k-th), word 0 3.0
        q = p.copy()
        q[dropped] = 0.0
        observed = np.round(q / q.sum() * sampling.DRAWS).astype(int)
        payload = {**_frequencies(observed, p, name), f"{name}|scores": row}
        verdict = sampling._frequency_judge(payload, None)
        assert not verdict.passed
        assert ("never drawn" in verdict.message) == tie, verdict.message
        assert ("ties with the k-th largest" in verdict.message) == tie, verdict.message


def test_top_k_judge_names_the_row_and_the_rank():
    scores = np.array([[3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0]])
    ok = {"top_k=2|scores": scores, "top_k=2|draws": np.array([1, 3])}
    assert sampling._top_k_judge(ok, None).passed
    bad = {"top_k=2|scores": scores, "top_k=2|draws": np.array([1, 0])}
    verdict = sampling._top_k_judge(bad, None)
    assert not verdict.passed and "row 1" in verdict.message and "ranked 4 by probability" in (
        verdict.message) and "not the smallest" in verdict.message
    # one rank past k: an off-by-one, not the smallest kept (a student trial's k + 1 words)
    off_by_one = {"top_k=2|scores": scores, "top_k=2|draws": np.array([1, 1])}
    verdict = sampling._top_k_judge(off_by_one, None)
    assert not verdict.passed and "off-by-one" in verdict.message, verdict.message


def test_greedy_and_reproducibility_judges():
    scores = np.array([[0.0, 5.0], [2.0, 1.0]])
    assert sampling._greedy_judge({"scores": scores, "T=0": np.array([1, 0]),
                                 "T=1e-4": np.array([1, 0])}, None).passed
    verdict = sampling._greedy_judge({"scores": scores, "T=0": np.array([1, 0]),
                                    "T=1e-4": np.array([0, 0])}, None)
    assert not verdict.passed and "T=1e-4" in verdict.message and "argmax 1" in verdict.message
    rng = np.random.default_rng(5)
    rows = rng.normal(0, 1, (300, 20))
    cdf = np.cumsum(sampling.exact_tempered(rows, 1.0, None), axis=1)  # (300, 20)

    def draws() -> np.ndarray:  # one true draw per row
        return np.minimum(np.sum(cdf < rng.random((300, 1)), axis=1), 19)

    a, b = draws(), draws()
    assert sampling._reproducible_judge({"scores": rows, "a": a, "again": a, "other seed": b},
                                      None).passed
    assert "np.random" in sampling._reproducible_judge(
        {"scores": rows, "a": a, "again": b, "other seed": a}, None).message
    assert not sampling._reproducible_judge({"scores": rows, "a": a, "again": a,
                                             "other seed": a}, None).passed
    # reproducible, but not samples: one word per seed (an attacker's), or the argmax
    same = np.arange(300) % 7
    verdict = sampling._reproducible_judge(
        {"scores": rows, "a": same, "again": same, "other seed": same[::-1]}, None)
    assert not verdict.passed and "not draws of softmax(scores)" in verdict.message
    best = np.argmax(rows, axis=1)
    assert not sampling._reproducible_judge(
        {"scores": rows, "a": best, "again": best, "other seed": (best + 1) % 20}, None).passed


def test_the_oracle_is_the_tempered_top_k_softmax():
    scores = np.array([[1.0, 3.0, 2.0, 2.0]])
    p = sampling.exact_tempered(scores, 0.5, 2)[0]
    assert p[0] == 0 and p[1] > p[2] == p[3] > 0  # ties at the border are kept
    np.testing.assert_allclose(p.sum(), 1.0)
    np.testing.assert_array_equal(sampling.exact_tempered(scores, 0.0, None)[0], [0, 1, 0, 0])


def test_the_greedy_check_accepts_a_near_tie_drawn_either_way_at_tiny_temperature():
    """At T = 1e-4 two scores of a row within ~1e-4 share the probability: the right sampler
    draws the runner-up about as often as the argmax (in 2.3 % of gradings some row of the
    200 had such a pair, and the reference failed); a word of negligible probability still
    fails, and at T = 0 only the argmax passes."""
    scores = np.random.default_rng(3).normal(0, 1, (200, 15))
    best = np.argmax(scores, axis=1)
    runner_up = np.argsort(scores[0])[-2]
    scores[0, runner_up] = scores[0, best[0]] - 5e-5  # a near tie in row 0
    drawn = best.copy()
    drawn[0] = runner_up
    assert sampling._greedy_judge({"scores": scores, "T=0": best, "T=1e-4": drawn},
                                  None).passed
    assert not sampling._greedy_judge({"scores": scores, "T=0": drawn, "T=1e-4": best},
                                      None).passed
    far = best.copy()
    far[1] = np.argmin(scores[1])
    verdict = sampling._greedy_judge({"scores": scores, "T=0": best, "T=1e-4": far}, None)
    assert not verdict.passed and "T=1e-4: row 1 drew" in verdict.message


def _inverse_cdf(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.cumsum(p), u * np.sum(p))


def test_draws_of_identical_rows_must_not_depend_on_position_or_on_each_other():
    """A sampler whose rows' numbers were one spread over the batch, or sorted (a student
    trial), sorted in blocks of three or paired three rows apart as u and 1 − u (an
    adversarial trial), keeps the pooled histogram near perfect; the draws of identical rows
    are tested by position (halves, periods) and against the draw a few rows before."""
    rng = np.random.default_rng(29)
    p = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    n = sampling.DRAWS
    assert sampling._by_position("right", _inverse_cdf(rng.random(n), p)) == ""
    spread = (rng.random() + np.arange(n)) / n
    blocks = np.sort(rng.random(n).reshape(-1, 4), axis=1).reshape(-1)
    paired = rng.random(n)
    pairs = paired[:n // 6 * 6].reshape(-1, 6)  # a view: u[i + 3] = 1 − u[i] in blocks of 6
    pairs[:, 3:] = 1 - pairs[:, :3]
    for name, u, said in (("spread", spread, "where a row sits"),
                          ("sorted in blocks", blocks, "where a row sits"),
                          ("paired", paired, "3 rows before it")):
        message = sampling._by_position(name, _inverse_cdf(u, p))
        assert said in message, (name, message)
