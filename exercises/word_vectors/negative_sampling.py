"""Skip-gram with negative sampling (SGNS): loss and gradients, one pair and a minibatch.

Mikolov et al. 2013b ("Distributed Representations of Words and Phrases and their
Compositionality") replace the V-way softmax by a binary task: tell the true outside word ``o``
apart from ``K`` "negative" words drawn from the unigram distribution raised to the 3/4 power.
With ``sigma`` the logistic sigmoid, the loss for one pair is (CS224n notes "Word Vectors I")

    J = -log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c)

and its gradients, using ``d/dx log sigma(x) = 1 - sigma(x) = sigma(-x)``:

    dJ/dv_c = (sigma(u_o . v_c) - 1) u_o + sum_k sigma(u_k . v_c) u_k
    dJ/du_o = (sigma(u_o . v_c) - 1) v_c
    dJ/du_k =  sigma(u_k . v_c) v_c          (summed when a word is drawn several times)

Cost per pair: O(K D) instead of O(V D). ``log sigma`` is computed as
``min(x, 0) - log(1 + exp(-|x|))`` so that it never takes ``log(0)`` or overflows ``exp``.
"""

from __future__ import annotations

from array_api_compat import array_namespace
from array_api_compat import device as array_device

from nlpdojo.backend import Array


def sigmoid(x: Array) -> Array:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, elementwise, without overflow for large ``|x|``."""
    xp = array_namespace(x)
    z = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
    return xp.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def log_sigmoid(x: Array) -> Array:
    """``log sigma(x)``, elementwise, stable: ``min(x, 0) - log1p(exp(-|x|))``."""
    xp = array_namespace(x)
    return xp.minimum(x, xp.zeros_like(x)) - xp.log1p(xp.exp(-xp.abs(x)))


def neg_sampling_loss_and_gradient(
    center_vec: Array, outside_idx: int, outside_vectors: Array, negative_indices: Array
) -> tuple[float, Array, Array]:
    """Negative-sampling loss and gradients for one (center, outside) pair and K negatives.

    :param center_vec: ``v_c``, shape (D,).
    :param outside_idx: ``o``, the index of the true outside word.
    :param outside_vectors: ``U``, shape (V, D).
    :param negative_indices: shape (K,) integer indices of the negative words; a word may
        appear several times, and each occurrence contributes to its gradient row.
    :returns: ``(loss, grad_center_vec (D,), grad_outside_vectors (V, D))``.
    """
    xp = array_namespace(center_vec, outside_vectors)
    negative_indices = xp.asarray(negative_indices, device=array_device(outside_vectors))
    V = outside_vectors.shape[0]
    raise NotImplementedError("neg_sampling: not implemented yet — replace this line with your code")
    return float(loss), grad_center_vec, grad_outside_vectors


def sgns_batch_loss_and_gradients(
    center: Array, outside: Array, negatives: Array
) -> tuple[Array, Array, Array, Array]:
    """SGNS loss and gradients for a minibatch of B pairs, on gathered vectors.

    The trainer gathers the rows (``center = V_in[c]``, ``outside = U[o]``,
    ``negatives = U[n]``) and scatters the gradients back, so this function only sees dense
    blocks and runs as a few batched products.

    Look at the gradients of the outside and negative vectors: ``dJ/du_o = (σ(s_o) - 1) v_c``
    and ``dJ/du_k = σ(s_k) v_c`` are *multiples of the center vector*, an outer product, as
    ``dJ/dW = δ x^T`` is for a linear layer (CS224n lecture 3). So instead of building the
    (B, K, D) block of gradients, return the multiples: the trainer applies
    ``coef[b, k] * v_c[b]`` to row ``n[b, k]`` as one sparse-matrix product, and never writes
    or reads K x D numbers per pair for them (``sgd.sparse_outer_update``).

    :param center: (B, D) center vectors ``v_c``.
    :param outside: (B, D) outside vectors ``u_o``.
    :param negatives: (B, K, D) negative vectors ``u_k``, K per pair.
    :returns: ``(loss, grad_center (B, D), coef_outside (B,), coef_negatives (B, K))`` with
        ``dJ/du_o[b] = coef_outside[b] * center[b]`` and
        ``dJ/du_k[b, k] = coef_negatives[b, k] * center[b]``; ``loss`` is the sum of the B pair
        losses, as a 0-d array: not ``float(loss)``, which on a GPU waits for the device to
        finish the batch (the trainer adds the losses up on the device and reads them rarely).
    """
    xp = array_namespace(center, outside, negatives)
    raise NotImplementedError("sgns_batch: not implemented yet — replace this line with your code")
    return loss, grad_center, coef_outside, coef_negatives
