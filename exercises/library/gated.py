"""Gated recurrent cells: the LSTM and the GRU (CS224n lecture 7, "Vanishing gradients and fancy
RNNs"; Hochreiter and Schmidhuber 1997; Gers et al. 2000; Cho et al. 2014).

A tanh RNN multiplies the gradient by the same W_h at every step back in time, so it vanishes
or explodes (Pascanu et al. 2013). Gates let the state pass through a step almost unchanged:
the LSTM's cell state c is carried forward by a sum, ``c = f ⊙ c_prev + i ⊙ g``, and its
gradient flows back through ``f`` alone; the GRU interpolates between the old state and a new
candidate.

Both cells follow the library's contract for a recurrent step (the unrolls of
:mod:`.rnn` and of topic ``rnn_variants`` run any such cell):

    forward(x, state) -> (state, cache)
    backward(grad_state, cache) -> (grad_x, grad_state_prev)

with row vectors (x is (B, D), every state array (B, H)) and parameters laid out as
``torch.nn.LSTMCell`` and ``torch.nn.GRUCell`` lay theirs out, transposed: the gates' columns
side by side in torch's order, so ``weight_x`` is torch's ``weight_ih`` transposed.
"""

from __future__ import annotations

import math

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module, Parameter

from .init import xavier_uniform

__all__ = ["GRUCell", "LSTMCell", "lstm_bias"]


def _recurrent_weight(backend: Backend, hidden_size: int, width: int, seed: int) -> Array:
    """W_h (H, width) as torch draws it, U(±1/√H)."""
    bound = 1.0 / math.sqrt(hidden_size)
    return backend.rng(seed).uniform((hidden_size, width), low=-bound, high=bound)


def lstm_bias(backend: Backend, hidden_size: int) -> Array:
    """The LSTM's initial bias (4H,), gates in torch's order (i, f, g, o): zero for the input
    gate, the candidate and the output gate, **one for the forget gate** (Gers et al. 2000;
    Jozefowicz et al. 2015: with f ≈ σ(1) ≈ 0.73 at the start the cell remembers, and its
    gradient reaches back further, from the first step of training)."""
    xp = backend.xp
    raise NotImplementedError("rnn_variants.lstm_cell: not implemented yet — replace this line with your code")


class LSTMCell(Module):
    """One LSTM step; state ``(h, c)``, each (B, H). With a = x W_x + h_prev W_h + b (B, 4H) cut
    into four (B, H) blocks in torch's gate order (i, f, g, o):

        i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
        c = f ⊙ c_prev + i ⊙ g                     h = o ⊙ tanh(c)

    ``torch.nn.LSTMCell``: its ``weight_ih`` is W_xᵀ, ``weight_hh`` is W_hᵀ, and its two biases
    add up to b.

    Backpropagation, given dL/dh and dL/dc of this step's output state: the cell state reaches
    the loss through c (the next step) *and* through h, so
    dc = dL/dc + dL/dh ⊙ o ⊙ (1 − tanh²(c)); then do = dL/dh ⊙ tanh(c), di = dc ⊙ g,
    df = dc ⊙ c_prev, dg = dc ⊙ i, each through its nonlinearity into da (B, 4H);
    dL/dc_prev = dc ⊙ f (the "gradient highway": no matrix, no squashing);
    dW_x = xᵀ da, dW_h = h_prevᵀ da, db = Σ_rows da, dL/dx = da W_xᵀ, dL/dh_prev = da W_hᵀ.
    """

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, *,
                 seed: int = 0) -> None:
        super().__init__(backend)
        self.hidden_size = hidden_size
        self.weight_x = Parameter(xavier_uniform(backend, input_size, 4 * hidden_size,
                                                 seed=seed), "weight_x")  # (D, 4H)
        self.weight_h = Parameter(_recurrent_weight(backend, hidden_size, 4 * hidden_size,
                                                    seed + 1), "weight_h")  # (H, 4H)
        self.bias = Parameter(lstm_bias(backend, hidden_size), "bias")  # (4H,)

    def forward(self, x: Array, state: tuple[Array, Array]) -> tuple[tuple[Array, Array], tuple]:
        # x: (B, D); state: h_prev (B, H), c_prev (B, H)
        xp = self.xp
        h_prev, c_prev = state
        H = self.hidden_size
        raise NotImplementedError("rnn_variants.lstm_cell: not implemented yet — replace this line with your code")

    def backward(self, grad_state: tuple[Array, Array],
                 cache: tuple) -> tuple[Array, tuple[Array, Array]]:
        # grad_state: dL/dh (B, H), dL/dc (B, H); returns dL/dx (B, D), (dL/dh_prev, dL/dc_prev)
        xp = self.xp
        grad_h, grad_c = grad_state
        raise NotImplementedError("rnn_variants.lstm_cell: not implemented yet — replace this line with your code")


class GRUCell(Module):
    """One GRU step (Cho et al. 2014) in torch's convention; state h (B, H). With the input's
    and the state's projections kept apart, gates in torch's order (r, z, n):

        [ax_r ax_z ax_n] = x W_x + b_x             [ah_r ah_z ah_n] = h_prev W_h + b_h
        r = σ(ax_r + ah_r)   z = σ(ax_z + ah_z)    n = tanh(ax_n + r ⊙ ah_n)
        h = (1 − z) ⊙ n + z ⊙ h_prev

    The reset gate multiplies the state's projection *after* the matmul, bias included, as in
    ``torch.nn.GRUCell`` and cuDNN; the paper's other variant, n = tanh(ax_n + (r ⊙ h_prev) W_hn),
    gives other numbers (CS224n's notes write that one). z near 1 copies the state through.

    Backpropagation, with dh = dL/dh: dn = dh ⊙ (1 − z); dz = dh ⊙ (h_prev − n);
    da_n = dn ⊙ (1 − n²); dr = da_n ⊙ ah_n; d(ah_n) = da_n ⊙ r; through σ into da_r, da_z;
    the input side gets (da_r, da_z, da_n), the state side (da_r, da_z, d(ah_n));
    dL/dh_prev = dh ⊙ z + (state side) W_hᵀ.
    """

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, *,
                 seed: int = 0) -> None:
        super().__init__(backend)
        self.hidden_size = hidden_size
        self.weight_x = Parameter(xavier_uniform(backend, input_size, 3 * hidden_size,
                                                 seed=seed), "weight_x")  # (D, 3H)
        self.weight_h = Parameter(_recurrent_weight(backend, hidden_size, 3 * hidden_size,
                                                    seed + 1), "weight_h")  # (H, 3H)
        zeros = self.xp.zeros((3 * hidden_size,), dtype=backend.default_dtype,
                              device=backend.device)
        self.bias_x = Parameter(zeros, "bias_x")  # (3H,)
        self.bias_h = Parameter(self.xp.zeros_like(zeros), "bias_h")  # (3H,)

    def forward(self, x: Array, h_prev: Array) -> tuple[Array, tuple]:
        # x: (B, D); h_prev: (B, H)
        xp = self.xp
        H = self.hidden_size
        raise NotImplementedError("rnn_variants.gru_cell: not implemented yet — replace this line with your code")

    def backward(self, grad_h: Array, cache: tuple) -> tuple[Array, Array]:
        # grad_h: (B, H); returns dL/dx (B, D), dL/dh_prev (B, H)
        xp = self.xp
        raise NotImplementedError("rnn_variants.gru_cell: not implemented yet — replace this line with your code")
