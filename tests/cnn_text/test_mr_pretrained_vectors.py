"""``bench/mr_pretrained_vectors.py`` (Kim's CNN-static, -non-static and -multichannel on MR):
the extended vocabulary is the 10-fold table's plus the words with a vector, the embedding
starts from the vectors (Kim's U[-a, a] for the others), the static row's embedding stays as
it is under the topic's own training loop while every other parameter moves exactly as the
non-static row's, and the multichannel row starts as CNN-rand and keeps its static channel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests._bench import bench_script

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    with bench_script("mr_pretrained_vectors") as module:
        yield module


TRAIN = ["A fine, funny film.", "A dull film", "Funny and fine!", "dull , dull , dull .",
         "The plot is thin."]
HELD = ["A thin but funny plot.", "Gorgeous film", ""]


def test_nothing_known_is_the_tables_vocabulary_and_known_words_are_added(script):
    from nlpdojo_autograder.training import sentence_matrices

    table = sentence_matrices(TRAIN, [1, 0, 1, 0, 0], HELD, [1, 1, 0], max_tokens=60,
                              min_count=2)
    same, words = script.matrices(TRAIN, [1, 0, 1, 0, 0], HELD, [1, 1, 0], set())
    for field in ("train_ids", "train_lengths", "train_labels", "test_ids", "test_lengths",
                  "test_labels", "vocab_size"):
        assert np.array_equal(getattr(same, field), getattr(table, field)), field
    assert words[:2] == ["<pad>", "<unk>"] and len(words) == table.vocab_size

    data, more = script.matrices(TRAIN, [1, 0, 1, 0, 0], HELD, [1, 1, 0],
                                 {"plot", "gorgeous", "film", "absent"})
    assert more[:len(words)] == words  # the table's words keep their ids
    assert more[len(words):] == ["plot", "gorgeous"]  # known, not in the table's vocabulary
    assert more[data.test_ids[1, 0]] == "gorgeous"
    assert np.array_equal(data.train_lengths, table.train_lengths)


def test_the_embedding_starts_from_the_vectors_and_kims_uniform(script):
    rng = np.random.default_rng(0)
    vectors = script.Vectors(["film", "funny", "dull"],
                             rng.normal(0, 0.4, (3, 100)).astype(np.float32), {})
    words = ["<pad>", "<unk>", "dull", "plot", "film"] + [f"w{i}" for i in range(400)]
    init, found = script.embedding_init(words, vectors, np.random.default_rng(1))
    assert init.dtype == np.float32 and init.shape == (len(words), 100)
    assert found.tolist()[:5] == [False, False, True, False, True] and found.sum() == 2
    assert np.array_equal(init[2], vectors.vectors[2]) and np.array_equal(init[4],
                                                                           vectors.vectors[0])
    assert not init[0].any()  # <pad>
    a = np.sqrt(3 * np.var(vectors.vectors))
    rest = init[~found][1:]  # (V - 3, D): U[-a, a], the vectors' variance
    assert np.abs(rest).max() <= a and np.var(rest) == pytest.approx(np.var(vectors.vectors),
                                                                      rel=0.02)


def test_static_freezes_the_embedding_and_changes_nothing_else(script):
    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.cnn_text.polarity_training import train_cnn

    backend = load_backend("numpy", "cpu", "float32")
    rng = np.random.default_rng(2)
    vocab, ids = 30, rng.integers(2, 30, (8, 7))
    lengths, labels = rng.integers(3, 8, 8), rng.integers(0, 2, 8)
    init = rng.uniform(-0.3, 0.3, (vocab, 100)).astype(np.float32)
    trained = {}
    for name in ("static", "non-static"):
        model, frozen = script.VARIANTS[name][1](backend, vocab, init, 3)
        assert np.array_equal(backend.to_numpy(model.embedding.weight.data), init)
        start = model.state_dict()
        train_cnn(backend, script.Trainable(model, frozen), ids, lengths, labels,
                  batch_size=8, epochs=1, lr=0.002, seed=5)  # one Adam step
        trained[name] = model.state_dict()
    static, moving = trained["static"], trained["non-static"]
    assert np.array_equal(static["embedding.weight"], init)
    assert not np.array_equal(moving["embedding.weight"], init)
    # every other parameter took the same step in both rows (the same gradients: the step
    # started from the same values), and it did move
    assert static.keys() == moving.keys() == start.keys()
    for name in static.keys() - {"embedding.weight"}:
        assert np.array_equal(static[name], moving[name]), name
        assert not np.array_equal(static[name], start[name]), name


def test_multichannel_starts_as_cnn_rand_and_keeps_its_static_channel(script):
    """The multichannel row's model (the topic's MultichannelCNN) has CNN-rand's parameters,
    started as CNN-rand's of the same seed but the embedding (the vectors), so its difference
    to CNN-rand is paired; a training step moves its embedding and never its static
    channel."""
    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.cnn_text.polarity_training import train_cnn

    backend = load_backend("numpy", "cpu", "float32")
    rng = np.random.default_rng(4)
    vocab, ids = 30, rng.integers(2, 30, (8, 7))
    lengths, labels = rng.integers(3, 8, 8), rng.integers(0, 2, 8)
    init = rng.uniform(-0.3, 0.3, (vocab, 100)).astype(np.float32)
    model, frozen = script.VARIANTS["multichannel"][1](backend, vocab, init, 3)
    rand = script.mr.build(backend, script.RAND, vocab, seed=3).state_dict()
    start = model.state_dict()
    assert frozen == [] and start.keys() == rand.keys()
    for name in start.keys() - {"embedding.weight"}:
        assert np.array_equal(start[name], rand[name]), name
    assert np.array_equal(start["embedding.weight"], init)
    train_cnn(backend, script.Trainable(model, frozen), ids, lengths, labels, batch_size=8,
              epochs=1, lr=0.002, seed=5)  # one Adam step
    assert np.array_equal(backend.to_numpy(model.static), init)
    assert not np.array_equal(model.state_dict()["embedding.weight"], init)


def test_the_frozen_view_leaves_only_the_frozen_parameters_out(script):
    from nlpdojo.selection import load_backend

    backend = load_backend("numpy", "cpu", "float32")
    model, frozen = script.VARIANTS["static"][1](backend, 12, np.zeros((12, 100), np.float32),
                                                 0)
    view = script.Trainable(model, frozen)
    assert [id(p) for p in view.parameters()] == [id(p) for p in model.parameters()
                                                  if p is not model.embedding.weight]
    assert view.output is model.output and view.training == model.training


def test_the_section_pairs_each_variant_with_cnn_rand_fold_by_fold(script):
    def fold(test, epoch=2):
        return {"test": test, "dev": 0.7, "epoch": epoch, "dev_history": [0.6, 0.7, 0.65],
                "minutes": 1.0, "vocab": 100, "found": 80, "test_tokens_with_vector": 0.8}

    baseline = {"folds": {"cnn": {"0": fold(0.75), "1": fold(0.80), "2": fold(0.70)}}}
    meta = {"word2vec": {**script.WORD2VEC, "corpus": ["pang-lee-reviews"]},
            "vectors": {"tokens": 918_737, "words": 12_625, "seconds": 220.0},
            "runs": {"static": {"date": "2026-11-30", "machine": "here"}},
            "overlap": {"n": 8, "sentences": 9_915, "whole": 3, "shared_ngram": 35}}
    runs = [{"meta": meta, "folds": {"static": {"0": fold(0.70, 3), "1": fold(0.78, 3)},
                                     "non-static": {"0": fold(0.80), "1": fold(0.81),
                                                    "2": fold(0.69)}}}]
    text = script.section(runs, baseline)
    assert "| none | CNN-rand: random vectors, fine-tuned (the table above) | 0.750 ± 0.050 | 3 |" \
        in text
    # static: -0.05 and -0.02 on folds 0, 1; non-static: +0.05, +0.01, -0.01
    assert "| CNN-static: pre-trained vectors, frozen | 0.740 ± 0.057 | 2 | -0.035 ± 0.021 " \
           "(0 of 2) | 3 |" in text
    assert "| 0.767 ± 0.067 | 3 | +0.017 ± 0.031 (2 of 3) |" in text
    assert "best dev accuracy came at the last epoch on 2 of 2 folds" in text
    assert "3 occur in the corpus whole and 35 share an 8-gram" in text


def test_the_committed_section_is_the_committed_results(script):
    import json

    runs = script.every_corpus()
    baseline = json.loads((ROOT / "bench" / "results" / "mr_classifiers.json").read_text())
    assert [r["meta"]["word2vec"]["corpus"] for r in runs] == [
        ["pang-lee-reviews"], ["pang-lee-reviews", "brown", "sotu"]]
    doc = (ROOT / "docs" / "results.md").read_text()
    assert f"{script.BEGIN}\n{script.section(runs, baseline)}\n{script.END}" in doc
