"""The torch oracle of a recurrent language model's training loop: truncated backpropagation
through time (CS224n lecture 6; Williams & Peng 1990) written in torch, float64, autograd, one
loop for every cell (the RNN's tanh cell, the LSTM), with the options a student's loop gets
wrong as switches, so that a check can name the mistake whose losses are exactly the student's
(:func:`~nlpdojo_autograder.authoring.compare.name_the_mistake`).

The stream is cut into ``batch_size`` rows, each row into windows of ``bptt`` steps with
targets shifted by ``shift``; the state passes from window to window detached (``h.detach()``:
the truncation); each window's loss is the mean cross-entropy of its predictions; the
parameters take one SGD step per window (or ``torch.optim.Adam``, the library's Adam's twin),
after global-norm clipping where ``clip`` is given (``torch.nn.utils.clip_grad_norm_``, Pascanu
et al. 2013).

Parameters are named as the course library's language models name them
(:func:`~.lm_cases.lm_shapes`): ``embedding.weight``, ``output.weight``, ``output.bias`` and
the cell's: ``rnn.cell.weight_e``, ``weight_h``, ``bias`` (the tanh RNN cell);
``rnn.cell.weight_x``, ``weight_h``, ``bias`` (the LSTM cell, gates i, f, g, o in torch's
order). The same unroll is a layer check's torch forward of such a model (:func:`torch_lm`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: the cells the oracle unrolls
CELLS = ("rnn", "lstm")


def _torch() -> Any:
    import torch  # optional: the grader's oracle, where torch is installed

    return torch


def _rnn_step(torch: Any, p: dict, e_t: Any, state: Any) -> tuple[Any, Any]:
    """h⁽ᵗ⁾ = tanh(h⁽ᵗ⁻¹⁾ W_h + e⁽ᵗ⁾ W_e + b): (output, state)."""
    h = torch.tanh(state @ p["rnn.cell.weight_h"] + e_t @ p["rnn.cell.weight_e"]
                   + p["rnn.cell.bias"])  # (B, H)
    return h, h


def _lstm_step(torch: Any, p: dict, e_t: Any, state: Any) -> tuple[Any, Any]:
    """The LSTM step (gates i, f, g, o): (h, (h, c))."""
    h, c = state
    a = e_t @ p["rnn.cell.weight_x"] + h @ p["rnn.cell.weight_h"] + p["rnn.cell.bias"]  # (B, 4H)
    i, f, g, o = a.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (B, H)
    h = torch.sigmoid(o) * torch.tanh(c)  # (B, H)
    return h, (h, c)


STEPS: dict[str, Callable[..., tuple[Any, Any]]] = {"rnn": _rnn_step, "lstm": _lstm_step}


class TorchAdam:
    """Adam (Kingma & Ba 2015) on torch tensors, each step exactly as ``torch.optim.Adam``'s
    single-tensor update computes it (defaults: betas (0.9, 0.999), eps 1e-8, no weight decay;
    tests/training/test_bptt_oracle.py proves them equal). Not ``torch.optim`` itself: its
    first optimizer imports torch's compiler (``torch._dynamo``, ~1.1 CPU-s in every grading
    process that runs this oracle)."""

    def __init__(self, params: list[Any], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [p.detach().new_zeros(p.shape) for p in params]  # first moments
        self.v = [p.detach().new_zeros(p.shape) for p in params]  # second moments
        self.t = 0

    def step(self) -> None:
        """One update of every parameter from its ``.grad``, in place."""
        (beta1, beta2), self.t = self.betas, self.t + 1
        step_size = self.lr / (1 - beta1 ** self.t)
        correction2_sqrt = (1 - beta2 ** self.t) ** 0.5
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            g = p.grad.detach()
            m.lerp_(g, 1 - beta1)  # m ← β1 m + (1 − β1) g
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v ← β2 v + (1 − β2) g²
            denom = (v.sqrt() / correction2_sqrt).add_(self.eps)  # √v̂ + ε
            p.data.addcdiv_(m, denom, value=-step_size)  # θ ← θ − α m̂ / (√v̂ + ε)


def _unroll(torch: Any, p: dict, cell: str, ids: Any, state: Any) -> tuple[Any, list]:
    """The scores of the ids ``ids`` (B, T) from ``state``: (B, T, V), and the state after
    every step."""
    e = p["embedding.weight"][ids]  # (B, T, D)
    outputs, states = [], []
    for t in range(ids.shape[1]):  # over time: step t needs step t − 1
        h, state = STEPS[cell](torch, p, e[:, t], state)
        outputs.append(h)
        states.append(state)
    return torch.stack(outputs, 1) @ p["output.weight"] + p["output.bias"], states  # (B, T, V)


def torch_lm(cell: str) -> Callable[..., Any]:
    """A language model over ``cell`` as a layer check's ``torch`` forward (the oracle's own
    unroll): ``forward(params, ids, state0)``, the scores (B, T, V)."""
    if cell not in STEPS:
        raise ValueError(f"cell {cell!r}: one of {', '.join(CELLS)}")

    def forward(p: dict[str, Any], ids: Any, state0: Any) -> Any:
        return _unroll(_torch(), p, cell, ids, state0)[0]

    return forward


def truncated_bptt_losses(train: np.ndarray, init: dict[str, np.ndarray], *, cell: str,
                          batch_size: int, bptt: int, lr: float, epochs: int,
                          clip: float | None = None, optimizer: str = "sgd",
                          fresh: bool = False, carry: bool = True, carry_cell: bool = True,
                          carried: str = "last", reset: bool = True, shift: int = 1,
                          accumulate: bool = False, grad_scale: float | str = 1.0
                          ) -> np.ndarray:
    """Every window's training loss, in order (``(epochs * windows,)``), of truncated BPTT on
    the id stream ``train`` from the parameters ``init``.

    The switches a loop can get wrong: ``carry`` (the state passes to the next window; else
    each starts from zeros), ``carry_cell`` (an LSTM's c passes too), ``carried`` (``"last"``
    step's state, or the ``"first"``'s), ``reset`` (zeros at each epoch's start; else only at
    the first), ``shift`` (targets ``shift`` steps ahead), ``accumulate`` (gradients summed over
    every window so far, never zeroed), ``fresh`` (a new Adam every window: its moments lost),
    ``clip`` (None: no clipping), ``grad_scale`` (the gradient of the mean loss multiplied by
    it: ``"tokens"``, B·T, that of the sum over the window's tokens; ``"steps"``, T, that of a
    mean over the batch alone)."""
    if cell not in STEPS:
        raise ValueError(f"cell {cell!r}: one of {', '.join(CELLS)}")
    torch = _torch()
    p = {k: torch.tensor(np.asarray(v, np.float64), requires_grad=True) for k, v in init.items()}
    params = list(p.values())
    adam = TorchAdam(params, lr=lr) if optimizer == "adam" else None
    scale = float({"tokens": batch_size * bptt, "steps": bptt}.get(grad_scale, grad_scale))
    length = len(train) // batch_size
    rows = torch.as_tensor(np.asarray(train[:length * batch_size]).reshape(batch_size, length))
    hidden = p["rnn.cell.weight_h"].shape[0]

    def zeros() -> Any:
        h = torch.zeros(batch_size, hidden, dtype=torch.float64)
        return h if cell == "rnn" else (h, torch.zeros_like(h))

    losses = []
    total = [torch.zeros_like(v) for v in params]  # every gradient so far (accumulate)
    state = zeros()
    for epoch in range(epochs):
        if reset or epoch == 0:
            state = zeros()
        for k in range((length - 1) // bptt):
            x = rows[:, k * bptt:(k + 1) * bptt]  # (B, T)
            y = rows[:, k * bptt + shift:(k + 1) * bptt + shift]  # (B, T)
            if not carry:
                state = zeros()
            elif not carry_cell and cell == "lstm":
                state = (state[0], torch.zeros_like(state[1]))
            scores, states = _unroll(torch, p, cell, x, state)  # (B, T, V)
            loss = torch.nn.functional.cross_entropy(scores.reshape(-1, scores.shape[-1]),
                                                     y.reshape(-1))
            grads = torch.autograd.grad(loss, params)
            if scale != 1.0:
                grads = tuple(g * scale for g in grads)
            if accumulate:
                total = [a + g for a, g in zip(total, grads, strict=True)]
                grads = tuple(total)
            for value, g in zip(params, grads, strict=True):  # clipping scales .grad in place
                value.grad = g.clone() if accumulate and clip is not None else g
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(params, clip)
            if adam is not None:
                if fresh:
                    adam = TorchAdam(params, lr=lr)
                adam.step()
            else:
                with torch.no_grad():
                    for value in params:
                        value -= lr * value.grad
            kept = states[0] if carried == "first" else states[-1]
            state = (kept.detach() if cell == "rnn"
                     else (kept[0].detach(), kept[1].detach()))
            losses.append(float(loss.detach()))
    return np.asarray(losses)
