"""The planted bugs of :mod:`nlpdojo_course.rnn_variants.classifier`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("two classes written in, not the constructor's num_classes",
        "«num_classes → 2», seed=seed + 5)"),
    bug("right to left reads the padding first (the padded rows flipped whole)", "xp.where(steps "
        "< «lengths[:, None], lengths[:, None] → 0 * lengths[:, None] + t_steps, t_steps» - 1"),
    bug("the right-to-left outputs left in reading order",
        "hs = xp.concat([hs, «_along_time(xp, backwards, index) → backwards»], axis=-1)"),
    bug("the right-to-left input gradient not put back in the sentence's order",
        "grad_vectors = grad_vectors + «_along_time(xp, grad_read, index) → grad_read»"),
    bug("max pooling lets padding win", "masked = «xp.where(real[:, :, None], hs, "
        "xp.full_like(hs, -2.0)) → hs + 0.0 * xp.astype(real, hs.dtype)[:, :, None]»"),
]
