"""Given code: training and scoring the LSTM sentence classifier (:mod:`.classifier`) on
padded sentences, as ``language_models`` trains its RNN encoder's classifier: minibatches cut
to their longest sentence, the library's softmax cross-entropy and Adam, gradients clipped by
their global norm, scores in eval mode.

Nothing here is a question. The grader trains your :class:`~.classifier.SentenceLSTM` with
:func:`train_polarity` under a small fixed budget and scores held-out sentences it never sends
with :func:`score_sentences`; ``bench/mr_classifier_results.py`` runs the 10-fold table.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlpdojo import training
from nlpdojo.backend import Backend

from ..library import Adam, SoftmaxCrossEntropy, clip_gradients
from .classifier import SentenceLSTM

#: the model's sizes among the settings
CLASSIFIER_SIZES = ("dim", "hidden", "bidirectional", "pooling")


def build_classifier(backend: Backend, vocab_size: int, *, dim: int, hidden: int,
                     bidirectional: bool = True, pooling: str = "max", num_classes: int = 2,
                     seed: int = 0) -> SentenceLSTM:
    """A fresh classifier of the given sizes."""
    return SentenceLSTM(backend, vocab_size, dim, hidden, num_classes,
                        bidirectional=bidirectional, pooling=pooling, seed=seed)


def train_classifier(backend: Backend, model: SentenceLSTM, ids: np.ndarray,
                     lengths: np.ndarray, labels: np.ndarray, *, batch_size: int = 50,
                     epochs: int = 1, lr: float = 0.005, clip: float = 5.0, seed: int = 0,
                     bucketing: int = 0,
                     on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Minibatch training (:func:`nlpdojo.training.train_on_sentences`), gradients clipped by
    their global norm before each update: ``ids`` (N, T) padded, ``lengths`` (N,), ``labels``
    (N,); each epoch in a fresh order drawn from ``seed``, with ``bucketing`` in batches of
    similar lengths. Returns the loss of every step (host floats)."""
    def clipped() -> None:
        clip_gradients(model.parameters(), clip)

    return training.train_on_sentences(backend, model, ids, lengths, labels,
                                       loss_fn=SoftmaxCrossEntropy(backend),
                                       optimizer=Adam(model.parameters(), lr=lr),
                                       batch_size=batch_size, epochs=epochs, seed=seed,
                                       bucketing=bucketing,
                                       before_step=clipped, on_step=on_step)


def sentence_scores(backend: Backend, model: SentenceLSTM, ids: np.ndarray,
                    lengths: np.ndarray, *, batch_size: int = 500) -> np.ndarray:
    """The class scores (N, C) of every sentence, float64 on the host, in eval mode."""
    return training.sentence_scores(backend, model, ids, lengths,
                                    classes=model.output.weight.shape[1],
                                    batch_size=batch_size)


def train_polarity(backend: Backend, train_ids: np.ndarray, train_lengths: np.ndarray,
                   train_labels: np.ndarray, *, vocab_size: int, seed: int = 0,
                   init: dict | None = None, **settings) -> dict:
    """Build a classifier (from ``init``'s parameters where given), train it and return
    ``{"parameters": {name: host array}, "losses": (steps,)}``. ``settings``: the sizes
    (:data:`CLASSIFIER_SIZES`) and :func:`train_classifier`'s options."""
    sizes = {k: settings.pop(k) for k in CLASSIFIER_SIZES if k in settings}
    model = build_classifier(backend, vocab_size, seed=seed, **sizes)
    if init is not None:
        model.load_state_dict(init)
    losses = train_classifier(backend, model, train_ids, train_lengths, train_labels,
                              seed=seed, **settings)
    return {"parameters": model.state_dict(), "losses": np.asarray(losses, np.float64)}


def score_sentences(backend: Backend, parameters: dict, sentences: tuple, *, vocab_size: int,
                    **sizes) -> np.ndarray:
    """The class scores (N, C) of ``sentences`` = (ids (N, T), lengths (N,)) under a
    classifier with ``parameters``, in eval mode."""
    model = build_classifier(backend, vocab_size,
                             **{k: sizes[k] for k in CLASSIFIER_SIZES if k in sizes})
    model.load_state_dict(parameters)
    ids, lengths = sentences
    return sentence_scores(backend, model, ids, lengths)
