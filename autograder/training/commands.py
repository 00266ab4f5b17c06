"""``dojo train`` plumbing written once: a registry of model kinds with their own options, and
the one driver that runs any of them (CS224n's training loop, seen from the command line).

A topic's training command picks a model with ``--model NAME`` from a :class:`ModelRegistry`
(name → :class:`ModelKind`, or its ``"module:attribute"``, imported only when used). A kind
names the topic files it runs, the options it reads and their defaults: an option left unset
takes the kind's default, one given to a kind that does not read it is an error naming the
kinds that do. :func:`run_training` then does what every run does: choose the code
(:class:`~nlpdojo_autograder.training.train.TopicCode`), check the output folder and the data, print
what trains, show a progress bar, write a checkpoint every ``--save-every`` steps, turn an
untouched stub's ``NotImplementedError`` into one clear error, save, and print the closing
report (the metric line and "trained (steps, final loss, time); checkpoint -> FILE").

A kind's ``train(run)`` gets a :class:`Run` (the corpus, the chosen code, the options) and
returns a trained model with ``save(path)``; a model that trains in steps calls
``run.start(total)`` once and ``run.on_step(step, loss)`` after every step, sets
``run.snapshot`` (the model so far, for the periodic checkpoint) and fills ``run.report``.
Adding a kind to a registry is one line::

    MODELS = ModelRegistry("dojo train lm", "my_topic", flags={"hidden": "--hidden"},
                           noun="language model", kinds={"rnn": "my_pkg.models:RNN"})
    MODELS.register("lstm", ModelKind("lstm", "LSTM LM", train, load, ("lstm.py",),
                                      frozenset({"hidden"}), {"hidden": 128}))
    # in the command: run_training(MODELS, model, output=output, code=..., solutions=...,
    #                              progress=..., corpus=corpus, hidden=hidden)

Without ``--output`` a run writes ``<trainer>-<model>.npz`` (``lm-lstm.npz``) in the outputs
folder: each model keeps its own checkpoint.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.cli.common import console
from nlpdojo.data import get_dataset
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.training.checkpoint import CheckpointFiles, read_meta, save_training
from nlpdojo_autograder.training.train import (
    CodeChoice,
    TopicCode,
    TrainError,
    check_output,
    output_path,
    require_datasets,
    shown_output,
)


def say(line: str) -> None:
    """Print one line on ``dojo``'s console, as written (no markup, no wrapping)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


@dataclass
class Run:
    """One training run: the corpus, the code that trains, and every option (the kind's
    defaults filled in)."""

    corpus: str
    code: CodeChoice
    options: dict[str, Any]
    #: print a line (the CLI's console; a no-op in scripts)
    say: Callable[[str], None] = print
    #: what the kind reports: its metric (e.g. ``perplexity``, ``heldout_tokens``),
    #: ``steps`` and ``final_loss``
    report: dict[str, Any] = field(default_factory=dict)
    #: ``start(total)`` once the number of steps is known (the progress bar), then
    #: ``on_step(step, loss)`` after every step (the bar, the periodic checkpoint)
    start: Callable[[int | None], None] = lambda total: None
    on_step: Callable[[int, float], None] = lambda step, loss: None
    #: set by the kind: the model trained so far, for a checkpoint written during training
    snapshot: Callable[[int], Any] | None = None


@dataclass(frozen=True)
class ModelKind:
    """A kind of model for ``--model NAME``: ``train(run) -> model`` (a model has
    ``save(path)``), ``load(path, code) -> model`` (its checkpoint read back)."""

    name: str
    summary: str
    train: Callable[[Run], Any]
    load: Callable[[Path, CodeChoice], Any]
    #: the files of the topic folder it runs (how a student's folder is recognised)
    modules: tuple[str, ...] = ()
    #: the model-specific options it reads (keys of :attr:`ModelRegistry.flags`)
    options: frozenset[str] = frozenset()
    #: its defaults for those options left unset
    defaults: dict[str, Any] = field(default_factory=dict)
    #: the corpora it can train on (``None``: any the data checks accept)
    corpora: tuple[str, ...] | None = None
    #: checks of the resolved options, run before any data are read (raise TrainError)
    validate: Callable[[dict[str, Any]], None] | None = None
    #: the topic whose folder holds ``modules`` (``None``: the registry's): a kind another
    #: topic adds to another topic's command (a later lecture's LM in ``dojo train lm``)
    topic: str | None = None

    def code(self, registry_topic: str) -> TopicCode:
        """Where the code it runs lives: its topic's folder (or the reference's package)."""
        return TopicCode(self.topic or registry_topic, self.modules)


@dataclass
class ModelRegistry:
    """The kinds one training command chooses from, and how it reports a run.

    ``command``: the command line that trains them (``dojo train lm``); ``topic``: whose
    folder the code is; ``flags``: model-specific option → its flag (an option not listed is
    common to every kind); ``noun``: what a kind is called in the first line ("language
    model"); ``metric``: the report's metric line from ``run.report`` (with ``model``,
    ``corpus`` and the run's options); ``after``: what to do
    with the checkpoint (``{output}`` is filled in)."""

    command: str
    topic: str
    flags: dict[str, str]
    noun: str = "model"
    kinds: dict[str, ModelKind | str] = field(default_factory=dict)
    metric: Callable[[dict[str, Any]], str] | None = None
    after: str = ""
    example: str = ""
    #: what every kind's corpus holds (``Documents``: running text; ``None``: as each kind
    #: says): any registered data set of those records is a corpus of the command, a data-set
    #: plugin's too (:func:`require_records`)
    records: type | None = None

    @property
    def trainer(self) -> str:
        """The trainer's name (``lm`` of ``dojo train lm``), under which other plugins add
        kinds (the ``register_model_kinds`` hook)."""
        return self.command.split()[-1]

    def added(self) -> dict[str, ModelKind | str]:
        """The kinds other plugins added to this command (``register_model_kinds``); one
        named as a kind of the command's own is an error naming its plugin."""
        found = {}
        for entry in get_registry().entries("model_kind"):
            if entry.meta.get("trainer") != self.trainer:
                continue
            if entry.name in self.kinds:
                raise TrainError(f"plugin {entry.plugin!r} adds a model {entry.name!r} to "
                                 f"`{self.command}`, which has one of that name: rename it")
            found[entry.name] = entry.obj
        return found

    def every(self) -> dict[str, ModelKind | str]:
        """Its own kinds and those added by other plugins."""
        return {**self.kinds, **self.added()}

    def __iter__(self) -> Iterator[str]:
        return iter(self.every())

    def __contains__(self, name: object) -> bool:
        return name in self.every()

    def default_output(self, model: str) -> str:
        """The checkpoint's name when ``--output`` is not given: one per model
        (``lm-rnn.npz``, ``polarity-cnn.npz``), so training another model never overwrites
        the last one's."""
        return f"{self.trainer}-{model}.npz"

    @property
    def files(self) -> CheckpointFiles:
        """The checkpoints its kinds write, for the errors of reading them back."""
        return CheckpointFiles(self.command, self.example)

    def register(self, name: str, kind: ModelKind | str) -> None:
        """Add a ``--model`` choice (a :class:`ModelKind` or its "module:attribute"); a name
        registered twice is an error (one another plugin added is caught by :meth:`added`:
        this runs while plugins register)."""
        if name in self.kinds:
            raise ValueError(f"{self.noun} {name!r} is registered twice")
        self.kinds[name] = kind

    def get(self, name: str) -> ModelKind:
        """The kind called ``name``; an unknown name lists the kinds."""
        every = self.every()
        if name not in every:
            raise TrainError(f"unknown model {name!r}; available: {', '.join(sorted(every))} "
                             f"({self.command} --model NAME)")
        found = every[name]
        if isinstance(found, str):
            module, attr = found.split(":")
            found = getattr(importlib.import_module(module), attr)
        return found

    def resolve(self, kind: ModelKind, given: dict[str, Any]) -> dict[str, Any]:
        """``given`` (``None``: unset) with ``kind``'s defaults filled in; a model-specific
        option set for a kind that does not read it is an error naming the kinds that do."""
        stray = [k for k, v in given.items() if v is not None and k in self.flags
                 and k not in kind.options]
        if stray:
            flags = ", ".join(self.flags[k] for k in stray)
            users = sorted(n for n in self if set(stray) & self.get(n).options)
            hint = f" (it is for --model {'/'.join(users)})" if users else ""
            raise TrainError(f"{flags} does not apply to --model {kind.name}{hint}; "
                             f"`{self.command} --help` says which option is for which model")
        return {**{k: v for k, v in given.items() if k not in self.flags},
                **{k: given[k] if given.get(k) is not None else kind.defaults.get(k)
                   for k in kind.options}}

    def describe(self) -> str:
        """The kinds, as ``--help`` lists them below the options: each one's name, summary, the
        topic whose folder it runs where not the command's, and its defaults for the options
        that have a flag (paragraphs, one a kind)."""
        lines = []
        for name in sorted(self):
            kind = self.get(name)
            defaults = ", ".join(f"{self.flags[k]} {v}" for k, v in sorted(kind.defaults.items())
                                 if k in self.flags and v is not None)
            topic = f" (its code: exercises/{kind.topic})" if kind.topic else ""
            lines.append(f"--model {name}: {kind.summary}{topic}"
                         + (f"; defaults {defaults}" if defaults else ""))
        return "\n\n".join(lines)

    def read_meta(self, path: Path) -> dict[str, Any]:
        """The JSON header of a checkpoint of one of its kinds (it names the kind)."""
        meta = read_meta(path, self.files)
        if "model" not in meta:
            raise TrainError(f"{path} is not {self.files.called} (no model name)")
        return meta

    def load(self, path: Path, code: CodeChoice) -> tuple[Any, dict[str, Any]]:
        """The model saved in ``path`` and its meta, by the kind its meta names."""
        meta = self.read_meta(path)
        return self.get(str(meta["model"])).load(path, code), meta


def datasets_of(records: type) -> list[str]:
    """The registered data sets that declare they load as ``records`` (``Dataset.records``)."""
    return [name for name in get_registry().names("dataset")
            if isinstance(get_dataset(name).records, type)
            and issubclass(get_dataset(name).records, records)]


def require_records(corpus: str, records: type, what: str) -> None:
    """Fail, before anything is fetched, where the data set ``corpus`` declares records other
    than ``records`` (MR's labeled sentences asked for as running text), naming those that
    hold them; a data set that declares none is checked once loaded."""
    declared = get_dataset(corpus).records  # an unknown name lists the known ones
    if declared is None or issubclass(declared, records):
        return
    raise TrainError(f"corpus {corpus!r} is not {what}: it holds {declared.__name__}, not "
                     f"{records.__name__}; choose one of {', '.join(datasets_of(records))} "
                     "(any data set of those records, a data-set plugin's too: `dojo data "
                     "list`)")


def run_training(registry: ModelRegistry, model: str, *, output: str | Path | None,
                 code: Path | None, solutions: bool, progress: bool, **given: Any) -> Run:
    """Train ``--model model`` of ``registry`` with the options ``given`` (``None``: unset;
    ``corpus`` among them), save it to ``output`` (by :func:`output_path`; ``None``: the
    model's own name, :meth:`ModelRegistry.default_output`) and print the report (see the
    module)."""
    kind = registry.get(model)  # an unknown model fails before anything else
    output = output_path(output, registry.default_output(model))
    options = registry.resolve(kind, given)
    corpus = options.pop("corpus")
    chosen = kind.code(registry.topic).choose(code, solutions)
    noun = registry.noun.replace(" ", "-")
    if kind.corpora is not None and corpus not in kind.corpora:
        raise TrainError(f"corpus {corpus!r} is not a {noun} corpus; choose one of "
                         f"{', '.join(kind.corpora)}")
    if registry.records is not None:
        require_records(corpus, registry.records, f"a {noun} corpus")
    if kind.validate is not None:
        kind.validate(options)
    check_output(output)
    require_datasets([corpus])
    run = Run(corpus, chosen, options, say=say)
    bar = None

    def start(total: int | None) -> None:
        nonlocal bar
        if progress:
            from tqdm.auto import tqdm

            # disable=None: no bar where the output is no terminal (a pipe, CI's log), whose
            # last frame would otherwise share a line with what is printed next
            bar = tqdm(total=total, unit="step", desc=model, leave=False, disable=None)

    def on_step(step: int, loss: float) -> None:
        # diverged: stop now, before a checkpoint of NaNs
        check_finite([loss], f"{options.get('optimizer', 'the optimizer')}, lr "
                     f"{options.get('lr', '?')}", chosen.code.topic, step=step)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        every = options.get("save_every")
        if every and step % every == 0 and run.snapshot is not None:
            run.snapshot(step).save(output)

    run.start, run.on_step = start, on_step
    run.say(f"training the {model} {registry.noun} ({kind.summary}) on {corpus}: "
            f"{chosen.whose}")
    started = time.perf_counter()
    try:
        with chosen.stubs():
            trained = kind.train(run)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    trained.save(output)
    r = run.report
    if registry.metric is not None:  # the run's model, corpus and options too
        run.say(registry.metric({"model": model, "corpus": corpus, **options, **r}))
    steps = (f"{r['steps']:,} steps, final loss {r['final_loss']:.4f}, "
             if r.get("steps") else "")
    after = f" {registry.after.format(output=shown_output(output))}" if registry.after else ""
    run.say(f"trained ({steps}{seconds:.1f}s); checkpoint -> {output}{after}")
    return run


def check_rate(options: dict[str, Any]) -> None:
    """A kind's ``validate`` (or part of one): ``--lr`` above 0, before any data are read."""
    if not options["lr"] > 0:
        raise TrainError(f"--lr must be above 0 (got {options['lr']:g})")


def check_finite(losses: list[float], what: str, topic: str, *, step: int | None = None
                 ) -> None:
    """A training loss that became NaN or inf is a :class:`TrainError`: ``what`` names the
    run's optimizer and rate (``step``: the step it turned at, where known); the fix is a lower
    rate or the gradients' checks."""
    if losses and not np.all(np.isfinite(losses)):
        at = f" at step {step}" if step is not None else ""
        raise TrainError(f"the training loss became {losses[-1]}{at} ({what}): lower --lr, or "
                         f"check your gradients with `grade {topic}`")


def resume_epoch(meta: dict[str, Any], epochs: int, path: Path) -> int:
    """The epochs a checkpoint has done, which a resumed run of ``epochs`` in all continues
    from; a checkpoint that has them all already is an error asking for more."""
    done = int(meta["epochs_done"])
    if done >= epochs:
        raise TrainError(f"{path} has {done} epoch(s) already; ask for more with --epochs "
                         f"{done + 1} or more")
    return done


def run_epochs(train_epoch: Callable[[int], list[float]], evaluate: Callable[[], float], *,
               start: int, epochs: int, output: Path, model: Any, optimizer: Any,
               meta: Callable[[int, float], dict[str, Any]], what: str, topic: str,
               metric: str = "held-out accuracy", say: Callable[[str], None] = say) -> float:
    """Epochs ``start`` .. ``epochs - 1`` of a run that resumes: each trains
    (``train_epoch(epoch)`` returns its losses, which must stay finite: :func:`check_finite`
    with ``what`` and ``topic``), is evaluated (``evaluate()``), written as a checkpoint to
    resume from (``meta(epochs_done, value)``, with ``model``'s parameters and
    ``optimizer``'s state) and reported in one line; the last evaluation is returned."""
    value = float("nan")
    for epoch in range(start, epochs):
        losses = train_epoch(epoch)
        check_finite(losses, what, topic)
        value = evaluate()
        save_training(output, meta(epoch + 1, value), model, optimizer)
        say(f"epoch {epoch + 1}/{epochs}: mean training loss {np.mean(losses):.4f}, "
            f"{metric} {value:.4f}; checkpoint -> {output}")
    return value
