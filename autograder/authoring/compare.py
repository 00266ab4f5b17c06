"""Comparing a student's outputs with the reference's, and saying what is wrong.

Used by the parent process only. Every message names the output, the worst index, both values
and, where one fits, the pattern that relates them (transposed, a constant factor, the sign,
all zeros, some rows): the same diagnosis gradient checks give (:func:`nlpdojo.gradcheck.diagnose`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from nlpdojo.gradcheck import diagnose
from nlpdojo_autograder.authoring.checks import CheckFailure, Verdict
from nlpdojo_autograder.authoring.context import list_of_arrays


def _fmt_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def _fmt(x: float) -> str:
    return f"{x + 0.0:.6g}"  # + 0.0: a negative zero shows as 0, not -0


def _fmt_pair(a: float, e: float) -> tuple[str, str]:
    """Both numbers with 6 significant digits, or as many more as it takes to tell them apart
    (float32 results differ from the float64 reference in the 7th or 8th digit)."""
    a, e = a + 0.0, e + 0.0  # a negative zero shows as 0, not -0
    for digits in range(6, 18):
        sa, se = f"{a:.{digits}g}", f"{e:.{digits}g}"
        if sa != se:
            return sa, se
    return f"{a:.17g}", f"{e:.17g}"


def _plain(x: Any) -> Any:
    """A NumPy scalar as the Python number it holds: ``3``, not ``np.int64(3)``."""
    return x.item() if isinstance(x, np.generic) else x


def _near_int(x: float, tol: float = 1e-5) -> int | None:
    k = round(x)
    return k if k >= 2 and abs(x - k) <= tol * k else None


#: outputs where a factor N is likely a sum over N items taken for a mean (or the reverse)
_SUMMED = re.compile(r"loss|grad|cost|objective|likelihood|entropy|sum|mean|total", re.I)


def _scalar_ratio(a: float, e: float, name: str = "loss") -> str | None:
    """What relates a wrong scalar to the expected one, when it is an exact factor: the sign,
    2, ½, or an integer N (for a loss or gradient, a sum where a mean is expected, or the
    other way round)."""
    if a == 0.0 or e == 0.0 or not (np.isfinite(a) and np.isfinite(e)):
        return None
    c = a / e
    sign = "minus " if c < 0 else ""
    mag = abs(c)
    if abs(mag - 1) <= 1e-5:
        return "yours has the wrong sign" if c < 0 else None
    up, down = _near_int(mag), _near_int(1 / mag)
    if up == 2:
        return f"yours is {sign}twice the expected one"
    if down == 2:
        return f"yours is {sign}half the expected one"
    summed = _SUMMED.search(name) is not None
    if up:
        return (f"yours is {sign}{up} times the expected one" + (
            f": a sum over {up} items (a batch?) where the mean is expected?" if summed else ""))
    if down:
        return (f"yours is {sign}1/{down} of the expected one" + (
            f": a mean over {down} items (a batch?) where the sum is expected?"
            if summed else ""))
    return None


#: what a NaN or an inf may come from, by what it is, when the check knows no more: causes
#: listed, none asserted (a NaN in Adam's first step is no overflow in exp)
NONFINITE_CAUSES = {
    "nan": "NaN comes from 0/0, inf − inf or 0·inf (a division by a zero denominator, say), "
           "the log or square root of a negative number, or a NaN carried over from an "
           "earlier step or input",
    "-inf": "−inf is usually log(0): a probability or count that is 0 where it must be "
            "positive; or a division by zero",
    "inf": "inf comes from a division by zero (a denominator that is 0) or an overflow (exp "
           "of a large number, a value growing step after step)",
}
#: the end of a message on differences below the 5th significant digit in numbers that are all
#: float32 values: float32 arithmetic, said as such
FLOAT32_HINT = ("; yours differs only after the 5th significant digit: float32 arithmetic "
                "somewhere? (float32 keeps about 7 digits; compute in the input's dtype)")
#: the same differences in numbers that are not float32 values: a small term, or float32 in
#: an intermediate step; either may be it, so both are said (a check that knows the mistake
#: names it instead: value_check's ``mistakes``)
SMALL_DIFFERENCE_HINT = ("; yours differs only after the 5th significant digit: a small "
                         "term of the formula in another place (an ε inside instead of outside "
                         "a square root, a constant added elsewhere), or float32 arithmetic in "
                         "an intermediate step?")


#: what every message on a NaN or inf where a finite value is expected holds
NONFINITE_MARK = " where the expected values are finite "


#: what a NaN or inf means in a check: a text, or a function of the non-finite values found
#: (a text, or None for the general causes)
Nonfinite = str | Callable[[np.ndarray], str | None] | None


def nonfinite_causes(values: Any) -> str:
    """What the NaNs and infs among ``values`` may come from (:data:`NONFINITE_CAUSES`), by
    which of them occur."""
    a = np.asarray(values, dtype=np.float64)
    kinds = [kind for kind, present in (("nan", np.isnan(a).any()),
                                        ("-inf", np.isneginf(a).any()),
                                        ("inf", np.isposinf(a).any())) if present]
    return "; ".join(NONFINITE_CAUSES[k] for k in kinds)


def _which_nonfinite(values: np.ndarray) -> str:
    kinds = [word for word, present in (("NaN", np.isnan(values).any()),
                                        ("−inf", np.isneginf(values).any()),
                                        ("inf", np.isposinf(values).any())) if present]
    return " and ".join(kinds)


def compare_array(name: str, actual: Any, expected: Any, *, rtol: float = 1e-6,
                  atol: float = 1e-8, nonfinite: Nonfinite = None) -> str | None:
    """``None`` when ``actual`` matches ``expected`` elementwise within
    ``|a - e| <= atol + rtol * |e|``; otherwise the message to show.

    ``nonfinite``: what a NaN or inf where the expected value is finite means in this check
    (the check knows: "Adam's bias correction divides by 1 − βᵗ..."); None: the causes of
    what was found are listed (:func:`nonfinite_causes`), none asserted; "": no hint (said
    once already); a function of the non-finite values found may say it by what they are."""
    pieces = list_of_arrays(actual, name)
    if pieces and not isinstance(expected, (list, tuple)):
        return pieces
    a, e = np.asarray(actual), np.asarray(expected)
    if a.shape != e.shape:
        hint = ""
        if a.ndim == 2 and a.shape[::-1] == e.shape:
            hint = " (the transposed shape)"
        elif a.ndim == e.ndim + 1 and a.shape == (1, *e.shape):
            hint = (" (an extra leading axis of size 1: drop it; a [None, :], reshape or "
                    "keepdims=True too many?)")
        elif a.size == e.size:
            hint = " (same number of entries: reshape?)"
        elif a.ndim == e.ndim + 1 and a.shape[1:] == e.shape:
            hint = f" (an extra leading axis of {a.shape[0]}: sum or average over the batch?)"
        return f"{name} has shape {a.shape}, expected {e.shape}{hint}"
    where = (lambda word, index: f"{word} at {_fmt_index(index)}: ") if a.ndim else (
        lambda word, index: "")
    if np.issubdtype(e.dtype, np.floating):
        if not np.issubdtype(a.dtype, np.floating):
            return (f"{name} has dtype {a.dtype}, expected floating point numbers (an integer "
                    "array? a cast, or integer division, loses the fractions)")
        dtype = a.dtype
        a = a.astype(np.float64)
        bad = ~np.isfinite(a)
        if bad.any() and not (~np.isfinite(e)[bad]).all():
            unexpected = bad & np.isfinite(e)  # where a finite value is expected
            first = tuple(int(i) for i in np.argwhere(unexpected)[0]) if a.ndim else ()
            found = a[unexpected]
            count = (f"({int(unexpected.sum())} of {a.size} entries, first at "
                     f"{_fmt_index(first)})"
                     if a.ndim else "(a scalar)")
            msg = f"{name} contains {_which_nonfinite(found)}{NONFINITE_MARK}{count}"
            hint = nonfinite(found) if callable(nonfinite) else nonfinite
            hint = nonfinite_causes(found) if hint is None else hint
            return f"{msg}: {hint}" if hint else msg
        # where a NaN or ±inf is expected (log 0 of an unseen n-gram), only that value matches:
        # a tolerance of rtol·|±inf| would let anything pass there
        special = ~np.isfinite(e)
        if special.any():
            missed = special & ~((a == e) | (np.isnan(a) & np.isnan(e)))
            if missed.any():
                first = tuple(int(i) for i in np.argwhere(missed)[0]) if a.ndim else ()
                count = (f"{int(missed.sum())} of {a.size} entries differ; "
                         if a.ndim else "")
                return (f"{name}: {count}{where('first', first)}yours {float(a[first]):.6g}, "
                        f"expected {float(e[first])}")
        with np.errstate(invalid="ignore"):  # inf − inf where both are ±inf: NaN, not over
            err = np.abs(a - e)
            tol = atol + rtol * np.abs(e)
            over = np.where(special, -1.0, err - tol)
        if not (over > 0).any():
            return None
        worst = np.unravel_index(int(np.argmax(over)), a.shape) if a.ndim else ()
        yours, wanted = float(a[worst]), float(e[worst])
        shown_a, shown_e = _fmt_pair(yours, wanted)
        count = f"{int((over > 0).sum())} of {a.size} entries differ; " if a.ndim else ""
        msg = (f"{name}: {count}{where('worst', tuple(int(i) for i in worst))}yours {shown_a}, "
               f"expected {shown_e}")
        notes = []
        if a.size > 1:
            # (the entries where ±inf or NaN is expected matched: no pattern is read there)
            pattern = diagnose(np.where(special, 0.0, a), np.where(special, 0.0, e),
                               rtol=max(rtol, 1e-5), atol=atol)
        else:
            pattern = _scalar_ratio(yours, wanted, name)
        if pattern:
            pattern = pattern.replace("your gradient", "yours").replace("the true one",
                                                                         "the expected one")
        if (a.ndim and yours != 0.0 and wanted != 0.0 and abs(yours / wanted - 1) > 1e-4
                and "the expected one" not in (pattern or "")):
            notes.append(f"ratio {_fmt(yours / wanted)}")
        if dtype != e.dtype:
            notes.append(f"yours is {dtype}, expected {e.dtype}")
        if notes:
            msg += f" ({'; '.join(notes)})"
        if pattern:
            msg += f"; {pattern}"
        elif (err <= 1e-5 * np.abs(e) + atol).all():
            wrong, meant = a[over > 0], e[over > 0].astype(np.float64)
            float32 = bool((wrong.astype(np.float32).astype(np.float64) == wrong).all()
                           and not (meant.astype(np.float32).astype(np.float64) == meant).all())
            msg += FLOAT32_HINT if float32 else SMALL_DIFFERENCE_HINT
        return msg
    # integers, booleans: exact
    if not np.array_equal(a, e):
        diff = np.argwhere(a != e)
        first = tuple(int(i) for i in diff[0]) if a.ndim else ()
        count = f"{len(diff)} of {a.size} entries differ; " if a.ndim else ""
        return (f"{name}: {count}{where('first', first)}"
                f"yours {_plain(a[first])!r}, expected {_plain(e[first])!r}")
    return None


#: keys compared up to the sign of each column: ``{lead: keys}``, the signs that make the
#: columns of ``lead`` agree with the reference's applied to every key of the group (singular
#: vectors, eigenvectors and the projections made with them are unique only up to sign)
SignGroups = dict[str, tuple[str, ...]]


#: the suffix of a layer's outputs run in eval mode after training (builders'
#: ``_eval_outputs``): ``"h in eval mode, called again"``. Where ``h`` itself differs, its
#: eval-mode runs are counted in one line, not each shown (one mistake, not four)
EVAL_KEY = "in eval mode"


def _is_gradient_key(key: str) -> bool:
    """Whether a payload key names a gradient ("grad weight", "dL/dx"), not an output."""
    return key.startswith(("grad ", "dL/d"))


def compare_payloads(actual: dict[str, Any], expected: dict[str, Any], *, rtol: float,
                     atol: float, keys: tuple[str, ...] | None = None,
                     up_to_sign: SignGroups | None = None,
                     nonfinite: Nonfinite = None) -> Verdict:
    """All listed (default: all expected) outputs must match; report every mismatch.
    ``up_to_sign``: keys compared up to the sign of each column (:data:`SignGroups`); columns
    that match the reference's in another order are named as such. ``nonfinite``: what a NaN
    or inf means in this check (:func:`compare_array`), said once, at the first output that
    holds one."""
    if up_to_sign:
        actual = align_column_signs(actual, expected, up_to_sign)
    problems = []
    said: set[str] = set()  # the NaN/inf hint, given once
    more: list[str] = []  # the other outputs holding NaN or inf where finite ones are expected
    failed: set[str] = set()
    in_eval: list[str] = []  # eval-mode runs of outputs already found wrong: counted, not shown
    # the forward's outputs before the gradients: a wrong forward makes every gradient
    # wrong too, and a message that listed them first read as a backward's mistake (a
    # student trial: the output's line at character 983 of 1,205)
    for key in keys or sorted(expected, key=_is_gradient_key):
        if key not in actual:
            problems.append(f"{key} is missing")
            continue
        problem = compare_array(key, actual[key], expected[key], rtol=rtol, atol=atol,
                                nonfinite=nonfinite)
        if problem:
            failed.add(key)
            output = key.partition(f" {EVAL_KEY}")[0]  # "h" of "h in eval mode, called again"
            if output != key and output in failed:
                in_eval.append(key)
                continue
        if problem and NONFINITE_MARK in problem:  # "... finite (k of n entries): hint"
            if said:  # said once: the other outputs that hold one are only counted
                more.append(key)
                continue
            said.add(problem.partition("): ")[2])
        if problem and up_to_sign and key in up_to_sign:
            problem = _column_order(key, actual[key], expected[key], rtol, atol) or (
                f"{problem} (up to the sign of each column)")
        if problem:
            problems.append(problem)
    if more:
        problems.append(f"NaN or inf in {len(more)} more output{'s' if len(more) > 1 else ''} "
                        f"too ({', '.join(more) if len(more) <= 3 else f'{more[0]} … {more[-1]}'})")
    if in_eval:
        problems.append(f"the same outputs, run again after model.eval(), differ too "
                        f"({len(in_eval)} comparison{'s' if len(in_eval) > 1 else ''}: the "
                        "same mistake, fixed with the outputs above)")
    if problems:
        return Verdict(False, "; ".join(problems), details={"mismatches": len(problems)})
    return Verdict(True, "matches the reference" + (" (up to the sign of each column)"
                                                    if up_to_sign else ""))


def align_column_signs(actual: dict[str, Any], expected: dict[str, Any], groups: SignGroups,
                       ) -> dict[str, Any]:
    """``actual`` with each column's sign flipped to agree with ``expected``'s: the signs of
    ``groups[lead]``'s lead key apply to every key of its group."""
    out = dict(actual)
    for lead, keys in groups.items():
        if lead not in actual or lead not in expected:
            continue
        a, e = np.asarray(actual[lead]), np.asarray(expected[lead])
        if a.shape != e.shape or a.ndim != 2:
            continue
        signs = np.where(np.sum(a * e, axis=0) < 0, -1.0, 1.0)  # (D,)
        for key in keys:
            if key in actual and np.shape(actual[key])[-1:] == signs.shape:
                out[key] = np.asarray(actual[key]) * signs
    return out


def _column_order(key: str, a: Any, e: Any, rtol: float, atol: float) -> str | None:
    """A message when ``a``'s columns are ``e``'s (up to sign) in another order."""
    a, e = np.asarray(a, np.float64), np.asarray(e, np.float64)
    if a.shape != e.shape or a.ndim != 2:
        return None

    def same(i: int, j: int) -> bool:
        col = a[:, i] * (-1.0 if a[:, i] @ e[:, j] < 0 else 1.0)
        return compare_array("c", col, e[:, j], rtol=rtol, atol=atol) is None

    matches = [next((j for j in range(e.shape[1]) if same(i, j)), None)
               for i in range(a.shape[1])]
    if None in matches or sorted(matches) != list(range(e.shape[1])):
        return None
    return (f"{key}: your columns are the right singular vectors (or eigenvectors) in the "
            f"wrong order (yours are the "
            f"reference's columns {matches}): the first column must belong to the largest "
            "singular value or eigenvalue; sort them in descending order")


#: the payload keys of a known mistake's outputs, computed by the grader beside the outputs of
#: the code under test: ``mistake|<i>|<output name>``
MISTAKE_KEY = "mistake|"
#: beside the outputs where a check's known mistakes are written in torch and torch is not
#: installed in the grader (none could be computed): a wrong answer's result then says how to
#: have them named (``kinds.NEEDS_TORCH``, one warning per grading)
MISTAKES_NEED_TORCH = f"{MISTAKE_KEY}torch not installed"


def name_the_mistake(yours: Any, right: Any, mistakes: dict[str, Callable[[], Any]], *,
                     what: str, rtol: float = 1e-6, atol: float = 1e-9,
                     oracle: tuple[Any, str, Any] | None = None) -> dict[str, Any]:
    """Raise :class:`~.checks.CheckFailure` naming the first of ``mistakes`` (``{what the
    mistake is: a function computing its result on the check's inputs}``, an oracle's known
    wrong variants) whose result ``yours`` equals, where ``right`` is the oracle's right result
    on the same inputs (or a function computing it); ``what`` starts the message
    ("train_rnn_lm: your training losses").

    A mistake whose result equals the right one on these inputs is never named: inputs drawn
    per grading can hide a mistake (a gradient that never reaches the clipping norm trains the
    same clipped or not), and a right answer must not be told it made a mistake it cannot be
    told from. Called in a check's collect, before the reference is compared. Returns what
    goes beside the check's outputs: ``{MISTAKES_NEED_TORCH: True}`` where the oracle needs
    torch and the grader has none (a student release: a failed check then says, once per
    grading, that torch would name the mistake), else nothing.

    ``oracle``: ``(ctx, name, on)``, where ``on`` is everything the right result and the
    mistakes' read (the check's inputs and settings): they are then computed together as one
    of the check's oracles (:meth:`~.context.Context.oracles`, under ``mistake|<name>|``) and
    returned to go beside the outputs: the reference's run computes them, a submission's
    grading takes them from its payload on equal inputs (the same first mistake is named)."""
    def same(a: Any, b: Any) -> bool:
        return np.shape(a) == np.shape(b) and bool(np.allclose(a, b, rtol=rtol, atol=atol))

    if oracle is not None:
        ctx, name, on = oracle
        prefix = f"{MISTAKE_KEY}{name}|"

        def compute() -> dict[str, Any] | None:
            try:
                found = {f"{prefix}right": np.asarray(right() if callable(right) else right)}
            except ModuleNotFoundError as exc:
                if (exc.name or "").split(".")[0] != "torch":
                    raise
                return None
            found.update({f"{prefix}{i}": np.asarray(result())
                          for i, result in enumerate(mistakes.values())})
            return found

        entries = ctx.oracles(prefix, on, compute)
        if not entries:
            return {MISTAKES_NEED_TORCH: np.asarray(True)}
        for i, mistake in enumerate(mistakes):
            wrong = entries[f"{prefix}{i}"]
            if not same(wrong, entries[f"{prefix}right"]) and same(yours, wrong):
                raise CheckFailure(f"{what} are exactly those of {mistake}", mistake=mistake)
        return entries

    if callable(right):
        try:
            right = right()
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] != "torch":
                raise
            return {MISTAKES_NEED_TORCH: np.asarray(True)}
    for mistake, result in mistakes.items():
        wrong = result()
        if not same(wrong, right) and same(yours, wrong):
            raise CheckFailure(f"{what} are exactly those of {mistake}", mistake=mistake)
    return {}
