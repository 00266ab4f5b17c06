"""The skip-gram loss for one center word and its window of outside words.

Mikolov et al. 2013a; CS224n lecture 1: for a center word ``c`` at position ``t`` and window
size ``m``, the loss is ``sum_{-m <= j <= m, j != 0} J(v_c, w_{t+j}, U)`` where ``J`` is one
pair's loss (naive softmax or negative sampling). Only row ``c`` of the center-vector matrix
receives a gradient; the outside-vector gradients of all pairs add up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from array_api_compat import array_namespace

from nlpdojo.backend import Array

from .naive_softmax import naive_softmax_loss_and_gradient


def skipgram(
    center_idx: int,
    outside_idxs: Any,
    center_vectors: Array,
    outside_vectors: Array,
    loss_and_gradient: Callable[..., tuple[float, Array, Array]] = naive_softmax_loss_and_gradient,
    negatives: Any = None,
) -> tuple[float, Array, Array]:
    """Skip-gram loss summed over one window, and its gradients.

    :param center_idx: index ``c`` of the center word.
    :param outside_idxs: (2m,) integer indices of the outside words in the window.
    :param center_vectors: (V, D) center vectors, one row per word.
    :param outside_vectors: (V, D) outside vectors.
    :param loss_and_gradient: one pair's loss, ``f(center_vec, outside_idx, outside_vectors
        [, negative_indices]) -> (loss, grad_center_vec, grad_outside_vectors)``.
    :param negatives: ``None``, or (2m, K) integer indices: row ``j`` is passed as
        ``negative_indices`` together with outside word ``j``.
    :returns: ``(loss, grad_center_vectors (V, D), grad_outside_vectors (V, D))``.
    """
    xp = array_namespace(center_vectors, outside_vectors)
    outside_list = [int(o) for o in outside_idxs]  # 2m Python ints: a window is short
    raise NotImplementedError("skipgram: not implemented yet — replace this line with your code")
    return loss, grad_center_vectors, grad_outside_vectors
