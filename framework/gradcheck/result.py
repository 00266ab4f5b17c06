"""The outcome of a gradient check, :class:`GradCheckResult`, and the messages students read.

A passing check says how many coordinates (and directions) agree and by how much; a failing one
names the parameter, the worst index, both values, the diagnosis and its hint, and the pass rule
(:mod:`nlpdojo.gradcheck`). :func:`_failed` builds the result for a gradient that could not be
compared at all (wrong shape, NaN, an unusable loss).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from nlpdojo.gradcheck.numerical import ATOL, RTOL, H


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

    @property
    def oracle(self) -> str:
        """What the gradient was compared with: "numerical" (central differences), or the
        reference gradient :func:`~nlpdojo.gradcheck.compare_gradients` noted ("torch
        autograd", "the reference's gradient")."""
        return next((n[len("reference: "):] for n in self.notes if n.startswith("reference: ")),
                    "numerical")

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
    if n_coords == 0:  # a plan of directions only
        return f"{n_dirs} random directions"
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
            f"(yours {_num(r.analytic)}, {r.oracle} {_num(r.numerical)})")
    if r.diagnosis:
        head += f"; {r.diagnosis}"
    tail = (f"{r.n_failed} of {r.n_checked} checks failed (checked {scope}"
            f"{tolerance_phrase(r.rtol, r.atol)}).")
    if dir_only and n_coords:
        tail += (" The sampled coordinates agree but random directions do not: the error sits "
                 "in coordinates the sample missed; rerun with a larger max_full to find them.")
    if r.hint:
        tail += " " + r.hint
    return head + "\n" + tail


def tolerance_phrase(rtol: float, atol: float) -> str:
    """What a failed result's message says of its tolerances (said once by
    :func:`joined_messages`)."""
    return f"; a check passes when relative error < {rtol:g} or absolute error < {atol:.2g}"


def joined_messages(results: list[GradCheckResult], *, most: int | None = None) -> str:
    """The messages of several results (a check's parameters and inputs) as one text: each
    tolerance said at its first mention only, and a message said twice said once. ``most``:
    the messages given in full; the other results are only named, in one line after them (a
    report cuts a long message, and what comes after the numbers, a check's hint, matters)."""
    said: set[str] = set()
    messages = []
    first: dict[str, GradCheckResult] = {}
    for r in results:
        first.setdefault(r.message, r)
    rest = [r.name for r in list(first.values())[most:]] if most is not None else []
    for message, r in list(first.items())[:most]:
        phrase = tolerance_phrase(r.rtol, r.atol)
        if phrase in message:
            if phrase in said:
                message = message.replace(phrase, "", 1)
            said.add(phrase)
        messages.append(message)
    if rest:
        messages.append(f"… and {len(rest)} more wrong too: "
                        + ", ".join(f"dL/d{name}" for name in dict.fromkeys(rest)) + ".")
    return "\n".join(messages)


def _pick_worst(rel: np.ndarray, abs_err: np.ndarray, ok: np.ndarray) -> int:
    """Index of the failing check with the largest relative error (then absolute error);
    the largest relative error overall when all pass."""
    pool = np.flatnonzero(~ok) if (~ok).any() else np.arange(rel.size)
    order = np.lexsort((abs_err[pool], rel[pool]))
    return int(pool[order[-1]])
