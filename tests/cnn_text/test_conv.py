"""Parity of topic ``cnn_text``'s reference ``Conv1d`` with ``torch.nn.functional.conv1d``,
float64, on every device (CUDA skipped cleanly where there is none): the output, dL/dx and
the gradients of the weights and the bias, over the settings a sentence CNN uses (widths 1-4,
stride, padding, dilation, all at once), in the library's channels-last layout; and the
errors a wrong setting gets."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_solutions.library.conv import Conv1d, conv_output_length

torch = pytest.importorskip("torch")

B, T, D, F = 2, 9, 3, 4
#: (kernel size, stride, padding, dilation)
SETTINGS = [(3, 1, 0, 1), (3, 2, 1, 1), (2, 1, 2, 2), (4, 3, 0, 1), (1, 1, 0, 1), (3, 2, 3, 2),
            (5, 1, 2, 1)]


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _close(actual, expected) -> None:
    if hasattr(expected, "detach"):
        expected = expected.detach().cpu().numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel,stride,padding,dilation", SETTINGS)
def test_conv1d_matches_torch_conv1d(backend, kernel, stride, padding, dilation):
    rng = np.random.default_rng(kernel * 100 + stride * 10 + padding)
    conv = Conv1d(backend, D, F, kernel, stride=stride, padding=padding, dilation=dilation,
                  seed=1)
    conv.bias.data = backend.asarray(rng.standard_normal(F))
    x = rng.standard_normal((B, T, D))
    out, cache = conv(backend.asarray(x))
    assert tuple(out.shape) == (B, conv_output_length(T, kernel, stride=stride,
                                                      padding=padding, dilation=dilation), F)
    g = rng.standard_normal(tuple(out.shape))
    grad_x = conv.backward(backend.asarray(g), cache)

    weight = torch.tensor(_np(backend, conv.weight.data).transpose(2, 1, 0),
                          requires_grad=True)  # (F, D, K), torch's layout
    bias = torch.tensor(_np(backend, conv.bias.data), requires_grad=True)
    tx = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)  # (B, D, T)
    t_out = torch.nn.functional.conv1d(tx, weight, bias, stride=stride, padding=padding,
                                       dilation=dilation)  # (B, F, T_out)
    (t_out * torch.tensor(g.transpose(0, 2, 1))).sum().backward()
    _close(_np(backend, out), t_out.transpose(1, 2))
    _close(_np(backend, grad_x), tx.grad.transpose(1, 2))
    _close(_np(backend, conv.weight.grad), weight.grad.permute(2, 1, 0))
    _close(_np(backend, conv.bias.grad), bias.grad)


def test_a_sentence_shorter_than_a_window_and_bad_settings_are_refused(backend):
    conv = Conv1d(backend, D, F, 5)
    with pytest.raises(ValueError, match="shorter than one window"):
        conv(backend.asarray(np.zeros((B, 4, D))))
    with pytest.raises(ValueError, match="at least 1"):
        Conv1d(backend, D, F, 3, stride=0)
    with pytest.raises(ValueError, match="padding at least 0"):
        Conv1d(backend, D, F, 3, padding=-1)
