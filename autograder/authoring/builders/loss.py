"""A loss, checked (:func:`loss_checks`): its value (a 0-d array) and dL/d(prediction)
against the reference and by central differences, vectorized, its backward derived and
scaled by the upstream gradient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.builders.cases import BATCH_FACTOR, _batch, _varied
from nlpdojo_autograder.authoring.builders.points import _share
from nlpdojo_autograder.authoring.builders.vectorization import (
    _backward_lines_rule,
    _reference_lines,
    _same_when_traced,
    counted_lines,
    require_not_growing,
)
from nlpdojo_autograder.authoring.builders.wire import _send, stable_call
from nlpdojo_autograder.authoring.checks import Check, CheckFailure, Payload
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.authoring.inputs import Draw, settled
from nlpdojo_autograder.authoring.kinds import GradientProblem, gradient_check, value_check


# -- losses ------------------------------------------------------------------------------------
@dataclass
class LossCase:
    """A loss's inputs: ``prediction`` (floats, gets the gradient) and ``target``;
    ``args`` build the loss (default: the backend alone)."""

    prediction: np.ndarray
    target: np.ndarray
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: keyword arguments of the question's ``torch`` loss: the settings drawn for this case
    #: (a margin), which the torch loss needs as the loss does
    torch_kwargs: dict[str, Any] = field(default_factory=dict)


def loss_case(prediction: Draw, target: Draw, **settings: Any) -> Callable[[Context], LossCase]:
    """A loss check's case declared as data: ``prediction`` and ``target`` drawn in that order
    from ``ctx.rng()`` (:mod:`~nlpdojo_autograder.authoring.inputs`' draws: ``normal(8, 3)``,
    ``integers(3, 8)``, ``draw(f)`` for scores of a distribution of their own); ``settings``:
    the loss's keyword arguments, each also given to the torch loss (``torch_kwargs``), a
    setting drawn per grading given as ``setting(0.3, 2.0)`` (a margin written in fails)."""
    def case(ctx: Context) -> LossCase:
        rng = ctx.rng()
        drawn = {name: settled(ctx, value) for name, value in settings.items()}
        return LossCase(prediction=prediction(rng), target=target(rng), kwargs=drawn,
                        torch_kwargs=dict(drawn))

    return case


def _loss_args(ctx: Context, case: LossCase) -> tuple:
    """The loss's constructor arguments: the backend unless the case says otherwise."""
    return tuple(case.args) if case.args else (ctx.backend,)


LOSS_SHARES = {"values": 0.4, "hidden": 0.2, "gradients": 0.4}


#: the upstream gradient dJ/dL a loss's values check also backpropagates (a loss inside a
#: larger objective, a weighted sum of losses): not 1, exact in binary, of either sign's
#: magnitude a factor off
UPSTREAM_SCALE = -2.5


def _require_loss_vectorized(ctx: Context, module: str, cls: str, case: LossCase) -> None:
    """As :func:`_require_batch_vectorized`, for a loss: the lines of Python of one forward and
    backward (probe ``loss_run``) on the prediction and target, and on a batch
    :data:`BATCH_FACTOR` times as large (the targets repeated, the predictions each time
    varied: :func:`_batch`), must be as many."""
    token = ctx.function(module, cls)
    lines = [counted_lines(
        ctx, f"{cls}.forward and .backward", ctx.probe("loss_run"),
        lambda factor=factor: [token, _loss_args(ctx, case), case.kwargs,
                               ctx.asarray(_batch(ctx, factor,
                                                  lambda r: _varied(case.prediction, r))),
                               _send(ctx, _batch(ctx, factor, lambda r: case.target))],
        {}, root_of=token) for factor in (1, BATCH_FACTOR)]
    rows = len(case.prediction) if np.ndim(case.prediction) else 1
    if lines[1] - lines[0] >= (BATCH_FACTOR - 1) * rows:
        raise CheckFailure(
            f"{cls}.forward and .backward, one call of each, run {lines[0]:,} lines of Python "
            f"in all for a batch of {rows} and {lines[1]:,} for a batch of "
            f"{BATCH_FACTOR * rows}: a Python loop over the batch (a for loop, a "
            "comprehension) in one of them or both. A loss is vectorized over the batch: "
            "whole-array operations on the (N, C) scores (a one-hot mask, xp.take_along_axis, "
            "xp.sum(..., axis=1)) instead of a loop over the examples")
    _require_classes_vectorized(ctx, cls, case, token)


#: the offset of the generator of the wider scores of the classes rule
CLASSES_OFFSET = 0xC1A5


def _require_classes_vectorized(ctx: Context, cls: str, case: LossCase, token: Any) -> None:
    """The same for the classes, where the prediction is (N, C) scores and the target N class
    ids: as many lines of Python on :data:`BATCH_FACTOR` times the classes (the scores
    widened by varied copies, the targets as they are). The batch rule never varied C: a loop
    over the classes (a max, a sum of exponentials, a one-hot column at a time) earned full
    marks (an attacker's softmax cross-entropy and max-margin loss); in a language model the
    classes are the vocabulary."""
    target = np.asarray(case.target)
    if np.ndim(case.prediction) != 2 or target.ndim != 1 or target.dtype.kind not in "iu":
        return
    rng = ctx.rng(CLASSES_OFFSET)
    wide = np.concatenate([case.prediction, *(_varied(case.prediction, rng)
                                              for _ in range(BATCH_FACTOR - 1))], axis=1)
    lines = [counted_lines(
        ctx, f"{cls}.forward and .backward", ctx.probe("loss_run"),
        lambda scores=scores: [token, _loss_args(ctx, case), case.kwargs, ctx.asarray(scores),
                               _send(ctx, case.target)],
        {}, root_of=token) for scores in (case.prediction, wide)]
    require_not_growing(cls, lines, case.prediction.shape[1], "classes", (
        "A loss is vectorized over the classes too (in a language model they are the "
        "vocabulary): xp.max(..., axis=1), xp.sum(xp.exp(...), axis=1), a one-hot mask"))


def _require_derived_loss_backward(ctx: Context, module: str, cls: str, case: LossCase,
                                   untraced: Any) -> None:
    """As :func:`_require_derived_backward`, for a loss (probe
    ``loss_forward_backward_lines``): its backward must not run the forward's lines again
    and again, and must give while counted the gradient it gives uncounted (``untraced``)."""
    call = (ctx.function(module, cls), _loss_args(ctx, case), case.kwargs,
            ctx.asarray(case.prediction), _send(ctx, case.target))
    counted = ctx.probe("loss_forward_backward_lines")(*call)
    _backward_lines_rule(cls, counted, _reference_lines(ctx, "loss_forward_backward_lines",
                                                        *call))
    _same_when_traced(ctx, cls, counted.get("grad"), untraced)


def _require_own_cache(cls: str, grad: np.ndarray, interleaved: np.ndarray, *,
                       order: str = "first") -> None:
    """``interleaved`` (backward with one forward's cache, after a second forward on other
    scores: the first's, or with ``order="second"`` the second's, taken before the first's)
    must be ``grad`` (that forward's own gradient): what backward needs is in the cache each
    forward returns (a softmax's probabilities kept on self gave the later forward's gradient
    and kept 2 of 2 where every check ran forward then backward: a student trial; a queue on
    self answered the first order: an adversarial trial)."""
    if interleaved.shape == grad.shape and np.allclose(interleaved, grad, rtol=1e-9,
                                                       atol=1e-12):
        return
    which = ("the cache of a first forward, called after a second forward on other scores, "
             "did not return the first forward's gradient" if order == "first" else
             "the cache of a second forward, called before the first forward's backward, did "
             "not return the second forward's gradient")
    raise CheckFailure(f"{cls}.backward with {which}: it reads something kept on self (the "
                       "latest forward's state, or a queue of them). Keep what backward needs "
                       "in the cache forward returns, one per call: a loss may be applied to "
                       "several batches before their backwards run, in any order (each time "
                       "step of an RNN, backpropagated in reverse)")


def _require_scaled(cls: str, grad: np.ndarray, scaled: np.ndarray) -> None:
    """``scaled`` (backward with ``grad_output=UPSTREAM_SCALE``) must be that multiple of
    ``grad`` (with ``grad_output=1.0``): the chain rule, dJ/dprediction = dJ/dL · dL/dprediction.
    """
    if scaled.shape == grad.shape and np.allclose(scaled, UPSTREAM_SCALE * grad, rtol=1e-6,
                                                  atol=1e-12):
        return
    if scaled.shape == grad.shape and np.allclose(scaled, grad, rtol=1e-6, atol=1e-12):
        how = "returned the same gradient as with grad_output=1.0: it ignores grad_output"
    else:
        how = f"did not return {UPSTREAM_SCALE} × its gradient at grad_output=1.0"
    raise CheckFailure(f"{cls}.backward called with grad_output={UPSTREAM_SCALE} {how}. "
                       "grad_output is dJ/dL, the gradient of the whole objective with respect "
                       "to this loss (1.0 only when the loss is the objective itself; a "
                       "weighted sum of losses passes each its weight): multiply the gradient "
                       "by grad_output")


@question_builder
def loss_checks(cls: str, make: Callable[[Context], LossCase], *, question: str | None = None,
                module: str | None = None, title: str, points: float, hidden: bool = True,
                torch: Callable[[Any, np.ndarray], Any] | None = None, rtol: float = 1e-6,
                stable: bool = False, **options: Any) -> list[Check]:
    """The checks of a loss ``module.cls``: its value (a 0-d array) and dL/d(prediction) against
    the reference, and dL/d(prediction) by central differences (with ``torch``, the true
    loss in torch of ``(prediction tensor, target array)``, as a second oracle where torch is
    installed). The values checks also backpropagate ``grad_output`` = :data:`UPSTREAM_SCALE`
    (the gradient must scale with it); with ``stable`` (a loss that promises numerical
    stability, on large scores ``make`` draws), they run with floating-point overflow raised
    (:func:`stable_call`)."""
    def run(ctx: Context, scaled: float | None = None, strict: bool = False,
            interleaved: bool = False) -> tuple[LossCase, dict[str, Any]]:
        case = make(ctx)
        args = [ctx.function(module, cls), _loss_args(ctx, case), case.kwargs,
                ctx.asarray(case.prediction), _send(ctx, case.target)]
        probe = ctx.probe("loss_run")
        options: dict[str, Any] = {"scaled": scaled}
        if interleaved:  # another batch's scores: the classes rolled
            options["second"] = ctx.asarray(np.roll(case.prediction, 1, axis=-1))
        result = (stable_call(ctx, probe, args, options) if strict else
                  probe(*args, **options))
        return case, result

    def values(ctx: Context) -> Payload:
        case, result = run(ctx, scaled=UPSTREAM_SCALE, strict=stable, interleaved=True)
        _require_loss_vectorized(ctx, module, cls, case)
        grad = ctx.to_numpy(result["grad"], f"{cls}.backward's gradient")
        if grad.shape != case.prediction.shape:
            raise CheckFailure(f"{cls}.backward's gradient has shape {grad.shape}; the "
                               f"prediction has shape {case.prediction.shape}")
        _require_scaled(cls, grad, ctx.to_numpy(result["grad_scaled"],
                                                f"{cls}.backward's gradient"))
        _require_own_cache(cls, grad, ctx.to_numpy(result["grad_interleaved"],
                                                   f"{cls}.backward's gradient"))
        _require_own_cache(cls, ctx.to_numpy(result["grad_second"],
                                             f"{cls}.backward's gradient"),
                           ctx.to_numpy(result["grad_second_first"],
                                        f"{cls}.backward's gradient"), order="second")
        return {"loss": ctx.to_numpy(result["loss"], "the loss"), "grad": grad}

    def gradients(ctx: Context) -> GradientProblem:
        case, result = run(ctx)
        if not ctx.expected_only:  # the chain rule's backward, or differences of the forward?
            _require_derived_loss_backward(ctx, module, cls, case, result["grad"])
        objective = ctx.probe("loss_objective")
        token = ctx.function(module, cls)

        def loss(v: dict[str, np.ndarray]) -> float:
            return float(objective(token, _loss_args(ctx, case), case.kwargs,
                                   ctx.asarray(v["prediction"]),
                                   _send(ctx, case.target)))

        true = None
        if torch is not None:
            def true(v: dict[str, Any]) -> Any:
                return torch(v["prediction"], case.target, **case.torch_kwargs)
        return GradientProblem(loss=loss, point={"prediction": case.prediction},
                               analytic={"prediction": result["grad"]}, autograd_loss=true,
                               autograd_inputs={"target": case.target,
                                                "torch_kwargs": case.torch_kwargs})

    checks = [value_check("values", f"{title}: value and gradient", 0.0, values, question=question,
                          rtol=rtol, **options),
              *([value_check("hidden", f"{title}: a hidden case", 0.0, values, question=question,
                             rtol=rtol, hidden=True, **options)] if hidden else []),
              gradient_check("gradients", f"{title}: gradient by central "
                             "differences", 0.0, gradients, question=question, **options)]
    return _share(checks, points, LOSS_SHARES)
