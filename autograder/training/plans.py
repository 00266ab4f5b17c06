"""The two trained-model checks the course's topics need, each built in a few lines on
:class:`~nlpdojo_autograder.training.trained.TrainingPlan` (docs/security.md, "Metric checks").

* :func:`language_model_plan`: the given loop trains a language model on a training id
  stream from the grader's initial parameters; the grader scores a stretch of the test
  stream, drawn afresh from the input seed and never sent, with the reference's forward and
  measures its perplexity (with the add-one unigram floor).
* :func:`classifier_plan`: the given loop trains a classifier on training inputs and labels;
  the grader scores a fresh share of the test inputs (never sent) and measures accuracy, with
  the topic's floors (majority class, a baseline) as extra figures;
  :func:`mr_polarity_plan` is the one every topic's MR sentence classifier uses, and
  :func:`mr_polarity_checks` its metric check.

Both draw the held-out sample, then a probe of training data for the forwards' comparison,
from :func:`~nlpdojo_autograder.training.prepare.heldout_rng` with the check's ``salt``.
:func:`measured` turns a plan into the run of
:func:`~nlpdojo_autograder.authoring.builders.metric_checks`, and :data:`TRAINED` holds the
options every such check passes. A question, in full::

    def plan(ctx):
        data = labelled_sentences("mr")
        return classifier_plan(
            ctx, salt=0x3A7, train=("training", "train_classifier"),
            score=("training", "score"), train_inputs=(data.train_ids, data.train_lengths),
            train_labels=data.train_labels, test_inputs=(data.test_ids, data.test_lengths),
            test_labels=data.test_labels, classes=2, probe=200, shapes=shapes,
            options={...}, score_options={...},
            floors=lambda labels, sample: {"majority": majority_share(labels)})

    QUESTION = Question("polarity", ..., datasets=("mr",), integrative=True,
                        checks=metric_checks("mr", measured(plan), [accuracy_metric(...)],
                                             budget="...", **TRAINED))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.builders import metric_checks
from nlpdojo_autograder.authoring.checks import Check, CheckFailure
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.training.evaluate import (
    accuracy,
    accuracy_metric,
    majority_share,
    perplexity,
    unigram_perplexity,
)
from nlpdojo_autograder.training.prepare import (
    TokenStreams,
    heldout_rng,
    labelled_sentences,
    sample_indices,
    stretch,
    take,
    training_seed,
)
from nlpdojo_autograder.training.train import require_datasets
from nlpdojo_autograder.training.trained import (
    LOSSES,
    TrainingPlan,
    audit,
    initial_parameters,
    train_and_measure,
)


def released(key: str) -> bool:
    """The keys of a trained-model check's payload a release's fixture stores: the metric and
    every step's loss of the reference's training at the release's seed (0), which a student
    release audits and thresholds against as a submission's grading does. Never the trained
    parameters: a grading for credit draws other seeds, where neither figure is the run's."""
    return key in ("value", LOSSES)


#: what every trained-model check passes to ``metric_checks``: the audit of every step, the
#: release's fixture holding the metric and the losses only, float64 training on every backend
TRAINED: dict[str, Any] = {"audit": audit, "stored": released, "dtype": "float64"}


def measured(plan: Callable[[Context], TrainingPlan]) -> Callable[[Context], dict]:
    """The run of a metric check: the plan trained, validated, scored and compared."""
    def run(ctx: Context) -> dict:
        return train_and_measure(ctx, plan(ctx))

    return run


def language_model_plan(ctx: Context, data: TokenStreams, *, salt: int,
                        train: tuple[str, str], score: tuple[str, str],
                        options: dict[str, Any], score_options: dict[str, Any],
                        shapes: dict[str, tuple[int, ...]],
                        targets: Callable[[np.ndarray], np.ndarray] = lambda ids: ids,
                        heldout_tokens: int = 30_000, probe_tokens: int = 2_000
                        ) -> TrainingPlan:
    """Train on ``data.train_ids``; score a stretch of ``heldout_tokens`` test tokens (and
    compare forwards on ``probe_tokens`` training tokens). ``targets(stretch)``: the tokens
    the scorer predicts, in its order (a stream model's:
    :func:`~nlpdojo_autograder.training.prepare.stream_targets`)."""
    rng = heldout_rng(ctx, salt)
    heldout = stretch(data.test_ids, heldout_tokens, rng)
    probe = stretch(data.train_ids, probe_tokens, rng)
    predicted = targets(heldout)

    def measure(log_probs: np.ndarray) -> dict[str, float]:
        log_probs = log_probs.reshape(-1)
        if log_probs.shape != predicted.shape:
            raise CheckFailure(f"the model scored {log_probs.shape[0]} held-out tokens; "
                               f"{predicted.shape[0]} were expected")
        if np.any(log_probs > 1e-9):
            raise CheckFailure("a held-out log-probability is above 0: the scores are not "
                               "turned into a distribution over the vocabulary")
        return {"perplexity": perplexity(log_probs)}

    return TrainingPlan(
        train=train, train_args=(data.train_ids,), options=options, shapes=shapes,
        init=initial_parameters(shapes, ctx.input_seed), seed=training_seed(ctx), score=score,
        score_options=score_options, heldout=heldout, probe=probe, measure=measure,
        extra={"unigram": unigram_perplexity(data.train_ids, predicted, data.vocab_size)},
        probe_note="a language model predicts each token from the tokens before it only; a "
                   "recurrent one scores the probe window after window, carrying the state "
                   "after each window's last step (final_state) into the next")


def classifier_plan(ctx: Context, *, salt: int, train: tuple[str, str], score: tuple[str, str],
                    train_inputs: np.ndarray | tuple, train_labels: np.ndarray,
                    test_inputs: np.ndarray | tuple, test_labels: np.ndarray, classes: int,
                    options: dict[str, Any], score_options: dict[str, Any],
                    shapes: dict[str, tuple[int, ...]], probe: int, share: float = 0.8,
                    floors: Callable[[np.ndarray, np.ndarray], dict[str, float]] | None = None,
                    subsets: dict[str, np.ndarray] | None = None,
                    who: str = "classifier", items: str = "held-out items") -> TrainingPlan:
    """Train on ``(*train_inputs, train_labels)``; score a ``share`` of the test inputs drawn
    from the input seed (and compare forwards on ``probe`` training inputs); the accuracy of
    the scores (N, ``classes``). ``floors(labels, sample)``: the chance floors of that
    sample, reported beside the metric (the majority class, a baseline). ``subsets``: name →
    a boolean mask (M,) over the test items; the accuracy on the sample's items in each is
    measured too, under its name (the tagger's words it has no vector for)."""
    rng = heldout_rng(ctx, salt)
    n_test, n_train = len(test_labels), len(train_labels)
    sample = sample_indices(n_test, max(1, int(share * n_test)), rng)
    rows = sample_indices(n_train, probe, rng)
    labels = test_labels[sample]
    inputs = train_inputs if isinstance(train_inputs, tuple) else (train_inputs,)
    within = {name: mask[sample] for name, mask in (subsets or {}).items()}  # (m,) each
    empty = sorted(name for name, rows in within.items() if not rows.any())
    if empty:  # an accuracy over no item is no figure: the declaration's mistake
        raise ValueError(f"classifier_plan: the held-out sample has no item of the subsets "
                         f"{empty}; widen them or the share")

    def measure(scores: np.ndarray) -> dict[str, float]:
        if scores.shape != (labels.shape[0], classes):
            raise CheckFailure(f"the {who} gave scores of shape {scores.shape} for "
                               f"{labels.shape[0]} {items}; expected "
                               f"({labels.shape[0]}, {classes})")
        return {"accuracy": accuracy(scores, labels),
                **{name: accuracy(scores[rows], labels[rows]) for name, rows in within.items()}}

    return TrainingPlan(
        train=train, train_args=(*inputs, train_labels), options=options, shapes=shapes,
        init=initial_parameters(shapes, ctx.input_seed), seed=training_seed(ctx), score=score,
        score_options=score_options, heldout=take(test_inputs, sample),
        probe=take(train_inputs, rows), measure=measure,
        extra=floors(labels, sample) if floors is not None else {})


def mr_polarity_plan(ctx: Context, *, salt: int, given: str,
                  shapes: Callable[[int], dict[str, tuple[int, ...]]], options: dict[str, Any],
                  sizes: Iterable[str]) -> TrainingPlan:
    """Sentence polarity on MR (Pang and Lee 2005), as every topic's sentence classifier is
    graded: the given module ``given``'s ``train_polarity`` trains on MR's training split
    (sentences of 40 tokens at most, words seen twice or more) from the grader's initial
    parameters of ``shapes(vocab_size)`` with ``options``; its ``score_sentences``, with the
    options named in ``sizes``, scores a fresh 80 % of the test split (never sent) and a probe
    of 200 training sentences; the majority class is the floor reported beside the accuracy."""
    require_datasets(["mr"])
    data = labelled_sentences("mr", max_tokens=40, min_count=2)
    v = data.vocab_size
    return classifier_plan(
        ctx, salt=salt, train=(given, "train_polarity"), score=(given, "score_sentences"),
        train_inputs=(data.train_ids, data.train_lengths), train_labels=data.train_labels,
        test_inputs=(data.test_ids, data.test_lengths), test_labels=data.test_labels,
        classes=2, probe=200, shapes=shapes(v), options={"vocab_size": v, **options},
        score_options={"vocab_size": v, **{k: options[k] for k in sizes}},
        floors=lambda labels, sample: {"majority": majority_share(labels)},
        who="classifier", items="held-out sentences")


#: an accuracy this far above the reference's under the same budget was not earned by that
#: training (four seeds of the RNN classifier reference, each on its own sample: 0.770-0.785)
MR_TOO_GOOD = 0.06


@question_builder
def mr_polarity_checks(plan: Callable[[Context], TrainingPlan], *, title: str, budget: str,
                       hint: str, points: float = 2.0, question: str | None = None
                       ) -> list[Check]:
    """The metric check of a sentence classifier trained on MR by ``plan`` (a
    :func:`mr_polarity_plan`), as every topic's is judged: the held-out accuracy at most 0.03
    below the reference's under the same budget, above the majority class's, and at most
    :data:`MR_TOO_GOOD` above the reference's. ``budget`` says what the training is, ``hint``
    which of the student's pieces it runs; ``question``: the enclosing ``Question``'s."""
    return metric_checks("mr", measured(plan), [accuracy_metric(
        "held-out polarity accuracy", points, title=title, margin=0.03, chance="majority",
        chance_name="the majority class", too_good=MR_TOO_GOOD,
        why="far above what the reference reaches under the same budget: was the model "
            "trained on the held-out sentences?")],
                question=question, budget=budget, hint=hint, timeout_s=300,
        **TRAINED)
