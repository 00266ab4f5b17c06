"""Affine layer (CS224n lecture 3, "Neural networks": z = Wx + b).

Forward and backward follow CS231n's ``affine_forward`` / ``affine_backward``: the cache is the
input, so one layer applied T times keeps T caches and each backward call is exact.
"""

from __future__ import annotations

import math

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Cache, Module, Parameter


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

    def forward(self, x: Array) -> tuple[Array, Cache]:
        y = self.xp.matmul(x, self.weight.data)  # (N, D_in) @ (D_in, D_out) -> (N, D_out)
        if self.bias is not None:
            y = y + self.bias.data  # (N, D_out)
        return y, x  # cache: the input, (N, D_in)

    def backward(self, grad_output: Array, cache: Cache) -> Array:
        xp, x = self.xp, cache  # grad_output: (N, D_out); x: (N, D_in)
        self.weight.accumulate(xp.matmul(xp.matrix_transpose(x), grad_output))  # (D_in, D_out)
        if self.bias is not None:
            self.bias.accumulate(xp.sum(grad_output, axis=0))  # (D_out,)
        return xp.matmul(grad_output, xp.matrix_transpose(self.weight.data))  # (N, D_in)
