"""Neural language models for ``dojo train`` and ``dojo sample``, written once (CS224n lecture
6, "Training an RNN language model"; lecture 7, LSTM language models): a topic says how its
model is built, trained and scored by the chosen code; the data, the options, the report beside
the add-one unigram model, the checkpoint and generation are the same for every such model.

Data are the grader's (:func:`~.prepare.token_streams`, patched in tests through
:data:`lm_data`): one id stream per split, ``</s>`` after every sentence, the ``--vocab-size``
most frequent training tokens with ``<UNK>`` last, so the perplexity printed is the graded
checks' own measure. A checkpoint (the kit's format) holds the parameters, the vocabulary
(``words``) and the settings.

A kind is made by :func:`neural_lm_kind` from three functions of the topic:

* ``build(code, backend, vocab_size, meta) -> model``: a fresh model of the chosen code with
  the settings of ``meta`` (also how a checkpoint is read back);
* ``fit(run, backend, model, data) -> losses``: trains it with the chosen code's loop, calling
  ``run.start(total)`` once (:func:`start_bptt` for truncated BPTT) and passing ``run.on_step``
  on as the loop's ``on_step``;
* ``score(code, backend, model, data) -> (log_probs, targets)``: the log-probability of every
  predicted held-out token and those tokens, in the same order (:func:`stream_scores` for a
  recurrent model scored as its graded check scores it).

Generation (``dojo sample``) starts every sentence after a ``</s>`` (a sentence boundary, as
in training): a fixed-window model (``window=True``) reads its last ``context`` ids; a
recurrent one carries its state along the history (``initial_state``, ``forward(ids, state)``,
``final_state(cache)``), so that only the words added since the last call run through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.selection import load_backend
from nlpdojo_autograder.training.checkpoint import (
    CheckpointFiles,
    load_parameters,
    read_checkpoint,
    save_checkpoint,
)
from nlpdojo_autograder.training.commands import ModelKind, Run, check_rate
from nlpdojo_autograder.training.evaluate import perplexity, unigram_perplexity
from nlpdojo_autograder.training.prepare import TokenStreams, stream_targets, token_streams
from nlpdojo_autograder.training.train import CodeChoice, TrainError

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
#: the options every neural LM reads, with their defaults
SHARED = {"vocab_size": 10000, "test_texts": None, "dim": 64, "hidden": 128, "epochs": 1,
          "max_steps": None, "backend": None, "device": None, "save_every": None}
#: the settings a checkpoint keeps (those its kind reads)
SETTINGS = ("dim", "hidden", "context", "bptt", "batch_size", "optimizer", "lr", "epochs",
            "max_steps", "seed", "dropout", "clip")

#: the grader's id streams (tests patch this)
lm_data = token_streams

Build = Callable[[CodeChoice, Any, int, dict[str, Any]], Any]
Fit = Callable[[Run, Any, Any, TokenStreams], list[float]]
Score = Callable[[CodeChoice, Any, Any, TokenStreams], tuple[np.ndarray, np.ndarray]]


def _log_softmax(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)  # (B, V)
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (B, V)


@dataclass
class NeuralLM:
    """A trained neural LM: the code's model object, its backend and the vocabulary;
    ``context``: a fixed-window model's width (``None``: a recurrent model)."""

    kind: str
    model: Any
    backend: Any
    tokens: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    context: int | None = None
    #: a recurrent model's state after the history it last scored: (history (B, t), state)
    _carried: tuple[np.ndarray, Any] | None = None

    @property
    def eos(self) -> int:
        return self.tokens.index("</s>")

    def begin(self, batch: int) -> np.ndarray:
        """A sentence boundary: ``</s>`` (a window model's padding, a recurrent one's last
        word)."""
        return np.full((batch, self.context or 1), self.eos, dtype=np.int64)  # (B, t₀)

    def next_scores(self, history: np.ndarray) -> np.ndarray:
        """log P(· | history) over the vocabulary for every row of ``history`` (B, t): (B, V)."""
        be = self.backend
        history = np.asarray(history, dtype=np.int64)
        self.model.eval()
        if self.context is not None:
            scores, _ = self.model(be.asarray(history[:, -self.context:]))  # (B, V)
            return _log_softmax(be.to_numpy(scores))
        seen, state = self._carried if self._carried is not None else (history[:, :0], None)
        t = seen.shape[1]
        if state is None or seen.shape[0] != len(history) or t >= history.shape[1] or not \
                np.array_equal(history[:, :t], seen):  # not a continuation: start again
            t, state = 0, self.model.initial_state(len(history))
        scores, cache = self.model(be.asarray(history[:, t:]), state)  # (B, t', V)
        self._carried = (history.copy(), self.model.final_state(cache))
        return _log_softmax(be.to_numpy(scores[:, -1, :]))  # the last step's: (B, V)

    def save(self, path: Path) -> None:
        save_checkpoint(path, {**self.meta, "model": self.kind},
                        params=self.model.state_dict(), arrays={"words": np.asarray(self.tokens)})


def start_bptt(run: Run, data: TokenStreams) -> None:
    """``run.start`` with the steps of truncated BPTT over ``data``'s training stream:
    ``--batch-size`` streams cut into windows of ``--bptt`` steps, at most ``--max-steps``
    windows an epoch, ``--epochs`` times (for a recurrent kind's ``fit``)."""
    o = run.options
    per_epoch = (len(data.train_ids) // o["batch_size"] - 1) // o["bptt"]
    run.start(min(per_epoch, o["max_steps"] or per_epoch) * o["epochs"])


def stream_scores(streams: int, bptt: int) -> Score:
    """A recurrent kind's ``score`` as its graded check scores held-out text: the chosen
    code's ``lm_training.rnn_log_probs`` in windows of ``bptt``, the targets those of
    ``streams`` streams side by side (:func:`~.prepare.stream_targets`)."""
    def score(code: CodeChoice, be, model, data: TokenStreams) -> tuple[np.ndarray, np.ndarray]:
        return (code.load("lm_training").rnn_log_probs(be, model, data.test_ids, bptt=bptt),
                stream_targets(data.test_ids, streams, bptt))

    return score


def _check_options(options: dict[str, Any]) -> None:
    """The kinds' ``validate``: a known optimizer and a positive rate, before any data."""
    if options["optimizer"] not in OPTIMIZERS:
        raise TrainError(f"unknown --optimizer {options['optimizer']!r}; choose "
                         f"{', '.join(OPTIMIZERS)}")
    check_rate(options)


def _backend(options: dict[str, Any]):
    return load_backend(options.get("backend"), options.get("device"), "float32")


def _train(kind: str, run: Run, build: Build, fit: Fit, score: Score, window: bool
           ) -> NeuralLM:
    o = run.options
    be = _backend(o)
    heldout = str(o.get("heldout") or "test")  # the split every model of the run is scored on
    data = lm_data(run.corpus, train_texts=o.get("max_documents"), test_texts=o["test_texts"],
                   vocab_size=o["vocab_size"], heldout=heldout)
    run.say(f"{run.corpus}: {len(data.train_ids):,} training and {len(data.test_ids):,} "
            f"held-out ({heldout}) tokens, {data.vocab_size:,} words (<UNK> included); on "
            f"{be.name}/{be.device}")
    meta = {**{k: o[k] for k in SETTINGS if k in o}, "corpus": run.corpus,
            "vocab_size": data.vocab_size}
    context = int(meta["context"]) if window else None
    model = build(run.code, be, data.vocab_size, meta)
    trained = NeuralLM(kind, model, be, data.words, meta, context)
    run.snapshot = lambda step: NeuralLM(kind, model, be, data.words, {**meta, "step": step},
                                         context)
    losses = fit(run, be, model, data)
    if not losses:
        raise TrainError(f"no training step was taken on {len(data.train_ids):,} training "
                         "tokens: they do not fill one batch; lower --batch-size (or --bptt), "
                         "or train on more text (--max-documents)")
    log_probs, targets = score(run.code, be, model, data)
    if len(targets) == 0:
        raise TrainError(f"no held-out token could be scored: {run.corpus}'s {heldout} split "
                         f"({len(data.test_ids):,} tokens) is shorter than the scoring windows; "
                         "score more of it (--test-texts) or choose another corpus")
    ppl = perplexity(log_probs)
    run.report.update(perplexity=ppl, heldout_tokens=len(targets), heldout=heldout,
                      unigram_perplexity=unigram_perplexity(data.train_ids, targets,
                                                            data.vocab_size),
                      steps=len(losses), final_loss=losses[-1])
    trained.meta.update(step=len(losses), heldout=heldout, heldout_perplexity=ppl)
    return trained


def _load(kind: str, build: Build, files: CheckpointFiles, window: bool, path: Path,
          code: CodeChoice) -> NeuralLM:
    saved = read_checkpoint(path, files)
    meta, state = saved.meta, saved.params
    words = tuple(str(w) for w in saved.arrays["words"]) if "words" in saved.arrays else None
    if words is None or not state or "</s>" not in words:
        raise TrainError(f"{path}: a {kind} checkpoint needs its vocabulary (with </s>) and "
                         f"parameters; this one has not: train it again with `{files.command} "
                         f"--model {kind}`")
    be = load_backend("numpy", "cpu", "float32")  # sampling is cheap: always on the host
    with code.stubs():
        model = build(code, be, len(words), meta)
    load_parameters(model, state, path, f"the {kind} model of {code.whose}")
    return NeuralLM(kind, model, be, words, meta, int(meta["context"]) if window else None)


def neural_lm_kind(name: str, summary: str, modules: tuple[str, ...], own: dict[str, Any], *,
                   build: Build, fit: Fit, score: Score, files: CheckpointFiles,
                   window: bool = False, topic: str | None = None) -> ModelKind:
    """A neural LM for ``--model NAME`` of a language-model command (see the module).
    ``own``: its options' defaults beside :data:`SHARED` (an option without a flag in the
    command, such as ``clip``, is fixed for the kind and saved with it); ``files``: the
    command's checkpoints (for the errors of reading one back); ``window``: a fixed-window
    model of ``context`` words (else recurrent); ``topic``: the topic whose folder holds
    ``modules``, where it is not the command's (:attr:`~.commands.ModelKind.topic`)."""
    return ModelKind(name, summary, lambda run: _train(name, run, build, fit, score, window),
                     lambda path, code: _load(name, build, files, window, path, code), modules,
                     frozenset({*SHARED, *own}), {**SHARED, **own},
                     validate=_check_options, topic=topic)
