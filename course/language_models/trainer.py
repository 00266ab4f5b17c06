"""``dojo train lm --model ngram|window|rnn``: train a language model of topic
``language_models`` on a corpus, save a checkpoint and print its held-out perplexity next to the
add-one unigram model's (CS224n lecture 6, "Evaluating language models"). Every model is scored
on the same split, ``--heldout`` (test by default, the split of the reference figures printed
beside it: :mod:`.reference_figures`), and the line says which, so numbers printed side by side
compare.

The command knows no model: ``--model NAME`` picks a kind from :data:`MODELS`, a registry of
the training kit (:class:`~nlpdojo_autograder.training.ModelRegistry`: name → the
``"module:attribute"`` of its :class:`~nlpdojo_autograder.training.ModelKind`, imported only
when used), so each kind lives in a module of its own: the count models in
:mod:`.ngram_models`, the fixed-window and RNN LMs in :mod:`.neural_models`. Adding one is one
line here (or ``MODELS.register``) plus its module. Options belong to the kinds that read them;
the kit's run driver (:func:`~nlpdojo_autograder.training.run_training`) resolves them, shows
the progress bar, writes the periodic checkpoints and prints the report; ``dojo sample``
(registered by the topic's plugin, :func:`~nlpdojo_autograder.training.add_sample_command`)
generates from any of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from nlpdojo.data.records import Documents
from nlpdojo.trainers import Trainer
from nlpdojo_autograder.training import (
    ModelRegistry,
    TopicCode,
    options,
    run_training,
)
from nlpdojo_course.language_models.reference_figures import reference_line

TOPIC = "language_models"
#: the modules of a topic folder that the count models run (how a folder is recognised as one)
CODE = TopicCode(TOPIC, ("ngrams.py", "backoff.py", "kneser_ney.py", "sampling.py"))
Code = options.code(TOPIC, "Your folder of the model's topic (language_models; a model another "
                    "topic adds: that topic's, listed below), or the folder holding them "
                    "(default: the topic's folder in ./exercises, else ./<topic>, else the working "
                    "folder).")
Output = options.output("Where to write the checkpoint (.npz)", "lm-MODEL.npz")


def _metric(r: dict[str, Any]) -> str:
    """The closing report: the perplexity on the split every model is scored on (named), the
    add-one unigram model's on the same tokens, and the reference's on that split for scale."""
    split = r.get("heldout", "test")
    unigram = (f"; add-one unigram {r['unigram_perplexity']:.2f} on the same tokens"
               if "unigram_perplexity" in r else "")
    reference = reference_line(r)
    return (f"held-out perplexity {r.get('perplexity', float('nan')):.2f} on "
            f"{r.get('corpus', 'the corpus')}'s {split} split ({r.get('heldout_tokens', 0):,} "
            f"predicted tokens){unigram}" + (f"\n{reference}" if reference else ""))


#: model name → its kind; model-specific option → its flag (for the error when a model does
#: not read it)
MODELS = ModelRegistry(
    "dojo train lm", TOPIC, noun="language model", metric=_metric, records=Documents,
    after="(`dojo sample {output}` generates text)", example="dojo train lm --model ngram",
    kinds={"ngram": "nlpdojo_course.language_models.ngram_models:BUILDER",
           "window": "nlpdojo_course.language_models.neural_models:WINDOW",
           "rnn": "nlpdojo_course.language_models.neural_models:RNN"},
    flags={k: "--" + k.replace("_", "-") for k in (
        "order", "smoothing", "delta", "discount", "min_count", "vocab_size",
        "test_texts", "dim", "hidden", "context", "bptt", "batch_size", "optimizer", "lr",
        "epochs", "max_steps", "backend", "device", "save_every")})


class Heldout(StrEnum):
    valid = "valid"
    test = "test"


class Smoothing(StrEnum):
    add_delta = "add-delta"
    backoff = "backoff"
    kneser_ney = "kneser-ney"


def train_lm(model: str, **given: Any) -> None:
    """The command's work: ``given`` holds every option (``None``: unset)."""
    run_training(MODELS, model, **given)


def lm(
    model: Annotated[str, typer.Option(
        help="The model: ngram (counts), window (fixed-window neural LM), rnn (RNN LM), or "
             "one a later topic adds (an unknown --model lists them all); options marked "
             "ngram: or neural: apply to those models only (neural: to every neural LM).")
    ] = "ngram",
    corpus: Annotated[str, typer.Option(
        help="Corpus: any running-text data set (Documents: sotu, pang-lee-reviews, "
             "brown, or a data-set plugin's; `dojo data list`).")] = "sotu",
    max_documents: Annotated[int | None, typer.Option(
        "--max-documents", "--train-texts",
        min=1, help="Train on the first N documents of the train split only.")] = None,
    order: Annotated[int | None, typer.Option(
        min=1, max=6, help="ngram: n, the context is n − 1 words (default 3).")] = None,
    smoothing: Annotated[Smoothing | None, typer.Option(
        help="ngram: the smoothing (default kneser-ney).")] = None,
    delta: Annotated[float | None, typer.Option(
        min=0.0, help="ngram add-delta: δ (default 0.01).")] = None,
    discount: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="ngram backoff and kneser-ney: d (default 0.75).")] = None,
    min_count: Annotated[int | None, typer.Option(
        min=1, help="ngram: words seen fewer times in the training text become <UNK> "
                    "(default 2).")] = None,
    heldout: Annotated[Heldout, typer.Option(
        help="The split every model's perplexity is measured on: test (the reference figures' "
             "split) or valid (to choose settings on).")] = Heldout.test,
    vocab_size: Annotated[int | None, typer.Option(
        min=2, help="neural: the most frequent training tokens kept, <UNK> included "
                    "(default 10000).")] = None,
    test_texts: Annotated[int | None, typer.Option(
        min=1, help="neural: score the first N documents of the held-out split (default "
                    "all).")] = None,
    dim: Annotated[int | None, typer.Option(
        min=1, help="neural: embedding size (default 64).")] = None,
    hidden: Annotated[int | None, typer.Option(
        min=1, help="neural: hidden layer size (default 128).")] = None,
    context: Annotated[int | None, typer.Option(
        min=1, help="window: words of context, n − 1 (default 4).")] = None,
    bptt: Annotated[int | None, typer.Option(
        min=1, help="recurrent (rnn and the LMs other topics add): steps per window "
                    "(default 35).")] = None,
    batch_size: Annotated[int | None, typer.Option(
        min=1, help="recurrent: parallel streams; window: examples per step (default "
                    "20).")] = None,
    optimizer: Annotated[str | None, typer.Option(
        help="neural: sgd, momentum, adagrad, rmsprop or adam (default: the model's, listed "
             "below).")] = None,
    lr: Annotated[float | None, typer.Option(
        min=0.0, help="neural: learning rate, above 0 (default: the model's, listed "
                      "below).")] = None,
    epochs: Annotated[int | None, typer.Option(
        min=1, help="neural: passes over the training text (default 1).")] = None,
    max_steps: Annotated[int | None, typer.Option(
        min=1, help="neural: stop each epoch after N steps.")] = None,
    backend: Annotated[str | None, typer.Option(help="neural: numpy or torch.")] = None,
    device: Annotated[str | None, typer.Option(help="neural: cpu, cuda, cuda:1...")] = None,
    save_every: Annotated[int | None, typer.Option(
        min=1, help="neural: also write the checkpoint every N steps.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (the neural models' initialisation "
                                              "and shuffling; counting is deterministic).")] = 0,
    code: Code = None,
    solutions: options.Solutions = False,
    output: Output = None,
    progress: options.Progress = True,
) -> None:
    """Train a language model (--model: the models are listed below), save a checkpoint, print
    its perplexity on the --heldout split (every model on the same one) next to the add-one
    unigram model's and, where docs/results.md has it, the reference's."""
    train_lm(model, output=output, code=code, solutions=solutions,
             progress=progress, corpus=corpus, max_documents=max_documents, seed=seed, order=order,
             smoothing=smoothing.value if smoothing is not None else None, delta=delta,
             discount=discount, min_count=min_count, heldout=heldout.value,
             vocab_size=vocab_size,
             test_texts=test_texts, dim=dim, hidden=hidden, context=context, bptt=bptt,
             batch_size=batch_size, optimizer=optimizer, lr=lr, epochs=epochs,
             max_steps=max_steps, backend=backend, device=device, save_every=save_every)


TRAINER = Trainer("lm", TOPIC, "A language model (--model ngram: add-delta, backoff or "
                  "Kneser-Ney counts; window, rnn or a later topic's: neural) on a corpus; "
                  "saves a checkpoint, prints the held-out perplexity next to the add-one "
                  "unigram model's.", lm, models=MODELS)
