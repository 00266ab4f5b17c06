"""Given code: the cells of the vanishing-gradient experiment, built with chosen weights, and
the call of your :func:`~.vanishing.state_gradient_norms` on them (what the grader runs).

Nothing here is a question. :func:`scaled_to` rescales a recurrent matrix to a chosen
largest singular value σ_max, the quantity of Pascanu et al.'s bound.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import GRUCell, LSTMCell, RNNCell
from .vanishing import state_gradient_norms

#: the cells of the experiment by name
KINDS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def scaled_to(matrix: np.ndarray, sigma: float) -> np.ndarray:
    """``matrix`` scaled so that its largest singular value is ``sigma``."""
    return matrix * (sigma / np.linalg.norm(matrix, 2))


def build_cell(backend: Backend, kind: str, input_size: int, hidden_size: int, *,
               params: dict[str, np.ndarray] | None = None, sigma: float | None = None,
               seed: int = 0) -> Module:
    """A library cell of ``kind`` ("rnn", "lstm" or "gru") with ``params`` by name (host
    arrays) where given, and its recurrent matrix ``weight_h`` rescaled to largest singular
    value ``sigma`` where given (for the gated cells, the whole (H, 3H or 4H) matrix)."""
    if kind not in KINDS:
        raise ValueError(f"unknown cell {kind!r}; choose one of {sorted(KINDS)}")
    cell = KINDS[kind](backend, input_size, hidden_size, seed=seed)
    named = dict(cell.named_parameters())
    for name, value in (params or {}).items():
        named[name].data = backend.asarray(np.asarray(value), dtype=backend.default_dtype)
    if sigma is not None:
        w = np.asarray(backend.to_numpy(cell.weight_h.data), dtype=np.float64)
        cell.weight_h.data = backend.asarray(scaled_to(w, sigma), dtype=backend.default_dtype)
    return cell


def norms_of(backend: Backend, kind: str, xs: Array, state0: Any, grad_last: Array, *,
             params: dict[str, np.ndarray] | None = None,
             sigma: float | None = None) -> Array:
    """Your :func:`~.vanishing.state_gradient_norms` over a cell of ``kind`` with ``params``
    (and σ_max ``sigma``): (T + 1,) norms."""
    cell = build_cell(backend, kind, xs.shape[-1], grad_last.shape[-1], params=params,
                      sigma=sigma)
    return state_gradient_norms(cell, xs, state0, grad_last)
