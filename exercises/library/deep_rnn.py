"""Bidirectional and stacked RNNs (CS224n lecture 7, "Bidirectional and multi-layer RNNs").

A bidirectional RNN reads the sequence twice, left to right and right to left, and gives at
each step the two states side by side, so a word's vector sees both its contexts (for
encoding a whole sentence; a language model must not see the words it predicts). A stacked
RNN feeds each layer's outputs to the next as its inputs; dropout between the layers (Zaremba
et al. 2014) regularises the vertical connections only, never the recurrent path from step to
step. ``torch.nn.LSTM(D, H, num_layers=L, bidirectional=..., dropout=p, batch_first=True)``
computes the same.

Both take any recurrent layer of :mod:`.recurrent` (``GRU`` by default, ``LSTM``), so the
state may be one array or a tuple. The two directions start from the same ``state0``; the
stacked layers from one state each (a list, torch's ``h0[k]``: what a language model carries
from window to window) or all from the same one. Between
stacked layers of the same size, a residual connection (He et al. 2016) adds a layer's input
to its output, and a highway connection (Srivastava et al. 2015) lets a learned gate choose
between them: both give the gradient a path around the layer, as the LSTM's cell state gives
it one around the steps (lecture 7, "vanishing gradients are not just an RNN problem").
Dense connections (Huang et al. 2017's DenseNet, beside ResNet and highway in lecture 7; for
stacked LSTMs, Ding et al. 2018) go further: every layer reads the sequence's inputs and the
outputs of every layer below it, side by side, so the top is one layer away from each of them.
"""

from __future__ import annotations

import math
from typing import Any

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module, Parameter

from .layers import Dropout
from .recurrent import GRU, State

__all__ = ["Bidirectional", "DenselyConnected", "Highway", "Residual", "Stacked",
           "add_states"]


def add_states(a: State, b: State) -> State:
    """The sum of two states of the same structure (an array, or a tuple of arrays): the
    gradient of a state used twice."""
    if isinstance(a, tuple):
        return tuple(x + y for x, y in zip(a, b, strict=True))
    return a + b


class Bidirectional(Module):
    """Outputs (B, T, 2H): at step t, the left-to-right layer's output after reading x⁽¹⁾..x⁽ᵗ⁾
    beside the right-to-left layer's after reading x⁽ᵀ⁾..x⁽ᵗ⁾ (``forward_rnn``, then
    ``backward_rnn``). The right-to-left layer runs on the time-reversed inputs, so its outputs
    come out reversed and must be flipped back before they are put beside the others.

    Backward: split the gradient in two halves; the right-to-left half is flipped in time
    before its layer's backward and the gradient of the inputs it returns is flipped back.
    Both layers start from ``state0``, so its gradient is the sum of theirs."""

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, *,
                 layer: Any = GRU, seed: int = 0) -> None:
        super().__init__(backend)
        self.hidden_size = hidden_size
        self.forward_rnn = layer(backend, input_size, hidden_size, seed=seed)
        self.backward_rnn = layer(backend, input_size, hidden_size, seed=seed + 2)

    def forward(self, xs: Array, state0: State) -> tuple[Array, tuple]:
        # xs: (B, T, D); state0: (B, H) or a tuple of them
        xp = self.xp
        raise NotImplementedError("rnn_variants.bidirectional: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, State]:
        # grad_output: (B, T, 2H); returns dL/dxs (B, T, D), dL/dstate0
        xp = self.xp
        H = self.hidden_size
        raise NotImplementedError("rnn_variants.bidirectional: not implemented yet — replace this line with your code")


class Residual(Module):
    """A residual connection around a layer: ``forward(u, y)`` gives u + y for the layer's
    input u and output y (same shape). Backward: the gradient goes to both unchanged."""

    def forward(self, u: Array, y: Array) -> tuple[Array, tuple]:
        # u, y: (..., H)
        raise NotImplementedError("rnn_variants.residual: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, Array]:
        # returns dL/du, dL/dy, each (..., H)
        raise NotImplementedError("rnn_variants.residual: not implemented yet — replace this line with your code")


class Highway(Module):
    """A highway connection around a layer (Srivastava et al. 2015): a transform gate
    t = σ(u W + b) chooses, unit by unit, between the layer's output y and its input u:

        out = t ⊙ y + (1 − t) ⊙ u

    ``bias`` starts at −1, so a new connection mostly carries u through (the paper's advice
    for deep stacks). Backward, with g = dL/dout: dL/dy = g ⊙ t; da = g ⊙ (y − u) ⊙ t(1 − t)
    for a = u W + b; dL/du = g ⊙ (1 − t) + da Wᵀ; dW = Σ uᵀ da and db = Σ da over every
    position (batch and time)."""

    def __init__(self, backend: Backend, size: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        bound = 1.0 / math.sqrt(size)
        self.weight = Parameter(backend.rng(seed).uniform((size, size), low=-bound, high=bound),
                                "weight")  # (H, H)
        self.bias = Parameter(-1.0 * self.xp.ones((size,), dtype=backend.default_dtype,
                                                  device=backend.device), "bias")  # (H,)

    def forward(self, u: Array, y: Array) -> tuple[Array, tuple]:
        # u, y: (..., H), the layer's input and output
        xp = self.xp
        raise NotImplementedError("rnn_variants.highway: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, Array]:
        # grad_output: (..., H); returns dL/du, dL/dy
        xp = self.xp
        raise NotImplementedError("rnn_variants.highway: not implemented yet — replace this line with your code")


#: the connections a Stacked RNN may put around its layers above the first
CONNECTIONS = {"none": None, "residual": Residual, "highway": Highway}


class Stacked(Module):
    """``num_layers`` recurrent layers (``layers``), each reading the outputs of the one
    below; ``dropout`` applied to the outputs of every layer but the top one as they go up
    (``dropouts[k]`` after layer k), never inside a layer. Outputs (B, T, H): the top layer's.

    ``state0``: a list of ``num_layers`` states, layer k starting from ``state0[k]`` (as
    ``torch.nn.LSTM``'s ``h0[k]``), or one state every layer starts from. Backward walks the
    layers top down: each layer's gradient of its inputs goes, through the dropout below it,
    to the layer below as the gradient of that layer's outputs; dL/dstate0 has the structure
    of ``state0`` (a list of each layer's, or, for one shared state, their sum).
    :meth:`final_state` gives every layer's state after the last step, the list the next
    window of a language model starts from."""

    def __init__(self, backend: Backend, input_size: int, hidden_size: int,
                 num_layers: int = 2, *, layer: Any = GRU, dropout: float = 0.0,
                 connection: str = "none", seed: int = 0) -> None:
        super().__init__(backend)
        if num_layers < 1:
            raise ValueError(f"a stacked RNN has at least one layer, not {num_layers}")
        if connection not in CONNECTIONS:
            raise ValueError(f"connection {connection!r}: choose one of {sorted(CONNECTIONS)}")
        self.layers = [layer(backend, input_size if k == 0 else hidden_size, hidden_size,
                             seed=seed + 2 * k) for k in range(num_layers)]
        self.dropouts = [Dropout(backend, dropout, seed=seed + 1000 + k)
                         for k in range(num_layers - 1)]
        kind = CONNECTIONS[connection]
        self.connections = [None] + [
            None if kind is None else kind(backend) if kind is Residual
            else kind(backend, hidden_size, seed=seed + 2000 + k) for k in range(1, num_layers)]

    def forward(self, xs: Array, state0: State | list[State]) -> tuple[Array, tuple]:
        # xs: (B, T, D); state0: (B, H) or a tuple of them, or a list of one per layer
        if isinstance(state0, list) and len(state0) != len(self.layers):
            raise ValueError(f"state0 is a list of {len(state0)} states; a stacked RNN of "
                             f"{len(self.layers)} layers needs one per layer (or one state "
                             "for all)")
        raise NotImplementedError("rnn_variants.stacked: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, State | list[State]]:
        # grad_output: (B, T, H); returns dL/dxs (B, T, D), dL/dstate0 (state0's structure)
        raise NotImplementedError("rnn_variants.stacked: not implemented yet — replace this line with your code")

    def final_state(self, cache: tuple) -> list[State]:
        """Every layer's state after the last step of the forward pass whose cache this is, a
        list, bottom layer first."""
        raise NotImplementedError("rnn_variants.stacked: not implemented yet — replace this line with your code")


class DenselyConnected(Module):
    """``num_layers`` recurrent layers (``layers``) with dense connections: layer k (from 0)
    reads, at every step, the inputs and the outputs of layers 0..k−1 side by side,
    [x⁽ᵗ⁾; y₀⁽ᵗ⁾; ...; y_{k−1}⁽ᵗ⁾], of width D + k·H. Outputs (B, T, H): the top layer's.

    ``state0``: a list of one state per layer, or one state every layer starts from (as
    :class:`Stacked`). Backward walks the layers top down: the gradient of layer k's inputs
    is split along the last axis into the inputs' share (added into dL/dxs) and each lower
    layer's share (added into the gradient of that layer's outputs, which every layer above
    it contributes to before its own backward runs). :meth:`final_state` gives every layer's
    state after the last step, a list."""

    def __init__(self, backend: Backend, input_size: int, hidden_size: int,
                 num_layers: int = 2, *, layer: Any = GRU, seed: int = 0) -> None:
        if num_layers < 1:
            raise ValueError(f"a densely connected RNN has at least one layer, not {num_layers}")
        super().__init__(backend)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.layers = [layer(backend, input_size + k * hidden_size, hidden_size,
                             seed=seed + 2 * k) for k in range(num_layers)]

    def forward(self, xs: Array, state0: State | list[State]) -> tuple[Array, tuple]:
        # xs: (B, T, D); state0: (B, H) or a tuple of them, or a list of one per layer
        if isinstance(state0, list) and len(state0) != len(self.layers):
            raise ValueError(f"state0 is a list of {len(state0)} states; a densely connected "
                             f"RNN of {len(self.layers)} layers needs one per layer (or one "
                             "state for all)")
        xp = self.xp
        raise NotImplementedError("rnn_variants.dense: not implemented yet — replace this line with your code")

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, State | list[State]]:
        # grad_output: (B, T, H); returns dL/dxs (B, T, D), dL/dstate0 (state0's structure)
        d, h = self.input_size, self.hidden_size
        raise NotImplementedError("rnn_variants.dense: not implemented yet — replace this line with your code")

    def final_state(self, cache: tuple) -> list[State]:
        """Every layer's state after the last step of the forward pass whose cache this is, a
        list, bottom layer first."""
        raise NotImplementedError("rnn_variants.dense: not implemented yet — replace this line with your code")
