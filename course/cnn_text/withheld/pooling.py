"""The planted bugs of :mod:`nlpdojo_course.cnn_text.pooling`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the backward's zeros made on the default device (no device=)",
        "return xp.where(won, grad_output[:, None, :], xp.zeros_like(grad_output[:, None, :]))",
        "return xp.where(won, grad_output[:, None, :], "
        "xp.zeros(won.shape, dtype=grad_output.dtype))",
        says="another device than the default one"),
    bug("the padded positions set to 0, not −inf",
        "masked = xp.where(real[:, :, None], h, xp.full_like(h, -xp.inf))  # (B, T, F)",
        "masked = xp.where(real[:, :, None], h, xp.zeros_like(h))  # (B, T, F)",
        says="the padded positions set to 0"),
    bug("the padding may win (max over all T positions)",
        "masked = xp.where(real[:, :, None], h, xp.full_like(h, -xp.inf))  # (B, T, F)",
        "masked = h  # (B, T, F)",
        says="Your outputs are exactly those of the padded positions ranked too"),
    bug("the gradient sent to every position (the max's derivative taken as 1)",
        "won = positions == winner[:, None, :]  # (B, T, F): where each pooled value "
        "came from",
        "won = positions >= 0 * winner[:, None, :]  # (B, T, F): where each pooled value "
        "came from"),
    bug("the padded positions ranked with the real ones",
        "masked = xp.where(real, h, xp.full_like(h, -xp.inf))  # (B, T, F)",
        "masked = h  # (B, T, F)",
        says="Your outputs are exactly those of the padded positions ranked too"),
    bug("the k values kept in rank order, not in the sentence's order",
        "kept = xp.sort(order[:, :self.k, :], axis=1)  # (B, k, F): back in sentence order",
        "kept = order[:, :self.k, :]  # (B, k, F)",
        says="Your outputs are exactly those of the k values kept in rank order"),
    bug("of equal values the later position ranks first",
        "order = xp.argsort(-masked, axis=1, stable=True)  # (B, T, F)",
        "order = xp.flip(xp.argsort(masked, axis=1, stable=True), axis=1)  # (B, T, F)"),
    bug("k hard-coded (self.k ignored)",
        "kept = xp.sort(order[:, :self.k, :], axis=1)",
        "kept = xp.sort(order[:, :2, :], axis=1)"),
]
