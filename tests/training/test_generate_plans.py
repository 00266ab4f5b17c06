"""The training kit's text generation and its two metric plans, on toy models and a fake
context: every sentence stops at ``</s>``, ``<s>`` is never drawn, a prompt is continued; a
language model's plan scores a stretch of the test stream and a classifier's a share of the
test split, both drawn from the input seed, with the floors and the shape errors a check
reports."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from nlpdojo_autograder.authoring import CheckFailure
from nlpdojo_autograder.training import (
    TokenStreams,
    classifier_plan,
    generate,
    language_model_plan,
    majority_share,
    stream_targets,
    training_seed,
)


class CountingLM:
    """Always predicts the word after the last one (``</s>`` after ``c``)."""

    tokens = ("<s>", "a", "b", "c", "</s>")

    def begin(self, batch):
        return np.zeros((batch, 1), np.int64)  # <s>

    def next_scores(self, history):
        nxt = np.minimum(history[:, -1] + 1, 4)  # (B,)
        scores = np.full((len(history), 5), -20.0)
        scores[np.arange(len(history)), nxt] = 0.0
        scores[:, 0] = 5.0  # <s> would win if it were not masked
        return scores


def argmax(scores, rng, temperature, top_k):
    return scores.argmax(axis=1)


def test_generation_masks_bos_stops_at_eos_and_continues_a_prompt():
    assert generate(CountingLM(), argmax, sentences=2, max_words=10, temperature=1.0,
                    top_k=None, seed=0) == [["a", "b", "c"], ["a", "b", "c"]]
    assert generate(CountingLM(), argmax, sentences=1, max_words=2, temperature=1.0,
                    top_k=None, seed=0) == [["a", "b"]]
    assert generate(CountingLM(), argmax, sentences=1, max_words=5, temperature=1.0,
                    top_k=None, seed=0, prompt=["b"]) == [["c"]]


CTX = SimpleNamespace(input_seed=3, base_seed=5)


def test_a_language_model_plan_scores_a_fresh_stretch():
    rng = np.random.default_rng(0)
    data = TokenStreams(rng.integers(0, 6, 5000), rng.integers(0, 6, 3000),
                        ("a", "b", "c", "d", "</s>", "<UNK>"))
    plan = language_model_plan(
        CTX, data, salt=1, train=("m", "train"), score=("m", "score"), options={"x": 1},
        score_options={}, shapes={"w": (6, 2), "b": (2,)}, heldout_tokens=1000,
        probe_tokens=100, targets=lambda ids: stream_targets(ids, 10, 9))
    assert len(plan.heldout) == 1000 and len(plan.probe) == 100
    assert plan.init["w"].shape == (6, 2) and not plan.init["b"].any()
    n = len(stream_targets(plan.heldout, 10, 9))
    assert plan.measure(np.full(n, np.log(0.5)))["perplexity"] == pytest.approx(2.0)
    # the start and the training seed are the input seed's (fresh in CI), not the base seed's:
    # a trajectory from a start known before grading cannot match; the trainer is handed a
    # hash of the input seed, never the seed itself
    assert plan.extra["unigram"] > 1.0 and plan.seed == training_seed(CTX) != 3
    other_ctx = SimpleNamespace(input_seed=4, base_seed=5)
    other = language_model_plan(
        other_ctx, data, salt=1, train=("m", "train"),
        score=("m", "score"), options={}, score_options={}, shapes={"w": (6, 2)},
        heldout_tokens=1000)
    assert other.seed == training_seed(other_ctx)
    assert not np.array_equal(other.init["w"], plan.init["w"])
    with pytest.raises(CheckFailure, match=f"scored 3 held-out tokens; {n} were expected"):
        plan.measure(np.zeros(3))
    with pytest.raises(CheckFailure, match="above 0"):
        plan.measure(np.ones(n))
    again = language_model_plan(CTX, data, salt=1, train=("m", "train"), score=("m", "score"),
                                options={}, score_options={}, shapes={}, heldout_tokens=1000)
    assert np.array_equal(again.heldout, plan.heldout)  # the same input seed, the same text


def test_a_classifier_plan_scores_a_fresh_share():
    rng = np.random.default_rng(0)
    ids, lengths, labels = rng.integers(0, 9, (50, 4)), rng.integers(1, 5, 50), rng.integers(
        0, 2, 50)
    plan = classifier_plan(
        CTX, salt=2, train=("m", "train"), score=("m", "score"), train_inputs=(ids, lengths),
        train_labels=labels, test_inputs=(ids[:20], lengths[:20]), test_labels=labels[:20],
        classes=2, probe=5, shapes={"w": (9, 2)}, options={}, score_options={},
        floors=lambda y, sample: {"majority": majority_share(y)}, items="held-out sentences")
    assert len(plan.train_args) == 3 and plan.train_args[2] is labels
    heldout_ids, heldout_lengths = plan.heldout
    assert heldout_ids.shape == (16, 4) and heldout_lengths.shape == (16,)
    assert plan.probe[0].shape == (5, 4)
    sample = [np.flatnonzero((ids[:20] == row).all(axis=1))[0] for row in heldout_ids]
    truth = labels[:20][sample]
    scores = np.stack([1.0 - truth, truth.astype(float)], axis=1)
    assert plan.measure(scores)["accuracy"] == 1.0
    assert plan.extra["majority"] == majority_share(truth)
    with pytest.raises(CheckFailure, match=r"the classifier gave scores of shape \(16, 3\) for "
                                           r"16 held-out sentences; expected \(16, 2\)"):
        plan.measure(np.zeros((16, 3)))
