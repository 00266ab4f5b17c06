"""The minimal gated unit (Zhou et al. 2016, "Minimal gated unit for
recurrent neural networks"): one forget gate f, used both to reset the state seen by the
candidate and to mix the candidate into the state (a GRU with its two gates tied).
"""

from __future__ import annotations

from nlpdojo.module import Module, Parameter

from .init import xavier_uniform

__all__ = ["MGUCell"]


class MGUCell(Module):
    """f = σ(x W_xf + h W_hf + b_f); n = tanh(x W_xn + (f ⊙ h) W_hn + b_n);
    h' = (1 − f) ⊙ h + f ⊙ n, for x (B, D) and h (B, H)."""

    def __init__(self, backend, input_size: int, hidden_size: int, *, seed: int = 0) -> None:
        super().__init__(backend)
        d, h = input_size, hidden_size
        self.weight_xf = Parameter(xavier_uniform(backend, d, h, seed=seed), "weight_xf")
        self.weight_hf = Parameter(xavier_uniform(backend, h, h, seed=seed + 1), "weight_hf")
        self.weight_xn = Parameter(xavier_uniform(backend, d, h, seed=seed + 2), "weight_xn")
        self.weight_hn = Parameter(xavier_uniform(backend, h, h, seed=seed + 3), "weight_hn")
        zeros = self.xp.zeros((h,), dtype=backend.default_dtype, device=backend.device)
        self.bias_f = Parameter(zeros, "bias_f")
        self.bias_n = Parameter(self.xp.zeros_like(zeros), "bias_n")

    def forward(self, x, h):
        xp = self.xp
        ### BEGIN SOLUTION toy_mgu.mgu_cell
        f = 1.0 / (1.0 + xp.exp(-(xp.matmul(x, self.weight_xf.data)
                                  + xp.matmul(h, self.weight_hf.data) + self.bias_f.data)))
        n = xp.tanh(xp.matmul(x, self.weight_xn.data) + xp.matmul(f * h, self.weight_hn.data)
                    + self.bias_n.data)  # (B, H)
        return (1.0 - f) * h + f * n, (x, h, f, n)
        ### END SOLUTION

    def backward(self, grad_output, cache):
        xp = self.xp
        ### BEGIN SOLUTION toy_mgu.mgu_cell
        x, h, f, n = cache
        t = xp.matrix_transpose
        grad_an = grad_output * f * (1.0 - n * n)  # (B, H): n's pre-activation
        self.weight_xn.grad = self.weight_xn.grad + xp.matmul(t(x), grad_an)
        self.weight_hn.grad = self.weight_hn.grad + xp.matmul(t(f * h), grad_an)
        self.bias_n.grad = self.bias_n.grad + xp.sum(grad_an, axis=0)
        grad_fh = xp.matmul(grad_an, t(self.weight_hn.data))  # dL/d(f ⊙ h)
        grad_f = grad_output * (n - h) + grad_fh * h
        grad_af = grad_f * f * (1.0 - f)  # f's pre-activation
        self.weight_xf.grad = self.weight_xf.grad + xp.matmul(t(x), grad_af)
        self.weight_hf.grad = self.weight_hf.grad + xp.matmul(t(h), grad_af)
        self.bias_f.grad = self.bias_f.grad + xp.sum(grad_af, axis=0)
        grad_x = xp.matmul(grad_an, t(self.weight_xn.data)) + xp.matmul(
            grad_af, t(self.weight_xf.data))
        grad_h = grad_output * (1.0 - f) + grad_fh * f + xp.matmul(
            grad_af, t(self.weight_hf.data))
        return grad_x, grad_h
        ### END SOLUTION
