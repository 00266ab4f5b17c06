"""A neural language model trained under a quick budget on State of the Union addresses and
measured by the grader (CS224n lecture 6, "Evaluating language models"), as every topic's is:
the topic declares the run as data (:class:`SotuLM`: the model's parameters, the given
loop's options, which of them the scorer takes, how held-out text is scored) and its question
calls :func:`sotu_perplexity_checks`; the plan is :func:`~.plans.language_model_plan`'s
(the grader's initial parameters, a fresh held-out stretch of the test split, never sent,
scored by the reference's forward), the metric :func:`~.evaluate.perplexity_metric`'s.

The given module is the topic's ``lm_training``: ``train_lm(backend, train_ids, init=, seed=,
vocab_size=, **options)`` trains and returns the parameters and every step's loss,
``score_lm(backend, parameters, ids, vocab_size=, **scored options)`` gives the log-probability
of every held-out token it predicts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from nlpdojo_autograder.authoring.builders import metric_checks
from nlpdojo_autograder.authoring.checks import Check
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.training.evaluate import perplexity_metric
from nlpdojo_autograder.training.lm_cases import lm_shapes
from nlpdojo_autograder.training.plans import TRAINED, language_model_plan, measured
from nlpdojo_autograder.training.prepare import stream_targets, token_streams
from nlpdojo_autograder.training.train import require_datasets
from nlpdojo_autograder.training.trained import TrainingPlan
from nlpdojo_autograder.training.window_cases import window_shapes


def sotu_shapes(model: str, vocab: int, options: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The parameters a trained LM of ``options`` has, by the library's names: a recurrent
    LM's over the cell ``model`` ("rnn", "lstm", "gru": :func:`~.lm_cases.lm_shapes`); the
    fixed-window LM's ("window": Bengio et al. 2003), the embedding of each of the
    ``context`` words concatenated into a tanh layer, then the output layer over the
    vocabulary (:func:`~.window_cases.window_shapes`)."""
    d, h = options["dim"], options["hidden"]
    if model == "window":
        return window_shapes(vocab, options["context"], d, h)
    return lm_shapes(model, vocab, d, h)


@dataclass(frozen=True)
class SotuLM:
    """One model's quick budget on State of the Union, as data.

    ``model``: its parameters' layout (:func:`sotu_shapes`); ``options``: what the given
    ``train_lm`` is called with besides the vocabulary's size (the model's sizes, the
    optimizer, its steps); ``scored``: the names of those ``score_lm`` takes too; ``salt``:
    the held-out draw's (:func:`~.prepare.heldout_rng`); ``streams``: (B, T), held-out text
    scored as B parallel streams in windows of T steps (a recurrent LM:
    :func:`~.prepare.stream_targets`), or None, every token from its own context (a window
    LM); ``eos_option``: the option that takes the data's end-of-sentence id (a window LM's
    padding of the first contexts); ``data``: :func:`~.prepare.token_streams`' arguments."""

    model: str
    options: dict[str, Any]
    scored: tuple[str, ...]
    salt: int
    streams: tuple[int, int] | None = None
    eos_option: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def sotu_lm_plan(ctx: Context, lm: SotuLM) -> TrainingPlan:
    """The run of ``lm``: the training text and the grader's initial parameters go to the
    worker; a held-out stretch of the test split (never sent) is scored by the grader."""
    require_datasets(["sotu"])
    data = token_streams("sotu", **lm.data)
    options = {**lm.options, **({lm.eos_option: data.eos} if lm.eos_option else {})}
    streams = lm.streams
    return language_model_plan(
        ctx, data, salt=lm.salt, train=("lm_training", "train_lm"),
        score=("lm_training", "score_lm"),
        options={"vocab_size": data.vocab_size, **options},
        score_options={"vocab_size": data.vocab_size,
                       **{k: options[k] for k in lm.scored}},
        shapes=sotu_shapes(lm.model, data.vocab_size, options),
        targets=(lambda ids: ids) if streams is None else
        (lambda ids: stream_targets(ids, *streams)))


def sotu_perplexity_checks(lm: SotuLM, title: str, points: float, *, budget: str, hint: str,
                           why: str, timeout_s: float = 300.0, **options: Any) -> list[Check]:
    """The metric check of ``lm`` trained on State of the Union (:func:`sotu_lm_plan`): its
    held-out perplexity within 5 % of the reference's under the same budget, below the add-one
    unigram model's, and not 20 % below the reference's (``why``: what such a model usually
    did; two seeds of the reference differ by 0.1 %). ``budget`` says what the training is,
    ``hint`` which of the student's pieces it runs; ``options`` go to
    :func:`~nlpdojo_autograder.authoring.builders.metric_checks` (``own_code``)."""
    return metric_checks(
        "sotu", measured(functools.partial(sotu_lm_plan, lm=lm)),
        [perplexity_metric(title, points, within=1.05, too_good=0.8, why=why)],
        budget=budget, hint=hint, timeout_s=timeout_s, **options, **TRAINED)
