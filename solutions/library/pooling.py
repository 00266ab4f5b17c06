"""Pooling over time (CS224n lecture 11): from the features of every position of a sentence,
(B, T, F), to a fixed-size vector per sentence, whatever its length.

Max pooling over time (Collobert et al. 2011; Kim 2014) keeps, for each filter, the largest
value it took anywhere in the sentence: whether the n-gram it detects occurs, wherever it is.
k-max pooling (Kalchbrenner et al. 2014) keeps the k largest values of each filter, in the
order they occur in the sentence. Sentences of a batch are padded to one length T; ``lengths``
(B,) says how many positions of each row are real, and a padded position never wins.

Backward: the gradient of a pooled value goes to the position it came from, all of it (the
max is piecewise the identity of one input); every other position gets zero. Where a filter
takes its largest value at several positions, the first of them is the one that won (the
convention of ``argmax``), in the forward pass and so in the backward pass.
"""

from __future__ import annotations

from nlpdojo.backend import Array
from nlpdojo.module import Module

__all__ = ["KMaxPooling", "MaxOverTime"]


def _real(xp, lengths: Array, t_steps: int, device) -> Array:
    """(B, T) booleans: which positions of each padded row are real."""
    return xp.arange(t_steps, device=device)[None, :] < lengths[:, None]


class MaxOverTime(Module):
    """(B, T, F), lengths (B,) → (B, F): each filter's largest value over each sentence's real
    positions (the first position where it is largest wins). Backward returns
    ``(dL/dh, None)`` (lengths have no gradient)."""

    def forward(self, h: Array, lengths: Array) -> tuple[Array, tuple]:
        # h: (B, T, F); lengths: (B,) integers, 1 <= lengths <= T
        xp = self.xp
        ### BEGIN SOLUTION cnn_text.pooling
        real = _real(xp, lengths, h.shape[1], self.backend.device)  # (B, T)
        masked = xp.where(real[:, :, None], h, xp.full_like(h, -xp.inf))  # (B, T, F)
        winner = xp.argmax(masked, axis=1)  # (B, F): the first position of the maximum
        pooled = xp.take_along_axis(masked, winner[:, None, :], axis=1)[:, 0, :]  # (B, F)
        return pooled, (winner, h.shape[1])
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, None]:
        # grad_output: (B, F); returns dL/dh (B, T, F), None
        xp = self.xp
        ### BEGIN SOLUTION cnn_text.pooling
        winner, t_steps = cache
        positions = xp.arange(t_steps, device=self.backend.device)[None, :, None]  # (1, T, 1)
        won = positions == winner[:, None, :]  # (B, T, F): where each pooled value came from
        return xp.where(won, grad_output[:, None, :], xp.zeros_like(grad_output[:, None, :])), None
        ### END SOLUTION


class KMaxPooling(Module):
    """(B, T, F), lengths (B,) → (B, k, F): each filter's k largest values over each
    sentence's real positions, in the order of the sentence (Kalchbrenner et al. 2014); of
    equal values the earlier position ranks first. A sentence shorter than k keeps all its
    real positions and fills the rest with zeros (zero gradient). Backward returns
    ``(dL/dh, None)``."""

    def __init__(self, backend, k: int) -> None:
        super().__init__(backend)
        if k < 1:
            raise ValueError(f"k-max pooling keeps k >= 1 values, not {k}")
        self.k = k

    def forward(self, h: Array, lengths: Array) -> tuple[Array, tuple]:
        # h: (B, T, F); lengths: (B,) integers
        xp = self.xp
        b, t_steps, f = h.shape
        if t_steps < self.k:
            raise ValueError(f"KMaxPooling(k={self.k}) over {t_steps} positions: pad the "
                             f"batch to at least k = {self.k} positions")
        ### BEGIN SOLUTION cnn_text.kmax_pooling
        real = _real(xp, lengths, t_steps, self.backend.device)[:, :, None]  # (B, T, 1)
        masked = xp.where(real, h, xp.full_like(h, -xp.inf))  # (B, T, F)
        # rank by value, the earlier position first among equals: a stable sort of −value
        order = xp.argsort(-masked, axis=1, stable=True)  # (B, T, F)
        kept = xp.sort(order[:, :self.k, :], axis=1)  # (B, k, F): back in sentence order
        values = xp.take_along_axis(masked, kept, axis=1)  # (B, k, F)
        valid = xp.take_along_axis(xp.broadcast_to(real, h.shape), kept, axis=1)
        return xp.where(valid, values, xp.zeros_like(values)), (kept, valid, t_steps)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, None]:
        # grad_output: (B, k, F); returns dL/dh (B, T, F), None
        xp = self.xp
        ### BEGIN SOLUTION cnn_text.kmax_pooling
        kept, valid, t_steps = cache
        grad = xp.where(valid, grad_output, xp.zeros_like(grad_output))  # padding: none
        positions = xp.arange(t_steps, device=self.backend.device)[None, :, None, None]
        hits = positions == kept[:, None, :, :]  # (B, T, k, F): slot j took position t
        return xp.sum(xp.where(hits, grad[:, None, :, :],
                               xp.zeros_like(grad[:, None, :, :])), axis=2), None
        ### END SOLUTION
