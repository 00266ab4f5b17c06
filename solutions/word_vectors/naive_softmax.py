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
    ### BEGIN SOLUTION naive_softmax
    scores = xp.matmul(outside_vectors, center_vec)  # (V,)  u_w . v_c for every word w
    y_hat = softmax(scores)  # (V,)  P(w | c)
    # -log softmax(s)[o] = logsumexp(s) - s[o], computed stably (never log(0)).
    m = xp.max(scores)
    loss = xp.log(xp.sum(xp.exp(scores - m))) + m - scores[outside_idx]
    delta = y_hat * 1.0  # (V,)  a copy: y_hat - y
    delta[outside_idx] -= 1.0
    grad_center_vec = xp.matmul(delta, outside_vectors)  # (D,)  U^T (y_hat - y)
    grad_outside_vectors = delta[:, None] * center_vec[None, :]  # (V, D)  (y_hat - y) v_c^T
    ### END SOLUTION
    return float(loss), grad_center_vec, grad_outside_vectors
