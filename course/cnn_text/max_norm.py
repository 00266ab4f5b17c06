"""The max-norm constraint (Kim 2014, §2.1: "l2-norms of the weight vectors"; Srivastava et al.
2014, §5.1): the course library's ``max_norm`` on weights with columns above, below and far
above the limit, and a zero column; the usual mistakes (the norm taken along the wrong axis, or
of the whole matrix, or every column scaled onto the sphere, short ones stretched) are named
when that is what the output is. The reference agrees with ``torch.renorm(W, 2, 1, s)`` to
about 1e-7 (tests/cnn_text/test_max_norm.py): torch adds 1e-7 to a column's norm before
dividing, the reference 1e-12, and the check's tolerance takes either."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    CheckFailure,
    Context,
    Question,
    drawn_setting,
    value_check,
)

#: (what, the weight's shape, the columns' scales, the limit), the weight and the limit each
#: scaled by a factor drawn per grading and per case (0.4 to 2.5, ``drawn_setting``): a
#: limit written in (or chosen by the weight's shape) fails
CASES = (
    ("some columns above the limit", (6, 4), (2.0, 0.1, 1.0, 0.05), 3.0),
    ("every column below: unchanged", (5, 3), (0.2, 0.1, 0.3), 3.0),
    ("one unit's column far above", (4, 5), (0.3, 50.0, 0.2, 0.1, 0.3), 1.0),
    ("a column of zeros", (3, 2), (0.0, 4.0), 2.0),
)


def _weights(rng: np.random.Generator, shape: tuple[int, int], scales: tuple) -> np.ndarray:
    return rng.standard_normal(shape) * np.asarray(scales)[None, :]  # (in, out)


def _rows(weight: np.ndarray, limit: float) -> np.ndarray:
    norms = np.linalg.norm(weight, axis=1, keepdims=True)  # (in, 1)
    return weight * np.minimum(1.0, limit / (norms + 1e-12))


def _stretched(weight: np.ndarray, limit: float) -> np.ndarray:
    norms = np.linalg.norm(weight, axis=0, keepdims=True)  # (1, out)
    return weight * (limit / (norms + 1e-12))


def _whole(weight: np.ndarray, limit: float) -> np.ndarray:
    return weight * min(1.0, limit / (np.linalg.norm(weight) + 1e-12))


def _as_if(mistake):
    """The payload ``mistake`` gives, from the expected one (whose inputs it carries): named
    only where it matches every case, and only where the outputs differ from the expected."""
    def outputs(expected: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = dict(expected)
        for what, *_ in CASES:
            out[what] = mistake(expected[f"{what}: the weight given"],
                                float(expected[f"{what}: the limit given"]))
        return out
    return outputs


#: the usual mistakes, each as what it computes, and what to say
MISTAKES = {
    "the norm of each row, not each column: a unit's weight vector is its column of the "
    "(in, out) weight (sum over axis 0)": _as_if(_rows),
    "every column scaled onto the sphere, short ones stretched too: only a column longer than "
    "the limit is rescaled (the factor is min(1, limit / norm))": _as_if(_stretched),
    "one norm for the whole matrix: each unit's column has its own norm and its own factor":
        _as_if(_whole),
}


def _constrained(ctx: Context) -> dict[str, np.ndarray]:
    rng, out = ctx.rng(), {}
    f = ctx.function("max_norm")
    for i, (what, shape, scales, nominal) in enumerate(CASES):
        factor = drawn_setting(ctx, 0.4, 2.5, which=i)  # the case's scale, per grading
        weight, limit = factor * _weights(rng, shape, scales), float(nominal * factor)
        got = ctx.to_numpy(f(ctx.asarray(weight), limit), "max_norm's weight")
        if got.shape != weight.shape:
            raise CheckFailure(f"max_norm returned shape {got.shape} for a weight of shape "
                               f"{weight.shape}: the same shape, each column rescaled")
        out[what] = got
        # for the mistakes: the same on both sides
        out[f"{what}: the weight given"], out[f"{what}: the limit given"] = weight, np.array(limit)
    return out


MAX_NORM = Question(
    "max_norm", "The max-norm constraint on a layer's weight vectors", code="library/constraints",
    checks=[value_check(
        "values", "max_norm on weights with columns above and below the limit, one "
        "far above, and a zero column", 1.0, _constrained, rtol=1e-6, atol=1e-12,
        mistakes=MISTAKES)])

QUESTIONS = [MAX_NORM]
