"""The course library's ``BatchNorm1d`` against ``torch.nn.BatchNorm1d`` (float64, every device):
training outputs and every gradient on features (N, C) and on sequences (B, T, C), the running
statistics after several training batches (the unbiased variance, torch's momentum), eval mode
on them, and an eval call that changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_solutions.library.normalization import BatchNorm1d

torch = pytest.importorskip("torch")
C = 4


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _pair(backend, gamma, beta, momentum=0.1):
    ours = BatchNorm1d(backend, C, momentum=momentum)
    ours.weight.data, ours.bias.data = backend.asarray(gamma), backend.asarray(beta)
    theirs = torch.nn.BatchNorm1d(C, momentum=momentum).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(gamma))
        theirs.bias.copy_(torch.tensor(beta))
    return ours, theirs


def _channels_first(x: torch.Tensor) -> torch.Tensor:
    return x if x.ndim == 2 else x.transpose(1, 2)  # (B, T, C) -> torch's (B, C, T)


@pytest.mark.parametrize("shape", [(6, C), (3, 5, C)], ids=["features", "sequences"])
def test_training_outputs_and_gradients_match_torch(backend, shape):
    rng = np.random.default_rng(0)
    gamma, beta = rng.uniform(0.5, 2.0, C), rng.standard_normal(C)
    x, g = 3.0 + 2.0 * rng.standard_normal(shape), rng.standard_normal(shape)
    ours, theirs = _pair(backend, gamma, beta)
    y, cache = ours(backend.asarray(x))
    dx = _np(backend, ours.backward(backend.asarray(g), cache))

    xt = torch.tensor(x, requires_grad=True)
    yt = _channels_first(theirs(_channels_first(xt)))
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(_np(backend, y), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_np(backend, ours.weight.grad), theirs.weight.grad.numpy(),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_np(backend, ours.bias.grad), theirs.bias.grad.numpy(),
                               rtol=1e-9, atol=1e-12)


def test_running_statistics_and_eval_mode_match_torch(backend):
    rng = np.random.default_rng(1)
    gamma, beta = rng.uniform(0.5, 2.0, C), rng.standard_normal(C)
    ours, theirs = _pair(backend, gamma, beta, momentum=0.3)
    for _ in range(3):  # three training batches of sequences
        x = 1.0 + 3.0 * rng.standard_normal((2, 5, C))
        ours(backend.asarray(x))
        theirs(_channels_first(torch.tensor(x)))
    np.testing.assert_allclose(_np(backend, ours.running_mean), theirs.running_mean.numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(_np(backend, ours.running_var), theirs.running_var.numpy(),
                               rtol=1e-10)

    ours.eval()
    theirs.eval()
    before = _np(backend, ours.running_var).copy()
    x, g = rng.standard_normal((3, C)), rng.standard_normal((3, C))
    y, cache = ours(backend.asarray(x))
    dx = _np(backend, ours.backward(backend.asarray(g), cache))
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(_np(backend, y), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(_np(backend, ours.running_var), before)  # eval keeps them


def test_one_value_per_channel_in_training_is_refused_with_a_reason(backend):
    with pytest.raises(ValueError, match="more than one value per channel"):
        BatchNorm1d(backend, C)(backend.asarray(np.ones((1, C))))
    layer = BatchNorm1d(backend, C).eval()  # eval mode has its statistics already
    y, _ = layer(backend.asarray(np.ones((1, C))))
    assert _np(backend, y).shape == (1, C)
