"""Invariants of a check's outputs (:class:`Property`), judged without the reference by
:func:`~.kinds.property_check`, and the common ones: rows that are distributions, values in a
range, finite values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.checks import Payload
from nlpdojo_autograder.authoring.compare import nonfinite_causes


@dataclass(frozen=True)
class Property:
    """An invariant of a check's outputs, judged without the reference: ``holds(outputs)``
    returns True (or an array of booleans, all of which must be True) where it holds;
    ``message`` says what is wrong when it does not."""

    name: str
    holds: Callable[[Payload], Any]
    #: what is wrong: a text (``{where}``: the first failing index) or a function of the
    #: outputs that says it with the measured values
    message: str | Callable[[Payload], str]


def rows_sum_to_one(output: str, *, atol: float = 1e-6) -> Property:
    """Each row of ``output`` (the last axis) is a distribution: non-negative, summing to 1."""
    return Property(
        f"the rows of {output} sum to 1",
        lambda p: (np.abs(np.sum(p[output], axis=-1) - 1.0) <= atol) & np.all(
            p[output] >= 0.0, axis=-1),
        f"row {{where}} of {output} is not a distribution (non-negative entries summing to 1 "
        "over the last axis): normalise over the last axis, keepdims=True")


def within(output: str, low: float, high: float) -> Property:
    """Every entry of ``output`` is in [low, high]."""
    return Property(f"{output} in [{low:g}, {high:g}]",
                    lambda p: (np.asarray(p[output]) >= low) & (np.asarray(p[output]) <= high),
                    f"{output} at {{where}} is outside [{low:g}, {high:g}]")


def finite(output: str) -> Property:
    """No NaN or inf in ``output``."""
    return Property(f"{output} finite", lambda p: np.isfinite(np.asarray(p[output])),
                    lambda p: f"{output} at {_first_nonfinite(p[output])} is NaN or inf: "
                    + nonfinite_causes(np.asarray(p[output])[~np.isfinite(
                        np.asarray(p[output], np.float64))]))


def _first_nonfinite(values: Any) -> str:
    bad = ~np.isfinite(np.asarray(values, np.float64))
    return str(tuple(int(i) for i in np.argwhere(bad)[0])) if bad.ndim else "()"
