"""Losses at the end of a network (CS224n notes part III): softmax cross-entropy for a
classifier, and the max-margin objective of the window scorer.

``forward(prediction, target) -> (loss, cache)``: the loss is a 0-d array, the mean over the
batch (``xp.sum(...) / n``, never a Python float: that would stop a GPU every step);
``backward(grad_output, cache) -> dL/d(prediction)``, the prediction's shape, scaled by
``grad_output`` (dJ/dL, 1.0 at the end of the network).
"""

from __future__ import annotations

from array_api_compat import device

from nlpdojo.backend import Array
from nlpdojo.loss import Loss

__all__ = ["SoftmaxCrossEntropy", "MaxMargin"]


def _onehot(xp, target: Array, n_classes: int, dtype, device) -> Array:
    classes = xp.reshape(xp.arange(n_classes, device=device), (1, n_classes))  # (1, C)
    return xp.astype(xp.reshape(target, (-1, 1)) == classes, dtype)  # (N, C)


#: scores per block of rows in SoftmaxCrossEntropy on a CPU (256 KiB of float32: within L2)
_CACHE_BLOCK = 1 << 16


def _on_cpu(backend) -> bool:
    return str(backend.device).startswith("cpu")


class SoftmaxCrossEntropy(Loss):
    """L = −(1/N) Σ_i log softmax(s_i)[y_i] for scores s (N, C) and integer classes y (N,).

    Computed as log-sum-exp minus the true score, after subtracting each row's maximum
    (softmax is shift-invariant), so that large scores do not overflow. Gradient:
    dL/ds = (softmax(s) − onehot(y)) / N.

    The targets are class ids (N,). Building an (N, C) one-hot matrix from them is correct but
    slow with a large vocabulary (a language model: N = B·T rows of C = |V| scores; it cost a
    third of a training step): ``xp.take_along_axis`` picks the N true scores, and
    ``self.backend.scatter_add`` on the gradient flattened to (N·C, 1) subtracts 1/N at the N
    entries ``i·C + y_i`` only.
    """

    def forward(self, prediction: Array, target: Array) -> tuple[Array, tuple]:
        xp = self.xp
        ### BEGIN SOLUTION neural_networks.softmax_ce
        n, c = prediction.shape
        index = xp.reshape(xp.astype(target, xp.int64), (n, 1))  # (N, 1) class ids
        # On a CPU, rows go in blocks of about 2¹⁶ scores: the four passes over a block (max,
        # exp, sum, divide) then read it from the cache, not from memory; on a GPU one block.
        rows = max(1, _CACHE_BLOCK // c) if _on_cpu(self.backend) else n
        probs = xp.empty_like(prediction)  # (N, C) the softmax, filled block by block
        total_loss = xp.zeros((), dtype=prediction.dtype, device=device(prediction))
        for start in range(0, n, rows):
            stop = min(start + rows, n)  # the array API leaves slices past the end unspecified
            block = prediction[start:stop, :]  # (R, C)
            shifted = block - xp.max(block, axis=1, keepdims=True)  # (R, C)
            e = xp.exp(shifted)  # (R, C) unnormalised
            total = xp.sum(e, axis=1, keepdims=True)  # (R, 1)
            e /= total  # in place: softmax
            probs[start:stop, :] = e
            true = xp.take_along_axis(shifted, index[start:stop, :], axis=1)  # (R, 1)
            total_loss = total_loss + xp.sum(xp.log(total) - true)
        loss = xp.asarray(total_loss / n)  # () a 0-d array, not a scalar
        return loss, (probs, index)
        ### END SOLUTION

    def backward(self, grad_output: Array | float, cache: tuple) -> Array:
        xp = self.xp
        ### BEGIN SOLUTION neural_networks.softmax_ce
        probs, index = cache
        n, c = probs.shape
        scale = grad_output / n
        grad = xp.reshape(probs * scale, (n * c, 1))  # (N·C, 1) softmax / N, flattened
        rows = xp.arange(n, dtype=xp.int64, device=device(probs)) * c  # (N,) row starts
        ones = xp.ones((n, 1), dtype=probs.dtype, device=device(probs)) * scale  # (N, 1)
        self.backend.scatter_add(grad, rows + xp.reshape(index, (n,)), ones, alpha=-1.0)
        return xp.reshape(grad, (n, c))  # (N, C) (softmax − onehot) / N
        ### END SOLUTION


class MaxMargin(Loss):
    """The max-margin (hinge) objective of the window scorer (CS224n notes part III; Collobert
    et al. 2011, the window approach): a true window's score s should beat the score s_c of a
    corrupted window (its center word replaced) by a margin Δ (``margin``, 1):
    J = max(0, Δ − s + s_c).

    ``prediction`` (N, K): the scores of K candidate windows per example; ``target`` (N,): the
    column of the true window. J = (1/N) Σ_i Σ_{k≠y_i} max(0, Δ − s_{i,y_i} + s_{i,k}); with
    K = 2 (a true and a corrupted window) this is the notes' objective. Gradient: every
    violated pair (a positive hinge) adds +1/N to s_{i,k} and −1/N to s_{i,y_i}.
    """

    def __init__(self, backend, margin: float = 1.0) -> None:
        super().__init__(backend)
        self.margin = float(margin)

    def forward(self, prediction: Array, target: Array) -> tuple[Array, tuple]:
        xp = self.xp
        ### BEGIN SOLUTION neural_networks.max_margin
        n, k = prediction.shape
        onehot = _onehot(xp, target, k, prediction.dtype, self.backend.device)  # (N, K)
        true = xp.sum(prediction * onehot, axis=1, keepdims=True)  # (N, 1)
        hinge = (self.margin - true + prediction) * (1.0 - onehot)  # (N, K), 0 at the truth
        active = xp.astype(hinge > 0, prediction.dtype)  # (N, K)
        loss = xp.asarray(xp.sum(hinge * active) / n)  # () a 0-d array, not a scalar
        return loss, (active, onehot)
        ### END SOLUTION

    def backward(self, grad_output: Array | float, cache: tuple) -> Array:
        xp = self.xp
        ### BEGIN SOLUTION neural_networks.max_margin
        active, onehot = cache
        n = active.shape[0]
        violated = xp.sum(active, axis=1, keepdims=True)  # (N, 1)
        return (active - onehot * violated) * (grad_output / n)  # (N, K)
        ### END SOLUTION
