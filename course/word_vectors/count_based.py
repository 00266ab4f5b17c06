"""The count-based baseline (CS224n lecture 2): windowed co-occurrence counts, positive
pointwise mutual information and truncated SVD (the vectors up to each column's sign)."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import Context, Question, bug, function_check, inputs, integers


def _counts_input(ctx: Context):
    """(12, 12) symmetric co-occurrence counts with zeros, made here: the PPMI and SVD checks
    do not depend on the student's co-occurrence counts."""
    import scipy.sparse as sp

    upper = np.triu(ctx.rng(1).poisson(1.5, (12, 12)))  # (12, 12)
    return sp.csr_matrix((upper + np.triu(upper, 1).T).astype(np.float64))


COUNT_SVD = Question(
    "count_svd", "Co-occurrence counts, PPMI and truncated SVD", code="count_based",
    checks=[
        function_check("count_svd", "count_based", "cooccurrence_matrix",
                       inputs(token_ids=integers(12, 200), vocab_size=12, window=2),
                       arrays="numpy", check="cooccurrence",
                       title="cooccurrence_matrix: windowed counts", points=1.0,
                       outputs=("cooccurrence",)),
        function_check("count_svd", "count_based", "ppmi",
                       lambda ctx: ((_counts_input(ctx),), {}), check="ppmi",
                       title="ppmi on given counts", points=1.0, outputs=("ppmi",), atol=1e-8),
        function_check("count_svd", "count_based", "svd_vectors",
                       lambda ctx: ((_counts_input(ctx), 4), {"seed": 0}), check="svd",
                       title="svd_vectors on given counts (up to sign)", points=1.0,
                       outputs=("svd_vectors",),
                       up_to_sign={"svd_vectors": ("svd_vectors",)}),
    ],
    planted_bugs=[
        bug("svd columns in ascending order", "count_based",
            "order = np.argsort(s)[::-1]", "order = np.argsort(s)", "count_svd"),
    ])

QUESTIONS = [COUNT_SVD]
