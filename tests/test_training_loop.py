"""``nlpdojo.training``: the sentence classifiers' and the fixed-size examples' minibatch loops
and scoring the topics' given modules share, and the grading worker's frozen copy of them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nlpdojo import training
from nlpdojo.selection import make_backend


class Recorder:
    """A model, loss and optimizer that record what the loop does, in order."""

    def __init__(self, events: list) -> None:
        self.events = events
        self.training = True

    # the model
    def __call__(self, x, lengths):
        self.events.append(("forward", x.shape, tuple(lengths.tolist()), self.training))
        return np.ones((x.shape[0], 2)) * x.sum(axis=1, keepdims=True), None

    def backward(self, grad, cache):
        self.events.append(("backward",))

    def eval(self):
        self.training = False

    def train(self):
        self.training = True


class Loss:
    def __init__(self, events: list) -> None:
        self.events = events

    def __call__(self, scores, labels):
        return float(labels.sum()), None

    def backward(self, upstream, cache):
        return upstream


class Optimizer:
    def __init__(self, events: list) -> None:
        self.events = events

    def zero_grad(self):
        self.events.append(("zero_grad",))

    def step(self):
        self.events.append(("step",))


def _data():
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [4, 5, 6, 7], [8, 9, 1, 0], [2, 0, 0, 0]])
    lengths = np.array([2, 1, 4, 3, 1])
    labels = np.array([0, 1, 1, 0, 1])
    return ids, lengths, labels


def test_the_loop_runs_each_step_in_order_with_the_topics_hooks_around_the_update():
    backend = make_backend("numpy", "cpu", "float64")
    ids, lengths, labels = _data()
    events: list = []
    steps: list = []
    losses = training.train_on_sentences(
        backend, Recorder(events), ids, lengths, labels, loss_fn=Loss(events),
        optimizer=Optimizer(events), batch_size=2, epochs=2, seed=7,
        before_step=lambda: events.append(("before",)),
        after_step=lambda: events.append(("after",)),
        on_step=lambda step, loss: steps.append(step))
    kinds = [e[0] for e in events]
    # 3 batches an epoch (2, 2, 1 sentences), two epochs
    assert kinds == ["zero_grad", "forward", "backward", "before", "step", "after"] * 6
    assert steps == list(range(1, 7)) and len(losses) == 6
    order = np.random.default_rng(7).permutation(5)
    first = [e for e in events if e[0] == "forward"][0]
    rows = order[:2]
    # the batch is cut to its longest sentence, its lengths passed along, in training mode
    assert first[1] == (2, int(lengths[rows].max()))
    assert first[2] == tuple(lengths[rows].tolist()) and first[3] is True
    assert losses[0] == float(labels[rows].sum())
    # the same seed, the same order
    again: list = []
    assert training.train_on_sentences(
        backend, Recorder(again), ids, lengths, labels, loss_fn=Loss(again),
        optimizer=Optimizer(again), batch_size=2, epochs=2, seed=7) == losses


def test_bucketed_batches_hold_sentences_of_similar_lengths_each_once_an_epoch():
    """With ``bucketing`` each pool of that many batches of the shuffled order is sorted by
    length before it is cut: every sentence once, the batches' lengths within a pool apart,
    fewer padded steps than shuffled batches; off, the batches are the shuffled order's."""
    lengths = np.random.default_rng(0).integers(1, 41, size=1003)  # (N,)
    plain = training.batches_of_sentences(np.random.default_rng(5), lengths, 50)
    order = np.random.default_rng(5).permutation(1003)
    assert np.array_equal(np.concatenate(plain), order) and len(plain) == 21
    buckets = training.batches_of_sentences(np.random.default_rng(5), lengths, 50, 4)
    assert sorted(np.concatenate(buckets).tolist()) == list(range(1003))
    assert sorted(len(b) for b in buckets) == [3] + [50] * 20
    for first in range(0, 1003, 200):  # each pool of 4 batches: sorted, then cut
        pool = np.sort(lengths[order[first:first + 200]])
        cut = {tuple(pool[s:s + 50]) for s in range(0, len(pool), 50)}
        assert cut <= {tuple(np.sort(lengths[b])) for b in buckets}
    padded = sum(int(lengths[b].max()) * len(b) for b in buckets)
    assert padded < 0.8 * sum(int(lengths[b].max()) * len(b) for b in plain)
    assert [b.tolist() for b in buckets] == [  # the same seed, the same batches
        b.tolist() for b in training.batches_of_sentences(np.random.default_rng(5), lengths,
                                                          50, 4)]
    with pytest.raises(ValueError, match="bucketing must be 0"):
        training.batches_of_sentences(np.random.default_rng(5), lengths, 50, -1)


def test_the_loop_trains_on_bucketed_batches_when_asked():
    backend = make_backend("numpy", "cpu", "float64")
    ids, lengths, labels = _data()
    events: list = []
    training.train_on_sentences(backend, Recorder(events), ids, lengths, labels,
                                loss_fn=Loss(events), optimizer=Optimizer(events),
                                batch_size=2, epochs=1, seed=7, bucketing=3)
    shapes = sorted(e[1] for e in events if e[0] == "forward")
    # one pool of three batches: lengths (1, 1), (2, 3), (4,), each cut to its longest
    assert shapes == [(1, 4), (2, 1), (2, 3)]


def test_scores_come_in_eval_mode_for_every_sentence_and_training_mode_returns():
    backend = make_backend("numpy", "cpu", "float64")
    ids, lengths, _ = _data()
    events: list = []
    model = Recorder(events)
    scores = training.sentence_scores(backend, model, ids, lengths, classes=2, batch_size=2)
    assert scores.shape == (5, 2) and scores.dtype == np.float64
    assert np.allclose(scores[:, 0], [3, 3, 22, 18, 2])  # each row's ids, cut to its batch
    assert all(e[3] is False for e in events) and model.training
    none = training.sentence_scores(backend, model, ids[:0], lengths[:0], classes=3)
    assert none.shape == (0, 3)


class WindowRecorder(Recorder):
    """A model of fixed-size examples: ``model(x)``."""

    def __call__(self, x):
        self.events.append(("forward", tuple(x.tolist()), self.training))
        return np.ones((x.shape[0], 2)) * x.sum(axis=1, keepdims=True), None


def test_the_examples_loop_draws_each_epochs_order_from_the_seed_and_the_epoch():
    """Epoch e visits the examples in the order of ``(seed, e)``: a run resumed at epoch 1
    makes the second epoch's steps of the uninterrupted run, in training mode throughout."""
    backend = make_backend("numpy", "cpu", "float64")
    inputs = np.arange(10).reshape(5, 2)  # (N, W)
    labels = np.array([0, 1, 1, 0, 1])
    events: list = []
    steps: list = []
    model = WindowRecorder(events)
    model.eval()  # the loop puts it in training mode
    losses = training.train_on_examples(
        backend, model, inputs, labels, loss_fn=Loss(events), optimizer=Optimizer(events),
        batch_size=2, epochs=2, seed=3, on_step=lambda step, loss: steps.append(step))
    assert [e[0] for e in events] == ["zero_grad", "forward", "backward", "step"] * 6
    assert steps == list(range(1, 7))
    for epoch in (0, 1):
        order = np.random.default_rng([3, epoch]).permutation(5)
        seen = [e[1] for e in events if e[0] == "forward"][3 * epoch:3 * epoch + 3]
        assert [row for batch in seen for row in batch] == inputs[order].tolist()
    assert all(e[2] for e in events if e[0] == "forward")
    resumed: list = []
    again = training.train_on_examples(
        backend, WindowRecorder(resumed), inputs, labels, loss_fn=Loss(resumed),
        optimizer=Optimizer(resumed), batch_size=2, epochs=2, seed=3, start_epoch=1)
    assert again == losses[3:]


def test_example_scores_come_in_eval_mode_for_every_example():
    backend = make_backend("numpy", "cpu", "float64")
    events: list = []
    model = WindowRecorder(events)
    scores = training.example_scores(backend, model, np.arange(10).reshape(5, 2), classes=2,
                                     batch_size=2)
    assert scores.shape == (5, 2) and scores.dtype == np.float64
    assert np.allclose(scores[:, 0], [1, 5, 9, 13, 17])
    assert all(e[2] is False for e in events) and model.training
    assert training.example_scores(backend, model, np.zeros((0, 2)), classes=3).shape == (0, 3)


def test_a_grading_worker_freezes_the_shared_loop_before_any_submission_runs():
    """Given code calls the framework's loop: a submission that rebinds it in the worker
    (``nlpdojo.training.train_on_sentences = ...``) is refused, as for every grader module."""
    code = (
        "import nlpdojo_autograder.runtime.worker\n"
        "from nlpdojo_autograder.runtime.frozen import FrozenModule, freeze_grader_modules\n"
        "freeze_grader_modules()\n"
        "import nlpdojo.training as t\n"
        "assert type(t) is FrozenModule, type(t)\n"
        "try:\n"
        "    t.train_on_sentences = None\n"
        "except AttributeError as e:\n"
        "    print('refused:', e)\n")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "refused:" in ran.stdout and "belongs to the grader" in ran.stdout
