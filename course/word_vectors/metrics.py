"""Trusted measurements of trained word vectors, for the metric checks and ``dojo train``.

The grader cannot use the student's ``evaluate.py`` (it is being graded) nor the reference's
(a student release does not ship it), so it measures with this code:

* Spearman's rho between cosine similarities and human scores (WordSim-353; Finkelstein et al.
  2002), over the pairs whose words are in the vocabulary;
* 3CosAdd analogy accuracy (Mikolov et al. 2013a: "a is to b as c is to ?", answered by
  argmax cos(x, b - a + c) over the vocabulary without a, b, c), over the questions whose
  words are among the ``restrict_vocab`` most frequent;
* the held-out skip-gram negative-sampling loss (Mikolov et al. 2013b) per (center, outside)
  pair of unseen text, with seeded negatives: low when the vectors predict context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nlpdojo_autograder.authoring.statistics import average_ranks, spearman_rho


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _ids(word2ind: Mapping[str, int], words: Sequence[str]) -> np.ndarray:
    return np.array([word2ind.get(w, word2ind.get(w.lower(), -1)) for w in words], np.int64)


def similarity_rho(vectors: np.ndarray, word2ind: Mapping[str, int],
                   pairs: Sequence[tuple[str, str, float]]) -> tuple[float, int]:
    """Spearman's rho of cosine similarity against human scores; ``(rho, pairs used)``."""
    if not pairs:
        return float("nan"), 0
    first, second = _ids(word2ind, [p[0] for p in pairs]), _ids(word2ind, [p[1] for p in pairs])
    used = (first >= 0) & (second >= 0)  # (P,)
    if used.sum() < 2:
        return float("nan"), int(used.sum())
    unit = _unit(vectors)
    cosines = np.sum(unit[first[used]] * unit[second[used]], axis=1)  # (P_used,)
    scores = np.array([p[2] for p in pairs], np.float64)[used]
    if not np.isfinite(cosines).all():
        return float("nan"), int(used.sum())
    return spearman_rho(cosines, scores), int(used.sum())


def analogy_accuracy(vectors: np.ndarray, word2ind: Mapping[str, int],
                     questions: Sequence[tuple[str, str, str, str]], *,
                     restrict_vocab: int = 30_000, chunk: int = 512) -> tuple[float, int]:
    """3CosAdd accuracy; ``(accuracy, questions used)``."""
    unit = _unit(np.asarray(vectors)[:restrict_vocab])  # (Vr, D)
    ids = np.stack([_ids(word2ind, [q[i] for q in questions]) for i in range(4)], axis=1) \
        if questions else np.empty((0, 4), np.int64)  # (Q, 4)
    ids = ids[((ids >= 0) & (ids < unit.shape[0])).all(axis=1)]
    if ids.shape[0] == 0 or not np.isfinite(unit).all():
        return (float("nan") if ids.shape[0] == 0 else 0.0), int(ids.shape[0])
    correct = 0
    for start in range(0, ids.shape[0], chunk):
        a, b, c, d = ids[start:start + chunk].T  # each (q,)
        scores = (unit[b] - unit[a] + unit[c]) @ unit.T  # (q, Vr)
        np.put_along_axis(scores, np.stack([a, b, c], axis=1), -np.inf, axis=1)  # not a, b, c
        correct += int(np.count_nonzero(scores.argmax(axis=1) == d))
    return correct / ids.shape[0], int(ids.shape[0])


def heldout_sgns_loss(center_vectors: np.ndarray, outside_vectors: np.ndarray,
                      centers: np.ndarray, outsides: np.ndarray,
                      negatives: np.ndarray) -> float:
    """Mean of -log σ(u_o·v_c) - Σ_k log σ(-u_k·v_c) over held-out pairs (float64), a chunk
    of pairs at a time (never a (P, K, D) block: 200 MB for 50k pairs)."""
    V_in = np.asarray(center_vectors, np.float64)  # (V, D)
    U = np.asarray(outside_vectors, np.float64)  # (V, D)
    log_sig = lambda x: np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))  # noqa: E731
    total = 0.0
    for start in range(0, centers.shape[0], 4096):
        part = slice(start, start + 4096)
        v = V_in[centers[part]]  # (p, D)
        s_o = np.sum(v * U[outsides[part]], axis=1)  # (p,)
        s_k = np.einsum("pd,pkd->pk", v, U[negatives[part]])  # (p, K)
        total += float(np.sum(-(log_sig(s_o) + np.sum(log_sig(-s_k), axis=1))))
    return total / max(centers.shape[0], 1)


def similarity_rho_chance(word2ind: Mapping[str, int], pairs: Sequence[tuple[str, str, float]],
                          dim: int, *, draws: int = 1000, quantile: float = 0.95,
                          seed: int = 0) -> float:
    """The ``quantile`` of Spearman's rho that random (untrained) vectors of size ``dim`` reach
    on ``pairs``: the null distribution of :func:`similarity_rho`, over ``draws`` draws.

    Only the words of the pairs get vectors (the rest cannot change the rho); the rho of each
    draw is Pearson's r of the average ranks, as :func:`spearman_rho`'s. With 180 pairs
    its spread is about 1/sqrt(179) = 0.075: a threshold relative to a weakly trained
    reference (rho 0.16 after one epoch) would otherwise be met by chance.
    """
    first, second = _ids(word2ind, [p[0] for p in pairs]), _ids(word2ind, [p[1] for p in pairs])
    used = (first >= 0) & (second >= 0)  # (P,)
    if used.sum() < 3:
        return float("nan")
    words, index = np.unique(np.concatenate([first[used], second[used]]), return_inverse=True)
    a, b = np.split(index, 2)  # (P_used,) each: positions among ``words``
    rng = np.random.default_rng(seed)
    cosines = np.empty((draws, a.shape[0]))  # (S, P_used)
    for start in range(0, draws, 100):  # 100 draws at a time: (100, W, D) is ~25 MB
        unit = rng.standard_normal((min(100, draws - start), words.shape[0], dim))  # (s, W, D)
        unit /= np.linalg.norm(unit, axis=2, keepdims=True)
        cosines[start:start + unit.shape[0]] = np.sum(unit[:, a] * unit[:, b], axis=2)
    x = average_ranks(cosines)  # (S, P_used)
    y = average_ranks(np.array([p[2] for p in pairs], np.float64)[used])  # (P_used,)
    x -= x.mean(axis=1, keepdims=True)
    y -= y.mean()
    rho = (x @ y) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y))  # (S,)
    return float(np.quantile(rho, quantile))
