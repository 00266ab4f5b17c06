"""The count-based baseline: a windowed co-occurrence matrix, PPMI, and truncated SVD.

Before word2vec, word vectors came from factorising co-occurrence counts (CS224n lecture 2 and
notes "Word Vectors I", section "SVD based methods"; Rohde et al. 2005's COALS). Levy &
Goldberg 2014 ("Neural Word Embedding as Implicit Matrix Factorization") showed that skip-gram
with negative sampling implicitly factorises a shifted pointwise-mutual-information matrix,
and Levy, Goldberg & Dagan 2015 ("Improving Distributional Similarity with Lessons Learned
from Word Embeddings") that PPMI + SVD is competitive once given word2vec's tricks.

What :func:`svd_vectors` does (Levy, Goldberg & Dagan 2015, section 3):

1. **PPMI with context-distribution smoothing**: ``PPMI(w, c) = max(0, log P(w, c) /
   (P(w) P_a(c)))`` with ``P_a(c) = #c^a / sum_c' #c'^a`` and ``a = 0.75`` (the same 3/4 power
   as word2vec's negative-sampling distribution). Only observed pairs can be positive, so the
   matrix stays sparse.
2. **Truncated SVD** ``M ~ U_d S_d V_d^T`` (the ``dim`` largest singular values).
3. **Eigenvalue weighting** ``W = U_d S_d^{1/2}`` (their ``p = 0.5``; ``p = 1`` is the plain
   rank-d reconstruction, which they found worse on similarity tasks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

# SciPy's sparse matrices are imported in the functions that use them: the import takes ~0.3 s,
# and the grader imports this module for every word_vectors question, most of which never
# build one
if TYPE_CHECKING:
    import scipy.sparse as sp

CONTEXT_SMOOTHING = 0.75


def cooccurrence_matrix(token_ids: np.ndarray, vocab_size: int, window: int) -> sp.csr_matrix:
    """Symmetric windowed co-occurrence counts.

    ``M[w, c]`` = the number of positions ``t`` and offsets ``1 <= |j| <= window`` with
    ``token_ids[t] == w`` and ``token_ids[t + j] == c``; so ``M`` is symmetric and a word next
    to itself counts on the diagonal. Built without a loop over tokens: one slice per offset.

    :param token_ids: (N,) integer word indices in ``[0, vocab_size)``.
    :returns: (V, V) ``scipy.sparse.csr_matrix`` of float64 counts, duplicates summed.
    """
    import scipy.sparse as sp

    token_ids = np.asarray(token_ids, dtype=np.int64)
    ### BEGIN SOLUTION count_svd
    rows, cols = [], []
    for j in range(1, window + 1):  # one vectorised slice per offset, not per token
        left, right = token_ids[:-j], token_ids[j:]  # (N - j,) pairs at distance j
        rows += [left, right]  # both directions: symmetric
        cols += [right, left]
    rows, cols = np.concatenate(rows), np.concatenate(cols)  # (2 * sum_j (N - j),)
    counts = sp.coo_matrix((np.ones(rows.shape[0]), (rows, cols)),
                           shape=(vocab_size, vocab_size))
    return counts.tocsr()  # (V, V), the conversion sums duplicate (row, col) entries
    ### END SOLUTION


def ppmi(matrix: sp.spmatrix, alpha: float = CONTEXT_SMOOTHING) -> sp.csr_matrix:
    """Positive PMI with context-distribution smoothing (see the module docstring).

    :param matrix: (V, V) co-occurrence counts.
    :returns: (V, V) sparse PPMI matrix with the same (or fewer) stored entries.
    """
    import scipy.sparse as sp

    counts = sp.coo_matrix(matrix, dtype=np.float64)
    counts.sum_duplicates()
    ### BEGIN SOLUTION count_svd
    word_totals = np.asarray(counts.sum(axis=1)).ravel()  # (V,)  #w
    context_totals = np.asarray(counts.sum(axis=0)).ravel() ** alpha  # (V,)  #c^a
    log_p_context = np.log(np.maximum(context_totals, 1e-300)) - np.log(context_totals.sum())
    # log P(w,c) / (P(w) P_a(c)) = log #(w,c) - log #w - log P_a(c)
    pmi = (np.log(counts.data) - np.log(word_totals[counts.row])
           - log_p_context[counts.col])  # (nnz,)
    keep = pmi > 0
    out = sp.coo_matrix((pmi[keep], (counts.row[keep], counts.col[keep])), shape=counts.shape)
    ### END SOLUTION
    return out.tocsr()


def svd_vectors(matrix: sp.spmatrix, dim: int, *, seed: int = 0) -> np.ndarray:
    """Word vectors from co-occurrence counts: PPMI, truncated SVD, ``U_d S_d^{1/2}``.

    :param matrix: (V, V) co-occurrence counts (e.g. from :func:`cooccurrence_matrix`).
    :param dim: number of dimensions ``d`` (``d < V``).
    :param seed: seeds ARPACK's start vector, so the result is reproducible.
    :returns: (V, dim) float64 word vectors, columns in order of decreasing singular value.
    """
    import scipy.sparse.linalg as spla

    weighted = ppmi(matrix)  # (V, V)
    v0 = np.random.default_rng(seed).uniform(-1.0, 1.0, min(weighted.shape))
    ### BEGIN SOLUTION count_svd
    u, s, _ = spla.svds(weighted, k=dim, v0=v0)  # (V, d), (d,): ascending order
    order = np.argsort(s)[::-1]
    vectors = u[:, order] * np.sqrt(s[order])[None, :]  # (V, d)  U_d S_d^(1/2)
    ### END SOLUTION
    # Fix each column's sign (SVD leaves it arbitrary): largest-magnitude entry positive.
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(dim)])
    return vectors * np.where(signs == 0, 1.0, signs)[None, :]
