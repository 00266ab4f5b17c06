"""Losses: a scalar from predictions and targets, and the gradient of that scalar.

``forward(prediction, target) -> float`` caches what ``backward()`` needs;
``backward() -> dL/d(prediction)``, the same shape as ``prediction``. Losses average over the
batch unless documented otherwise, so learning rates do not depend on the batch size.
"""

from __future__ import annotations

from nlpdojo.backend import Array
from nlpdojo.module import Module


class Loss(Module):
    """Base class for losses (a module without parameters, ending the backward pass)."""

    def forward(self, prediction: Array, target: Array) -> float:  # type: ignore[override]
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad_output: float = 1.0) -> Array:  # type: ignore[override]
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def __call__(self, prediction: Array, target: Array) -> float:  # type: ignore[override]
        return self.forward(prediction, target)
