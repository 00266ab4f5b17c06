"""The count-based baseline (CS224n lecture 2): windowed co-occurrence counts, positive
pointwise mutual information and truncated SVD (the vectors up to each column's sign)."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    CheckFailure,
    Context,
    Question,
    call,
    calls_check,
    function_check,
    require_vectorized,
    settings_rng,
)
from nlpdojo_autograder.authoring.inputs import inputs, integers


def _counts_input(ctx: Context):
    """(12, 12) symmetric co-occurrence counts with zeros, made here: the PPMI and SVD checks
    do not depend on the student's co-occurrence counts."""
    # imported on use: scipy.sparse takes ~0.5 s to import, and few checks need it
    import scipy.sparse as sp

    upper = np.triu(ctx.rng(1).poisson(1.5, (12, 12)))  # (12, 12)
    return sp.csr_matrix((upper + np.triu(upper, 1).T).astype(np.float64))


def _svd_inputs(ctx: Context) -> dict:
    """The given counts and two sizes drawn per grading, one at most 3, one at least 5: no
    size written in gives both."""
    rng = settings_rng(ctx)
    return {"counts": _counts_input(ctx), "dim": int(rng.integers(2, 4)),
            "wide": int(rng.integers(5, 8))}


#: the windows drawn per grading, one of 1 or 2, one of 3 to 5: no window written in gives both;
#: a vocabulary larger than the ids drawn (12): a matrix sized by the largest id, vocab_size
#: ignored, kept full marks where they were equal
WINDOWS = inputs(token_ids=integers(12, 200), vocab_size=14, window=integers(3, low=1),
                 wide=integers(6, low=3))


def _stored_twice(matrix) -> bool:
    """Whether a sparse matrix as the worker sent it (its COO entries: ``row``, ``col``)
    holds an (i, j) twice."""
    if not hasattr(matrix, "row") or not hasattr(matrix, "col"):
        return False
    keys = (np.asarray(matrix.row, np.int64) * int(matrix.shape[1])
            + np.asarray(matrix.col, np.int64))
    return np.unique(keys).size < keys.size


def _vectorized_counts(ctx: Context) -> None:
    """The README's "vectorised: one slice per offset": the lines of Python of
    ``cooccurrence_matrix`` must not grow with the stream (a helper's loop over the tokens
    kept 3 of 3)."""
    require_vectorized(ctx, "count_based", "cooccurrence_matrix", lambda n: (
        np.random.default_rng([ctx.seed, n]).integers(0, 50, n), 50, 3), items="tokens")
    # the docstring's sparse matrix (a student trial: a dense one kept 3 of 3; at the
    # training's vocabulary of 10,216 words it is 835 MB of float64)
    made = ctx.function("count_based", "cooccurrence_matrix")(
        np.random.default_rng(ctx.seed).integers(0, 50, 200), 50, 3)
    if ctx.is_sparse(made) and _stored_twice(made):
        raise CheckFailure(
            "cooccurrence_matrix returned a sparse matrix that stores some (word, context) "
            "entries more than once: a COO matrix keeps its duplicates until they are summed "
            "(M[i, j] cannot even be read from it); convert it to the docstring's csr_matrix "
            "(its .tocsr() sums them) before returning it (a student trial's coo_matrix kept "
            "3 of 3)")
    if not ctx.is_sparse(made):
        raise CheckFailure(
            f"cooccurrence_matrix returned a dense {type(made).__name__}: return a SciPy "
            "sparse matrix (scipy.sparse.csr_matrix, as the docstring says), built from the "
            "(word, context) pairs without a dense |V| x |V| array: at the training's "
            "vocabulary of 10,216 words a dense one holds 835 MB")


COUNT_SVD = Question(
    "count_svd", "Co-occurrence counts, PPMI and truncated SVD", code="count_based",
    checks=[
        calls_check("cooccurrence", "cooccurrence_matrix: windowed counts", 1.0,
                    WINDOWS,
                    [call("cooccurrence_matrix", "token_ids", "vocab_size", window,
                          out=f"cooccurrence{'' if window == 'window' else ' (wider window)'}")
                     for window in ("window", "wide")], arrays="numpy",
                    after=_vectorized_counts),
        function_check("ppmi",
                       lambda ctx: ((_counts_input(ctx),), {}), check="ppmi",
                       title="ppmi on given counts", points=1.0, outputs=("ppmi",), atol=1e-8),
        calls_check("svd", "svd_vectors on given counts (up to sign)", 1.0,
                    _svd_inputs,
                    [call("svd_vectors", "counts", size, seed=0,
                          out=f"svd_vectors{'' if size == 'dim' else ' (more dimensions)'}")
                     for size in ("dim", "wide")], arrays="numpy",
                    up_to_sign={k: (k,) for k in ("svd_vectors",
                                                  "svd_vectors (more dimensions)")}),
    ])

QUESTIONS = [COUNT_SVD]
