"""Gradient clipping by global norm (CS224n lecture 7, "exploding gradients"; Pascanu et al.
2013, "On the difficulty of training recurrent neural networks", algorithm 1).

When the gradient's norm is above a threshold, an SGD step along it can throw the parameters
far off (the "cliff" of the loss surface of an RNN). Clipping rescales the *whole* gradient,
every parameter's part by the same factor, so its direction is kept and only the step is
shortened: with the global norm ‖g‖ = √(Σ_params Σ g²),

    g ← g · min(1, max_norm / (‖g‖ + 1e-6))

(``torch.nn.utils.clip_grad_norm_``, whose 1e-6 keeps an all-zero gradient at zero). Clipping
each parameter by its own norm instead changes the direction: a common mistake.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from array_api_compat import array_namespace

from nlpdojo.backend import Array
from nlpdojo.module import Parameter

__all__ = ["clip_grad_norm", "clip_gradients"]


def clip_grad_norm(grads: Sequence[Array], max_norm: float) -> tuple[list[Array], Array]:
    """The gradients ``grads`` (one array per parameter, any shapes) scaled together so that
    their global norm is at most ``max_norm``, and that norm before clipping (a 0-d array).
    The inputs are not changed."""
    xp = array_namespace(*grads)
    raise NotImplementedError("rnn_variants.clipping: not implemented yet — replace this line with your code")


def clip_gradients(parameters: Iterable[Parameter], max_norm: float) -> Array:
    """Clip the gradients of ``parameters`` in place by their global norm
    (:func:`clip_grad_norm`); returns the norm before clipping, as ``clip_grad_norm_`` does.
    Call it between ``backward`` and the optimizer's ``step``."""
    params = [p for p in parameters if p.grad is not None]
    if not params:
        raise ValueError("clip_gradients: no parameter has a gradient; call backward first")
    clipped, total = clip_grad_norm([p.grad for p in params], max_norm)
    for p, g in zip(params, clipped, strict=True):
        p.grad = g
    return total
