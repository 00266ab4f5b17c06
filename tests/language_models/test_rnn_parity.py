"""Parity of the neural language models with PyTorch (topic ``language_models``): the course
library's RNN cell against ``torch.nn.RNNCell``, the RNN LM against ``torch.nn.Embedding`` +
``torch.nn.RNN`` + ``torch.nn.Linear`` with copied weights (forward, final state, the gradient
of every parameter and of h0, float64), truncated BPTT against the same torch model trained
with ``h.detach()`` at every window border, the windows against the framework's
``bptt_batches``, and the fixed-window LM against autograd; on every device (CUDA skipped
cleanly where there is none)."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo.text.lm_batch import bptt_batches
from nlpdojo_solutions.language_models import lm_training, rnn_lm, window_lm
from nlpdojo_solutions.library import rnn

torch = pytest.importorskip("torch")

DEVICES = [("numpy", "cpu"), ("torch", "cpu"),
           pytest.param(("torch", "cuda"), marks=[pytest.mark.cuda, pytest.mark.skipif(
               not torch.cuda.is_available(), reason="no CUDA device")])]


@pytest.fixture(params=DEVICES, ids=["numpy-cpu", "torch-cpu", "torch-cuda"])
def backend(request):
    name, device = request.param
    return load_backend(name, device, "float64")


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _close(actual, expected, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    if hasattr(expected, "detach"):
        expected = expected.detach().cpu().numpy()
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def test_rnn_cell_matches_torch_rnn_cell(backend):
    rng = np.random.default_rng(0)
    b, d, h = 4, 3, 5
    ref = torch.nn.RNNCell(d, h, nonlinearity="tanh").double()
    cell = rnn.RNNCell(backend, d, h)
    cell.weight_e.data = backend.asarray(ref.weight_ih.detach().numpy().T)
    cell.weight_h.data = backend.asarray(ref.weight_hh.detach().numpy().T)
    cell.bias.data = backend.asarray((ref.bias_ih + ref.bias_hh).detach().numpy())
    x, h0, g = rng.standard_normal((b, d)), np.tanh(rng.standard_normal((b, h))), \
        rng.standard_normal((b, h))
    out, cache = cell(backend.asarray(x), backend.asarray(h0))
    grad_x, grad_h0 = cell.backward(backend.asarray(g), cache)
    tx, th = (torch.tensor(a, requires_grad=True) for a in (x, h0))
    tout = ref(tx, th)
    (tout * torch.as_tensor(g)).sum().backward()
    _close(_np(backend, out), tout)
    _close(_np(backend, grad_x), tx.grad)
    _close(_np(backend, grad_h0), th.grad)
    _close(_np(backend, cell.weight_e.grad), ref.weight_ih.grad.T)
    _close(_np(backend, cell.weight_h.grad), ref.weight_hh.grad.T)
    _close(_np(backend, cell.bias.grad), ref.bias_ih.grad)  # = bias_hh.grad: b = b_ih + b_hh


class TorchLM(torch.nn.Module):
    """The oracle: torch's own embedding, tanh RNN (batch first) and linear layer."""

    def __init__(self, v: int, d: int, h: int) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(v, d)
        self.rnn = torch.nn.RNN(d, h, nonlinearity="tanh", batch_first=True)
        self.output = torch.nn.Linear(h, v)

    def forward(self, ids, h0):
        hs, h_n = self.rnn(self.embedding(ids), h0[None])  # (B, T, H), (1, B, H)
        return self.output(hs), h_n[0]


def _pair(backend, v: int = 11, d: int = 3, h: int = 6, seed: int = 0):
    """An RNNLM and a TorchLM with the same weights (torch's initialisation, copied)."""
    torch.manual_seed(seed)
    ref = TorchLM(v, d, h).double()
    with torch.no_grad():  # one bias, as the lecture's b₁: torch's two would both be stepped
        ref.rnn.bias_ih_l0 += ref.rnn.bias_hh_l0
        ref.rnn.bias_hh_l0.zero_()
    ref.rnn.bias_hh_l0.requires_grad_(False)
    model = rnn_lm.RNNLM(backend, v, d, h)
    model.load_state_dict({
        "embedding.weight": ref.embedding.weight.detach().numpy(),
        "rnn.cell.weight_e": ref.rnn.weight_ih_l0.detach().numpy().T,
        "rnn.cell.weight_h": ref.rnn.weight_hh_l0.detach().numpy().T,
        "rnn.cell.bias": ref.rnn.bias_ih_l0.detach().numpy(),
        "output.weight": ref.output.weight.detach().numpy().T,
        "output.bias": ref.output.bias.detach().numpy()})
    return model, ref


def _torch_grads(ref: TorchLM) -> dict[str, np.ndarray]:
    r = ref.rnn
    return {"embedding.weight": ref.embedding.weight.grad.numpy(),
            "rnn.cell.weight_e": r.weight_ih_l0.grad.numpy().T,
            "rnn.cell.weight_h": r.weight_hh_l0.grad.numpy().T,
            "rnn.cell.bias": r.bias_ih_l0.grad.numpy(),
            "output.weight": ref.output.weight.grad.numpy().T,
            "output.bias": ref.output.bias.grad.numpy()}


def test_rnn_lm_matches_torch_rnn_over_many_steps(backend):
    """Forward, h_T and the gradients of every parameter (summed over 12 steps: BPTT) and of
    h0, against torch.nn.RNN with copied weights."""
    rng = np.random.default_rng(1)
    model, ref = _pair(backend)
    ids = rng.integers(0, 11, (4, 12))
    ids[0, :3] = 5  # a word repeated: its embedding gradients add up
    h0, g = np.tanh(rng.standard_normal((4, 6))), rng.standard_normal((4, 12, 11))
    scores, cache = model(backend.asarray(ids), backend.asarray(h0))
    none, grad_h0 = model.backward(backend.asarray(g), cache)
    th0 = torch.tensor(h0, requires_grad=True)
    tscores, th_n = ref(torch.as_tensor(ids), th0)
    (tscores * torch.as_tensor(g)).sum().backward()
    assert none is None
    _close(_np(backend, scores), tscores)
    _close(_np(backend, model.final_state(cache)), th_n)
    _close(_np(backend, grad_h0), th0.grad)
    named = dict(model.named_parameters())
    for name, expected in _torch_grads(ref).items():
        _close(_np(backend, named[name].grad), expected)


def test_truncated_bptt_matches_torch_with_detach(backend):
    """Training steps of train_rnn_lm equal torch's loop with the hidden state carried and
    ``h.detach()`` at every window border: same losses, same weights after 2 epochs."""
    rng = np.random.default_rng(2)
    stream = rng.integers(0, 11, 3 * 31)
    model, ref = _pair(backend, seed=3)
    losses = rnn_lm.train_rnn_lm(backend, model, stream, batch_size=3, bptt=5,
                                 optimizer="sgd", lr=0.5, epochs=2)
    opt = torch.optim.SGD(ref.parameters(), lr=0.5)
    expected = []
    for _ in range(2):
        h = torch.zeros(3, 6, dtype=torch.float64)
        for x, y in bptt_batches(stream, 3, 5):
            if x.shape[1] < 5:
                continue  # bptt_windows keeps whole windows only
            opt.zero_grad()
            scores, h = ref(torch.as_tensor(x), h.detach())
            loss = torch.nn.functional.cross_entropy(scores.reshape(-1, 11),
                                                     torch.as_tensor(y).reshape(-1))
            loss.backward()
            opt.step()
            expected.append(loss.item())
    np.testing.assert_allclose(losses, expected, rtol=1e-10)
    named = dict(model.named_parameters())
    for name, value in {"rnn.cell.weight_h": ref.rnn.weight_hh_l0.detach().numpy().T,
                        "embedding.weight": ref.embedding.weight.detach().numpy()}.items():
        _close(_np(backend, named[name].data), value, rtol=1e-9)


@pytest.mark.parametrize("n,b,t", [(100, 4, 7), (61, 3, 4), (37, 1, 5), (21, 2, 10)])
def test_bptt_windows_are_the_frameworks_whole_windows(n, b, t):
    ids = np.random.default_rng(n).integers(0, 50, n)
    inputs, targets = rnn_lm.bptt_windows(ids, b, t)
    whole = [(x, y) for x, y in bptt_batches(ids, b, t) if x.shape[1] == t]
    assert inputs.shape == targets.shape == (len(whole), b, t)
    assert inputs.dtype == targets.dtype == np.int64
    for k, (x, y) in enumerate(whole):
        np.testing.assert_array_equal(inputs[k], x)
        np.testing.assert_array_equal(targets[k], y)


def test_rnn_log_probs_carry_the_state_over_the_held_out_stream():
    """Scoring window by window with the state carried equals one long forward pass."""
    be = load_backend("numpy", "cpu", "float64")
    model, _ = _pair(be)
    ids = np.random.default_rng(4).integers(0, 11, 10 * 13)
    log_probs = lm_training.rnn_log_probs(be, model, ids, bptt=4)  # 3 windows of 4
    scores, _ = model(ids.reshape(10, 13)[:, :12], model.initial_state(10))  # (B, 12, V)
    full = torch.log_softmax(torch.as_tensor(scores), -1).numpy()
    targets = ids.reshape(10, 13)[:, 1:13]
    picked = np.take_along_axis(full, targets[..., None], -1)[..., 0]  # (B, 12)
    np.testing.assert_allclose(log_probs, picked.reshape(10, 3, 4).transpose(1, 0, 2).ravel(),
                               rtol=1e-10)


def test_window_lm_matches_torch_autograd(backend):
    rng = np.random.default_rng(5)
    v, c, d, h = 9, 3, 2, 4
    model = window_lm.WindowLM(backend, v, c, d, h)
    params = {n: rng.standard_normal(p.shape) for n, p in model.named_parameters()}
    model.load_state_dict(params)
    ids = rng.integers(0, v, (6, c))
    ids[1, 2] = ids[0, 0]
    g = rng.standard_normal((6, v))
    scores, cache = model(backend.asarray(ids))
    assert model.backward(backend.asarray(g), cache) is None
    t = {n: torch.tensor(p, requires_grad=True) for n, p in params.items()}
    e = t["embedding.weight"][torch.as_tensor(ids)].reshape(6, -1)
    ts = torch.tanh(e @ t["hidden.weight"] + t["hidden.bias"]) @ t["output.weight"] \
        + t["output.bias"]
    (ts * torch.as_tensor(g)).sum().backward()
    _close(_np(backend, scores), ts)
    for name, p in model.named_parameters():
        _close(_np(backend, p.grad), t[name].grad)


def test_window_contexts_pad_the_start_of_the_stream():
    contexts, targets = lm_training.window_contexts(np.array([4, 5, 6, 7]), 2, pad=0)
    np.testing.assert_array_equal(contexts, [[0, 0], [0, 4], [4, 5], [5, 6]])
    np.testing.assert_array_equal(targets, [4, 5, 6, 7])
