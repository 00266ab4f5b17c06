"""``dojo sample``: generate sentences from any trained language model (CS224n lecture 6,
"generating text"), whatever its kind.

A language model kind (:class:`~nlpdojo_autograder.training.commands.ModelKind` of a
registry) loads a model that offers :class:`TrainedLM`: its vocabulary, the history every
sentence starts from (``begin``) and log P(next word | history) for a batch of histories
(``next_scores``). :func:`generate` grows all sentences together, one word per step: the model
scores the next word for every sentence at once (B, V), ``<s>`` is masked (it is never
predicted), and the chosen code's ``sample_next`` (temperature, top-k, a seeded generator) draws
it; a sentence ends at ``</s>`` or after ``max_words``.

The command finds the kind a checkpoint's ``meta`` names among the registries of every
registered trainer (``Trainer.models``), so a topic that registers a new kind (an LSTM LM) gets
``dojo sample`` for free; a topic adds the command itself once with
``add_sample_command(cli, MODELS, code_help=...)``::

    @hookimpl
    def register_commands(cli):
        add_sample_command(cli, MODELS, code_help="Your my_topic folder ...")
"""


from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol

import numpy as np
import typer

from nlpdojo.cli.common import report_errors
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.training.commands import ModelKind, ModelRegistry, say
from nlpdojo_autograder.training.train import (
    CodeChoice,
    TopicCode,
    TrainError,
    input_path,
    solutions_installed,
)


class TrainedLM(Protocol):
    """What ``dojo sample`` needs of a trained language model."""

    #: the vocabulary, ids are positions (``</s>`` among them; ``<s>`` and ``<UNK>`` where used)
    tokens: tuple[str, ...]

    def begin(self, batch: int) -> np.ndarray:
        """The history every generated sentence starts from: (batch, t₀) ids."""

    def next_scores(self, history: np.ndarray) -> np.ndarray:
        """log P(next word | history) for every row of ``history`` (B, t): (B, V)."""


def generate(model: TrainedLM, sample_next: Callable[..., Any], *, sentences: int,
             max_words: int, temperature: float, top_k: int | None, seed: int,
             prompt: list[str] | None = None) -> list[list[str]]:
    """``sentences`` sentences of at most ``max_words`` words each, drawn with ``sample_next``
    (``sample_next(scores (B, V), rng, temperature, top_k) -> (B,) ids``) from one generator
    seeded with ``seed``; with a ``prompt``, every sentence continues it, and only the words
    drawn after it are returned."""
    tokens = model.tokens
    index = {t: i for i, t in enumerate(tokens)}
    bos, eos, unk = index.get("<s>"), index["</s>"], index.get("<UNK>", len(tokens) - 1)
    history = model.begin(sentences)  # (B, t₀)
    if prompt:
        ids = np.array([index.get(w, unk) for w in prompt], dtype=np.int64)
        history = np.concatenate([history, np.tile(ids, (sentences, 1))], axis=1)
    start = history.shape[1]  # what is returned are the words drawn after the prompt
    rng = np.random.default_rng(seed)
    done = np.zeros(sentences, dtype=bool)  # (B,)
    for _ in range(max_words):  # time steps; every step is vectorized over the sentences
        scores = np.array(model.next_scores(history), dtype=np.float64)  # (B, V)
        if bos is not None:  # a unigram model has no <s>
            scores[:, bos] = -np.inf
        nxt = np.asarray(sample_next(scores, rng, temperature, top_k), dtype=np.int64)  # (B,)
        nxt = np.where(done, eos, nxt)
        history = np.concatenate([history, nxt[:, None]], axis=1)
        done |= nxt == eos
        if done.all():
            break
    out = []
    for row in history[:, start:]:
        words = [tokens[i] for i in row]
        out.append(words[:words.index("</s>")] if "</s>" in words else words)
    return out


def registries(own: ModelRegistry) -> list[ModelRegistry]:
    """``own`` and the model registries of every registered trainer (each once)."""
    found = [own]
    for entry in get_registry().entries("trainer"):
        models = getattr(entry.obj, "models", None)
        if isinstance(models, ModelRegistry) and all(models is not r for r in found):
            found.append(models)
    return found


def find_kind(name: str, checkpoint: Path, own: ModelRegistry
              ) -> tuple[ModelRegistry, ModelKind]:
    """The registry and kind of model ``name`` (a checkpoint's); none is a clear error."""
    every = registries(own)
    for registry in every:
        if name in registry:
            return registry, registry.get(name)
    known = sorted({n for r in every for n in r})
    raise TrainError(f"{checkpoint} holds a {name!r} model, which this nlpdojo cannot sample "
                     f"(unknown model {name!r}; available: {', '.join(known)} "
                     f"({own.command} --model NAME))")


def _sampler(code: TopicCode, folder: Path | None, solutions: bool) -> CodeChoice:
    """The sampler's topic code where ``--code`` names another topic's folder: that folder's
    sibling (``exercises/<model's topic>`` → ``exercises/<command's topic>``) or the folder that
    holds both."""
    if folder is not None and not code.is_folder(folder) and not code.is_folder(
            folder / code.topic) and code.is_folder(folder.resolve().parent / code.topic):
        folder = folder.resolve().parent
    return code.choose(folder, solutions)


def sample(checkpoint: Path, own: ModelRegistry, *, code: Path | None, solutions: bool,
           sentences: int, max_words: int, temperature: float, top_k: int | None,
           prompt: str, seed: int) -> None:
    """The command's work (see :func:`add_sample_command`)."""
    meta = own.read_meta(checkpoint)  # a missing or foreign file fails first
    name = str(meta["model"])
    registry, kind = find_kind(name, checkpoint, own)
    if kind.topic in (None, registry.topic):
        chosen = TopicCode(registry.topic, (*kind.modules, "sampling.py")).choose(code, solutions)
        sampler = chosen
    else:  # the model is another topic's; the sampler still the registry topic's sampling.py
        chosen = kind.code(registry.topic).choose(code, solutions)
        sampler = _sampler(TopicCode(registry.topic, ("sampling.py",)), code, solutions)
    with chosen.stubs():
        model = kind.load(checkpoint, chosen)
    if not callable(getattr(model, "next_scores", None)) or not hasattr(model, "begin"):
        raise TrainError(f"{checkpoint}: the {name} model of `{registry.command}` cannot "
                         "generate text (it scores no next word)")
    with sampler.stubs():
        sampling = sampler.load("sampling")

    def sample_next(*args: Any, **kwargs: Any) -> Any:
        with sampler.stubs():  # an untouched sampler stub names its own topic
            return sampling.sample_next(*args, **kwargs)

    with chosen.stubs():
        lines = generate(model, sample_next, sentences=sentences, max_words=max_words,
                         temperature=temperature, top_k=top_k, seed=seed,
                         prompt=prompt.lower().split() or None)
    what = ", ".join(f"{k} {meta[k]}" for k in ("model", "smoothing", "order", "context",
                                                "hidden", "corpus") if k in meta)
    unknown = sorted(set(prompt.lower().split()) - set(model.tokens))
    if unknown:
        say(f"not in the model's vocabulary, read as <UNK>: {', '.join(unknown)}")
    by = chosen.whose if sampler is chosen or sampler.folder == chosen.folder is None else (
        f"{chosen.whose}; the sampler: {sampler.whose}")
    say(f"{checkpoint} ({what}); T = {temperature}, top-k = {top_k or 'all'}, seed {seed}; "
        f"sampled by {by}")
    if not lines:
        raise TrainError("nothing was generated")
    for words in lines:
        say(" ".join([*prompt.lower().split(), *words]))


def add_sample_command(cli: typer.Typer, own: ModelRegistry, *, code_help: str) -> None:
    """Attach ``dojo sample`` to the ``dojo`` app (once: a second call adds nothing).
    ``own``: the registry whose command the help and errors name; ``code_help``: the help
    of ``--code`` (the folder whose models and ``sampling.py`` generate)."""
    if any(c.name == "sample" for c in cli.registered_commands):
        return

    @report_errors
    def sample_command(
        checkpoint: Annotated[str, typer.Argument(
            help=f"A checkpoint of `{own.command}` (a bare name: the one in the outputs "
                 "folder, where it writes them).")],
        sentences: Annotated[int, typer.Option(min=1, help="How many sentences.")] = 5,
        max_words: Annotated[int, typer.Option(min=1, help="At most this many words each.")
                             ] = 40,
        temperature: Annotated[float, typer.Option(
            min=0.0, help="Sharpen (< 1) or flatten (> 1) the distribution; 0 is greedy.")
        ] = 1.0,
        top_k: Annotated[int | None, typer.Option(
            min=1, help="Draw among the k most probable words only.")] = None,
        prompt: Annotated[str, typer.Option(help="Words every sentence starts with.")] = "",
        seed: Annotated[int, typer.Option(help="Random seed (the same seed, the same text).")
                        ] = 0,
        code: Annotated[Path | None, typer.Option(help=code_help)] = None,
        solutions: Annotated[bool, typer.Option(
            "--solutions", help="Generate with the reference solutions.",
            hidden=not solutions_installed())] = False,
    ) -> None:
        sample(input_path(checkpoint), own, code=code, solutions=solutions, sentences=sentences,
               max_words=max_words, temperature=temperature, top_k=top_k, prompt=prompt,
               seed=seed)

    sample_command.__doc__ = f"Generate sentences from a language model saved by `{own.command}`."
    cli.command("sample")(sample_command)
