"""One-dimensional convolution over a sequence of word vectors (CS224n lecture 11, "CNNs for
text"; Kim 2014; Kalchbrenner et al. 2014).

A filter of width k slides along the sentence and, at each position, takes the dot product of
its weights with the k word vectors under it: a feature detector for an n-gram, learned. With F
filters the output at each position is an F-vector. The layer is torch's ``nn.Conv1d`` in
the library's channels-last layout (the embeddings' (B, T, D), not torch's (B, D, T)):

    out[b, t, f] = bias[f] + Σ_k Σ_d x̃[b, t·stride + k·dilation, d] · weight[k, d, f]

where x̃ is x with ``padding`` zero vectors before and after the sentence. The output has
T_out = ⌊(T + 2·padding − dilation·(K − 1) − 1) / stride⌋ + 1 positions. As in every deep
learning library this is a cross-correlation: the kernel is not flipped.

Vectorised as in the lecture's "convolution as a matrix product" (im2col): gather the K
vectors of every window side by side, one window of the batch a row (B·T_out, K·D), and
multiply once by the weights reshaped to (K·D, F). Backward, with G = dL/dout (B·T_out, F):
dL/dweight is the windowsᵀ G (summed over the batch and positions), dL/dbias the sum of G,
and the gradient of each window, G weightᵀ (B, T_out, K, D), goes back to the positions it
was read from, added up where windows overlap.
"""

from __future__ import annotations

import math

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module, Parameter

__all__ = ["Conv1d", "conv_output_length"]


def conv_output_length(length: int, kernel_size: int, *, stride: int = 1, padding: int = 0,
                       dilation: int = 1) -> int:
    """T_out of a convolution over ``length`` positions (torch's formula)."""
    return (length + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


class Conv1d(Module):
    """F filters of width K over (B, T, D) inputs: outputs (B, T_out, F). ``weight`` (K, D, F)
    is drawn from U(−1/√(K·D), 1/√(K·D)) (torch's default bound), ``bias`` (F,) starts at 0.
    ``padding`` zero vectors go on both sides; ``stride`` steps between windows; ``dilation``
    spaces the K taps of a window (Yu and Koltun 2016)."""

    def __init__(self, backend: Backend, in_channels: int, out_channels: int,
                 kernel_size: int, *, stride: int = 1, padding: int = 0, dilation: int = 1,
                 seed: int = 0) -> None:
        super().__init__(backend)
        if min(kernel_size, stride, dilation) < 1 or padding < 0:
            raise ValueError(f"Conv1d: kernel_size, stride and dilation must be at least 1 and "
                             f"padding at least 0 (got {kernel_size}, {stride}, {dilation}, "
                             f"{padding})")
        self.kernel_size, self.stride = kernel_size, stride
        self.padding, self.dilation = padding, dilation
        bound = 1.0 / math.sqrt(kernel_size * in_channels)
        self.weight = Parameter(backend.rng(seed).uniform(
            (kernel_size, in_channels, out_channels), low=-bound, high=bound), "weight")
        self.bias = Parameter(self.xp.zeros((out_channels,), dtype=backend.default_dtype,
                                            device=backend.device), "bias")  # (F,)

    def output_length(self, length: int) -> int:
        return conv_output_length(length, self.kernel_size, stride=self.stride,
                                  padding=self.padding, dilation=self.dilation)

    def _taps(self, t_out: int) -> Array:
        """The input position (in the padded sequence) of tap k of window t: (T_out, K)."""
        xp = self.xp
        starts = xp.arange(t_out, device=self.backend.device) * self.stride  # (T_out,)
        offsets = xp.arange(self.kernel_size, device=self.backend.device) * self.dilation
        return starts[:, None] + offsets[None, :]  # (T_out, K)

    def forward(self, x: Array) -> tuple[Array, tuple]:
        # x: (B, T, D)
        xp = self.xp
        b, t_steps, d = x.shape
        t_out = self.output_length(t_steps)
        if t_out < 1:
            raise ValueError(f"Conv1d: a sequence of {t_steps} positions is shorter than one "
                             f"window ({self.dilation * (self.kernel_size - 1) + 1} positions "
                             f"with dilation {self.dilation}, padding {self.padding} each side)")
        ### BEGIN SOLUTION cnn_text.conv1d
        p, k_size, f = self.padding, self.kernel_size, self.weight.shape[-1]
        zeros = xp.zeros((b, p, d), dtype=x.dtype, device=self.backend.device)
        padded = xp.concat([zeros, x, zeros], axis=1) if p else x  # (B, T + 2p, D)
        windows = xp.take(padded, xp.reshape(self._taps(t_out), (-1,)), axis=1)  # (B, T_out·K, D)
        rows = xp.reshape(windows, (b * t_out, k_size * d))  # (B·T_out, K·D): a window a row
        # one product over every window of the batch (one call of the BLAS, not one a sentence)
        out = xp.matmul(rows, xp.reshape(self.weight.data, (k_size * d, f)))  # (B·T_out, F)
        return xp.reshape(out, (b, t_out, f)) + self.bias.data, (rows, t_steps)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        # grad_output: (B, T_out, F); returns dL/dx (B, T, D)
        xp = self.xp
        ### BEGIN SOLUTION cnn_text.conv1d
        rows, t_steps = cache  # rows: the windows, (N, K·D) with N = B·T_out
        b, t_out, f = grad_output.shape
        k_size, d = self.kernel_size, self.weight.shape[1]
        grads = xp.reshape(grad_output, (b * t_out, f))  # (N, F)
        self.weight.grad += xp.reshape(xp.matmul(xp.matrix_transpose(rows), grads),
                                       (k_size, d, f))  # (K, D, F)
        self.bias.grad += xp.sum(grads, axis=0)  # (F,)
        grad_windows = xp.reshape(
            xp.matmul(grads, xp.matrix_transpose(xp.reshape(self.weight.data,
                                                            (k_size * d, f)))),
            (b, t_out, k_size, d))  # (B, T_out, K, D)
        grad_padded = xp.zeros((b, t_steps + 2 * self.padding, d), dtype=grad_output.dtype,
                               device=self.backend.device)
        last = self.stride * (t_out - 1) + 1
        for k in range(k_size):  # the K taps (a filter's width, not the data): windows overlap
            start = k * self.dilation
            grad_padded[:, start:start + last:self.stride, :] += grad_windows[:, :, k, :]
        return grad_padded[:, self.padding:self.padding + t_steps, :]
        ### END SOLUTION
