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
    bug("check_gradient's third result not the largest absolute error",
        "return bool(xp.all(ok)), tuple(reversed(worst)), «float(xp.max(error)) → 0.0»",
        by=("planted",), says="max_abs_error"),
    bug("check_gradient without the shape test (a broadcast gradient passes)",
        "«if tuple(analytic.shape) != tuple(x.shape): → if False:»", by=("planted",),
        says="compare the shapes first"),
    # a student trial's: each kept 2.5 of 2.5 while no call passed h or a vector
    bug("check_gradient ignores the h it is given",
        "numeric = numerical_gradient(f, x«, h → »)", by=("planted",), says="pass h on"),
    bug("check_gradient's worst index a matrix's only",
        "    «worst = []\n"
        "    for size in reversed(tuple(x.shape)):  # the flat index as a multi-index\n"
        "        worst.append(flat % size)\n"
        "        flat //= size\n"
        "    return bool(xp.all(ok)), tuple(reversed(worst)), float(xp.max(error)) → "
        "return bool(xp.all(ok)), (flat // x.shape[1], flat % x.shape[1]), "
        "float(xp.max(error))»", by=("planted",)),
]
