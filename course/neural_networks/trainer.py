"""``dojo train tagger``: train the window tagger (Collobert et al. 2011, the window approach)
on a tagged corpus from the command line, save a checkpoint, resume it, evaluate it.

The neural_networks topic's training command, registered as :data:`TRAINER` by the topic's
plugin (``register_trainers`` in :mod:`nlpdojo_course.neural_networks`). It trains the
student's ``exercises/neural_networks`` (its ``WindowClassifier`` on the student's course
library: ``Linear``, ``Tanh``, ``Dropout``, ``SoftmaxCrossEntropy`` and the chosen
optimizer), or the reference with ``--solutions``, through that folder's given ``tagger.py``,
and reports the held-out accuracy next to the most-frequent-tag baseline.
``--compare-optimizers`` trains one tagger per optimizer of the library and plots their
training losses (``--plot``).

A checkpoint is the training kit's (:mod:`nlpdojo_autograder.training.checkpoint`): the
model's parameters, the optimizer's state and a JSON header (the settings, the epochs done, the
vocabulary and the tag set), no pickles; version 1 files (before the kit) still load. It goes
to the training kit's outputs folder unless ``--output`` names a folder
(:func:`~nlpdojo_autograder.training.output_path`), so a run from ``exercises/`` leaves nothing
there for ``grade`` to find.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from nlpdojo.cli.common import console
from nlpdojo.data.records import TaggedSentences
from nlpdojo.selection import load_backend
from nlpdojo.trainers import Trainer
from nlpdojo_autograder.training import (
    CheckpointFiles,
    ModelRegistry,
    TopicCode,
    TrainError,
    check_finite,
    check_output,
    input_path,
    options,
    output_path,
    read_checkpoint,
    read_meta,
    require_datasets,
    require_records,
    restore,
    resume_epoch,
    run_epochs,
    run_training,
    say,
)
from nlpdojo_course.neural_networks.data import most_frequent_tag_accuracy, tagging_data

TOPIC = "neural_networks"
CODE = TopicCode(TOPIC, ("tagger.py", "window.py"))
FILES = CheckpointFiles("dojo train tagger", what="a tagger checkpoint")
Code = options.code(TOPIC)
Output = options.output("Checkpoint file (.npz), written after every epoch",
                        default="tagger.npz; tagger-MODEL.npz for another --model")
OPTIMIZER_NAMES = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
#: per optimizer, the best of a grid (x3 steps) after one epoch on 3,000 OANC sentences in
#: batches of 64 (held-out accuracy): SGD 1.0 (0.3: 0.67, 1.0: 0.71), momentum 0.1 (0.03:
#: 0.71, 0.1: 0.81), Adagrad 0.05 (0.03 and 0.1: 0.84), RMSProp 0.003 (0.001: 0.80, 0.003:
#: 0.84), Adam 0.003 (0.001: 0.82, 0.003: 0.85, 0.01: 0.84)
DEFAULT_LR = {"sgd": 1.0, "momentum": 0.1, "adagrad": 0.05, "rmsprop": 0.003, "adam": 0.003}
#: the window tagger's settings left unset (another --model has its own: MODELS)
WINDOW_DEFAULTS = {"optimizer": "adam", "epochs": 3, "dropout": 0.0, "dim": 50, "hidden": 100,
                   "batch_size": 64}
#: what a checkpoint that does not fit the model was probably saved with
MISFIT = ("; was it saved with other --dim/--hidden options or another version of your "
          "WindowClassifier?")


# -- data and evaluation ----------------------------------------------------------------------
def load_data(settings: dict[str, Any]):
    """The tagging data of ``settings`` (vocabulary from the training split only); a corpus
    of other records than tagged sentences (MR's labelled ones) is refused, naming those that
    hold them."""
    require_records(settings["dataset"], TaggedSentences, "a tagged corpus")
    require_datasets([settings["dataset"]])
    return tagging_data(settings["dataset"], train_sentences=settings["train_sentences"],
                        test_sentences=None, half_window=settings["half_window"],
                        min_count=settings["min_count"])


def accuracy(tagger: Any, backend: Any, model: Any, data: Any) -> float:
    """Held-out accuracy of ``model`` (the given ``tagger.predict``, in eval mode)."""
    predicted = tagger.predict(backend, model, data.test_windows)
    return float(np.mean(predicted == data.test_tags))


def _check_same_data(meta: dict[str, Any], data: Any, path: Path) -> None:
    if list(meta["words"]) != list(data.words) or list(meta["tags"]) != list(data.tags):
        raise TrainError(f"{path} was trained on another vocabulary or tag set than "
                         f"{meta['dataset']} gives here; train it again")


# -- the command ------------------------------------------------------------------------------
def _optimizer_name(name: str) -> str:
    key = name.lower()
    if key not in OPTIMIZER_NAMES:
        raise TrainError(f"unknown optimizer {name!r}: choose one of "
                         f"{', '.join(OPTIMIZER_NAMES)} (the optimizers of your course library)")
    return key


def _metric(r: dict[str, Any]) -> str:
    """A run's report: the accuracy on every held-out word beside its baseline, and, where
    the model measures it (``--model char``), on the words seen fewer than twice in
    training beside theirs."""
    line = (f"held-out accuracy {r['accuracy']:.4f} on {r['tokens']:,} tokens; "
            f"most-frequent-tag baseline {r['baseline']:.4f} "
            f"({100 * (r['accuracy'] - r['baseline']):+.2f} points)")
    if "unknown" in r:
        line += (f"; on the {r['unknown_tokens']:,} words seen fewer than twice in training "
                 f"{r['unknown']:.4f}, their most frequent tag {r['unknown_baseline']:.4f} "
                 f"({100 * (r['unknown'] - r['unknown_baseline']):+.2f} points)")
    return line


#: the taggers other topics add (``register_model_kinds``: cnn_text's ``--model char``); the
#: window tagger is the command's own
MODELS = ModelRegistry(
    "dojo train tagger", TOPIC, noun="tagger", metric=_metric,
    example="dojo train tagger --model char", records=TaggedSentences,
    flags={k: "--" + k.replace("_", "-") for k in ("dim", "hidden", "dropout",
                                                   "train_sentences")})
def _taggers() -> str:
    """Every --model the command takes: its own window tagger, then the others'."""
    return ", ".join(["window", *sorted(MODELS)])


#: what only the window tagger does
WINDOW_ONLY = ("--optimizer", "--resume", "--compare-optimizers", "--plot")


def tagger(
    model: Annotated[str, typer.Option(
        help="The tagger: window (this topic's WindowClassifier), or one a later topic adds "
             "(an unknown --model lists them all).")] = "window",
    optimizer: Annotated[str | None, typer.Option(
        help="--model window: sgd, momentum, adagrad, rmsprop or adam (your library's; "
             "default adam).")] = None,
    lr: Annotated[float | None, typer.Option(
        min=0.0, help="Learning rate (default per optimizer: sgd 1.0, momentum 0.1, "
                      "adagrad 0.05, rmsprop 0.003, adam 0.003; another --model's own).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(
        min=1, help="Passes over the training split (in all, when resuming; default 3, "
                    "another --model's own).")] = None,
    dropout: Annotated[float | None, typer.Option(
        min=0.0, max=0.95, help="Dropout on the hidden layer (0: off; the default).")] = None,
    dim: Annotated[int | None, typer.Option(min=1, help="Word vector size (default 50).")
                   ] = None,
    hidden: Annotated[int | None, typer.Option(min=1, help="Hidden units (default 100).")
                      ] = None,
    batch_size: Annotated[int | None, typer.Option(
        min=1, help="Windows per step (default 64, another --model's own).")] = None,
    dataset: Annotated[str, typer.Option(
        help="Tagged corpus: oanc-pos, wsj-pos (dojo data list).")] = "oanc-pos",
    train_sentences: Annotated[int | None, typer.Option(
        min=1, help="Use the first N training sentences only.")] = None,
    seed: options.Seed = 0,
    backend: options.Backend = None,
    device: options.Device = None,
    code: Code = None,
    solutions: options.Solutions = False,
    output: Output = None,
    resume: Annotated[bool, typer.Option(
        "--resume",
        help="--model window: continue the checkpoint at --output, with its settings, up to "
             "--epochs.")
    ] = False,
    evaluate: Annotated[str | None, typer.Option(
        help="Load this checkpoint and report its held-out accuracy; no training (a bare "
             "name: the one in the outputs folder; any tagger's: the checkpoint names its "
             "model).")] = None,
    compare_optimizers: Annotated[bool, typer.Option(
        "--compare-optimizers", help="Train one tagger per optimizer (each with its default "
        "learning rate) and compare losses and accuracy; no checkpoint.")] = False,
    plot: Annotated[str | None, typer.Option(
        help="With --compare-optimizers: write the training losses as a PNG (a bare name: "
             "in the outputs folder).")] = None,
    progress: options.Progress = True,
) -> None:
    """Train the window tagger (your WindowClassifier, loss and optimizer) on a tagged corpus;
    report held-out accuracy against the most-frequent-tag baseline; save a checkpoint."""
    evaluate = None if evaluate is None else input_path(evaluate)
    if evaluate is not None:  # the checkpoint says which tagger it is
        saved_model = str(read_meta(evaluate, FILES).get("model", "window"))
        if saved_model != "window":
            _evaluate_other(saved_model, evaluate, code, solutions, backend, device)
            return
        if model != "window":
            raise TrainError(f"{evaluate} is a checkpoint of the window tagger: --evaluate it "
                             f"without --model {model}")
    if model != "window":
        given = {"--optimizer": optimizer is not None, "--resume": resume,
                 "--compare-optimizers": compare_optimizers, "--plot": plot is not None}
        if model not in MODELS:
            raise TrainError(f"unknown model {model!r}; available: {_taggers()} (dojo train "
                             "tagger --model NAME)")
        stray = [flag for flag in WINDOW_ONLY if given[flag]]
        if stray:
            raise TrainError(f"{' and '.join(stray)} {'is' if len(stray) == 1 else 'are'} for "
                             f"--model window only; --model {model} trains from scratch with "
                             "its own optimizer")
        run_training(MODELS, model, output=output, code=code, solutions=solutions,
                     progress=options.shown(progress), corpus=dataset, seed=seed,
                     epochs=epochs, lr=lr, batch_size=batch_size, dim=dim, hidden=hidden,
                     dropout=dropout,
                     train_sentences=train_sentences, backend=backend, device=device)
        return
    unset = {"optimizer": optimizer, "epochs": epochs, "dropout": dropout, "dim": dim,
             "hidden": hidden, "batch_size": batch_size}
    optimizer, epochs, dropout, dim, hidden, batch_size = (
        WINDOW_DEFAULTS[k] if v is None else v for k, v in unset.items())
    optimizer = _optimizer_name(optimizer)
    output = output_path(output, "tagger.npz")
    plot = None if plot is None else output_path(plot, "losses.png")
    if plot is not None and not compare_optimizers:
        raise TrainError("--plot draws the curves of --compare-optimizers: add that option")
    if sum((resume, evaluate is not None, compare_optimizers)) > 1:
        raise TrainError("--resume, --evaluate and --compare-optimizers are separate runs: "
                         "choose one")
    chosen = CODE.choose(code, solutions)
    be = load_backend(backend, device, "float32")
    module = chosen.load("tagger")
    for path in (output, plot):
        if path is not None:
            check_output(path)

    if evaluate is not None:
        saved = read_checkpoint(evaluate, FILES)
        meta = saved.meta
        data = load_data(meta)
        _check_same_data(meta, data, evaluate)
        with chosen.stubs():
            model, _ = _build(module, be, meta, data)
            restore(saved, model, None, evaluate, "this tagger", MISFIT)
            acc = accuracy(module, be, model, data)
        say(f"{evaluate}: {meta['epochs_done']} epoch(s) of {meta['optimizer']} on "
            f"{meta['dataset']}; evaluated with {chosen.whose} on {be.name}/"
            f"{be.device}")
        _report(console, acc, most_frequent_tag_accuracy(data), len(data.test_tags))
        return

    settings = {"dataset": dataset, "train_sentences": train_sentences, "half_window": 2,
                "min_count": 2, "dim": dim, "hidden": hidden, "dropout": dropout,
                "optimizer": optimizer, "lr": DEFAULT_LR[optimizer] if lr is None else lr,
                "batch_size": batch_size, "seed": seed}
    start_epoch, saved = 0, None
    if resume:  # the checkpoint's settings win: only --epochs is read
        saved = read_checkpoint(output, FILES)
        meta = saved.meta
        if meta.get("model", "window") != "window":
            raise TrainError(f"{output} is a checkpoint of --model {meta['model']}, which "
                             "does not resume: train it again with --model "
                             f"{meta['model']} --epochs N, or --evaluate it")
        settings = {k: meta[k] for k in settings}
        start_epoch = resume_epoch(meta, epochs, output)
    started = time.perf_counter()
    data = load_data(settings)
    baseline = most_frequent_tag_accuracy(data)
    say(f"{settings['dataset']}: {len(data.train_tags):,} training and "
        f"{len(data.test_tags):,} held-out tokens, {data.vocab_size:,} words, "
        f"{data.n_tags} tags, prepared in {time.perf_counter() - started:.1f}s; "
        f"training {chosen.whose} on {be.name}/{be.device}")

    progress = options.shown(progress)  # no bar frames piped or in a CI log
    if compare_optimizers:
        _compare(console, chosen, module, be, data, settings, epochs, plot, baseline,
                 progress)
        return

    with chosen.stubs():
        model, opt = _build(module, be, settings, data)
        if saved is not None:
            restore(saved, model, opt, output, "this tagger", MISFIT)
            _check_same_data(meta, data, output)
            say(f"resumed {output} after epoch {start_epoch} with its settings ("
                + ", ".join(f"{k} {settings[k]}" for k in ("optimizer", "lr", "dropout",
                                                           "seed"))
                + ")")
        acc = run_epochs(
            lambda epoch: module.train_epochs(
                be, model, opt, data.train_windows, data.train_tags, epochs=epoch + 1,
                start_epoch=epoch, batch_size=settings["batch_size"], seed=settings["seed"],
                progress=progress),
            lambda: accuracy(module, be, model, data), start=start_epoch, epochs=epochs,
            output=output, model=model, optimizer=opt, what=_what(settings), topic=TOPIC,
            meta=lambda done, acc: {**settings, "epochs_done": done, "words": list(data.words),
                                    "tags": list(data.tags), "accuracy": acc},
            say=say)
    _report(console, acc, baseline, len(data.test_tags))


def _evaluate_other(model: str, path: Path, code: Path | None, solutions: bool,
                    backend: str | None, device: str | None) -> None:
    """``--evaluate`` of a checkpoint of a tagger another topic adds (its meta names it): the
    kind reads it back and scores it again with the chosen code."""
    if model not in MODELS:
        raise TrainError(f"{path} is a checkpoint of --model {model}, which no installed topic "
                         f"adds here (available: {_taggers()})")
    kind = MODELS.get(model)
    chosen = kind.code(MODELS.topic).choose(code, solutions)
    be = load_backend(backend, device, "float32")
    with chosen.stubs():
        loaded = kind.load(path, chosen)
        report = loaded.evaluate(chosen, be)
    meta = getattr(loaded, "meta", {})
    say(f"{path}: --model {model}, {meta.get('epochs', '?')} epoch(s) on "
        f"{meta.get('corpus', '?')}; evaluated with {chosen.whose} on {be.name}/{be.device}")
    say(_metric(report))


def _build(module: Any, be: Any, settings: dict[str, Any], data: Any):
    return module.build_tagger(be, vocab_size=data.vocab_size, n_tags=data.n_tags,
                               window=data.train_windows.shape[1], dim=settings["dim"],
                               hidden=settings["hidden"], dropout=settings["dropout"],
                               optimizer=settings["optimizer"], lr=settings["lr"],
                               seed=settings["seed"])


def _what(settings: dict[str, Any]) -> str:
    return f"{settings['optimizer']}, lr {settings['lr']}"


def _report(console: Any, acc: float, baseline: float, n: int) -> None:
    say(_metric({"accuracy": acc, "baseline": baseline, "tokens": n}))


def _compare(console: Any, chosen: Any, module: Any, be: Any, data: Any,
             settings: dict[str, Any], epochs: int, plot: Path | None,
             baseline: float, progress: bool = True) -> None:
    """One tagger per optimizer, each with its default learning rate, the same seed and
    data: final losses and accuracies, and the loss curves as a PNG."""
    curves, rows = {}, []
    with chosen.stubs():
        for name in OPTIMIZER_NAMES:
            run = {**settings, "optimizer": name, "lr": DEFAULT_LR[name]}
            model, losses = module.train_tagger(
                be, data.train_windows, data.train_tags, vocab_size=data.vocab_size,
                n_tags=data.n_tags, dim=run["dim"], hidden=run["hidden"],
                dropout=run["dropout"], optimizer=name, lr=run["lr"], epochs=epochs,
                batch_size=run["batch_size"], seed=run["seed"], progress=progress)
            check_finite(losses, _what(run), TOPIC)
            curves[f"{name} (lr {run['lr']:g})"] = losses
            rows.append((name, run["lr"], float(np.mean(losses[-100:])),
                         accuracy(module, be, model, data)))
    table = Table(title=f"{epochs} epoch(s) per optimizer, batches of {settings['batch_size']}")
    for column in ("optimizer", "lr", "final loss (last 100 steps)", "held-out accuracy"):
        table.add_column(column)
    for name, rate, loss, acc in rows:
        table.add_row(name, f"{rate:g}", f"{loss:.4f}", f"{acc:.4f}")
    console.print(table)
    say(f"most-frequent-tag baseline {baseline:.4f}")
    if plot is not None:
        plots = chosen.load("plots")
        plots.plot_losses(curves, plot)
        say(f"training losses -> {plot}")


TRAINER = Trainer("tagger", TOPIC, "The window tagger (or a later topic's: --model char) on a "
                  "tagged corpus: held-out accuracy against the most-frequent-tag baseline; "
                  "checkpoints; optimizers compared.", tagger, models=MODELS)
