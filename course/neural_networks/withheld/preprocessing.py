"""The planted bugs of :mod:`nlpdojo_course.neural_networks.preprocessing`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("normalize only subtracts the mean", "return «(x - mean) / std  # (N, D) → x - mean»"),
    bug("whitening keeps ascending eigenvalues",
        "«eigenvalues, vectors = xp.flip(eigenvalues), xp.flip(vectors, axis=1) → pass»"),
    bug("statistics computed on the test split", "mean, std = fit_normalizer(«train → test»)"),
]
