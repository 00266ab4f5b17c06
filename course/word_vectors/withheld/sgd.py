"""The planted bugs of :mod:`nlpdojo_course.word_vectors.sgd`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug
from nlpdojo_course.word_vectors.training import TRAINING

BUGS = [
    bug("learning rate ignores lr_min", "return «max( → »lr0 * (1.0 - progress)«, lr_min) → »"),
    bug("outer-product update ignores its coefficients", "coefs« →  * 0 + 1», vectors, alpha=-lr"),
    bug("sparse update's learning rate written in, not the argument", "grads, alpha=-«lr → 0.5»"),
    bug("learning rate does not decay", "return «max(lr0 * (1.0 - progress), lr_min) → lr0»"),
    # right values, a Python loop over the rows: the batch rule fails them
    bug("sparse update as a Python loop over the rows",
        "    return backend.scatter_add(matrix, rows, grads, alpha=-lr)",
        "    for i in range(rows.shape[0]):\n"
        "        matrix = backend.scatter_add(\n"
        "            matrix, rows[i:i + 1], grads[i:i + 1], alpha=-lr)\n"
        "    return matrix", says="a Python loop over the batch"),
    # the training checks must fail too: steps that train the wrong thing (measured:
    # held-out loss 4.2 against the reference's 2.9 for the first)
    bug("negative words never updated",
        "scatter_add_weighted(matrix, rows«, coefs → [:, :1], coefs[:, :1]»", also=(TRAINING,)),
    bug("learning rate ten times too small", "return max(« → 0.1 * »lr0 * (1.0", also=(TRAINING,)),
]
