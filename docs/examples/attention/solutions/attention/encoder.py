"""An RNN encoder with attention pooling (CS224n lectures 6 and 8): the library's RNN runs
over a padded sentence from a zero state, and the sentence's vector is the attention-weighted
average of its states at its real positions (the library's AttentionPooling)."""

from __future__ import annotations

from nlpdojo.module import Module

from ..library import RNN, AttentionPooling


class AttentiveEncoder(Module):
    """xs (B, T, D) and lengths (B,) → (B, H): the RNN's states from a zero state, pooled by
    attention over each sentence's real positions. Backward returns ``(dL/dxs, None)``."""

    def __init__(self, backend, input_size: int, hidden_size: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        self.hidden_size = hidden_size
        self.rnn = RNN(backend, input_size, hidden_size, seed=seed)
        self.pool = AttentionPooling(backend, hidden_size, seed=seed + 1)

    def forward(self, xs, lengths):
        xp = self.xp
        h0 = xp.zeros((xs.shape[0], self.hidden_size), dtype=xs.dtype, device=xs.device)
        ### BEGIN SOLUTION attentive_encoder
        hs, rnn_cache = self.rnn(xs, h0)  # (B, T, H)
        pooled, pool_cache = self.pool(hs, lengths)  # (B, H)
        return pooled, (rnn_cache, pool_cache)
        ### END SOLUTION

    def backward(self, grad_output, cache):
        ### BEGIN SOLUTION attentive_encoder
        rnn_cache, pool_cache = cache
        grad_hs, _ = self.pool.backward(grad_output, pool_cache)  # (B, T, H)
        grad_xs, _ = self.rnn.backward(grad_hs, rnn_cache)  # (B, T, D)
        return grad_xs, None
        ### END SOLUTION
