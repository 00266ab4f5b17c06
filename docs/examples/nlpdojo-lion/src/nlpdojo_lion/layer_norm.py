"""Layer normalization (Ba, Kiros & Hinton 2016, "Layer Normalization", arXiv:1607.06450) as a
layer of the module contract: a plugin may register layers as well as optimizers.

Over the last axis of x (..., D), with a gain γ (D,) and a shift β (D,):

    μ = mean(x),  σ = sqrt(var(x) + ε),  x̂ = (x − μ) / σ,  y = γ x̂ + β

Backward (g = dL/dy): dL/dγ = Σ g x̂ and dL/dβ = Σ g over every axis but the last, and with
ĝ = g γ:  dL/dx = (ĝ − mean(ĝ) − x̂ mean(ĝ x̂)) / σ  (means over the last axis).
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Cache, Module, Parameter


class LayerNorm(Module):
    """``y = γ (x − μ) / σ + β`` over the last axis; γ starts at ones and β at zeros."""

    def __init__(self, backend: Backend, features: int, *, eps: float = 1e-5) -> None:
        super().__init__(backend)
        xp, dtype, device = self.xp, backend.default_dtype, backend.device
        self.eps = float(eps)
        self.gain = Parameter(xp.ones((features,), dtype=dtype, device=device), "gain")  # (D,)
        self.shift = Parameter(xp.zeros((features,), dtype=dtype, device=device), "shift")

    def forward(self, x: Array) -> tuple[Array, Cache]:
        xp = self.xp
        mu = xp.mean(x, axis=-1, keepdims=True)  # (..., 1)
        sigma = xp.sqrt(xp.var(x, axis=-1, keepdims=True) + self.eps)  # (..., 1)
        x_hat = (x - mu) / sigma  # (..., D)
        return self.gain.data * x_hat + self.shift.data, (x_hat, sigma)

    def backward(self, grad_output: Array, cache: Cache) -> Array:
        xp = self.xp
        x_hat, sigma = cache
        rows = tuple(range(grad_output.ndim - 1))  # every axis but the last
        self.gain.accumulate(xp.sum(grad_output * x_hat, axis=rows))  # (D,)
        self.shift.accumulate(xp.sum(grad_output, axis=rows))  # (D,)
        g = grad_output * self.gain.data  # (..., D)
        return (g - xp.mean(g, axis=-1, keepdims=True)
                - x_hat * xp.mean(g * x_hat, axis=-1, keepdims=True)) / sigma  # (..., D)
