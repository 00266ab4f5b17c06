"""Gradient checking: compare a hand-derived gradient with central differences, and say why not.

CS224n lecture 3/4 ("Backpropagation and computation graphs": *gradient checking, numeric
gradient*) and the lecture notes on neural networks (§ "Gradient check") check an analytic
gradient against the two-sided difference ``(J(θ + h) − J(θ − h)) / 2h``; the relative-error
measure follows the CS231n notes ("Gradient checks"). This module makes that check precise
enough to grade with, and turns a failure into a lesson:

* **float64 always.** Inputs are converted; a float32 ``x`` is checked on a float64 copy (with a
  note), because float32 central differences reach relative errors above 1 on correct code.
  A loss that ``f`` computes in float32 fails the check with that explanation.
* **h = 1e-5**, two-sided: ``n_i = (f(x + h e_i) − f(x − h e_i)) / 2h``.
* **Relative error** ``|a − n| / max(|a|, |n|, tiny)``; **absolute error** ``|a − n|``.
* **A coordinate passes** when ``rel_error < rtol`` (1e-5) **or** ``abs_error < atol`` (1e-8).
  A rule like "max relative error < 1e-7 everywhere" fails correct code: coordinates whose true
  gradient is tiny show relative errors up to 5e-4 while their absolute error stays below 5e-10
  (DESIGN.md, "Measured facts"). Central differences also carry a round-off floor of about
  ``ε·|f| / h``; for large losses (``|f|`` above ~45) ``atol`` is raised to ``10·ε·|f| / h``
  so a correct gradient of a *summed* loss still passes. The result records the ``atol`` used.
* **Full or sampled.** Every coordinate when ``x.size <= max_full``; otherwise ``n_samples``
  coordinates (half the largest ``|analytic|``, half random, seeded) plus ``n_directions``
  random unit directions ``d`` (entries ±1/√n), comparing ``analytic·d`` with
  ``(f(x + hd) − f(x − hd)) / 2h``.
  A sampled check costs ``1 + 2·(n_samples + n_directions)`` loss evaluations whatever the
  size of ``x``; directions see every coordinate at once, so a bug the sample misses is still
  caught (though not located).
* **x is restored** after every perturbation, also when ``f`` raises. A writable float64 NumPy
  ``x`` is perturbed in place (so an ``f`` that closes over it works, as in CS224n's
  ``gradcheck_naive``); anything else is copied first.
* **Gather, then judge.** :func:`gather_evidence` calls ``f`` and returns plain data;
  :func:`judge_evidence` turns it into a verdict without calling anything; :func:`check_gradient`
  is the two in a row. The autograder runs them in the isolated child and in the grader.
* **Results are data.** Failures of the gradient (wrong shape, NaN/inf, wrong values) and of the
  loss (non-scalar, non-finite, float32) return a failed :class:`GradCheckResult` whose message
  names the parameter, the worst index, both values and the likely cause (:func:`diagnose`).
  Exceptions raised *by* ``f`` propagate (after ``x`` is restored).

``f`` must be deterministic: fix any random state (dropout masks, negative samples) inside it.
See ``docs/gradient-checking.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nlpdojo.errors import BackendUnavailableError

__all__ = [
    "GradCheckResult",
    "autograd_gradient",
    "check_gradient",
    "check_gradients",
    "check_module",
    "compare_gradients",
    "diagnose",
    "gather_evidence",
    "judge_evidence",
    "numerical_gradient",
    "relative_error",
]

H = 1e-5
RTOL = 1e-5
ATOL = 1e-8
TINY = float(np.finfo(np.float64).tiny)
EPS = float(np.finfo(np.float64).eps)
ROUNDOFF_FACTOR = 10.0  # atol >= ROUNDOFF_FACTOR * eps * |f| / h
PATTERN_TOL = 1e-3  # relative tolerance when matching a pattern (transpose, ratio) in diagnose
_LOW_PRECISION = {"float16", "bfloat16", "float32"}
_TORCH_HINT = (
    "PyTorch is not installed, so the autograd oracle is unavailable (numerical gradients work "
    "without it). Install it with: pip install -c constraints.txt -e '.[torch]'"
)


@dataclass
class GradCheckResult:
    """The outcome of checking one gradient; ``message`` is what a student reads.

    ``worst_index``, ``analytic``, ``numerical``, ``abs_error`` and ``rel_error`` describe the
    worst check: the failing coordinate with the largest relative error (a failing random
    direction, ``worst_index=None``, when no coordinate fails), or the largest relative error
    overall when everything passes.
    """

    name: str
    passed: bool
    mode: str  # "full" (every coordinate) or "sampled"
    n_checked: int  # coordinates + directions compared
    worst_index: tuple[int, ...] | None
    analytic: float | None
    numerical: float | None
    abs_error: float
    rel_error: float
    n_failed: int
    diagnosis: str | None
    message: str
    hint: str | None = None  # the usual cause of the diagnosed pattern
    h: float = H
    rtol: float = RTOL
    atol: float = ATOL  # the absolute tolerance used (raised to the round-off floor if needed)
    n_evaluations: int = 0  # calls of f
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: tuples become lists, NumPy scalars Python numbers, NaN/inf ``None``."""
        return {key: _json_safe(value) for key, value in asdict(self).items()}

    def __str__(self) -> str:
        return self.message


# -- errors and the numbers they are judged by ------------------------------------------------
def relative_error(analytic: Any, numerical: Any) -> np.ndarray:
    """``|a − n| / max(|a|, |n|, tiny)``, elementwise, in float64 (0 where both are 0)."""
    a, n = np.asarray(analytic, np.float64), np.asarray(numerical, np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), TINY)


def _passes(a: np.ndarray, n: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """The pass rule: relative error < rtol or absolute error < atol (False for NaN/inf)."""
    return (relative_error(a, n) < rtol) | (np.abs(a - n) < atol)


def _roundoff_atol(atol: float, loss_scale: float, h: float) -> float:
    """``atol`` raised to the round-off floor of central differences, ``10·ε·|f| / h``."""
    return max(atol, ROUNDOFF_FACTOR * EPS * abs(loss_scale) / h)


# -- evaluating f -----------------------------------------------------------------------------
class _LossError(Exception):
    """f returned something a gradient check cannot use (the message says what and why)."""


class _Loss:
    """Wraps ``f``: counts calls, accepts ``(loss, grad)`` tuples, insists on a float64 scalar."""

    def __init__(self, f: Callable[[Any], Any]) -> None:
        self.f = f
        self.calls = 0

    def __call__(self, x: Any) -> float:
        self.calls += 1
        return _scalar(self.f(x))


def _scalar(value: Any) -> float:
    if isinstance(value, tuple) and value:  # CS224n's gradcheck_naive convention: (cost, grad)
        value = value[0]
    dtype = str(getattr(value, "dtype", "")).replace("torch.", "")
    if dtype in _LOW_PRECISION:
        raise _LossError(
            f"f computed the loss in {dtype}; gradient checks need float64 throughout (float32 "
            "central differences reach relative errors above 1). Load the backend with "
            "dtype='float64' and make sure no array is created in float32."
        )
    shape = tuple(getattr(value, "shape", ()))
    if math.prod(shape) != 1:
        raise _LossError(
            f"f returned an array of shape {shape}, not a scalar: a gradient check needs one "
            "number, the loss (sum or average the per-example losses)."
        )
    item = value.item() if hasattr(value, "item") else value
    return float(item)


def _working_copy(x: Any) -> tuple[np.ndarray, list[str]]:
    """``x`` as a writable float64 NumPy array: ``x`` itself when it already is one."""
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.flags.writeable:
        return x, []
    arr = np.array(x, dtype=np.float64)  # a copy
    notes = []
    dtype = str(getattr(x, "dtype", ""))
    if dtype in _LOW_PRECISION:
        notes.append(f"x was {dtype}: checked on a float64 copy (float32 central differences "
                     "reach relative errors above 1), so f must use its argument.")
    return arr, notes


def _as_float64(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


# -- central differences ---------------------------------------------------------------------
def _coordinate_derivative(f: Callable[[np.ndarray], float], x: np.ndarray, flat: int,
                           h: float) -> float:
    """``(f(x + h e_i) − f(x − h e_i)) / (actual step)``; ``x[i]`` restored bit for bit."""
    idx = np.unravel_index(flat, x.shape)
    orig = float(x[idx])
    plus, minus = orig + h, orig - h
    try:
        x[idx] = plus
        f_plus = f(x)
        x[idx] = minus
        f_minus = f(x)
    finally:
        x[idx] = orig
    return (f_plus - f_minus) / (plus - minus)


def _directional_derivative(f: Callable[[np.ndarray], float], x: np.ndarray, x0: np.ndarray,
                            d: np.ndarray, h: float) -> float:
    """``(f(x + hd) − f(x − hd)) / 2h`` for a unit ``d``; ``x`` reset to ``x0`` afterwards."""
    try:
        np.add(x0, h * d, out=x)
        f_plus = f(x)
        np.subtract(x0, h * d, out=x)
        f_minus = f(x)
    finally:
        np.copyto(x, x0)
    return (f_plus - f_minus) / (2.0 * h)


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, *, h: float = H,
                       indices: Iterable[int] | None = None) -> np.ndarray:
    """Central differences of the scalar ``f`` at ``x`` in float64.

    :param f: ``f(x) -> float`` (or ``(float, grad)``); must be deterministic.
    :param x: the point; a writable float64 array is perturbed in place and restored, anything
        else is copied to float64 first.
    :param indices: flat indices to differentiate along; ``None`` means every coordinate.
    :returns: an array of ``x``'s shape (all coordinates) or of shape ``(len(indices),)``.
    """
    xw, _ = _working_copy(x)
    loss = _Loss(f)
    flat = np.arange(xw.size) if indices is None else np.asarray(list(indices), dtype=np.int64)
    try:
        grads = np.array([_coordinate_derivative(loss, xw, int(i), h) for i in flat], np.float64)
    except _LossError as exc:
        raise ValueError(str(exc)) from None
    return grads.reshape(xw.shape) if indices is None else grads


def _sample_coordinates(analytic: np.ndarray, n_samples: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Half the coordinates with the largest ``|analytic|``, the rest at random; sorted."""
    size = analytic.size
    n_samples = min(n_samples, size)
    k_top = n_samples // 2
    magnitude = np.abs(analytic.reshape(-1))
    top = np.argpartition(-magnitude, k_top)[:k_top] if k_top else np.empty(0, np.int64)
    chosen = set(top.tolist())
    while len(chosen) < n_samples:  # a few rounds at most: n_samples << size in sampled mode
        chosen.update(rng.choice(size, n_samples - len(chosen), replace=False).tolist())
    return np.array(sorted(chosen), dtype=np.int64)


# -- diagnosis -------------------------------------------------------------------------------
def _close(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    """Vectors agree up to PATTERN_TOL relative to their norm (plus the absolute floor)."""
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)))
    return float(np.linalg.norm(a - b)) <= PATTERN_TOL * scale + atol * math.sqrt(a.size)


def _near_integer(value: float) -> int | None:
    k = round(value)
    return k if k >= 2 and abs(value - k) <= 2 * PATTERN_TOL * k else None


def _describe_ratio(c: float) -> tuple[str, str]:
    """Diagnosis and hint for ``analytic ≈ c · numerical``."""
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


def _list(items: Sequence[int], limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


_SLICES = {"rows": ("row", "rows"), "entries": ("entry", "entries"),
           "columns": ("column", "columns")}


def _some_slices_wrong(rows: np.ndarray, ok: np.ndarray, what: str,
                       sampled: bool) -> tuple[str, str] | None:
    """"rows 3, 7 are wrong; the others are right" when a minority of rows holds every failure."""
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
    return text, (f"Typical cause: a {one} used more than once (a word occurring twice in a "
                  "batch) must receive the sum of its contributions: accumulate with scatter-add"
                  " / np.add.at, not with an assignment like dW[idx] = g.")


def _nonfinite(analytic: np.ndarray) -> tuple[str, str] | None:
    bad = ~np.isfinite(analytic)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad.reshape(-1))), analytic.shape))
    kinds = "NaN" if np.isnan(analytic).any() else "inf"
    if kinds == "NaN" and np.isinf(analytic).any():
        kinds = "NaN/inf"
    return (f"your gradient contains {kinds} in {int(bad.sum())} of {analytic.size} entries, "
            f"first at {_format_index(first)}",
            "Typical cause: log(0), 0/0 or overflow in exp: subtract the row maximum before a "
            "softmax, and keep probabilities inside a log away from 0.")


def _diagnose(analytic: Any, numerical: Any, *, sampled_index: Any = None, rtol: float = RTOL,
              atol: float = ATOL) -> tuple[str, str] | None:
    """``(diagnosis, hint)`` for the patterns listed in :func:`diagnose`, or ``None``."""
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
        return ("the loss does not change when this input changes, yet your gradient is not zero",
                "Does f use its argument? (A closure over another array, or over a float32 array "
                "that the check had to copy to float64.)")
    if a_full.ndim == 2 and a_full.shape[0] == a_full.shape[1] > 1:
        rows, cols = np.unravel_index(flat, a_full.shape)
        a_t = a_full[cols, rows]  # analytic at the transposed positions
        if _close(a_t, n, atol) and not _close(a, n, atol):
            return ("your gradient equals the true one transposed",
                    "Typical cause: matmul operands in the wrong order, e.g. g.T @ x instead of "
                    "x.T @ g; the gradient must have the parameter's layout.")
    c = _ratio(a, n, atol)
    if c is not None:
        return _describe_ratio(c)
    if a_full.ndim >= 1 and a_full.shape[0] > 1:
        idx = np.unravel_index(flat, a_full.shape)
        what = "rows" if a_full.ndim >= 2 else "entries"
        found = _some_slices_wrong(idx[0], ok, what, sampled)
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
    elif len(a_shape) == len(x_shape) + 1 and a_shape[1:] == x_shape:
        hint = (f"It has an extra leading axis of size {a_shape[0]}: sum the per-example "
                "gradients over the batch.")
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
    input; the transpose (square matrices; a transposed *shape* is recognised from the shapes);
    a consistent ratio (minus one: sign flipped; 2, 1/2; an integer N or 1/N, typically a batch
    size; any other constant, reported); only some rows (or entries, or columns) wrong, named.

    :param analytic: the full gradient being checked.
    :param numerical: the full numerical gradient, or, with ``sampled_index``, its values at
        those flat indices (the sampled mode of :func:`check_gradient`).
    """
    found = _diagnose(analytic, numerical, sampled_index=sampled_index, rtol=rtol, atol=atol)
    return found[0] if found else None


# -- results and messages --------------------------------------------------------------------
def _format_index(index: tuple[int, ...] | None) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]" if index is not None else "?"


def _json_safe(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _failed(name: str, mode: str, diagnosis: str, hint: str | None, *,
            worst_index: tuple[int, ...] | None = None, analytic: float | None = None,
            numerical: float | None = None, n_evaluations: int = 0,
            notes: list[str] | None = None, h: float = H, rtol: float = RTOL,
            atol: float = ATOL) -> GradCheckResult:
    """A failed result that compared no values (wrong shape, NaN, a bad loss)."""
    message = f"dL/d{name}: {diagnosis}" + (f"\n{hint}" if hint else "")
    return GradCheckResult(
        name=name, passed=False, mode=mode, n_checked=0, worst_index=worst_index,
        analytic=analytic, numerical=numerical, abs_error=math.inf, rel_error=math.inf,
        n_failed=1, diagnosis=diagnosis, hint=hint, message=message, h=h, rtol=rtol, atol=atol,
        n_evaluations=n_evaluations, notes=list(notes or []))


def _scope(mode: str, n_coords: int, n_dirs: int) -> str:
    if mode == "full":
        return f"all {n_coords} coordinates"
    return f"{n_coords} sampled coordinates and {n_dirs} random directions"


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value + 0.0:.3g}"  # + 0.0: no "-0"


def _summary_message(r: GradCheckResult, n_coords: int, n_dirs: int,
                     dir_only: bool) -> str:
    where = f"at {_format_index(r.worst_index)}" if r.worst_index is not None else \
        "along a random direction"
    scope = _scope(r.mode, n_coords, n_dirs)
    if r.passed:
        return (f"dL/d{r.name}: ok: {scope} agree (max relative error {r.rel_error:.2g} "
                f"{where}, absolute error {r.abs_error:.2g})")
    head = (f"dL/d{r.name}: max relative error {r.rel_error:.2g} {where} "
            f"(yours {_num(r.analytic)}, numerical {_num(r.numerical)})")
    if r.diagnosis:
        head += f"; {r.diagnosis}"
    tail = (f"{r.n_failed} of {r.n_checked} checks failed (checked {scope}; a check passes "
            f"when relative error < {r.rtol:g} or absolute error < {r.atol:.2g}).")
    if dir_only:
        tail += (" The sampled coordinates agree but random directions do not: the error sits "
                 "in coordinates the sample missed; rerun with a larger max_full to find them.")
    if r.hint:
        tail += " " + r.hint
    return head + "\n" + tail


def _pick_worst(rel: np.ndarray, abs_err: np.ndarray, ok: np.ndarray) -> int:
    """Index of the failing check with the largest relative error (then absolute error);
    the largest relative error overall when all pass."""
    pool = np.flatnonzero(~ok) if (~ok).any() else np.arange(rel.size)
    order = np.lexsort((abs_err[pool], rel[pool]))
    return int(pool[order[-1]])


# -- the checks: gather evidence (runs f), judge it (pure) -----------------------------------
def _plan(a: np.ndarray, mode: str, n_samples: int, n_directions: int,
          seed: int) -> tuple[np.ndarray, Iterator[np.ndarray]]:
    """Flat indices to difference and a lazy stream of random unit directions.

    Deterministic in (``a``, mode, counts, seed), so the grader can rebuild what the child
    process used without trusting it."""
    rng = np.random.default_rng(seed)
    if mode == "full":
        return np.arange(a.size), iter(())
    flat = _sample_coordinates(a, n_samples, rng)

    def directions() -> Iterator[np.ndarray]:
        # Random signs / sqrt(n): a unit vector in which every coordinate takes part; ~5x
        # cheaper to draw than a Gaussian one, which matters at 1e6 elements.
        scale = 1.0 / math.sqrt(a.size)
        for _ in range(n_directions):
            d = rng.integers(0, 2, a.shape, dtype=np.int8) * (2.0 * scale)
            d -= scale
            yield d

    return flat, directions()


def _usable_analytic(analytic: Any, shape: tuple[int, ...]) -> tuple[np.ndarray | None, bool]:
    """The analytic gradient to differentiate against (its transpose when it has the
    transposed shape) and whether it was transposed; ``None`` when checking is pointless."""
    if analytic is None:
        return None, False
    a = _as_float64(analytic)
    transposed = a.shape != shape and a.ndim == 2 and a.shape[::-1] == shape
    if (a.shape != shape and not transposed) or not np.isfinite(a).all():
        return None, transposed
    return (a.T if transposed else a), transposed


def gather_evidence(f: Callable[[np.ndarray], Any], x: Any, analytic: Any, *, h: float = H,
                    max_full: int = 2000, n_samples: int = 30, n_directions: int = 10,
                    seed: int = 0, loss_scale: float | None = None) -> dict[str, Any]:
    """Everything a verdict needs that requires calling ``f``, as plain data.

    The autograder runs this in the child process with the student's ``f`` and judges the
    result in its own process with :func:`judge_evidence`; :func:`check_gradient` is the two
    in a row. Values are NumPy arrays (floats, also 0-d ones, so NaN survives), ints, bools
    and strings. Keys: ``shape``, ``mode``, ``h``, ``seed``, ``n_samples``, ``n_directions``,
    ``notes``, ``n_evaluations``; ``analytic`` (absent for ``None``); ``transposed_shape``;
    ``loss``, ``loss_scale``, ``indices``, ``numerical``, ``numerical_directions`` once ``f``
    ran; ``loss_error`` when ``f`` returned something unusable. ``x`` is restored as in
    :func:`check_gradient`; exceptions raised by ``f`` propagate.
    """
    xw, notes = _working_copy(x)
    mode = "full" if xw.size <= max_full else "sampled"
    ev: dict[str, Any] = {
        "shape": np.array(xw.shape, np.int64), "mode": mode, "h": float(h), "seed": int(seed),
        "n_samples": int(n_samples), "n_directions": int(n_directions),
        "notes": "\n".join(notes), "n_evaluations": 0, "transposed_shape": False}
    if analytic is not None:
        ev["analytic"] = _as_float64(analytic)
    a, ev["transposed_shape"] = _usable_analytic(analytic, xw.shape)
    if a is None:
        return ev
    loss = _Loss(f)
    try:
        _evaluate(loss, xw, a, ev, loss_scale)
    except _LossError as exc:
        ev["loss_error"] = str(exc)
    ev["n_evaluations"] = loss.calls
    return ev


def _evaluate(loss: _Loss, xw: np.ndarray, a: np.ndarray, ev: dict[str, Any],
              loss_scale: float | None) -> None:
    """Fill ``ev`` with f(x) and the central differences of its plan."""
    f0 = loss(xw)
    ev["loss"] = np.array(f0)
    ev["loss_scale"] = np.array(abs(f0) if loss_scale is None else abs(loss_scale))
    if not math.isfinite(f0):
        return
    flat, directions = _plan(a, ev["mode"], ev["n_samples"], ev["n_directions"], ev["seed"])
    h = ev["h"]
    ev["indices"] = flat
    ev["numerical"] = np.array([_coordinate_derivative(loss, xw, int(i), h) for i in flat],
                               np.float64)
    x0 = xw.copy() if ev["mode"] == "sampled" else xw
    ev["numerical_directions"] = np.array(
        [_directional_derivative(loss, xw, x0, d, h) for d in directions], np.float64)


def judge_evidence(name: str, evidence: Mapping[str, Any], *, rtol: float = RTOL,
                   atol: float = ATOL) -> GradCheckResult:
    """The verdict on :func:`gather_evidence`'s output: pass rule, worst index, diagnosis.

    Pure (never calls student code); the sample and the directions are rebuilt from the
    analytic gradient and the seed rather than trusted.
    """
    ev = evidence
    shape = tuple(int(s) for s in np.asarray(ev["shape"]).reshape(-1))
    mode, h = str(ev["mode"]), float(ev["h"])
    notes = [n for n in str(ev.get("notes") or "").split("\n") if n]
    fixed = {"notes": notes, "h": h, "rtol": rtol, "atol": atol,
             "n_evaluations": int(ev.get("n_evaluations", 0))}
    early = _static_problems(name, ev.get("analytic"), shape, mode, fixed,
                             transposed_ok=bool(ev.get("transposed_shape")))
    if early is not None:
        return early
    if "loss_error" in ev:
        return _failed(name, mode, str(ev["loss_error"]), None, **fixed)
    f0 = float(np.asarray(ev["loss"]))
    if not math.isfinite(f0):
        return _failed(name, mode, f"the loss itself is {f0} at the given point", "Check the "
                       "forward pass first (log(0)? overflow in exp?).", **fixed)
    a = _as_float64(ev["analytic"])
    a = a.T if ev.get("transposed_shape") else a
    result = _judge_values(name, a, ev, rtol=rtol, atol=atol, fixed=fixed)
    return _transposed_verdict(result, ev, shape) if ev.get("transposed_shape") else result


def _judge_values(name: str, a: np.ndarray, ev: Mapping[str, Any], *, rtol: float,
                  atol: float, fixed: dict[str, Any]) -> GradCheckResult:
    mode, h = str(ev["mode"]), float(ev["h"])
    flat, directions = _plan(a, mode, int(ev["n_samples"]), int(ev["n_directions"]),
                             int(ev["seed"]))
    num = np.asarray(ev["numerical"], np.float64).reshape(-1)
    n_dirs = np.asarray(ev["numerical_directions"], np.float64).reshape(-1)
    a_dirs = np.array([float(np.vdot(a, d)) for d in directions])
    if not np.array_equal(np.asarray(ev["indices"]).reshape(-1), flat) or \
            num.size != flat.size or n_dirs.size != a_dirs.size:
        return _failed(name, mode, "internal: the evidence does not match its sampling plan",
                       "Gather and judge with the same nlpdojo and NumPy versions.", **fixed)
    bad = ~np.isfinite(np.concatenate([num, n_dirs]))
    if bad.any():
        first = int(np.argmax(bad))
        index = (tuple(int(i) for i in np.unravel_index(int(flat[first]), a.shape))
                 if first < flat.size else None)
        where = f"{name}{_format_index(index)}" if index else f"{name} along a random direction"
        return _failed(name, mode, f"the loss became NaN or inf when {where} was moved by ±h",
                       "The forward pass is numerically unstable near this point (log of a "
                       "probability near 0? exp overflowing?).", worst_index=index, **fixed)
    atol = _roundoff_atol(atol, float(np.asarray(ev["loss_scale"])), h)
    return _summarize(name, mode, a, flat, num, a_dirs, n_dirs, rtol=rtol, atol=atol, h=h,
                      n_evaluations=fixed["n_evaluations"], notes=fixed["notes"])


def _static_problems(name: str, analytic: Any, shape: tuple[int, ...], mode: str,
                     fixed: dict[str, Any], *, transposed_ok: bool = False
                     ) -> GradCheckResult | None:
    """A failed result for a gradient that cannot be compared: None, wrong shape, NaN/inf."""
    if analytic is None:
        return _failed(name, mode, "no gradient was given (None)",
                       "Did backward run, and does it return or store the gradient?", **fixed)
    a = _as_float64(analytic)
    if a.shape != shape and not transposed_ok:
        return _failed(name, mode, *_shape_mismatch(a.shape, shape, name), **fixed)
    found = _nonfinite(a)
    if found:
        first = tuple(int(i) for i in np.unravel_index(
            int(np.argmax(~np.isfinite(a).reshape(-1))), a.shape))
        return _failed(name, mode, found[0], found[1], worst_index=first,
                       analytic=float(a[first]), **fixed)
    return None


def _transposed_verdict(inner: GradCheckResult, ev: Mapping[str, Any],
                        shape: tuple[int, ...]) -> GradCheckResult:
    """A gradient of the transposed shape always fails; say whether its transpose is right."""
    a_shape = tuple(np.asarray(ev["analytic"]).shape)
    diag, hint = _shape_mismatch(a_shape, shape, inner.name)
    if inner.passed:
        diag = f"your gradient equals the true one transposed (shape {a_shape} instead of {shape})"
    fields = {k: getattr(inner, k) for k in ("h", "rtol", "atol", "n_evaluations", "notes")}
    return _failed(inner.name, inner.mode, diag, hint, **fields)


def check_gradient(f: Callable[[np.ndarray], Any], x: Any, analytic: Any, *, name: str = "x",
                   h: float = H, rtol: float = RTOL, atol: float = ATOL, max_full: int = 2000,
                   n_samples: int = 30, n_directions: int = 10, seed: int = 0,
                   loss_scale: float | None = None) -> GradCheckResult:
    """Check ``analytic`` against central differences of the scalar ``f`` at ``x``.

    ``judge_evidence(name, gather_evidence(f, x, analytic, ...))``: the autograder runs the
    same two halves in two processes.

    :param f: ``f(x) -> float`` (or ``(float, grad)``), deterministic.
    :param x: where to check; converted to float64, restored after every perturbation.
    :param analytic: your dL/dx, the shape of ``x``.
    :param name: how the message names ``x`` ("dL/d{name}").
    :param h: the step of the central differences.
    :param rtol, atol: a check passes when its relative error < rtol or absolute error < atol.
    :param max_full: check every coordinate up to this size, sample above it.
    :param n_samples, n_directions, seed: the sampled mode (see the module docstring).
    :param loss_scale: magnitude of the terms summed into the loss, for the round-off floor of
        ``atol``; defaults to ``|f(x)|``.
    """
    evidence = gather_evidence(f, x, analytic, h=h, max_full=max_full, n_samples=n_samples,
                               n_directions=n_directions, seed=seed, loss_scale=loss_scale)
    return judge_evidence(name, evidence, rtol=rtol, atol=atol)


def _summarize(name: str, mode: str, a: np.ndarray, flat: np.ndarray, num: np.ndarray,
               a_dirs: np.ndarray, n_dirs: np.ndarray, *, rtol: float, atol: float, h: float,
               n_evaluations: int, notes: list[str]) -> GradCheckResult:
    k = flat.size
    a_all = np.concatenate([a.reshape(-1)[flat], a_dirs])  # (k + n_directions,)
    n_all = np.concatenate([num, n_dirs])
    ok = _passes(a_all, n_all, rtol, atol)
    rel, abs_err = relative_error(a_all, n_all), np.abs(a_all - n_all)
    passed = bool(ok.all())
    if ok.size == 0:  # an empty x: nothing to check
        return GradCheckResult(name, True, mode, 0, None, None, None, 0.0, 0.0, 0, None,
                               f"dL/d{name}: ok (empty)", h=h, rtol=rtol, atol=atol,
                               n_evaluations=n_evaluations, notes=list(notes))
    if k == 0 or (not passed and ok[:k].all()):  # only random directions fail (or exist)
        worst = k + _pick_worst(rel[k:], abs_err[k:], ok[k:])
    else:
        worst = _pick_worst(rel[:k], abs_err[:k], ok[:k])
    index = (tuple(int(i) for i in np.unravel_index(int(flat[worst]), a.shape))
             if worst < k else None)
    if passed:
        found = None
    elif mode == "full":
        found = _diagnose(a, num.reshape(a.shape), rtol=rtol, atol=atol)
    else:
        found = _diagnose(a, num, sampled_index=flat, rtol=rtol, atol=atol)
    result = GradCheckResult(
        name=name, passed=passed, mode=mode, n_checked=int(ok.size),
        worst_index=index, analytic=float(a_all[worst]), numerical=float(n_all[worst]),
        abs_error=float(abs_err[worst]), rel_error=float(rel[worst]),
        n_failed=int((~ok).sum()), diagnosis=found[0] if found else None,
        hint=found[1] if found else None, message="", h=h, rtol=rtol, atol=atol,
        n_evaluations=n_evaluations, notes=list(notes))
    dir_only = not passed and bool(ok[:k].all())
    result.message = _summary_message(result, flat.size, a_dirs.size, dir_only)
    return result


def compare_gradients(analytic: Any, reference: Any, *, name: str = "x", rtol: float = RTOL,
                      atol: float = ATOL, oracle: str = "autograd") -> GradCheckResult:
    """Judge ``analytic`` against a full reference gradient (e.g. :func:`autograd_gradient`)
    with the same rule, worst index and diagnosis as :func:`check_gradient` (mode "full")."""
    ref = _as_float64(reference)
    fixed = {"notes": [f"reference: {oracle}"], "h": 0.0, "rtol": rtol, "atol": atol}
    early = _static_problems(name, analytic, ref.shape, "full", fixed)
    if early is not None:
        a = _as_float64(analytic) if analytic is not None else None
        found = _transposed_values(a, ref, rtol, atol) if a is not None else None
        if found:
            early = _failed(name, "full", found[0], found[1], **fixed)
        return early
    return _summarize(name, "full", _as_float64(analytic), np.arange(ref.size),
                      ref.reshape(-1), np.empty(0), np.empty(0), rtol=rtol, atol=atol, h=0.0,
                      n_evaluations=0, notes=fixed["notes"])


def check_gradients(f: Callable[[dict[str, np.ndarray]], Any], params: Mapping[str, Any],
                    analytic: Mapping[str, Any], **kw: Any) -> list[GradCheckResult]:
    """Check several gradients of one loss ``f(params) -> float``, one entry at a time.

    Every floating entry of ``params`` is checked against ``analytic[name]`` (a missing one
    fails); integer entries (token ids, labels) are passed through unchecked. ``f`` receives a
    dict with every floating entry in float64 and the perturbed entry in place; the caller's
    arrays are restored (or, when not float64, never touched).
    """
    work: dict[str, Any] = {}
    floating: list[str] = []
    for key, value in params.items():
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        if np.issubdtype(arr.dtype, np.floating):
            work[key], _ = _working_copy(value)
            floating.append(key)
        else:
            work[key] = value
    results = []
    for key in floating:
        if key not in analytic:
            results.append(_failed(key, "full", f"no gradient was given for {key!r}",
                                   "Return a gradient for every parameter."))
            continue

        def f_key(x: np.ndarray, key: str = key) -> Any:
            work[key] = x
            return f(work)

        results.append(check_gradient(f_key, work[key], analytic[key], name=key, **kw))
    return results


# -- modules ---------------------------------------------------------------------------------
def _to_host(backend: Any, value: Any) -> np.ndarray:
    return np.array(backend.to_numpy(value), dtype=np.float64)  # a float64 copy


def _is_floating(value: Any) -> bool:
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return isinstance(value, float)
    return "float" in str(dtype)


def _projected(out: Any, r: np.ndarray, backend: Any) -> float:
    """``sum(out * R)``: a scalar whose dL/d(out) is exactly ``R``."""
    if isinstance(out, (float, int)):
        return float(out) * float(r)
    host = np.asarray(backend.to_numpy(out))
    if host.dtype != np.float64:
        raise _LossError(
            f"the module computed its output in {host.dtype} although parameters and inputs were "
            "float64 (does it create arrays with backend.default_dtype?); gradient checks need "
            "float64 throughout: load the backend with dtype='float64'."
        )
    return float(np.sum(host * r))


def _input_grads(returned: Any, float_inputs: list[int], n_inputs: int) -> dict[int, Any]:
    """Map what ``backward`` returned onto input positions."""
    if returned is None:
        return {}
    if isinstance(returned, (tuple, list)):
        if len(returned) == n_inputs:
            return {i: returned[i] for i in float_inputs}
        return dict(zip(float_inputs, returned, strict=False))
    return {float_inputs[0]: returned} if float_inputs else {}


def check_module(module: Any, inputs: Any, *, seed: int = 0, check_inputs: bool = True,
                 **kw: Any) -> list[GradCheckResult]:
    """Check a :class:`~nlpdojo.module.Module`'s backward against its forward.

    The loss is ``L = sum(forward(*inputs) * R)`` for a fixed random ``R`` (seeded), so
    ``dL/d(output) = R`` and ``module.backward(R)`` must produce every parameter's ``grad`` and
    the gradients of the floating inputs (returned: one array, or one per input). Parameters and
    inputs are moved to float64 for the check; the module's parameters and grads are restored
    afterwards. ``kw`` goes to :func:`check_gradient`.
    """
    backend = module.backend
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    named = list(module.named_parameters())
    saved = [(p, p.data, p.grad) for _, p in named]
    try:
        for _, p in named:
            p.data = backend.asarray(_to_host(backend, p.data), dtype=backend.float64)
            p.grad = p.data * 0
        return _check_module_float64(module, backend, inputs, named, seed, check_inputs, kw)
    finally:
        for p, data, grad in saved:
            p.data, p.grad = data, grad


def _check_module_float64(module: Any, backend: Any, inputs: tuple[Any, ...],
                          named: list[tuple[str, Any]], seed: int, check_inputs: bool,
                          kw: dict[str, Any]) -> list[GradCheckResult]:
    float_inputs = [i for i, v in enumerate(inputs) if _is_floating(v)]
    dev = [backend.asarray(_to_host(backend, v), dtype=backend.float64) if i in float_inputs
           else v for i, v in enumerate(inputs)]
    out = module.forward(*dev)
    r_shape = () if isinstance(out, (float, int)) else tuple(backend.to_numpy(out).shape)
    r = np.random.default_rng(seed).standard_normal(r_shape)
    try:
        _projected(out, r, backend)
    except _LossError as exc:
        return [_failed(name, "full", str(exc), None) for name, _ in named]
    scale = float(np.sum(np.abs(np.asarray(backend.to_numpy(out), np.float64) * r)))
    upstream = float(r) if r_shape == () else backend.asarray(r, dtype=backend.float64)
    returned = module.backward(upstream)
    kw = {"seed": seed, "loss_scale": scale, **kw}
    results = [_check_parameter(module, backend, dev, name, p, r, kw) for name, p in named]
    if check_inputs:
        grads = _input_grads(returned, float_inputs, len(inputs))
        results += [_check_input(module, backend, dev, i, grads.get(i), r, kw)
                    for i in float_inputs]
    return results


def _check_parameter(module: Any, backend: Any, dev: list[Any], name: str, p: Any,
                     r: np.ndarray, kw: dict[str, Any]) -> GradCheckResult:
    analytic = _to_host(backend, p.grad)
    x = _to_host(backend, p.data)

    def f(w: np.ndarray) -> float:
        p.data = backend.asarray(w, dtype=backend.float64)
        return _projected(module.forward(*dev), r, backend)

    try:
        return check_gradient(f, x, analytic, name=name, **kw)
    finally:
        p.data = backend.asarray(x, dtype=backend.float64)


def _check_input(module: Any, backend: Any, dev: list[Any], i: int, grad: Any, r: np.ndarray,
                 kw: dict[str, Any]) -> GradCheckResult:
    name = f"input[{i}]"
    if grad is None:
        return _failed(name, "full", "backward returned no gradient for this floating input",
                       "backward must return dL/d(input) (one array, or one per input).")
    x = _to_host(backend, dev[i])
    args = list(dev)

    def f(v: np.ndarray) -> float:
        args[i] = backend.asarray(v, dtype=backend.float64)
        return _projected(module.forward(*args), r, backend)

    return check_gradient(f, x, _to_host(backend, grad), name=name, **kw)


# -- the second oracle -----------------------------------------------------------------------
def autograd_gradient(f_torch: Callable[[Any], Any], x: Any) -> np.ndarray:
    """The gradient of a scalar torch function at ``x`` by autograd, in float64.

    The second oracle of DESIGN.md: ``f_torch`` receives a float64 CPU tensor that requires
    grad and returns a scalar tensor. Raises :class:`~nlpdojo.errors.BackendUnavailableError`
    when PyTorch is not installed, ``ValueError`` when ``f_torch`` returns a non-scalar.
    """
    try:
        import torch
    except ImportError:
        raise BackendUnavailableError(_TORCH_HINT) from None
    t = torch.tensor(_as_float64(x), dtype=torch.float64, requires_grad=True)
    y = f_torch(t)
    if not isinstance(y, torch.Tensor) or y.numel() != 1:
        raise ValueError(f"f_torch must return a scalar tensor, got {type(y).__name__} "
                         f"of shape {tuple(getattr(y, 'shape', ()))}")
    if y.requires_grad:
        y.reshape(()).backward()
    grad = t.grad
    return np.zeros(t.shape) if grad is None else grad.detach().numpy().astype(np.float64)
