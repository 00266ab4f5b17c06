"""Data preprocessing (CS224n notes part III, "Data preprocessing"): mean subtraction and
normalization (a constant feature too), PCA whitening (judged up to the sign of each principal
direction, with an identity covariance required), and statistics fitted on the training split
alone and applied unchanged to the test split."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    Context,
    Question,
    Verdict,
    call,
    calls_check,
    custom_check,
    with_hint,
)
from nlpdojo_autograder.authoring.compare import compare_payloads
from nlpdojo_autograder.training import is_float64


def _splits(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    return draw_splits(ctx.rng())


def draw_splits(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A training split (40, 4) of correlated features and a test split (15, 4) from another
    distribution (statistics fitted on it differ clearly from the training split's)."""
    # a random rotation with scales in [1, 3]: correlated, and never nearly singular (with
    # randn + 2I, 9 % of draws had a direction of variance < 0.01, where the eps of whitening
    # leaves a covariance visibly short of the identity: the reference failed 1 grading in 11)
    rotation, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    mix = rotation * rng.uniform(1.0, 3.0, size=4)  # (4, 4), singular values in [1, 3]
    train = rng.standard_normal((40, 4)) @ mix + np.array([1.0, -2.0, 0.5, 3.0])
    test = 2.5 * (rng.standard_normal((15, 4)) @ mix) - 4.0
    return train, test


# -- normalization -----------------------------------------------------------------------------
def _normalize(ctx: Context):
    train, test = _splits(ctx)
    train[:, 2] = 7.0  # a constant feature
    # a feature far from 0 (a timestamp, a count): a variance as mean(x²) − mean², which
    # cancels there (float64 keeps 16 digits of x² ~ 1e16), kept 1 of 1 where every mean was
    # below 3 (a student trial); (x − mean)² is exact to rounding. In float64 only: float32
    # keeps 7 digits of x itself, where two right summation orders differ
    if is_float64(ctx):
        train[:, 0] += 1e8
        test[:, 0] += 1e8
    return {"train": train, "test": test}


#: what a failed check adds: feature 0's values lie near 1e8 (in float64)
FAR_FROM_ZERO_HINT = ("where feature 0's std alone is wrong: in float64 its values lie near "
                      "1e8, where a variance computed as mean(x²) − mean² loses its digits "
                      "to cancellation; take the mean of the squared deviations, "
                      "mean((x − mean)²)")

NORMALIZE_CALLS = [call("fit_normalizer", "train", out=("mean", "std")),
                   call("normalize", "test", "mean", "std", out="normalized test")]

NORMALIZE = Question(
    "normalize", "Mean subtraction and normalization", code="preprocessing",
    checks=[with_hint(calls_check("values",
                                  "mean, std (a constant feature too) and normalize", 1.0,
                                  _normalize, NORMALIZE_CALLS), FAR_FROM_ZERO_HINT)])


# -- whitening ---------------------------------------------------------------------------------
def _whitening(ctx: Context):
    train, test = _splits(ctx)
    mean, projection = ctx.unpack(
        ctx.function("fit_whitening")(ctx.asarray(train)),
        ["mean", "projection"], "fit_whitening")
    whiten = ctx.function("whiten")
    return {"mean": ctx.to_numpy(mean, "the mean"),
            "projection": ctx.to_numpy(projection, "the projection"),
            "whitened train": ctx.to_numpy(whiten(ctx.asarray(train), ctx.asarray(mean),
                                                  ctx.asarray(projection)), "whiten's output"),
            "whitened test": ctx.to_numpy(whiten(ctx.asarray(test), ctx.asarray(mean),
                                                 ctx.asarray(projection)), "whiten's output")}


def _whitening_judge(actual, expected) -> Verdict:
    z = actual["whitened train"]
    if z.ndim == 2 and z.shape[0] > 1:
        cov = z.T @ z / z.shape[0]
        if not np.allclose(cov, np.eye(z.shape[1]), atol=1e-3):
            return Verdict(False, "the whitened training data should have (nearly) the identity "
                           f"as covariance; its diagonal is {np.round(np.diag(cov), 4).tolist()}")
    assert expected is not None
    group = {"projection": ("projection",), "whitened train": ("whitened train",
                                                               "whitened test")}
    verdict = compare_payloads(actual, expected, rtol=1e-6, atol=1e-8, up_to_sign=group)
    if verdict.passed:
        verdict.message = "whitened: identity covariance, the reference's directions (up to sign)"
    return verdict


WHITENING = Question(
    "whitening", "PCA whitening", code="preprocessing",
    checks=[custom_check("values", "PCA whitening, up to the sign of each direction",
                         2.0, _whitening, _whitening_judge, needs_expected=True)])


# -- two splits --------------------------------------------------------------------------------
def _preprocess(ctx: Context):
    train, test = _splits(ctx)
    f = ctx.function("preprocess_splits")
    out = {}
    for method in ("center", "normalize", "whiten"):
        a, b = ctx.unpack(f(ctx.asarray(train), ctx.asarray(test), method), ["train", "test"],
                          "preprocess_splits")
        out[f"{method} train"] = ctx.to_numpy(a, f"the {method}ed training split")
        out[f"{method} test"] = ctx.to_numpy(b, f"the {method}ed test split")
    return out


def _preprocess_judge(actual, expected) -> Verdict:
    assert expected is not None
    verdict = compare_payloads(actual, expected, rtol=1e-6, atol=1e-8,
                               up_to_sign={"whiten train": ("whiten train", "whiten test")})
    if not verdict.passed and "test" in verdict.message:
        verdict.message += (" (fit every statistic on the training split alone and apply it "
                            "unchanged to the test split)")
    return verdict


PREPROCESS_SPLITS = Question(
    "preprocess_splits", "Statistics from the training split only", code="preprocessing",
    requires=(NORMALIZE, WHITENING),
    checks=[custom_check("values",
                         "center, normalize and whiten two splits", 1.0, _preprocess,
                         _preprocess_judge, needs_expected=True)])

QUESTIONS = [NORMALIZE, WHITENING, PREPROCESS_SPLITS]
