"""Backoff (interpolated absolute discounting) and interpolated Kneser-Ney of topic
``language_models`` against ``nltk.lm`` (the peer): the same sentences, vocabulary
(``unk_cutoff`` = ``min_count``), padding (n − 1 ``<s>``, one ``</s>``) and nltk's own counting
(``everygrams`` of each padded sentence), identical log-probabilities and perplexities for
``AbsoluteDiscountingInterpolated`` and ``KneserNeyInterpolated``; the distributions sum to 1
over the vocabulary (and, for Kneser-Ney, the one documented exception: contexts of ``<s>``
only, where nltk's distribution sums to more than 1 and ours equally)."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.text import ngram_corpus as corpus
from nlpdojo_solutions.language_models import backoff, kneser_ney, ngrams

nltk_lm = pytest.importorskip("nltk.lm")
from nltk.util import everygrams  # noqa: E402
from nltk.util import ngrams as nltk_ngrams  # noqa: E402

SENTENCES = [s.split() for s in (
    "the cat sat on the mat", "the dog sat on the log", "a cat and a dog",
    "the mat was on the cat", "dogs and cats sat", "on the log a dog sat",
    "the the cat cat", "mat", "san francisco is a city", "a cat sat in san francisco",
    "san francisco san francisco")]
HELD_OUT = [s.split() for s in ("the cat sat on the log", "a dog and the zebra", "cats sat",
                                "mat mat the", "the francisco cat")]
OURS = {"absolute": backoff.absolute_discount_log_probs,
        "kneser_ney": kneser_ney.kneser_ney_log_probs}


def _nltk_class(name):
    return {"absolute": nltk_lm.AbsoluteDiscountingInterpolated,
            "kneser_ney": nltk_lm.KneserNeyInterpolated}[name]


def _fit(name, n, discount, min_count):
    vocab = corpus.Vocabulary.build(SENTENCES, n, min_count)
    counts = backoff.everygram_counts(vocab.stream(SENTENCES, n), n, len(vocab),
                                      vocab.id(corpus.BOS))
    train = [corpus.pad(s, n) for s in SENTENCES]
    lm = _nltk_class(name)(n, discount=discount, vocabulary=nltk_lm.Vocabulary(
        [t for s in train for t in s], unk_cutoff=min_count))
    lm.fit([everygrams(s, max_len=n) for s in train])
    return vocab, counts, lm


@pytest.mark.parametrize("name", ["absolute", "kneser_ney"])
@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("discount", [0.1, 0.75, 1.0])
def test_scores_and_perplexity_equal_nltk(name, n, discount):
    vocab, counts, lm = _fit(name, n, discount, min_count=2)
    windows = ngrams.ngram_windows(vocab.stream(HELD_OUT, n), n, vocab.id(corpus.BOS))
    grams = [g for s in HELD_OUT for g in nltk_ngrams(corpus.pad(s, n), n)]
    assert len(grams) == len(windows)
    ours = OURS[name](counts, windows, len(vocab), discount)
    theirs = np.log([lm.score(g[-1], g[:-1]) for g in grams])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert ngrams.perplexity(ours) == pytest.approx(lm.perplexity(grams), rel=1e-10)


def test_everygram_counts_are_nltks_counts():
    n = 3
    vocab, counts, lm = _fit("absolute", n, 0.5, min_count=1)
    tokens, seen = vocab.tokens, {}
    for k in range(1, n + 1):
        keys, cnt = counts[k - 1]
        ours = {tuple(tokens[(int(key) // len(vocab) ** (k - 1 - j)) % len(vocab)]
                      for j in range(k)): int(c) for key, c in zip(keys, cnt, strict=True)}
        if k == 1:
            theirs = {(w,): c for w, c in lm.counts.unigrams.items()}
        else:
            theirs = {(*ctx, w): c for ctx, dist in lm.counts[k].items()
                      for w, c in dist.items()}
        assert ours == theirs, f"order {k}"
        seen.update(ours)
    assert seen[("<s>", "<s>")] == len(SENTENCES)  # the padding's own bigram counts, as in nltk
    assert ("</s>", "<s>") not in seen  # a bigram across two sentences does not


@pytest.mark.parametrize("name", ["absolute", "kneser_ney"])
@pytest.mark.parametrize("n", [2, 3])
def test_distributions_over_the_vocabulary_sum_to_one(name, n):
    vocab, counts, lm = _fit(name, n, 0.75, min_count=1)
    index = vocab.index
    for context in (["the"] * (n - 1), ["a", "cat"][-(n - 1):], ["zebra"] * (n - 1),
                    ["<s>"] * (n - 2) + ["san"]):
        ids = [index.get(t, len(vocab) - 1) for t in context]
        windows = np.column_stack([np.tile(ids, (len(vocab), 1)), np.arange(len(vocab))])
        p = np.exp(OURS[name](counts, windows, len(vocab), 0.75))
        assert p.sum() == pytest.approx(1.0, abs=1e-12), context
        np.testing.assert_allclose(p, [lm.score(t, context) for t in vocab.tokens], rtol=1e-12)


def test_kneser_ney_after_padding_only_sums_to_more_than_one_like_nltk():
    """The convention kept for parity (see kneser_ney's docstring): the raw bigram ``<s> <s>``
    counts among the words after ``<s>`` in γ, but no trigram continues it."""
    n = 3
    vocab, counts, lm = _fit("kneser_ney", n, 0.75, min_count=1)
    bos = vocab.id(corpus.BOS)
    windows = np.column_stack([np.full((len(vocab), 2), bos), np.arange(len(vocab))])
    total = np.exp(kneser_ney.kneser_ney_log_probs(counts, windows, len(vocab), 0.75)).sum()
    assert total > 1.0
    assert total == pytest.approx(sum(lm.score(t, ["<s>", "<s>"]) for t in vocab.tokens),
                                  rel=1e-12)


def test_kneser_ney_prefers_words_that_follow_many_contexts():
    """"francisco" is two thirds as frequent as "cat" but only ever follows "san":
    its continuation unigram is smaller than its frequency, unlike absolute discounting's."""
    vocab, counts, _ = _fit("kneser_ney", 2, 0.75, min_count=1)
    index = vocab.index
    windows = np.array([[index["dog"], index["francisco"]], [index["dog"], index["cat"]]])
    kn = kneser_ney.kneser_ney_log_probs(counts, windows, len(vocab), 0.75)
    ad = backoff.absolute_discount_log_probs(counts, windows, len(vocab), 0.75)
    assert kn[0] - kn[1] < ad[0] - ad[1]


def test_continuation_counts_count_distinct_left_neighbours():
    v = 5
    bigrams = np.array([[0, 3], [1, 3], [2, 3], [1, 4]])  # 3 follows three words, 4 one
    keys = np.sort(ngrams.ngram_keys(bigrams, v))
    got_keys, got = kneser_ney.continuation_counts(keys, 1, v)
    assert dict(zip(got_keys.tolist(), got.tolist(), strict=True)) == {3: 3, 4: 1}
