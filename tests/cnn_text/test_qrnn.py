"""The reference ``QRNN`` against the layer written in torch (``conv1d`` with k − 1 zeros each
side, the first T outputs, fo-pooling by autograd) with the same weights, float64, every
device: the output and every gradient; the convolution is masked (no output depends on a word
to its right); the gradient from c_t back to c_{t−1} is the forget gate's alone."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_solutions.cnn_text.qrnn import QRNN

torch = pytest.importorskip("torch")

B, T, D, H = 2, 6, 3, 4


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _torch_qrnn(weight, bias, x, k):
    """The QRNN in torch on (B, T, D): conv1d on (B, D, T), masked, fo-pooling step by step."""
    gates = torch.nn.functional.conv1d(x.transpose(1, 2), weight.permute(2, 1, 0), bias,
                                       padding=k - 1).transpose(1, 2)[:, :x.shape[1]]
    z = torch.tanh(gates[..., :H])
    f, o = torch.sigmoid(gates[..., H:2 * H]), torch.sigmoid(gates[..., 2 * H:])
    c, cells = torch.zeros_like(z[:, 0]), []
    for t in range(x.shape[1]):
        c = f[:, t] * c + (1 - f[:, t]) * z[:, t]
        cells.append(c)
    return o * torch.stack(cells, dim=1)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_layer_matches_torch(backend, k):
    rng = np.random.default_rng(k)
    layer = QRNN(backend, D, H, kernel_size=k, seed=1)
    bias = rng.standard_normal(3 * H)
    layer.conv.bias.data = backend.asarray(bias)
    weight = _np(backend, layer.conv.weight.data)  # (K, D, 3H)
    x, g = rng.standard_normal((B, T, D)), rng.standard_normal((B, T, H))
    h, cache = layer(backend.asarray(x))
    dx = _np(backend, layer.backward(backend.asarray(g), cache))

    wt = torch.tensor(weight, requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ht = _torch_qrnn(wt, bt, xt, k)
    (ht * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(_np(backend, h), ht.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(_np(backend, layer.conv.weight.grad), wt.grad.numpy(),
                               rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(_np(backend, layer.conv.bias.grad), bt.grad.numpy(),
                               rtol=1e-8, atol=1e-11)


def test_no_output_depends_on_a_word_to_its_right(backend):
    """Changing the words after position t changes no output at t or before (masked)."""
    rng = np.random.default_rng(0)
    layer = QRNN(backend, D, H, kernel_size=3, seed=2)
    x = rng.standard_normal((B, T, D))
    changed = x.copy()
    changed[:, 3:] = rng.standard_normal((B, T - 3, D))
    before = _np(backend, layer(backend.asarray(x))[0])
    after = _np(backend, layer(backend.asarray(changed))[0])
    np.testing.assert_array_equal(before[:, :3], after[:, :3])
    assert not np.allclose(before[:, 3:], after[:, 3:])


def test_the_state_is_carried_by_the_forget_gate_alone(backend):
    """With every forget gate near 1 (a large forget bias), the first word's vector still moves
    the last output: the state passes through each step scaled by f, no matrix between."""
    layer = QRNN(backend, D, H, kernel_size=1, seed=3)
    bias = np.zeros(3 * H)
    bias[H:2 * H] = 8.0  # f = σ(8 + ...) ≈ 1
    layer.conv.bias.data = backend.asarray(bias)
    x = np.random.default_rng(1).standard_normal((1, 30, D))
    h, cache = layer(backend.asarray(x))
    grad = np.zeros((1, 30, H))
    grad[0, -1] = 1.0
    dx = _np(backend, layer.backward(backend.asarray(grad), cache))
    assert np.abs(dx[0, 0]).max() > 1e-5  # 29 steps back, not vanished


def test_the_case_at_scale_remembers_for_thousands_of_steps():
    """With the plain case's gates a step's influence on the state is gone after ~90 steps,
    and an attacker's backward differenced fo-pooling in windows (every 96th step perturbed at
    once, each output credited to the last perturbed step before it: 2 of 2 points at scale in
    1 s of CPU). The case at scale has forget gates near 1, so that after 500 steps a step
    still moves the state by more than 5 % (its geometric mean over the columns): a window
    must span thousands of steps, hundreds of times the chain rule's cost."""
    from types import SimpleNamespace

    from nlpdojo_course.cnn_text.qrnn import AT_SCALE, AT_SCALE_FORGET_BIAS, K, _case

    def memory(forget_bias: float, steps: int = 500) -> float:
        ctx = SimpleNamespace(rng=lambda offset=0: np.random.default_rng(7), backend=None)
        case = _case(K, AT_SCALE, forget_bias)(ctx)
        (x,) = case.inputs(np.random.default_rng(8))  # (B, T, D)
        w, b = case.params["conv.weight"], case.params["conv.bias"]  # (K, D, 3H), (3H,)
        h = w.shape[-1] // 3
        padded = np.concatenate([np.zeros((x.shape[0], K - 1, x.shape[2])), x], axis=1)
        pre = sum(padded[:, j:j + x.shape[1]] @ w[j][:, h:2 * h] for j in range(K)) \
            + b[h:2 * h]  # (B, T, H): the forget gates' pre-activations
        log_f = -np.logaddexp(0.0, -pre)  # log σ
        return float(np.exp(np.mean(np.sum(log_f[:, :steps], axis=1))))

    assert memory(AT_SCALE_FORGET_BIAS) > 0.05
    assert memory(0.0) < 1e-50  # the plain case's gates forget within a few dozen steps
