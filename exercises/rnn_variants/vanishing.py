"""Vanishing and exploding gradients, measured (CS224n lecture 7; Bengio, Simard and Frasconi
1994; Pascanu, Mikolov and Bengio 2013, "On the difficulty of training recurrent neural
networks").

The loss at the last step, J⁽ᵀ⁾, reaches the state of an earlier step t only through the
states in between, so by the chain rule

    ∂J⁽ᵀ⁾/∂h⁽ᵗ⁾ = ∂J⁽ᵀ⁾/∂h⁽ᵀ⁾ · ∂h⁽ᵀ⁾/∂h⁽ᵀ⁻¹⁾ ⋯ ∂h⁽ᵗ⁺¹⁾/∂h⁽ᵗ⁾.

For the tanh RNN each factor is diag(1 − h²) W_hᵀ; with ‖diag(1 − h²)‖ ≤ γ = 1 and σ_max the
largest singular value of W_h, the norm shrinks at least like (γ σ_max)ᵏ over k = T − t steps
when σ_max < 1/γ: the gradient vanishes. A gated cell's state has a path with no matrix on it
(the LSTM's c = f ⊙ c_prev + ..., the GRU's h = z ⊙ h_prev + ...), along which it decays only
as fast as the gates say.

:func:`state_gradient_norms` measures this with your own cells' backward passes, one step at
a time: the norm of the gradient of J⁽ᵀ⁾ with respect to the state of every step.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace

from nlpdojo.backend import Array
from nlpdojo.module import Module

from ..library import first, with_first, zeros_like_state


def state_gradient_norms(cell: Module, xs: Array, state0: Any, grad_last: Array) -> Array:
    """‖∂J/∂h⁽ᵀ⁻ᵏ⁾‖ for k = 0, 1, ..., T, an array (T + 1,) of the inputs' namespace and
    device, where J = Σ grad_last ⊙ h⁽ᵀ⁾
    is a loss at the last step only (``grad_last`` (B, H) is ∂J/∂h⁽ᵀ⁾).

    Run ``cell`` (any cell of the recurrent-step contract, state h or (h, c)) over the T
    steps of ``xs`` (B, T, D) from ``state0``, keeping each step's cache; then walk back from
    the last step, one ``cell.backward`` per step, starting from a state gradient that is
    ``grad_last`` in its first array and zero elsewhere (J reads h⁽ᵀ⁾ only). Entry k is the
    norm (over every row and unit: ``xp.linalg.vector_norm``) of the first array of the state
    gradient after k steps back: entry 0 is ‖grad_last‖, entry T is ‖∂J/∂h⁽⁰⁾‖. The norms
    are of h's gradient only, not of the cell state's.
    """
    xp = array_namespace(xs)
    raise NotImplementedError("vanishing: not implemented yet — replace this line with your code")
