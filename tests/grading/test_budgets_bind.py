"""The graded training runs exercise the pieces their budgets name.

A training check earns its points only where the run matches the reference's step by step
(autograder/training/trained.py), so a piece of the pipeline that never acts in the budget is
never checked there: with the gradient clipped at 5 (largest norm 0.95 in the LSTM LM's run,
1.4-1.7 in the BiLSTM's) and the output weights' max norm at 3 (their largest column 1.64 in
Kim's CNN), a clipping and a max-norm that did nothing kept those 6 points (found by a
reviewer). The budgets now clip and constrain where the reference's run goes past them; each
test runs the reference's own training from the grader's initial parameters until the limit
first binds (stopping there)."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_autograder.training import initial_parameters, labelled_sentences, token_streams


class _Bound(Exception):
    """Raised by a recording hook once the limit binds: the training stops there."""


def _stop_when_above(limit, measure):
    seen = []

    def hook(params, value, original):
        params = list(params)
        seen.append(measure(params))
        if seen[-1] > limit:
            raise _Bound(len(seen))
        return original(params, value)
    return hook, seen


def _global_norm(params):
    return float(np.sqrt(sum(float((np.asarray(p.grad) ** 2).sum()) for p in params)))


def _largest_column(params):
    return max(float(np.linalg.norm(np.asarray(p.data), axis=0).max())
               for p in params if np.ndim(p.data) == 2)


def test_the_lstm_lms_gradient_is_clipped_in_its_graded_run(monkeypatch):
    from nlpdojo_autograder.training import lm_shapes
    from nlpdojo_course.rnn_variants.language_model import BUDGET, NEURAL_DATA
    from nlpdojo_solutions.library import clipping
    from nlpdojo_solutions.rnn_variants import lm_training, lstm_lm

    hook, seen = _stop_when_above(BUDGET["clip"], _global_norm)
    monkeypatch.setattr(lstm_lm, "clip_gradients",
                        lambda p, v: hook(p, v, clipping.clip_gradients))
    data = token_streams("sotu", **NEURAL_DATA)
    init = initial_parameters(
        lm_shapes("lstm", data.vocab_size, BUDGET["dim"], BUDGET["hidden"]), 0)
    init["rnn.cell.bias"][BUDGET["hidden"]:2 * BUDGET["hidden"]] = 1.0
    with pytest.raises(_Bound):
        lm_training.train_lm(load_backend("numpy"), data.train_ids,
                             vocab_size=data.vocab_size, seed=0, init=init, **BUDGET)
    assert len(seen) <= 10, seen  # from the first windows on


def test_the_bilstms_gradient_is_clipped_in_its_graded_run(monkeypatch):
    from nlpdojo_course.rnn_variants.classifier import BUDGET, classifier_shapes, open_forget_gates
    from nlpdojo_solutions.library import clipping
    from nlpdojo_solutions.rnn_variants import classifier_training

    hook, seen = _stop_when_above(BUDGET["clip"], _global_norm)
    monkeypatch.setattr(classifier_training, "clip_gradients",
                        lambda p, v: hook(p, v, clipping.clip_gradients))
    data = labelled_sentences("mr", max_tokens=40, min_count=2)
    init = open_forget_gates(initial_parameters(
        classifier_shapes(data.vocab_size, BUDGET["hidden"], BUDGET["dim"]), 0))
    with pytest.raises(_Bound):
        classifier_training.train_polarity(
            load_backend("numpy"), data.train_ids, data.train_lengths, data.train_labels,
            vocab_size=data.vocab_size, seed=0, init=init, **BUDGET)


def test_kims_output_weights_are_constrained_in_the_graded_run(monkeypatch):
    from nlpdojo_course.cnn_text.classifier import BUDGET, cnn_shapes
    from nlpdojo_solutions.cnn_text import polarity_training
    from nlpdojo_solutions.library import constraints

    hook, seen = _stop_when_above(BUDGET["max_norm"], _largest_column)
    monkeypatch.setattr(polarity_training, "apply_max_norm",
                        lambda p, v: hook(p, v, constraints.apply_max_norm))
    data = labelled_sentences("mr", max_tokens=40, min_count=2)
    init = initial_parameters(cnn_shapes(data.vocab_size, BUDGET["dim"], BUDGET["filters"],
                                         BUDGET["widths"]), 0)
    with pytest.raises(_Bound):
        polarity_training.train_polarity(
            load_backend("numpy"), data.train_ids, data.train_lengths, data.train_labels,
            vocab_size=data.vocab_size, seed=0, init=init, **BUDGET)
