"""Why a gradient is wrong: recognise the pattern relating it to the true one, and hint.

:func:`diagnose` tries, in order: NaN/inf entries; all zeros; a loss that does not depend on the
input; the transpose; a consistent ratio (sign, 2, 1/2, a batch size N or 1/N, any constant;
every wrong entry must fit it);
only some rows, entries or columns wrong. Each pattern comes with a hint: the mistake that
usually causes it. Wrong *shapes* are explained from the shapes alone (:func:`_shape_mismatch`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from nlpdojo.gradcheck.numerical import ATOL, RTOL, _as_float64, _passes
from nlpdojo.gradcheck.result import _format_index

PATTERN_TOL = 1e-3  # relative tolerance when matching a pattern (transpose, ratio) in diagnose


def _close(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    """Vectors agree up to PATTERN_TOL relative to their norm (plus the absolute floor)."""
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return float(np.linalg.norm(a - b)) <= PATTERN_TOL * scale + atol * math.sqrt(a.size)


def _near_integer(value: float) -> int | None:
    k = round(value)
    return k if k >= 2 and abs(value - k) <= 2 * PATTERN_TOL * k else None


def _describe_ratio(c: float, own_loss: bool = False) -> tuple[str, str]:
    """Diagnosis and hint for ``analytic ≈ c · numerical``.

    ``own_loss``: the numerical gradient differentiates the student's own loss (a gradient
    check), not a reference. Then a factor N says only that the loss and the gradient disagree:
    either may be the wrong one, so the hint must not say which to change.
    """
    sign = "" if c > 0 else "minus "
    wrong_sign = "" if c > 0 else " (the wrong sign, too)"
    mag = abs(c)
    if abs(mag - 1) <= PATTERN_TOL:
        if c < 0:
            return ("your gradient has the wrong sign: it equals minus the true one",
                    "Typical cause: y - ŷ where ŷ - y belongs, or a dropped minus in -log p.")
        return (f"your gradient is close to the true one but not equal (ratio {c:.6f})",
                "Look for a small missing term, or for float32 arithmetic in forward or backward.")
    k_up, k_down = _near_integer(mag), _near_integer(1 / mag)
    if k_up == 2:
        return (f"your gradient is {sign}twice the true one{wrong_sign}",
                "Typical cause: a term counted twice, or d(x²)/dx = 2x where the loss has ½x².")
    if k_down == 2:
        return (f"your gradient is {sign}half the true one{wrong_sign}",
                "Typical cause: a missing factor 2, e.g. d(x²)/dx = 2x.")
    if (k_up or k_down) and own_loss:
        k = k_up or k_down
        # "the numerical one": what the check compares with, central differences of the
        # student's own loss (which may itself be the wrong one)
        return (f"your gradient is {sign}{k} times the numerical one{wrong_sign}" if k_up else
                f"your gradient is {sign}1/{k} of the numerical one{wrong_sign}",
                f"Your loss and your gradient disagree by a factor {k} (the check differentiates"
                f" your own loss). If {k} is your batch size N, one of them sums over the batch "
                "and the other averages: check which one the spec asks for (a sum or a mean) "
                "and fix the one that does not do it. Dividing the gradient by N is right only "
                "if the loss is meant to be a mean.")
    if k_up:
        return (f"your gradient is {sign}{k_up} times the true one{wrong_sign}",
                f"If {k_up} is your batch size N, the loss averages over the batch but your "
                "gradient sums: divide by N.")
    if k_down:
        return (f"your gradient is {sign}1/{k_down} of the true one{wrong_sign}",
                f"If {k_down} is your batch size N, you divided by N once too often (or the "
                "loss sums over the batch where you averaged).")
    return (f"your gradient is {c:.4g} times the true one (a consistent ratio)",
            "Look for a missing or extra constant factor (a scale, a temperature, 1/√d).")


def _ratio(a: np.ndarray, n: np.ndarray, atol: float) -> float | None:
    """The least-squares ``c`` with ``a ≈ c·n``, if the fit is good; else ``None``."""
    nn = float(np.dot(n, n))
    if nn == 0.0:
        return None
    c = float(np.dot(a, n)) / nn
    return c if c != 0.0 and _close(a, c * n, atol) else None


def _fits(a: np.ndarray, n: np.ndarray, c: float, atol: float) -> bool:
    """Every entry of ``a`` is ``c`` times its ``n`` (to PATTERN_TOL, plus the absolute floor).

    Applied to the failing entries: a fit in norm alone lets large correct entries hide a few
    small wrong ones, and then "a ratio of 1.000012" describes none of the wrong entries.
    """
    target = c * n
    return bool(np.all(np.abs(a - target)
                       <= PATTERN_TOL * np.maximum(np.abs(a), np.abs(target)) + atol))


def _list(items: Sequence[int], limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


_SLICES = {"rows": ("row", "rows"), "entries": ("entry", "entries"),
           "columns": ("column", "columns")}


def _some_slices_wrong(rows: np.ndarray, ok: np.ndarray, what: str,
                       sampled: bool, ndim: int = 2) -> tuple[str, str] | None:
    """"rows 3, 7 are wrong; the others are right" when a minority of rows holds every failure.
    ``ndim``: the array's; the first axis of a 3-D or larger one is a batch's examples (a row
    of a 2-D one a word's vector, whose repeats must be summed)."""
    bad = np.unique(rows[~ok])
    good = np.setdiff1d(np.unique(rows[ok]), bad)
    if bad.size == 0 or good.size == 0 or bad.size > (bad.size + good.size) // 2:
        return None
    one, many = _SLICES[what]
    noun, verb = (many, "are") if bad.size > 1 else (one, "is")
    scope = " (among the sampled coordinates)" if sampled else ""
    text = f"{noun} {_list(bad.tolist())} {verb} wrong; the others are right{scope}"
    if what == "columns":
        return text, ("Look at what those columns share: an output unit handled separately "
                      "(a bias, a mask, a target class).")
    # said of inputs and parameters alike (the diagnosis does not know which it has: a
    # convolution's weight, (taps, D, F), was told of "examples of the batch", and its bias
    # of an LSTM's gates, in a student trial)
    if ndim >= 3:
        return text, ("Look at what those slices along the first axis share: for an input, "
                      "examples of the batch (a length shorter than the batch's, padding, a "
                      "mask, a special token); for a weight, the taps or rows the forward uses "
                      "apart from the others.")
    if what == "entries":  # a vector (a bias): no word indexes it
        blocks = _whole_blocks(bad, bad.size + good.size)
        return text + blocks, ("Look at what those entries share: the units they belong to (a "
                               "filter or hidden unit handled apart, a mask); in a vector of a "
                               "gated cell's gates (H entries each, in torch's order i, f, g, "
                               "o for an LSTM and r, z, n for a GRU) the wrong blocks name the "
                               "gates whose formula, order or derivative to check.")
    return text, (f"Look at what those {many} share: a {one} indexed by a term of its own (the "
                  "target word's -1 in y_hat - y, a padding row), or a "
                  f"{one} used more than once (a word occurring twice in a batch), which must "
                  "receive the sum of its contributions: accumulate with a scatter-add "
                  "(backend.scatter_add), not with an assignment like dW[idx] = g.")


def _whole_blocks(bad: np.ndarray, size: int) -> str:
    """", blocks 1 and 2 of 4" where the wrong entries of a vector of ``size`` are exactly whole
    blocks of an equal split into 4 or 3 (a gated cell's gates), else ""."""
    wrong = set(bad.tolist())
    for parts in (4, 3):
        width = size // parts
        if size % parts or width < 3:  # (blocks of one or two entries say nothing)
            continue
        blocks = sorted({i // width for i in wrong})
        if wrong == {i for b in blocks for i in range(b * width, (b + 1) * width)}:
            named = " and ".join(str(b + 1) for b in blocks)
            return f" (entries {min(wrong)}–{max(wrong)}: block{'s' if len(blocks) > 1 else ''} " \
                f"{named} of {parts} equal blocks of {width})"
    return ""


def _nonzero_where_zero(a: np.ndarray, n: np.ndarray, ok: np.ndarray, atol: float,
                        sampled: bool) -> tuple[str, str] | None:
    """Every wrong entry is one whose true gradient is 0: gradient sent to inputs the output
    does not depend on (a mask missed in backward). Only where some entries are right: a
    gradient wrong everywhere says nothing of a mask."""
    wrong = ~ok
    if not ok.any() or not np.all(np.abs(n[wrong]) < atol):
        return None
    scope = " (among the sampled coordinates)" if sampled else ""
    return (f"your gradient is not 0 at {int(wrong.sum())} entries where the true one is 0, "
            f"and right at the others{scope}",
            "Typical cause: a mask missed in backward: gradient sent to inputs the output does "
            "not depend on (padded positions, positions that lost a max, dropped units, "
            "negative inputs of a ReLU).")


def _nonfinite(analytic: np.ndarray) -> tuple[str, str] | None:
    bad = ~np.isfinite(analytic)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad.reshape(-1))), analytic.shape))
    kinds = "NaN" if np.isnan(analytic).any() else "inf"
    if kinds == "NaN" and np.isinf(analytic).any():
        kinds = "NaN/inf"
    # by what was found, as the value checks explain it (a mean over a length of 0 was sent
    # to a softmax it did not have: a student trial)
    cause = ("NaN comes from 0/0 (a division by a count or a length that is 0, say), "
             "inf − inf or 0·inf, the log or square root of a negative number, or a NaN "
             "carried over from the forward" if kinds == "NaN" else
             "inf comes from a division by 0, log(0), or an overflow in exp (subtract the row "
             "maximum before a softmax; keep probabilities inside a log away from 0)")
    return (f"your gradient contains {kinds} in {int(bad.sum())} of {analytic.size} entries, "
            f"first at {_format_index(first)}", f"Typical cause: {cause}.")


def _diagnose(analytic: Any, numerical: Any, *, sampled_index: Any = None, rtol: float = RTOL,
              atol: float = ATOL, own_loss: bool = False) -> tuple[str, str] | None:
    """``(diagnosis, hint)`` for the patterns listed in :func:`diagnose`, or ``None``.

    ``own_loss``: ``numerical`` differentiates the student's own loss (see :func:`_describe_ratio`).
    """
    a_full, n_vals = _as_float64(analytic), _as_float64(numerical)
    found = _nonfinite(a_full)
    if found:
        return found
    if sampled_index is None and a_full.shape != n_vals.shape:
        return (_transposed_values(a_full, n_vals, rtol, atol)
                or _shape_mismatch(a_full.shape, n_vals.shape, "x"))
    sampled = sampled_index is not None
    flat = (np.asarray(sampled_index, np.int64).reshape(-1) if sampled
            else np.arange(a_full.size))
    a = a_full.reshape(-1)[flat]
    n = n_vals.reshape(-1)
    ok = _passes(a, n, rtol, atol)
    if ok.all():
        return None
    if not a_full.any():
        return ("your gradient is all zeros",
                "Typical cause: the gradient was never written (backward not run, a fresh zeros "
                "array returned, or the result assigned to a copy).")
    if np.all(np.abs(n) < atol):
        # said of the forward, not of "f" (a student trial read f as the LSTM's forget gate)
        return ("the loss does not change when this input changes, yet your gradient is not zero",
                "Typical cause: the forward pass does not use this input (or this parameter): "
                "its output is the same whatever its value, so its true gradient is 0. Where "
                "the lecture's forward uses it, the forward is what is wrong; else the backward "
                "gives it a gradient it does not have.")
    found = _nonzero_where_zero(a, n, ok, atol, sampled)
    if found:
        return found
    if a_full.ndim == 2 and a_full.shape[0] == a_full.shape[1] > 1:
        rows, cols = np.unravel_index(flat, a_full.shape)
        a_t = a_full[cols, rows]  # analytic at the transposed positions
        if _close(a_t, n, atol) and not _close(a, n, atol):
            return ("your gradient equals the true one transposed",
                    "Typical cause: matmul operands in the wrong order, e.g. g.T @ x instead of "
                    "x.T @ g; the gradient must have the parameter's layout.")
    c = _ratio(a, n, atol)
    if c is not None and _fits(a[~ok], n[~ok], c, atol):
        return _describe_ratio(c, own_loss)
    if a_full.ndim >= 1 and a_full.shape[0] > 1:
        idx = np.unravel_index(flat, a_full.shape)
        what = "rows" if a_full.ndim >= 2 else "entries"
        found = _some_slices_wrong(idx[0], ok, what, sampled, a_full.ndim)
        if found is None and a_full.ndim == 2:
            found = _some_slices_wrong(idx[1], ok, "columns", sampled)
        return found
    return None


def _shape_mismatch(a_shape: tuple[int, ...], x_shape: tuple[int, ...],
                    name: str) -> tuple[str, str]:
    """Diagnosis and hint for a gradient of the wrong shape, from the shapes alone."""
    diag = f"your gradient has shape {a_shape}, but {name} has shape {x_shape}"
    hint = "The gradient of a parameter always has the parameter's shape."
    if len(a_shape) == 2 and a_shape[::-1] == x_shape:
        diag += ": the transposed shape"
        hint = ("Swap the matmul operands (x.T @ g rather than g.T @ x), or transpose the "
                "result.")
    elif len(a_shape) == len(x_shape) + 1 and a_shape[1:] == x_shape and a_shape[0] == 1:
        hint = ("It has an extra leading axis of size 1: drop it (a [None, :], reshape or "
                "keepdims=True too many?); a gradient has exactly its parameter's shape.")
    elif len(a_shape) == len(x_shape) + 1 and a_shape[1:] == x_shape:
        hint = (f"It has an extra leading axis of size {a_shape[0]}: if your inputs hold a "
                f"batch of {a_shape[0]} examples, sum the per-example gradients over that axis "
                f"(a parameter's gradient sums its use in every example); if not, a broadcast "
                "made it: check the shapes of the operands.")
    elif math.prod(a_shape) == math.prod(x_shape):
        hint = "It has the right number of entries: reshape it to the parameter's shape."
    return diag, hint


def _transposed_values(a: np.ndarray, n: np.ndarray, rtol: float,
                       atol: float) -> tuple[str, str] | None:
    """For full arrays of transposed shapes: is ``a`` exactly the transpose of ``n``?"""
    if a.ndim == 2 and a.shape[::-1] == n.shape and _passes(a.T, n, rtol, atol).all():
        return (f"your gradient equals the true one transposed (shape {a.shape} instead of "
                f"{n.shape})", "Return the gradient in the parameter's own layout: swap the "
                "matmul operands (x.T @ g rather than g.T @ x).")
    return None


def diagnose(analytic: Any, numerical: Any, *, sampled_index: Any = None, rtol: float = RTOL,
             atol: float = ATOL) -> str | None:
    """Name the pattern that relates a wrong gradient to the true one, or ``None``.

    Recognised, in this order: NaN/inf entries; all zeros; a loss that does not depend on the
    input; non-zero only where the true gradient is 0 (a mask missed); the transpose (square
    matrices; a transposed *shape* is recognised from the shapes); a consistent ratio (minus
    one: sign flipped; 2, 1/2; an integer N or 1/N, typically a batch size; any other
    constant, reported); only some rows (or entries, or columns) wrong, named.

    :param analytic: the full gradient being checked.
    :param numerical: the full numerical gradient, or, with ``sampled_index``, its values at
        those flat indices (the sampled mode of :func:`check_gradient`).
    """
    found = _diagnose(analytic, numerical, sampled_index=sampled_index, rtol=rtol, atol=atol)
    return found[0] if found else None
