"""Lion: EvoLved Sign Momentum (Chen et al. 2023, "Symbolic Discovery of Optimization
Algorithms", arXiv:2302.06675, Algorithm 2).

Per parameter θ with gradient g and momentum m (β1, β2, learning rate α, weight decay λ):

    c ← β1 m + (1 - β1) g            # interpolate: the direction of this step
    θ ← θ - α (sign(c) + λ θ)        # every coordinate moves by exactly ±α (plus decay)
    m ← β2 m + (1 - β2) g            # the momentum tracks gradients with the slower β2

Only the sign of the update is used, so its size per coordinate is α whatever the gradient's
scale: the paper recommends a learning rate 3-10x smaller than AdamW's, and a weight decay
3-10x larger. Written against the array API namespace, so it runs on every nlpdojo backend.
"""

from __future__ import annotations

from collections.abc import Iterable

from array_api_compat import array_namespace

from nlpdojo.module import Parameter
from nlpdojo.optim import Optimizer


class Lion(Optimizer):
    """Sign-momentum optimizer; state per parameter: ``momentum`` (same shape as the parameter)."""

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        beta1, beta2 = betas
        for label, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{label} must be in [0, 1), got {beta}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.weight_decay = float(weight_decay)

    def step(self) -> None:
        for i, p in enumerate(self.params):
            xp = array_namespace(p.data)
            state = self.state.setdefault(i, {"momentum": xp.zeros_like(p.data)})
            m, g = state["momentum"], p.grad
            c = self.beta1 * m + (1.0 - self.beta1) * g  # same shape as p
            p.data = p.data - self.lr * (xp.sign(c) + self.weight_decay * p.data)
            state["momentum"] = self.beta2 * m + (1.0 - self.beta2) * g
        self.steps += 1
