"""Interpolated Kneser-Ney smoothing, the strongest count model (CS224n lecture 6; Kneser &
Ney 1995; Chen & Goodman 1998, "An Empirical Study of Smoothing Techniques for Language
Modeling", §2.7, and §3 for the interpolated form and its modified variant).

Absolute discounting (:mod:`.backoff`) with one change: a lower order is only consulted for the
mass the discount freed, that is for words the longer context did not predict well, so it should
not score a word by how often it occurs but by how many *different* contexts it completes
("Francisco" is frequent, but only after "San"). Every order below the highest replaces the
count C(c, w) by the continuation count N₁₊(• c w), the number of distinct words u with
C(u, c, w) > 0:

    highest order:  P(w | c) = (max(C(c, w) − d, 0)     + d · N₁₊(c •) · P(w | c′)) / C(c)
    lower orders:   P(w | c) = (max(N₁₊(• c w) − d, 0) + d · N₁₊(c •) · P(w | c′)) / N₁₊(• c •)
    unigrams:       P(w)     = N₁₊(• w) / N₁₊(• •)

with N₁₊(• c •) = Σ_w N₁₊(• c w) (the distinct (k+1)-grams with c in the middle) and c′ the
context without its oldest word; a context never seen (no k-gram starts with it) passes
everything down.

This is ``nltk.lm.KneserNeyInterpolated`` exactly (the tests compare scores), and its
conventions are kept where they differ from a textbook:

* one discount d for every order (nltk's default 0.1; Chen & Goodman's modified Kneser-Ney
  estimates one per order and count, D = n₁ / (n₁ + 2 n₂); the results use d = 0.75);
* the lowest order is the continuation unigram itself, not interpolated with the uniform
  distribution: a word never seen after anything gets probability 0 (only ``<s>`` in a bigram
  model, which is never predicted: every vocabulary word occurs in the training text);
* γ(c) counts N₁₊(c •) on the raw counts (nltk's ``_count_values_gt_zero(counts[context])``),
  and the counts are nltk's (the k-grams of each padded sentence,
  :func:`.backoff.everygram_counts`).
  The two differ only for contexts made of ``<s>`` alone (``<s> <s>`` is a raw bigram that no
  trigram continues), where P(· | c) therefore sums to slightly more than 1; for every other
  context the distribution over the vocabulary sums to 1.

Vectorized: continuation counts are ``np.unique`` over the (k+1)-gram keys with their oldest
id dropped (``key % |V|^k``); one pass per order, no loop over tokens or n-grams.
"""

from __future__ import annotations

import numpy as np

from .backoff import EverygramCounts, context_totals
from .ngrams import lookup, ngram_keys


def continuation_counts(higher_keys: np.ndarray, k: int,
                        vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """N₁₊(• g) for every k-gram g that completes some (k+1)-gram of ``higher_keys`` (the sorted
    keys of the distinct (k+1)-grams): ``(keys, counts)``, the k-grams' keys sorted without
    repeats and how many distinct (k+1)-grams end with each (= distinct words before it)."""
    raise NotImplementedError("kneser_ney: not implemented yet — replace this line with your code")


def kneser_ney_log_probs(counts: EverygramCounts, windows: np.ndarray, vocab_size: int,
                         discount: float) -> np.ndarray:
    """log P_KN(w | c) (natural log) of every n-gram row ``(c…, w)`` of ``windows`` (M, n),
    n ≥ 2, under interpolated Kneser-Ney with ``discount`` d at every order, from the counts of
    :func:`.backoff.everygram_counts` (``len(counts) == n``): (M,) float64.

    Start from the continuation unigram N₁₊(• w) / N₁₊(• •) and go up one order at a time
    (k = 2 … n), each with the last k − 1 ids of the context: orders below n use continuation
    counts (:func:`continuation_counts` of the (k+1)-grams) in place of C(c, w) and C(c), the
    highest order raw counts; γ(c) = d · N₁₊(c •) / (the same denominator), with N₁₊(c •)
    from the raw k-gram counts; where the context was never seen (no raw k-gram starts with it)
    P is passed on unchanged."""
    n = windows.shape[1]
    words = windows[:, -1]  # (M,)
    raise NotImplementedError("kneser_ney: not implemented yet — replace this line with your code")
