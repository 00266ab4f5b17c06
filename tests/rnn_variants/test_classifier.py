"""The reference BiLSTM sentence classifier of topic ``rnn_variants`` against PyTorch, float64,
on every device (CUDA skipped cleanly where there is none): ``SentenceLSTM`` against
``nn.Embedding`` → ``nn.LSTM(bidirectional=True)`` over packed sequences → pooling →
``nn.Linear`` with the same weights (scores and every gradient), a padded sentence scored as
the same sentence alone, the reversal index, and the given training loop learning MR-like
data on a tiny budget."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_autograder.training import BOTH_WAYS, torch_sentence
from nlpdojo_solutions.rnn_variants import classifier_training as given
from nlpdojo_solutions.rnn_variants.classifier import SentenceLSTM, reverse_in_length

torch = pytest.importorskip("torch")

V, D, H, C = 13, 3, 4, 2



def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _batch(rng):
    lengths = np.array([6, 1, 3, 4])
    ids = rng.integers(1, V, (4, 6))
    ids[np.arange(6)[None, :] >= lengths[:, None]] = 0
    return ids, lengths


@pytest.mark.parametrize("bidirectional,pooling",
                         [(True, "max"), (True, "mean"), (False, "max")])
def test_the_classifier_matches_torch_lstm_over_packed_sequences(backend, bidirectional,
                                                                  pooling):
    rng = np.random.default_rng(0)
    model = SentenceLSTM(backend, V, D, H, C, bidirectional=bidirectional, pooling=pooling,
                         seed=2)
    p = {n: torch.tensor(np.asarray(v, np.float64), requires_grad=True)  # host arrays
         for n, v in model.state_dict().items()}
    ids, lengths = _batch(rng)
    grad_scores = rng.standard_normal((4, C))

    scores, cache = model(backend.asarray(ids, dtype=backend.xp.int64),
                          backend.asarray(lengths, dtype=backend.xp.int64))
    assert model.backward(backend.asarray(grad_scores), cache) == (None, None)

    # the grader's torch forward of the question (the training kit's sentence network)
    oracle = torch_sentence("lstm", pooling, cells=BOTH_WAYS[:1 + bidirectional])
    expected = oracle(p, torch.as_tensor(ids), torch.as_tensor(lengths))
    (expected * torch.tensor(grad_scores)).sum().backward()
    np.testing.assert_allclose(_np(backend, scores), expected.detach().numpy(), rtol=1e-10)
    for name, param in model.named_parameters():
        np.testing.assert_allclose(_np(backend, param.grad), p[name].grad.numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=name)


def test_a_padded_sentence_scores_as_the_same_sentence_alone(backend):
    """Padding changes nothing in either direction (the right-to-left LSTM starts at the
    last real word)."""
    model = SentenceLSTM(backend, V, D, H, C, seed=4)
    ids = np.array([[5, 7, 2, 0, 0, 0]])
    padded, _ = model(backend.asarray(ids, dtype=backend.xp.int64),
                      backend.asarray(np.array([3]), dtype=backend.xp.int64))
    alone, _ = model(backend.asarray(ids[:, :3], dtype=backend.xp.int64),
                     backend.asarray(np.array([3]), dtype=backend.xp.int64))
    np.testing.assert_allclose(_np(backend, padded), _np(backend, alone), rtol=1e-12)


def test_the_reversal_index_reverses_each_row_within_its_length_and_is_its_own_inverse():
    import array_api_compat.numpy as xp

    index = reverse_in_length(xp, np.array([4, 1, 2]), 4)
    np.testing.assert_array_equal(index, [[3, 2, 1, 0], [0, 1, 2, 3], [1, 0, 2, 3]])
    np.testing.assert_array_equal(np.take_along_axis(index, index, axis=1),
                                  np.broadcast_to(np.arange(4), (3, 4)))


def test_an_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="unknown pooling 'final'"):
        SentenceLSTM(load_backend("numpy", "cpu", "float64"), V, D, H, C, pooling="final")


def test_the_given_loop_learns_a_separable_task_and_scores_in_eval_mode():
    """Sentences whose label is whether token 1 occurs: a few epochs separate them."""
    backend = load_backend("numpy", "cpu", "float64")
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 7, 200)
    ids = rng.integers(2, V, (200, 6))
    labels = rng.integers(0, 2, 200)
    where = rng.integers(0, lengths)  # one real position per positive sentence
    ids[labels == 1, where[labels == 1]] = 1
    ids[np.arange(6)[None, :] >= lengths[:, None]] = 0
    out = given.train_polarity(backend, ids, lengths, labels, vocab_size=V, dim=8, hidden=8,
                               epochs=15, lr=0.02)
    assert out["losses"][-10:].mean() < 0.5 * out["losses"][:10].mean()
    scores = given.score_sentences(backend, out["parameters"], (ids, lengths), vocab_size=V,
                                   dim=8, hidden=8)
    assert scores.shape == (200, C) and (scores.argmax(1) == labels).mean() > 0.9
