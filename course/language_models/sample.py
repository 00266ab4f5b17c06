"""``dojo sample``: generate sentences from a checkpoint of ``dojo train lm`` (CS224n lecture 6,
"generating text").

All sentences grow together, one word per step: the model scores the next word for every
sentence at once (B, V), ``<s>`` is masked (it is never predicted), and the chosen code's
``sampling.sample_next`` (temperature, top-k, a seeded generator) draws it; a sentence ends at
``</s>`` or after ``--max-words``. Any model a builder of ``dojo train lm`` can load samples the
same way (:data:`~.trainer.MODELS`): the n-gram, window and RNN checkpoints alike.
A checkpoint that is missing, foreign, or of a model that cannot generate is one ``error:`` line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from nlpdojo.cli.common import report_errors
from nlpdojo_autograder.training import TopicCode, TrainError
from nlpdojo_course.language_models.trainer import TOPIC, TrainedLM, builder, read_meta


def generate(model: TrainedLM, sample_next, *, sentences: int, max_words: int,
             temperature: float, top_k: int | None, seed: int,
             prompt: list[str] | None = None) -> list[list[str]]:
    """``sentences`` sentences of at most ``max_words`` words each, drawn with ``sample_next``
    (``sampling.sample_next``'s contract) from one generator seeded with ``seed``; with a
    ``prompt``, every sentence continues it, and only the words drawn after it are returned."""
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


@report_errors
def sample_command(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint of `dojo train lm`.")],
    sentences: Annotated[int, typer.Option(min=1, help="How many sentences.")] = 5,
    max_words: Annotated[int, typer.Option(min=1, help="At most this many words each.")] = 40,
    temperature: Annotated[float, typer.Option(
        min=0.0, help="Sharpen (< 1) or flatten (> 1) the distribution; 0 is greedy.")] = 1.0,
    top_k: Annotated[int | None, typer.Option(
        min=1, help="Draw among the k most probable words only.")] = None,
    prompt: Annotated[str, typer.Option(help="Words every sentence starts with.")] = "",
    seed: Annotated[int, typer.Option(help="Random seed (the same seed, the same text).")] = 0,
    code: Annotated[Path | None, typer.Option(
        help="Your language_models folder, or the folder holding it (its models and "
             "sampling.py generate; default: ./exercises/language_models if present).")] = None,
    solutions: Annotated[bool, typer.Option(
        "--solutions", help="Generate with the reference solutions.")] = False,
) -> None:
    """Generate sentences from a language model saved by `dojo train lm`."""
    from nlpdojo.cli.common import console

    meta = read_meta(checkpoint)  # a missing or foreign file fails first
    name = str(meta["model"])
    try:
        found = builder(name)
    except TrainError as exc:
        raise TrainError(f"{checkpoint} holds a {name!r} model, which this nlpdojo cannot "
                         f"sample ({exc})") from exc
    chosen = TopicCode(TOPIC, (*found.modules, "sampling.py")).choose(code, solutions)
    model = found.load(checkpoint, chosen)
    if not callable(getattr(model, "next_scores", None)) or not hasattr(model, "begin"):
        raise TrainError(f"{checkpoint}: the {name} model cannot generate text (it scores no "
                         "next word)")
    sampling = chosen.load("sampling")
    with chosen.stubs():
        lines = generate(model, sampling.sample_next, sentences=sentences, max_words=max_words,
                         temperature=temperature, top_k=top_k, seed=seed,
                         prompt=prompt.lower().split() or None)
    what = ", ".join(f"{k} {meta[k]}" for k in ("model", "smoothing", "order", "context",
                                                "hidden", "corpus") if k in meta)
    console.print(f"{checkpoint} ({what}); T = {temperature}, top-k = {top_k or 'all'}, seed "
                  f"{seed}; sampled by {chosen.whose}", markup=False, highlight=False,
                  soft_wrap=True)
    if not lines:
        raise TrainError("nothing was generated")
    for words in lines:
        console.print(" ".join([*prompt.lower().split(), *words]), markup=False,
                      highlight=False, soft_wrap=True)


def add_sample_command(cli: typer.Typer) -> None:
    """Attach ``dojo sample`` to the ``dojo`` app."""
    cli.command("sample")(sample_command)
