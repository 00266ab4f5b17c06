"""``dojo train neural-lm``: train a neural language model on a corpus, report its held-out
perplexity next to the add-one unigram model's, and save a checkpoint.

The language_models topic's training command, registered as :data:`TRAINER` by the
autograder's plugin (``register_trainers``). Which model trains is a choice among
:data:`MODELS`, a dict of builders a module adds to with :func:`register_model` (the neural
models below register themselves; a count model registers the same way from its own module),
so ``--model`` grows without this command changing. A builder gets a :class:`LMRun` (the
chosen code, the backend, the data, the options, the progress callback) and returns an
:class:`LMResult`; the command prints the perplexities and writes the checkpoint. Data are the
grader's (:mod:`.language_models_neural_data`): the same conventions as the graded checks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from nlpdojo.trainers import Trainer
from nlpdojo_autograder.topics.language_models_neural import EVAL_BPTT, rnn_targets
from nlpdojo_autograder.train import TopicCode, TrainError, check_output, require_datasets

TOPIC = "language_models"


@dataclass
class LMRun:
    """What a builder trains with: whose code, the backend, the data and the options."""

    code: Any  # nlpdojo_autograder.train.CodeChoice
    backend: Any
    data: Any  # language_models_neural_data.LMData
    options: dict[str, Any]
    #: call once per training step with (step, loss); it drives the progress bar and saves
    #: the checkpoint every ``--save-every`` steps (through ``state`` of the builder's model)
    on_step: Callable[[int, float], None]
    #: the builder sets it to a function returning the model's parameters (host arrays), so
    #: a checkpoint can be written during training
    state: Callable[[], dict[str, np.ndarray]] | None = None


@dataclass
class LMResult:
    """A trained model: held-out log-probabilities of ``targets`` (the tokens scored, in the
    order scored), the training losses and the parameters for the checkpoint."""

    log_probs: np.ndarray
    targets: np.ndarray
    losses: list[float]
    state: dict[str, np.ndarray]
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LMBuilder:
    """One ``--model`` choice: a one-line summary, the topic modules it runs (how a student's
    folder is recognised), the number of steps it will train (for the progress bar) and the
    training itself."""

    summary: str
    modules: tuple[str, ...]
    steps: Callable[[LMRun], int | None]
    train: Callable[[LMRun], LMResult]
    #: the model's own defaults of options left unset (``optimizer``, ``lr``)
    defaults: dict[str, Any] = field(default_factory=dict)


#: ``--model`` name -> builder
MODELS: dict[str, LMBuilder] = {}


def register_model(name: str, builder: LMBuilder) -> None:
    """Add a ``--model`` choice; a name registered twice is an error."""
    if name in MODELS:
        raise ValueError(f"language model {name!r} is registered twice")
    MODELS[name] = builder


# -- the neural models -------------------------------------------------------------------------
def _windows(run: LMRun) -> int:
    o = run.options
    k = (len(run.data.train_ids) // o["batch_size"] - 1) // o["bptt"]
    per_epoch = k if o["max_steps"] is None else min(k, o["max_steps"])
    return per_epoch * o["epochs"]


def _train_rnn(run: LMRun) -> LMResult:
    o, be, data = run.options, run.backend, run.data
    rnn_lm, training = run.code.load("rnn_lm"), run.code.load("lm_training")
    model = rnn_lm.RNNLM(be, data.vocab_size, o["dim"], o["hidden"], seed=o["seed"])
    run.state = model.state_dict
    losses = rnn_lm.train_rnn_lm(be, model, data.train_ids, batch_size=o["batch_size"],
                                 bptt=o["bptt"], optimizer=o["optimizer"], lr=o["lr"],
                                 epochs=o["epochs"], max_windows=o["max_steps"],
                                 on_step=run.on_step)
    log_probs = training.rnn_log_probs(be, model, data.test_ids, bptt=EVAL_BPTT)
    return LMResult(log_probs, rnn_targets(data.test_ids), losses, model.state_dict(),
                    {"dim": o["dim"], "hidden": o["hidden"]})


def _window_steps(run: LMRun) -> int:
    o = run.options
    per_epoch = -(-len(run.data.train_ids) // o["batch_size"])
    total = per_epoch * o["epochs"]
    return total if o["max_steps"] is None else min(total, o["max_steps"])


def _train_window(run: LMRun) -> LMResult:
    o, be, data = run.options, run.backend, run.data
    window_lm, training = run.code.load("window_lm"), run.code.load("lm_training")
    model = window_lm.WindowLM(be, data.vocab_size, o["context"], o["dim"], o["hidden"],
                               seed=o["seed"])
    run.state = model.state_dict
    losses = training.train_window_lm(be, model, data.train_ids, pad=data.eos,
                                      optimizer=o["optimizer"], lr=o["lr"], epochs=o["epochs"],
                                      batch_size=o["batch_size"], seed=o["seed"],
                                      max_steps=o["max_steps"], on_step=run.on_step)
    log_probs = training.window_log_probs(be, model, data.test_ids, pad=data.eos)
    return LMResult(log_probs, data.test_ids, losses, model.state_dict(),
                    {"dim": o["dim"], "hidden": o["hidden"], "context": o["context"]})


# SGD for the RNN: Adam made its state dynamics chaotic (language_models_neural.RNN_BUDGET)
register_model("rnn", LMBuilder("RNN LM, truncated BPTT over --batch-size streams of --bptt "
                                "steps", ("rnn_lm.py", "lm_training.py"), _windows, _train_rnn,
                                {"optimizer": "sgd", "lr": 0.7}))
register_model("window", LMBuilder("fixed-window neural LM over the previous --context words",
                                   ("window_lm.py", "lm_training.py"), _window_steps,
                                   _train_window, {"optimizer": "adam", "lr": 0.003}))


# -- the command -------------------------------------------------------------------------------
def save_checkpoint(path: Path, model: str, state: dict[str, np.ndarray], words, config,
                    step: int) -> None:
    """Parameters (``param/<name>``), the vocabulary and the settings in one ``.npz``; written
    to a temporary file and renamed, so an interrupted save never leaves half a checkpoint."""
    tmp = path.with_name(path.name + ".partial.npz")
    meta = json.dumps({"model": model, "step": step, **config})
    np.savez(tmp, words=np.asarray(words), meta=np.asarray(meta),
             **{f"param/{k}": v for k, v in state.items()})
    tmp.replace(path)


def lm(
    model: Annotated[str, typer.Option(help="Which model: " + ", ".join(
        f"{k} ({b.summary})" for k, b in MODELS.items()) + ".")] = "rnn",
    corpus: Annotated[str, typer.Option(help="Running-text data set (dojo data list).")] =
    "sotu",
    train_texts: Annotated[int | None, typer.Option(
        min=1, help="Train on the first N documents of the train split (default: all).")] = None,
    test_texts: Annotated[int | None, typer.Option(
        min=1, help="Score the first N documents of the test split (default: all).")] = None,
    vocab_size: Annotated[int, typer.Option(
        min=2, help="The most frequent training tokens kept, <UNK> included.")] = 10000,
    dim: Annotated[int, typer.Option(min=1, help="Embedding size.")] = 64,
    hidden: Annotated[int, typer.Option(min=1, help="Hidden layer size.")] = 128,
    context: Annotated[int, typer.Option(min=1, help="window: words of context (n − 1).")] = 4,
    bptt: Annotated[int, typer.Option(min=1, help="rnn: steps per window.")] = 35,
    batch_size: Annotated[int, typer.Option(
        min=1, help="rnn: parallel streams; window: examples per step.")] = 20,
    optimizer: Annotated[str | None, typer.Option(
        help="sgd, momentum, adagrad, rmsprop or adam (default: rnn sgd, window adam).")] = None,
    lr: Annotated[float | None, typer.Option(
        min=0.0, help="Learning rate (default: rnn 0.7, window 0.003).")] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training text.")] = 1,
    max_steps: Annotated[int | None, typer.Option(
        min=1, help="Stop each epoch after N steps.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    backend: Annotated[str | None, typer.Option(help="numpy or torch.")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1...")] = None,
    code: Annotated[Path | None, typer.Option(
        help="Your language_models folder, or the folder holding it (default: "
             "./exercises/language_models, ./language_models or the working folder).")] = None,
    solutions: Annotated[bool, typer.Option(
        "--solutions", help="Train the reference solutions instead of your code.")] = False,
    output: Annotated[Path, typer.Option(help="Checkpoint (.npz): parameters, vocabulary "
                                              "and settings.")] = Path("lm.npz"),
    save_every: Annotated[int | None, typer.Option(
        min=1, help="Also write the checkpoint every N steps.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train a language model; report held-out perplexity (and the add-one unigram model's) and
    save a checkpoint."""
    from nlpdojo.cli.common import console
    from nlpdojo.selection import load_backend

    if model not in MODELS:
        raise TrainError(f"unknown --model {model!r}; choose one of {', '.join(MODELS)}")
    builder = MODELS[model]
    optimizer = optimizer or builder.defaults.get("optimizer", "adam")
    lr = lr if lr is not None else builder.defaults.get("lr", 0.003)
    if optimizer not in ("sgd", "momentum", "adagrad", "rmsprop", "adam"):
        raise TrainError(f"unknown --optimizer {optimizer!r}; choose sgd, momentum, adagrad, "
                         "rmsprop or adam")
    chosen = TopicCode(TOPIC, builder.modules).choose(code, solutions)
    be = load_backend(backend, device, "float32")
    check_output(output)
    require_datasets([corpus])
    started = time.perf_counter()
    data = lm_data(corpus, train_texts=train_texts, test_texts=test_texts,
                   vocab_size=vocab_size)
    console.print(f"{corpus}: {len(data.train_ids):,} training and {len(data.test_ids):,} "
                  f"held-out tokens, {data.vocab_size:,} words (<UNK> included), prepared in "
                  f"{time.perf_counter() - started:.1f}s; training {model} from "
                  f"{chosen.whose} on {be.name}/{be.device}")
    options = {"dim": dim, "hidden": hidden, "context": context, "bptt": bptt,
               "batch_size": batch_size, "optimizer": optimizer, "lr": lr, "epochs": epochs,
               "max_steps": max_steps, "seed": seed}
    bar = None
    run = LMRun(chosen, be, data, options, on_step=lambda step, loss: None)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=builder.steps(run), unit="step", desc=model, leave=False)

    def on_step(step: int, loss: float) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        if save_every and step % save_every == 0 and run.state is not None:
            save_checkpoint(output, model, run.state(), data.words, options, step)

    run.on_step = on_step
    started = time.perf_counter()
    try:
        with chosen.stubs():
            result = builder.train(run)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    pp = perplexity_of_log_probs(result.log_probs)
    save_checkpoint(output, model, result.state, data.words, {**options, **result.config},
                    len(result.losses))
    final = f"final loss {result.losses[-1]:.4f}; " if result.losses else ""
    console.print(f"trained {len(result.losses):,} steps in {seconds:.1f}s; {final}"
                  f"checkpoint -> {output}")
    console.print(f"held-out perplexity {pp:.2f} on {len(result.targets):,} tokens; add-one "
                  f"unigram {unigram_perplexity(data, result.targets):.2f}")


def lm_data(*args, **kwargs):
    from nlpdojo_autograder.topics.language_models_neural_data import lm_data as load

    return load(*args, **kwargs)


def perplexity_of_log_probs(log_probs: np.ndarray) -> float:
    from nlpdojo_autograder.topics.language_models_neural_data import (
        perplexity_of_log_probs as pp,
    )

    return pp(log_probs)


def unigram_perplexity(data, targets: np.ndarray) -> float:
    from nlpdojo_autograder.topics.language_models_neural_data import unigram_perplexity as pp

    return pp(data, targets)


TRAINER = Trainer("neural-lm", TOPIC, "A neural language model (--model "
                  + "|".join(MODELS) + ") on a corpus; reports held-out perplexity and "
                  "saves a checkpoint.", lm)
