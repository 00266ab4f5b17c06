"""Data preprocessing (CS224n notes part III, "Data Preprocessing"): mean subtraction,
normalization and PCA whitening of feature vectors, one example per row.

Every statistic (mean, standard deviation, covariance) is computed on the **training split
only** and then applied unchanged to every split: a test set's statistics are information the
model must not see, and a test example must be transformed the same way whatever else is in
the test set.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from nlpdojo.backend import Array


def fit_normalizer(train: Array) -> tuple[Array, Array]:
    """``(mean, std)`` per feature (each (D,)) of ``train`` (N, D): the population standard
    deviation (divide by N); a constant feature (std 0) gets std 1, so dividing leaves it 0."""
    xp = array_namespace(train)
    ### BEGIN SOLUTION normalize
    mean = xp.mean(train, axis=0)  # (D,)
    std = xp.sqrt(xp.mean((train - mean) ** 2, axis=0))  # (D,)
    return mean, xp.where(std > 0, std, xp.ones_like(std))
    ### END SOLUTION


def normalize(x: Array, mean: Array, std: Array) -> Array:
    """(x − mean) / std, row by row: x (N, D), mean and std (D,). With ``std`` all ones this
    is mean subtraction alone."""
    ### BEGIN SOLUTION normalize
    return (x - mean) / std  # (N, D)
    ### END SOLUTION


def fit_whitening(train: Array, eps: float = 1e-5) -> tuple[Array, Array]:
    """``(mean, projection)`` of PCA whitening fitted on ``train`` (N, D).

    With Σ = X̃ᵀX̃ / N the covariance of the centred data X̃ = train − mean, and Σ = U Λ Uᵀ its
    eigendecomposition (``xp.linalg.eigh``, eigenvalues in ascending order), the projection
    (D, D) is U Λ^(−1/2) with its columns in *descending* order of eigenvalue (the principal
    components first) and ``eps`` added to each eigenvalue before the square root (a
    direction of almost no variance would otherwise be blown up). An eigenvector's sign is
    arbitrary: either is right.
    """
    xp = array_namespace(train)
    ### BEGIN SOLUTION whitening
    mean = xp.mean(train, axis=0)  # (D,)
    centred = train - mean  # (N, D)
    cov = xp.matmul(xp.matrix_transpose(centred), centred) / train.shape[0]  # (D, D)
    eigenvalues, vectors = xp.linalg.eigh(cov)  # (D,), (D, D)  ascending
    eigenvalues, vectors = xp.flip(eigenvalues), xp.flip(vectors, axis=1)  # descending
    return mean, vectors / xp.sqrt(eigenvalues + eps)  # (D,), (D, D)
    ### END SOLUTION


def whiten(x: Array, mean: Array, projection: Array) -> Array:
    """(x − mean) · projection: x (N, D) in the whitened coordinates (N, D); on the training
    split their covariance is (nearly) the identity."""
    xp = array_namespace(x)
    ### BEGIN SOLUTION whitening
    return xp.matmul(x - mean, projection)  # (N, D)
    ### END SOLUTION


def preprocess_splits(train: Array, test: Array, method: str) -> tuple[Array, Array]:
    """``(train', test')``: both splits preprocessed with statistics of ``train`` alone.
    ``method``: ``"center"`` (mean subtraction), ``"normalize"`` (mean subtraction and division
    by the standard deviation) or ``"whiten"`` (PCA whitening)."""
    if method not in ("center", "normalize", "whiten"):
        raise ValueError(f"unknown method {method!r}: use 'center', 'normalize' or 'whiten'")
    xp = array_namespace(train)
    ### BEGIN SOLUTION preprocess_splits
    if method == "whiten":
        mean, projection = fit_whitening(train)
        return whiten(train, mean, projection), whiten(test, mean, projection)
    mean, std = fit_normalizer(train)
    if method == "center":
        std = xp.ones_like(std)
    return normalize(train, mean, std), normalize(test, mean, std)
    ### END SOLUTION
