"""Backing off to shorter contexts: interpolated absolute discounting (CS224n lecture 6,
"sparsity problems": condition on fewer words when the long context was rarely seen; Ney, Essen
& Kneser 1994; Chen & Goodman 1998, "An Empirical Study of Smoothing Techniques for Language
Modeling", §2.6, absolute discounting).

Add-δ gives every unseen word of a context the same small share. Absolute discounting instead
takes a fixed discount d (0 < d ≤ 1) from every seen n-gram and hands the freed mass to the
model of the next shorter context, which decides how it is shared among the words:

    P(w | c) = max(C(c, w) − d, 0) / C(c)  +  γ(c) · P(w | c′),     γ(c) = d · N₁₊(c •) / C(c)

where c′ is c without its oldest word, C(c) = Σ_w C(c, w) and N₁₊(c •) is the number of
distinct words seen after c (each gave up d, so γ(c) is exactly the freed mass and P(· | c)
sums to 1 over the vocabulary). A context never seen (C(c) = 0) passes everything down
(γ = 1). The recursion ends at the unigram maximum-likelihood estimate P(w) = C(w) / N.

This is ``nltk.lm.AbsoluteDiscountingInterpolated`` exactly (the tests compare scores): one
discount for every order, and nltk's counting convention for the lower orders: the k-grams of
each padded sentence (nltk's ``everygrams``), so the padding's own ``<s> <s>`` (and the unigram
``<s>``) are counted, while a k-gram spanning two sentences is not.

Vectorized: one pass per order (a loop over n orders, never over tokens or n-grams); a k-gram
is one integer key (:func:`~.ngrams.ngram_keys`), contexts are found by ``searchsorted``.
"""

from __future__ import annotations

import numpy as np

from .ngrams import lookup, ngram_keys

#: the counts of every order: ``counts[k - 1] = (keys, counts)`` of the k-grams, sorted by key
EverygramCounts = list[tuple[np.ndarray, np.ndarray]]


def everygram_counts(stream: np.ndarray, n: int, vocab_size: int, bos: int) -> EverygramCounts:
    """The counts of the k-grams of every order k = 1 … n of the padded id ``stream``, as
    ``nltk.lm`` counts them: every k-gram inside one padded sentence, that is every window of
    the stream except those that span two sentences. A window spans two sentences exactly when
    its last token is ``<s>`` and it is not made of ``<s>`` only (``<s> <s>`` is the padding of
    one sentence; ``</s> <s>`` is not an n-gram of the text). Returns ``[(keys, counts), …]``,
    one pair per order (index 0: unigrams), keys sorted without repeats, counts int64."""
    out = []
    for k in range(1, n + 1):  # a loop over orders, not over tokens
        ### BEGIN SOLUTION backoff
        windows = np.lib.stride_tricks.sliding_window_view(stream, k)  # (T − k + 1, k)
        inside = (windows[:, -1] != bos) | np.all(windows == bos, axis=1)  # (T − k + 1,)
        keys, counts = np.unique(ngram_keys(windows[inside], vocab_size), return_counts=True)
        out.append((keys, counts.astype(np.int64)))
        ### END SOLUTION
    return out


def context_totals(keys: np.ndarray, counts: np.ndarray,
                   vocab_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group the k-grams ``keys`` (sorted) by their context (the first k − 1 ids, ``key //
    |V|``): ``(context_keys, totals, types)`` with ``totals`` = Σ_w counts (C(c) for raw counts)
    and ``types`` = N₁₊(c •), the number of distinct words after c. Given."""
    contexts = keys // vocab_size  # (K,)  sorted too: the context is the key's leading digits
    context_keys, first = np.unique(contexts, return_index=True)  # (C,)
    if len(keys) == 0:
        return context_keys, np.zeros(0, np.int64), np.zeros(0, np.int64)
    totals = np.add.reduceat(counts, first)  # (C,)
    types = np.diff(np.append(first, len(keys)))  # (C,)
    return context_keys, totals, types


def absolute_discount_log_probs(counts: EverygramCounts, windows: np.ndarray, vocab_size: int,
                                discount: float) -> np.ndarray:
    """log P(w | c) (natural log) of every n-gram row ``(c…, w)`` of ``windows`` (M, n) under
    interpolated absolute discounting with ``discount`` d at every order, from the counts of
    :func:`everygram_counts` (``len(counts) == n``): (M,) float64.

    Start from the unigram estimate C(w) / N and go up one order at a time (k = 2 … n), each
    with the last k − 1 ids of the context: P ← max(C(c, w) − d, 0) / C(c) + γ(c) · P, with
    γ(c) = d · N₁₊(c •) / C(c), and P unchanged (γ = 1) where C(c) = 0."""
    n = windows.shape[1]
    words = windows[:, -1]  # (M,)
    unigram_keys, unigram_counts = counts[0]
    ### BEGIN SOLUTION backoff
    p = lookup(unigram_keys, unigram_counts, words) / unigram_counts.sum()  # (M,)  C(w) / N
    for k in range(2, n + 1):  # orders, not tokens
        grams = windows[:, n - k:]  # (M, k)  the last k − 1 context ids and the word
        keys, cnt = counts[k - 1]
        joint = lookup(keys, cnt, ngram_keys(grams, vocab_size))  # (M,)  C(c, w)
        ctx_keys, totals, types = context_totals(keys, cnt, vocab_size)
        context = ngram_keys(grams[:, :-1], vocab_size)  # (M,)
        total = lookup(ctx_keys, totals, context)  # (M,)  C(c)
        seen = total > 0
        safe = np.maximum(total, 1)
        alpha = np.where(seen, np.maximum(joint - discount, 0.0) / safe, 0.0)  # (M,)
        gamma = np.where(seen, discount * lookup(ctx_keys, types, context) / safe, 1.0)
        p = alpha + gamma * p  # (M,)
    with np.errstate(divide="ignore"):  # log 0 = −inf: a word this model never predicts
        return np.log(p)
    ### END SOLUTION
