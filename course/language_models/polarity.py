"""``dojo train polarity --model rnn|...``: train a sentence classifier on MR (Pang and Lee
2005) from the command line, save a checkpoint, and print its test accuracy beside the
majority class's (CS224n lecture 6, "RNNs for sentence classification").

The command knows one model, this topic's RNN encoder with mean pooling (``rnn``: the given
``sentence_training``, the graded ``sentence_polarity`` check's budget as defaults); later
topics add theirs through the ``register_model_kinds`` hook (``trainer="polarity"``), each a
:func:`~nlpdojo_autograder.training.polarity_kind` of its own given module. The data, the
scoring and the checkpoint are the training kit's (:mod:`nlpdojo_autograder.training.polarity`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nlpdojo.trainers import Trainer
from nlpdojo_autograder.training import (
    ModelRegistry,
    options,
    polarity_kind,
    run_training,
)
from nlpdojo_course.language_models.encoder import CLASSIFIER

TOPIC = "language_models"
Code = options.code(TOPIC, "Your folder of the model's topic (language_models in exercises/ "
                    "for rnn; a model another topic adds: that topic's, listed below), or the "
                    "folder holding them (default: that topic's folder in ./exercises).")
Output = options.output("Where to write the checkpoint (.npz)", "polarity-MODEL.npz")


def _metric(r: dict[str, Any]) -> str:
    return (f"test accuracy {r['accuracy']:.4f} on {r['test_sentences']:,} {r['corpus']} "
            f"sentences; majority class {r['majority']:.4f} "
            f"({100 * (r['accuracy'] - r['majority']):+.2f} points)")


MODELS = ModelRegistry(
    "dojo train polarity", TOPIC, noun="sentence classifier", metric=_metric,
    example="dojo train polarity --model rnn",
    flags={k: "--" + k for k in ("dim", "hidden", "filters", "epochs", "lr")})
MODELS.register("rnn", polarity_kind(
    "rnn", "the RNN encoder, mean-pooled", "sentence_training", CLASSIFIER,
    ("dim", "hidden", "pooling"), files=MODELS.files))


def polarity(
    model: Annotated[str, typer.Option(
        help="The classifier: rnn (this topic's RNN encoder), or one a later topic adds "
             "(an unknown --model lists them all).")] = "rnn",
    epochs: Annotated[int | None, typer.Option(
        min=1, help="Passes over the training split (default: the model's graded budget).")
    ] = None,
    lr: Annotated[float | None, typer.Option(
        min=0.0, help="Adam's learning rate (default: the model's).")] = None,
    dim: Annotated[int | None, typer.Option(min=1, help="Word vector size.")] = None,
    hidden: Annotated[int | None, typer.Option(
        min=1, help="Recurrent models: hidden size.")] = None,
    filters: Annotated[int | None, typer.Option(
        min=1, help="Convolutional models: filters per width.")] = None,
    seed: options.Seed = 0,
    backend: options.Backend = None,
    device: options.Device = None,
    code: Code = None,
    solutions: options.Solutions = False,
    output: Output = None,
) -> None:
    """Train a sentence classifier on MR's training split; print its accuracy on the test
    split beside the majority class's; save a checkpoint."""
    run_training(MODELS, model, output=output, code=code,
                 solutions=solutions, progress=False, corpus="mr", seed=seed, epochs=epochs,
                 lr=lr, dim=dim, hidden=hidden, filters=filters, backend=backend,
                 device=device)


TRAINER = Trainer("polarity", TOPIC, "A sentence classifier (--model rnn, or a later topic's) "
                  "on MR: test accuracy against the majority class; saves a checkpoint.",
                  polarity, models=MODELS)
