"""``dojo train lm``: train a language model of topic ``language_models`` on a corpus, save a
checkpoint and print its held-out perplexity.

The command knows no model: ``--model NAME`` picks a builder from :data:`MODELS` (name → the
module that defines it, imported only when used), so each kind of model lives in a module of
its own (``language_models_ngram.py`` for the count models) and adding one (``window``,
``rnn``) is one line here plus its module. A builder is an :class:`LMBuilder`: ``train(run)``
trains on ``run``'s corpus with ``run``'s options and returns a :class:`TrainedLM`;
``load(path, code)`` reads a checkpoint back (``dojo sample``).

A checkpoint is a ``.npz`` file whose entry ``meta`` is a JSON object with at least
``{"model": NAME, "tokens": [...]}``; the rest is the builder's. Which code trains (the
student's ``exercises/language_models`` or the reference) and the errors (one ``error:`` line,
exit code 2) come from :mod:`nlpdojo_autograder.train`.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol

import numpy as np
import typer

from nlpdojo.trainers import Trainer
from nlpdojo_autograder.topics.language_models_data import CORPORA
from nlpdojo_autograder.train import (
    CodeChoice,
    TopicCode,
    TrainError,
    check_output,
    require_datasets,
)

TOPIC = "language_models"
#: the modules of a topic folder that the count models run (how a folder is recognised as one)
CODE = TopicCode(TOPIC, ("ngrams.py", "backoff.py", "kneser_ney.py", "sampling.py"))

#: model name → "module:attribute" of its :class:`LMBuilder` (imported when used)
MODELS: dict[str, str] = {
    "ngram": "nlpdojo_autograder.topics.language_models_ngram:BUILDER",
}


class TrainedLM(Protocol):
    """What ``dojo sample`` needs of a trained model."""

    #: the vocabulary, ids are positions (``<s>``, ``</s>`` and ``<UNK>`` among them)
    tokens: tuple[str, ...]

    def begin(self, batch: int) -> np.ndarray:
        """The history every generated sentence starts from: (batch, t₀) ids (n − 1 ``<s>``)."""

    def next_scores(self, history: np.ndarray) -> np.ndarray:
        """log P(next word | history) for every row of ``history`` (B, t): (B, V)."""

    def save(self, path: Path) -> None:
        """Write the checkpoint (a ``.npz`` with a JSON ``meta`` entry)."""


@dataclass
class LMRun:
    """One ``dojo train lm`` run: the corpus, the code that trains, and every option."""

    corpus: str
    code: CodeChoice
    options: dict[str, Any]
    #: print a line (the CLI's console; a no-op in scripts)
    say: Callable[[str], None] = print
    #: what the builder reports: held-out perplexity, sizes, seconds
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LMBuilder:
    """A kind of language model for ``dojo train lm --model NAME``."""

    name: str
    summary: str
    train: Callable[[LMRun], TrainedLM]
    load: Callable[[Path, CodeChoice], TrainedLM]


def builder(name: str) -> LMBuilder:
    """The builder of model ``name``; an unknown name lists the models."""
    if name not in MODELS:
        raise TrainError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))} "
                         "(dojo train lm --model NAME)")
    module, attr = MODELS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def read_meta(path: Path) -> dict[str, Any]:
    """The JSON ``meta`` of checkpoint ``path``; a missing or foreign file is a clear error."""
    if not path.is_file():
        raise TrainError(f"no checkpoint {path}: train one first, e.g. `dojo train lm --model "
                         f"ngram --output {path}`")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
        raise TrainError(f"{path} is not a checkpoint of `dojo train lm` ({exc})") from exc
    if not isinstance(meta, dict) or "model" not in meta:
        raise TrainError(f"{path} is not a checkpoint of `dojo train lm` (no model name)")
    return meta


def load_checkpoint(path: Path, code: CodeChoice) -> tuple[TrainedLM, dict[str, Any]]:
    """The model saved in ``path`` and its meta, by the builder its meta names."""
    meta = read_meta(path)
    return builder(str(meta["model"])).load(path, code), meta


class Smoothing(StrEnum):
    add_delta = "add-delta"
    backoff = "backoff"
    kneser_ney = "kneser-ney"


def lm(
    model: Annotated[str, typer.Option(help=f"The model: {', '.join(MODELS)}.")] = "ngram",
    corpus: Annotated[str, typer.Option(help=f"Corpus: {' or '.join(CORPORA)}.")] = "sotu",
    order: Annotated[int, typer.Option(min=1, max=6, help="ngram: n (the context is n − 1 "
                                                          "words).")] = 3,
    smoothing: Annotated[Smoothing, typer.Option(help="ngram: the smoothing.")] = (
        Smoothing.kneser_ney),
    delta: Annotated[float, typer.Option(min=0.0, help="ngram add-delta: δ.")] = 0.01,
    discount: Annotated[float, typer.Option(min=0.0, max=1.0, help="ngram backoff and "
                                                                   "kneser-ney: d.")] = 0.75,
    min_count: Annotated[int, typer.Option(min=1, help="Words seen fewer times in the "
                                                       "training text become <UNK>.")] = 2,
    max_documents: Annotated[int | None, typer.Option(
        min=1, help="Train on the first N documents of the train split only.")] = None,
    heldout: Annotated[str, typer.Option(help="The split the perplexity is measured on: "
                                              "valid or test.")] = "valid",
    seed: Annotated[int, typer.Option(help="Random seed (models that draw random numbers; "
                                              "counting is deterministic).")] = 0,
    code: Annotated[Path | None, typer.Option(
        help="Your language_models folder, or the folder holding it (default: "
             "./exercises/language_models, ./language_models or the working folder).")] = None,
    solutions: Annotated[bool, typer.Option(
        "--solutions", help="Train the reference solutions instead of your code.")] = False,
    output: Annotated[Path, typer.Option(help="Where to write the checkpoint (.npz).")] = Path(
        "lm.npz"),
) -> None:
    """Train a language model, save a checkpoint, print its held-out perplexity."""
    from nlpdojo.cli.common import console

    chosen = CODE.choose(code, solutions)  # a wrong --code fails before anything else
    found = builder(model)
    if corpus not in CORPORA:
        raise TrainError(f"corpus {corpus!r} is not a language-model corpus; choose one of "
                         f"{', '.join(CORPORA)}")
    if heldout not in ("valid", "test"):
        raise TrainError(f"--heldout {heldout!r}: choose valid or test")
    check_output(output)
    require_datasets([corpus])
    run = LMRun(corpus, chosen, {"order": order, "smoothing": smoothing.value, "delta": delta,
                                 "discount": discount, "min_count": min_count,
                                 "max_documents": max_documents, "heldout": heldout,
                                 "seed": seed},
                say=lambda line: console.print(line, markup=False, highlight=False,
                                                  soft_wrap=True))
    run.say(f"training the {model} language model ({found.summary}) on {corpus}: "
            f"{chosen.whose}")
    started = time.perf_counter()
    with chosen.stubs():
        trained = found.train(run)
    trained.save(output)
    ppl, tokens = run.report.get("perplexity", float("nan")), run.report.get("heldout_tokens", 0)
    run.say(f"held-out ({heldout}) perplexity {ppl:.2f} over {tokens:,} "
            f"predicted tokens; trained in {time.perf_counter() - started:.1f}s; checkpoint -> "
            f"{output} (`dojo sample {output}` generates text)")


TRAINER = Trainer("lm", TOPIC, "A language model (--model ngram: add-delta, backoff or "
                  "Kneser-Ney) on sotu or pang-lee-reviews; saves a checkpoint, prints the "
                  "held-out perplexity.", lm)
