"""The recurrent cell of a simple (Elman) RNN (CS224n lecture 6, "RNN language models";
Elman 1990; Mikolov et al. 2010, "Recurrent neural network based language model").

One step over a batch of row vectors:

    h⁽ᵗ⁾ = tanh(h⁽ᵗ⁻¹⁾ W_h + e⁽ᵗ⁾ W_e + b)

(the lecture's h⁽ᵗ⁾ = σ(W_h h⁽ᵗ⁻¹⁾ + W_e e⁽ᵗ⁾ + b₁) with one example per row and σ = tanh).
The same weights are applied at every step: a model runs the cell T times, keeping the cache
of each call, and calls ``backward`` once per step in reverse order. Because ``backward`` *adds*
into ``W_h.grad``, ``W_e.grad`` and ``b.grad``, their gradients come out as the sum over the T
uses, which is backpropagation through time (lecture 6: "the gradient w.r.t. a repeated weight
is the sum of the gradient w.r.t. each time it appears").
"""

from __future__ import annotations

import math

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module, Parameter

from .init import xavier_uniform

__all__ = ["RNNCell", "RNN"]


class RNNCell(Module):
    """h = tanh(h_prev W_h + x W_e + b) for x (B, D) and h_prev (B, H); ``torch.nn.RNNCell``
    with ``nonlinearity="tanh"`` (its ``weight_ih`` is W_eᵀ, ``weight_hh`` is W_hᵀ, and its two
    biases add up to b).

    Backpropagation, with δ = dL/dh (B, H) and z the pre-activation:
    dL/dz = δ ⊙ (1 − h²); dL/dW_e = xᵀ dL/dz; dL/dW_h = h_prevᵀ dL/dz; dL/db = Σ_rows dL/dz;
    dL/dx = dL/dz W_eᵀ; dL/dh_prev = dL/dz W_hᵀ.
    """

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, *,
                 seed: int = 0) -> None:
        super().__init__(backend)
        self.weight_e = Parameter(xavier_uniform(backend, input_size, hidden_size, seed=seed),
                                  "weight_e")  # (D, H)
        # W_h as torch.nn.RNN draws it, U(±1/√H): spectral radius ≈ 1/√3, so the state
        # forgets rather than amplifies (Xavier's ≈ 1 made long runs chaotic: a model trained
        # with truncated BPTT then fails on states its own fixed weights produce)
        bound = 1.0 / math.sqrt(hidden_size)
        self.weight_h = Parameter(backend.rng(seed + 1).uniform(
            (hidden_size, hidden_size), low=-bound, high=bound), "weight_h")  # (H, H)
        self.bias = Parameter(self.xp.zeros((hidden_size,), dtype=backend.default_dtype,
                                            device=backend.device), "bias")  # (H,)

    def forward(self, x: Array, h_prev: Array) -> tuple[Array, tuple]:
        # x: (B, D) the step's input vectors; h_prev: (B, H) the previous hidden state
        xp = self.xp
        raise NotImplementedError("language_models.rnn_cell: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, Array]:
        # grad_output: (B, H) = dL/dh; returns (dL/dx (B, D), dL/dh_prev (B, H))
        xp = self.xp
        raise NotImplementedError("language_models.rnn_cell: not implemented yet — replace this line with your code")


class RNN(Module):
    """The cell applied over T steps from a given state: hidden states (B, T, H) of inputs
    (B, T, D) and h⁽⁰⁾ (B, H); ``torch.nn.RNN(batch_first=True)``'s output, one layer. The last
    state h⁽ᵀ⁾ is ``hs[:, -1]``.

    Backpropagation through time: h⁽ᵗ⁾ feeds the output at step t *and* step t + 1, so
    dL/dh⁽ᵗ⁾ is the gradient given for step t plus what the cell's backward of step t + 1
    returned for its h_prev. Walk t from T − 1 down to 0, one cell backward per step (each adds
    its share into W_e, W_h and b); what is left at t = 0 is dL/dh⁽⁰⁾.
    """

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, *,
                 seed: int = 0) -> None:
        super().__init__(backend)
        self.hidden_size = hidden_size
        self.cell = RNNCell(backend, input_size, hidden_size, seed=seed)

    def forward(self, xs: Array, h0: Array) -> tuple[Array, tuple]:
        # xs: (B, T, D); h0: (B, H)
        xp = self.xp
        raise NotImplementedError("language_models.rnn: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, Array]:
        # grad_output: (B, T, H); returns (dL/dxs (B, T, D), dL/dh0 (B, H))
        xp = self.xp
        raise NotImplementedError("language_models.rnn: not implemented yet — replace this line with your code")
