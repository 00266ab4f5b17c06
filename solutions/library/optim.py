"""Optimizers of the course library (CS224n notes part III, "Parameter updates": momentum,
adaptive learning rates).

One contract (:class:`nlpdojo.optim.Optimizer`): ``step()`` updates every parameter from its
accumulated ``grad``; per-parameter state (velocities, running averages) lives in
``self.state[i]``, a dict for the i-th parameter, and the step count in ``self.steps``, so the
base class's ``state_dict()`` / ``load_state_dict()`` carry all of it and a run resumes
exactly. Settings are named, and behave, as ``torch.optim``'s (parity tests prove it).
"""

from __future__ import annotations

from collections.abc import Iterable

from array_api_compat import array_namespace

from nlpdojo.module import Parameter
from nlpdojo.optim import Optimizer

__all__ = ["SGD", "Momentum", "Adagrad", "RMSProp", "Adam"]


class SGD(Optimizer):
    """θ ← θ − α ∇θJ (``torch.optim.SGD(lr=α)``)."""

    def __init__(self, params: Iterable[Parameter], lr: float = 0.01) -> None:
        super().__init__(params, lr)

    def step(self) -> None:
        ### BEGIN SOLUTION neural_networks.sgd
        for p in self.params:
            p.data = p.data - self.lr * p.grad
        self.steps += 1
        ### END SOLUTION


class Momentum(Optimizer):
    """SGD with momentum, in torch's form (``torch.optim.SGD(lr, momentum)``): v ← μv + g
    (v = g at the first step), θ ← θ − αv. The velocity averages recent gradients, so steps
    grow along directions that agree and oscillations across a ravine cancel (the notes'
    v ← μv − α∇θJ, θ ← θ + v, with the learning rate folded into v)."""

    def __init__(self, params: Iterable[Parameter], lr: float = 0.01,
                 momentum: float = 0.9) -> None:
        super().__init__(params, lr)
        self.momentum = float(momentum)

    def step(self) -> None:
        ### BEGIN SOLUTION neural_networks.momentum
        for i, p in enumerate(self.params):
            state = self.state.setdefault(i, {})
            v = p.grad if "velocity" not in state else self.momentum * state["velocity"] + p.grad
            state["velocity"] = v
            p.data = p.data - self.lr * v
        self.steps += 1
        ### END SOLUTION


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011; ``torch.optim.Adagrad(lr, eps)``): each coordinate's step is
    divided by the root of the sum of its squared past gradients, so rarely updated
    coordinates (rare words) keep large steps: G ← G + g², θ ← θ − α g / (√G + ε)."""

    def __init__(self, params: Iterable[Parameter], lr: float = 0.01,
                 eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.eps = float(eps)

    def step(self) -> None:
        xp = array_namespace(self.params[0].data)
        ### BEGIN SOLUTION neural_networks.adagrad
        for i, p in enumerate(self.params):
            state = self.state.setdefault(i, {})
            total = state.get("sum", 0.0) + p.grad * p.grad  # (same shape as p)
            state["sum"] = total
            p.data = p.data - self.lr * p.grad / (xp.sqrt(total) + self.eps)
        self.steps += 1
        ### END SOLUTION


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton 2012; ``torch.optim.RMSprop(lr, alpha, eps)``): Adagrad with
    a leaking sum, so steps do not shrink forever: r ← αr + (1 − α)g², θ ← θ − η g / (√r + ε)
    (α is the decay, η the learning rate)."""

    def __init__(self, params: Iterable[Parameter], lr: float = 0.01, alpha: float = 0.99,
                 eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.alpha, self.eps = float(alpha), float(eps)

    def step(self) -> None:
        xp = array_namespace(self.params[0].data)
        ### BEGIN SOLUTION neural_networks.rmsprop
        for i, p in enumerate(self.params):
            state = self.state.setdefault(i, {})
            square_avg = self.alpha * state.get("square_avg", 0.0) \
                + (1.0 - self.alpha) * p.grad * p.grad  # (same shape as p)
            state["square_avg"] = square_avg
            p.data = p.data - self.lr * p.grad / (xp.sqrt(square_avg) + self.eps)
        self.steps += 1
        ### END SOLUTION


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015; ``torch.optim.Adam(lr, betas, eps)``): a momentum-like first
    moment m and an RMSProp-like second moment v, both bias-corrected because they start at 0:
    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ),
    θ ← θ − α m̂ / (√v̂ + ε), t the step number starting at 1."""

    def __init__(self, params: Iterable[Parameter], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.eps = float(eps)

    def step(self) -> None:
        xp = array_namespace(self.params[0].data)
        ### BEGIN SOLUTION neural_networks.adam
        t = self.steps + 1
        for i, p in enumerate(self.params):
            state = self.state.setdefault(i, {})
            if not state:  # both moments start at 0
                state["m"], state["v"] = xp.zeros_like(p.grad), xp.zeros_like(p.grad)
            # the optimizer's own arrays, updated in place (no copy of an embedding table a step)
            m, v = state["m"], state["v"]  # (same shape as p)
            m *= self.beta1
            m += (1.0 - self.beta1) * p.grad
            v *= self.beta2
            v += (1.0 - self.beta2) * p.grad * p.grad
            step = m / (1.0 - self.beta1 ** t)  # m̂, then α m̂ / (√v̂ + ε), in place
            step *= self.lr
            denominator = xp.sqrt(v / (1.0 - self.beta2 ** t))  # √v̂
            denominator += self.eps
            step /= denominator
            p.data = p.data - step
        self.steps = t
        ### END SOLUTION

