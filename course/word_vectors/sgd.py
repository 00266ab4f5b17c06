"""Stochastic gradient descent for word2vec: a linearly decaying learning rate with a floor
(Mikolov et al. 2013a's schedule) and sparse updates of the rows a minibatch touched, whose
repeated rows must add up."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import Question, call, calls_check, function_check
from nlpdojo_autograder.authoring.inputs import BACKEND, draw, inputs, integers, normal, uniform

V, D = 10, 5  # vocabulary, dimension


def _steps(rng, drawn) -> list[int]:
    """The schedule at its start, a step inside, its middle, its end and past it."""
    t = drawn["total"]
    return [0, 1, int(rng.integers(2, t // 2)), t // 2, t - 1, t, t + int(rng.integers(1, t))]


SCHEDULE_INPUTS = inputs(  # the length, the rates and the inner step drawn from the check's seed
    total=integers(200, low=50), lr0=uniform(0.01, 0.05),
    # a floor that binds between 40% and 80% of the way: "never below lr_min"
    lr_min=draw(lambda rng, d: d["lr0"] * float(rng.uniform(0.2, 0.6))), steps=draw(_steps))
SCHEDULE = [call("linear_decay", "steps", "total", "lr0", each="steps", out="learning_rates"),
            call("linear_decay", "steps", "total", "lr0", "lr_min", each="steps",
                 out="learning_rates_with_lr_min"),
            call("linear_decay", 0, 0, "lr0", out="learning_rate_when_total_steps_is_0")]
# row 1 three times: the gradients add up; the rate drawn per grading (one written in fails)
ROWS = np.array([1, 3, 1, 7, 1])
UPDATE = inputs(backend=BACKEND, matrix=normal(V, D), rows=ROWS, grads=normal(5, D),
                lr=uniform(0.1, 1.0))
# row 1 twice in one pair, row 4 in both pairs
OUTER_ROWS = np.array([[1, 4, 1], [4, 0, 9]])
OUTER_UPDATE = inputs(backend=BACKEND, matrix=normal(V, D), rows=OUTER_ROWS,
                      coefs=normal(2, 3), vectors=normal(2, D), lr=uniform(0.1, 1.0))
IN_PLACE = "backend.scatter_add(...) and scatter_add_weighted(...) work in place"


def _repeats(rows: np.ndarray) -> str:
    """"row 1 appears 3 times in rows": the repeated rows of an update's inputs."""
    values, counts = np.unique(rows, return_counts=True)
    repeated = [(int(v), int(c)) for v, c in zip(values, counts, strict=True) if c > 1]
    if len(repeated) == 1:
        return f"row {repeated[0][0]} appears {repeated[0][1]} times in rows"
    return (f"rows {', '.join(str(v) for v, _ in repeated[:-1])} and {repeated[-1][0]} each "
            "appear more than once in rows")


def _fancy_index(update: str, scatter: str, rows: np.ndarray) -> str:
    """The mistake of an update written as a fancy-index assignment, named with its fix."""
    return (f"a fancy-index assignment ({update}): {_repeats(rows)}, and such an "
            "assignment keeps only the last update of a repeated row instead of adding them "
            f"all up; use {scatter}, which sums repeats (in NumPy: np.add.at / np.subtract.at)")


def _last_update_wins(args: dict) -> dict:
    """``matrix[rows] -= lr * grads`` in NumPy: a repeated row gets its last update alone."""
    matrix = args["matrix"]
    matrix[args["rows"]] -= args["lr"] * args["grads"]
    return {"updated": matrix}


def _last_outer_update_wins(args: dict) -> dict:
    """``matrix[rows] -= lr * coefs[..., None] * vectors[:, None, :]`` in NumPy."""
    matrix = args["matrix"]
    matrix[args["rows"]] -= args["lr"] * args["coefs"][..., None] * args["vectors"][:, None, :]
    return {"outer_updated": matrix}

SGD = Question(
    "sgd", "SGD with a learning-rate schedule",
    checks=[
        calls_check("schedule", "linear_decay: word2vec's learning-rate schedule", 1.0,
                    SCHEDULE_INPUTS, SCHEDULE),
        function_check("sparse_sgd_update", UPDATE, check="update",
                       title="sparse_sgd_update: repeated rows summed, in place", points=0.5,
                       outputs=("updated",), in_place="matrix", hint=IN_PLACE,
                       batched=("rows", "grads"),  # the README's "only the rows used"
                       mistakes_of_inputs={_fancy_index(
                           "matrix[rows] -= lr * grads",
                           "backend.scatter_add(matrix, rows, grads, alpha=-lr)",
                           ROWS): _last_update_wins}),
        function_check("sparse_outer_update", OUTER_UPDATE, check="outer_update",
                       title="sparse_outer_update: coefficients times vectors", points=0.5,
                       outputs=("outer_updated",), in_place="matrix", hint=IN_PLACE,
                       batched=("rows", "coefs", "vectors"),  # "one sparse product"
                       mistakes_of_inputs={_fancy_index(
                           "matrix[rows] -= lr * coefs[..., None] * vectors[:, None, :]",
                           "backend.scatter_add_weighted(matrix, rows, coefs, vectors, "
                           "alpha=-lr)", OUTER_ROWS): _last_outer_update_wins}),
    ])

QUESTIONS = [SGD]
