"""The training kit's data preparation and evaluation, against loops written out by hand:
vocabulary orders and ids, BPTT targets, padded rows, held-out samples from the input seed,
perplexity, the add-one unigram floor, accuracy, the majority and most-frequent-label floors,
and the metrics' thresholds and too-good bounds."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from nlpdojo_autograder.training import (
    accuracy,
    accuracy_metric,
    heldout_rng,
    majority_share,
    most_frequent_label_accuracy,
    pad_rows,
    perplexity,
    perplexity_metric,
    sample_indices,
    sentence_tokens,
    stream_targets,
    stretch,
    take,
    token_ids,
    unigram_perplexity,
    vocabulary,
)


def test_vocabulary_orders():
    counts = Counter("b a c b c d a b e".split())  # b 3, a 2, c 2, d 1, e 1
    assert vocabulary(counts) == ["b", "a", "c", "d", "e"]  # ties: first occurrence
    assert vocabulary(counts, order="count-word", min_count=2) == ["b", "a", "c"]
    assert vocabulary(counts, order="word", min_count=2) == ["a", "b", "c"]
    assert vocabulary(counts, order="first", size=2) == ["b", "a"]
    assert vocabulary(Counter(counts)) == [w for w, _ in counts.most_common()]
    with pytest.raises(ValueError, match="unknown vocabulary order"):
        vocabulary(counts, order="random")


def test_token_ids_map_unknown_words_to_one_id():
    ids = token_ids("a x b a".split(), {"a": 0, "b": 1}, 9)
    assert ids.dtype == np.int64 and ids.tolist() == [0, 9, 1, 0]


def test_sentence_tokens_end_every_sentence():
    assert sentence_tokens(["Hello there. It works!  "]) == [
        "hello", "there", ".", "</s>", "it", "works", "!", "</s>"]


def test_stream_targets_are_what_a_stream_model_predicts_in_its_order():
    ids = np.arange(23)
    streams, bptt = 2, 3
    length = len(ids) // streams  # 11: rows 0..10 and 11..21
    rows = [ids[b * length:(b + 1) * length] for b in range(streams)]
    expected = [rows[b][1 + k * bptt + t] for k in range((length - 1) // bptt)
                for b in range(streams) for t in range(bptt)]
    assert stream_targets(ids, streams, bptt).tolist() == expected


def test_pad_rows_and_take():
    ids = pad_rows(np.array([5, 6, 7, 8]), np.array([1, 3, 0]), 4)
    assert ids.tolist() == [[5, 0, 0, 0], [6, 7, 8, 0], [0, 0, 0, 0]]
    rows = np.array([2, 0])
    assert take(ids, rows).tolist() == [[0, 0, 0, 0], [5, 0, 0, 0]]
    got = take((ids, np.array([1, 3, 0])), rows)
    assert isinstance(got, tuple) and got[1].tolist() == [0, 1]


def test_heldout_samples_follow_the_input_seed():
    one, two = SimpleNamespace(input_seed=1), SimpleNamespace(input_seed=2)
    a = sample_indices(100, 10, heldout_rng(one, 7))
    assert a.tolist() == sorted(set(a.tolist())) and len(a) == 10
    assert a.tolist() == sample_indices(100, 10, heldout_rng(one, 7)).tolist()
    assert a.tolist() != sample_indices(100, 10, heldout_rng(two, 7)).tolist()
    ids = np.arange(50)
    piece = stretch(ids, 20, heldout_rng(one, 3))
    assert len(piece) == 20 and np.all(np.diff(piece) == 1)
    assert stretch(ids, 80, heldout_rng(one, 3)).tolist() == ids.tolist()  # all there is


def test_perplexity_and_the_unigram_floor():
    assert perplexity(np.log([0.5, 0.25])) == pytest.approx(math.sqrt(8))
    assert math.isnan(perplexity(np.array([]))) and math.isnan(perplexity(np.array([-np.inf])))
    with warnings.catch_warnings():  # past exp's range: inf, said without a warning
        warnings.simplefilter("error")
        assert perplexity(np.array([-800.0, -900.0])) == math.inf
    train, targets = np.array([0, 0, 1, 2]), np.array([0, 1])
    p = np.array([3, 2, 2]) / 7  # (C + 1) / (N + V), V = 3
    assert unigram_perplexity(train, targets, 3) == pytest.approx(
        math.exp(-np.mean(np.log(p[targets]))))
    # <s> (id 2) never predicted: neither counted nor a word that can be predicted
    p = np.array([3, 2]) / 5
    assert unigram_perplexity(train, targets, 3, never=2) == pytest.approx(
        math.exp(-np.mean(np.log(p[targets]))))


def test_accuracy_and_its_floors():
    scores = np.array([[0.1, 0.9], [2.0, 1.0], [0.0, 3.0]])
    assert accuracy(scores, np.array([1, 1, 1])) == pytest.approx(2 / 3)
    assert majority_share(np.array([0, 1, 1, 1])) == 0.75
    assert majority_share(np.array([0, 0, 0, 1])) == 0.75
    # word 2 is tagged 1 twice and 0 once; word 3 never seen; word 1 is <unk>
    got = most_frequent_label_accuracy(
        np.array([2, 2, 2, 4]), np.array([1, 1, 0, 0]), np.array([2, 3, 1, 4]),
        np.array([1, 0, 0, 0]), keys=5, labels=2, unknown=1)
    assert got == 1.0  # unseen and <unk>: the most frequent tag overall (0 and 1 tie: 0)


def test_metrics_thresholds_and_too_good_bounds():
    ppl = perplexity_metric("t", 2.0, within=1.05, too_good=0.8, why="peeks")
    assert ppl.threshold(100.0) == pytest.approx(105.0) and not ppl.higher_is_better
    assert ppl.too_good[0](100.0) == pytest.approx(80.0) and ppl.chance == "unigram"
    acc = accuracy_metric("d", 1.0, title="t", margin=0.03, chance="majority",
                          chance_name="m", too_good=0.06, why="w", floor=0.6)
    assert acc.key == "accuracy" and acc.threshold(0.8) == pytest.approx(0.77)
    assert acc.threshold(0.62) == 0.6 and acc.too_good[0](0.8) == pytest.approx(0.86)


def test_initial_weights_are_xavier_over_every_input_axis():
    """The output is the last axis: a Linear's (in, out) draws with std √(2/(in+out)), a filter
    bank's (k, D, F) with √(2/(k·D+F)); embeddings at 0.1, biases zero."""
    from nlpdojo_autograder.training import initial_parameters

    init = initial_parameters({"linear.weight": (300, 200), "conv.weight": (5, 60, 100),
                               "embedding.weight": (400, 50), "conv.bias": (100,)}, seed=0)
    np.testing.assert_allclose(init["linear.weight"].std(), np.sqrt(2 / 500), rtol=0.02)
    np.testing.assert_allclose(init["conv.weight"].std(), np.sqrt(2 / 400), rtol=0.02)
    np.testing.assert_allclose(init["embedding.weight"].std(), 0.1, rtol=0.02)
    np.testing.assert_array_equal(init["conv.bias"], 0.0)


def test_a_classifier_plan_measures_its_subsets_and_refuses_an_empty_one():
    """``subsets``: the accuracy on the sampled held-out items in each, beside the accuracy
    on all; a subset with no item in the sample is the declaration's mistake, said at once."""
    from nlpdojo_autograder.training import classifier_plan

    ctx = SimpleNamespace(input_seed=1)
    labels = np.array([0, 1] * 10)
    odd = np.arange(20) % 2 == 1  # the items labelled 1
    common = dict(salt=5, train=("m", "train"), score=("m", "score"),
                  train_inputs=np.zeros((4, 3)), train_labels=np.zeros(4, np.int64),
                  test_inputs=np.zeros((20, 3)), test_labels=labels, classes=2, options={},
                  score_options={}, shapes={"w": (3, 2)}, probe=2, share=1.0)
    plan = classifier_plan(ctx, subsets={"ones": odd}, **common)
    scores = np.tile([[1.0, 0.0]], (20, 1))  # always class 0: right on the even items only
    assert plan.measure(scores) == {"accuracy": 0.5, "ones": 0.0}
    with pytest.raises(ValueError, match=r"no item of the subsets \['none'\]"):
        classifier_plan(ctx, subsets={"none": np.zeros(20, bool)}, **common)
