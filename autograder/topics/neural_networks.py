"""Checks for topic ``neural_networks`` (CS224n lectures 3-4, notes part III): the activations,
layers, losses, optimizers, initialiser and schedules of the course library, the window
classifier built from them, the student's own gradient checker and data preprocessing.

Most questions take a builder's shape (:mod:`nlpdojo_autograder.builders`); the gradient
checker is graded on wrong gradients the grader plants, the initialiser and dropout on
statistics no reference is needed for, whitening up to the sign of each principal direction.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from nlpdojo_autograder.builders import (
    LayerCase,
    LossCase,
    Metric,
    OptimizerCase,
    _with_hint,
    call,
    calls_check,
    layer_checks,
    loss_checks,
    metric_checks,
    optimizer_checks,
)
from nlpdojo_autograder.checks import Check, CheckFailure, Context, Exercise, PlantedBug, Verdict
from nlpdojo_autograder.compare import compare_payloads
from nlpdojo_autograder.inputs import inputs, integers
from nlpdojo_autograder.kinds import GradientProblem, custom_check, gradient_check, value_check
from nlpdojo_autograder.trained import TrainingPlan, audit, initial_parameters, train_and_measure

QUESTIONS = {
    "sigmoid": "Sigmoid layer",
    "tanh": "Tanh layer",
    "hard_tanh": "Hard tanh layer",
    "soft_sign": "Soft sign layer",
    "relu": "ReLU layer",
    "leaky_relu": "Leaky ReLU layer",
    "xavier": "Xavier initialization",
    "affine": "Affine layer",
    "dropout": "Inverted dropout, train and eval",
    "embedding": "Embedding look-up with accumulated row gradients",
    "softmax_ce": "Softmax cross-entropy",
    "max_margin": "Max-margin loss",
    "l2": "L2 regularization of the weights",
    "sgd": "SGD",
    "momentum": "SGD with momentum",
    "adagrad": "Adagrad",
    "rmsprop": "RMSProp",
    "adam": "Adam with bias correction",
    "schedules": "Learning-rate schedules",
    "normalize": "Mean subtraction and normalization",
    "whitening": "PCA whitening",
    "preprocess_splits": "Statistics from the training split only",
    "gradcheck": "Your own gradient checker",
    "window_classifier": "The window classifier",
    "pos_tagging": "Part-of-speech tagging of held-out OANC text",
    "window_scoring": "A max-margin window scorer on held-out OANC text",
}

LIB = "..library"


def _torch():
    import torch

    return torch


# -- activations -------------------------------------------------------------------------------
def _away_from_kinks(x: np.ndarray) -> np.ndarray:
    """Inputs at least 1e-3 from 0 and ±1, where hard tanh and the ReLUs have kinks (central
    differences straddling a kink are not the derivative)."""
    for kink in (-1.0, 0.0, 1.0):
        near = np.abs(x - kink) < 1e-3
        x = np.where(near, kink + np.where(x >= kink, 2e-3, -2e-3), x)
    return x


def _activation_case(ctx: Context, kwargs: dict | None = None) -> LayerCase:
    return LayerCase(args=(ctx.backend,), params={}, kwargs=kwargs or {},
                     inputs=lambda r: (_away_from_kinks(2.0 * r.standard_normal((4, 5))),))


def _activation(question: str, cls: str, torch_fn, *, kwargs: dict | None = None,
                points: float = 1.0) -> list[Check]:
    return layer_checks(question, f"{LIB}.activations", cls,
                        lambda ctx: _activation_case(ctx, kwargs), title=cls, points=points,
                        autograd=lambda p, x: torch_fn(x), parameters=False)


def _F():
    return _torch().nn.functional


ACTIVATION_CHECKS = [
    *_activation("sigmoid", "Sigmoid", lambda x: _torch().sigmoid(x), points=0.8),
    *_activation("tanh", "Tanh", lambda x: _torch().tanh(x)),
    *_activation("hard_tanh", "HardTanh", lambda x: _F().hardtanh(x)),
    *_activation("soft_sign", "SoftSign", lambda x: _F().softsign(x)),
    *_activation("relu", "ReLU", lambda x: _F().relu(x)),
    *_activation("leaky_relu", "LeakyReLU", lambda x: _F().leaky_relu(x, 0.1),
                 kwargs={"negative_slope": 0.1}),
]


def _sigmoid_stability(ctx: Context):
    """σ of ±800: e^(800) overflows to inf unless the formula avoids it."""
    x = np.array([[-800.0, -30.0, 0.0, 30.0, 800.0]])
    out = ctx.probe("layer_run")(ctx.function(f"{LIB}.activations", "Sigmoid"),
                                 (ctx.backend,), {}, {}, [[ctx.asarray(x)]],
                                 [ctx.asarray(np.ones_like(x))])
    y = ctx.to_numpy(out["outputs"][0], "Sigmoid's output")
    if not np.all(np.isfinite(y)):
        raise CheckFailure(f"sigmoid of {x.tolist()[0]} gave {y.tolist()[0]}: e^(-z) overflows "
                           "for large negative z; use e^z / (1 + e^z) there (the same value)")
    return {"output": y}


ACTIVATION_CHECKS.append(value_check("sigmoid", "stability", "Sigmoid of ±800", 0.2,
                                     _sigmoid_stability))


# -- Xavier --------------------------------------------------------------------------------------
FAN_IN, FAN_OUT = 300, 200


def _xavier_collect(ctx: Context):
    f = ctx.function(f"{LIB}.init", "xavier_uniform")
    return {"w": ctx.to_numpy(f(ctx.backend, FAN_IN, FAN_OUT, seed=3), "xavier_uniform's matrix"),
            "same_seed": ctx.to_numpy(f(ctx.backend, FAN_IN, FAN_OUT, seed=3)),
            "other_seed": ctx.to_numpy(f(ctx.backend, FAN_IN, FAN_OUT, seed=4)),
            "small": ctx.to_numpy(f(ctx.backend, 3, 7, seed=0))}


def _xavier_judge(actual, expected) -> Verdict:
    w = actual["w"]
    bound = math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    if w.shape != (FAN_IN, FAN_OUT) or actual["small"].shape != (3, 7):
        return Verdict(False, f"xavier_uniform(backend, {FAN_IN}, {FAN_OUT}) has shape "
                       f"{w.shape}; expected ({FAN_IN}, {FAN_OUT}) = (fan_in, fan_out)")
    if not np.array_equal(w, actual["same_seed"]) or np.array_equal(w, actual["other_seed"]):
        return Verdict(False, "draw with backend.rng(seed): the same seed must give the same "
                       "matrix and another seed another one")
    top, var, target = float(np.abs(w).max()), float(w.var()), bound ** 2 / 3.0
    if top > bound * (1 + 1e-9) or top < 0.98 * bound:
        return Verdict(False, f"the largest |w| is {top:.4g}; U[-b, b] with b = sqrt(6 / "
                       f"(fan_in + fan_out)) = {bound:.4g} reaches close to b but never beyond")
    if abs(var - target) > 0.05 * target or abs(float(w.mean())) > 4 * math.sqrt(target / w.size):
        return Verdict(False, f"mean {w.mean():.3g} and variance {var:.4g}; Xavier's uniform "
                       f"has mean 0 and variance 2 / (fan_in + fan_out) = {target:.4g}")
    return Verdict(True, f"uniform in ±{bound:.4g} with variance {var:.4g} ≈ 2/(fan_in+fan_out)")


XAVIER_CHECKS = [custom_check("xavier", "statistics", "bound, variance and seeding", 1.0,
                              _xavier_collect, _xavier_judge)]


# -- affine, dropout, embedding -----------------------------------------------------------------
def _affine(ctx: Context) -> LayerCase:
    rng = ctx.rng()
    return LayerCase(args=(ctx.backend, 4, 3), params={
        "weight": rng.standard_normal((4, 3)), "bias": rng.standard_normal(3)},
        inputs=lambda r: (r.standard_normal((5, 4)),))


P_DROP = 0.4


def _dropout(ctx: Context) -> LayerCase:
    return LayerCase(args=(ctx.backend, P_DROP), kwargs={"seed": ctx.seed % 1000}, params={},
                     inputs=lambda r: (r.standard_normal((6, 5)),))


def _dropout_collect(ctx: Context):
    x = np.full((200, 100), 2.0)
    run = ctx.probe("layer_run")(ctx.function(f"{LIB}.layers", "Dropout"),
                                 (ctx.backend, P_DROP), {"seed": 1}, {}, [[ctx.asarray(x)]],
                                 [ctx.asarray(np.ones_like(x))])
    return {"output": ctx.to_numpy(run["outputs"][0], "Dropout's output"),
            "grad": ctx.to_numpy(run["input_grads"][0], "Dropout's input gradient")}


def _dropout_judge(actual, expected) -> Verdict:
    y, g = actual["output"], actual["grad"]
    dropped = float(np.mean(y == 0.0))
    if abs(dropped - P_DROP) > 0.03:
        return Verdict(False, f"with p = {P_DROP} a fraction {dropped:.3f} of the units was "
                       f"zeroed; each unit should be dropped with probability p")
    kept = y[y != 0.0]
    if kept.size and not np.allclose(kept, 2.0 / (1 - P_DROP)):
        return Verdict(False, f"kept units of an input 2.0 came out as {kept.flat[0]:.4g}; "
                       f"inverted dropout divides them by 1 - p, giving {2 / (1 - P_DROP):.4g}, "
                       "so the expected output equals the input and eval mode needs nothing")
    if not np.allclose(g * 2.0, y):
        return Verdict(False, "the input gradient is not the same mask (and scale) as the "
                       "forward pass: backward must reuse the mask of its call")
    return Verdict(True, f"drops {dropped:.3f} of the units, keeps the mean")


V_EMB, D_EMB = 7, 3


def _embedding(ctx: Context) -> LayerCase:
    rng = ctx.rng()
    return LayerCase(args=(ctx.backend, V_EMB, D_EMB), params={
        "weight": rng.standard_normal((V_EMB, D_EMB))},
        # a repeated word: its gradients must add up
        inputs=lambda r: (integers(V_EMB, 4, 3, repeated=True)(r),), differentiable=())


LAYER_CHECKS = [
    *layer_checks("affine", f"{LIB}.layers", "Linear", _affine, title="Linear", points=3.0,
                  autograd=lambda p, x: x @ p["weight"] + p["bias"]),
    *[_with_hint(c, "in eval mode (model.eval() sets self.training to False on every layer) "
                 "inverted dropout is the identity: return x unchanged, drop nothing and scale "
                 "nothing; forgetting this makes every evaluation noisy") if c.name == "eval"
      else c for c in layer_checks("dropout", f"{LIB}.layers", "Dropout", _dropout,
                                   title="Dropout", points=1.5, eval_mode=True,
                                   parameters=False, shares={"eval": 0.45})],
    custom_check("dropout", "scaling", "Dropout: drop rate and inverted scaling", 0.5,
                 _dropout_collect, _dropout_judge),
    *layer_checks("embedding", f"{LIB}.layers", "Embedding", _embedding, title="Embedding",
                  points=2.0, autograd=lambda p, ids: p["weight"][ids]),
]


# -- losses ------------------------------------------------------------------------------------
def _softmax_ce(ctx: Context) -> LossCase:
    rng = ctx.rng()
    scores = 3.0 * rng.standard_normal((6, 5))
    scores[0] += 1000.0  # a row of large scores: e^1000 overflows unless the max is subtracted
    return LossCase(prediction=scores, target=rng.integers(0, 5, 6))


def _max_margin(ctx: Context) -> LossCase:
    rng = ctx.rng()
    return LossCase(prediction=rng.standard_normal((8, 3)), target=rng.integers(0, 3, 8))


def _torch_max_margin(prediction, target):
    # torch averages the hinges over the classes too; the notes sum them
    return _F().multi_margin_loss(prediction, _torch().as_tensor(target), margin=1.0) \
        * prediction.shape[1]


LOSS_CHECKS = [
    *loss_checks("softmax_ce", f"{LIB}.losses", "SoftmaxCrossEntropy", _softmax_ce,
                 title="SoftmaxCrossEntropy", points=2.0,
                 autograd=lambda p, t: _F().cross_entropy(p, _torch().as_tensor(t))),
    *loss_checks("max_margin", f"{LIB}.losses", "MaxMargin", _max_margin, title="MaxMargin",
                 points=2.0, autograd=_torch_max_margin),
]


# -- L2 ----------------------------------------------------------------------------------------
def _l2_params(ctx: Context) -> dict[str, np.ndarray]:
    rng = ctx.rng()
    return {"embedding.weight": rng.standard_normal((5, 2)),
            "hidden.weight": rng.standard_normal((4, 3)), "hidden.bias": rng.standard_normal(3),
            "output.bias": rng.standard_normal(2)}


LAMBDA = 0.03


def _l2_call(ctx: Context, params: dict[str, np.ndarray]):
    result = ctx.function(f"{LIB}.regularization", "l2_penalty")(
        {n: ctx.asarray(v) for n, v in params.items()}, LAMBDA)
    penalty, grads = ctx.unpack(result, ["penalty", "grads"], "l2_penalty")
    if not isinstance(grads, dict) or set(grads) != set(params):
        raise CheckFailure(f"l2_penalty's grads should be a dict with an entry for every "
                           f"parameter ({', '.join(params)}), zeros for biases")
    return penalty, grads


def _l2_values(ctx: Context):
    penalty, grads = _l2_call(ctx, _l2_params(ctx))
    return {"penalty": ctx.to_numpy(penalty, "the penalty"),
            **{f"grad {n}": ctx.to_numpy(g, f"the gradient of {n}") for n, g in grads.items()}}


def _l2_gradient(ctx: Context) -> GradientProblem:
    params = _l2_params(ctx)
    _, grads = _l2_call(ctx, params)

    def loss(values):
        return float(ctx.to_numpy(_l2_call(ctx, values)[0], "the penalty"))

    return GradientProblem(loss=loss, point=params, analytic=grads)


L2_CHECKS = [
    value_check("l2", "values", "L2 penalty and its gradients (weights, not biases)", 0.6,
                _l2_values),
    gradient_check("l2", "gradients", "L2 gradients by central differences", 0.4, _l2_gradient),
]


# -- optimizers --------------------------------------------------------------------------------
def _adam_without_bias_correction(lr: float, betas: tuple[float, float], eps: float):
    """Adam's step with m and v used as they are, not divided by 1 − βᵗ (Kingma & Ba 2015,
    algorithm 1 without its bias correction): early steps are far too large (too small
    m, far smaller v: about (1 − β₁)/√(1 − β₂) times lr at the first step)."""
    def step(params, grads, state, k):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            m = state[("m", i)] = betas[0] * state.get(("m", i), 0.0) + (1 - betas[0]) * g
            v = state[("v", i)] = betas[1] * state.get(("v", i), 0.0) + (1 - betas[1]) * g * g
            p -= lr * m / (np.sqrt(v) + eps)
    return step


def _optimizer(question: str, cls: str, kwargs: dict, torch_name: str, points: float,
               mistakes: dict | None = None):
    return optimizer_checks(question, f"{LIB}.optim", cls,
                            OptimizerCase(kwargs=kwargs, torch=(torch_name, dict(kwargs)),
                                          mistakes=mistakes or {}),
                            title=cls, points=points)


ADAM = {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8}


OPTIMIZER_CHECKS = [
    *_optimizer("sgd", "SGD", {"lr": 0.1}, "SGD", 1.0),
    *_optimizer("momentum", "Momentum", {"lr": 0.1, "momentum": 0.9}, "SGD", 1.5),
    *_optimizer("adagrad", "Adagrad", {"lr": 0.1, "eps": 1e-10}, "Adagrad", 1.5),
    *_optimizer("rmsprop", "RMSProp", {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}, "RMSprop", 1.5),
    *_optimizer("adam", "Adam", ADAM, "Adam", 2.0, mistakes={
        "Adam without bias correction: divide the moments by 1 − β₁ᵗ and 1 − β₂ᵗ (t the "
        "step count, from 1) before the update": _adam_without_bias_correction(**ADAM)}),
]


# -- schedules ---------------------------------------------------------------------------------
STEPS = (0, 1, 5, 9, 10, 11, 25, 100)


SCHEDULES = {"step_decay": {"drop": 0.5, "every": 10}, "exponential_decay": {"k": 0.05},
             "inverse_decay": {"tau": 10}}
SCHEDULE_CHECKS = [calls_check(
    "schedules", "values", "the three schedules at steps " + ", ".join(map(str, STEPS)), 1.0,
    f"{LIB}.schedules", inputs(steps=list(STEPS)),
    [call(name, "steps", 0.5, each="steps", out=name, **settings)
     for name, settings in SCHEDULES.items()])]


# -- preprocessing -----------------------------------------------------------------------------
def _splits(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """A training split of correlated features and a test split from another distribution
    (statistics fitted on it differ clearly from the training split's)."""
    rng = ctx.rng()
    mix = rng.standard_normal((4, 4)) + 2.0 * np.eye(4)
    train = rng.standard_normal((40, 4)) @ mix + np.array([1.0, -2.0, 0.5, 3.0])
    test = 2.5 * (rng.standard_normal((15, 4)) @ mix) - 4.0
    return train, test


def _normalize(ctx: Context):
    train, test = _splits(ctx)
    train[:, 2] = 7.0  # a constant feature
    return {"train": train, "test": test}


NORMALIZE = [call("fit_normalizer", "train", out=("mean", "std")),
             call("normalize", "test", "mean", "std", out="normalized test")]


def _whitening(ctx: Context):
    train, test = _splits(ctx)
    mean, projection = ctx.unpack(
        ctx.function("preprocessing", "fit_whitening")(ctx.asarray(train)),
        ["mean", "projection"], "fit_whitening")
    whiten = ctx.function("preprocessing", "whiten")
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


def _preprocess(ctx: Context):
    train, test = _splits(ctx)
    f = ctx.function("preprocessing", "preprocess_splits")
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


PREPROCESSING_CHECKS = [
    calls_check("normalize", "values", "mean, std (a constant feature too) and normalize", 1.0,
                "preprocessing", _normalize, NORMALIZE),
    custom_check("whitening", "values", "PCA whitening, up to the sign of each direction", 2.0,
                 _whitening, _whitening_judge, needs_expected=True),
    custom_check("preprocess_splits", "values", "center, normalize and whiten two splits", 1.0,
                 _preprocess, _preprocess_judge, needs_expected=True),
]


# -- the gradient checker ----------------------------------------------------------------------
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


GRADCHECK_CHECKS = [
    custom_check("gradcheck", "numerical", "numerical_gradient on two smooth functions", 1.0,
                 _numerical, _numerical_judge),
    custom_check("gradcheck", "planted", "check_gradient on right and planted wrong gradients",
                 1.5, _check_collect, _check_judge),
]


# -- the window classifier ---------------------------------------------------------------------
VW, WIN, DW, HW, CW = 10, 3, 2, 5, 4  # vocabulary, window, embedding dim, hidden, classes


def _window(ctx: Context) -> LayerCase:
    rng = ctx.rng()
    return LayerCase(
        args=(ctx.backend, VW, WIN, DW, HW, CW),
        params={"embedding.weight": rng.standard_normal((VW, DW)),
                "hidden.weight": rng.standard_normal((WIN * DW, HW)),
                "hidden.bias": rng.standard_normal(HW),
                "output.weight": rng.standard_normal((HW, CW)),
                "output.bias": rng.standard_normal(CW)},
        inputs=lambda r: (integers(VW, 6, WIN, repeated=True)(r),), differentiable=())


def _torch_window(p, ids):
    x = p["embedding.weight"][ids].reshape(ids.shape[0], -1)
    a = _torch().tanh(x @ p["hidden.weight"] + p["hidden.bias"])
    return a @ p["output.weight"] + p["output.bias"]


#: every sub-layer's method is the reference's, called back through the grader (swap-in): the
#: repeated gradient check makes thousands of such calls (7.5 s with 3 applications on a quiet
#: machine; 2 applications before backward already catch state kept on self)
WINDOW_TIMEOUT_S = 120.0
WINDOW_CHECKS = layer_checks("window_classifier", "window", "WindowClassifier", _window,
                             title="WindowClassifier", points=3.0, autograd=_torch_window,
                             timeout_s=WINDOW_TIMEOUT_S, repeat=2)

WINDOW_DROPOUT = 0.5


def _window_dropout(ctx: Context) -> LayerCase:
    return dataclasses.replace(_window(ctx), kwargs={"dropout": WINDOW_DROPOUT})


def _dropout_checks() -> list[Check]:
    """Dropout on the hidden activations, in training (the masks are drawn from the layer's
    seed and call count, so the reference draws the same) and in eval mode (none at all)."""
    made = layer_checks("window_classifier", "window", "WindowClassifier", _window_dropout,
                        title=f"WindowClassifier with dropout {WINDOW_DROPOUT}", points=1.0,
                        eval_mode=True, timeout_s=WINDOW_TIMEOUT_S)
    names = {"values": "dropout", "eval": "dropout_eval"}
    hint = ("apply self.dropout once per forward, to the hidden activations a = tanh(z) "
            "before the output layer, and back through it (with that call's cache) in "
            "backward; in eval mode it must change nothing")
    return [dataclasses.replace(_with_hint(c, hint), name=names[c.name], points=0.5)
            for c in made if c.name in names]


WINDOW_CHECKS += _dropout_checks()


# -- a real task: part-of-speech tagging (Collobert et al. 2011, the window approach) ----------
#: the quick budget: the first sentences of OANC's train and test splits, one epoch of Adam
TAGGING = {"train_sentences": 2000, "test_sentences": 1000}
TAGGER = {"dim": 50, "hidden": 100, "optimizer": "adam", "lr": 0.01, "epochs": 1,
          "batch_size": 128}


def window_shapes(vocab: int, window: int, classes: int, settings: dict
                  ) -> dict[str, tuple[int, ...]]:
    """The parameters of a :class:`WindowClassifier` of these sizes (the given names)."""
    d, h = settings["dim"], settings["hidden"]
    return {"embedding.weight": (vocab, d), "hidden.weight": (window * d, h),
            "hidden.bias": (h,), "output.weight": (h, classes), "output.bias": (classes,)}


#: each grading scores this share of the held-out windows, drawn from the run's input seed
HELDOUT_SHARE, PROBE_WINDOWS = 0.8, 500
#: a trained window model far above the reference under the same budget (four seeds of the
#: reference, each on its own held-out sample: tagging 0.826-0.833, ranking 0.731-0.737)
TOO_GOOD = ("far above what the reference reaches under the same budget: a model trained on "
            "more, or on the held-out windows, is not this run's training")


def _sample(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, max(1, int(share * n)), replace=False))


def tagger_plan(ctx: Context) -> TrainingPlan:
    """The given tagger loop (the instructor's) trains your window classifier, loss and Adam
    from the grader's initial parameters; the grader tags a fresh sample of the held-out
    windows (never sent to the worker) with the reference's forward."""
    from nlpdojo_autograder.topics.neural_networks_data import (
        most_frequent_tag_accuracy,
        tagging_data,
    )
    from nlpdojo_autograder.train import require_datasets

    require_datasets(["oanc-pos"])
    data = tagging_data("oanc-pos", **TAGGING)
    rng = np.random.default_rng([ctx.input_seed, 0x7A6])
    sample = _sample(len(data.test_tags), HELDOUT_SHARE, rng)
    probe = _sample(len(data.train_tags), PROBE_WINDOWS / len(data.train_tags), rng)
    tags = data.test_tags[sample]
    width = data.train_windows.shape[1]
    shapes = window_shapes(data.vocab_size, width, data.n_tags, TAGGER)

    def measure(scores: np.ndarray) -> dict[str, float]:
        if scores.shape != (tags.shape[0], data.n_tags):
            raise CheckFailure(f"the tagger gave scores of shape {scores.shape} for "
                               f"{tags.shape[0]} held-out windows and {data.n_tags} tags")
        return {"accuracy": float(np.mean(np.argmax(scores, axis=1) == tags))}

    return TrainingPlan(
        train=("tagger", "train_tagger_parameters"),
        train_args=(data.train_windows, data.train_tags),
        options={"vocab_size": data.vocab_size, "n_tags": data.n_tags, **TAGGER},
        shapes=shapes, init=initial_parameters(shapes, ctx.base_seed), seed=ctx.base_seed,
        score=("tagger", "window_scores"),
        score_options={"vocab_size": data.vocab_size, "n_classes": data.n_tags,
                       "dim": TAGGER["dim"], "hidden": TAGGER["hidden"]},
        heldout=data.test_windows[sample], probe=data.train_windows[probe], measure=measure,
        extra={"baseline": most_frequent_tag_accuracy(data, sample)})


def _train_tagger(ctx: Context) -> dict:
    return train_and_measure(ctx, tagger_plan(ctx))


TAGGING_CHECKS = metric_checks(
    "pos_tagging", "run", _train_tagger, [
        Metric("accuracy", "held-out tagging accuracy", 3.0, lambda ref: ref - 0.02,
               title="POS tagging of held-out OANC text", chance="baseline",
               chance_name="the most-frequent-tag baseline",
               too_good=(lambda ref: ref + 0.05, TOO_GOOD)),
    ], budget="OANC: 2,000 training sentences, 1 epoch of Adam (lr 0.01, batches of 128)",
    hint="the tagger trains your WindowClassifier with your SoftmaxCrossEntropy and Adam: "
         "their own checks say which one is wrong", timeout_s=300, audit=audit,
    release_expected=False, dtype="float64")



# -- a window scorer trained with the max-margin loss (notes part III; Collobert et al. 2011) ---
#: the quick budget: the tagging task's windows, one epoch of Adam, 5 corruptions per window
RANKING = {"train_sentences": 2000, "test_sentences": 1000, "corruptions": 5}
SCORER = {"dim": 50, "hidden": 100, "optimizer": "adam", "lr": 0.01, "epochs": 1,
          "batch_size": 128}
#: a scorer that cannot tell a true window from a corrupted one ranks half the pairs right
RANKING_CHANCE = 0.5


def scorer_plan(ctx: Context) -> TrainingPlan:
    """The given scorer loop trains your window classifier (one output), your MaxMargin and
    Adam from the grader's initial parameters; the grader draws the corrupted held-out windows
    and scores true and corrupted windows in one shuffled batch with the reference's forward."""
    from nlpdojo_autograder.topics.neural_networks_data import ranking_accuracy, ranking_data
    from nlpdojo_autograder.train import require_datasets

    require_datasets(["oanc-pos"])
    rng = np.random.default_rng([ctx.input_seed, 0x5C0])
    data = ranking_data("oanc-pos", seed=int(rng.integers(2**31)), **RANKING)
    sample = _sample(len(data.test_windows), HELDOUT_SHARE, rng)
    m, k, w = data.corrupted[sample].shape
    every = np.concatenate([data.test_windows[sample], data.corrupted[sample].reshape(m * k, w)])
    order = rng.permutation(len(every))  # one call: the scorer cannot tell which are true
    probe = _sample(len(data.train_windows), PROBE_WINDOWS / len(data.train_windows), rng)
    valid = data.valid[sample]
    vocab = int(data.noise.shape[0])
    shapes = window_shapes(vocab, w, 1, SCORER)

    def measure(scores: np.ndarray) -> dict[str, float]:
        if scores.shape != (len(every), 1):
            raise CheckFailure(f"the scorer gave scores of shape {scores.shape} for "
                               f"{len(every)} windows: the window classifier with "
                               "n_classes=1 must return scores of shape (N, 1)")
        back = np.empty(len(every))
        back[order] = scores[:, 0]  # the grader's order again
        return {"ranking": ranking_accuracy(back[:m], back[m:].reshape(m, k), valid)}

    return TrainingPlan(
        train=("scorer", "train_scorer_parameters"), train_args=(data.train_windows, data.noise),
        options={"vocab_size": vocab, **SCORER}, shapes=shapes,
        init=initial_parameters(shapes, ctx.base_seed), seed=ctx.base_seed,
        score=("tagger", "window_scores"),
        score_options={"vocab_size": vocab, "n_classes": 1, "dim": SCORER["dim"],
                       "hidden": SCORER["hidden"]},
        heldout=every[order], probe=data.train_windows[probe], measure=measure,
        extra={"chance": RANKING_CHANCE})


def _train_scorer(ctx: Context) -> dict:
    return train_and_measure(ctx, scorer_plan(ctx))


SCORING_CHECKS = metric_checks(
    "window_scoring", "run", _train_scorer, [
        Metric("ranking", "held-out ranking accuracy (true window above a corrupted one)",
               3.0, lambda ref: max(ref - 0.03, RANKING_CHANCE + 0.1),
               title="Max-margin window scorer on held-out OANC text", chance="chance",
               chance_name="chance (a scorer that cannot tell them apart)",
               too_good=(lambda ref: ref + 0.06, TOO_GOOD)),
    ], budget="OANC: 2,000 training sentences, 1 epoch of Adam (lr 0.01, batches of 128), "
              "each window against one corrupted copy; 5 corrupted copies per held-out window",
    hint="the scorer trains your WindowClassifier (one output) with your MaxMargin and Adam: "
         "their own checks say which one is wrong; a ranking near chance with a loss stuck at 0 "
         "means the margin is not 1 - s + s_c, a ranking below chance that the corrupted "
         "window's score is not pushed down", timeout_s=300, audit=audit,
    release_expected=False, dtype="float64")


CHECKS = [*ACTIVATION_CHECKS, *XAVIER_CHECKS, *LAYER_CHECKS, *LOSS_CHECKS, *L2_CHECKS,
          *OPTIMIZER_CHECKS, *SCHEDULE_CHECKS, *PREPROCESSING_CHECKS, *GRADCHECK_CHECKS,
          *WINDOW_CHECKS, *TAGGING_CHECKS, *SCORING_CHECKS]

ACT, LAYERS, LOSSES, OPTIM = (f"{LIB}.activations", f"{LIB}.layers", f"{LIB}.losses",
                              f"{LIB}.optim")
PLANTED_BUGS = [
    PlantedBug("sigmoid derivative without (1 - y)", ACT, "return grad_output * y * (1.0 - y)",
               "return grad_output * y", "sigmoid"),
    PlantedBug("sigmoid as e^z / (1 + e^z) everywhere: inf / inf for large z", ACT,
               "y = xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
               "y = xp.exp(x) / (1.0 + xp.exp(x))", "sigmoid"),
    PlantedBug("tanh derivative 1 - y", ACT, "return grad_output * (1.0 - y * y)",
               "return grad_output * (1.0 - y)", "tanh"),
    PlantedBug("hard tanh passes gradients above 1", ACT,
               "inside = (x > -1.0) & (x < 1.0)", "inside = x > -1.0", "hard_tanh"),
    PlantedBug("soft sign derivative not squared", ACT, "return grad_output / (d * d)",
               "return grad_output / d", "soft_sign"),
    PlantedBug("relu passes every gradient", ACT,
               "return self.xp.where(x > 0, grad_output, 0.0 * grad_output)",
               "return grad_output * 1.0", "relu"),
    PlantedBug("leaky relu forgets its slope in backward", ACT,
               "return self.xp.where(x > 0, grad_output, self.negative_slope * grad_output)",
               "return self.xp.where(x > 0, grad_output, 0.0 * grad_output)", "leaky_relu"),
    PlantedBug("Xavier bound from fan_in alone", f"{LIB}.init",
               "bound = math.sqrt(6.0 / (fan_in + fan_out))", "bound = math.sqrt(1.0 / fan_in)",
               "xavier"),
    PlantedBug("weight gradient transposed", LAYERS,
               "xp.matmul(xp.matrix_transpose(x), grad_output)",
               "xp.matmul(xp.matrix_transpose(grad_output), x)", "affine"),
    PlantedBug("bias gradient averaged over the batch", LAYERS,
               "xp.sum(grad_output, axis=0)  # (D_out,)", "xp.mean(grad_output, axis=0)",
               "affine"),
    PlantedBug("dropout not rescaled", LAYERS,
               "mask = self.keep_mask(tuple(x.shape)) / (1.0 - self.p)",
               "mask = self.keep_mask(tuple(x.shape))", "dropout"),
    PlantedBug("dropout still active in eval mode", LAYERS,
               "if not self.training or self.p == 0.0:", "if self.p == 0.0:", "dropout"),
    PlantedBug("embedding rows of repeated words overwritten", LAYERS,
               "self.backend.scatter_add(self.weight.grad, flat, xp.reshape(grad_output, (-1, d)))",
               "self.weight.grad[flat] = self.weight.grad[flat] + xp.reshape(grad_output, (-1, d))",
               "embedding"),
    PlantedBug("embedding gradient overwritten, not accumulated", LAYERS,
               "self.backend.scatter_add(self.weight.grad, flat,",
               "self.weight.grad = xp.zeros_like(self.weight.data)\n"
               "        self.backend.scatter_add(self.weight.grad, flat,", "embedding"),
    PlantedBug("softmax cross-entropy without max-subtraction", LOSSES,
               "shifted = block - xp.max(block, axis=1, keepdims=True)",
               "shifted = block", "softmax_ce"),
    PlantedBug("max-margin hinge counts the true window", LOSSES,
               "hinge = (self.margin - true + prediction) * (1.0 - onehot)",
               "hinge = self.margin - true + prediction", "max_margin"),
    PlantedBug("max-margin gradient of the corrupted window dropped", LOSSES,
               "return (active - onehot * violated) * (grad_output / n)  # (N, K)",
               "return -(onehot * violated) * (grad_output / n)", "max_margin"),
    PlantedBug("max-margin margin sign flipped", LOSSES,
               "hinge = (self.margin - true + prediction) * (1.0 - onehot)",
               "hinge = (-self.margin - true + prediction) * (1.0 - onehot)", "max_margin"),
    PlantedBug("L2 applied to biases", f"{LIB}.regularization", "if w.ndim >= 2:",
               "if w.ndim >= 1:", "l2"),
    PlantedBug("SGD ascends", OPTIM, "p.data = p.data - self.lr * p.grad\n",
               "p.data = p.data + self.lr * p.grad\n", "sgd"),
    PlantedBug("momentum keeps no velocity", OPTIM, 'state["velocity"] = v',
               'state["velocity"] = p.grad', "momentum"),
    PlantedBug("Adagrad forgets past gradients", OPTIM,
               'total = state.get("sum", 0.0) + p.grad * p.grad', "total = p.grad * p.grad",
               "adagrad"),
    PlantedBug("RMSProp average not leaky", OPTIM, "+ (1.0 - self.alpha) * p.grad * p.grad",
               "+ p.grad * p.grad", "rmsprop"),
    PlantedBug("Adam without bias correction", OPTIM,
               "m_hat = m / (1.0 - self.beta1 ** t)  # (same shape as p)\n"
               "            v_hat = v / (1.0 - self.beta2 ** t)",
               "m_hat = m\n            v_hat = v", "adam"),
    PlantedBug("1/t schedule from step 1", f"{LIB}.schedules", "return lr0 * tau / max(t, tau)",
               "return lr0 * tau / max(t, 1)", "schedules"),
    PlantedBug("normalize only subtracts the mean", "preprocessing",
               "return (x - mean) / std  # (N, D)", "return x - mean", "normalize"),
    PlantedBug("window classifier skips the activation's backward", "window",
               "grad_z = self.activation.backward(grad_a, c_act)", "grad_z = grad_a",
               "window_classifier"),
    PlantedBug("window classifier leaves dropout out", "window",
               "kept, c_drop = self.dropout(a)  # (N, H)  the identity in eval mode",
               "kept, c_drop = a, (None,)", "window_classifier"),
    PlantedBug("statistics computed on the test split", "preprocessing",
               "mean, std = fit_normalizer(train)", "mean, std = fit_normalizer(test)",
               "preprocess_splits"),
    PlantedBug("whitening keeps ascending eigenvalues", "preprocessing",
               "eigenvalues, vectors = xp.flip(eigenvalues), xp.flip(vectors, axis=1)",
               "pass", "whitening"),
    PlantedBug("gradient checker uses relative error only", "gradcheck",
               "ok = (relative < rtol) | (error < atol)", "ok = relative < rtol", "gradcheck"),
    PlantedBug("one-sided differences", "gradcheck",
               "flat[i] = old - h", "flat[i] = old", "gradcheck"),
]

EXERCISE = Exercise(
    name="neural_networks",
    order=2,
    title="Neural networks: backpropagation and the training toolbox",
    checks=CHECKS,
    questions=QUESTIONS,
    fixtures=Path(__file__).parent / "fixtures" / "neural_networks",
    planted_bugs=PLANTED_BUGS,
    given_modules=("toy_functions", "tagger", "scorer"),
    requires={"affine": ("xavier",),
              "window_classifier": ("embedding", "affine", "tanh", "dropout"),
              "preprocess_splits": ("normalize", "whitening")},
    datasets={"pos_tagging": ("oanc-pos",), "window_scoring": ("oanc-pos",)},
    # the tagger and the scorer train the student's own classifier, loss and optimizer
    integrative=("pos_tagging", "window_scoring"),
)
