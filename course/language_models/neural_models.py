"""The neural models of ``dojo train lm --model window|rnn`` (and of ``dojo sample`` for their
checkpoints): the fixed-window LM (CS224n lecture 6, "A fixed-window neural language model") and
the RNN LM trained with truncated BPTT ("Training an RNN language model"), trained and scored
by the chosen code (the student's ``exercises/language_models`` or the reference).

Data are the grader's (the training kit's
:func:`~nlpdojo_autograder.training.token_streams`): one id stream per split, ``</s>`` after
every sentence, the ``--vocab-size`` most frequent training tokens with ``<UNK>`` last, so the
perplexity printed is the graded checks' own measure. A checkpoint (the kit's format) holds
the parameters, the vocabulary (``words``) and the settings.

Generation (``dojo sample``) starts every sentence after a ``</s>`` (a sentence boundary, as in
training): the window LM reads its last ``context`` ids, the RNN LM carries its hidden state
along the history (only the words added since the last call run through the RNN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo_autograder.training import (
    CodeChoice,
    ModelKind,
    Run,
    TrainError,
    load_parameters,
    perplexity,
    read_checkpoint,
    save_checkpoint,
    stream_targets,
    token_streams,
    unigram_perplexity,
)
from nlpdojo_course.language_models.trainer import MODELS

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
#: the options both neural models read, with their defaults
SHARED = {"vocab_size": 10000, "test_texts": None, "dim": 64, "hidden": 128, "epochs": 1,
          "max_steps": None, "backend": None, "device": None, "save_every": None}


#: the grader's id streams (tests patch this)
lm_data = token_streams


def _log_softmax(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)  # (B, V)
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (B, V)


@dataclass
class NeuralLM:
    """A trained window or RNN LM: the code's model object, its backend and the vocabulary."""

    kind: str  # "window" or "rnn"
    model: Any  # the code's WindowLM or RNNLM
    backend: Any
    tokens: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    #: the RNN's state after the history it last scored: (history (B, t), h (B, H))
    _carried: tuple[np.ndarray, Any] | None = None

    @property
    def eos(self) -> int:
        return self.tokens.index("</s>")

    def begin(self, batch: int) -> np.ndarray:
        """A sentence boundary: ``</s>`` (the window LM's padding, the RNN's last word)."""
        width = int(self.meta["context"]) if self.kind == "window" else 1
        return np.full((batch, width), self.eos, dtype=np.int64)  # (B, t₀)

    def next_scores(self, history: np.ndarray) -> np.ndarray:
        """log P(· | history) over the vocabulary for every row of ``history`` (B, t): (B, V)."""
        be = self.backend
        history = np.asarray(history, dtype=np.int64)
        self.model.eval()
        if self.kind == "window":
            scores, _ = self.model(be.asarray(history[:, -int(self.meta["context"]):]))  # (B, V)
            return _log_softmax(be.to_numpy(scores))
        seen, h = self._carried if self._carried is not None else (history[:, :0], None)
        t = seen.shape[1]
        if h is None or seen.shape[0] != len(history) or t >= history.shape[1] or not \
                np.array_equal(history[:, :t], seen):  # not a continuation: start again
            t, h = 0, self.model.initial_state(len(history))
        scores, cache = self.model(be.asarray(history[:, t:]), h)  # (B, t', V)
        self._carried = (history.copy(), self.model.final_state(cache))
        return _log_softmax(be.to_numpy(scores[:, -1, :]))  # the last step's: (B, V)

    def save(self, path: Path) -> None:
        save_checkpoint(path, {**self.meta, "model": self.kind},
                        params=self.model.state_dict(), arrays={"words": np.asarray(self.tokens)})


def _backend(options: dict[str, Any]):
    from nlpdojo.selection import load_backend

    return load_backend(options.get("backend"), options.get("device"), "float32")


def _build(kind: str, code: CodeChoice, backend, vocab_size: int, meta: dict[str, Any]):
    """A fresh model of the chosen code with the settings of ``meta``."""
    dim, hidden, seed = int(meta["dim"]), int(meta["hidden"]), int(meta.get("seed", 0))
    if kind == "rnn":
        return code.load("rnn_lm").RNNLM(backend, vocab_size, dim, hidden, seed=seed)
    return code.load("window_lm").WindowLM(backend, vocab_size, int(meta["context"]), dim,
                                           hidden, seed=seed)


def _train(kind: str, run: Run) -> NeuralLM:
    from nlpdojo_course.language_models.measure import EVAL_BPTT, EVAL_STREAMS

    o = run.options
    if o["optimizer"] not in OPTIMIZERS:
        raise TrainError(f"unknown --optimizer {o['optimizer']!r}; choose "
                         f"{', '.join(OPTIMIZERS)}")
    be = _backend(o)
    heldout = str(o.get("heldout") or "test")  # the split every model of the run is scored on
    data = lm_data(run.corpus, train_texts=o.get("max_documents"), test_texts=o["test_texts"],
                   vocab_size=o["vocab_size"], heldout=heldout)
    run.say(f"{run.corpus}: {len(data.train_ids):,} training and {len(data.test_ids):,} "
            f"held-out ({heldout}) tokens, {data.vocab_size:,} words (<UNK> included); on "
            f"{be.name}/{be.device}")
    settings = {k: o[k] for k in ("dim", "hidden", "context", "bptt", "batch_size", "optimizer",
                                  "lr", "epochs", "max_steps", "seed") if k in o}
    meta = {**settings, "corpus": run.corpus, "vocab_size": data.vocab_size}
    model = _build(kind, run.code, be, data.vocab_size, meta)
    trained = NeuralLM(kind, model, be, data.words, meta)
    run.snapshot = lambda step: NeuralLM(kind, model, be, data.words, {**meta, "step": step})
    training = run.code.load("lm_training")
    if kind == "rnn":
        per_epoch = (len(data.train_ids) // o["batch_size"] - 1) // o["bptt"]
        run.start(min(per_epoch, o["max_steps"] or per_epoch) * o["epochs"])
        losses = run.code.load("rnn_lm").train_rnn_lm(
            be, model, data.train_ids, batch_size=o["batch_size"], bptt=o["bptt"],
            optimizer=o["optimizer"], lr=o["lr"], epochs=o["epochs"],
            max_windows=o["max_steps"], on_step=run.on_step)
        log_probs = training.rnn_log_probs(be, model, data.test_ids, bptt=EVAL_BPTT)
        targets = stream_targets(data.test_ids, EVAL_STREAMS, EVAL_BPTT)
    else:
        total = -(-len(data.train_ids) // o["batch_size"]) * o["epochs"]
        run.start(total if o["max_steps"] is None else min(total, o["max_steps"]))
        losses = training.train_window_lm(
            be, model, data.train_ids, pad=data.eos, optimizer=o["optimizer"], lr=o["lr"],
            epochs=o["epochs"], batch_size=o["batch_size"], seed=o["seed"],
            max_steps=o["max_steps"], on_step=run.on_step)
        log_probs = training.window_log_probs(be, model, data.test_ids, pad=data.eos)
        targets = data.test_ids
    ppl = perplexity(log_probs)
    run.report.update(perplexity=ppl, heldout_tokens=len(targets), heldout=heldout,
                      unigram_perplexity=unigram_perplexity(data.train_ids, targets,
                                                            data.vocab_size),
                      steps=len(losses), final_loss=losses[-1] if losses else float("nan"))
    trained.meta.update(step=len(losses), heldout=heldout, heldout_perplexity=ppl)
    return trained


def _load(kind: str, path: Path, code: CodeChoice) -> NeuralLM:
    from nlpdojo.selection import load_backend

    saved = read_checkpoint(path, MODELS.files)
    meta, state = saved.meta, saved.params
    words = tuple(str(w) for w in saved.arrays["words"]) if "words" in saved.arrays else None
    if words is None or not state or "</s>" not in words:
        raise TrainError(f"{path}: a {kind} checkpoint needs its vocabulary (with </s>) and "
                         "parameters; this one has not: train it again with `dojo train lm "
                         f"--model {kind}`")
    be = load_backend("numpy", "cpu", "float32")  # sampling is cheap: always on the host
    with code.stubs():
        model = _build(kind, code, be, len(words), meta)
    load_parameters(model, state, path, f"the {kind} model of {code.whose}")
    return NeuralLM(kind, model, be, words, meta)


def _builder(kind: str, summary: str, modules: tuple[str, ...], own: dict[str, Any]):
    return ModelKind(kind, summary, lambda run: _train(kind, run),
                     lambda path, code: _load(kind, path, code), modules,
                     frozenset({*SHARED, *own}), {**SHARED, **own})


# SGD for the RNN: Adam made its state dynamics chaotic (measure.RNN_BUDGET)
RNN = _builder("rnn", "RNN LM, truncated BPTT over --batch-size streams of --bptt steps",
               ("rnn_lm.py", "lm_training.py"),
               {"bptt": 35, "batch_size": 20, "optimizer": "sgd", "lr": 0.7})
WINDOW = _builder("window", "fixed-window neural LM over the previous --context words",
                  ("window_lm.py", "lm_training.py"),
                  {"context": 4, "batch_size": 20, "optimizer": "adam", "lr": 0.003})
