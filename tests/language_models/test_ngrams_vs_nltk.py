"""The count models of topic ``language_models`` against ``nltk.lm`` (the peer): the same
sentences, vocabulary (``unk_cutoff`` = ``min_count``) and padding (n − 1 ``<s>``, one
``</s>``), identical log-probabilities and perplexities for Laplace and Lidstone smoothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nlpdojo.text import ngram_corpus as corpus
from nlpdojo_solutions.language_models import ngrams

nltk_lm = pytest.importorskip("nltk.lm")
from nltk.util import everygrams  # noqa: E402
from nltk.util import ngrams as nltk_ngrams  # noqa: E402

SENTENCES = [s.split() for s in (
    "the cat sat on the mat", "the dog sat on the log", "a cat and a dog",
    "the mat was on the cat", "dogs and cats sat", "on the log a dog sat",
    "the the cat cat", "mat")]
HELD_OUT = [s.split() for s in ("the cat sat on the log", "a dog and the zebra", "cats sat")]


def _ours(n: int, delta: float, min_count: int):
    vocab = corpus.Vocabulary.build(SENTENCES, n, min_count)
    bos = vocab.id(corpus.BOS)
    model = ngrams.count_ngrams(vocab.stream(SENTENCES, n), n, len(vocab), bos)
    windows = ngrams.ngram_windows(vocab.stream(HELD_OUT, n), n, bos)
    log_probs = ngrams.add_delta_log_probs(model, windows, len(vocab), delta)
    return vocab, windows, log_probs


def _nltk(n: int, delta: float, min_count: int):
    train = [corpus.pad(s, n) for s in SENTENCES]
    vocab = nltk_lm.Vocabulary([t for s in train for t in s], unk_cutoff=min_count)
    lm = nltk_lm.Lidstone(delta, n, vocabulary=vocab)
    lm.fit([everygrams(s, max_len=n) for s in train])
    grams = [g for s in HELD_OUT for g in nltk_ngrams(corpus.pad(s, n), n)
             if g[-1] != corpus.BOS]
    return lm, grams


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("delta", [1.0, 0.1])
@pytest.mark.parametrize("min_count", [1, 2])
def test_add_delta_equals_nltk_lidstone(n, delta, min_count):
    vocab, windows, ours = _ours(n, delta, min_count)
    lm, grams = _nltk(n, delta, min_count)
    assert len(vocab) == len(lm.vocab)
    assert len(grams) == len(windows)
    theirs = np.array([math.log(lm.score(g[-1], g[:-1])) for g in grams])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ngrams.perplexity(ours) == pytest.approx(lm.perplexity(grams), rel=1e-10)


def test_laplace_is_add_one():
    _, _, ours = _ours(2, 1.0, 1)
    lm = nltk_lm.Laplace(2)
    train = [corpus.pad(s, 2) for s in SENTENCES]
    lm.fit([everygrams(s, max_len=2) for s in train], [t for s in train for t in s])
    grams = [g for s in HELD_OUT for g in nltk_ngrams(corpus.pad(s, 2), 2)]
    np.testing.assert_allclose(ours, [math.log(lm.score(g[-1], g[:-1])) for g in grams],
                               rtol=1e-12)


def test_counting_is_exact_on_a_hand_example():
    # <s> a b a b </s> with n = 2: bigrams (<s>,a) (a,b) (b,a) (a,b) (b,</s>)
    vocab = corpus.Vocabulary.build([["a", "b", "a", "b"]], 2)
    stream = vocab.stream([["a", "b", "a", "b"]], 2)
    keys, counts, ctx_keys, ctx_counts = ngrams.count_ngrams(stream, 2, len(vocab),
                                                             vocab.id(corpus.BOS))
    i = vocab.index
    found = {(int(k) // len(vocab), int(k) % len(vocab)): int(c)
             for k, c in zip(keys, counts, strict=True)}
    assert found == {(i["<s>"], i["a"]): 1, (i["a"], i["b"]): 2, (i["b"], i["a"]): 1,
                     (i["b"], i["</s>"]): 1}
    contexts = dict(zip(ctx_keys.tolist(), ctx_counts.tolist(), strict=True))
    assert contexts == {i["<s>"]: 1, i["a"]: 2,
                        i["b"]: 2}
