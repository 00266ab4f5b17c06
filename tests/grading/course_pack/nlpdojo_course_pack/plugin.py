"""Registers the two topics of the toy course, their checks made by the check builders."""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring.builders import (
    LayerCase,
    LossCase,
    Metric,
    OptimizerCase,
    layer_checks,
    loss_checks,
    metric_checks,
    optimizer_checks,
)
from nlpdojo_autograder.authoring.checks import Exercise

LIBRARY = "..library.layers"


def _affine(ctx) -> LayerCase:
    rng = ctx.rng()
    return LayerCase(args=(ctx.backend, 4, 3), params={
        "weight": rng.standard_normal((4, 3)), "bias": rng.standard_normal(3)},
        inputs=lambda r: (r.standard_normal((5, 4)),))


def _affine_torch(params, x):
    return x @ params["weight"] + params["bias"]


def _mse(ctx) -> LossCase:
    rng = ctx.rng()
    return LossCase(prediction=rng.standard_normal((6, 2)), target=rng.standard_normal((6, 2)))


def _mse_torch(prediction, target):
    import torch

    return ((prediction - torch.as_tensor(target)) ** 2).sum() / prediction.shape[0]


def _regressor(ctx) -> LayerCase:
    rng = ctx.rng()
    return LayerCase(args=(ctx.backend, 4, 6), params={
        "layers.0.weight": rng.standard_normal((4, 6)), "layers.0.bias": rng.standard_normal(6),
        "layers.2.weight": rng.standard_normal((6, 1)), "layers.2.bias": rng.standard_normal(1)},
        inputs=lambda r: (r.standard_normal((5, 4)),))


LAYERS = Exercise(
    name="layers", title="Layers of the toy course",
    questions={"affine": "An affine layer", "mse": "Mean squared error",
               "momentum": "SGD with momentum"},
    checks=[
        *layer_checks("Affine", _affine,
                      question="affine", module=LIBRARY, title="Affine", points=4.0,
                      torch=_affine_torch, at_scale=None),  # a toy pack: no case at scale
        *loss_checks("MSE", _mse,
                     question="mse", module="..library.losses", title="MSE", points=2.0,
                     torch=_mse_torch),
        *optimizer_checks("Momentum",
                          OptimizerCase(kwargs={"lr": 0.1, "momentum": 0.9},
                                        torch=("SGD", {"lr": 0.1, "momentum": 0.9})),
                                            question="momentum", module="..library.optim",
                          title="Momentum", points=2.0),
    ],
    reference="nlpdojo_course_pack.solutions.layers",
    fixtures=Path(__file__).parent / "fixtures" / "layers")

def _fit(ctx) -> dict:
    """Train the student's regressor (the given loop: the instructor's copy) on a synthetic
    regression task drawn by the grader."""
    import numpy as np

    rng = np.random.default_rng(ctx.base_seed)
    x = rng.standard_normal((64, 4))
    y = np.sin(x @ rng.standard_normal((4, 1)))
    loss = ctx.given_function("train", "fit")(ctx.backend, x, y, seed=ctx.base_seed)
    # the floor: the MSE of a regressor that predicts 0 everywhere, untrained
    return {"loss": float(loss), "predicting_zero": float(np.mean(y ** 2))}


MODELS = Exercise(
    name="models", title="Models of the toy course",
    questions={"regressor": "A two-layer regressor"},
    requires={"regressor": ("layers.affine", "layers.mse", "layers.momentum")},
    checks=[*layer_checks("Regressor", _regressor,
                          question="regressor", module="regressor", title="Regressor",
                          points=4.0, at_scale=None),
            *metric_checks("fit", _fit, [
                Metric("loss", "training MSE", 1.0, lambda ref: 1.5 * ref + 0.01,
                       higher_is_better=False, chance="predicting_zero")],
                           question="regressor", budget="150 full-batch steps, lr 0.05",
                timeout_s=60.0)],
    given_modules=("train",),
    reference="nlpdojo_course_pack.solutions.models",
    fixtures=Path(__file__).parent / "fixtures" / "models")


@hookimpl
def register_exercises(register):
    register("layers", LAYERS)
    register("models", MODELS)



