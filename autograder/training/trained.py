"""Metric checks on a trained model, measured where the student's code cannot reach.

The one mechanism the metric checks of neural models use (docs/security.md, "Metric checks").
A check describes its run as a :class:`TrainingPlan`; :func:`train_and_measure` then:

1. **trains**: the given trainer (the instructor's copy, sent to the worker) trains the
   student's model from parameters the grader drew (``init``), on the training data the grader
   sends, under a fixed budget and seed. What comes back is the trained parameters and the
   loss of every step, as data;
2. **validates** them: exactly the declared names and shapes, finite floats. Nothing else the
   worker says about the model is used: no score, no prediction, no object;
3. **scores** a held-out sample the grader draws afresh for each grading (from the input seed,
   out of data the worker never receives) with the *reference's* forward pass on those
   parameters, run in the grader (trusted code on arrays of declared shapes);
4. **compares forwards**: the student's forward, in the worker, on a probe of training data
   must give what the reference's gives on the same parameters (a model that peeks at the
   next token, or answers differently when scored, fails here, as it scores nothing itself).

The judge (:func:`audit`) then requires the loss of every step and the trained parameters to
be those of the reference's training from the same start on the same batches (the reference
trains under the same budget and seeds for the expected values): parameters that this run did
not produce with the student's steps fail, whatever their metric. The metric is judged against
the reference's under the same budget, above the chance floor and below a too-good bound
(:func:`nlpdojo_autograder.authoring.kinds.metric_check`).

**In a student release** the reference is absent: the held-out sample (the release's, seed 0)
is scored by the student's own forward, and the judge audits every step's loss and thresholds
the metric against the reference's run recorded in the release's fixture (its metric and its
losses at seed 0, :func:`~nlpdojo_autograder.training.plans.released`; no trained
parameter ships), so that a loop that never clips loses there the points it loses when
submitted. A submission's grading draws fresh seeds, where neither recorded figure is the
run's, and compares the trained parameters and the forward too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.checks import CheckFailure, Payload
from nlpdojo_autograder.authoring.context import Context, outgoing
from nlpdojo_autograder.runtime.channel import Token

#: payload keys: the trained parameters (``param:<name>``) and the loss of every step
PARAM, LOSSES = "param:", "losses"
#: who scored the held-out sample: 1.0 the reference's forward (trusted), 0.0 the student's
SCORED_BY_REFERENCE = "scored_by_reference"
#: 1.0 where the run trained in float64 (the audit's tolerance depends on both sides' dtype)
FLOAT64 = "trained_in_float64"
#: the audit's tolerances. Trained-model checks train in float64 on every backend (their
#: ``dtype``), where a correct variant follows the reference's training to rounding: a
#: rounding-sized change in every Linear output moved the window scorer's parameters by 1e-11
#: and the RNN LM's by < 4e-13 after 300 steps (torch float64 against NumPy: 7e-12). A check
#: that trains in float32 is audited loosely: float32 against float64 drifts by 8e-4 on the RNN
#: LM, and by 30 % on the max-margin scorer (hinge kinks and Adam), whose float32 training the
#: audit therefore cannot follow (it trains in float64)
AUDIT_RTOL = {"same": 1e-5, "mixed": 5e-2}


@dataclass
class TrainingPlan:
    """One trained-model check's run: what trains, on what, and how it is scored.

    ``train``/``score``: ``(given module, function)``. The trainer is called as
    ``trainer(backend, *train_args, init=init, seed=seed, **options)`` and returns
    ``{"parameters": {name: array}, "losses": (steps,)}``; the scorer as
    ``scorer(backend, parameters, inputs, **score_options)`` and returns per-item outputs
    (log-probabilities, class scores). ``heldout`` is the sample's inputs (the grader's:
    sent to the worker only in a student release), ``probe`` inputs from the training data
    for the forwards' comparison, ``measure(outputs)`` the metrics of the held-out outputs.
    """

    train: tuple[str, str]
    train_args: tuple
    options: dict[str, Any]
    shapes: dict[str, tuple[int, ...]]
    init: dict[str, np.ndarray]
    score: tuple[str, str]
    score_options: dict[str, Any]
    heldout: Any
    probe: Any
    measure: Callable[[np.ndarray], dict[str, float]]
    #: the training's seed (batch order, dropout masks): the run's input seed, fresh in CI
    #: like ``init``, so that the trajectory the audit expects is not known before grading
    seed: int = 0
    #: extra grader-side figures to report (the chance floor...), merged into the metrics
    extra: dict[str, float] = field(default_factory=dict)
    #: what the model's forward must respect beyond the lecture's equations, said when the
    #: forwards on the probe differ (a language model's: the past tokens only)
    probe_note: str = ""


def initial_parameters(shapes: dict[str, tuple[int, ...]], seed: int, *,
                       embedding_std: float = 0.1) -> dict[str, np.ndarray]:
    """Starting parameters drawn by the grader, so that no run starts from weights trained
    elsewhere: Xavier-normal weights (Glorot and Bengio 2010; the course library's layout, the
    output on the last axis: a Linear's (in, out), a filter bank's (k, D, F) with fan-in k·D),
    ``embedding_std`` for embedding tables (names containing ``embedding``), zero biases.
    Recurrent weights (names ending in ``weight_h``, (H, gates·H)) as torch and the library
    draw them, uniform in ±1/√H: Xavier-normal ones (1.7 times as large) put a tanh RNN at
    the edge of chaos, where an SGD run diverged from one draw in three (the RNN LM's budget
    went from perplexity 106 to 536 with the seed). Float64 host arrays."""
    rng = np.random.default_rng([seed, 0x1A17])
    init = {}
    for name, shape in sorted(shapes.items()):
        if len(shape) == 1:
            init[name] = np.zeros(shape)
        elif "embedding" in name:
            init[name] = embedding_std * rng.standard_normal(shape)
        elif name.endswith("weight_h"):
            bound = 1.0 / np.sqrt(shape[0])
            init[name] = rng.uniform(-bound, bound, shape)
        else:
            fan_in, fan_out = int(np.prod(shape[:-1])), shape[-1]
            init[name] = np.sqrt(2.0 / (fan_in + fan_out)) * rng.standard_normal(shape)
    return init


def train_and_measure(ctx: Context, plan: TrainingPlan) -> Payload:
    """Train, validate, score and compare (see the module's docstring): the metrics, the
    trained parameters (``param:<name>``) and the losses, for the judge's audit."""
    trained = ctx.given_function(*plan.train)(
        ctx.backend, *plan.train_args, init=plan.init, seed=plan.seed, **plan.options)
    if not isinstance(trained, dict) or not {"parameters", "losses"} <= set(trained):
        raise CheckFailure("the training run returned no parameters and losses (the given "
                           "trainer's result was replaced?)")
    params = _validated(ctx, trained["parameters"], plan.shapes)
    losses = ctx.to_numpy(trained["losses"], "the training losses", number=True).reshape(-1)
    reference = ctx.trusted()
    if reference is None:  # a student release: the student's own forward scores
        outputs = _outputs(ctx, _student_scorer(ctx, plan), params, plan.heldout)
    else:
        outputs = _outputs(ctx, _reference_scorer(reference, plan), params, plan.heldout)
        _compare_forwards(ctx, reference, plan, params)
    payload: dict[str, Any] = {**plan.measure(outputs), **plan.extra,
                               SCORED_BY_REFERENCE: float(reference is not None),
                               FLOAT64: float(is_float64(ctx)), LOSSES: losses}
    payload.update({PARAM + name: value for name, value in params.items()})
    return payload


def audit(actual: Payload, expected: Payload | None) -> str | None:
    """Why the trained parameters are not this training's product (None: they are): the loss
    of every step and every parameter against the reference's training from the same start
    on the same batches (a student release's fixture: the losses alone). No expected payload:
    nothing to audit."""
    if expected is None or LOSSES not in expected:
        return None
    mine, theirs = np.asarray(actual.get(LOSSES, [])), np.asarray(expected[LOSSES])
    rtol = AUDIT_RTOL["same" if _same_precision(actual, expected) else "mixed"]
    if mine.shape != theirs.shape:
        return (f"the training ran {mine.size} steps; under this budget it runs {theirs.size} "
                "(the given loop's budget is not the submission's to change)")
    off = np.flatnonzero(~np.isclose(mine, theirs, rtol=rtol, atol=rtol))
    if off.size:
        k = int(off[0])
        where = ("the first step's loss" if k == 0 else
                 f"the loss of training step {k + 1} (every step before it agrees)")
        cause = ("the loss of the start, before any update: the forward pass or the loss "
                 "(or the batch it is computed on) differs" if k == 0 else
                 f"the update of step {k} or what that step computes differs (backward, "
                 "the optimizer, or state carried from step to step)")
        return (f"{where} is {mine[k]:.6g}; the reference's training from the same start on "
                f"the same batches has {theirs[k]:.6g}: {cause}")
    for key in sorted(k for k in expected if k.startswith(PARAM)):
        got, want = actual.get(key), np.asarray(expected[key])
        if got is None or np.shape(got) != want.shape:
            return f"the trained parameters lack {key[len(PARAM):]} of shape {want.shape}"
        # relative to the parameter, with an absolute floor of rtol/10 per entry (RMS): a
        # parameter whose true gradient is exactly 0 (the max-margin scorer's output bias)
        # stays 0 in one summation order and moves by rounding noise in another
        diff = float(np.linalg.norm(np.asarray(got) - want))
        scale = float(np.linalg.norm(want)) + 0.1 * math.sqrt(max(want.size, 1))
        gap = diff / scale
        if not gap <= rtol:
            return (f"the trained {key[len(PARAM):]} differs from the reference's training "
                    f"from the same start on the same batches by {gap:.2g} (relative), although "
                    "every step's loss agrees: the parameters returned are not the ones "
                    "that training produced")
    return None


def _same_precision(actual: Payload, expected: Payload) -> bool:
    return actual.get(FLOAT64, 1.0) == expected.get(FLOAT64, 1.0)


def _validated(ctx: Context, parameters: Any, shapes: dict[str, tuple[int, ...]]
               ) -> dict[str, np.ndarray]:
    """The returned parameters: exactly the declared names and shapes, finite floats."""
    if not isinstance(parameters, dict):
        raise CheckFailure("the training run's parameters are not a {name: array} dict")
    missing = sorted(set(shapes) - set(parameters))
    unexpected = sorted(set(parameters) - set(shapes))
    if missing or unexpected:
        raise CheckFailure(f"the trained model's parameters are not the declared ones: "
                           f"missing {missing}, unexpected {unexpected[:5]}")
    out = {}
    for name, shape in shapes.items():
        value = ctx.to_numpy(parameters[name], f"the trained {name}")
        if value.shape != tuple(shape):
            raise CheckFailure(f"the trained {name} has shape {value.shape}; the model's is "
                               f"{tuple(shape)}")
        if not np.issubdtype(value.dtype, np.floating):
            raise CheckFailure(f"the trained {name} holds {value.dtype}, not floats")
        if not np.all(np.isfinite(value)):
            raise CheckFailure(f"the trained {name} holds NaN or inf: training diverged (a "
                               "wrong gradient, a division by zero in the optimizer's update, "
                               "or steps too large; the checks of the pieces the training "
                               "runs say which is wrong)")
        out[name] = value
    return out


Scorer = Callable[[dict[str, np.ndarray], Any], Any]


def _student_scorer(ctx: Context, plan: TrainingPlan) -> Scorer:
    function = ctx.given_function(*plan.score)
    return lambda params, inputs: function(ctx.backend, params, inputs, **plan.score_options)


def _reference_scorer(reference: Any, plan: TrainingPlan) -> Scorer:
    """The reference's given scorer, run by the grader's trusted subject (float64 NumPy)."""
    target = Token("function", ("given", *plan.score))

    def score(params: dict[str, np.ndarray], inputs: Any) -> Any:
        reply = reference.call(target, outgoing((Token("backend"), params, inputs)),
                               outgoing(dict(plan.score_options)))
        if "error" in reply:
            raise CheckFailure("the grader could not score the trained parameters with the "
                               f"reference: {reply['error'].get('message', '')}")
        return reply["value"]

    return score


def _outputs(ctx: Context, scorer: Scorer, params: dict[str, np.ndarray], inputs: Any
             ) -> np.ndarray:
    return ctx.to_numpy(scorer(params, inputs), "the held-out outputs")


def _compare_forwards(ctx: Context, reference: Any, plan: TrainingPlan,
                      params: dict[str, np.ndarray]) -> None:
    """The student's forward on the trained parameters gives the reference's outputs on a
    probe of training data (float32 backends: to float32's precision)."""
    mine = _outputs(ctx, _student_scorer(ctx, plan), params, plan.probe)
    theirs = _outputs(ctx, _reference_scorer(reference, plan), params, plan.probe)
    if mine.shape != theirs.shape:
        raise CheckFailure(f"your model's forward gave {mine.shape} outputs on the trained "
                           f"parameters where the reference's gives {theirs.shape}")
    tol = 1e-6 if is_float64(ctx) else 2e-3
    bad = ~np.isclose(mine, theirs, rtol=tol, atol=tol)
    if np.any(bad):
        i = int(np.flatnonzero(bad.reshape(-1))[0])
        raise CheckFailure(
            f"with the trained parameters, your model's forward gives {mine.reshape(-1)[i]:.6g} "
            f"at output {i} of a probe of training data, the reference's forward "
            f"{theirs.reshape(-1)[i]:.6g} (on the same parameters, in eval mode): the model "
            "must compute what the lecture's model computes, with nothing dropped or drawn in "
            f"eval mode{f' ({plan.probe_note})' if plan.probe_note else ''}")


def is_float64(ctx: Context) -> bool:
    """Whether the code under test computes in float64 (NumPy's default; torch's is float32)."""
    return ctx.backend.dtype == "float64" or (ctx.backend.dtype is None
                                              and ctx.backend.name in ("numpy", "strict"))
