"""Registers the two topics of the toy course, their checks made by the check builders."""

from __future__ import annotations

from pathlib import Path

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.builders import (
    LayerCase,
    LossCase,
    OptimizerCase,
    layer_checks,
    loss_checks,
    optimizer_checks,
)
from nlpdojo_autograder.checks import Exercise

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
        *layer_checks("affine", LIBRARY, "Affine", _affine, title="Affine", points=4.0,
                      autograd=_affine_torch),
        *loss_checks("mse", "..library.losses", "MSE", _mse, title="MSE", points=2.0,
                     autograd=_mse_torch),
        *optimizer_checks("momentum", "..library.optim", "Momentum",
                          OptimizerCase(kwargs={"lr": 0.1, "momentum": 0.9},
                                        torch=("SGD", {"lr": 0.1, "momentum": 0.9})),
                          title="Momentum", points=2.0),
    ],
    reference="nlpdojo_course_pack.solutions.layers",
    fixtures=Path(__file__).parent / "fixtures" / "layers")

MODELS = Exercise(
    name="models", title="Models of the toy course",
    questions={"regressor": "A two-layer regressor"},
    requires={"regressor": ("layers.affine",)},
    checks=layer_checks("regressor", "regressor", "Regressor", _regressor, title="Regressor",
                        points=4.0),
    reference="nlpdojo_course_pack.solutions.models",
    fixtures=Path(__file__).parent / "fixtures" / "models")


@hookimpl
def register_exercises(register):
    register("layers", LAYERS)
    register("models", MODELS)



