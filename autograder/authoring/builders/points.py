"""How a question's points are shared among the checks a builder makes: shares rounded to
round grains (:func:`split_points`), and a hint added to a check's failures (:func:`with_hint`)."""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Sequence

from nlpdojo_autograder.authoring.checks import Check, Payload, Verdict
from nlpdojo_autograder.authoring.deferred import ForQuestion


def with_hint(check: Check | ForQuestion, hint: str) -> Check | ForQuestion:
    """``check`` with ``hint`` added, in parentheses, to the message of a failed verdict: what
    a question's author knows of the usual cause of that failure. A builder's call inside a
    ``Question`` (waiting for its question) gets it on every check it makes."""
    if isinstance(check, ForQuestion):
        return dataclasses.replace(check, then=(*check.then, lambda c: with_hint(c, hint)))
    judge = check.judge

    def hinted(actual: Payload, expected: Payload | None) -> Verdict:
        verdict = judge(actual, expected)
        if not verdict.passed:
            verdict.message = f"{verdict.message} ({hint})"
        return verdict

    return dataclasses.replace(check, judge=hinted)


def _share(checks: list[Check], points: float, shares: dict[str, float], *,
           named: dict[str, dict[str, object] | None] | None = None) -> list[Check]:
    """``checks`` with a question's ``points`` split between them by their ``shares`` (the
    shares of the checks present, whatever they sum to), in round numbers
    (:func:`split_points`). ``named``: the builder's options keyed by check name (``{"shares":
    shares, "hints": hints}``), each key of which must name one of ``checks`` (a typo,
    ``shares={"gradient": 0.6}``, was ignored without a word)."""
    names = [c.name for c in checks]
    for option, given in (named or {}).items():
        for key in given or {}:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                raise ValueError(f"{option}={{{key!r}: ...}} names no check this builder makes "
                                 f"({', '.join(names)})"
                                 + (f"; did you mean {close[0]!r}?" if close else ""))
    split = split_points(points, [shares[c.name] for c in checks])
    return [dataclasses.replace(c, points=p) for c, p in zip(checks, split, strict=True)]


#: the steps a question's points are split into, coarsest first: the numbers an instructor
#: would write (0.35, 0.2, 0.1; 0.375 where a share falls between two steps of 0.05), never
#: 0.282353
GRAINS = (0.5, 0.25, 0.1, 0.05, 0.025)


#: exact shares that are multiples of this are kept as they are (0.8, 0.45, 0.3)
ROUND_ENOUGH = 0.05


#: the fewest steps per check a grain must give a question, so the split follows the shares
STEPS_PER_CHECK = 2


def _multiple(x: float, step: float) -> bool:
    return abs(x / step - round(x / step)) < 1e-9


def _largest_remainder(exact: list[float], steps: int) -> list[int]:
    """``steps`` whole steps apportioned to the ``exact`` quotas (in steps): each its floor,
    the steps left to the largest remainders (Hamilton's method)."""
    parts = [math.floor(q + 1e-9) for q in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:steps - sum(parts)]:
        parts[i] += 1
    return parts


def split_points(points: float, shares: Sequence[float]) -> list[float]:
    """``points`` split in proportion to ``shares``, in round numbers that sum to exactly
    ``points``: the exact shares where they are multiples of :data:`ROUND_ENOUGH`, else
    multiples of the coarsest grain of :data:`GRAINS` that divides ``points`` into at least
    :data:`STEPS_PER_CHECK` steps per share and apportions them (largest remainders) with every
    part at least one step and equal shares getting equal points. Where no grain does that, the
    finest grain that divides ``points`` without the last condition; where none divides it, the
    exact shares to 6 digits, the rest on the last part."""
    total, n = float(sum(shares)), len(shares)
    if n == 0:
        return []
    exact = [points * s / total for s in shares]
    if all(_multiple(e, ROUND_ENOUGH) for e in exact):
        kept = [round(e, 6) for e in exact[:-1]]
        return [*kept, round(points - sum(kept), 6)]
    fitting = [g for g in GRAINS if _multiple(points, g) and round(points / g) >= n]
    for grain in fitting:
        steps = round(points / grain)
        if steps < STEPS_PER_CHECK * n:
            continue
        parts = _largest_remainder([e / grain for e in exact], steps)
        same = all(parts[i] == parts[j] for i in range(n) for j in range(i)
                   if abs(shares[i] - shares[j]) < 1e-12)
        if min(parts) >= 1 and same:
            return [round(k * grain, 6) for k in parts]
    if fitting:
        grain = fitting[-1]
        parts = _largest_remainder([e / grain for e in exact], round(points / grain))
        return [round(k * grain, 6) for k in parts]
    kept = [round(e, 6) for e in exact[:-1]]
    return [*kept, round(points - sum(kept), 6)]
