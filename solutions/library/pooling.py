"""Pooling over time (CS224n lecture 11): from the features of every position of a sentence,
(B, T, F), to a fixed-size vector per sentence, whatever its length.

Max pooling over time (Collobert et al. 2011; Kim 2014) keeps, for each filter, the largest
value it took anywhere in the sentence: whether the n-gram it detects occurs, wherever it is.
k-max pooling (Kalchbrenner et al. 2014) keeps the k largest values of each filter, in the
order they occur in the sentence. Sentences of a batch are padded to one length T; ``lengths``
(B,) says how many positions of each row are real, and a padded position never wins.

Local max pooling (lecture 11, "other notions": max pooling over windows, as images are pooled)
keeps each filter's largest value within each window of ``width`` positions, the windows
``stride`` apart: the sequence shrinks by about the stride (Conneau et al. 2017 halve it
between the convolutional blocks of their very deep CNN, with width 3 and stride 2), and
position survives coarsely, which max over time throws away.

Backward: the gradient of a pooled value goes to the position it came from, all of it (the
max is piecewise the identity of one input); every other position gets zero. Where a filter
takes its largest value at several positions, the first of them is the one that won (the
convention of ``argmax``), in the forward pass and so in the backward pass. Where windows
overlap (a stride below the width), one position can win in two windows: its gradient is the
sum of both.
"""

from __future__ import annotations

from nlpdojo.backend import Array
from nlpdojo.module import Module

__all__ = ["KMaxPooling", "LocalMaxPooling", "MaxOverTime"]


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


class LocalMaxPooling(Module):
    """(B, T, F), lengths (B,) → (B, T_out, F): window j (positions j·stride to j·stride +
    width − 1) keeps each filter's largest value over its real positions (the first position
    where it is largest wins), T_out = ⌊(T − width) / stride⌋ + 1 (torch's ``MaxPool1d``
    without padding; its default stride is the width). A window of padding only holds 0 (no
    gradient): :meth:`output_lengths` says how many windows of each row are real. Backward
    returns ``(dL/dh, None)``."""

    def __init__(self, backend, width: int, stride: int | None = None) -> None:
        super().__init__(backend)
        stride = width if stride is None else stride
        if width < 1 or stride < 1:
            raise ValueError(f"local max pooling needs width >= 1 and stride >= 1, not "
                             f"{width} and {stride}")
        self.width, self.stride = width, stride

    def output_length(self, length: int) -> int:
        """T_out: the windows that fit in ``length`` positions."""
        return (length - self.width) // self.stride + 1

    def output_lengths(self, lengths: Array, t_steps: int) -> Array:
        """(B,): the windows of each row (of a batch padded to ``t_steps`` positions) that
        start at a real position: the pooled rows' ``lengths``, for the layer after this one."""
        t_out = max(self.output_length(t_steps), 0)
        return self.xp.clip((lengths + self.stride - 1) // self.stride, 0, t_out)

    def forward(self, h: Array, lengths: Array) -> tuple[Array, tuple]:
        # h: (B, T, F); lengths: (B,) integers, 1 <= lengths <= T
        xp = self.xp
        b, t_steps, f = h.shape
        t_out = self.output_length(t_steps)
        if t_out < 1:
            raise ValueError(f"LocalMaxPooling(width={self.width}) over {t_steps} positions: "
                             f"pad the batch to at least {self.width} positions")
        device = self.backend.device
        ### BEGIN SOLUTION cnn_text.local_pooling
        real = _real(xp, lengths, t_steps, device)[:, :, None]  # (B, T, 1)
        ranked = xp.where(real, h, xp.full_like(h, -xp.inf))  # (B, T, F): padding never wins
        starts = xp.arange(t_out, device=device) * self.stride  # (T_out,)
        taps = starts[:, None] + xp.arange(self.width, device=device)[None, :]  # (T_out, p)
        windows = xp.take(ranked, xp.reshape(taps, (-1,)), axis=1)  # (B, T_out·p, F)
        windows = xp.reshape(windows, (b, t_out, self.width, f))  # (B, T_out, p, F)
        slot = xp.argmax(windows, axis=2)  # (B, T_out, F): the first position of the max
        pooled = xp.take_along_axis(windows, slot[:, :, None, :], axis=2)[:, :, 0, :]
        valid = (starts[None, :] < lengths[:, None])[:, :, None]  # (B, T_out, 1)
        return xp.where(valid, pooled, xp.zeros_like(pooled)), (slot, valid, t_steps)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, None]:
        # grad_output: (B, T_out, F); returns dL/dh (B, T, F), None
        xp = self.xp
        ### BEGIN SOLUTION cnn_text.local_pooling
        slot, valid, t_steps = cache
        b, t_out, f = grad_output.shape
        grad = xp.where(valid, grad_output, xp.zeros_like(grad_output))  # padding: none
        grad_h = xp.zeros((b, t_steps, f), dtype=grad_output.dtype, device=self.backend.device)
        last = self.stride * (t_out - 1) + 1
        for k in range(self.width):  # a window's positions (its width, not the data)
            # windows overlap where the stride is below the width: add, never overwrite
            grad_h[:, k:k + last:self.stride, :] += xp.where(slot == k, grad,
                                                             xp.zeros_like(grad))
        return grad_h, None
        ### END SOLUTION
