"""The planted bugs of :mod:`nlpdojo_course.rnn_variants.classifier`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

from ..classifier import MODULE

BUGS = [
    bug("two classes written in, not the constructor's num_classes", MODULE,
        "num_classes, seed=seed + 5)", "2, seed=seed + 5)", "bilstm_classifier"),
    bug("right to left reads the padding first (the padded rows flipped whole)", MODULE,
        "return xp.where(steps < lengths[:, None], lengths[:, None] - 1 - steps,",
        "return xp.where(steps < 0 * lengths[:, None] + t_steps, t_steps - 1 - steps,",
        "bilstm_classifier"),
    bug("the right-to-left outputs left in reading order", MODULE,
        "hs = xp.concat([hs, _along_time(xp, backwards, index)], axis=-1)  # (B, T, 2H)",
        "hs = xp.concat([hs, backwards], axis=-1)  # (B, T, 2H)", "bilstm_classifier"),
    bug("the right-to-left input gradient not put back in the sentence's order", MODULE,
        "grad_vectors = grad_vectors + _along_time(xp, grad_read, index)",
        "grad_vectors = grad_vectors + grad_read", "bilstm_classifier"),
    bug("max pooling lets padding win", MODULE,
        "masked = xp.where(real[:, :, None], hs, xp.full_like(hs, -2.0))",
        "masked = hs + 0.0 * xp.astype(real, hs.dtype)[:, :, None]", "bilstm_classifier"),
]
