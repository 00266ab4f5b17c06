"""Comparing a student's outputs with the reference's, and saying what is wrong.

Used by the parent process only. Every message names the output, the worst index, both values
and, where one fits, the pattern that relates them (transposed, a constant factor, the sign,
all zeros, some rows): the same diagnosis gradient checks give (:func:`nlpdojo.gradcheck.diagnose`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo.gradcheck import diagnose
from nlpdojo_autograder.checks import Verdict


def _fmt_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def compare_array(name: str, actual: Any, expected: Any, *, rtol: float = 1e-6,
                  atol: float = 1e-8) -> str | None:
    """``None`` when ``actual`` matches ``expected`` elementwise within
    ``|a - e| <= atol + rtol * |e|``; otherwise the message to show."""
    a, e = np.asarray(actual), np.asarray(expected)
    if a.shape != e.shape:
        hint = ""
        if a.ndim == 2 and a.shape[::-1] == e.shape:
            hint = " (the transposed shape)"
        elif a.size == e.size:
            hint = " (same number of entries: reshape?)"
        elif a.ndim == e.ndim + 1 and a.shape[1:] == e.shape:
            hint = f" (an extra leading axis of {a.shape[0]}: sum or average over the batch?)"
        return f"{name} has shape {a.shape}, expected {e.shape}{hint}"
    if np.issubdtype(e.dtype, np.floating):
        if not np.issubdtype(a.dtype, np.floating):
            return (f"{name} has dtype {a.dtype}, expected floating point numbers (an integer "
                    "array? a cast, or integer division, loses the fractions)")
        a = a.astype(np.float64)
        bad = ~np.isfinite(a)
        if bad.any() and not (~np.isfinite(e)[bad]).all():
            first = tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()
            return (f"{name} contains NaN or inf ({int(bad.sum())} of {a.size} entries, first at "
                    f"{_fmt_index(first)}): overflow in exp, or log(0)? Subtract the maximum "
                    "before exponentiating")
        err = np.abs(a - e)
        tol = atol + rtol * np.abs(e)
        over = err - tol
        if not (over > 0).any():
            return None
        worst = np.unravel_index(int(np.argmax(over)), a.shape) if a.ndim else ()
        msg = (f"{name}: {int((over > 0).sum())} of {a.size} entries differ; worst at "
               f"{_fmt_index(tuple(int(i) for i in worst))}: yours {_fmt(float(a[worst]))}, "
               f"expected {_fmt(float(e[worst]))}")
        pattern = diagnose(a, e, rtol=max(rtol, 1e-5), atol=atol) if a.size > 1 else None
        if pattern:
            pattern = pattern.replace("your gradient", "yours").replace("the true one",
                                                                         "the expected one")
            msg += f"; {pattern}"
        return msg
    # integers, booleans: exact
    if not np.array_equal(a, e):
        diff = np.argwhere(a != e)
        first = tuple(int(i) for i in diff[0]) if a.ndim else ()
        return (f"{name}: {len(diff)} of {a.size} entries differ; first at {_fmt_index(first)}: "
                f"yours {a[first]!r}, expected {e[first]!r}")
    return None


def compare_payloads(actual: dict[str, Any], expected: dict[str, Any], *, rtol: float,
                     atol: float, keys: tuple[str, ...] | None = None) -> Verdict:
    """All listed (default: all expected) outputs must match; report every mismatch."""
    problems = []
    for key in keys or tuple(expected):
        if key not in actual:
            problems.append(f"{key} is missing")
            continue
        problem = compare_array(key, actual[key], expected[key], rtol=rtol, atol=atol)
        if problem:
            problems.append(problem)
    if problems:
        return Verdict(False, "; ".join(problems), details={"mismatches": len(problems)})
    return Verdict(True, "matches the reference")
