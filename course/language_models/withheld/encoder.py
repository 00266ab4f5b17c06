"""The planted bugs of :mod:`nlpdojo_course.language_models.encoder`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug
from nlpdojo_course.language_models.encoder import SENTENCE_CLASSIFIER

BUGS = [
    bug("final pooling takes the last padded step, not the last real one",
        "last = steps[None, :] == «lengths[:, None] - 1 → t_steps - 1 + 0 * lengths[:, None]»"),
    bug("mean pooling divides by the padded length",
        "/ «xp.astype(lengths, hs.dtype)[:, None] → t_steps»)[:, :, None]  # (B, T, 1)"),
    bug("max pooling lets padding win", "masked = «xp.where(real[:, :, None], hs, "
        "xp.full_like(hs, -2.0))  # tanh > -1 → hs + 0.0 * xp.astype(real, hs.dtype)[:, :, None]»"),
    bug("encoder BPTT drops the gradient from later steps", "grad_hs[:, t, :] + « → 0.0 * »grad_h"),
    bug("classifier backward skips the output layer", "return «self.encoder.backward → "
        "»(self.output.backward(grad_output, c_out), «c_enc) → (None, None))[1]»"),
    bug("two classes written in, not the constructor's num_classes",
        "Linear(backend, hidden_size, «num_classes → 2», seed=seed", question=SENTENCE_CLASSIFIER),
]
