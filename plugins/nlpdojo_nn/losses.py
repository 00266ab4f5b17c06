"""Softmax cross-entropy (CS224n lecture 3): L = -(1/N) Σ_i log softmax(s_i)[y_i]."""

from __future__ import annotations

from nlpdojo.backend import Array
from nlpdojo.loss import Loss


class SoftmaxCrossEntropy(Loss):
    """Mean cross-entropy of integer targets under softmax(scores).

    Forward subtracts the row maximum before exponentiating (softmax is shift-invariant), so
    large scores do not overflow. Backward: dL/ds = (softmax(s) - onehot(y)) / N.
    """

    def forward(self, prediction: Array, target: Array) -> float:
        xp = self.xp
        shifted = prediction - xp.max(prediction, axis=1, keepdims=True)  # (N, C)
        log_z = xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))  # (N, 1)
        log_probs = shifted - log_z  # (N, C)
        n = prediction.shape[0]
        self._probs = xp.exp(log_probs)
        self._target = target
        picked = xp.take_along_axis(log_probs, xp.reshape(target, (n, 1)), axis=1)  # (N, 1)
        return float(-xp.sum(picked) / n)

    def backward(self, grad_output: float = 1.0) -> Array:
        xp = self.xp
        n, c = self._probs.shape
        classes = xp.reshape(xp.arange(c, device=self.backend.device), (1, c))
        onehot = xp.astype(
            xp.reshape(self._target, (n, 1)) == classes,
            self._probs.dtype,
        )  # (N, C)
        return (self._probs - onehot) * (grad_output / n)
