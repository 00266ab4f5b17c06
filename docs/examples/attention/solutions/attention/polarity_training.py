"""Given code: training and scoring an attention-pooled bag of word vectors on MR's padded
sentences: each sentence's word vectors (the library's Embedding), pooled by the library's
AttentionPooling over its real words, then a Linear layer to two class scores; the library's
softmax cross-entropy and Adam, the training kit's minibatch loop
(:func:`nlpdojo.training.train_on_sentences`).

Nothing here is a question. The grader trains it with :func:`train_polarity` under a small
fixed budget and scores held-out sentences it never sends with :func:`score_sentences`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlpdojo import training
from nlpdojo.backend import Backend
from nlpdojo.module import Module

from ..library import Adam, AttentionPooling, Embedding, Linear, SoftmaxCrossEntropy

#: the model's sizes among the settings
SIZES = ("dim",)


class AttentiveBag(Module):
    """ids (B, T) and lengths (B,) → class scores (B, C): word vectors, attention pooling
    over the real words, a linear layer."""

    def __init__(self, backend: Backend, vocab_size: int, dim: int, num_classes: int = 2, *,
                 seed: int = 0) -> None:
        super().__init__(backend)
        self.embedding = Embedding(backend, vocab_size, dim, seed=seed)
        self.pool = AttentionPooling(backend, dim, seed=seed + 1)
        self.output = Linear(backend, dim, num_classes, seed=seed + 2)

    def forward(self, ids, lengths):
        x, c_emb = self.embedding(ids)  # (B, T, D)
        pooled, c_pool = self.pool(x, lengths)  # (B, D)
        scores, c_out = self.output(pooled)  # (B, C)
        return scores, (c_emb, c_pool, c_out)

    def backward(self, grad_scores, cache):
        c_emb, c_pool, c_out = cache
        grad_x, _ = self.pool.backward(self.output.backward(grad_scores, c_out), c_pool)
        self.embedding.backward(grad_x, c_emb)


def train_polarity(backend: Backend, train_ids: np.ndarray, train_lengths: np.ndarray,
                   train_labels: np.ndarray, *, vocab_size: int, dim: int, seed: int = 0,
                   init: dict | None = None, epochs: int = 1, lr: float = 0.01,
                   batch_size: int = 50,
                   on_step: Callable[[int, float], None] | None = None) -> dict:
    """Build the model (from ``init``'s parameters where given), train it and return
    ``{"parameters": {name: host array}, "losses": (steps,)}``."""
    model = AttentiveBag(backend, vocab_size, dim, seed=seed)
    if init is not None:
        model.load_state_dict(init)
    losses = training.train_on_sentences(
        backend, model, train_ids, train_lengths, train_labels,
        loss_fn=SoftmaxCrossEntropy(backend), optimizer=Adam(model.parameters(), lr=lr),
        batch_size=batch_size, epochs=epochs, seed=seed, on_step=on_step)
    return {"parameters": model.state_dict(), "losses": np.asarray(losses, np.float64)}


def score_sentences(backend: Backend, parameters: dict, sentences: tuple, *, vocab_size: int,
                    dim: int) -> np.ndarray:
    """The class scores (N, C) of ``sentences`` = (ids (N, T), lengths (N,)) under a model
    with ``parameters``."""
    model = AttentiveBag(backend, vocab_size, dim)
    model.load_state_dict(parameters)
    ids, lengths = sentences
    return training.sentence_scores(backend, model, ids, lengths,
                                    classes=model.output.weight.shape[1])
