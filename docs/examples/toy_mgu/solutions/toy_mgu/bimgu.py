"""A bidirectional RNN of minimal gated units (CS224n lecture 7): the library's
RNN of MGU cells left to right and right to left, states concatenated."""

from __future__ import annotations

from nlpdojo.module import Module

from ..library import RNN, MGUCell


class BiMGU(Module):
    """Left-to-right and right-to-left RNNs of MGU cells from zero states, their states
    concatenated per position: (B, T, 2H) for xs (B, T, D)."""

    def __init__(self, backend, input_size: int, hidden_size: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        self.hidden_size = hidden_size
        self.forward_rnn = RNN(backend, input_size, hidden_size, seed=seed)
        self.forward_rnn.cell = MGUCell(backend, input_size, hidden_size, seed=seed)
        self.backward_rnn = RNN(backend, input_size, hidden_size, seed=seed + 10)
        self.backward_rnn.cell = MGUCell(backend, input_size, hidden_size, seed=seed + 10)

    def forward(self, xs):
        xp = self.xp
        h0 = xp.zeros((xs.shape[0], self.hidden_size), dtype=xs.dtype, device=xs.device)
        ### BEGIN SOLUTION bimgu
        left, left_cache = self.forward_rnn(xs, h0)  # (B, T, H)
        right, right_cache = self.backward_rnn(xp.flip(xs, axis=1), h0)
        return xp.concat([left, xp.flip(right, axis=1)], axis=-1), (left_cache, right_cache)
        ### END SOLUTION

    def backward(self, grad_output, cache):
        xp, h = self.xp, self.hidden_size
        ### BEGIN SOLUTION bimgu
        left_cache, right_cache = cache
        grad_left, _ = self.forward_rnn.backward(grad_output[..., :h], left_cache)
        grad_right, _ = self.backward_rnn.backward(xp.flip(grad_output[..., h:], axis=1),
                                                   right_cache)
        return grad_left + xp.flip(grad_right, axis=1)
        ### END SOLUTION
