"""Attention pooling (CS224n lecture 8: attention as a weighted average of states, the
weights a softmax of their scores; Yang et al. 2016's attention over a sentence's words): a
padded sentence's states (B, T, H) to one vector per sentence (B, H), its real positions
alone weighted (``lengths`` (B,) says how many of each row are real).

Forward: s_t = h_t · w; α = softmax(s) over the real positions (0 at the padding); out =
Σ_t α_t h_t. Backward, for g = dL/d(out) (B, H): dL/dh_t = α_t g + (dL/ds_t) w, with the
softmax's dL/ds_t = α_t (g · h_t − Σ_u α_u g · h_u); dL/dw = Σ_b Σ_t (dL/ds_t) h_t.
"""

from __future__ import annotations

from nlpdojo.backend import Array
from nlpdojo.module import Module, Parameter

__all__ = ["AttentionPooling"]


class AttentionPooling(Module):
    """(B, T, H), lengths (B,) → (B, H): the average of each sentence's real states weighted
    by a softmax of their scores h_t · w. Backward returns ``(dL/dh, None)`` (lengths have no
    gradient)."""

    def __init__(self, backend, hidden_size: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        self.weight = Parameter(backend.rng(seed).normal((hidden_size,),
                                                         std=hidden_size ** -0.5), "weight")

    def forward(self, h: Array, lengths: Array) -> tuple[Array, tuple]:
        # h: (B, T, H); lengths: (B,) integers, 1 <= lengths <= T
        xp = self.xp
        real = xp.arange(h.shape[1], device=self.backend.device)[None, :] < lengths[:, None]
        ### BEGIN SOLUTION attention.attention_pooling
        scores = xp.sum(h * self.weight.data, axis=-1)  # (B, T)
        top = xp.max(xp.where(real, scores, xp.full_like(scores, -xp.inf)), axis=1,
                     keepdims=True)  # (B, 1): the largest real score
        e = xp.exp(xp.where(real, scores - top, xp.full_like(scores, -xp.inf)))  # (B, T)
        alpha = e / xp.sum(e, axis=1, keepdims=True)  # (B, T): 0 at the padding
        return xp.sum(alpha[:, :, None] * h, axis=1), (h, alpha)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, None]:
        # grad_output: (B, H); returns dL/dh (B, T, H), None
        xp = self.xp
        ### BEGIN SOLUTION attention.attention_pooling
        h, alpha = cache
        grad_alpha = xp.sum(h * grad_output[:, None, :], axis=-1)  # (B, T): g · h_t
        grad_scores = alpha * (grad_alpha - xp.sum(alpha * grad_alpha, axis=1,
                                                   keepdims=True))  # (B, T)
        self.weight.grad = self.weight.grad + xp.sum(grad_scores[:, :, None] * h, axis=(0, 1))
        grad_h = alpha[:, :, None] * grad_output[:, None, :] + (
            grad_scores[:, :, None] * self.weight.data)  # (B, T, H)
        return grad_h, None
        ### END SOLUTION
