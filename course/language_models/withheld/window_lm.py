"""The planted bugs of :mod:`nlpdojo_course.language_models.window_lm`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("window LM skips the tanh's backward",
        "grad_z = «self.activation.backward(grad_h, c_act) → grad_h»"),
    bug("a context of 3 words written in, not the constructor's", "Linear(backend, «context → 3»"),
]
