"""Any recurrent cell over a sequence: the unroll and backpropagation through time for a state
that is one array (an RNN's or a GRU's h) or a tuple of them (an LSTM's (h, c)) (CS224n
lectures 6-7).

:class:`~.rnn.RNN` of topic ``language_models`` runs the tanh cell; :class:`Recurrent` runs
any cell that keeps the library's recurrent-step contract

    forward(x, state) -> (state, cache)
    backward(grad_state, cache) -> (grad_x, grad_state_prev)

and outputs at each step the state's first array (h). :class:`LSTM` and :class:`GRU` are
``Recurrent`` over the cells of :mod:`.gated`, ``torch.nn.LSTM`` and ``torch.nn.GRU`` with one
layer and ``batch_first=True``.
"""

from __future__ import annotations

from typing import Any

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from .gated import GRUCell, LSTMCell

__all__ = ["GRU", "LSTM", "Recurrent", "first", "with_first", "zeros_like_state"]

#: a recurrent state: one array (B, H), or a tuple of them such as an LSTM's (h, c)
State = Any


def first(state: State) -> Array:
    """The state's first array, what the unroll outputs at a step: h of h or of (h, c)."""
    return state[0] if isinstance(state, tuple) else state


def with_first(state: State, grad: Array) -> State:
    """``state`` with ``grad`` added to its first array (the same structure back)."""
    if isinstance(state, tuple):
        return (state[0] + grad, *state[1:])
    return state + grad


def zeros_like_state(xp: Any, state: State) -> State:
    """Zeros of the state's structure and shapes."""
    if isinstance(state, tuple):
        return tuple(xp.zeros_like(s) for s in state)
    return xp.zeros_like(state)


class Recurrent(Module):
    """``cell`` applied over T steps from ``state0``: the outputs (B, T, H) of inputs (B, T, D),
    each step's output the state's first array. :meth:`final_state` gives the state after
    the last step (a language model carries it into the next window).

    Backpropagation through time: the state after step t feeds step t + 1, and its first array
    is also step t's output, so the gradient of the state after step t is what step t + 1's
    backward returned for its ``state_prev``, with dL/d(output t) added to its first array.
    Walk t from T − 1 down to 0, one cell backward per step (each adds its share into the
    cell's parameters); what is left at t = 0 is dL/d(state0), in the state's structure.
    """

    def __init__(self, backend: Backend, cell: Module) -> None:
        super().__init__(backend)
        self.cell = cell

    def forward(self, xs: Array, state0: State) -> tuple[Array, tuple]:
        """``(outputs, cache)``: the outputs (B, T, H), and a cache whose ``cache[1]`` is the
        state after the last step, in the state's structure (h, or (h, c)): the given
        :meth:`final_state` reads it there, and a language model carries it into its next
        window. What else the cache holds, and where, is yours (``cache[0]``)."""
        # xs: (B, T, D); state0: (B, H) or a tuple of (B, H) arrays
        xp = self.xp
        ### BEGIN SOLUTION rnn_variants.recurrent
        state, caches, outputs = state0, [], []
        for t in range(xs.shape[1]):  # the loop over time is inherent: step t needs step t − 1
            state, cache = self.cell(xs[:, t, :], state)
            caches.append(cache)
            outputs.append(first(state))  # (B, H)
        return xp.stack(outputs, axis=1), (caches, state)  # (B, T, H)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, State]:
        # grad_output: (B, T, H); returns dL/dxs (B, T, D) and dL/dstate0 (the state's structure)
        xp = self.xp
        ### BEGIN SOLUTION rnn_variants.recurrent
        caches, final = cache
        grad_state = zeros_like_state(xp, final)  # nothing reaches the last state from later
        grad_xs = [None] * len(caches)
        for t in reversed(range(len(caches))):
            grad_xs[t], grad_state = self.cell.backward(
                with_first(grad_state, grad_output[:, t, :]), caches[t])  # (B, D), state
        return xp.stack(grad_xs, axis=1), grad_state
        ### END SOLUTION

    def final_state(self, cache: tuple) -> State:
        """The state after the last step of the forward pass that returned ``cache``: its
        ``cache[1]``, where :meth:`forward` puts it."""
        return cache[1]


class LSTM(Recurrent):
    """One LSTM layer over a sequence: ``torch.nn.LSTM(D, H, batch_first=True)``'s output;
    state ``(h, c)``."""

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, *,
                 seed: int = 0) -> None:
        super().__init__(backend, LSTMCell(backend, input_size, hidden_size, seed=seed))
        self.hidden_size = hidden_size


class GRU(Recurrent):
    """One GRU layer over a sequence: ``torch.nn.GRU(D, H, batch_first=True)``'s output; state h."""

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, *,
                 seed: int = 0) -> None:
        super().__init__(backend, GRUCell(backend, input_size, hidden_size, seed=seed))
        self.hidden_size = hidden_size
