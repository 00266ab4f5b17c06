"""The RNN sentence encoder and classifier against PyTorch on identical weights and padded
batches (float64): the final state against ``torch.nn.RNN`` over a packed sequence (torch's
own handling of padding), max and mean pooling against masked pooling of its outputs; every
gradient by autograd. Also the given training loop on MR-shaped data and the bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_solutions.language_models import encoder, sentence_training

torch = pytest.importorskip("torch")

DEVICES = [("numpy", "cpu"), ("torch", "cpu"),
           pytest.param(("torch", "cuda"), marks=[pytest.mark.cuda, pytest.mark.skipif(
               not torch.cuda.is_available(), reason="no CUDA device")])]
V, D, H, B, T = 13, 4, 6, 5, 7


@pytest.fixture(params=DEVICES, ids=["numpy-cpu", "torch-cpu", "torch-cuda"])
def backend(request):
    name, device = request.param
    return load_backend(name, device, "float64")


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    lengths = np.array([T, 1, 3, T - 1, 2])  # (B,) one full row, one single word
    ids = rng.integers(1, V, (B, T))
    ids[np.arange(T)[None, :] >= lengths[:, None]] = 0  # padding
    return ids, lengths


class TorchEncoder(torch.nn.Module):
    def __init__(self, pooling: str) -> None:
        super().__init__()
        self.pooling = pooling
        self.embedding = torch.nn.Embedding(V, D)
        self.rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True)

    def forward(self, ids, lengths):
        vectors = self.embedding(ids)  # (B, T, D)
        if self.pooling == "final":  # torch's own padding: a packed sequence
            packed = torch.nn.utils.rnn.pack_padded_sequence(
                vectors, lengths, batch_first=True, enforce_sorted=False)
            return self.rnn(packed)[1][0]  # (B, H) the state after each row's last real word
        hs, _ = self.rnn(vectors)  # (B, T, H)
        real = torch.arange(T)[None, :] < lengths[:, None]  # (B, T)
        if self.pooling == "mean":
            return (hs * real[..., None]).sum(1) / lengths[:, None]
        return hs.masked_fill(~real[..., None], -torch.inf).amax(1)


def _copy(backend, ours: encoder.RNNEncoder, ref: TorchEncoder) -> None:
    ours.embedding.weight.data = backend.asarray(ref.embedding.weight.detach().numpy())
    ours.cell.weight_e.data = backend.asarray(ref.rnn.weight_ih_l0.detach().numpy().T)
    ours.cell.weight_h.data = backend.asarray(ref.rnn.weight_hh_l0.detach().numpy().T)
    ours.cell.bias.data = backend.asarray((ref.rnn.bias_ih_l0 + ref.rnn.bias_hh_l0)
                                          .detach().numpy())


@pytest.mark.parametrize("pooling", encoder.POOLINGS)
def test_encoder_matches_torch_rnn_with_padding(backend, pooling):
    torch.manual_seed(0)
    ref = TorchEncoder(pooling).double()
    ours = encoder.RNNEncoder(backend, V, D, H, pooling=pooling)
    _copy(backend, ours, ref)
    ids, lengths = _batch()
    g = np.random.default_rng(1).standard_normal((B, H))
    out, cache = ours(backend.asarray(ids), backend.asarray(lengths))
    assert ours.backward(backend.asarray(g), cache) == (None, None)
    expected = ref(torch.as_tensor(ids), torch.as_tensor(lengths))
    (expected * torch.as_tensor(g)).sum().backward()
    rnn = ref.rnn
    for mine, theirs in [(out, expected), (ours.embedding.weight.grad, ref.embedding.weight.grad),
                         (ours.cell.weight_e.grad, rnn.weight_ih_l0.grad.T),
                         (ours.cell.weight_h.grad, rnn.weight_hh_l0.grad.T),
                         (ours.cell.bias.grad, rnn.bias_ih_l0.grad)]:
        np.testing.assert_allclose(_np(backend, mine), theirs.detach().cpu().numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_padding_changes_nothing(backend):
    """The same sentences padded to 7 or to 12 steps, with any padding ids: the same vectors."""
    ids, lengths = _batch()
    wider = np.concatenate([ids, np.random.default_rng(2).integers(0, V, (B, 5))], axis=1)
    wider[np.arange(T + 5)[None, :] >= lengths[:, None]] = 3  # another padding id
    for pooling in encoder.POOLINGS:
        model = encoder.RNNEncoder(backend, V, D, H, pooling=pooling)
        a, _ = model(backend.asarray(ids), backend.asarray(lengths))
        b, _ = model(backend.asarray(wider), backend.asarray(lengths))
        np.testing.assert_allclose(_np(backend, a), _np(backend, b), rtol=1e-12, atol=1e-14)


def test_an_unknown_pooling_is_refused_with_the_choices():
    backend = load_backend("numpy", "cpu", "float64")
    with pytest.raises(ValueError, match="choose one of"):
        encoder.RNNEncoder(backend, V, D, H, pooling="last")


def test_the_given_loop_learns_a_separable_polarity_task():
    """Sentences whose label is whether word 1 occurs: one epoch of the given loop learns it."""
    backend = load_backend("numpy", "cpu", "float32")
    rng = np.random.default_rng(0)
    n = 2000
    lengths = rng.integers(2, 12, n)
    ids = rng.integers(2, V, (n, 12))
    labels = rng.integers(0, 2, n)
    ids[labels == 1, 0] = 1
    ids[np.arange(12)[None, :] >= lengths[:, None]] = 0
    predicted = sentence_training.train_and_predict(
        backend, ids[:1500], lengths[:1500], labels[:1500], ids[1500:], lengths[1500:],
        vocab_size=V, epochs=2, lr=0.01)
    assert predicted.shape == (500,)
    assert np.mean(predicted == labels[1500:]) > 0.95
