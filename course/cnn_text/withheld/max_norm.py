"""The planted bugs of :mod:`nlpdojo_course.cnn_text.max_norm`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

from ..max_norm import CONSTRAINTS

BUGS = [
    bug("the norm of each row, not each column", CONSTRAINTS,
        "xp.sum(weight * weight, axis=0, keepdims=True))",
        "xp.sum(weight * weight, axis=1, keepdims=True))", "max_norm",
        says="exactly those of the norm of each row"),
    bug("every column scaled onto the sphere, short ones stretched", CONSTRAINTS,
        "return weight * xp.clip(limit / (norms + 1e-12), max=1.0)",
        "return weight * (limit / (norms + 1e-12))", "max_norm",
        says="short ones stretched"),
    bug("one norm for the whole matrix", CONSTRAINTS,
        "xp.sum(weight * weight, axis=0, keepdims=True))",
        "xp.sum(weight * weight))", "max_norm", says="one norm for the whole matrix"),
    bug("the limit written in, not the argument", CONSTRAINTS,
        "xp.clip(limit / (norms + 1e-12), max=1.0)", "xp.clip(3.0 / (norms + 1e-12), max=1.0)",
        "max_norm"),
]
