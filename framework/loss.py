"""Losses: a scalar from predictions and targets, and the gradient of that scalar.

The module contract (:mod:`nlpdojo.module`) with two inputs and a scalar output::

    loss, cache = loss_fn(prediction, target)     # loss: a 0-d array, prediction's dtype/device
    d_prediction = loss_fn.backward(1.0, cache)   # same shape as prediction

The loss stays a 0-d array on the backend's device, never a Python float: converting it
(``float(loss)``) waits for the device, so do that only when logging. ``backward`` returns
dL/d(prediction) alone: the target (labels, token ids) is never differentiated. Losses average
over the batch unless documented otherwise, so learning rates do not depend on the batch size.
"""

from __future__ import annotations

from typing import Any

from nlpdojo.backend import Array
from nlpdojo.module import Cache, Module


class Loss(Module):
    """Base class for losses (a module without parameters, ending the backward pass)."""

    def forward(self, prediction: Array, target: Array) -> tuple[Array, Cache]:  # type: ignore[override]
        """``(loss, cache)``: ``loss`` a 0-d array with ``prediction``'s dtype and device;
        ``cache`` plain data, as for every module."""
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad_output: Any, cache: Cache) -> Array:
        """dL/d(prediction), scaled by ``grad_output`` (a number or 0-d array, usually 1.0)."""
        raise NotImplementedError(f"{type(self).__name__}.backward")
