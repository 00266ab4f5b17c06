"""The checks: gather evidence (calls ``f``), judge it (pure), and the checks built on the two.

:func:`gather_evidence` runs ``f`` at ``x`` and along the sampling plan and returns plain data;
:func:`judge_evidence` turns that data into a :class:`~nlpdojo.gradcheck.result.GradCheckResult`
without calling anything, rebuilding the plan from the analytic gradient and the seed. The
autograder runs the two halves in two processes; :func:`check_gradient` is the two in a row,
:func:`check_gradients` checks every floating entry of a parameter dict, and
:func:`compare_gradients` judges against a full reference gradient (e.g. autograd).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from nlpdojo.arrays import to_numpy
from nlpdojo.gradcheck.diagnosis import (
    _diagnose,
    _nonfinite,
    _shape_mismatch,
    _transposed_values,
)
from nlpdojo.gradcheck.numerical import (
    ATOL,
    RTOL,
    H,
    _as_float64,
    _coordinate_derivative,
    _coordinate_points,
    _directional_derivative,
    _Loss,
    _LossError,
    _passes,
    _plan,
    _roundoff_atol,
    _working_copy,
    relative_error,
)
from nlpdojo.gradcheck.result import (
    GradCheckResult,
    _failed,
    _format_index,
    _pick_worst,
    _summary_message,
)


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
    if loss.batched:
        ev["numerical"], ev["numerical_directions"] = _evaluate_batched(loss, xw, flat,
                                                                        directions, h)
        return
    ev["numerical"] = np.array([_coordinate_derivative(loss, xw, int(i), h) for i in flat],
                               np.float64)
    x0 = xw.copy() if ev["mode"] == "sampled" else xw
    ev["numerical_directions"] = np.array(
        [_directional_derivative(loss, xw, x0, d, h) for d in directions], np.float64)


#: the step of a disagreeing gathering is divided by this, once (:func:`confirmed_at_a_finer_step`)
FINER_STEP = 10


def confirmed_at_a_finer_step(f: Callable[[np.ndarray], Any], x: Any, analytic: Any,
                              evidence: dict[str, Any], name: str, **plan: Any
                              ) -> dict[str, Any]:
    """``evidence`` (of :func:`gather_evidence` with ``plan``), gathered again at a tenth of
    its step where its verdict fails: a central difference of ±h along a direction of every
    entry at once can cross a kink (a ReLU at 0, a max or k-max whose winner changes) of a
    deep network, and is then not the derivative (the grader's reference lost a VDCNN's
    gradient check at one input seed in 133 this way, 0.4 % off). A wrong gradient disagrees
    at any step; a kink crossed at h is rarely crossed at h / 10. The finer evidence, with a
    note saying so, is returned only where it agrees; otherwise ``evidence`` itself, whose
    message is the one to give."""
    if "loss_error" in evidence or judge_evidence(name, evidence).passed:
        return evidence
    finer = gather_evidence(f, x, analytic, seed=int(evidence["seed"]),
                            h=float(evidence["h"]) / FINER_STEP, **plan)
    if not judge_evidence(name, finer).passed:
        return evidence
    note = (f"differenced again at h = {float(finer['h']):g}: at h = {float(evidence['h']):g} "
            "a step crossed a kink (the central difference was not the derivative there)")
    return {**finer, "notes": "\n".join(filter(None, (str(finer.get("notes") or ""), note))),
            "n_evaluations": int(evidence["n_evaluations"]) + int(finer["n_evaluations"])}


#: points per batch: bounds a request's size (a point is a copy of x)
BATCH_POINTS = 64


def _evaluate_batched(loss: _Loss, xw: np.ndarray, flat: np.ndarray, directions: list,
                      h: float) -> tuple[np.ndarray, np.ndarray]:
    """The same central differences as the sequential path, with ``f`` evaluated in batches:
    coordinate ``i`` gives ``(f(x + h e_i) - f(x - h e_i)) / actual step``, direction ``d``
    gives ``(f(x + h d) - f(x - h d)) / 2h``."""
    steps: list[float] = []
    points: list[np.ndarray] = []
    for i in flat:
        plus, minus, step = _coordinate_points(xw, int(i), h)
        points += [plus, minus]
        steps.append(step)
    for d in directions:
        points += [xw + h * d, xw - h * d]
        steps.append(2.0 * h)
    values: list[float] = []
    for start in range(0, len(points), BATCH_POINTS):
        values += loss.many(points[start:start + BATCH_POINTS])
    pairs = np.array(values, np.float64).reshape(-1, 2)  # (k + n_directions, 2)
    derivatives = (pairs[:, 0] - pairs[:, 1]) / np.array(steps, np.float64)
    return derivatives[:flat.size].copy(), derivatives[flat.size:].copy()


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
                       "forward pass first: its output holds a NaN or inf (a values check says "
                       "where, and what it may come from).", **fixed)
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
                      n_evaluations=fixed["n_evaluations"], notes=fixed["notes"], own_loss=True)


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
               n_evaluations: int, notes: list[str], own_loss: bool = False) -> GradCheckResult:
    """``own_loss``: ``num`` are central differences of the student's own loss (not a reference
    gradient), which changes what a factor N means (:func:`~.diagnosis._describe_ratio`)."""
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
        found = _diagnose(a, num.reshape(a.shape), rtol=rtol, atol=atol, own_loss=own_loss)
    else:
        found = _diagnose(a, num, sampled_index=flat, rtol=rtol, atol=atol, own_loss=own_loss)
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
        arr = to_numpy(value, copy=False)
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
