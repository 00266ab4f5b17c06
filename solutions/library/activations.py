"""Element-wise non-linearities as layers, each backward next to its forward (CS224n notes
part III, "Neural Networks, Backpropagation": neurons and their activation functions).

A non-linearity f is applied element by element, so dL/dz = dL/da ∘ f'(z): the backward pass
multiplies the upstream gradient by the derivative, element by element. Where f' is easiest
to write through the output a = f(z) (sigmoid, tanh), the cache keeps a; otherwise it keeps z.
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

__all__ = ["Sigmoid", "Tanh", "HardTanh", "SoftSign", "ReLU", "LeakyReLU"]


class Sigmoid(Module):
    """σ(z) = 1 / (1 + e^(−z)); σ'(z) = σ(z)(1 − σ(z))."""

    def forward(self, x: Array) -> tuple[Array, tuple]:
        xp = self.xp
        ### BEGIN SOLUTION neural_networks.sigmoid
        # two branches so that e^(−z) never overflows: for z < 0 use e^z / (1 + e^z)
        e = xp.exp(-xp.abs(x))  # (...)  in (0, 1]
        y = xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))  # (...)
        return y, (y,)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        ### BEGIN SOLUTION neural_networks.sigmoid
        (y,) = cache
        return grad_output * y * (1.0 - y)  # (...)
        ### END SOLUTION


class Tanh(Module):
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)) = 2σ(2z) − 1; tanh'(z) = 1 − tanh²(z)."""

    def forward(self, x: Array) -> tuple[Array, tuple]:
        ### BEGIN SOLUTION neural_networks.tanh
        y = self.xp.tanh(x)  # (...)
        return y, (y,)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        ### BEGIN SOLUTION neural_networks.tanh
        (y,) = cache
        return grad_output * (1.0 - y * y)  # (...)
        ### END SOLUTION


class HardTanh(Module):
    """hardtanh(z) = −1 for z < −1, z for −1 ≤ z ≤ 1, 1 for z > 1; its derivative is 1 inside
    (−1, 1) and 0 outside (0 at the kinks themselves, as in torch)."""

    def forward(self, x: Array) -> tuple[Array, tuple]:
        ### BEGIN SOLUTION neural_networks.hard_tanh
        y = self.xp.clip(x, -1.0, 1.0)  # (...)
        return y, (x,)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        ### BEGIN SOLUTION neural_networks.hard_tanh
        (x,) = cache
        inside = (x > -1.0) & (x < 1.0)  # (...) bool
        return self.xp.where(inside, grad_output, 0.0 * grad_output)  # (...)
        ### END SOLUTION


class SoftSign(Module):
    """softsign(z) = z / (1 + |z|); softsign'(z) = 1 / (1 + |z|)²."""

    def forward(self, x: Array) -> tuple[Array, tuple]:
        ### BEGIN SOLUTION neural_networks.soft_sign
        y = x / (1.0 + self.xp.abs(x))  # (...)
        return y, (x,)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        ### BEGIN SOLUTION neural_networks.soft_sign
        (x,) = cache
        d = 1.0 + self.xp.abs(x)  # (...)
        return grad_output / (d * d)
        ### END SOLUTION


class ReLU(Module):
    """relu(z) = max(z, 0); its derivative is 1 for z > 0 and 0 otherwise."""

    def forward(self, x: Array) -> tuple[Array, tuple]:
        ### BEGIN SOLUTION neural_networks.relu
        y = self.xp.maximum(x, 0.0)  # (...): one pass
        return y, (x,)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        ### BEGIN SOLUTION neural_networks.relu
        (x,) = cache
        return grad_output * self.xp.astype(x > 0, grad_output.dtype)  # (...)
        ### END SOLUTION


class LeakyReLU(Module):
    """leaky(z) = z for z > 0 and k·z otherwise (``negative_slope`` k, 0.01 as in torch): a
    small gradient flows even where the unit is "off", so it cannot die."""

    def __init__(self, backend: Backend, negative_slope: float = 0.01) -> None:
        super().__init__(backend)
        self.negative_slope = float(negative_slope)

    def forward(self, x: Array) -> tuple[Array, tuple]:
        ### BEGIN SOLUTION neural_networks.leaky_relu
        y = self.xp.where(x > 0, x, self.negative_slope * x)  # (...)
        return y, (x,)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        ### BEGIN SOLUTION neural_networks.leaky_relu
        (x,) = cache
        return self.xp.where(x > 0, grad_output, self.negative_slope * grad_output)  # (...)
        ### END SOLUTION
