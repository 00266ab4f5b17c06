"""The student's own gradient checker (CS224n notes part III, "Gradient check"): central
differences on two smooth functions with known gradients, and ``check_gradient`` graded on
analytic gradients the grader plants, right ones (rounding noise, a tiny absolute error where
the true gradient is 0) and wrong ones (transposed, doubled, sign flipped, one coordinate
off), which it must tell apart."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import Context, Question, Verdict, bug, custom_check


def _cubes_grad(x: np.ndarray) -> np.ndarray:
    i, j = np.indices(x.shape)
    return (1.0 + i + 2.0 * j) * x * x


def _numerical(ctx: Context):
    rng = ctx.rng()
    f = ctx.function("gradcheck", "numerical_gradient")
    x = rng.standard_normal((3, 4))
    v = rng.standard_normal(6)
    return {"cubes": ctx.to_numpy(f(ctx.given_function("toy_functions", "weighted_cubes"),
                                    ctx.asarray(x)), "numerical_gradient's result"),
            "cubes true": _cubes_grad(x),
            "log_sum_exp": ctx.to_numpy(f(ctx.given_function("toy_functions", "log_sum_exp"),
                                          ctx.asarray(v)), "numerical_gradient's result"),
            "log_sum_exp true": np.exp(v - v.max()) / np.exp(v - v.max()).sum()}


def _numerical_judge(actual, expected) -> Verdict:
    for name in ("cubes", "log_sum_exp"):
        got, true = actual[name], actual[f"{name} true"]
        if got.shape != true.shape:
            return Verdict(False, f"numerical_gradient of {name} has shape {got.shape}; x has "
                           f"shape {true.shape}")
        err = np.abs(got - true)
        if not np.all((err < 1e-6) | (err < 1e-5 * np.abs(true))):
            k = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
            return Verdict(False, f"numerical_gradient of {name} at {list(k)} is "
                           f"{got[k]:.8g}; the true derivative is {true[k]:.8g} (central "
                           "differences: (f(x + h e_i) - f(x - h e_i)) / 2h)")
    return Verdict(True, "central differences agree with the true gradients")


def _planted(x: np.ndarray) -> dict[str, tuple[np.ndarray, bool]]:
    """Analytic gradients to check, and whether each is right (the grader's, never sent)."""
    true = _cubes_grad(x)
    one = true.copy()
    one[2, 1] += 1e-3 * max(1.0, abs(one[2, 1]))
    tiny = true.copy()
    tiny[x == 0.0] = 1e-10  # true gradient 0: relative error 1, absolute 1e-10
    return {"correct": (true, True), "rounding noise": (true * (1 + 1e-9), True),
            "tiny absolute error": (tiny, True), "transposed": (true.T.copy(), False),
            "twice": (2 * true, False), "sign flipped": (-true, False),
            "one coordinate off": (one, False)}


def _check_collect(ctx: Context):
    rng = ctx.rng()
    x = rng.standard_normal((4, 4))
    x[0, 3] = x[3, 1] = 0.0  # zero true gradients there
    f = ctx.given_function("toy_functions", "weighted_cubes")
    check = ctx.function("gradcheck", "check_gradient")
    out = {}
    for name, (analytic, _) in _planted(x).items():
        passed, worst, error = ctx.unpack(check(f, ctx.asarray(x), ctx.asarray(analytic)),
                                          ["passed", "worst", "max_abs_error"],
                                          "check_gradient")
        out[f"{name}|passed"] = np.asarray(bool(passed))
        out[f"{name}|worst"] = np.asarray(worst, dtype=np.int64).reshape(-1)
        out[f"{name}|error"] = np.asarray(float(error))
    out["x"] = x
    return out


def _check_judge(actual, expected) -> Verdict:
    wrong = []
    planted = _planted(actual["x"])
    for name, (_, right) in planted.items():
        if bool(actual[f"{name}|passed"]) != right:
            wrong.append(f"the {name} gradient {'failed' if right else 'passed'}")
    if "one coordinate off" in planted and not wrong:
        worst = actual["one coordinate off|worst"].tolist()
        if worst != [2, 1]:
            wrong.append(f"the gradient wrong at [2, 1] alone was reported worst at {worst}")
    right = len(planted) + 1 - len(wrong)
    if wrong:
        return Verdict(False, "check_gradient: " + "; ".join(wrong) + " (a coordinate passes "
                       "when its relative error < rtol OR its absolute error < atol)",
                       fraction=right / (len(planted) + 1))
    return Verdict(True, f"check_gradient tells all {len(planted)} planted gradients apart")


GRADCHECK = Question(
    "gradcheck", "Your own gradient checker", code="gradcheck",
    checks=[
        custom_check("gradcheck", "numerical", "numerical_gradient on two smooth functions",
                     1.0, _numerical, _numerical_judge),
        custom_check("gradcheck", "planted",
                     "check_gradient on right and planted wrong gradients", 1.5,
                     _check_collect, _check_judge),
    ],
    planted_bugs=[
        bug("gradient checker uses relative error only", "gradcheck",
            "ok = (relative < rtol) | (error < atol)", "ok = relative < rtol", "gradcheck"),
        bug("one-sided differences", "gradcheck",
            "flat[i] = old - h", "flat[i] = old", "gradcheck"),
    ])

QUESTIONS = [GRADCHECK]
