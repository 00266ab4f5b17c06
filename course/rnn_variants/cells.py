"""Gated cells (CS224n lecture 7): the LSTM and the GRU of the course library
(``library/gated.py``), each checked as a layer (values, every gradient by central
differences with torch's autograd as a second oracle, repeated application, accumulation)
and against its ``torch.nn`` twin with copied weights; the LSTM's forget-gate bias of one
(Jozefowicz et al. 2015) is a graded detail of its own."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    Context,
    LayerCase,
    Question,
    bug,
    layer_checks,
    torch_check,
    torch_twin,
    value_check,
)

GATED = "..library.gated"
B, D, H = 3, 4, 5


def _states(r: np.random.Generator) -> np.ndarray:
    """A hidden state as the cells make them: inside (−1, 1)."""
    return np.tanh(r.standard_normal((B, H)))


# -- the LSTM cell -----------------------------------------------------------------------------
def _lstm(ctx: Context) -> LayerCase:
    rng = ctx.rng()
    return LayerCase(args=(ctx.backend, D, H), params={
        "weight_x": 0.7 * rng.standard_normal((D, 4 * H)),
        "weight_h": 0.7 * rng.standard_normal((H, 4 * H)),
        "bias": 0.5 * rng.standard_normal(4 * H)},
        inputs=lambda r: (r.standard_normal((B, D)), (_states(r), r.standard_normal((B, H)))),
        differentiable=(0, 1), names=("x", ("h_prev", "c_prev")), outputs=("h", "c"))


def _torch_lstm(p, x, state):
    """``torch.nn.LSTMCell`` with the cell's weights: W_x, W_h transposed, one bias."""
    import torch

    return torch_twin(lambda: torch.nn.LSTMCell(D, H, dtype=torch.float64), {
        "weight_ih": lambda p: p["weight_x"].T, "weight_hh": lambda p: p["weight_h"].T,
        "bias_ih": lambda p: p["bias"], "bias_hh": lambda p: 0 * p["bias"]},
        label="torch.nn.LSTMCell")(p, x, state)


def _lstm_bias(ctx: Context) -> dict[str, np.ndarray]:
    f = ctx.function(GATED, "lstm_bias")
    return {f"lstm_bias(backend, {h})": ctx.to_numpy(f(ctx.backend, h), "lstm_bias's vector")
            for h in (1, 5)}


def _forget_bias_zero(expected: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.zeros_like(v) for k, v in expected.items()}


LSTM_CELL = Question(
    "lstm_cell", "The LSTM cell", code="library/gated",
    checks=[*layer_checks("lstm_cell", GATED, "LSTMCell", _lstm, title="LSTMCell", points=3.0,
                          torch=_torch_lstm),
            torch_check("lstm_cell", GATED, "LSTMCell", _lstm, torch=_torch_lstm,
                        title="LSTMCell against torch.nn.LSTMCell", points=1.0),
            value_check("lstm_cell", "forget_bias",
                        "the initial bias: one for the forget gate, zero elsewhere", 0.5,
                        _lstm_bias, mistakes={
                            "a forget-gate bias of zero (Jozefowicz et al. 2015 start it at "
                            "one, so that the cell remembers from the first step)":
                            _forget_bias_zero})],
    planted_bugs=[
        bug("input and forget gates swapped (gate order not torch's i, f, g, o)", GATED,
            "i = _sigmoid(xp, a[:, :H])  # (B, H) input gate\n"
            "        f = _sigmoid(xp, a[:, H:2 * H])",
            "i = _sigmoid(xp, a[:, H:2 * H])  # (B, H) input gate\n"
            "        f = _sigmoid(xp, a[:, :H])", "lstm_cell"),
        bug("the cell state's own gradient dropped in backward (only the path through h)",
            GATED, "grad_c = grad_c + grad_h * o", "grad_c = 0.0 * grad_c + grad_h * o",
            "lstm_cell"),
        bug("forget-gate bias initialised to zero", GATED,
            "xp.concat([0.0 * ones, ones, 0.0 * ones, 0.0 * ones])",
            "xp.concat([0.0 * ones, 0.0 * ones, 0.0 * ones, 0.0 * ones])", "lstm_cell")],
    requires=("neural_networks.xavier",))


# -- the GRU cell ------------------------------------------------------------------------------
def _gru(ctx: Context) -> LayerCase:
    rng = ctx.rng()
    return LayerCase(args=(ctx.backend, D, H), params={
        "weight_x": 0.7 * rng.standard_normal((D, 3 * H)),
        "weight_h": 0.7 * rng.standard_normal((H, 3 * H)),
        "bias_x": 0.5 * rng.standard_normal(3 * H),
        "bias_h": 0.5 * rng.standard_normal(3 * H)},
        inputs=lambda r: (r.standard_normal((B, D)), _states(r)),
        differentiable=(0, 1), names=("x", "h_prev"))


def _torch_gru(p, x, h):
    """``torch.nn.GRUCell`` with the cell's weights: both biases its own (r applies to b_hn)."""
    import torch

    return torch_twin(lambda: torch.nn.GRUCell(D, H, dtype=torch.float64), {
        "weight_ih": lambda p: p["weight_x"].T, "weight_hh": lambda p: p["weight_h"].T,
        "bias_ih": lambda p: p["bias_x"], "bias_hh": lambda p: p["bias_h"]},
        label="torch.nn.GRUCell")(p, x, h)


GRU_CELL = Question(
    "gru_cell", "The GRU cell", code="library/gated",
    checks=[*layer_checks("gru_cell", GATED, "GRUCell", _gru, title="GRUCell", points=3.0,
                          torch=_torch_gru, hints={
                              "values": "torch's convention: gates in the order r, z, n; "
                                        "n = tanh(x W_xn + b_xn + r ⊙ (h W_hn + b_hn)), the "
                                        "reset gate after the recurrent matmul; h = (1 − z) ⊙ "
                                        "n + z ⊙ h_prev"}),
            torch_check("gru_cell", GATED, "GRUCell", _gru, torch=_torch_gru,
                        title="GRUCell against torch.nn.GRUCell", points=1.0)],
    planted_bugs=[
        bug("update gate the wrong way round (z weighs the candidate)", GATED,
            "h = (1.0 - z) * n + z * h_prev", "h = z * n + (1.0 - z) * h_prev", "gru_cell"),
        bug("reset gate applied before the recurrent matmul (the other GRU variant)", GATED,
            "n = xp.tanh(ax[:, 2 * H:] + r * ah_n)",
            "n = xp.tanh(ax[:, 2 * H:] + xp.matmul(r * h_prev, self.weight_h.data[:, 2 * H:])"
            " + self.bias_h.data[2 * H:])", "gru_cell")],
    requires=("neural_networks.xavier",))

QUESTIONS = [LSTM_CELL, GRU_CELL]
