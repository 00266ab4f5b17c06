"""Batch normalisation (Ioffe and Szegedy 2015; CS224n lecture 11, "batch normalization", the
toolkit of deep CNNs such as Conneau et al. 2017's very deep CNN for text).

Each channel (feature) c is standardised over everything but the channel axis, the batch and,
for a sequence, its positions, then scaled and shifted by learned γ_c and β_c:

    μ_c = mean of x[..., c]          σ²_c = mean of (x[..., c] − μ_c)²   (biased: divide by m)
    x̂ = (x − μ) / √(σ² + ε)           y = γ x̂ + β

In training the statistics are the batch's own, and running estimates are kept for test time:
running ← (1 − momentum) · running + momentum · batch statistic, where the running variance
takes the *unbiased* batch variance (m / (m − 1) σ²), as ``torch.nn.BatchNorm1d`` does. In eval
mode (``model.eval()``) the running estimates replace the batch's, so an example's output no
longer depends on the rest of its batch.

Backward in training, with g = dL/dy and m values per channel (every statistic is a function
of every x of its channel, which is where the two extra terms come from):

    dL/dγ = Σ g · x̂      dL/dβ = Σ g      dL/dx = γ / √(σ² + ε) · (g − mean(g) − x̂ · mean(g · x̂))

In eval mode μ and σ² are constants and dL/dx = γ / √(running σ² + ε) · g.

The layout is channels last, the library's: (N, C) features or (B, T, C) sequences
(``torch.nn.BatchNorm1d`` wants (N, C) or (B, C, T)).
"""

from __future__ import annotations

import math

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module, Parameter

__all__ = ["BatchNorm1d"]


class BatchNorm1d(Module):
    """Batch normalisation of ``num_features`` channels, the last axis of (N, C) or (B, T, C)
    inputs. ``weight`` γ (C,) starts at 1, ``bias`` β (C,) at 0; ``running_mean`` (C,) starts
    at 0 and ``running_var`` (C,) at 1 (plain arrays, not parameters: no optimizer steps them).
    ``momentum`` is the weight of the new batch in the running estimates (torch's convention)."""

    def __init__(self, backend: Backend, num_features: int, *, eps: float = 1e-5,
                 momentum: float = 0.1) -> None:
        super().__init__(backend)
        if not 0.0 <= momentum <= 1.0 or eps <= 0.0:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] and eps positive (got "
                             f"{momentum}, {eps})")
        self.eps, self.momentum = float(eps), float(momentum)
        xp, dtype, dev = self.xp, backend.default_dtype, backend.device
        self.weight = Parameter(xp.ones((num_features,), dtype=dtype, device=dev), "weight")
        self.bias = Parameter(xp.zeros((num_features,), dtype=dtype, device=dev), "bias")
        self.running_mean = xp.zeros((num_features,), dtype=dtype, device=dev)  # (C,)
        self.running_var = xp.ones((num_features,), dtype=dtype, device=dev)  # (C,)

    def forward(self, x: Array) -> tuple[Array, tuple]:
        # x: (..., C), the statistics over every axis but the last
        xp = self.xp
        axes = tuple(range(x.ndim - 1))
        m = math.prod(x.shape[:-1])  # values per channel
        if self.training and m < 2:
            raise ValueError("BatchNorm1d: training needs more than one value per channel "
                             f"(got an input of shape {tuple(x.shape)})")
        raise NotImplementedError("cnn_text.batch_norm: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        # grad_output: (..., C); returns dL/dx (..., C)
        xp = self.xp
        raise NotImplementedError("cnn_text.batch_norm: not implemented yet — replace this line with your code")
