"""Losses and regularization (CS224n lecture 3, notes part III): softmax cross-entropy (stable
on large scores), the max-margin loss of the window scorer (hinges summed over the classes, as
the notes write it), and the L2 penalty of the weights with its gradients."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    CheckFailure,
    Context,
    GradientProblem,
    Question,
    gradient_check,
    loss_checks,
    settings_rng,
    value_check,
)
from nlpdojo_autograder.authoring.builders.loss import loss_case
from nlpdojo_autograder.authoring.inputs import Draw, integers, normal, setting
from nlpdojo_course.neural_networks.common import functional, torch

# -- softmax cross-entropy ---------------------------------------------------------------------
#: row 0 around 1000: e^1000 overflows unless the max is subtracted; row 1's class 0 at 800,
#: its target another class, whose probability e^-800 underflows to 0: the loss must be the
#: log-sum-exp's, not a log of the softmax (log 0, or a log(p + eps) capped at 27.6, kept 2 of 2
#: where every class of row 0 was around 1000: a student trial)
_SCORES_AT = np.zeros((6, 5))
_SCORES_AT[0], _SCORES_AT[1, 0] = 1000.0, 800.0


def _targets_below_the_max(ctx: Context, rng: np.random.Generator, drawn: dict) -> np.ndarray:
    """Targets of the 6 rows in [0, 5), row 1's never its class 0 (800 above the others)."""
    targets = rng.integers(0, 5, 6)
    targets[1] = 1 + targets[1] % 4
    return targets


_softmax_ce = loss_case(normal(6, 5, loc=_SCORES_AT, scale=3.0), Draw(_targets_below_the_max))


SOFTMAX_CE = Question(
    "softmax_ce", "Softmax cross-entropy", code="library/losses",
    checks=loss_checks("SoftmaxCrossEntropy", _softmax_ce, title="SoftmaxCrossEntropy",
                       points=2.0, stable=True,
                       torch=lambda p, t: functional().cross_entropy(p, torch().as_tensor(t))))


# -- max-margin --------------------------------------------------------------------------------
#: the margin drawn per grading (a margin written in fails)
_max_margin = loss_case(normal(8, 3), integers(3, 8), margin=setting(0.3, 2.0))


def _torch_max_margin(prediction, target, margin):
    # torch averages the hinges over the classes too; the notes sum them
    return functional().multi_margin_loss(prediction, torch().as_tensor(target),
                                          margin=margin) * prediction.shape[1]


MAX_MARGIN = Question(
    "max_margin", "Max-margin loss", code="library/losses",
    checks=loss_checks("MaxMargin", _max_margin, title="MaxMargin", points=2.0,
                       torch=_torch_max_margin))


# -- L2 ----------------------------------------------------------------------------------------
def _lambda(ctx: Context) -> float:
    """λ, drawn per grading (a λ written in fails)."""
    return float(f"{settings_rng(ctx).uniform(0.005, 0.1):.3g}")


#: the names a 1-D scale of the L2 check may have, one drawn per grading
L2_SCALE_NAMES = ("ln.weight", "gain", "layer_scale", "bn.gamma", "attention.temperature")


def _l2_params(ctx: Context) -> dict[str, np.ndarray]:
    rng = ctx.rng()
    # 1-D parameters that are not biases (a normalization layer's scale), one of them named
    # per grading, and a 2-D weight named as a normalization's: the docstring's weights are
    # the arrays of two or more dimensions (a test by name, "bias" not in it, regularized
    # norm.weight and kept 1 of 1: a student trial; "bias" and "norm" not in it kept 1 of 1
    # while the names were fixed: an adversarial trial)
    scale = L2_SCALE_NAMES[int(settings_rng(ctx).integers(len(L2_SCALE_NAMES)))]
    return {"embedding.weight": rng.standard_normal((5, 2)),
            "hidden.weight": rng.standard_normal((4, 3)), "hidden.bias": rng.standard_normal(3),
            "output.bias": rng.standard_normal(2), "norm.weight": rng.standard_normal(3),
            scale: rng.standard_normal(4), "norm.projection": rng.standard_normal((3, 2))}


def _l2_call(ctx: Context, params: dict[str, np.ndarray]):
    result = ctx.function("l2_penalty")(
        {n: ctx.asarray(v) for n, v in params.items()}, _lambda(ctx))
    ctx.require_arrays("l2_penalty", {"0": "the penalty"})
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


L2 = Question(
    "l2", "L2 regularization of the weights", code="library/regularization",
    checks=[
        value_check("values", "L2 penalty and its gradients (arrays of two or more "
                    "dimensions; biases and a normalization's 1-D scale not)", 0.6,
                    _l2_values),
        gradient_check("gradients", "L2 gradients by central differences", 0.4,
                       _l2_gradient),
    ])

QUESTIONS = [SOFTMAX_CE, MAX_MARGIN, L2]
