"""Checks that say they need the reference's values and never read them (issue 65, item 5).

A check declared ``needs_expected=True`` (a ``custom_check`` whose judge compares with the
reference; every value, gradient and ``right=`` check) is excused from the oracle rule of
:mod:`.consistency`: the reference's outputs are its oracle. A judge that never looks at
``expected`` is then judged by nothing but itself, and a trivial answer may satisfy it, while
the declaration reads as if the reference decided.

So when a release computes a topic's fixtures (and in ``dojo verify``), the reference's own
outcome of each such check is judged twice more, against the outcome made wrong each way
(:func:`poisoned`: every number made larger, its order kept, then reflected, its order
reversed; booleans flipped, texts and string arrays changed), with any independent oracle the
run computed in the grader with ``ctx.oracle`` (torch's outputs beside the reference's,
:func:`oracle_keys`) made wrong alike: a judge that compares values, ranks or texts with the
reference or that oracle fails at least one of them. One that passes both never read what it
said it needs, and is refused, naming the check and the fix. Metric checks are left to their
own rule (a chance floor): a relative threshold may rightly not move (``min(ref - 0.05,
0.7)``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.checks import Check
from nlpdojo_autograder.authoring.compare import MISTAKE_KEY
from nlpdojo_autograder.authoring.context import ORACLE_DIGEST
from nlpdojo_autograder.grading.grade import GradeOptions, judge
from nlpdojo_autograder.grading.runner import Outcome

#: what a text is made into (a token, a tag, a file's line: none of the reference's)
_NOT_THE_REFERENCES = " (not the reference's)"


def _moved(value: Any, sign: int) -> Any:
    """``value`` made wrong. Upwards (``sign`` 1) a number grows by half its size and a half
    (an integer by its size and one), its order kept; downwards (-1) it is reflected, ``-2 v -
    0.5`` (``-2 v - 1``), its order reversed, so that a judge of ranks (the most frequent
    n-gram, the top k) sees it too. A boolean is flipped, a text (a string array's every
    element too) changed; containers item by item; anything else as it is."""
    if isinstance(value, (bool, np.bool_)):
        return not value
    if isinstance(value, (int, np.integer)):
        return value + 1 + abs(value) if sign > 0 else -2 * value - 1
    if isinstance(value, (float, np.floating, complex, np.complexfloating)):
        return value + (0.5 + abs(value)) if sign > 0 else -2 * value - 0.5
    if isinstance(value, str):
        return value + _NOT_THE_REFERENCES
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            return ~value
        if np.issubdtype(value.dtype, np.integer):
            return value + 1 + np.abs(value) if sign > 0 else -2 * value - 1
        if np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype,
                                                                    np.complexfloating):
            return value + (0.5 + np.abs(value)) if sign > 0 else -2 * value - 0.5
        if value.dtype.kind in "US":  # tokens, tags
            return np.char.add(value.astype(str), _NOT_THE_REFERENCES)
        if value.dtype == object:
            return np.array([_moved(v, sign) for v in value.ravel()],
                            dtype=object).reshape(value.shape)
        return value
    if isinstance(value, dict):
        return {k: _moved(v, sign) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_moved(v, sign) for v in value)
    return value


def poisoned(outcome: Outcome, sign: int, *, keep: Callable[[str], bool] = lambda key: False
             ) -> Outcome:
    """``outcome`` with every figure moved ``sign``-wards (:func:`_moved`), but those of
    the keys ``keep`` keeps and the grader's own outputs of named mistakes (computed from the
    inputs, not judged); digests as they are."""
    def kept(key: str) -> bool:
        return key.startswith(MISTAKE_KEY) or key.endswith(ORACLE_DIGEST) or keep(key)

    return Outcome(status=outcome.status, message=outcome.message,
                   arrays={k: v if kept(k) else _moved(v, sign)
                           for k, v in outcome.arrays.items()},
                   scalars={k: v if kept(k) else _moved(v, sign)
                            for k, v in outcome.scalars.items()})


def oracle_keys(outcome: Outcome) -> Callable[[str], bool]:
    """The keys of an independent oracle the check's run computed in the grader
    (:meth:`~nlpdojo_autograder.authoring.context.Context.oracles`: ``prefix`` + name, beside
    ``prefix`` + :data:`ORACLE_DIGEST`): a torch layer's or ``torch.optim``'s outputs, which
    the judge compares with in place of the reference's where torch runs."""
    prefixes = tuple(k[:-len(ORACLE_DIGEST)] for k in outcome.payload
                     if k.endswith(ORACLE_DIGEST))

    def of_oracle(key: str) -> bool:
        return bool(prefixes) and key.startswith(prefixes)
    return of_oracle


def blind_judges(checks: Iterable[Check], outcomes: dict[str, Outcome]) -> list[str]:
    """The checks of ``checks`` that need the reference's values (``needs_expected``) and
    carry points, whose judge passes the reference's own outcome against a wrong one in both
    directions: one problem each, naming the fix. A check the reference did not complete is
    left to the caller (it is reported as failing its own check)."""
    problems = []
    for check in checks:
        outcome = outcomes.get(check.id)
        if (not check.needs_expected or check.points <= 0 or outcome is None
                or outcome.status != "ok" or check.kind == "metric"):
            continue  # (a metric's relative threshold may rightly not move: its own rule)
        # the check's own outputs kept, the reference's and any oracle's made wrong
        of_oracle = oracle_keys(outcome)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # wrong figures (a variance below 0) warn
            verdicts = [judge(check, poisoned(outcome, sign, keep=lambda k, o=of_oracle: not o(k)),
                              poisoned(outcome, sign), GradeOptions())
                        for sign in (1, -1)]
        if all(v.score >= v.max_score for v in verdicts):
            problems.append(
                f"{check.id}: needs the reference's values (needs_expected) but its judge "
                "passes the reference's outputs against wrong ones (every figure of the "
                "reference and of any oracle computed with ctx.oracle made larger, then "
                "reflected, its order reversed; texts changed): it never compares with "
                "`expected`, so its points rest on its own judgement alone. Compare with the "
                "reference (`nlpdojo_autograder.authoring.compare.compare_payloads(actual, "
                "expected, rtol=..., atol=...)`, or give custom_check right=(rtol, atol)), or "
                "declare it needs_expected=False with the oracle= it computes itself")
    return problems
