"""The second oracle: the gradient by PyTorch autograd, in float64.

Central differences are the first oracle; autograd is the second, for tests and for
:func:`~nlpdojo.gradcheck.evidence.compare_gradients` (``docs/gradient-checking.md``, "The second
oracle: autograd"). PyTorch is optional: without it :func:`autograd_gradient` raises
:class:`~nlpdojo.errors.BackendUnavailableError` with the install command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nlpdojo.errors import BackendUnavailableError
from nlpdojo.gradcheck.numerical import _as_float64

_TORCH_HINT = (
    "PyTorch is not installed, so the autograd oracle is unavailable (numerical gradients work "
    "without it). Install it with: pip install -c constraints.txt torch, from the folder that "
    "holds constraints.txt (a student release, or the nlpdojo checkout)"
)


def autograd_gradient(f_torch: Callable[[Any], Any], x: Any) -> np.ndarray:
    """The gradient of a scalar torch function at ``x`` by autograd, in float64.

    The second oracle of DESIGN.md: ``f_torch`` receives a float64 CPU tensor that requires
    grad and returns a scalar tensor. Raises :class:`~nlpdojo.errors.BackendUnavailableError`
    when PyTorch is not installed, ``ValueError`` when ``f_torch`` returns a non-scalar.
    """
    try:
        import torch
    except ImportError:
        raise BackendUnavailableError(_TORCH_HINT) from None
    t = torch.tensor(_as_float64(x), dtype=torch.float64, requires_grad=True)
    y = f_torch(t)
    if not isinstance(y, torch.Tensor) or y.numel() != 1:
        raise ValueError(f"f_torch must return a scalar tensor, got {type(y).__name__} "
                         f"of shape {tuple(getattr(y, 'shape', ()))}")
    if y.requires_grad:
        y.reshape(()).backward()
    grad = t.grad
    return np.zeros(t.shape) if grad is None else grad.detach().numpy().astype(np.float64)
