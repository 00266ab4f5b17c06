"""A two-layer regressor built from the course library: affine -> tanh -> affine."""

from __future__ import annotations

from nlpdojo.module import Module

from ..library.layers import Affine, Tanh


class Regressor(Module):
    def __init__(self, backend, d_in: int, d_hidden: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        self.layers = [Affine(backend, d_in, d_hidden, seed=seed), Tanh(backend),
                       Affine(backend, d_hidden, 1, seed=seed + 1)]

    def forward(self, x):
        ### BEGIN SOLUTION regressor
        caches = []
        for layer in self.layers:
            x, cache = layer(x)
            caches.append(cache)
        return x, caches
        ### END SOLUTION

    def backward(self, grad_output, cache):
        ### BEGIN SOLUTION regressor
        for layer, c in zip(reversed(self.layers), reversed(cache), strict=True):
            grad_output = layer.backward(grad_output, c)
        return grad_output
        ### END SOLUTION
