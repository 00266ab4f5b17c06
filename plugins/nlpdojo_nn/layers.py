"""Affine layer (CS224n lecture 3, "Neural networks": z = Wx + b)."""

from __future__ import annotations

import math

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module, Parameter


class Linear(Module):
    """``y = x W + b`` for a batch of row vectors, Xavier/Glorot-initialised.

    Glorot & Bengio (2010): uniform in ±sqrt(6 / (fan_in + fan_out)) keeps activation variance
    roughly constant across layers.
    """

    def __init__(self, backend: Backend, in_features: int, out_features: int, *, seed: int = 0,
                 bias: bool = True) -> None:
        super().__init__(backend)
        bound = math.sqrt(6.0 / (in_features + out_features))
        rng = backend.rng(seed)
        self.weight = Parameter(rng.uniform((in_features, out_features), low=-bound, high=bound),
                                "weight")  # (D_in, D_out)
        self.bias = Parameter(self.xp.zeros((out_features,), dtype=backend.default_dtype,
                                            device=backend.device), "bias") if bias else None
        self._x: Array | None = None

    def forward(self, x: Array) -> Array:
        self._x = x  # (N, D_in)
        y = self.xp.matmul(x, self.weight.data)  # (N, D_out)
        return y + self.bias.data if self.bias is not None else y

    def backward(self, grad_output: Array) -> Array:
        # grad_output: (N, D_out)
        xp = self.xp
        self.weight.grad = self.weight.grad + xp.matmul(xp.matrix_transpose(self._x), grad_output)
        if self.bias is not None:
            self.bias.grad = self.bias.grad + xp.sum(grad_output, axis=0)  # (D_out,)
        return xp.matmul(grad_output, xp.matrix_transpose(self.weight.data))  # (N, D_in)
