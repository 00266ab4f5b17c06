"""Training skip-gram with negative sampling (SGNS) on a corpus, in minibatches.

This is word2vec's training procedure (Mikolov et al. 2013a, b; the reference C code, which
gensim follows), vectorised:

1. **Subsampling** of frequent words: an occurrence of ``w`` is kept with probability
   ``(sqrt(f(w) / t) + 1) t / f(w)`` (``t`` = ``subsample``; :mod:`nlpdojo.text.subsample`).
2. **Dynamic window**: each kept center word draws ``b ~ U{1..window}`` and pairs with the kept
   words at distances ``1..b`` on either side, so near words count more (on average weight
   ``(window - d + 1) / window`` at distance ``d``).
3. **Negatives**: ``K`` per pair from the unigram distribution to the 3/4 power
   (:mod:`nlpdojo.text.negative`).
4. **Minibatch SGD**: the (center, outside, negatives) rows of ``batch_size`` pairs are gathered,
   :func:`~.negative_sampling.sgns_batch_loss_and_gradients` gives the gradients,
   :func:`~.sgd.sparse_sgd_update` scatters the center words' back (repeated words summed) and
   :func:`~.sgd.sparse_outer_update` applies the outside and negative words' (multiples of the
   center vectors) as one sparse product, with the learning rate decayed linearly by
   :func:`~.sgd.linear_decay` over the words processed.

Pairs are generated a chunk of text at a time, chunks in corpus order (windows do not cross the
edges of the 10k-word chunks, as word2vec's do not cross its 1,000-word "sentences"), and
**interleaved** within their chunk (:func:`interleaved_pairs`). Each pair gets the same learning
rate as in word2vec's one-pair-at-a-time SGD (the batch loss is a *sum*), so a minibatch is
word2vec with the updates of ``batch_size`` pairs applied together. The interleaving is what
keeps that close to word2vec: in text order the up to ``2 * window`` pairs of one center share
a minibatch, all use one stale copy of its vector and their updates add up, where word2vec's
sequential SGD lets each see the previous one's update. Interleaved, minibatch ``b`` of a chunk
takes its pairs ``b, b + n, b + 2n, ...`` (``n`` minibatches), so one center's pairs go to
consecutive minibatches and each sees the update of the one before. After 1 epoch of SOTU (6
seeds, means) WordSim-353 rho went from 0.169 to 0.183, SimLex-999 from 0.060 to 0.079 and
analogies from 0.011 to 0.009 (gensim: 0.186, 0.079, 0.010), and the grader's held-out loss
moved toward gensim's (2.754 -> 2.784, gensim 2.794), for about 4 % more time per epoch
(minibatches that touch more distinct rows). A random shuffle of the chunk did as well (0.187,
0.077, 0.009) and cost 6 %; ordering by offset (0.187, 0.071, 0.009) 3 %.

The steps of 3-4 (:class:`SGNSSteps`) are this package's functions, looked up when training
runs, so a student's folder trains the student's own code; the grader passes them explicitly
to its trusted copy of this loop. Training runs in float32 on every backend; the index streams
are drawn with NumPy from ``seed``, so NumPy and torch see the same pairs and negatives.

On a GPU the loop never waits for the device: the indices of a whole chunk travel in one copy,
and the loss stays on the device until it is reported (``float(loss)`` would wait for every
batch to finish).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from nlpdojo.backend import Array, Backend
from nlpdojo.text.negative import noise_distribution
from nlpdojo.text.subsample import keep_probability

from . import negative_sampling, sgd

#: raw words per chunk of text turned into pairs at once (windows do not cross chunks)
CHUNK_WORDS = 10_000
#: the default minibatch: BATCH_FLOATS / D pairs, at most MAX_BATCH. A minibatch gathers its
#: center, outside and K negative rows, (B, D) + (B, D) + (B, K, D) floats, and scatters them
#: back; past the CPU's cache that costs a pass over memory per row. Measured against gensim
#: at dim 300 (1 epoch of SOTU, CPU time): 1,024 pairs ran at 0.44x, 384 at 0.74x
#: (docs/benchmarks.md); at dim 100 1,024 pairs was the fastest measured.
BATCH_FLOATS, MAX_BATCH = 102_400, 1024


def default_batch_size(dim: int) -> int:
    """Pairs per minibatch for vectors of size ``dim``: 1,024 up to dim 100, fewer above."""
    return max(1, min(MAX_BATCH, BATCH_FLOATS // dim))


#: center vectors start as U(-INIT / D, INIT / D): gensim 4's initialisation; word2vec's C code
#: draws half as wide (0.5), which learned slower (1 epoch of SOTU, seeds 0 and 1, mean
#: WordSim-353 rho 0.159 with 0.5, 0.169 with 1.0; gensim 0.186)
INIT = 1.0


@dataclass
class Word2VecResult:
    """Trained vectors (NumPy, float32) and how training went."""

    center_vectors: np.ndarray  # (V, D)  "input" vectors v, the usual word vectors
    outside_vectors: np.ndarray  # (V, D)  "output" vectors u
    words_per_second: float  # raw corpus words (before subsampling) per second of training
    losses: list[float] = field(default_factory=list)  # mean loss per pair, per report interval
    words: int = 0  # raw words processed (all epochs)
    pairs: int = 0  # (center, outside) pairs trained on
    seconds: float = 0.0


def window_pairs(ids: np.ndarray, window: int, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
    """All (center, outside) pairs of a run of kept words, with word2vec's dynamic window.

    :param ids: (M,) word ids in text order.
    :returns: ``(centers (P,), outsides (P,))`` in text order (by center position, then offset).
    """
    M = ids.shape[0]
    reach = rng.integers(1, window + 1, size=M)  # (M,)  b ~ U{1..window} per center
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])  # (2W,)
    positions = np.arange(M)[:, None] + offsets[None, :]  # (M, 2W)
    valid = ((np.abs(offsets)[None, :] <= reach[:, None])
             & (positions >= 0) & (positions < M))  # (M, 2W)
    centers = np.broadcast_to(ids[:, None], positions.shape)[valid]  # (P,)
    outsides = ids[positions[valid]]  # (P,)
    return centers, outsides


def interleaved_pairs(centers: np.ndarray, outsides: np.ndarray, batch_size: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same P pairs in minibatch order: minibatch ``b`` of ``n = ceil(P / batch_size)``
    takes pairs ``b, b + n, b + 2n, ...`` of the text order, so a center's pairs, side by side
    in text order, go to consecutive minibatches (see the module docstring).

    :param centers: (P,) center word of each pair, in text order.
    :param outsides: (P,) its outside word.
    :returns: ``(centers (P,), outsides (P,), starts (n + 1,))``: minibatch ``b`` is
        ``starts[b]:starts[b + 1]`` of the reordered pairs (at most ``batch_size`` of them).
    """
    P = centers.shape[0]
    n = -(-P // batch_size)  # minibatches of this chunk
    if n == 0:
        return centers, outsides, np.zeros(1, dtype=np.int64)
    rows = -(-P // n)  # the longest minibatch, <= batch_size
    order = np.arange(n * rows).reshape(rows, n).T.reshape(-1)  # (n * rows,) b, b + n, ...
    order = order[order < P]  # (P,)  the last pairs' minibatches are one shorter
    sizes = (P - np.arange(n) + n - 1) // n  # (n,)  pairs b, b + n, ... below P
    return centers[order], outsides[order], np.concatenate([[0], np.cumsum(sizes)])


class NoiseTable:
    """Draws negatives from ``noise_distribution(counts)`` (unigram^0.75) by table look-up.

    word2vec's C code fills a table with word ids in proportion to their probability and
    indexes it uniformly: one random integer and one look-up per draw, 3.4x faster than a
    binary search of the cumulative distribution here (a 1024 x 5 draw). Words whose share is
    below half a slot (probability < 0.5 / size) are never drawn, as in word2vec (whose table
    has 1e8 slots).
    """

    def __init__(self, counts: np.ndarray, rng: np.random.Generator, size: int | None = None,
                 power: float = 0.75) -> None:
        probs = noise_distribution(counts, power)  # (V,)
        size = size or max(1_000_000, 100 * probs.shape[0])
        bounds = np.rint(np.cumsum(probs) * size).astype(np.int64)  # (V,) cumulative slots
        slots = np.diff(bounds, prepend=0)  # (V,) slots per word, summing to ``size``
        self.table = np.repeat(np.arange(probs.shape[0], dtype=np.int32), slots)  # (size,)
        self.rng = rng

    def sample(self, shape: tuple[int, ...]) -> np.ndarray:
        """Word ids of the given shape, int64."""
        return self.table[self.rng.integers(0, self.table.shape[0], size=shape)].astype(np.int64)


@dataclass(frozen=True)
class SGNSSteps:
    """The functions one SGD step calls (questions ``sgns_batch`` and ``sgd``)."""

    batch_loss: Callable  # negative_sampling.sgns_batch_loss_and_gradients
    sparse_update: Callable  # sgd.sparse_sgd_update
    outer_update: Callable  # sgd.sparse_outer_update
    schedule: Callable  # sgd.linear_decay

    @classmethod
    def of(cls, negative_sampling_module: Any, sgd_module: Any) -> SGNSSteps:
        return cls(negative_sampling_module.sgns_batch_loss_and_gradients,
                   sgd_module.sparse_sgd_update, sgd_module.sparse_outer_update,
                   sgd_module.linear_decay)


@dataclass
class _Chunk:
    """The training pairs of one chunk of text, on the backend's device."""

    words_done: int  # raw words of the epoch up to the end of this chunk
    words: int  # raw words in this chunk
    centers: Array  # (P,)
    rows: Array  # (P, 1 + K)  the outside word, then its K negatives
    starts: list[int]  # minibatch b is pairs starts[b]:starts[b + 1]


def _chunks(backend: Backend, token_ids: np.ndarray, keep: np.ndarray, sampler: NoiseTable,
            window: int, negatives: int, rng: np.random.Generator, batch_size: int):
    """Yields a :class:`_Chunk` per ``CHUNK_WORDS`` of text: subsampled, paired, with negatives."""
    n = token_ids.shape[0]
    for start in range(0, n, CHUNK_WORDS):
        chunk = token_ids[start:start + CHUNK_WORDS]  # (C,)
        kept = chunk[rng.random(chunk.shape[0]) < keep[chunk]]  # (M,)  subsampling
        centers, outsides, starts = interleaved_pairs(*window_pairs(kept, window, rng),
                                                      batch_size)  # (P,) x2, (n + 1,)
        negs = sampler.sample((centers.shape[0], negatives))  # (P, K)
        rows = np.concatenate([outsides[:, None], negs], axis=1)  # (P, 1 + K)
        yield _Chunk(start + chunk.shape[0], chunk.shape[0], backend.asarray(centers),
                     backend.asarray(rows), starts.tolist())


def _sgd_step(backend: Backend, steps: SGNSSteps, center_vectors: Array, outside_vectors: Array,
              c: Array, rows: Array, rate: float) -> tuple[Array, Array, Array]:
    """One minibatch: gather rows, loss and gradients, scatter the updates (in place).

    Returns ``(loss, center_vectors, outside_vectors)``: the matrices the updates returned."""
    xp = backend.xp
    B, K = rows.shape[0], rows.shape[1] - 1
    D = center_vectors.shape[1]
    center = xp.take(center_vectors, c, axis=0)  # (B, D)
    outside = xp.take(outside_vectors, rows[:, 0], axis=0)  # (B, D)
    negs = xp.reshape(xp.take(outside_vectors, xp.reshape(rows[:, 1:], (-1,)), axis=0),
                      (B, K, D))  # (B, K, D)
    loss, g_center, coef_outside, coef_negs = steps.batch_loss(center, outside, negs)
    center_vectors = steps.sparse_update(backend, center_vectors, c, g_center, rate)  # (V, D)
    # The outside word's row and its K negatives: gradients coef * v_c, applied as one sparse
    # product (B, 1 + K) x (B, D), never as a (B, 1 + K, D) block.
    coefs = xp.concat([coef_outside[:, None], coef_negs], axis=1)  # (B, 1 + K)
    outside_vectors = steps.outer_update(backend, outside_vectors, rows, coefs, center,
                                         rate)  # (V, D)
    return loss, center_vectors, outside_vectors


def train_sgns(
    backend: Backend,
    token_ids: np.ndarray,
    counts: np.ndarray,
    *,
    dim: int = 100,
    window: int = 5,
    negatives: int = 5,
    epochs: int = 1,
    batch_size: int | None = None,
    lr: float = 0.025,
    subsample: float = 1e-3,
    seed: int = 0,
    max_words: int | None = None,
    progress: bool = True,
    report_every: int = 50,
    steps: SGNSSteps | None = None,
) -> Word2VecResult:
    """Train SGNS word vectors on ``token_ids`` (see the module docstring).

    :param token_ids: (N,) corpus as word ids in ``[0, V)`` (rare words already removed).
    :param counts: (V,) corpus count of each word (subsampling and the negative distribution).
    :param dim: vector size D.
    :param window: maximum window radius.
    :param negatives: K, negatives per pair.
    :param epochs: passes over the corpus.
    :param batch_size: pairs per SGD step (default: :func:`default_batch_size` of ``dim``).
    :param lr: initial learning rate (word2vec: 0.025).
    :param subsample: threshold ``t`` (0 disables).
    :param seed: seeds initialisation, subsampling, windows and negatives.
    :param max_words: train on the first ``max_words`` tokens only.
    :param progress: show a tqdm bar (words/s).
    :param report_every: batches per loss record.
    :param steps: the step functions; default: this package's, looked up now.
    """
    steps = steps or SGNSSteps.of(negative_sampling, sgd)
    batch_size = default_batch_size(dim) if batch_size is None else batch_size
    token_ids = np.asarray(token_ids, dtype=np.int64)
    if max_words is not None:
        token_ids = token_ids[:max_words]
    counts = np.asarray(counts, dtype=np.float64)
    V, D = counts.shape[0], dim
    rng = np.random.default_rng(seed)
    # gensim's initialisation: v ~ U(-1/D, 1/D) (INIT), u = 0.
    center_vectors = backend.asarray(rng.uniform(-INIT / D, INIT / D, (V, D)).astype(np.float32))
    outside_vectors = backend.asarray(np.zeros((V, D), dtype=np.float32))  # (V, D)
    keep = keep_probability(counts, subsample)  # (V,)
    sampler = NoiseTable(counts, rng)
    total = token_ids.shape[0] * epochs

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="word", unit_scale=True, desc="word2vec", smoothing=0.1)
    losses: list[float] = []
    running, running_pairs, pairs, step = 0.0, 0, 0, 0  # running: summed on the device

    def report() -> None:
        nonlocal running, running_pairs
        losses.append(float(running) / running_pairs)  # the one wait for the device
        running, running_pairs = 0.0, 0
        if bar is not None:
            bar.set_postfix(loss=f"{losses[-1]:.3f}", lr=f"{rate:.4f}", refresh=False)

    rate = lr
    begin = time.perf_counter()
    try:
        for epoch in range(epochs):
            offset = epoch * token_ids.shape[0]
            for chunk in _chunks(backend, token_ids, keep, sampler, window, negatives, rng,
                                 batch_size):
                P = chunk.centers.shape[0]
                for b, e in pairwise(chunk.starts):
                    # words done when this batch ends, pro rata within the chunk (the schedule)
                    done = offset + chunk.words_done - chunk.words + (chunk.words * e) // P
                    rate = steps.schedule(done, total, lr)
                    loss, center_vectors, outside_vectors = _sgd_step(
                        backend, steps, center_vectors, outside_vectors, chunk.centers[b:e],
                        chunk.rows[b:e], rate)
                    running = running + loss
                    running_pairs += e - b
                    pairs += e - b
                    step += 1
                    if step % report_every == 0:
                        report()
                if bar is not None:
                    bar.update(chunk.words)
            if running_pairs:
                report()
    except BaseException:
        if bar is not None:  # an error (a stub, say): clear the bar rather than print it twice
            bar.leave = False
            bar.close()
        raise
    backend.synchronize()
    seconds = time.perf_counter() - begin
    if bar is not None:
        bar.close()
    return Word2VecResult(
        center_vectors=backend.to_numpy(center_vectors).astype(np.float32, copy=False),
        outside_vectors=backend.to_numpy(outside_vectors).astype(np.float32, copy=False),
        words_per_second=total / max(seconds, 1e-9),
        losses=losses, words=total, pairs=pairs, seconds=seconds,
    )
