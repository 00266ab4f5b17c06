"""Parameter initialisation (CS224n notes part III, "Xavier parameter initialization").

Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural
networks": draw a (fan_in, fan_out) weight matrix uniformly from [−b, b] with
b = sqrt(6 / (fan_in + fan_out)). Its variance b²/3 = 2 / (fan_in + fan_out) keeps the
variance of activations and of back-propagated gradients roughly the same from layer to layer.
"""

from __future__ import annotations

import math

from nlpdojo.backend import Array, Backend

__all__ = ["xavier_uniform"]


def xavier_uniform(backend: Backend, fan_in: int, fan_out: int, *, seed: int = 0) -> Array:
    """A (fan_in, fan_out) matrix drawn from U[−b, b], b = sqrt(6 / (fan_in + fan_out)), with
    ``backend.rng(seed).uniform(shape, low=..., high=...)`` (in the backend's default dtype,
    on its device)."""
    ### BEGIN SOLUTION neural_networks.xavier
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return backend.rng(seed).uniform((fan_in, fan_out), low=-bound, high=bound)  # (in, out)
    ### END SOLUTION
