"""The planted bugs of :mod:`nlpdojo_course.neural_networks.gradcheck`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("gradient checker uses relative error only",
        "ok = «(relative < rtol) | (error < atol) → relative < rtol»", by=("planted",)),
    bug("check_gradient's default tolerances written in, not the caller's",
        "ok = (relative < «rtol) | (error < atol → 1e-5) | (error < 1e-8»)", by=("planted",)),
    bug("one-sided differences", "flat[i] = old« - h → »", by=("numerical",)),
]
