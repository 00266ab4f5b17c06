"""Tests of the reference solutions of topic ``word_vectors``: gradients against central
differences (float64), numerical stability, NumPy/torch parity, the trainer, the count-based
baseline, evaluation on hand-made inputs, and the word2vec text format."""

from __future__ import annotations

from functools import partial
from itertools import pairwise

import numpy as np
import pytest

from nlpdojo.arrays import to_numpy
from nlpdojo_solutions.word_vectors import count_based, evaluate, plot, sgd, train
from nlpdojo_solutions.word_vectors.naive_softmax import naive_softmax_loss_and_gradient
from nlpdojo_solutions.word_vectors.negative_sampling import (
    neg_sampling_loss_and_gradient,
    sgns_batch_loss_and_gradients,
    sigmoid,
)
from nlpdojo_solutions.word_vectors.skipgram import skipgram
from nlpdojo_solutions.word_vectors.softmax import softmax

V, D = 7, 4


def numeric_grad(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central differences of scalar ``f`` at ``x`` (float64), every coordinate."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f(x)
        flat[i] = old - h
        minus = f(x)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def assert_grad_close(analytic, numeric) -> None:
    analytic = np.asarray(analytic)
    err = np.abs(analytic - numeric)
    ok = (err < 1e-8) | (err / np.maximum(np.abs(numeric), 1e-12) < 1e-5)
    assert ok.all(), f"max abs error {err.max():.3g} at {np.unravel_index(err.argmax(), err.shape)}"


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return {
        "center": rng.standard_normal((V, D)),
        "outside": rng.standard_normal((V, D)),
        "negs": np.array([1, 3, 3, 5, 1, 6]),  # repeats on purpose
    }


# -- softmax ------------------------------------------------------------------------------------

def test_softmax_values_and_stability():
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0], [-1e4, 0.0, 1e4]])
    out = softmax(x)
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(out[0], e / e.sum())
    np.testing.assert_allclose(out[1], [1 / 3] * 3)
    np.testing.assert_allclose(out[2], [0.0, 0.0, 1.0])
    assert np.isfinite(out).all()
    np.testing.assert_allclose(softmax(np.array([0.0, np.log(3.0)])), [0.25, 0.75])


# -- gradients -----------------------------------------------------------------------------------

def test_naive_softmax_gradients(data):
    vc, U = data["center"][2].copy(), data["outside"].copy()
    loss, g_vc, g_U = naive_softmax_loss_and_gradient(vc, 4, U)
    s = U @ vc
    assert loss == pytest.approx(-np.log(np.exp(s[4]) / np.exp(s).sum()))
    assert_grad_close(g_vc, numeric_grad(lambda v: naive_softmax_loss_and_gradient(v, 4, U)[0], vc))
    assert_grad_close(g_U, numeric_grad(lambda u: naive_softmax_loss_and_gradient(vc, 4, u)[0], U))


def test_neg_sampling_gradients_accumulate_repeats(data):
    vc, U, negs = data["center"][0].copy(), data["outside"].copy(), data["negs"]
    loss, g_vc, g_U = neg_sampling_loss_and_gradient(vc, 2, U, negs)
    expected = -np.log(sigmoid(U[2] @ vc)) - np.log(sigmoid(-U[negs] @ vc)).sum()
    assert loss == pytest.approx(expected)
    f_v = lambda v: neg_sampling_loss_and_gradient(v, 2, U, negs)[0]  # noqa: E731
    f_u = lambda u: neg_sampling_loss_and_gradient(vc, 2, u, negs)[0]  # noqa: E731
    assert_grad_close(g_vc, numeric_grad(f_v, vc))
    assert_grad_close(g_U, numeric_grad(f_u, U))


def test_sgns_batch_gradients_and_matches_single_pairs():
    rng = np.random.default_rng(1)
    B, K = 3, 4
    c, o = rng.standard_normal((B, D)), rng.standard_normal((B, D))
    n = rng.standard_normal((B, K, D))
    loss, gc, coef_o, coef_n = sgns_batch_loss_and_gradients(c, o, n)
    go = coef_o[:, None] * c  # (B, D)     dJ/du_o = coef * v_c
    gn = coef_n[:, :, None] * c[:, None, :]  # (B, K, D)
    for x, g, name in ((c, gc, "center"), (o, go, "outside"), (n, gn, "negatives")):
        def f(value, name=name):
            args = {"center": c, "outside": o, "negatives": n} | {name: value}
            return sgns_batch_loss_and_gradients(
                args["center"], args["outside"], args["negatives"])[0]
        assert_grad_close(g, numeric_grad(f, x.copy()))
    # the batch is the sum of single-pair problems
    total = 0.0
    for b in range(B):
        U = np.concatenate([o[b:b + 1], n[b]])  # (1 + K, D)
        single, g_v, g_U = neg_sampling_loss_and_gradient(c[b], 0, U, np.arange(1, K + 1))
        total += single
        np.testing.assert_allclose(gc[b], g_v, atol=1e-12)
        np.testing.assert_allclose(go[b], g_U[0], atol=1e-12)
        np.testing.assert_allclose(gn[b], g_U[1:], atol=1e-12)
    assert loss == pytest.approx(total)


def test_sgns_batch_stable_for_large_scores():
    c = np.full((2, 3), 100.0)
    loss, gc, co, cn = sgns_batch_loss_and_gradients(c, -c, np.broadcast_to(c[:, None], (2, 2, 3)))
    assert np.isfinite(loss) and loss == pytest.approx(2 * 3 * 30000.0)
    assert np.isfinite(gc).all() and np.isfinite(co).all() and np.isfinite(cn).all()


@pytest.mark.parametrize("use_negatives", [False, True])
def test_skipgram_gradients(data, use_negatives):
    C, U = data["center"].copy(), data["outside"].copy()
    window = np.array([1, 4, 4, 0])  # a repeated outside word
    if use_negatives:
        negs = np.array([[2, 3], [5, 5], [6, 1], [3, 2]])
        kw = {"loss_and_gradient": neg_sampling_loss_and_gradient, "negatives": negs}
    else:
        kw = {}
    loss, g_C, g_U = skipgram(3, window, C, U, **kw)
    assert_grad_close(g_C, numeric_grad(lambda m: skipgram(3, window, m, U, **kw)[0], C))
    assert_grad_close(g_U, numeric_grad(lambda m: skipgram(3, window, C, m, **kw)[0], U))
    assert np.count_nonzero(np.abs(g_C).sum(axis=1)) == 1  # only the center row moves


# -- SGD -----------------------------------------------------------------------------------------

def test_linear_decay():
    assert sgd.linear_decay(0, 100, 0.025) == pytest.approx(0.025)
    assert sgd.linear_decay(50, 100, 0.025) == pytest.approx(0.0125)
    assert sgd.linear_decay(100, 100, 0.025) == pytest.approx(0.025e-4)
    assert sgd.linear_decay(500, 100, 0.1, lr_min=0.01) == pytest.approx(0.01)


def test_sparse_sgd_update_sums_repeats(numpy_backend):
    m = np.ones((4, 2))
    out = sgd.sparse_sgd_update(numpy_backend, m, np.array([1, 3, 1]),
                                np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 20.0]]), 0.5)
    np.testing.assert_allclose(out, [[1, 1], [-4.5, -10], [1, 1], [-0.5, -1]])


# -- NumPy / torch parity ------------------------------------------------------------------------

@pytest.fixture
def numpy_backend():
    from nlpdojo.selection import load_backend

    return load_backend("numpy", dtype="float64")


@pytest.mark.torch
def test_torch_parity(data):
    torch = pytest.importorskip("torch")
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    np_ = partial(to_numpy, copy=False)
    C, U, negs = data["center"], data["outside"], data["negs"]

    def same(a, b):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(np_(y), np_(x), rtol=1e-10, atol=1e-12)

    x = np.random.default_rng(2).standard_normal((3, 5)) * 50
    same([softmax(x)], [softmax(t(x))])
    same(naive_softmax_loss_and_gradient(C[0], 3, U),
         naive_softmax_loss_and_gradient(t(C[0]), 3, t(U)))
    same(neg_sampling_loss_and_gradient(C[1], 2, U, negs),
         neg_sampling_loss_and_gradient(t(C[1]), 2, t(U), torch.as_tensor(negs)))
    rng = np.random.default_rng(3)
    c, o = rng.standard_normal((4, D)), rng.standard_normal((4, D))
    n = rng.standard_normal((4, 3, D))
    same(sgns_batch_loss_and_gradients(c, o, n), sgns_batch_loss_and_gradients(t(c), t(o), t(n)))
    w, ng = np.array([1, 4, 0]), np.array([[2, 3], [5, 5], [6, 1]])
    same(skipgram(3, w, C, U), skipgram(3, w, t(C), t(U)))
    same(skipgram(3, w, C, U, neg_sampling_loss_and_gradient, ng),
         skipgram(3, w, t(C), t(U), neg_sampling_loss_and_gradient, torch.as_tensor(ng)))
    from nlpdojo.selection import load_backend

    tb, nb = load_backend("torch", dtype="float64"), load_backend("numpy", dtype="float64")
    g, rows = rng.standard_normal((5, D)), np.array([0, 2, 2, 6, 0])
    same([sgd.sparse_sgd_update(nb, U.copy(), rows, g, 0.1)],
         [sgd.sparse_sgd_update(tb, t(U), torch.as_tensor(rows), t(g), 0.1)])


# -- trainer -------------------------------------------------------------------------------------

def _toy_corpus(n: int = 30_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A corpus with structure: words come in topic blocks, so co-occurrence is predictable."""
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, 4, size=n // 10)  # 4 topics of 10 words each
    ids = (topics[:, None] * 10 + rng.integers(0, 10, size=(n // 10, 10))).ravel()
    return ids, np.bincount(ids, minlength=40)


def test_window_pairs_dynamic_window():
    ids = np.random.default_rng(5).permutation(20)  # word id != position
    c, o = train.window_pairs(ids, 3, np.random.default_rng(0))
    pos = np.argsort(ids)  # word id -> position
    distance = pos[o] - pos[c]
    assert c.shape == o.shape and 1 <= np.abs(distance).min() and np.abs(distance).max() <= 3
    assert np.all(np.diff(pos[c]) >= 0)  # text order: by center position
    # one reach per center, the same on both sides: a center away from the edges has as many
    # outside words on its left as on its right
    inner = (pos[c] >= 3) & (pos[c] < 17)
    left = np.bincount(pos[c][inner & (distance < 0)], minlength=20)
    right = np.bincount(pos[c][inner & (distance > 0)], minlength=20)
    np.testing.assert_array_equal(left, right)
    c, o = train.window_pairs(ids, 1, np.random.default_rng(0))
    assert c.shape[0] == 2 * 19  # window 1: every neighbour on both sides


def test_the_trainer_interleaves_each_chunks_pairs_so_one_centers_pairs_are_spread(
        numpy_backend):
    """The pairs a chunk trains on are window_pairs' pairs, all of them, in minibatches of at
    most batch_size; in text order a center's pairs sit side by side (one minibatch, one stale
    center vector), interleaved no minibatch holds two pairs of one center position."""
    ids = np.arange(2_000)  # every word once: a center id is a position
    keep = np.ones(ids.size)
    sampler = train.NoiseTable(np.ones(ids.size), np.random.default_rng(0))
    chunk = next(train._chunks(numpy_backend, ids, keep, sampler, 5, 2,
                               np.random.default_rng(3), 128))
    centers, outsides = to_numpy(chunk.centers), to_numpy(chunk.rows)[:, 0]
    same_draws = np.random.default_rng(3)
    same_draws.random(ids.size)  # the chunk's subsampling draw (everything kept)
    text_c, text_o = train.window_pairs(ids, 5, same_draws)
    assert sorted(zip(centers.tolist(), outsides.tolist(), strict=True)) == sorted(
        zip(text_c.tolist(), text_o.tolist(), strict=True))
    assert np.mean(np.diff(text_c) == 0) > 0.5  # text order: most neighbours share a center
    assert chunk.starts[0] == 0 and chunk.starts[-1] == centers.size
    for b, e in pairwise(chunk.starts):
        assert 0 < e - b <= 128
        assert np.unique(centers[b:e]).size == e - b  # no center twice in a minibatch
    # a center's pairs go to consecutive minibatches: each sees the one before's update
    batch_of = np.repeat(np.arange(len(chunk.starts) - 1), np.diff(chunk.starts))
    for center in (100, 1_000):
        assert np.all(np.diff(np.sort(batch_of[centers == center])) == 1)


@pytest.mark.parametrize("pairs, batch_size", [(10, 4), (1_024, 1_024), (1_025, 1_024),
                                               (42_000, 1_024), (1, 8), (0, 8)])
def test_interleaved_pairs_keeps_every_pair_in_minibatches_of_at_most_batch_size(
        pairs, batch_size):
    c, o = np.arange(pairs), np.arange(pairs) + 7
    c2, o2, starts = train.interleaved_pairs(c, o, batch_size)
    assert sorted(c2.tolist()) == c.tolist() and np.array_equal(o2 - c2, np.full(pairs, 7))
    sizes = np.diff(starts)
    assert starts[0] == 0 and starts[-1] == pairs and np.all(sizes <= batch_size)
    assert np.all(sizes > 0) and len(sizes) == -(-pairs // batch_size)


def test_dynamic_window_weights_near_words_more():
    """word2vec's b ~ U{1..W}: a word at distance d is paired with probability (W - d + 1) / W."""
    ids = np.arange(100_000)
    c, o = train.window_pairs(ids, 5, np.random.default_rng(1))
    share = np.bincount(np.abs(o - c), minlength=6)[1:] / (2 * ids.size)  # (5,)
    np.testing.assert_allclose(share, (5 - np.arange(5)) / 5, atol=0.01)


def test_noise_table_follows_unigram_three_quarters():
    counts = np.array([1000, 100, 10, 0])
    draws = train.NoiseTable(counts, np.random.default_rng(0)).sample((200_000,))
    freq = np.bincount(draws, minlength=4) / draws.size
    p = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(freq, p, atol=5e-3)


def test_train_sgns_loss_decreases_and_learns_topics(numpy_backend):
    ids, counts = _toy_corpus()
    res = train.train_sgns(numpy_backend, ids, counts, dim=16, window=3, negatives=4, epochs=2,
                           batch_size=256, lr=0.05, subsample=0, seed=0, progress=False,
                           report_every=20)
    assert res.center_vectors.shape == (40, 16) and res.center_vectors.dtype == np.float32
    assert res.losses[-1] < 0.8 * res.losses[0]
    unit = evaluate.normalize_rows(res.center_vectors)
    sims = unit @ unit.T
    same = np.kron(np.eye(4), np.ones((10, 10))).astype(bool)
    assert sims[same].mean() > sims[~same].mean() + 0.3


@pytest.mark.torch
def test_train_sgns_torch_matches_numpy():
    pytest.importorskip("torch")
    from nlpdojo.selection import load_backend

    ids, counts = _toy_corpus(5_000)
    kw = dict(dim=8, window=2, negatives=3, batch_size=128, subsample=1e-2, seed=3, progress=False)
    a = train.train_sgns(load_backend("numpy", dtype="float32"), ids, counts, **kw)
    b = train.train_sgns(load_backend("torch", dtype="float32"), ids, counts, **kw)
    np.testing.assert_allclose(a.center_vectors, b.center_vectors, atol=1e-4)


# -- count-based ---------------------------------------------------------------------------------

def test_cooccurrence_matrix_small():
    m = count_based.cooccurrence_matrix(np.array([0, 1, 2, 0]), 3, window=1).toarray()
    np.testing.assert_array_equal(m, [[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    m2 = count_based.cooccurrence_matrix(np.array([0, 1, 2, 0]), 3, window=2).toarray()
    np.testing.assert_array_equal(m2, [[0, 2, 2], [2, 0, 1], [2, 1, 0]])
    np.testing.assert_array_equal(m2, m2.T)


def test_ppmi_by_hand():
    counts = np.array([[0.0, 2.0], [2.0, 2.0]])
    got = count_based.ppmi(counts, alpha=1.0).toarray()
    # P(w,c) = n/6, P(w) = (2/6, 4/6), P(c) = (2/6, 4/6)
    with np.errstate(divide="ignore"):
        pmi = np.log((np.array([[0, 2], [2, 2]]) / 6) / (np.outer([2, 4], [2, 4]) / 36))
    np.testing.assert_allclose(got, np.where(pmi > 0, pmi, 0.0))


def test_svd_vectors_separate_topics():
    ids, _ = _toy_corpus(20_000)
    vecs = count_based.svd_vectors(count_based.cooccurrence_matrix(ids, 40, 2), 6, seed=0)
    assert vecs.shape == (40, 6)
    unit = evaluate.normalize_rows(vecs)
    sims = unit @ unit.T
    same = np.kron(np.eye(4), np.ones((10, 10))).astype(bool)
    assert sims[same].mean() > sims[~same].mean() + 0.5
    np.testing.assert_allclose(vecs, count_based.svd_vectors(
        count_based.cooccurrence_matrix(ids, 40, 2), 6, seed=0))


# -- evaluation ----------------------------------------------------------------------------------

def test_nearest_neighbours_and_similarity():
    vecs = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0], [0.7, 0.7]])
    np.testing.assert_array_equal(evaluate.nearest_neighbours(vecs, 0, 3), [1, 4, 2])
    w2i = {w: i for i, w in enumerate("abcde")}
    pairs = [("a", "b", 9.0), ("a", "e", 6.0), ("a", "c", 3.0), ("a", "d", 0.0), ("a", "zz", 5.0)]
    rho, n = evaluate.similarity_spearman(vecs, w2i, pairs)
    assert (rho, n) == (pytest.approx(1.0), 4)
    rho, _ = evaluate.similarity_spearman(vecs, w2i, [(a, b, -s) for a, b, s in pairs])
    assert rho == pytest.approx(-1.0)


def test_analogy_accuracy_3cosadd():
    # king - man + woman = queen in a tiny hand-made space; "a b c d" with d the answer.
    words = ["man", "woman", "king", "queen", "apple"]
    vecs = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0],
                     [0.0, 0.0, -1.0]])
    w2i = {w: i for i, w in enumerate(words)}
    questions = [("man", "woman", "king", "queen"), ("man", "king", "woman", "queen"),
                 ("man", "woman", "king", "apple"), ("man", "woman", "king", "unknown")]
    acc, n = evaluate.analogy_accuracy(vecs, w2i, questions)
    assert (acc, n) == (pytest.approx(2 / 3), 3)
    acc, n = evaluate.analogy_accuracy(vecs, w2i, questions[:1], restrict_vocab=3)
    assert n == 0  # "queen" is outside the 3 most frequent words


def test_plot_words(tmp_path):
    vecs = np.random.default_rng(0).standard_normal((5, 4))
    coords = plot.plot_words(vecs, {w: i for i, w in enumerate("abcde")}, ["a", "c", "e", "x"],
                             tmp_path / "words.png")
    assert coords.shape == (3, 2)
    assert (tmp_path / "words.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    centred = vecs[[0, 2, 4]] - vecs[[0, 2, 4]].mean(0)
    np.testing.assert_allclose(np.abs(coords), np.abs(centred @ np.linalg.svd(centred)[2][:2].T))


# -- word2vec text format ------------------------------------------------------------------------

def test_word2vec_text_format_readable_by_gensim(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    from nlpdojo_course.word_vectors.data import save_word2vec_text

    vecs = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    path = tmp_path / "vectors.txt"
    save_word2vec_text(path, ["the", "état", "c++"], vecs)
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=False)
    assert kv.index_to_key == ["the", "état", "c++"]
    np.testing.assert_allclose(kv["état"], vecs[1], rtol=1e-6)


def test_trusted_grader_metrics_agree_with_the_reference_evaluation():
    """The grader measures trained vectors with its own code (a student release has no
    solutions); it must agree with the reference's evaluate.py."""
    from nlpdojo_course.word_vectors import metrics
    from nlpdojo_solutions.word_vectors import evaluate

    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((60, 8))
    words = [f"w{i}" for i in range(60)]
    word2ind = {w: i for i, w in enumerate(words)}
    pairs = [(words[i], words[j], float(s)) for i, j, s in
             zip(rng.integers(0, 60, 40), rng.integers(0, 60, 40), rng.uniform(0, 10, 40),
                 strict=True)] + [("w1", "oov", 3.0)]
    vectors[30:] = vectors[:30] + 2.0 * rng.standard_normal(8)  # word i+30 = word i + offset
    vectors += 0.3 * rng.standard_normal(vectors.shape)
    questions = [(words[i], words[i + 30], words[j], words[j + 30])
                 for i, j in rng.integers(0, 30, (50, 2)) if i != j]
    accuracy, used = metrics.analogy_accuracy(vectors, word2ind, questions, restrict_vocab=60)
    assert 0.2 < accuracy < 1.0 and used == len(questions)  # a test that can tell them apart
    assert metrics.similarity_rho(vectors, word2ind, pairs) == pytest.approx(
        evaluate.similarity_spearman(vectors, word2ind, pairs))
    assert metrics.analogy_accuracy(vectors, word2ind, questions, restrict_vocab=60) == \
        pytest.approx(evaluate.analogy_accuracy(vectors, word2ind, questions, restrict_vocab=60))


@pytest.mark.parametrize("k", [0, 5, 9])
def test_nearest_neighbours_refuses_k_outside_the_vocabulary(k):
    vectors = np.random.default_rng(0).standard_normal((5, 3))
    with pytest.raises(ValueError, match="k must be between 1 and 4"):
        evaluate.nearest_neighbours(vectors, 0, k)
    assert evaluate.nearest_neighbours(vectors, 0, 4).tolist() != []


def test_train_sgns_starts_from_gensims_initialisation(numpy_backend):
    """v ~ U(-1/D, 1/D) (gensim 4's; word2vec's C code draws half as wide), u = 0: with a
    learning rate of 0 the vectors come back as they started."""
    ids, counts = _toy_corpus()
    res = train.train_sgns(numpy_backend, ids, counts, dim=16, window=2, negatives=2, epochs=1,
                           lr=0.0, seed=0, progress=False)
    assert np.abs(res.center_vectors).max() <= 1 / 16
    assert np.abs(res.center_vectors).max() > 0.9 / 16  # wider than the C code's 0.5 / D
    assert not res.outside_vectors.any()


def test_the_default_minibatch_shrinks_with_the_vector_size():
    """1,024 pairs up to dim 100 (the grader's budget), 102,400 / D above: at dim 300 a 1,024
    batch ran at 0.44x gensim and 384 at 0.74x (its blocks left the cache)."""
    assert [train.default_batch_size(d) for d in (1, 50, 100, 128, 300, 10**6)] == [
        1024, 1024, 1024, 800, 341, 1]


def test_train_sgns_without_a_batch_size_takes_the_default_for_its_dim(numpy_backend,
                                                                       monkeypatch):
    ids, counts = _toy_corpus()
    seen = []
    real = train.interleaved_pairs
    monkeypatch.setattr(train, "interleaved_pairs",
                        lambda c, o, batch_size: seen.append(batch_size) or real(c, o, batch_size))
    train.train_sgns(numpy_backend, ids, counts, dim=400, window=2, negatives=2, epochs=1,
                     seed=0, progress=False)
    train.train_sgns(numpy_backend, ids, counts, dim=400, window=2, negatives=2, epochs=1,
                     batch_size=64, seed=0, progress=False)
    assert set(seen[:1]) == {256} and seen[-1] == 64
