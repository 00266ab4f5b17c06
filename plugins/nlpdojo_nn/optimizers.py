"""Stochastic gradient descent with optional momentum (CS224n lecture 3, "Training").

Plain SGD: θ ← θ - α ∇θ. With momentum μ (Polyak 1964): v ← μ v + ∇θ; θ ← θ - α v.
"""

from __future__ import annotations

from collections.abc import Iterable

from array_api_compat import array_namespace

from nlpdojo.module import Parameter
from nlpdojo.optim import Optimizer


class SGD(Optimizer):
    """SGD; state per parameter (with momentum): ``velocity`` (same shape as the parameter)."""

    def __init__(self, params: Iterable[Parameter], lr: float = 0.1, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)

    def step(self) -> None:
        for i, p in enumerate(self.params):
            update = p.grad
            if self.momentum:
                if i not in self.state:  # zeros_like, not grad * 0 (NaN * 0 is NaN)
                    self.state[i] = {"velocity": array_namespace(p.grad).zeros_like(p.grad)}
                state = self.state[i]
                state["velocity"] = state["velocity"] * self.momentum + p.grad
                update = state["velocity"]
            p.data = p.data - self.lr * update  # cast back to p's dtype by the setter
        self.steps += 1
