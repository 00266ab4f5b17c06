"""``dojo train lm --model ngram|window|rnn``: train a language model of topic
``language_models`` on a corpus, save a checkpoint and print its held-out perplexity next to the
add-one unigram model's (CS224n lecture 6, "Evaluating language models").

The command knows no model: ``--model NAME`` picks a builder from :data:`MODELS` (name → the
``"module:attribute"`` of its :class:`LMBuilder`, imported only when used), so each kind of model
lives in a module of its own: the count models in :mod:`.ngram_models`, the fixed-window and
RNN LMs in :mod:`.neural_models`. Adding one is one line here
(or :func:`register_model`) plus its module. A builder's ``train(run)`` trains on ``run``'s corpus
with ``run``'s options and returns a :class:`TrainedLM`; ``load(path, code)`` reads its
checkpoint back (``dojo sample``).

Options belong to the models that use them (:attr:`LMBuilder.options`): left unset they take the
model's default (:attr:`LMBuilder.defaults`), and one given for a model that does not use it
(``--order 3 --model rnn``) is an error, not silently ignored.

A checkpoint is a ``.npz`` file whose entry ``meta`` is a JSON object with at least
``{"model": NAME}``; the rest is the builder's. Which code trains (the student's
``exercises/language_models`` or the reference) and the errors (one ``error:`` line, exit code
2) come from the training kit (:mod:`nlpdojo_autograder.training`).
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
from nlpdojo_autograder.training import (
    CodeChoice,
    TopicCode,
    TrainError,
    check_output,
    require_datasets,
)

TOPIC = "language_models"
#: the modules of a topic folder that the count models run (how a folder is recognised as one)
CODE = TopicCode(TOPIC, ("ngrams.py", "backoff.py", "kneser_ney.py", "sampling.py"))

#: model name → its :class:`LMBuilder`, as "module:attribute" (imported when used) or itself
MODELS: dict[str, Any] = {
    "ngram": "nlpdojo_course.language_models.ngram_models:BUILDER",
    "window": "nlpdojo_course.language_models.neural_models:WINDOW",
    "rnn": "nlpdojo_course.language_models.neural_models:RNN",
}


class TrainedLM(Protocol):
    """What ``dojo sample`` needs of a trained model."""

    #: the vocabulary, ids are positions (``</s>`` among them; ``<s>`` and ``<UNK>`` where used)
    tokens: tuple[str, ...]

    def begin(self, batch: int) -> np.ndarray:
        """The history every generated sentence starts from: (batch, t₀) ids."""

    def next_scores(self, history: np.ndarray) -> np.ndarray:
        """log P(next word | history) for every row of ``history`` (B, t): (B, V)."""

    def save(self, path: Path) -> None:
        """Write the checkpoint (a ``.npz`` with a JSON ``meta`` entry)."""


@dataclass
class LMRun:
    """One ``dojo train lm`` run: the corpus, the code that trains, and every option (the
    model's defaults filled in)."""

    corpus: str
    code: CodeChoice
    options: dict[str, Any]
    #: print a line (the CLI's console; a no-op in scripts)
    say: Callable[[str], None] = print
    #: what the builder reports: ``perplexity``, ``heldout_tokens``, ``unigram_perplexity``,
    #: ``steps``, ``final_loss``
    report: dict[str, Any] = field(default_factory=dict)
    #: a model that trains in steps calls ``start(total)`` once it knows how many (the
    #: progress bar), then ``on_step(step, loss)`` after every step (the bar, and the
    #: checkpoint every ``--save-every`` steps)
    start: Callable[[int | None], None] = lambda total: None
    on_step: Callable[[int, float], None] = lambda step, loss: None
    #: set by the builder: the model trained so far, for a checkpoint written during training
    snapshot: Callable[[int], TrainedLM] | None = None


@dataclass(frozen=True)
class LMBuilder:
    """A kind of language model for ``dojo train lm --model NAME``."""

    name: str
    summary: str
    train: Callable[[LMRun], TrainedLM]
    load: Callable[[Path, CodeChoice], TrainedLM]
    #: the files of the topic folder it runs (how a student's folder is recognised)
    modules: tuple[str, ...] = CODE.modules
    #: the model-specific options it reads (keys of :data:`OPTION_FLAGS`)
    options: frozenset[str] = frozenset()
    #: its defaults for those options left unset
    defaults: dict[str, Any] = field(default_factory=dict)
    #: the corpora it can train on (``None``: any running-text data set)
    corpora: tuple[str, ...] | None = None


#: model-specific option → its flag, for the error when a model does not use it
OPTION_FLAGS = {
    "order": "--order", "smoothing": "--smoothing", "delta": "--delta",
    "discount": "--discount", "min_count": "--min-count", "heldout": "--heldout",
    "vocab_size": "--vocab-size", "test_texts": "--test-texts", "dim": "--dim",
    "hidden": "--hidden", "context": "--context", "bptt": "--bptt",
    "batch_size": "--batch-size", "optimizer": "--optimizer", "lr": "--lr",
    "epochs": "--epochs", "max_steps": "--max-steps", "backend": "--backend",
    "device": "--device", "save_every": "--save-every",
}


def register_model(name: str, builder: LMBuilder | str) -> None:
    """Add a ``--model`` choice (an :class:`LMBuilder` or its "module:attribute"); a name
    registered twice is an error."""
    if name in MODELS:
        raise ValueError(f"language model {name!r} is registered twice")
    MODELS[name] = builder


def builder(name: str) -> LMBuilder:
    """The builder of model ``name``; an unknown name lists the models."""
    if name not in MODELS:
        raise TrainError(f"unknown model {name!r}; available: {', '.join(sorted(MODELS))} "
                         "(dojo train lm --model NAME)")
    found = MODELS[name]
    if isinstance(found, str):
        module, attr = found.split(":")
        found = getattr(importlib.import_module(module), attr)
    return found


def resolve_options(found: LMBuilder, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` (``None``: unset) with ``found``'s defaults filled in; a model-specific option
    set for a model that does not read it is an error naming the models that do."""
    stray = [k for k, v in given.items() if v is not None and k in OPTION_FLAGS
             and k not in found.options]
    if stray:
        flags = ", ".join(OPTION_FLAGS[k] for k in stray)
        users = sorted(n for n in MODELS if set(stray) & builder(n).options)
        hint = f" (it is for --model {'/'.join(users)})" if users else ""
        raise TrainError(f"{flags} does not apply to --model {found.name}{hint}; `dojo train lm "
                         "--help` says which option is for which model")
    return {**{k: v for k, v in given.items() if k not in OPTION_FLAGS},
            **{k: given.get(k) if given.get(k) is not None else found.defaults.get(k)
               for k in found.options}}


def read_meta(path: Path) -> dict[str, Any]:
    """The JSON ``meta`` of checkpoint ``path``; a missing or foreign file is a clear error."""
    if path.is_dir():
        raise TrainError(f"{path} is a folder: pass a checkpoint file written by `dojo train lm "
                         "--output FILE`")
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


def train_lm(model: str, *, output: Path, code: Path | None, solutions: bool, progress: bool,
             **given: Any) -> None:
    """The command's work: ``given`` holds every option (``None``: unset)."""
    from nlpdojo.cli.common import console

    found = builder(model)  # an unknown model fails before anything else
    options = resolve_options(found, given)
    corpus = options.pop("corpus")
    chosen = TopicCode(TOPIC, found.modules).choose(code, solutions)
    if found.corpora is not None and corpus not in found.corpora:
        raise TrainError(f"corpus {corpus!r} is not a language-model corpus; choose one of "
                         f"{', '.join(found.corpora)}")
    if options.get("heldout") not in (None, "valid", "test"):
        raise TrainError(f"--heldout {options['heldout']!r}: choose valid or test")
    check_output(output)
    require_datasets([corpus])
    run = LMRun(corpus, chosen, options,
                say=lambda line: console.print(line, markup=False, highlight=False,
                                                  soft_wrap=True))
    bar = None

    def start(total: int | None) -> None:
        nonlocal bar
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="step", desc=model, leave=False)

    def on_step(step: int, loss: float) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        every = options.get("save_every")
        if every and step % every == 0 and run.snapshot is not None:
            run.snapshot(step).save(output)

    run.start, run.on_step = start, on_step
    run.say(f"training the {model} language model ({found.summary}) on {corpus}: "
            f"{chosen.whose}")
    started = time.perf_counter()
    try:
        with chosen.stubs():
            trained = found.train(run)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    trained.save(output)
    r = run.report
    steps = (f"{r['steps']:,} steps, final loss {r['final_loss']:.4f}, "
             if r.get("steps") else "")
    unigram = (f"; add-one unigram {r['unigram_perplexity']:.2f}"
               if "unigram_perplexity" in r else "")
    run.say(f"held-out perplexity {r.get('perplexity', float('nan')):.2f} over "
            f"{r.get('heldout_tokens', 0):,} predicted tokens ({r.get('heldout', 'test')})"
            f"{unigram}")
    run.say(f"trained ({steps}{seconds:.1f}s); checkpoint -> {output} (`dojo sample {output}` "
            "generates text)")


def lm(
    model: Annotated[str, typer.Option(
        help="The model: ngram (counts), window (fixed-window neural LM) or rnn (RNN LM); "
             "options marked ngram: or neural: apply to those models only.")] = "ngram",
    corpus: Annotated[str, typer.Option(
        help="Corpus: sotu or pang-lee-reviews (neural: any running-text data set).")] = "sotu",
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
    heldout: Annotated[str | None, typer.Option(
        help="ngram: the split the perplexity is measured on, valid or test (default valid); "
             "the neural models are scored on the test split.")] = None,
    vocab_size: Annotated[int | None, typer.Option(
        min=2, help="neural: the most frequent training tokens kept, <UNK> included "
                    "(default 10000).")] = None,
    test_texts: Annotated[int | None, typer.Option(
        min=1, help="neural: score the first N documents of the test split (default "
                    "all).")] = None,
    dim: Annotated[int | None, typer.Option(
        min=1, help="neural: embedding size (default 64).")] = None,
    hidden: Annotated[int | None, typer.Option(
        min=1, help="neural: hidden layer size (default 128).")] = None,
    context: Annotated[int | None, typer.Option(
        min=1, help="window: words of context, n − 1 (default 4).")] = None,
    bptt: Annotated[int | None, typer.Option(
        min=1, help="rnn: steps per window (default 35).")] = None,
    batch_size: Annotated[int | None, typer.Option(
        min=1, help="rnn: parallel streams; window: examples per step (default "
                    "20).")] = None,
    optimizer: Annotated[str | None, typer.Option(
        help="neural: sgd, momentum, adagrad, rmsprop or adam (default rnn sgd, window "
             "adam).")] = None,
    lr: Annotated[float | None, typer.Option(
        min=0.0, help="neural: learning rate (default rnn 0.7, window 0.003).")] = None,
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
    code: Annotated[Path | None, typer.Option(
        help="Your language_models folder, or the folder holding it (default: "
             "./exercises/language_models, ./language_models or the working folder).")] = None,
    solutions: Annotated[bool, typer.Option(
        "--solutions", help="Train the reference solutions instead of your code.")] = False,
    output: Annotated[Path, typer.Option(help="Where to write the checkpoint (.npz).")] = Path(
        "lm.npz"),
    progress: Annotated[bool, typer.Option(help="Show a progress bar (neural models).")] = True,
) -> None:
    """Train a language model (--model ngram, window or rnn), save a checkpoint, print its
    held-out perplexity and the add-one unigram model's."""
    train_lm(model, output=output, code=code, solutions=solutions, progress=progress,
             corpus=corpus, max_documents=max_documents, seed=seed, order=order,
             smoothing=smoothing.value if smoothing is not None else None, delta=delta,
             discount=discount, min_count=min_count, heldout=heldout, vocab_size=vocab_size,
             test_texts=test_texts, dim=dim, hidden=hidden, context=context, bptt=bptt,
             batch_size=batch_size, optimizer=optimizer, lr=lr, epochs=epochs,
             max_steps=max_steps, backend=backend, device=device, save_every=save_every)


TRAINER = Trainer("lm", TOPIC, "A language model (--model ngram: add-delta, backoff or "
                  "Kneser-Ney counts; window or rnn: neural) on a corpus; saves a checkpoint, "
                  "prints the held-out perplexity next to the add-one unigram model's.", lm)
