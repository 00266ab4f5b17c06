"""Naive-softmax skip-gram loss and its gradients for one (center, outside) pair.

Skip-gram (Mikolov et al. 2013a, "Efficient Estimation of Word Representations in Vector Space")
models the probability of an outside word ``o`` given a center word ``c`` as

    P(o | c) = exp(u_o . v_c) / sum_w exp(u_w . v_c)

with ``v_c`` a row of the center-vector matrix and ``u_w`` the rows of the outside-vector matrix
``U`` (V, D). The loss for one pair is ``J = -log P(o | c)``; with ``y_hat = softmax(U v_c)`` and
``y`` the one-hot vector of ``o`` (CS224n notes "Word Vectors I", assignment 2 written part):

    dJ/dv_c = U^T (y_hat - y)            = -u_o + sum_w P(w | c) u_w
    dJ/dU   = (y_hat - y) v_c^T          (row w: (P(w | c) - [w = o]) v_c)

"Naive" because the normaliser sums over the whole vocabulary: O(V D) per pair.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from nlpdojo.backend import Array

from .softmax import softmax


def naive_softmax_loss_and_gradient(
    center_vec: Array, outside_idx: int, outside_vectors: Array
) -> tuple[float, Array, Array]:
    """Loss ``-log softmax(U v_c)[o]`` and its gradients for one pair.

    :param center_vec: ``v_c``, shape (D,).
    :param outside_idx: ``o``, the index of the outside word.
    :param outside_vectors: ``U``, shape (V, D), one outside vector per row.
    :returns: ``(loss, grad_center_vec (D,), grad_outside_vectors (V, D))``; ``loss`` is a
        Python float.
    """
    xp = array_namespace(center_vec, outside_vectors)
    raise NotImplementedError("naive_softmax: not implemented yet — replace this line with your code")
    return float(loss), grad_center_vec, grad_outside_vectors
