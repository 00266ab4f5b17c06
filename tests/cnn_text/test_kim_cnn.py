"""Topic ``cnn_text``'s reference ``SentenceCNN`` (Kim 2014) on every device: over a padded
batch it equals torch run on each sentence alone, unpadded (the grader's oracle, scores and
every parameter's gradient), a one-word sentence included; dropout is on in training and off in
eval mode."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_course.cnn_text import classifier as q
from nlpdojo_course.cnn_text.kim_cases import WIDTH_SETS
from nlpdojo_solutions.cnn_text.kim_cnn import SentenceCNN

torch = pytest.importorskip("torch")

V, D, C, F = 13, 4, 2, 3
LENGTHS = np.array([6, 1, 3, 4])


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _batch(backend, rng):
    ids = rng.integers(1, V, (4, 6))
    ids[np.arange(6)[None, :] >= LENGTHS[:, None]] = 0
    return ids, backend.asarray(ids, dtype=backend.xp.int64), backend.asarray(
        LENGTHS, dtype=backend.xp.int64)


@pytest.mark.parametrize("widths", [(2, 3), *WIDTH_SETS[-2:]])
def test_a_padded_batch_scores_as_each_sentence_alone(backend, widths):
    rng = np.random.default_rng(0)
    model = SentenceCNN(backend, V, D, C, widths=widths, filters=F, dropout=0.0, seed=2)
    ids, x, lengths = _batch(backend, rng)
    grad = rng.standard_normal((4, C))
    scores, cache = model(x, lengths)
    assert model.backward(backend.asarray(grad), cache) == (None, None)
    p = {n: torch.tensor(np.asarray(v, np.float64), requires_grad=True)
         for n, v in model.state_dict().items()}
    expected = q._torch_cnn(p, torch.as_tensor(ids), torch.as_tensor(LENGTHS), widths)
    (expected * torch.tensor(grad)).sum().backward()
    np.testing.assert_allclose(_np(backend, scores), expected.detach().numpy(), rtol=1e-10)
    for name, param in model.named_parameters():
        np.testing.assert_allclose(_np(backend, param.grad), p[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def test_dropout_is_on_in_training_and_off_in_eval(backend):
    rng = np.random.default_rng(1)
    _, x, lengths = _batch(backend, rng)
    plain = SentenceCNN(backend, V, D, C, filters=F, dropout=0.0, seed=4)
    dropped = SentenceCNN(backend, V, D, C, filters=F, dropout=0.5, seed=4)
    reference = _np(backend, plain(x, lengths)[0])
    assert not np.allclose(_np(backend, dropped(x, lengths)[0]), reference)
    dropped.eval()
    np.testing.assert_allclose(_np(backend, dropped(x, lengths)[0]), reference, rtol=1e-12)


def test_the_given_loop_keeps_the_output_weights_in_the_max_norm_ball(backend):
    """``train_cnn`` projects the output layer's columns after every step (max norm 0.5 here,
    a learning rate that pushes them past it), leaves the convolutions alone, and without the
    constraint the columns grow past it."""
    from nlpdojo_solutions.cnn_text import polarity_training as pt

    rng = np.random.default_rng(0)
    ids = rng.integers(1, V, (40, 6))
    lengths = rng.integers(1, 7, 40)
    ids[np.arange(6)[None, :] >= lengths[:, None]] = 0
    labels = (ids[:, 0] % 2).astype(np.int64)
    norms = {}
    for limit in (0.5, None):
        model = pt.build_cnn(backend, V, dim=D, filters=F, widths=(2, 3), dropout=0.0)
        losses = pt.train_cnn(backend, model, ids, lengths, labels, batch_size=8, epochs=3,
                              lr=0.1, max_norm=limit)
        assert len(losses) == 15 and np.all(np.isfinite(losses))
        norms[limit] = np.linalg.norm(_np(backend, model.output.weight.data), axis=0)
    assert np.all(norms[0.5] <= 0.5 * (1 + 1e-6))
    assert np.any(norms[None] > 0.5)
