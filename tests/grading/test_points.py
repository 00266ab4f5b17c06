"""Points are the round numbers an instructor would write (issue 26: 0.2824, 0.09412, a topic
worth 41.6, totals like 137.500001): a question's points are split between its checks in
multiples of 0.05 where they can be (0.025 at the finest), summing to exactly the question's
points, equal shares getting equal points; every question keeps the points it had; reports show
points without float noise."""

from __future__ import annotations

from collections import defaultdict

import pytest

from nlpdojo_autograder.authoring.builders import GRAINS, split_points
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult
from nlpdojo_reports.formatting import fmt_points, fmt_score
from nlpdojo_reports.table import TableReporter

#: every question's points, as the course declares them (they must not move)
QUESTIONS = {
    "word_vectors": {"softmax": 4, "naive_softmax": 6, "neg_sampling": 6, "sgns_batch": 6,
                     "skipgram": 4, "sgd": 2, "count_svd": 3, "similarity": 2, "analogy": 2,
                     "plot": 1, "training": 4},
    "neural_networks": {"sigmoid": 1, "tanh": 1, "hard_tanh": 1, "soft_sign": 1, "relu": 1,
                        "leaky_relu": 1, "xavier": 1, "affine": 3, "dropout": 2, "embedding": 2,
                        "softmax_ce": 2, "max_margin": 2, "l2": 1, "sgd": 1, "momentum": 1.5,
                        "adagrad": 1.5, "rmsprop": 1.5, "adam": 2, "schedules": 1,
                        "normalize": 1, "whitening": 2, "preprocess_splits": 1,
                        "gradcheck": 2.5, "window_classifier": 4, "pos_tagging": 3,
                        "window_scoring": 3},
    "language_models": {"ngram_counts": 3, "add_delta": 6, "perplexity": 1, "backoff": 7,
                        "kneser_ney": 7, "sampling": 6.5, "rnn_cell": 2, "rnn": 2.5,
                        "rnn_lm": 7.5, "window_lm": 4, "sentence_encoder": 4,
                        "sentence_classifier": 1, "sentence_polarity": 2},
    "rnn_variants": {"clipping": 1.5, "lstm_cell": 4.5, "gru_cell": 4, "vanishing": 2,
                     "recurrent": 2, "bidirectional": 1.5, "residual": 0.5, "highway": 1.5,
                     "stacked": 2, "dense": 1.5, "lstm_lm": 3, "lstm_lm_perplexity": 2,
                     "bilstm_classifier": 3, "bilstm_polarity": 2},
    "cnn_text": {"conv1d": 3, "pooling": 1.5, "kmax_pooling": 1.5, "local_pooling": 1.5,
                 "max_norm": 1,
                 "kim_cnn": 3, "kim_polarity": 2, "multichannel_cnn": 2.5, "batch_norm": 2.5,
                 "residual_block": 2, "qrnn": 2, "char_cnn": 2, "char_tagging": 3,
                 "vdcnn": 2.5},
}


def _steps(x: float, step: float) -> bool:
    return abs(x / step - round(x / step)) < 1e-9


@pytest.mark.parametrize("topic", sorted(QUESTIONS))
def test_every_check_has_round_points_and_every_question_its_own(topic):
    exercise = get_exercise(topic)
    totals: dict[str, float] = defaultdict(float)
    for check in exercise.checks:
        assert check.points > 0 and _steps(check.points, GRAINS[-1]), (check.id, check.points)
        assert check.points == round(check.points, 6), check.id
        totals[check.question] += check.points
    assert {q: round(t, 9) for q, t in totals.items()} == QUESTIONS[topic]
    result = ExerciseResult(topic, "", [
        CheckResult(id=c.id, question=c.question, kind=c.kind, score=c.points,
                    max_score=c.points, status="passed", message="") for c in exercise.checks])
    assert result.max_score == sum(QUESTIONS[topic].values())  # exactly: no 137.500001


def test_the_course_topics_are_those_recorded_here():
    assert [t for t in exercise_names() if t in QUESTIONS] == list(QUESTIONS)


@pytest.mark.parametrize(("points", "shares", "expected"), [
    # an activation without eval or accumulate checks: 0.8 over values, gradients, repeated,
    # hidden (0.3, 0.3, 0.15, 0.1 of the layer shares) was 0.282353, 0.282353, 0.141176, 0.094118
    (0.8, [0.3, 0.3, 0.15, 0.1], [0.3, 0.3, 0.1, 0.1]),
    (1.0, [0.3, 0.3, 0.15, 0.1], [0.35, 0.35, 0.2, 0.1]),
    # exact shares that are round already stay as they are
    (2.0, [0.4, 0.4, 0.2], [0.8, 0.8, 0.4]),
    (1.5, [0.5, 0.3, 0.2], [0.75, 0.45, 0.3]),
    # a share halfway between two steps of 0.05: the finer grain, equal shares equal points
    (2.5, [0.3, 0.3, 0.15, 0.15, 0.1], [0.75, 0.75, 0.375, 0.375, 0.25]),
    # shares of the checks present that sum to 1.3 (dropout), 0.65 (a stacked wrapper)
    (1.5, [0.3, 0.45, 0.3, 0.15, 0.1], [0.35, 0.5, 0.35, 0.2, 0.1]),
    (1.5, [0.3, 0.3, 0.15, 0.15, 0.15, 0.15, 0.1], [0.3, 0.3, 0.2, 0.2, 0.2, 0.2, 0.1]),
])
def test_split_points_gives_round_parts_that_sum_exactly(points, shares, expected):
    parts = split_points(points, shares)
    assert parts == expected
    assert round(sum(parts), 9) == points


def test_split_points_without_a_round_split_keeps_the_sum():
    thirds = split_points(1.0, [1, 1, 1])  # no grain splits 1 in three equal round parts
    assert round(sum(thirds), 9) == 1.0 and all(_steps(p, GRAINS[-1]) for p in thirds)
    odd = split_points(0.07, [1, 1])  # not a multiple of any grain: exact, rest on the last
    assert odd == [0.035, 0.035] and split_points(1.0, []) == []


def test_points_are_shown_as_written():
    assert fmt_score(137.500001) == "137.5" and fmt_score(166.25) == "166.25"
    assert fmt_score(0.375) == "0.375" and fmt_score(44.000000000000014) == "44"
    assert fmt_score(0.1879851) == "0.188" and fmt_score(-0.0) == "0"
    assert fmt_points(0.35, 0.35) == "0.35/0.35"
    check = CheckResult(id="a.values", question="a", kind="value", score=0.1, max_score=0.35,
                        status="failed", message="")
    result = GradingResult([ExerciseResult("t", "T", [check])], "numpy", "cpu", "x", {}, {}, {})
    text = TableReporter().render(result)
    assert "0.1/0.35" in text and "0.35000" not in text
