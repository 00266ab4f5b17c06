"""A layer that learns state in training mode and reads it in eval mode, judged by what eval
mode computes after a few training batches: :func:`train_eval_check`. Batch norm is the case
in point: training mode normalises with the batch's statistics and keeps running estimates of
them, eval mode normalises with those estimates (Ioffe and Szegedy 2015, §3.1, inference with
the population statistics; CS224n lecture 11, batch norm in deep CNNs). The running estimates
are seen only through eval mode's outputs, so they are checked there.

The case is data (:class:`TrainEvalCase`: the layer's arguments and parameters, the training
batches, the eval batches and their upstream gradients); the check runs a new layer of the
code under test through it (probe ``train_then_eval_run``) and compares with the reference's,
for each eval call, the output and the input gradient, and the parameters' gradients added up
over the eval calls (an eval-mode backward still gives the parameters theirs). The case's
inputs travel in the payload (``given: ...``), so that a named mistake's outputs are computed
from them in the grader: ``mistakes={"what the student did (the fix)": f}``, ``f(case)``
that mistake's outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.checks import Check, Payload
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.kinds import value_check

#: the payload's names of the case's inputs, each numbered from 1 (``given: eval batch 2``):
#: the training batches, the eval batches and the upstream gradient of each eval call
TRAINING, EVALUATED, UPSTREAM = "training batch", "eval batch", "dL/dy of eval call"


@dataclass(frozen=True)
class TrainEvalCase:
    """The case of :func:`train_eval_check`: the layer built as ``cls(backend, *args,
    **kwargs)`` with ``params`` (host arrays by name), run forward in training mode on each
    of ``train`` (one input array a batch), then in eval mode applied to each of ``evals``
    and backpropagated from the matching array of ``grads``. Every entry of ``kwargs`` (the
    settings a mistake may need: a momentum, an eps) travels in the payload as ``given:
    <name>``."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    params: dict[str, np.ndarray]
    train: list[np.ndarray]
    evals: list[np.ndarray]
    grads: list[np.ndarray]


def _given(case: TrainEvalCase, symbols: dict[str, str]) -> Payload:
    """The case's inputs as the payload carries them, in this order: the parameters (named by
    their ``symbols``), the settings, the training batches, the eval batches, the eval calls'
    upstream gradients."""
    given = {f"given: {symbols[name]}": value for name, value in case.params.items()}
    given.update({f"given: {name}": np.array(value) for name, value in case.kwargs.items()})
    for key, arrays in ((TRAINING, case.train), (EVALUATED, case.evals),
                        (UPSTREAM, case.grads)):
        given.update({f"given: {key} {i + 1}": x for i, x in enumerate(arrays)})
    return given


def _case_of(payload: Payload, symbols: dict[str, str]) -> TrainEvalCase:
    """The case whose inputs ``payload`` carries (:func:`_given` read back), the settings as
    Python numbers; ``args`` is empty (a mistake reads the sizes off the arrays)."""
    def numbered(key: str) -> list[np.ndarray]:
        count = sum(1 for k in payload if k.startswith(f"given: {key} "))
        return [payload[f"given: {key} {i + 1}"] for i in range(count)]

    params = {f"given: {symbol}": name for name, symbol in symbols.items()}
    inputs = tuple(f"given: {key} " for key in (TRAINING, EVALUATED, UPSTREAM))
    settings = {key.removeprefix("given: "): np.asarray(value).item()
                for key, value in payload.items()
                if key.startswith("given: ") and key not in params
                and not key.startswith(inputs)}
    return TrainEvalCase(args=(), kwargs=settings,
                         params={name: payload[key] for key, name in params.items()},
                         train=numbered(TRAINING), evals=numbered(EVALUATED),
                         grads=numbered(UPSTREAM))


def train_eval_check(name: str, title: str, points: float, cls: str,
                     make: Callable[[Context], TrainEvalCase], *, symbols: dict[str, str],
                     input_name: str = "x",
                     mistakes: dict[str, Callable[[TrainEvalCase], Payload]] | None = None,
                     **options: Any) -> Check:
    """A value check (``<question>.<name>``) of the layer ``cls`` in eval mode after training
    on ``make(ctx)``'s case (:class:`TrainEvalCase`): a new layer run forward on each training
    batch, then put in eval mode and applied to each eval batch, with a backward from its
    upstream gradient. Compared with the reference's: each eval call's output (``eval call
    i: y``) and input gradient (``eval call i: dL/d<input_name>``), and each parameter's
    gradient added up over the eval calls (``eval calls: dL/d<symbol>``). ``symbols``: how
    the payload names each parameter, in the order the outputs list them (``{"weight":
    "γ", "bias": "β"}``). ``mistakes``: ``{"what the student did (the fix)": f}``, ``f(case)``
    that mistake's outputs, computed in the grader from the case the payload carries (its
    settings as numbers, ``args`` empty). ``options`` go to
    :func:`~nlpdojo_autograder.authoring.kinds.value_check` (``rtol``, ``atol``)."""
    def run(ctx: Context) -> Payload:
        case = make(ctx)
        ran = ctx.probe("train_then_eval_run")(
            ctx.function(cls), (ctx.backend, *case.args), case.kwargs,
            {param: ctx.asarray(value) for param, value in case.params.items()},
            [[ctx.asarray(x)] for x in case.train], [[ctx.asarray(x)] for x in case.evals],
            [ctx.asarray(g) for g in case.grads], names=(input_name,))
        # the inputs, the same on both sides, for the mistakes to be computed from
        got = _given(case, symbols)
        for i in range(len(case.evals)):
            got[f"eval call {i + 1}: y"] = ctx.to_numpy(ran["outputs"][i], f"{cls}'s output")
            got[f"eval call {i + 1}: dL/d{input_name}"] = ctx.to_numpy(
                ran["input_grads"][i], f"{cls}'s input gradient")
        for param, symbol in symbols.items():
            got[f"eval calls: dL/d{symbol}"] = ctx.to_numpy(ran["param_grads"].get(param),
                                                            f"{cls}'s {param}.grad")
        return got

    def as_if(mistake: Callable[[TrainEvalCase], Payload]) -> Callable[[Payload], Payload]:
        """The payload ``mistake`` gives, from the expected one (whose inputs it carries)."""
        return lambda expected: {**expected, **mistake(_case_of(expected, symbols))}

    return value_check(name, title, points, run,
                       mistakes={what: as_if(f) for what, f in (mistakes or {}).items()},
                       **options)
