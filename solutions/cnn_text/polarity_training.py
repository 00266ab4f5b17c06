"""Given code: training and scoring Kim's sentence CNN (:mod:`.kim_cnn`) on padded sentences as
Kim (2014, §3.1) does, with Adam instead of Adadelta: shuffled minibatches of 50 cut to their
longest sentence, dropout 0.5 on the pooled features, the library's softmax cross-entropy and
Adam, and after every step the output layer's weight vectors projected onto the max-norm ball
(s = 3, :func:`~nlpdojo_solutions.library.constraints.apply_max_norm`); scores in eval mode.

Nothing here is a question. The grader trains your :class:`~.kim_cnn.SentenceCNN` with
:func:`train_polarity` under a small fixed budget and scores held-out sentences it never sends
with :func:`score_sentences`; ``bench/mr_classifier_results.py --models cnn`` runs the 10-fold
table.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlpdojo import training
from nlpdojo.backend import Backend

from ..library import Adam, SoftmaxCrossEntropy, apply_max_norm
from .kim_cnn import SentenceCNN

#: the model's sizes among the settings
CNN_SIZES = ("dim", "filters", "widths", "dropout")


def build_cnn(backend: Backend, vocab_size: int, *, dim: int, filters: int,
              widths: tuple[int, ...] = (3, 4, 5), dropout: float = 0.5, num_classes: int = 2,
              seed: int = 0) -> SentenceCNN:
    """A fresh sentence CNN of the given sizes."""
    return SentenceCNN(backend, vocab_size, dim, num_classes, widths=tuple(widths),
                       filters=filters, dropout=dropout, seed=seed)


def train_cnn(backend: Backend, model: SentenceCNN, ids: np.ndarray, lengths: np.ndarray,
              labels: np.ndarray, *, batch_size: int = 50, epochs: int = 1, lr: float = 0.001,
              max_norm: float | None = 3.0, seed: int = 0, bucketing: int = 0,
              on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Minibatch training (:func:`nlpdojo.training.train_on_sentences`): ``ids`` (N, T)
    padded, ``lengths`` (N,), ``labels`` (N,); each epoch in a fresh order drawn from
    ``seed`` (with ``bucketing``, in batches of similar lengths); the output layer's weight
    kept in the max-norm ball (None: unconstrained). Returns the loss of every step (host
    floats)."""
    def constrain() -> None:
        apply_max_norm(model.output.parameters(), max_norm)  # Kim's s = 3

    return training.train_on_sentences(backend, model, ids, lengths, labels,
                                       loss_fn=SoftmaxCrossEntropy(backend),
                                       optimizer=Adam(model.parameters(), lr=lr),
                                       batch_size=batch_size, epochs=epochs, seed=seed,
                                       bucketing=bucketing,
                                       on_step=on_step,
                                       after_step=constrain if max_norm is not None else None)


def cnn_scores(backend: Backend, model: SentenceCNN, ids: np.ndarray, lengths: np.ndarray, *,
               batch_size: int = 500) -> np.ndarray:
    """The class scores (N, C) of every sentence, float64 on the host, in eval mode."""
    return training.sentence_scores(backend, model, ids, lengths,
                                    classes=model.output.weight.shape[1],
                                    batch_size=batch_size)


def train_polarity(backend: Backend, train_ids: np.ndarray, train_lengths: np.ndarray,
                   train_labels: np.ndarray, *, vocab_size: int, seed: int = 0,
                   init: dict | None = None, **settings) -> dict:
    """Build a CNN (from ``init``'s parameters where given), train it and return
    ``{"parameters": {name: host array}, "losses": (steps,)}``. ``settings``: the sizes
    (:data:`CNN_SIZES`) and :func:`train_cnn`'s options."""
    sizes = {k: settings.pop(k) for k in CNN_SIZES if k in settings}
    model = build_cnn(backend, vocab_size, seed=seed, **sizes)
    if init is not None:
        model.load_state_dict(init)
    losses = train_cnn(backend, model, train_ids, train_lengths, train_labels, seed=seed,
                       **settings)
    return {"parameters": model.state_dict(), "losses": np.asarray(losses, np.float64)}


def score_sentences(backend: Backend, parameters: dict, sentences: tuple, *, vocab_size: int,
                    **sizes) -> np.ndarray:
    """The class scores (N, C) of ``sentences`` = (ids (N, T), lengths (N,)) under a CNN with
    ``parameters``, in eval mode."""
    model = build_cnn(backend, vocab_size, **{k: sizes[k] for k in CNN_SIZES if k in sizes})
    model.load_state_dict(parameters)
    ids, lengths = sentences
    return cnn_scores(backend, model, ids, lengths)
