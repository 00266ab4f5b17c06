"""``dojo train neural-lm``: deprecated, kept so that the commands the course documented before
still run. It is ``dojo train lm --model rnn`` (or ``--model window``) with the same options and
one warning line first; new text should use ``dojo train lm`` (:mod:`.trainer`),
which trains the n-gram, window and RNN LMs alike.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nlpdojo.cli.common import console
from nlpdojo.trainers import Trainer
from nlpdojo_autograder.training import TrainError, options
from nlpdojo_course.language_models.trainer import MODELS, TOPIC, train_lm

Code = options.code(TOPIC)
Output = options.output("Checkpoint (.npz)", "lm-MODEL.npz")
NOTICE = ("`dojo train neural-lm` is deprecated and will be removed: use `dojo train lm --model "
          "window|rnn` (the same options)")


def neural_lm(
    model: Annotated[str, typer.Option(help="rnn or window.")] = "rnn",
    corpus: Annotated[str, typer.Option(help="Running-text data set (dojo data list).")] =
    "sotu",
    train_texts: Annotated[int | None, typer.Option(
        min=1, help="Train on the first N documents of the train split (default: all).")] = None,
    test_texts: Annotated[int | None, typer.Option(
        min=1, help="Score the first N documents of the test split (default: all).")] = None,
    vocab_size: Annotated[int | None, typer.Option(
        min=2, help="The most frequent training tokens kept, <UNK> included (default "
                    "10000).")] = None,
    dim: Annotated[int | None, typer.Option(min=1, help="Embedding size (default 64).")] = None,
    hidden: Annotated[int | None, typer.Option(
        min=1, help="Hidden layer size (default 128).")] = None,
    context: Annotated[int | None, typer.Option(
        min=1, help="window: words of context, n − 1 (default 4).")] = None,
    bptt: Annotated[int | None, typer.Option(
        min=1, help="rnn: steps per window (default 35).")] = None,
    batch_size: Annotated[int | None, typer.Option(
        min=1, help="rnn: parallel streams; window: examples per step (default 20).")] = None,
    optimizer: Annotated[str | None, typer.Option(
        help="sgd, momentum, adagrad, rmsprop or adam (default: rnn sgd, window adam).")] = None,
    lr: Annotated[float | None, typer.Option(
        min=0.0, help="Learning rate (default: rnn 0.7, window 0.003).")] = None,
    epochs: Annotated[int | None, typer.Option(
        min=1, help="Passes over the training text (default 1).")] = None,
    max_steps: Annotated[int | None, typer.Option(
        min=1, help="Stop each epoch after N steps.")] = None,
    seed: options.Seed = 0,
    backend: options.Backend = None,
    device: options.Device = None,
    code: Code = None,
    solutions: options.Solutions = False,
    output: Output = None,
    save_every: Annotated[int | None, typer.Option(
        min=1, help="Also write the checkpoint every N steps.")] = None,
    progress: options.Progress = True,
) -> None:
    """Deprecated: use `dojo train lm --model window|rnn` (the same options)."""
    console.print(f"warning: {NOTICE}", markup=False, highlight=False, soft_wrap=True)
    if model not in ("rnn", "window"):
        raise TrainError(f"unknown --model {model!r} for `dojo train neural-lm`; choose rnn or "
                         "window, or use `dojo train lm --model NAME` for every model")
    train_lm(model, output=output, code=code, solutions=solutions,
             progress=progress, corpus=corpus, max_documents=train_texts, seed=seed,
             test_texts=test_texts,
             vocab_size=vocab_size, dim=dim, hidden=hidden, context=context, bptt=bptt,
             batch_size=batch_size, optimizer=optimizer, lr=lr, epochs=epochs,
             max_steps=max_steps, backend=backend, device=device, save_every=save_every)


TRAINER = Trainer("neural-lm", TOPIC, "Deprecated: use `dojo train lm --model window|rnn` "
                  "(the same options).", neural_lm, models=MODELS)
