"""The planted bugs of :mod:`nlpdojo_course.word_vectors.sgd`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("learning rate ignores lr_min", "sgd",
        "return max(lr0 * (1.0 - progress), lr_min)", "return lr0 * (1.0 - progress)",
        "sgd"),
    bug("outer-product update ignores its coefficients", "sgd",
        "scatter_add_weighted(matrix, rows, coefs, vectors, alpha=-lr)",
        "scatter_add_weighted(matrix, rows, coefs * 0 + 1, vectors, alpha=-lr)", "sgd"),
    bug("sparse update's learning rate written in, not the argument", "sgd",
        "return backend.scatter_add(matrix, rows, grads, alpha=-lr)",
        "return backend.scatter_add(matrix, rows, grads, alpha=-0.5)", "sgd"),
    bug("learning rate does not decay", "sgd",
        "return max(lr0 * (1.0 - progress), lr_min)", "return lr0", "sgd"),
    # the training checks must fail too: steps that train the wrong thing (measured:
    # held-out loss 4.2 against the reference's 2.9 for the first)
    bug("negative words never updated", "sgd",
        "scatter_add_weighted(matrix, rows, coefs, vectors, alpha=-lr)",
        "scatter_add_weighted(matrix, rows[:, :1], coefs[:, :1], vectors, alpha=-lr)",
        "sgd", also=("training",)),
    bug("learning rate ten times too small", "sgd",
        "return max(lr0 * (1.0 - progress), lr_min)",
        "return max(0.1 * lr0 * (1.0 - progress), lr_min)", "sgd", also=("training",)),
]
