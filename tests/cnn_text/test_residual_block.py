"""The reference ``ResidualBlock`` against the same block built of ``torch.nn`` modules
(``Conv1d``, ``BatchNorm1d``, ``ReLU``) with copied weights, float64, every device: outputs and
every gradient with both shortcuts; the convolutions' biases get no gradient before a batch norm
(the README asks why); an even width is refused."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_solutions.cnn_text.residual_block import ResidualBlock

torch = pytest.importorskip("torch")


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


class TorchBlock(torch.nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv1d(c_in, c_out, k, padding=k // 2)
        self.norm1 = torch.nn.BatchNorm1d(c_out)
        self.conv2 = torch.nn.Conv1d(c_out, c_out, k, padding=k // 2)
        self.norm2 = torch.nn.BatchNorm1d(c_out)
        self.shortcut = torch.nn.Conv1d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x):  # x: (B, C, T)
        h = self.norm2(self.conv2(torch.relu(self.norm1(self.conv1(x)))))
        return torch.relu(h + (x if self.shortcut is None else self.shortcut(x)))


@pytest.mark.parametrize("c_in,c_out", [(4, 4), (3, 5)], ids=["identity", "projection"])
def test_the_block_matches_torch_nn(backend, c_in, c_out):
    rng = np.random.default_rng(0)
    ours = ResidualBlock(backend, c_in, c_out, kernel_size=3, seed=2)
    theirs = TorchBlock(c_in, c_out, 3).double()
    for name, p in ours.named_parameters():
        value = _np(backend, p.data)
        if name.endswith("bias") and name.startswith("conv"):
            value = rng.standard_normal(value.shape)  # a bias that is not zero
            p.data = backend.asarray(value)
        module, attr = name.split(".")
        # (K, D, F) -> torch's (F, D, K)
        tensor = torch.tensor(value.transpose(2, 1, 0) if value.ndim == 3 else value)
        with torch.no_grad():
            getattr(getattr(theirs, module), attr).copy_(tensor)
    x, g = rng.standard_normal((3, 6, c_in)), rng.standard_normal((3, 6, c_out))
    y, cache = ours(backend.asarray(x))
    dx = _np(backend, ours.backward(backend.asarray(g), cache))

    xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
    yt = theirs(xt)
    (yt * torch.tensor(g.transpose(0, 2, 1))).sum().backward()
    np.testing.assert_allclose(_np(backend, y), yt.detach().numpy().transpose(0, 2, 1),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 2, 1), rtol=1e-8, atol=1e-11)
    for name, p in ours.named_parameters():
        module, attr = name.split(".")
        expected = getattr(getattr(theirs, module), attr).grad.numpy()
        expected = expected.transpose(2, 1, 0) if expected.ndim == 3 else expected
        np.testing.assert_allclose(_np(backend, p.grad), expected, rtol=1e-8, atol=1e-11,
                                   err_msg=name)
        if name in ("conv1.bias", "conv2.bias"):  # a batch norm follows: no gradient
            np.testing.assert_allclose(_np(backend, p.grad), 0.0, atol=1e-10)


def test_an_even_width_is_refused_with_a_reason(backend):
    with pytest.raises(ValueError, match="odd kernel_size"):
        ResidualBlock(backend, 2, 2, kernel_size=4)
