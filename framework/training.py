"""Minibatch training and scoring of a classifier: the loops every topic that trains one on
labelled sentences (:func:`train_on_sentences`) or on fixed-size examples such as word windows
(:func:`train_on_examples`) gives its students (CS224n lecture 3's minibatch SGD; Kim 2014,
§3.1's shuffled minibatches of 50), written once.

A topic's given module builds the model, the loss and the optimizer from the student's own
library (``SoftmaxCrossEntropy``, ``Adam``) and hands them here; what differs between topics
is a step of their own around the update: gradients clipped before it (``before_step``,
rnn_variants' BiLSTM), the output layer's weight put back in the max-norm ball after it
(``after_step``, Kim's CNN). The code lives in the framework, not in the student's folder:
graded code runs the installed copy, which a submission cannot replace (a grading worker
freezes the framework's modules before any student code runs), so a topic that uses it need
not declare it given.

Each epoch visits the sentences in an order drawn from ``seed``; a batch is cut to its
longest sentence, so short batches cost short loops; scores are computed in eval mode. With
``bucketing`` the batches hold sentences of similar lengths (the bucketing of torchtext's
``BucketIterator`` and fairseq): each epoch's shuffled order is cut into pools of that many
batches, each pool sorted by length and cut into batches, and the batches visited in an order
drawn from ``seed``. On MR's training split (sentences of 40 tokens at most, 21 on average) a
random batch of 50 is cut to 39.7 tokens on average, a bucketed one (pools of 10 batches) to
23: the recurrences and convolutions run 0.58x the steps. The
examples' loop draws epoch e's order from ``(seed, e)``, so a run resumed at epoch e continues
exactly as the uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nlpdojo.backend import Backend


def train_on_sentences(backend: Backend, model: Any, ids: np.ndarray, lengths: np.ndarray,
                       labels: np.ndarray, *, loss_fn: Any, optimizer: Any,
                       batch_size: int = 50, epochs: int = 1, seed: int = 0,
                       bucketing: int = 0,
                       before_step: Callable[[], None] | None = None,
                       after_step: Callable[[], None] | None = None,
                       on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Minibatch training of ``model`` (``model(x, lengths) -> (scores (b, C), cache)``,
    ``model.backward(grad_scores, cache)``) with ``loss_fn`` (``loss_fn(scores, labels) ->
    (loss, cache)``, ``loss_fn.backward(1.0, cache)``) and ``optimizer`` (``zero_grad``,
    ``step``). ``ids`` (N, T) padded sentences, ``lengths`` (N,), ``labels`` (N,), on the
    host. ``bucketing``: 0 for shuffled batches, else the batches of similar lengths of a pool
    of that many (:func:`batches_of_sentences`). ``before_step`` runs after the backward pass
    and before the update, ``after_step`` after it, ``on_step(step, loss)`` after each.
    Returns the training loss of every step (host floats)."""
    rng = np.random.default_rng(seed)
    losses: list[float] = []
    for _ in range(epochs):
        for rows in batches_of_sentences(rng, lengths, batch_size, bucketing):  # (b,) each
            longest = int(lengths[rows].max())
            x = backend.asarray(np.ascontiguousarray(ids[rows, :longest]))  # (b, T_b)
            optimizer.zero_grad()
            scores, cache = model(x, backend.asarray(lengths[rows]))  # (b, C)
            loss, c_loss = loss_fn(scores, backend.asarray(labels[rows]))
            model.backward(loss_fn.backward(1.0, c_loss), cache)
            if before_step is not None:
                before_step()
            optimizer.step()
            if after_step is not None:
                after_step()
            losses.append(float(loss))
            if on_step is not None:
                on_step(len(losses), losses[-1])
    return losses


def batches_of_sentences(rng: np.random.Generator, lengths: np.ndarray, batch_size: int,
                         bucketing: int = 0) -> list[np.ndarray]:
    """One epoch's batches (row indices (b,) each) of the sentences of ``lengths`` (N,), in
    an order drawn from ``rng``: the shuffled order cut into batches; with ``bucketing`` > 0,
    the shuffled order cut into pools of ``bucketing`` batches, each pool sorted by length
    (stably) and cut into batches, and the batches shuffled (a loop over pools and batches,
    not sentences)."""
    if bucketing < 0:
        raise ValueError(f"bucketing must be 0 (shuffled batches) or a number of batches per "
                         f"pool, not {bucketing}")
    order = rng.permutation(len(lengths))  # (N,)
    if not bucketing:
        return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    pool = bucketing * batch_size
    batches = []
    for first in range(0, len(order), pool):
        rows = order[first:first + pool]  # (p,)
        rows = rows[np.argsort(lengths[rows], kind="stable")]  # (p,) shortest first
        batches += [rows[start:start + batch_size] for start in range(0, len(rows), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def sentence_scores(backend: Backend, model: Any, ids: np.ndarray, lengths: np.ndarray, *,
                    classes: int, batch_size: int = 500) -> np.ndarray:
    """The class scores (N, ``classes``) of every sentence, float64 on the host, in eval mode
    (the model is put back in training mode after); each batch cut to its longest
    sentence."""
    model.eval()
    out = [np.zeros((0, classes))]
    for start in range(0, len(lengths), batch_size):
        n = lengths[start:start + batch_size]  # (b,)
        x = backend.asarray(np.ascontiguousarray(ids[start:start + batch_size, :int(n.max())]))
        scores, _ = model(x, backend.asarray(n))  # (b, C)
        out.append(np.asarray(backend.to_numpy(scores), np.float64))
    model.train()
    return np.concatenate(out)


def train_on_examples(backend: Backend, model: Any, inputs: np.ndarray, labels: np.ndarray, *,
                      loss_fn: Any, optimizer: Any, batch_size: int = 64, epochs: int = 1,
                      seed: int = 0, start_epoch: int = 0,
                      on_step: Callable[[int, float], None] | None = None) -> list[float]:
    """Epochs ``start_epoch`` .. ``epochs - 1`` of minibatch training of ``model``
    (``model(x) -> (scores (b, C), cache)``, ``model.backward(grad_scores, cache)``) on
    ``inputs`` (N, ...) of one shape each (word windows: (N, W)) and ``labels`` (N,), on the
    host; ``loss_fn`` and ``optimizer`` as :func:`train_on_sentences` takes them. Epoch e
    visits the examples in the order drawn from ``(seed, e)``. The model is in training mode
    throughout. Returns the training loss of every step (host floats)."""
    losses: list[float] = []
    model.train()
    for epoch in range(start_epoch, epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(inputs))  # (N,)
        for start in range(0, len(order), batch_size):  # a loop over batches, not examples
            batch = order[start:start + batch_size]  # (b,)
            x = backend.asarray(inputs[batch])  # (b, ...)
            y = backend.asarray(labels[batch])  # (b,)
            optimizer.zero_grad()
            scores, cache = model(x)  # (b, C)
            loss, loss_cache = loss_fn(scores, y)
            model.backward(loss_fn.backward(1.0, loss_cache), cache)
            optimizer.step()
            losses.append(float(loss))
            if on_step is not None:
                on_step(len(losses), losses[-1])
    return losses


def example_scores(backend: Backend, model: Any, inputs: np.ndarray, *, classes: int,
                   batch_size: int = 4096) -> np.ndarray:
    """The scores (N, ``classes``) of every example of ``inputs`` (N, ...), float64 on the
    host, in eval mode (the model is put back in training mode after)."""
    model.eval()
    out = [np.zeros((0, classes))]
    for start in range(0, len(inputs), batch_size):
        scores, _ = model(backend.asarray(inputs[start:start + batch_size]))  # (b, C)
        out.append(np.asarray(backend.to_numpy(scores), np.float64))
    model.train()
    return np.concatenate(out)
