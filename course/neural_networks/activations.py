"""Activations (CS224n lecture 3, notes part III): sigmoid, tanh, hard tanh, soft sign, ReLU
and leaky ReLU as layers of the course library, each forward and backward against the
reference and torch's autograd, on inputs kept away from the kinks, and those with kinks
(ReLU, leaky ReLU, hard tanh) also exactly at them, where the derivative is the docstring's
convention; the sigmoid also on scores where a naive formula overflows (with overflow raised:
no inf on the way)."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    Check,
    CheckFailure,
    Context,
    Question,
    Saturated,
    layer_checks,
    run_layer,
    value_check,
    with_hint,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.authoring.inputs import draw, setting, settled
from nlpdojo_course.neural_networks.common import functional, torch


def _away_from_kinks(x: np.ndarray) -> np.ndarray:
    """Inputs at least 1e-3 from 0 and ±1, where hard tanh and the ReLUs have kinks (central
    differences straddling a kink are not the derivative)."""
    for kink in (-1.0, 0.0, 1.0):
        near = np.abs(x - kink) < 1e-3
        x = np.where(near, kink + np.where(x >= kink, 2e-3, -2e-3), x)
    return x


def _scores(r: np.random.Generator, drawn=None) -> np.ndarray:
    """An activation's (4, 5) inputs: 2·N(0, 1), away from the kinks."""
    return _away_from_kinks(2.0 * r.standard_normal((4, 5)))


def _saturating_scores(r: np.random.Generator, drawn=None) -> np.ndarray:
    """:func:`_scores` with a third of them past the overflow of exp, ±750..1000, at places
    drawn per grading."""
    x = _scores(r)  # (4, 5)
    far = r.random(x.shape) < 1 / 3
    far.flat[:2] = True  # one each way, at least
    sign = np.where(np.arange(x.size).reshape(x.shape) % 2 == 0, 1.0, -1.0)
    return np.where(far, sign * r.uniform(750.0, 1000.0, x.shape), x)


SATURATING_CASE = layer_case(inputs=(draw(_saturating_scores),))


@question_builder
def _activation(cls: str, torch_fn, *, question: str, module: str, kwargs=None,
                points: float = 1.0, kinks: tuple[float, ...] = (),
                convention: str = "", saturates: tuple[str, ...] = ()) -> list[Check]:
    """The layer checks of an activation (its question's and module's, completed by the
    ``Question`` it is declared in); with ``kinks``, 0.2 of its ``points`` go to a check
    exactly at them (:func:`_at_kinks`), where the derivative is the docstring's
    ``convention``. ``kwargs``: the constructor's, each a value or a setting drawn per
    grading (passed to ``torch_fn`` too). ``saturates``: the nonlinearities a naive formula
    of it overflows in (``("tanh",)``), checked past that overflow (:data:`SATURATING_CASE`)."""
    share = 0.2 if kinks else 0.0
    kwargs = kwargs or {}
    checks = layer_checks(cls, layer_case(kwargs=kwargs, torch_kwargs=kwargs,
                                          inputs=(draw(_scores),)),
                          question=question, module=module, title=cls,
                          points=round(points - share, 6),
                          torch=lambda p, x, **settings: torch_fn(x, **settings),
                          parameters=False, saturated=Saturated(SATURATING_CASE, saturates)
                          if saturates else None)
    if kinks:
        checks.append(with_hint(value_check(
            "kinks", f"{cls} exactly at its kinks ({', '.join(map(str, kinks))})",
            share, lambda ctx: _at_kinks(ctx, cls, kinks, kwargs),
                question=question),
            f"the inputs were exactly at the kinks, where the derivative is a convention: "
            f"{convention}, as the docstring says (and torch does); the other checks keep "
            "their inputs away from the kinks"))
    return checks


def _at_kinks(ctx: Context, cls: str, kinks: tuple[float, ...], kwargs: dict) -> dict:
    """Forward and backward of ``cls`` on its kinks among four inputs away from them, in an
    order and with an upstream gradient (never 1, different at every input) drawn per
    grading: fixed inputs were answered from a table of them (0.2 points a question).
    ``kwargs``: the constructor's, each setting drawn per grading drawn here."""
    kwargs = {k: settled(ctx, v) for k, v in kwargs.items()}
    rng = ctx.rng()
    others = _away_from_kinks(rng.uniform(-3.0, 3.0, 4))
    x = rng.permutation(np.concatenate([kinks, others]))[None]  # (1, n)
    grad = rng.choice([-1.0, 1.0], x.shape) * rng.uniform(0.5, 3.0, x.shape)  # (1, n)
    return run_layer(ctx, cls, (ctx.backend,), x, grad, kwargs=kwargs)


def _sigmoid_stability(ctx: Context):
    """σ of inputs near ±800 (e^800 overflows to inf unless the formula avoids it), ±30 and
    0, drawn per grading in an order of their own."""
    rng = ctx.rng()
    big, mid = rng.uniform(750.0, 1000.0, 2), rng.uniform(20.0, 40.0, 2)
    x = rng.permutation([-big[0], -mid[0], rng.uniform(-1.0, 1.0), mid[1], big[1]])[None]
    # with overflow raised: 1 / (1 + e^800) is a finite 0 after an inf on the way
    y = run_layer(ctx, "Sigmoid", (ctx.backend,), x, np.ones_like(x), stable=True)["output"]
    if not np.all(np.isfinite(y)):
        raise CheckFailure(f"sigmoid of {x.tolist()[0]} gave {y.tolist()[0]}: e^(-z) overflows "
                           "for large negative z; use e^z / (1 + e^z) there (the same value)")
    return {"output": y}


SIGMOID = Question(
    "sigmoid", "Sigmoid layer", code="library/activations",
    checks=[
        _activation("Sigmoid", lambda x: torch().sigmoid(x), points=0.8),
        value_check("stability", "Sigmoid of inputs near ±800", 0.2,
                    _sigmoid_stability),
    ])

TANH = Question(
    "tanh", "Tanh layer", code="library/activations",
    checks=_activation("Tanh", lambda x: torch().tanh(x), saturates=("tanh",)))

HARD_TANH = Question(
    "hard_tanh", "Hard tanh layer", code="library/activations",
    checks=_activation("HardTanh", lambda x: functional().hardtanh(x),
                       kinks=(-1.0, 1.0, 0.0),
                       convention="hardtanh'(-1) = hardtanh'(1) = 0 (1 only strictly inside)"))

SOFT_SIGN = Question(
    "soft_sign", "Soft sign layer", code="library/activations",
    checks=_activation("SoftSign", lambda x: functional().softsign(x)))

RELU = Question(
    "relu", "ReLU layer", code="library/activations",
    checks=_activation("ReLU", lambda x: functional().relu(x), kinks=(0.0,),
                       convention="relu'(0) = 0 (1 only for z > 0)"))

LEAKY_RELU = Question(
    "leaky_relu", "Leaky ReLU layer", code="library/activations",
    checks=_activation("LeakyReLU",
                       lambda x, negative_slope: functional().leaky_relu(x, negative_slope),
                       # the slope drawn per grading: a slope written in fails
                       kwargs={"negative_slope": setting(0.05, 0.4)},
                       kinks=(0.0,),
                       convention="leaky'(0) = k, the negative slope (1 only for z > 0)"))

QUESTIONS = [SIGMOID, TANH, HARD_TANH, SOFT_SIGN, RELU, LEAKY_RELU]
