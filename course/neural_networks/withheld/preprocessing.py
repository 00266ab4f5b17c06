"""The planted bugs of :mod:`nlpdojo_course.neural_networks.preprocessing`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("normalize only subtracts the mean", "return «(x - mean) / std  # (N, D) → x - mean»"),
    # a student trial: 1 of 1 while every feature's mean was below 3
    bug("normalize's variance as mean(x²) − mean², which cancels far from 0",
        "std = xp.sqrt(«xp.mean((train - mean) ** 2, axis=0) → xp.mean(train * train, axis=0) "
        "- mean * mean»)", says="cancellation"),
    bug("whitening keeps ascending eigenvalues",
        "«eigenvalues, vectors = xp.flip(eigenvalues), xp.flip(vectors, axis=1) → pass»"),
    bug("statistics computed on the test split", "mean, std = fit_normalizer(«train → test»)"),
]
