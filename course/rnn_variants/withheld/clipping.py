"""The planted bugs of :mod:`nlpdojo_course.rnn_variants.clipping`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("each parameter clipped by its own norm", "total = xp.sqrt(sum(xp.sum(g * g) for g in "
        "grads))«  # (): one norm over every parameter\n"
        "    scale = xp.clip(max_norm / (total + 1e-6), max=1.0)  # (): 1 when below the "
        "threshold → »\n"
        "    return [g * «scale → xp.clip(max_norm / (xp.sqrt(xp.sum(g * g)) + 1e-6), max=1.0)»"),
    bug("gradients scaled even below the threshold",
        "«xp.clip(max_norm / (total + 1e-6), max=1.0 → max_norm / (total + 1e-6»)"),
    bug("max_norm written in, not the argument", "xp.clip(«max_norm → 1.0» / (total + 1e-6)"),
    # the norm's value is right: it is judged as returned (a 0-d array of the inputs'), not
    # as the wire's NumPy array of it (docs/security.md, "judged as returned")
    bug("the norm returned as a Python float",
        "[g * scale for g in grads], «total → float(total)»", says="returned as a Python float"),
]
