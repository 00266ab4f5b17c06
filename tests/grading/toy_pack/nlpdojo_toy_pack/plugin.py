"""Registers exercise ``toy``: value, gradient, metric and custom checks over two questions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring.checks import Exercise, PlantedBug, Verdict
from nlpdojo_autograder.authoring.kinds import (
    GradientProblem,
    custom_check,
    gradient_check,
    metric_check,
    value_check,
)


def _scale_values(ctx):
    x = ctx.rng().standard_normal((3, 4))
    out = ctx.function("scale", "scale")(ctx.asarray(x), 3.0)
    return {"out": ctx.to_numpy(out, "scale(x, 3)")}


def _quadratic_values(ctx):
    rng = ctx.rng()
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    f = ctx.function("quadratic", "quadratic_loss_and_gradient")
    loss, grad = ctx.unpack(f(ctx.asarray(W), ctx.asarray(x)), ["loss", "grad_W"],
                            "quadratic_loss_and_gradient")
    # the contract returns the loss as a Python number, as CS224n's float(loss) does
    return {"loss": ctx.to_numpy(loss, "loss", number=True),
            "grad_W": ctx.to_numpy(grad, "grad_W")}


def _quadratic_problem(ctx):
    rng = ctx.rng()
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    f = ctx.function("quadratic", "quadratic_loss_and_gradient")
    _, grad = f(ctx.asarray(W), ctx.asarray(x))
    return GradientProblem(
        loss=lambda p: float(f(ctx.asarray(p["W"]), ctx.asarray(x))[0]),
        point={"W": W}, analytic={"W": grad})


def _descent(ctx):
    """Metric: gradient descent with the student's gradient reduces the loss."""
    rng = ctx.rng()
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)
    f = ctx.function("quadratic", "quadratic_loss_and_gradient")
    first = None
    for _ in range(20):
        loss, grad = f(ctx.asarray(W), ctx.asarray(x))
        first = first if first is not None else float(loss)
        W = W - 0.01 * ctx.to_numpy(grad)
    # the floor: a descent that does nothing reduces the loss by 0
    return {"value": float(first - float(f(ctx.asarray(W), ctx.asarray(x))[0])) / first,
            "standing_still": 0.0}


def _writes_file(ctx):
    path = ctx.workdir / "out.txt"
    out = ctx.function("scale", "scale")(ctx.asarray(np.ones(2)), 2.0)
    path.write_text(str(ctx.to_numpy(out).tolist()))
    return {"exists": path.exists(), "text": path.read_text() if path.exists() else ""}


CHECKS = [
    value_check("values", "scale(x, k) on random input", 1.0, _scale_values, question="scale"),
    value_check("values", "loss and gradient values", 2.0, _quadratic_values, question="quadratic",
                swap_in=("scale",)),
    gradient_check("gradient", "dL/dW by central differences", 2.0,
                   _quadratic_problem, question="quadratic", swap_in=("scale",)),
    metric_check("descent", "gradient descent reduces the loss", 1.0, _descent,
                 question="quadratic",
                 metric="relative loss reduction", threshold=lambda ref: 0.9 * ref,
                 budget="20 steps, lr 0.01", swap_in=("scale",), chance="standing_still"),
    value_check("hidden", "hidden values (another seed)", 1.0, _quadratic_values,
                question="quadratic",
                hidden=True, swap_in=("scale",)),
    custom_check("workdir", "a check may write files in its scratch folder", 0.5,
                 _writes_file, question="scale", judge=lambda a, e: Verdict(
                     bool(a["exists"]) and e is not None and a["text"] == e["text"],
                     "file written"), needs_expected=True),
]


@hookimpl
def register_exercises(register):
    register("toy", Exercise(
        name="toy", title="Toy exercise pack", checks=CHECKS,
        questions={"scale": "Scaling", "quadratic": "A quadratic loss"},
        reference="nlpdojo_toy_pack.solutions.toy",
        fixtures=Path(__file__).parent / "fixtures" / "toy",
        planted_bugs=[
            PlantedBug("scale adds", "scale", "xp.multiply(x, k)", "xp.add(x, k)", "scale"),
            PlantedBug("gradient doubled", "quadratic", "grad = 2.0 *", "grad = 4.0 *",
                       "quadratic"),
        ]))
