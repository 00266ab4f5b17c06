"""Metrics after one shared training run (:func:`metric_checks`): each metric a check, its
threshold judged by the grader on the trained model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.checks import Check, CheckFailure, Payload
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.authoring.kinds import metric_check


# -- metrics after one shared training run -----------------------------------------------------
@dataclass
class Metric:
    """One metric of a training run: its key in what ``train`` returns, how the report names
    it, the points, and the threshold (a number, or a function of the reference's value under
    the same budget: ``lambda ref: ref - 0.05``)."""

    key: str
    name: str
    points: float
    threshold: float | Callable[[float], float]
    higher_is_better: bool = True
    title: str = ""
    #: the key, in what ``train`` returns, of the value untrained artefacts reach by chance
    #: (see :func:`~.kinds.metric_check`): the metric must beat it too
    chance: str | None = None
    #: how the feedback names that floor when it is a baseline shown in every message
    chance_name: str | None = None
    #: ``(bound, why)``: past ``bound(reference)`` a value is implausible (kinds.metric_check)
    too_good: tuple[Callable[[float], float], str] | None = None


@question_builder
def metric_checks(run_name: str, train: Callable[[Context], dict[str, float]],
                  metrics: Sequence[Metric], *, question: str | None = None, budget: str,
                  timeout_s: float = 600.0, hint: str = "", **options: Any) -> list[Check]:
    """Metric checks that share one training run per budget: ``train(ctx)`` trains the code
    under test under the fixed budget and seeds (the given loop is the instructor's:
    ``ctx.given_function``) and returns every metric, measured by the grader. It runs once per
    grading run (the first of these checks), its result or its failure shared by the others;
    a run stopped for time stops them all at once (``shares``)."""
    def measured(ctx: Context) -> dict[str, float]:
        key = ("training run", question, run_name, ctx.full, ctx.input_seed)
        if key not in ctx.cache:
            try:
                ctx.cache[key] = train(ctx)
            except Exception as exc:  # noqa: BLE001 - every sharing check reports it
                ctx.cache[key] = exc
        if isinstance(ctx.cache[key], Exception):
            raise ctx.cache[key]
        return ctx.cache[key]

    def one(metric: Metric) -> Callable[[Context], Payload]:
        def collect(ctx: Context) -> Payload:
            values = measured(ctx)
            if metric.key not in values:
                raise CheckFailure(f"internal: the training run measured no {metric.key}")
            return {"value": float(values[metric.key]),
                    **{k: float(v) if np.ndim(v) == 0 else np.asarray(v)
                       for k, v in values.items() if k != metric.key}}
        return collect

    return [metric_check(m.key, m.title or f"{m.name} after training", m.points,
                         one(m), question=question, metric=m.name, threshold=m.threshold,
                         higher_is_better=m.higher_is_better, budget=budget,
                         timeout_s=timeout_s, shares=f"{question} {run_name}", hint=hint,
                         chance=m.chance, chance_name=m.chance_name, too_good=m.too_good,
                         **options)
            for m in metrics]
