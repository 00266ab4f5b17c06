"""Softmax cross-entropy (CS224n lecture 3): L = -(1/N) Σ_i log softmax(s_i)[y_i]."""

from __future__ import annotations

from typing import Any

from nlpdojo.backend import Array
from nlpdojo.loss import Loss
from nlpdojo.module import Cache


class SoftmaxCrossEntropy(Loss):
    """Mean cross-entropy of integer targets under softmax(scores).

    Forward subtracts the row maximum before exponentiating (softmax is shift-invariant), so
    large scores do not overflow. Backward: dL/ds = (softmax(s) - onehot(y)) / N. The cache is
    ``(probs, target)``.
    """

    def forward(self, prediction: Array, target: Array) -> tuple[Array, Cache]:
        xp = self.xp
        n = prediction.shape[0]  # prediction: (N, C) scores; target: (N,) integer classes
        shifted = prediction - xp.max(prediction, axis=1, keepdims=True)  # (N, C)
        log_z = xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))  # (N, 1)
        log_probs = shifted - log_z  # (N, C)
        picked = xp.take_along_axis(log_probs, xp.reshape(target, (n, 1)), axis=1)  # (N, 1)
        loss = xp.asarray(-xp.sum(picked) / n)  # () on the device: NumPy's sum gives a scalar
        return loss, (xp.exp(log_probs), target)

    def backward(self, grad_output: Any, cache: Cache) -> Array:
        xp, (probs, target) = self.xp, cache  # probs: (N, C); target: (N,)
        n, c = probs.shape
        classes = xp.reshape(xp.arange(c, device=self.backend.device), (1, c))  # (1, C)
        onehot = xp.astype(xp.reshape(target, (n, 1)) == classes, probs.dtype)  # (N, C)
        return (probs - onehot) * (grad_output / n)  # (N, C)
