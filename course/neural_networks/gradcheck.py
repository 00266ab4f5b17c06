"""The student's own gradient checker (CS224n notes part III, "Gradient check"): central
differences on smooth functions the grader draws for each grading (weighted cubes plus a
log-sum-exp of a random mixing, ``toy_functions.smooth_function``), and ``check_gradient``
graded on analytic gradients the grader plants, right ones (rounding noise, a tiny absolute
error where the true gradient is 0) and wrong ones (transposed, doubled, sign flipped, one
coordinate off), which it must tell apart. Functions that never changed could be answered by
their closed forms, without a single difference."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    Context,
    Question,
    Verdict,
    custom_check,
    drawn_setting,
)


def _true_gradient(weights: np.ndarray, mixing: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """The gradient of ``smooth_function(weights, mixing)`` at ``x``, the grader's own."""
    grad = weights * x * x
    if mixing is not None:
        a = mixing @ x.reshape(-1)  # (K,)
        e = np.exp(a - a.max())
        grad = grad + (mixing.T @ (e / e.sum())).reshape(x.shape)
    return grad


def _function(ctx: Context, weights: np.ndarray, mixing: np.ndarray | None):
    """The given ``smooth_function(weights, mixing)``, made in the worker (a call token)."""
    return ctx.given_function("toy_functions", "smooth_function").lazy(
        ctx.asarray(weights), None if mixing is None else ctx.asarray(mixing))


def _numerical(ctx: Context):
    rng = ctx.rng()
    f = ctx.function("numerical_gradient")
    out = {}
    for name, shape, k in (("matrix", (3, 4), 5), ("vector", (6,), 4)):
        weights = rng.uniform(0.5, 3.0, shape)
        mixing = rng.standard_normal((k, int(np.prod(shape))))
        x = rng.standard_normal(shape)
        out[name] = ctx.to_numpy(f(_function(ctx, weights, mixing), ctx.asarray(x)),
                                 "numerical_gradient's result")
        out[f"{name} true"] = _true_gradient(weights, mixing, x)
    return out


def _numerical_judge(actual, expected) -> Verdict:
    for name in ("matrix", "vector"):
        got, true = actual[name], actual[f"{name} true"]
        if got.shape != true.shape:
            return Verdict(False, f"numerical_gradient on a {name} has shape {got.shape}; x has "
                           f"shape {true.shape}")
        err = np.abs(got - true)
        if not np.all((err < 1e-6) | (err < 1e-5 * np.abs(true))):
            k = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
            return Verdict(False, f"numerical_gradient on a {name} at {list(k)} is "
                           f"{got[k]:.8g}; the true derivative is {true[k]:.8g} (central "
                           "differences: (f(x + h e_i) - f(x - h e_i)) / 2h)")
    return Verdict(True, "central differences agree with the true gradients")


#: the analytic gradients planted for check_gradient, and whether each is right
PLANTED = {"correct": True, "rounding noise": True, "tiny absolute error": True,
           "transposed": False, "twice": False, "sign flipped": False,
           "one coordinate off": False, "flattened": False}
#: the planted gradient of another shape than x's, right in its values: (6,) for an x of
#: (1, 6), which NumPy broadcasts (a checker without the docstring's shape test passed it: a
#: student trial); its worst index and error are not judged (the docstring says none)
FLAT_SHAPE = (1, 6)
#: how far a checker's max_abs_error may be from the largest |analytic − true gradient|:
#: central differences at the default h are off by about 1e-10 here (returning 0.0, or the
#: relative error, kept full marks while no verdict read it: a student trial)
ERROR_RTOL, ERROR_ATOL = 1e-4, 1e-6


def _planted(x: np.ndarray, weights: np.ndarray, off: tuple[int, int] = (2, 1)
             ) -> dict[str, np.ndarray]:
    """The :data:`PLANTED` gradients at ``x`` (the grader's, never sent); ``off``: the one
    coordinate the "one coordinate off" gradient has wrong."""
    true = _true_gradient(weights, None, x)  # 0 where x is
    one = true.copy()
    one[off] += 1e-3 * max(1.0, abs(one[off]))
    tiny = true.copy()
    tiny[x == 0.0] = 1e-10  # true gradient 0: relative error 1, absolute 1e-10
    return {"correct": true, "rounding noise": true * (1 + 1e-9), "tiny absolute error": tiny,
            "transposed": true.T.copy(), "twice": 2 * true, "sign flipped": -true,
            "one coordinate off": one}


#: check_gradient with tolerances of its caller's, not its defaults (a checker with 1e-5 and
#: 1e-8 written in kept full marks where every call took the defaults): (the name, the
#: keyword, the range it is drawn from per grading, the planted error as a multiple of it,
#: the verdict it must give). The ranges are far above the defaults (an error within them
#: fails the defaults), and an error just past the tolerance fails it, just within passes
OTHER_TOLERANCES = (("an error within rtol", "rtol", (5e-3, 5e-2), 0.8, True),
                    ("an error just past rtol", "rtol", (5e-3, 5e-2), 1.2, False),
                    ("an error within atol", "atol", (1e-7, 1e-6), 0.8, True),
                    ("an error just past atol", "atol", (1e-7, 1e-6), 1.2, False))


#: the most verdicts a checker may get wrong and still earn a share of the right ones (half
#: of it: a checker wrong in one situation of its contract kept 91-96 % of the question while
#: the share was whole, a student trial's lenient checkers)
PARTIAL_WRONG = 2
#: a vector x (1-D): the docstring's any shape (a checker whose worst index unravelled a
#: matrix's, flat // x.shape[1], raised on one and kept every point: a student trial)
VECTOR = 5
#: the step h a caller passes, drawn per grading: the true gradient of the cubes, checked with
#: it, fails (central differences of w·x³/3 are w·(x² + h²/3): absolutely w·h²/3 off where x
#: is 0), and max_abs_error is max(w)·h²/3 (a checker that ignored h passed it: a student
#: trial)
GIVEN_H = (0.05, 0.2)


#: why a tolerance's planted gradient got the wrong verdict: the tolerance given not used, or
#: the error it bounds computed otherwise than the docstring's (a checker that divided by
#: |a| + |n| was told only to use the caller's tolerances, which it did: a student trial)
TOLERANCE_CAUSES = {
    ("rtol", False): "use the rtol the caller passes, on each coordinate's relative error "
                     "|a − n| / max(|a|, |n|): a larger denominator passes what it should fail",
    ("rtol", True): "use the rtol the caller passes, on each coordinate's relative error "
                    "|a − n| / max(|a|, |n|), and let a coordinate pass on either test: one "
                    "test of the whole array, or a smaller denominator, fails what it should "
                    "pass",
    ("atol", False): "use the atol the caller passes, on each coordinate's absolute error "
                     "|a − n|",
    ("atol", True): "use the atol the caller passes, on each coordinate's absolute error "
                    "|a − n|, and let a coordinate pass on either test, coordinate by "
                    "coordinate"}


def _off_by(true: np.ndarray, keyword: str, tolerance: float, factor: float) -> np.ndarray:
    """``true`` off by ``factor`` times the tolerance: relatively everywhere (rtol), or
    absolutely where the true gradient is 0, the others exact (atol)."""
    if keyword == "rtol":
        return true * (1 + factor * tolerance)
    return np.where(true == 0.0, factor * tolerance, true)


def _drawn_point(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(x, weights)`` of one call of check_gradient: x (4, 4) with true gradients of 0 at
    [0, 3] and [3, 1], weights not symmetric (a transposed gradient is wrong)."""
    x = rng.standard_normal((4, 4))
    x[0, 3] = x[3, 1] = 0.0
    return x, rng.uniform(0.5, 3.0, (4, 4))


def _check_collect(ctx: Context):
    """Each planted gradient, and each tolerance's, checked at a point and function of its own,
    in an order drawn for the grading, the wrong coordinate of "one coordinate off" drawn too:
    at one point for all, the first call's gradient was the right one, and a checker that kept
    it as the truth told the rest apart; in a fixed order, one that answered from a table by
    its call count did (adversarial trials: 1.5 of 1.5 each, the function never called)."""
    rng = ctx.rng()
    check = ctx.function("check_gradient")
    cases = [*PLANTED, *OTHER_TOLERANCES, "a vector", "h given"]
    off = (int(rng.integers(4)), int(rng.integers(4)))
    out = {"one coordinate off|at": np.asarray(off, dtype=np.int64)}
    for case in (cases[i] for i in rng.permutation(len(cases))):
        x, weights = _drawn_point(rng)
        f = _function(ctx, weights, None)
        if case == "flattened":
            x, weights = rng.standard_normal(FLAT_SHAPE), rng.uniform(0.5, 3.0, FLAT_SHAPE)
            f = _function(ctx, weights, None)
            passed, _, _ = ctx.unpack(
                check(f, ctx.asarray(x), ctx.asarray(_true_gradient(weights, None, x)[0])),
                ["passed", "worst", "max_abs_error"], "check_gradient")
            out[f"{case}|passed"] = np.asarray(bool(passed))
            continue
        if case == "a vector":  # the right gradient and one coordinate off, x of (VECTOR,)
            x, weights = rng.standard_normal(VECTOR), rng.uniform(0.5, 3.0, VECTOR)
            f, k = _function(ctx, weights, None), int(rng.integers(VECTOR))
            planted = _planted(x, weights, (k,))
            for name, analytic in (("right", planted["correct"]),
                                   ("one coordinate off", planted["one coordinate off"])):
                passed, worst, _ = ctx.unpack(check(f, ctx.asarray(x), ctx.asarray(analytic)),
                                              ["passed", "worst", "max_abs_error"],
                                              "check_gradient")
                out[f"a vector, {name}|passed"] = np.asarray(bool(passed))
                out[f"a vector, {name}|worst"] = np.asarray(worst, dtype=np.int64).reshape(-1)
            out["a vector, one coordinate off|at"] = np.asarray([k], dtype=np.int64)
            continue
        if case == "h given":  # the true gradient, with a coarse h the caller passes
            h = drawn_setting(ctx, *GIVEN_H, 2)
            passed, _, error = ctx.unpack(
                check(f, ctx.asarray(x), ctx.asarray(_true_gradient(weights, None, x)), h=h),
                ["passed", "worst", "max_abs_error"], "check_gradient")
            out["h given|h"] = np.asarray(h)
            out["h given|passed"] = np.asarray(bool(passed))
            out["h given|error"] = np.asarray(float(error))
            out["h given|true error"] = np.asarray(float(np.max(weights)) * h * h / 3)
            continue
        if isinstance(case, str):  # a planted gradient
            analytic = _planted(x, weights, off)[case]
            passed, worst, error = ctx.unpack(
                check(f, ctx.asarray(x), ctx.asarray(analytic)),
                ["passed", "worst", "max_abs_error"], "check_gradient")
            out[f"{case}|passed"] = np.asarray(bool(passed))
            out[f"{case}|worst"] = np.asarray(worst, dtype=np.int64).reshape(-1)
            out[f"{case}|error"] = np.asarray(float(error))
            out[f"{case}|true error"] = np.asarray(
                float(np.max(np.abs(analytic - _true_gradient(weights, None, x)))))
            continue
        name, keyword, (low, high), factor, _ = case
        options = {keyword: drawn_setting(ctx, low, high, 0 if keyword == "rtol" else 1)}
        analytic = _off_by(_true_gradient(weights, None, x), keyword, options[keyword], factor)
        passed, _, _ = ctx.unpack(check(f, ctx.asarray(x), ctx.asarray(analytic), **options),
                                  ["passed", "worst", "max_abs_error"], "check_gradient")
        out[f"{name}|{keyword}"] = np.asarray(options[keyword])
        out[f"{name}|passed with it"] = np.asarray(bool(passed))
    return out


def _check_judge(actual, expected) -> Verdict:
    wrong = []
    for name, right in PLANTED.items():
        if bool(actual[f"{name}|passed"]) != right:
            wrong.append(f"the {name} gradient {'failed' if right else 'passed'}" + (
                f" (shape ({FLAT_SHAPE[1]},) for an x of shape {FLAT_SHAPE}, right in its "
                "values: NumPy broadcasts the two, so compare the shapes first and return "
                "False when they differ)" if name == "flattened" else ""))
    for name, keyword, _, _, right in OTHER_TOLERANCES:
        key = f"{name}|passed with it"
        if key in actual and bool(actual[key]) != right:
            wrong.append(f"the gradient with {name} {'failed' if right else 'passed'} with "
                         f"{keyword}={float(actual[f'{name}|{keyword}']):g} given "
                         f"({TOLERANCE_CAUSES[keyword, right]})")
    if not wrong:
        worst, at = (actual[f"one coordinate off|{k}"].tolist() for k in ("worst", "at"))
        if worst != at:
            wrong.append(f"the gradient wrong at {at} alone was reported worst at {worst}")
    if "a vector, right|passed" in actual:
        for name, right in (("right", True), ("one coordinate off", False)):
            if bool(actual[f"a vector, {name}|passed"]) != right:
                wrong.append(f"on a vector x of shape ({VECTOR},), the {name} gradient "
                             f"{'failed' if right else 'passed'}")
        worst, at = (actual[f"a vector, one coordinate off|{k}"].tolist()
                     for k in ("worst", "at"))
        if worst != at:
            wrong.append(f"on a vector x of shape ({VECTOR},), the gradient wrong at {at} alone "
                         f"was reported worst at {worst} (worst is x's index: one int for a "
                         "vector, as np.unravel_index gives for any shape)")
    if "h given|passed" in actual:
        h, got, true = (float(actual[f"h given|{k}"]) for k in ("h", "error", "true error"))
        if bool(actual["h given|passed"]) or not abs(got - true) <= 1e-3 * true:
            wrong.append(f"with h={h:g} given, the true gradient's max_abs_error is {got:.6g} "
                         f"and it {'passed' if bool(actual['h given|passed']) else 'failed'}; "
                         f"central differences with that h are {true:.6g} off at most (a cubic's "
                         "are off by h²/3 times its weight), so it fails: pass h on to "
                         "numerical_gradient")
    errors = [(name, float(actual[f"{name}|error"]), float(actual[f"{name}|true error"]))
              for name in PLANTED if f"{name}|true error" in actual]
    off = [(name, got, true) for name, got, true in errors
           if not abs(got - true) <= ERROR_ATOL + ERROR_RTOL * true]
    if off:
        name, got, true = max(off, key=lambda e: e[2])
        wrong.append(f"max_abs_error of the {name} gradient is {got:.6g}, where the largest "
                     f"|analytic - numerical| is {true:.6g} ({len(off)} of {len(errors)} "
                     "planted gradients' errors wrong: the third result is the largest "
                     "absolute difference, not a relative one)")
    verdicts = len(PLANTED) + len(OTHER_TOLERANCES) + 2 + (
        3 if "a vector, right|passed" in actual else 0) + (1 if "h given|passed" in actual else 0)
    right = verdicts - len(wrong)
    # partial credit only for a checker that tells gradients apart at all: one that rejects
    # the correct gradient, or passes every wrong one, gets each verdict of one kind right
    # by saying the same thing every time; and for one or two verdicts wrong at most (the
    # calls come in an order drawn per grading: verdicts guessed at random get about half
    # right, and 10 of 12 or more once in 50 gradings)
    useful = bool(actual["correct|passed"]) and not all(
        bool(actual[f"{name}|passed"]) for name, ok in PLANTED.items() if not ok
    ) and len(wrong) <= PARTIAL_WRONG
    if wrong:
        return Verdict(False, "check_gradient: " + "; ".join(wrong) + " (a coordinate passes "
                       "when its relative error < rtol OR its absolute error < atol)",
                       fraction=0.5 * right / verdicts if useful else 0.0)
    return Verdict(True, f"check_gradient tells all {len(PLANTED)} planted gradients apart")


GRADCHECK = Question(
    "gradcheck", "Your own gradient checker",
    checks=[
        custom_check("numerical", "numerical_gradient on smooth functions drawn "
                     "for this grading", 1.0, _numerical, _numerical_judge,
                     oracle="the true gradient of a function the grader draws"),
        custom_check("planted",
                     "check_gradient on right and planted wrong gradients", 1.5,
                     _check_collect, _check_judge,
                     oracle="right and wrong gradients the grader plants, of a function it "
                            "draws"),
    ])

QUESTIONS = [GRADCHECK]
