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
        raise NotImplementedError("neural_networks.sigmoid: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        raise NotImplementedError("neural_networks.sigmoid: not implemented yet — replace this line with your code")


class Tanh(Module):
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)) = 2σ(2z) − 1; tanh'(z) = 1 − tanh²(z)."""

    def forward(self, x: Array) -> tuple[Array, tuple]:
        raise NotImplementedError("neural_networks.tanh: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        raise NotImplementedError("neural_networks.tanh: not implemented yet — replace this line with your code")


class HardTanh(Module):
    """hardtanh(z) = −1 for z < −1, z for −1 ≤ z ≤ 1, 1 for z > 1; its derivative is 1 inside
    (−1, 1) and 0 outside (0 at the kinks themselves, as in torch)."""

    def forward(self, x: Array) -> tuple[Array, tuple]:
        raise NotImplementedError("neural_networks.hard_tanh: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        raise NotImplementedError("neural_networks.hard_tanh: not implemented yet — replace this line with your code")


class SoftSign(Module):
    """softsign(z) = z / (1 + |z|); softsign'(z) = 1 / (1 + |z|)²."""

    def forward(self, x: Array) -> tuple[Array, tuple]:
        raise NotImplementedError("neural_networks.soft_sign: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        raise NotImplementedError("neural_networks.soft_sign: not implemented yet — replace this line with your code")


class ReLU(Module):
    """relu(z) = max(z, 0); its derivative is 1 for z > 0 and 0 otherwise."""

    def forward(self, x: Array) -> tuple[Array, tuple]:
        raise NotImplementedError("neural_networks.relu: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        raise NotImplementedError("neural_networks.relu: not implemented yet — replace this line with your code")


class LeakyReLU(Module):
    """leaky(z) = z for z > 0 and k·z otherwise (``negative_slope`` k, 0.01 as in torch): a
    small gradient flows even where the unit is "off", so it cannot die."""

    def __init__(self, backend: Backend, negative_slope: float = 0.01) -> None:
        super().__init__(backend)
        self.negative_slope = float(negative_slope)

    def forward(self, x: Array) -> tuple[Array, tuple]:
        raise NotImplementedError("neural_networks.leaky_relu: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        raise NotImplementedError("neural_networks.leaky_relu: not implemented yet — replace this line with your code")
