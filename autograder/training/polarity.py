"""Sentence polarity classifiers for ``dojo train``, written once: every topic's sentence
classifier trains and is scored on MR (Pang and Lee 2005) through the same two given functions
its graded check calls (:func:`~.plans.mr_polarity_plan`), so a kind is one line of its topic.

* ``train_polarity(backend, train_ids, train_lengths, train_labels, *, vocab_size, seed,
  **settings) -> {"parameters": {name: host array}, "losses": (steps,)}``;
* ``score_sentences(backend, parameters, (ids, lengths), *, vocab_size, **sizes) -> (N, C)``.

The data are the grader's (:func:`~.prepare.labelled_sentences`, patched in tests through
:data:`polarity_data`): sentences of 40 tokens at most, the words seen twice or more in the
training split. The whole test split is scored, and its accuracy reported beside the majority
class's; the checkpoint (the kit's format) holds the parameters and the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.selection import load_backend
from nlpdojo_autograder.training.checkpoint import (
    CheckpointFiles,
    read_checkpoint,
    save_checkpoint,
)
from nlpdojo_autograder.training.commands import ModelKind, Run, check_finite, check_rate
from nlpdojo_autograder.training.evaluate import accuracy, majority_share
from nlpdojo_autograder.training.prepare import labelled_sentences

#: the data set and its preparation, as the graded checks' (plans.mr_polarity_plan)
CORPUS, MAX_TOKENS, MIN_COUNT = "mr", 40, 2
#: the options every classifier kind reads beside its own settings
SHARED = {"backend": None, "device": None}

#: the grader's labelled sentences (tests patch this)
polarity_data = labelled_sentences


@dataclass
class PolarityClassifier:
    """A trained sentence classifier: its kind, parameters (host arrays) and settings."""

    kind: str
    parameters: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        save_checkpoint(path, {**self.meta, "model": self.kind}, params=self.parameters)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _train(kind: str, module: str, settings: dict[str, Any], sizes: tuple[str, ...],
           run: Run) -> PolarityClassifier:
    o = run.options
    be = load_backend(o.get("backend"), o.get("device"), "float32")
    data = polarity_data(run.corpus, max_tokens=MAX_TOKENS, min_count=MIN_COUNT)
    run.say(f"{run.corpus}: {len(data.train_labels):,} training and {len(data.test_labels):,} "
            f"test sentences, {data.vocab_size:,} words (<pad> and <unk> included); on "
            f"{be.name}/{be.device}")
    chosen = {k: o[k] for k in settings}  # the kind's settings, as given or by default
    given = run.code.load(module)
    trained = given.train_polarity(be, data.train_ids, data.train_lengths, data.train_labels,
                                   vocab_size=data.vocab_size, seed=o["seed"], **chosen)
    losses = [float(x) for x in np.asarray(trained["losses"]).reshape(-1)]
    check_finite(losses, f"lr {chosen.get('lr')}", run.code.code.topic)
    scores = np.asarray(given.score_sentences(
        be, trained["parameters"], (data.test_ids, data.test_lengths),
        vocab_size=data.vocab_size, **{k: chosen[k] for k in sizes}), np.float64)
    acc = accuracy(scores, data.test_labels)
    run.report.update(accuracy=acc, majority=majority_share(data.test_labels),
                      test_sentences=len(data.test_labels), steps=len(losses),
                      final_loss=losses[-1] if losses else float("nan"))
    meta = {**{k: _jsonable(v) for k, v in chosen.items()}, "seed": o["seed"],
            "corpus": run.corpus, "vocab_size": data.vocab_size, "test_accuracy": acc}
    return PolarityClassifier(kind, {k: np.asarray(v) for k, v in
                                     trained["parameters"].items()}, meta)


def _load(kind: str, files: CheckpointFiles, path: Path, code: Any) -> PolarityClassifier:
    saved = read_checkpoint(path, files)
    return PolarityClassifier(kind, dict(saved.params), saved.meta)


def polarity_kind(name: str, summary: str, module: str, settings: dict[str, Any],
                  sizes: tuple[str, ...], *, files: CheckpointFiles,
                  topic: str | None = None) -> ModelKind:
    """A sentence classifier for ``--model NAME`` of a polarity command: the chosen code's
    given ``module`` (its ``train_polarity`` and ``score_sentences``) with ``settings`` (the
    topic's training budget: sizes and training options, each overridable where the command
    has a flag for it), ``sizes`` the settings ``score_sentences`` reads; ``topic``: the
    topic whose folder holds ``module``, where it is not the command's."""
    return ModelKind(name, summary, lambda run: _train(name, module, settings, sizes, run),
                     lambda path, code: _load(name, files, path, code), (f"{module}.py",),
                     frozenset({*SHARED, *settings}), {**SHARED, **settings},
                     corpora=(CORPUS,), validate=check_rate, topic=topic)
