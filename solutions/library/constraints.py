"""The max-norm constraint (Hinton et al. 2012, "Improving neural networks by preventing
co-adaptation of feature detectors"; Srivastava et al. 2014, §5.1; Kim 2014, §2.1: "we
constrain l2-norms of the weight vectors"), CS224n lecture 11's regularisation of Kim's CNN.

Not a penalty added to the loss but a projection after each optimizer step: every unit's
incoming weight vector w (a column of a Linear layer's (in, out) weight) longer than s is scaled
back onto the ball ‖w‖₂ = s, direction kept; shorter ones are left alone (``torch.renorm(W, 2,
1, s)``). With dropout it lets a large learning rate explore without the weights blowing up.
"""

from __future__ import annotations

from collections.abc import Iterable

from array_api_compat import array_namespace

from nlpdojo.backend import Array
from nlpdojo.module import Parameter

__all__ = ["apply_max_norm", "max_norm"]


def max_norm(weight: Array, limit: float) -> Array:
    """``weight`` (in, out) with every column (the weights into one output unit) whose L2 norm
    exceeds ``limit`` rescaled to norm ``limit``, direction kept; the other columns unchanged.
    Returns a new array; ``weight`` is not changed."""
    xp = array_namespace(weight)
    ### BEGIN SOLUTION cnn_text.max_norm
    norms = xp.sqrt(xp.sum(weight * weight, axis=0, keepdims=True))  # (1, out): one per unit
    return weight * xp.clip(limit / (norms + 1e-12), max=1.0)  # (in, out): 1 within the ball
    ### END SOLUTION


def apply_max_norm(parameters: Iterable[Parameter], limit: float) -> None:
    """Project the weights of ``parameters`` (those with two dimensions, (in, out)) in place
    onto the max-norm ball (:func:`max_norm`). Call it after the optimizer's ``step``."""
    for p in parameters:
        if p.data.ndim == 2:
            p.data = max_norm(p.data, limit)
