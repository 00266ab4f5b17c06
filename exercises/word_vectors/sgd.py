"""Stochastic gradient descent for word vectors: word2vec's learning-rate schedule and sparse
row updates.

word2vec (Mikolov et al. 2013a, b; the reference C code) decays the learning rate linearly
over the words it will process, ``lr0 * (1 - step / total_steps)``, and never lets it fall below
``lr0 * 1e-4``. A minibatch only touches the
rows of the words it contains, so the update is applied to those rows alone (a "sparse" SGD
step); a word that occurs several times in the batch receives the *sum* of its gradients,
exactly as the gradient of an embedding look-up requires (CS224n notes "Word Vectors I",
section on SGD; lecture 2).
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend


def linear_decay(step: int, total_steps: int, lr0: float, lr_min: float | None = None) -> float:
    """Learning rate at ``step`` of ``total_steps``: ``lr0 * (1 - step / total_steps)``, a line
    from ``lr0`` at step 0 to 0 at ``total_steps``, but never below ``lr_min`` (default
    ``1e-4 * lr0``, as in word2vec); steps past the end keep ``lr_min``. A schedule of
    ``total_steps = 0`` is taken as one of 1 step (no division by zero): ``lr0`` at step 0,
    ``lr_min`` after."""
    if lr_min is None:
        lr_min = 1e-4 * lr0
    raise NotImplementedError("sgd: not implemented yet — replace this line with your code")


def sparse_sgd_update(backend: Backend, matrix: Array, rows: Array, grads: Array,
                      lr: float) -> Array:
    """One SGD step on the rows of ``matrix`` named by ``rows``, in place.

    :param matrix: (V, D) parameters.
    :param rows: (N,) integer row indices, repeats allowed.
    :param grads: (N, D) gradient of the loss with respect to ``matrix[rows[i]]``.
    :param lr: learning rate.
    :returns: ``matrix``, updated in place: ``matrix[r] -= lr * (sum of grads[i] with
        rows[i] == r)``. ``backend.scatter_add(target, index, values, alpha=...)`` adds
        ``alpha * values[i]`` to ``target[index[i]]``, repeats summed, in place.
    """
    raise NotImplementedError("sgd: not implemented yet — replace this line with your code")


def sparse_outer_update(backend: Backend, matrix: Array, rows: Array, coefs: Array,
                        vectors: Array, lr: float) -> Array:
    """One SGD step on rows whose gradients are multiples of known vectors, in place.

    :param matrix: (V, D) parameters.
    :param rows: (B, M) integer row indices, repeats allowed.
    :param coefs: (B, M) the gradient of ``matrix[rows[b, m]]`` is ``coefs[b, m] * vectors[b]``.
    :param vectors: (B, D).
    :param lr: learning rate.
    :returns: ``matrix``, updated in place: ``matrix[rows[b, m]] -= lr * coefs[b, m] *
        vectors[b]``, summed over repeats, without building the (B, M, D) block of gradients.
        ``backend.scatter_add_weighted(target, index, weights, rows, alpha=...)`` adds
        ``alpha * weights[b, m] * rows[b]`` to ``target[index[b, m]]``, in place.
    """
    raise NotImplementedError("sgd: not implemented yet — replace this line with your code")
