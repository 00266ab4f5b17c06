"""A quasi-recurrent layer (Bradbury et al. 2017, "Quasi-Recurrent Neural Networks"; CS224n
lecture 11): convolutions compute every gate at every position at once, in parallel, and only
a cheap elementwise recurrence, "fo-pooling", runs along the sentence.

    [Z F O] = MaskedConv(x)                   one width-k convolution with 3H filters  (B, T, 3H)
    z = tanh(Z)    f = σ(F)    o = σ(O)       (B, T, H) each
    c_t = f_t ⊙ c_{t−1} + (1 − f_t) ⊙ z_t     c_0 = 0                                    (B, H)
    h_t = o_t ⊙ c_t                                                                      (B, T, H)

*Masked*: the window of position t reads x_{t−k+1} .. x_t and never a word to its right, so
the layer can serve a language model: k − 1 zeros on the left, none on the right (a
``Conv1d`` with ``padding = k − 1`` on both sides, its first T outputs kept). Unlike an LSTM,
no matrix multiplies the state from one step to the next: the gradient of c_{t−1} is
dL/dc_t ⊙ f_t, the forget gate alone, and the matrix products all happen in the convolution.

Backpropagation, from t = T down to 1, with dc the gradient reaching c_t (from h_t and from
c_{t+1}): dc_t = dL/dh_t ⊙ o_t + dc_{t+1} ⊙ f_{t+1}; dz_t = dc_t ⊙ (1 − f_t);
df_t = dc_t ⊙ (c_{t−1} − z_t); do_t = dL/dh_t ⊙ c_t; then through tanh and σ into the
convolution's outputs, whose gradient at the k − 1 outputs that were cut off is 0.
"""

from __future__ import annotations

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

from ..library import Conv1d


def _sigmoid(xp, a: Array) -> Array:
    """σ(a) = (1 + tanh(a / 2)) / 2: the logistic function without exp's overflow."""
    return 0.5 * (1.0 + xp.tanh(0.5 * a))


class QRNN(Module):
    """``forward(x) -> (h, cache)`` on (B, T, D) to (B, T, H), the state starting at 0;
    ``backward(dL/dh, cache) -> dL/dx``. ``conv`` is the masked convolution, a ``Conv1d``
    from D to 3H channels (the gates' columns side by side: z, f, o)."""

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, *,
                 kernel_size: int = 2, seed: int = 0) -> None:
        super().__init__(backend)
        self.hidden_size, self.kernel_size = hidden_size, kernel_size
        self.conv = Conv1d(backend, input_size, 3 * hidden_size, kernel_size,
                           padding=kernel_size - 1, seed=seed)

    def forward(self, x: Array) -> tuple[Array, tuple]:
        # x: (B, T, D)
        xp = self.xp
        H, t_steps = self.hidden_size, x.shape[1]
        ### BEGIN SOLUTION qrnn
        gates, conv_cache = self.conv(x)  # (B, T + k − 1, 3H)
        gates = gates[:, :t_steps, :]  # (B, T, 3H): window t reads x_{t−k+1} .. x_t
        z = xp.tanh(gates[:, :, :H])  # (B, T, H)
        f = _sigmoid(xp, gates[:, :, H:2 * H])  # (B, T, H)
        o = _sigmoid(xp, gates[:, :, 2 * H:])  # (B, T, H)
        c = xp.zeros_like(z[:, 0, :])  # (B, H)
        cells = []
        for t in range(t_steps):  # fo-pooling: elementwise, sequential in time only
            c = f[:, t, :] * c + (1.0 - f[:, t, :]) * z[:, t, :]
            cells.append(c)
        c_all = xp.stack(cells, axis=1)  # (B, T, H)
        return o * c_all, (conv_cache, z, f, o, c_all)
        ### END SOLUTION

    def backward(self, grad_output: Array, cache: tuple) -> Array:
        # grad_output: dL/dh (B, T, H); returns dL/dx (B, T, D)
        xp = self.xp
        ### BEGIN SOLUTION qrnn
        conv_cache, z, f, o, c_all = cache
        t_steps = z.shape[1]
        grad_c_all = grad_output * o  # (B, T, H): each c_t's gradient through h_t
        grad_o = grad_output * c_all  # (B, T, H)
        grad_z, grad_f = [], []
        carried = xp.zeros_like(grad_c_all[:, 0, :])  # dL/dc_t from c_{t+1}: (B, H)
        for t in reversed(range(t_steps)):
            grad_c = grad_c_all[:, t, :] + carried  # (B, H)
            c_prev = c_all[:, t - 1, :] if t > 0 else xp.zeros_like(grad_c)
            grad_z.append(grad_c * (1.0 - f[:, t, :]))
            grad_f.append(grad_c * (c_prev - z[:, t, :]))
            carried = grad_c * f[:, t, :]  # the forget gate alone: no matrix, no squashing
        grad_z = xp.stack(grad_z[::-1], axis=1)  # (B, T, H)
        grad_f = xp.stack(grad_f[::-1], axis=1)  # (B, T, H)
        grad_gates = xp.concat([grad_z * (1.0 - z * z), grad_f * f * (1.0 - f),
                                grad_o * o * (1.0 - o)], axis=2)  # (B, T, 3H)
        b, _, width = grad_gates.shape
        cut = xp.zeros((b, self.kernel_size - 1, width), dtype=grad_gates.dtype,
                       device=self.backend.device)  # the outputs cut off: no gradient
        return self.conv.backward(xp.concat([grad_gates, cut], axis=1), conv_cache)
        ### END SOLUTION
