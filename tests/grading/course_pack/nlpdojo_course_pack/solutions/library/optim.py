"""SGD with momentum (torch.optim.SGD's form: v <- μ v + g; θ <- θ - α v)."""

from __future__ import annotations

from nlpdojo.optim import Optimizer


class Momentum(Optimizer):
    def __init__(self, params, lr: float = 0.1, momentum: float = 0.9) -> None:
        super().__init__(params, lr)
        self.momentum = float(momentum)

    def step(self) -> None:
        ### BEGIN SOLUTION layers.momentum
        for i, p in enumerate(self.params):
            state = self.state.setdefault(i, {})
            v = p.grad if "velocity" not in state else self.momentum * state["velocity"] + p.grad
            state["velocity"] = v
            p.data = p.data - self.lr * v
        self.steps += 1
        ### END SOLUTION
