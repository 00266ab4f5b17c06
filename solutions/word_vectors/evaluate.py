"""Intrinsic evaluation of word vectors: nearest neighbours, word similarity, analogies.

* **Similarity** (CS224n lecture 2, "intrinsic evaluation"): the Spearman rank correlation
  between human similarity judgements (WordSim-353, Finkelstein et al. 2002; SimLex-999, Hill
  et al. 2015) and the cosine similarity of the two words' vectors.
* **Analogies** by 3CosAdd (Mikolov, Yih & Zweig 2013, "Linguistic Regularities in Continuous
  Space Word Representations"; Mikolov et al. 2013a's Google analogy set): for "a is to b as
  c is to d", predict ``argmax_x cos(x, b^ - a^ + c^)`` over the vocabulary without ``a, b, c``,
  where ``w^ = w / |w|`` (every vector is normalised to unit length first, as word2vec does)
  (Levy & Goldberg 2014, "Linguistic Regularities in Sparse and Explicit Word
  Representations", name it 3CosAdd). As in word2vec's ``compute-accuracy`` and gensim's
  ``evaluate_word_analogies(restrict_vocab=30000)``, the candidates are the ``restrict_vocab``
  most frequent words (the vocabulary is assumed sorted by decreasing frequency, index 0 the
  most frequent) and questions with a word outside them are skipped.

These functions work on NumPy arrays on the host (``backend.to_numpy`` first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row divided by its Euclidean norm (all-zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)  # (V, 1)
    return vectors / np.maximum(norms, 1e-12)


def lookup(word2ind: Mapping[str, int], word: str) -> int | None:
    """The index of ``word``, trying it as written and then lower-cased; ``None`` if absent."""
    index = word2ind.get(word)
    return word2ind.get(word.lower()) if index is None else index


def nearest_neighbours(vectors: np.ndarray, index: int, k: int) -> np.ndarray:
    """The ``k`` words most cosine-similar to word ``index`` (itself excluded), best first.

    :param vectors: (V, D) word vectors.
    :param k: how many, at most ``V - 1`` (every other word).
    :returns: (k,) integer indices.
    """
    if not 0 < k < vectors.shape[0]:
        raise ValueError(f"k must be between 1 and {vectors.shape[0] - 1} (the other words), "
                         f"not {k}")
    unit = normalize_rows(vectors)  # (V, D)
    ### BEGIN SOLUTION similarity
    cosines = unit @ unit[index]  # (V,)
    cosines[index] = -np.inf  # never its own neighbour
    top = np.argpartition(-cosines, k)[:k]  # (k,) unordered
    return top[np.argsort(-cosines[top], kind="stable")]  # (k,) best first
    ### END SOLUTION


def cosine_similarities(vectors: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``cos(vectors[first[i]], vectors[second[i]])`` for each i: shape (P,)."""
    ### BEGIN SOLUTION similarity
    a = np.asarray(vectors, dtype=np.float64)[first]  # (P, D)
    b = np.asarray(vectors, dtype=np.float64)[second]  # (P, D)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)  # (P,)
    return np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)  # (P,)
    ### END SOLUTION


def similarity_spearman(
    vectors: np.ndarray, word2ind: Mapping[str, int], pairs: Sequence[tuple[str, str, float]]
) -> tuple[float, int]:
    """Spearman correlation between human scores and cosine similarities.

    :param pairs: ``(word1, word2, human_score)`` triples; pairs with an out-of-vocabulary
        word are skipped.
    :returns: ``(rho, n_used)``; ``rho`` is NaN when fewer than 2 pairs are usable.
    """
    first, second, scores = [], [], []
    for w1, w2, score in pairs:
        i, j = lookup(word2ind, w1), lookup(word2ind, w2)
        if i is not None and j is not None:
            first.append(i)
            second.append(j)
            scores.append(float(score))
    if len(scores) < 2:
        return float("nan"), len(scores)
    # imported here: scipy.stats takes most of a second to import, and the grader imports
    # this module for every word_vectors question, most of which never call this function
    from scipy.stats import spearmanr

    cosines = cosine_similarities(vectors, np.array(first), np.array(second))  # (P,)
    return float(spearmanr(cosines, scores).statistic), len(scores)


def analogy_accuracy(
    vectors: np.ndarray,
    word2ind: Mapping[str, int],
    questions: Sequence[tuple[str, str, str, str]],
    *,
    restrict_vocab: int = 30_000,
    chunk_size: int = 512,
) -> tuple[float, int]:
    """3CosAdd accuracy on analogy questions ``(a, b, c, d)``: "a is to b as c is to d".

    The prediction is ``argmax_x cos(x, b^ - a^ + c^)`` with *unit-length* vectors ``w^`` (as
    word2vec's ``compute-accuracy`` and gensim do), over the candidates other than a, b, c;
    a question counts when the prediction is ``d``.

    :param restrict_vocab: only the first ``restrict_vocab`` words (the most frequent) are
        candidates, and questions using any other word are skipped.
    :param chunk_size: questions scored per matrix product (memory: chunk x restrict_vocab).
    :returns: ``(accuracy, n_used)``; accuracy is NaN when no question is usable.
    """
    unit = normalize_rows(np.asarray(vectors)[:restrict_vocab])  # (Vr, D)
    limit = unit.shape[0]
    ids = [[lookup(word2ind, w) for w in q] for q in questions]
    used = np.array([q for q in ids if all(i is not None and i < limit for i in q)],
                    dtype=np.int64).reshape(-1, 4)  # (Q, 4)
    if used.shape[0] == 0:
        return float("nan"), 0
    correct = 0
    for start in range(0, used.shape[0], chunk_size):  # a loop over chunks, not questions
        a, b, c, d = used[start:start + chunk_size].T  # each (q,)
        ### BEGIN SOLUTION analogy
        target = unit[b] - unit[a] + unit[c]  # (q, D)  b - a + c
        scores = target @ unit.T  # (q, Vr)  proportional to cos(x, b - a + c)
        rows = np.arange(scores.shape[0])
        scores[rows, a] = scores[rows, b] = scores[rows, c] = -np.inf  # exclude the question
        correct += int(np.sum(np.argmax(scores, axis=1) == d))
        ### END SOLUTION
    return correct / used.shape[0], int(used.shape[0])
