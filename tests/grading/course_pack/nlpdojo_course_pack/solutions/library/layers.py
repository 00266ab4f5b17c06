"""An affine layer and tanh, with explicit forward and backward (the module contract)."""

from __future__ import annotations

from nlpdojo.module import Module, Parameter


class Affine(Module):
    """``y = x W + b``."""

    def __init__(self, backend, d_in: int, d_out: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        rng = backend.rng(seed)
        self.weight = Parameter(rng.normal((d_in, d_out), std=0.5), "weight")  # (D_in, D_out)
        self.bias = Parameter(self.xp.zeros((d_out,), dtype=backend.default_dtype,
                                            device=backend.device), "bias")

    def forward(self, x):
        ### BEGIN SOLUTION layers.affine
        y = self.xp.matmul(x, self.weight.data) + self.bias.data  # (N, D_out)
        return y, (x,)
        ### END SOLUTION

    def backward(self, grad_output, cache):
        ### BEGIN SOLUTION layers.affine
        (x,) = cache
        xp = self.xp
        self.weight.grad = self.weight.grad + xp.matmul(xp.matrix_transpose(x), grad_output)
        self.bias.grad = self.bias.grad + xp.sum(grad_output, axis=0)  # (D_out,)
        return xp.matmul(grad_output, xp.matrix_transpose(self.weight.data))  # (N, D_in)
        ### END SOLUTION


class Tanh(Module):
    """Element-wise tanh (given code: no question)."""

    def forward(self, x):
        y = self.xp.tanh(x)
        return y, (y,)

    def backward(self, grad_output, cache):
        (y,) = cache
        return grad_output * (1.0 - y * y)
