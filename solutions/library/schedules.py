"""Learning-rate schedules (CS224n notes part III, "Learning Rates"): a large rate early to
make progress, a small one late to settle into a minimum.

``t`` is the step (or epoch) number, starting at 0; each function returns the rate at ``t``.
"""

from __future__ import annotations

import math

__all__ = ["step_decay", "exponential_decay", "inverse_decay"]


def step_decay(t: int, lr0: float, *, drop: float = 0.5, every: int = 10) -> float:
    """Annealing by steps: α₀ multiplied by ``drop`` after every ``every`` steps,
    α₀ · drop^⌊t / every⌋."""
    ### BEGIN SOLUTION neural_networks.schedules
    return lr0 * drop ** (t // every)
    ### END SOLUTION


def exponential_decay(t: int, lr0: float, *, k: float) -> float:
    """Exponential decay α(t) = α₀ e^(−kt)."""
    ### BEGIN SOLUTION neural_networks.schedules
    return lr0 * math.exp(-k * t)
    ### END SOLUTION


def inverse_decay(t: int, lr0: float, *, tau: float) -> float:
    """α(t) = α₀ τ / max(t, τ): constant for the first τ steps, then decreasing as 1/t."""
    ### BEGIN SOLUTION neural_networks.schedules
    return lr0 * tau / max(t, tau)
    ### END SOLUTION
