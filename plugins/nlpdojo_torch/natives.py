"""Native recurrent layers of the torch backend: ``torch.nn.LSTM`` and ``torch.nn.GRU`` (cuDNN
on CUDA) behind the course library's ``LSTM``/``GRU`` contract and parameter names, registered
as natives of ``lstm`` and ``gru`` (:mod:`nlpdojo.registry`): used only on request
(``registry.get("module", "lstm", backend="torch", native=True)``), never for code under test
(the grader refuses natives), for fast training where the layer is not what is graded.

Same contract as the library's ``Recurrent`` (CS224n lecture 7; topic ``rnn_variants``):
``forward(xs (B, T, D), state0) -> (outputs (B, T, H), cache)``,
``backward(dL/doutputs, cache) -> (dL/dxs, dL/dstate0)`` adding into every parameter's
gradient, ``final_state(cache)``; one layer, batch first; the LSTM's state is ``(h, c)``, the
GRU's h. Parameters by the library's names and layouts, torch's transposed
(``cell.weight_x`` (D, G·H), ``cell.weight_h`` (H, G·H), gates side by side in torch's order),
so a state dict moves between the two either way and the results are equal (tested). torch's
second bias ``bias_hh`` is the LSTM's zero (the library keeps one bias) and the GRU's
``cell.bias_h``.

The backward runs torch's autograd on the graph the forward kept in the cache.
"""

from __future__ import annotations

import math
from typing import Any

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module, Parameter


def _rows(weight: Any) -> Any:
    """The library's (in, G·H) weight as torch's (G·H, in), contiguous: cuDNN views the weights
    as one flat buffer and refuses a transposed view ("view size is not compatible with input
    tensor's size and stride", seen on an H100); the copy keeps the autograd graph."""
    return weight.T.contiguous()


class _Weights(Module):
    """The parameters, under ``cell.`` as in the library's ``Recurrent``."""

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, gates: int,
                 biases: tuple[str, ...], seed: int) -> None:
        super().__init__(backend)
        import torch

        g = torch.Generator().manual_seed(seed)
        bound = 1.0 / math.sqrt(hidden_size)  # torch.nn.LSTM's and GRU's initialisation

        def uniform(*shape: int) -> Array:
            x = (torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * bound
            return backend.asarray(x.numpy(), dtype=backend.default_dtype)

        self.weight_x = Parameter(uniform(input_size, gates * hidden_size), "weight_x")
        self.weight_h = Parameter(uniform(hidden_size, gates * hidden_size), "weight_h")
        for name in biases:
            setattr(self, name, Parameter(uniform(gates * hidden_size), name))


class _NativeRecurrent(Module):
    """``torch.nn.{LSTM,GRU}`` over the library's parameters (see the module docstring)."""

    kind: str = ""
    gates: int = 0
    biases: tuple[str, ...] = ()

    def __init__(self, backend: Backend, input_size: int, hidden_size: int, *,
                 seed: int = 0) -> None:
        super().__init__(backend)
        if backend.name != "torch":
            raise ValueError(f"the native {self.kind} runs on the torch backend only; this is "
                             f"{backend.name!r}: use the library's {self.kind.upper()}")
        import torch

        self.hidden_size = hidden_size
        self.cell = _Weights(backend, input_size, hidden_size, self.gates, self.biases, seed)
        module = torch.nn.LSTM if self.kind == "lstm" else torch.nn.GRU
        self._module = module(input_size, hidden_size, batch_first=True,
                              device=backend.device, dtype=backend.default_dtype)

    def _torch_weights(self, leaves: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def forward(self, xs: Array, state0: Any) -> tuple[Array, tuple]:
        # xs: (B, T, D); state0: (B, H), or (h, c) for the LSTM
        import torch

        leaves = {name: p.data.detach().requires_grad_() for name, p in
                  self.cell.named_parameters()}
        x = xs.detach().requires_grad_()
        states = tuple(s.detach().requires_grad_() for s in
                       (state0 if isinstance(state0, tuple) else (state0,)))
        torch_state = tuple(s[None] for s in states)  # (1, B, H): one layer
        with torch.enable_grad():
            out, final = torch.func.functional_call(
                self._module, self._torch_weights(leaves),
                (x, torch_state if self.kind == "lstm" else torch_state[0]))
        final = tuple(f[0].detach() for f in (final if isinstance(final, tuple) else (final,)))
        return out.detach(), (out, x, states, leaves, final)  # (B, T, H)

    def backward(self, grad_output: Array, cache: tuple) -> tuple[Array, Any]:
        # grad_output: (B, T, H); returns dL/dxs (B, T, D), dL/dstate0
        import torch

        out, x, states, leaves, _ = cache
        grads = torch.autograd.grad(out, [x, *states, *leaves.values()], grad_output,
                                    allow_unused=True)
        grad_x, grad_states = grads[0], grads[1:1 + len(states)]
        for (name, g) in zip(leaves, grads[1 + len(states):], strict=True):
            if g is not None:
                getattr(self.cell, name).accumulate(g)
        grad_states = tuple(torch.zeros_like(s) if g is None else g
                            for s, g in zip(states, grad_states, strict=True))
        return grad_x, (grad_states if self.kind == "lstm" else grad_states[0])

    def final_state(self, cache: tuple) -> Any:
        """The state after the last step of the forward pass that returned ``cache``."""
        final = cache[4]
        return final if self.kind == "lstm" else final[0]


class NativeLSTM(_NativeRecurrent):
    """``torch.nn.LSTM`` (one layer, batch first; cuDNN on CUDA) as the library's ``LSTM``:
    ``cell.weight_x`` (D, 4H), ``cell.weight_h`` (H, 4H), ``cell.bias`` (4H,), gates i, f, g, o.
    torch's initialisation (uniform ±1/√H), not the library's: load a state dict for equal
    results."""

    kind, gates, biases = "lstm", 4, ("bias",)

    def _torch_weights(self, leaves: dict[str, Any]) -> dict[str, Any]:
        return {"weight_ih_l0": _rows(leaves["weight_x"]),
                "weight_hh_l0": _rows(leaves["weight_h"]),
                "bias_ih_l0": leaves["bias"], "bias_hh_l0": 0 * leaves["bias"]}


class NativeGRU(_NativeRecurrent):
    """``torch.nn.GRU`` (one layer, batch first; cuDNN on CUDA) as the library's ``GRU``:
    ``cell.weight_x`` (D, 3H), ``cell.weight_h`` (H, 3H), ``cell.bias_x``, ``cell.bias_h``
    (3H,), gates r, z, n, the reset gate after the recurrent matmul."""

    kind, gates, biases = "gru", 3, ("bias_x", "bias_h")

    def _torch_weights(self, leaves: dict[str, Any]) -> dict[str, Any]:
        return {"weight_ih_l0": _rows(leaves["weight_x"]),
                "weight_hh_l0": _rows(leaves["weight_h"]),
                "bias_ih_l0": leaves["bias_x"], "bias_hh_l0": leaves["bias_h"]}
