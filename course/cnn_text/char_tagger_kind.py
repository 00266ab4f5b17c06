"""What cnn_text adds to ``neural_networks``' tagging command: the character-aware window
tagger in ``dojo train tagger --model char`` (CS224n lecture 11, §3.9-3.10; Santos and
Zadrozny 2014), trained by this topic's given ``char_tagger`` (your ``CharCNNEmbedding`` of
each word's characters beside your word vectors) on the graded ``char_tagging`` question's
data and sizes, its budget the defaults. It reports the held-out accuracy on every word and
on the words seen fewer than twice in training (``<unk>`` to the word vectors, where only the
characters can tell them apart), each beside its most-frequent-tag baseline. It joins the
command through the ``register_model_kinds`` hook, importing nothing of that topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.selection import load_backend
from nlpdojo_autograder.training import (
    CheckpointFiles,
    CodeChoice,
    ModelKind,
    Run,
    TrainError,
    check_finite,
    check_rate,
    most_frequent_tag_accuracy,
    read_checkpoint,
    save_checkpoint,
)
from nlpdojo_course.cnn_text.char_tagging import (
    CHAR_TAGGER,
    TRAINING,
    char_tagging_data,
    unknown_word_baseline,
)

TOPIC = "cnn_text"
FILES = CheckpointFiles("dojo train tagger", "dojo train tagger --model char")
#: the tagger's sizes the command has a flag for (the character CNN's are the graded
#: question's)
FLAGGED = ("dim", "hidden", "dropout")
#: the options it reads: the graded budget's training settings and those sizes
SETTINGS = {**TRAINING, **{k: CHAR_TAGGER[k] for k in FLAGGED}, "train_sentences": None,
            "backend": None, "device": None}


@dataclass
class CharTagger:
    """A trained character-aware tagger: its parameters (host arrays) and settings."""

    parameters: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        save_checkpoint(path, {**self.meta, "model": "char"}, params=self.parameters)

    def evaluate(self, code: CodeChoice, backend: Any) -> dict[str, Any]:
        """Its held-out accuracies (:func:`_measured`), scored again by ``code``'s given
        ``char_tagger``, on the data its settings name (rebuilt: the word and character tables
        come from the training split); a checkpoint whose tables differ is an error."""
        data = char_tagging_data(self.meta["corpus"],
                                 train_sentences=self.meta["train_sentences"],
                                 test_sentences=None)
        sizes = _sizes(data, self.meta)
        shapes = {"embedding.weight": (sizes["vocab_size"], sizes["dim"]),
                  "chars.embedding.weight": (sizes["n_chars"], sizes["char_dim"])}
        for name, shape in shapes.items():
            if tuple(self.parameters[name].shape) != shape:
                raise TrainError(f"this char tagger's {name} is {self.parameters[name].shape}, "
                                 f"but {self.meta['corpus']} gives {shape} here: it was "
                                 "trained on other data; train it again")
        scores = code.load("char_tagger").char_window_scores(
            backend, self.parameters, data.test_inputs, **sizes)
        return _measured(np.asarray(scores, np.float64), data)


def _sizes(data: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The tagger's sizes: the data's vocabularies and tag set, the graded question's
    character CNN, the word vectors, hidden units and dropout of ``options``."""
    words = data.words
    return {"vocab_size": words.vocab_size, "n_chars": data.n_chars, "n_tags": words.n_tags,
            **CHAR_TAGGER, **{k: options[k] for k in FLAGGED}}


def _measured(scores: np.ndarray, data: Any) -> dict[str, Any]:
    """The held-out accuracy of ``scores`` (M, C) on every word and on the words seen fewer
    than twice in training, each with its most-frequent-tag baseline."""
    words = data.words
    right = np.argmax(scores, axis=1) == words.test_tags  # (M,)
    return {"accuracy": float(np.mean(right)), "baseline": most_frequent_tag_accuracy(words),
            "unknown": float(np.mean(right[data.unknown])) if data.unknown.any()
            else float("nan"),
            "unknown_baseline": unknown_word_baseline(words, np.arange(len(right))),
            "unknown_tokens": int(data.unknown.sum()), "tokens": len(right)}


def _train(run: Run) -> CharTagger:
    o = run.options
    be = load_backend(o.get("backend"), o.get("device"), "float32")
    data = char_tagging_data(run.corpus, train_sentences=o["train_sentences"],
                             test_sentences=None)
    words = data.words
    sizes = _sizes(data, o)
    run.say(f"{run.corpus}: {len(words.train_tags):,} training and {len(words.test_tags):,} "
            f"held-out tokens, {words.vocab_size:,} words, {data.n_chars} characters, "
            f"{words.n_tags} tags; on {be.name}/{be.device}")
    given = run.code.load("char_tagger")
    run.start(o["epochs"] * -(-len(words.train_tags) // o["batch_size"]))
    trained = given.train_char_tagger(be, data.train_inputs, words.train_tags, lr=o["lr"],
                                      epochs=o["epochs"], batch_size=o["batch_size"],
                                      seed=o["seed"], on_step=run.on_step, **sizes)
    losses = [float(x) for x in np.asarray(trained["losses"]).reshape(-1)]
    check_finite(losses, f"Adam, lr {o['lr']}", TOPIC)
    scores = np.asarray(given.char_window_scores(be, trained["parameters"], data.test_inputs,
                                                 **sizes), np.float64)  # (M, C)
    run.report.update(**_measured(scores, data), steps=len(losses),
                      final_loss=losses[-1] if losses else float("nan"))
    meta = {**{k: o[k] for k in SETTINGS if k not in ("backend", "device")}, "seed": o["seed"],
            "corpus": run.corpus, "accuracy": run.report["accuracy"],
            "unknown_accuracy": run.report["unknown"]}
    return CharTagger({k: np.asarray(v) for k, v in trained["parameters"].items()}, meta)


def _load(path: Path, code: Any) -> CharTagger:
    saved = read_checkpoint(path, FILES)
    return CharTagger(dict(saved.params), saved.meta)


CHAR = ModelKind(
    "char", "the window tagger whose words are their vector and your CharCNNEmbedding of "
    "their characters", _train, _load, ("char_tagger.py",), frozenset(SETTINGS),
    dict(SETTINGS), validate=check_rate, topic=TOPIC)
