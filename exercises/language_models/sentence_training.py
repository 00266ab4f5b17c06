"""The given training loop of the sentence classifier (:mod:`.encoder`): minibatches of padded
sentences cut to their longest, the library's Adam and softmax cross-entropy, and prediction in
eval mode. The grader trains your classifier with it (question ``sentence_classifier``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlpdojo import training
from nlpdojo.backend import Backend

from ..library import Adam, SoftmaxCrossEntropy
from .encoder import SentenceClassifier


def train_classifier(backend: Backend, model: SentenceClassifier, ids: np.ndarray,
                     lengths: np.ndarray, labels: np.ndarray, *, batch_size: int = 50,
                     epochs: int = 1, lr: float = 0.005, seed: int = 0, bucketing: int = 0,
                     on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Minibatch training with the library's Adam and softmax cross-entropy (given:
    :func:`nlpdojo.training.train_on_sentences`).

    ``ids`` (N, T) padded sentences, ``lengths`` (N,), ``labels`` (N,). Each epoch visits the
    sentences in a fresh order drawn from ``seed``; a batch is cut to its longest sentence, so
    short batches cost short loops, and ``bucketing`` makes batches of similar lengths.
    Returns the training loss of every step (host floats).
    """
    return training.train_on_sentences(backend, model, ids, lengths, labels,
                                       loss_fn=SoftmaxCrossEntropy(backend),
                                       optimizer=Adam(model.parameters(), lr=lr),
                                       batch_size=batch_size, epochs=epochs, seed=seed,
                                       bucketing=bucketing,
                                       on_step=on_step)


def sentence_scores(backend: Backend, model: SentenceClassifier, ids: np.ndarray,
                    lengths: np.ndarray, *, batch_size: int = 500) -> np.ndarray:
    """The class scores (N, C) of every sentence, float64 on the host, in eval mode; each
    batch cut to its longest sentence (given)."""
    return training.sentence_scores(backend, model, ids, lengths,
                                    classes=model.output.weight.shape[1],
                                    batch_size=batch_size)


def predict(backend: Backend, model: SentenceClassifier, ids: np.ndarray, lengths: np.ndarray,
            *, batch_size: int = 500) -> np.ndarray:
    """The most probable class of every sentence (N,), in eval mode (given)."""
    return np.argmax(sentence_scores(backend, model, ids, lengths, batch_size=batch_size),
                     axis=1)


def train_and_predict(backend: Backend, train_ids: np.ndarray, train_lengths: np.ndarray,
                      train_labels: np.ndarray, test_ids: np.ndarray,
                      test_lengths: np.ndarray, *, vocab_size: int, num_classes: int = 2,
                      dim: int = 50, hidden: int = 50, pooling: str = "mean",
                      epochs: int = 1, lr: float = 0.005, seed: int = 0) -> np.ndarray:
    """Build a :class:`SentenceClassifier`, train it (:func:`train_classifier`) and predict
    the held-out sentences' classes (given: the grader's training run)."""
    model = SentenceClassifier(backend, vocab_size, dim, hidden, num_classes,
                               pooling=pooling, seed=seed)
    train_classifier(backend, model, train_ids, train_lengths, train_labels, epochs=epochs,
                     lr=lr, seed=seed)
    return predict(backend, model, test_ids, test_lengths)


def train_polarity(backend: Backend, train_ids: np.ndarray, train_lengths: np.ndarray,
                   train_labels: np.ndarray, *, vocab_size: int, num_classes: int = 2,
                   dim: int = 50, hidden: int = 50, pooling: str = "mean", epochs: int = 1,
                   lr: float = 0.005, seed: int = 0, bucketing: int = 0,
                   init: dict | None = None) -> dict:
    """Build a :class:`SentenceClassifier` (from ``init``'s parameters where given), train it
    (:func:`train_classifier`) and return ``{"parameters": {name: host array}, "losses":
    (steps,)}`` (given: the grader's training run; it scores held-out sentences itself)."""
    model = SentenceClassifier(backend, vocab_size, dim, hidden, num_classes,
                               pooling=pooling, seed=seed)
    if init is not None:
        model.load_state_dict(init)
    losses = train_classifier(backend, model, train_ids, train_lengths, train_labels,
                              epochs=epochs, lr=lr, seed=seed, bucketing=bucketing)
    return {"parameters": model.state_dict(), "losses": np.asarray(losses, np.float64)}


def score_sentences(backend: Backend, parameters: dict, sentences: tuple, *, vocab_size: int,
                    num_classes: int = 2, dim: int = 50, hidden: int = 50,
                    pooling: str = "mean", batch_size: int = 500) -> np.ndarray:
    """The class scores (N, C) of ``sentences`` = (ids (N, T), lengths (N,)) under a
    classifier with ``parameters``, in eval mode (given)."""
    ids, lengths = sentences
    model = SentenceClassifier(backend, vocab_size, dim, hidden, num_classes, pooling=pooling)
    model.load_state_dict(parameters)
    return sentence_scores(backend, model, ids, lengths, batch_size=batch_size)
