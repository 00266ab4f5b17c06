"""The planted bugs of :mod:`nlpdojo_course.cnn_text.max_norm`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the norm of each row, not each column",
        "xp.sum(weight * weight, axis=«0 → 1»", says="exactly those of the norm of each row"),
    bug("every column scaled onto the sphere, short ones stretched", "weight * «xp.clip(limit / "
        "(norms + 1e-12), max=1.0) → (limit / (norms + 1e-12))»", says="short ones stretched"),
    bug("one norm for the whole matrix", "xp.sum(weight * weight«, axis=0, keepdims=True → »))",
        says="one norm for the whole matrix"),
    bug("the limit written in, not the argument", "xp.clip(«limit → 3.0» / (norms + 1e-12)"),
]
