"""Gated cells (CS224n lecture 7): the LSTM and the GRU of the course library
(``library/gated.py``), each checked as a layer (values, every gradient by central
differences with torch's autograd as a second oracle, repeated application, accumulation)
and against its ``torch.nn`` twin with copied weights; the LSTM's forget-gate bias of one
(Jozefowicz et al. 2015) is a graded detail of its own. Their cases and torch twins are the
training kit's (:func:`~nlpdojo_autograder.training.cell_case`,
:func:`~nlpdojo_autograder.training.torch_cell`), as language_models' RNN cell's are."""

from __future__ import annotations

from functools import partial
from itertools import permutations

import numpy as np

from nlpdojo_autograder.authoring import (
    Context,
    Parity,
    Question,
    Saturated,
    layer_checks,
    settings_rng,
    value_check,
)
from nlpdojo_autograder.training import cell_case, torch_cell

#: (B, D, H) of the layer checks, and of the torch check: every size varies between a cell's
#: checks (an attacker's cells with H = 5 written in kept full marks where every check had
#: H = 5)
SIZES, TORCH_SIZES = (3, 4, 5), (2, 3, 6)
#: (B, D, H) at scale: 525,312 parameters for the LSTM, 394,752 for the GRU, where a backward
#: that differentiates the forward numerically cannot finish (builders' ``at_scale``)
AT_SCALE = (16, 256, 256)


# -- the LSTM cell -----------------------------------------------------------------------------
#: ``torch.nn.LSTMCell`` with the cell's weights: W_x, W_h transposed, one bias
TORCH_LSTM = torch_cell("lstm")


def _gate_blocks(p: dict, order: list[int], names: tuple[str, ...]) -> dict:
    """The parameters ``names`` of ``p`` (tensors) with their gate blocks (the last axis, in
    ``len(order)`` blocks) put in ``order``: torch then reads block k where a student read
    block ``order[k]``."""
    h = p[names[0]].shape[-1] // len(order)
    columns = [block * h + j for block in order for j in range(h)]
    return {**p, **{n: p[n][..., columns] for n in names}}


def _gate_orders(oracle, gates: str, names: tuple[str, ...], why: str) -> dict:
    """A known mistake (:func:`layer_checks`' ``forward_mistakes``) for every other order in
    which a student may have read the blocks of a = x W_x + ... as gates: torch's forward with
    the blocks put back where that student used them."""
    mistakes = {}
    for order in permutations(gates):
        if "".join(order) != gates:
            moved = [order.index(g) for g in gates]  # torch's gate g is the student's block
            mistakes[f"the gates read in the order {', '.join(order)} from a's blocks, where "
                     f"torch's order is {', '.join(gates)} ({why})"] = (
                lambda p, *xs, moved=moved: oracle(_gate_blocks(p, moved, names), *xs))
    return mistakes


LSTM_MISTAKES = _gate_orders(TORCH_LSTM, "ifgo", ("weight_x", "weight_h", "bias"),
                             "g is the tanh candidate, o the output gate")


def _lstm_cutting(path: str):
    """The LSTM's forward in torch with the right outputs and one path of its backward cut
    (``backward_mistakes``): "h_to_c", c reaching the loss only directly (h = o ⊙ tanh(c)
    differentiated as if c were a constant); "c_out", c reaching it only through h (the
    upstream dL/dc of the next step ignored)."""
    def forward(p, x, state):
        # imported on use: torch is optional (a NumPy-only grader never loads it)
        import torch

        h_prev, c_prev = state
        a = x @ p["weight_x"] + h_prev @ p["weight_h"] + p["bias"]  # (B, 4H): i, f, g, o
        i, f, g, o = (torch.sigmoid(b) if k != 2 else torch.tanh(b)
                      for k, b in enumerate(a.chunk(4, dim=1)))
        c = f * c_prev + i * g  # (B, H)
        h = o * torch.tanh(c.detach() if path == "h_to_c" else c)  # (B, H)
        return h, (c.detach() if path == "c_out" else c)
    return forward


LSTM_BACKWARD_MISTAKES = {
    "a backward that leaves out the path from h to c: c reaches the loss directly (dL/dc) "
    "and through h = o ⊙ tanh(c), so dL/dc += dL/dh ⊙ o ⊙ (1 − tanh²(c)) before it goes on to "
    "the gates and c_prev": _lstm_cutting("h_to_c"),
    "a backward that drops the dL/dc it is given (the next step's): c's gradient is that dL/dc "
    "plus what comes through h, dL/dh ⊙ o ⊙ (1 − tanh²(c))": _lstm_cutting("c_out")}


def _lstm_bias(ctx: Context) -> dict[str, np.ndarray]:
    """The bias of H = 1 and of an H drawn per grading (a table of the answers for the sizes
    asked kept the point where they were always 1 and 5)."""
    f = ctx.function("lstm_bias")
    sizes = (1, int(settings_rng(ctx).integers(2, 64)))
    return {f"lstm_bias(backend, {h})": ctx.to_numpy(f(ctx.backend, h), "lstm_bias's vector")
            for h in sizes}


def _forget_bias_zero(expected: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.zeros_like(v) for k, v in expected.items()}


LSTM_CELL = Question(
    "lstm_cell", "The LSTM cell", code="library/gated",
    checks=[layer_checks("LSTMCell", cell_case("lstm", *SIZES), title="LSTMCell", points=3.0,
                         torch=TORCH_LSTM, forward_mistakes=LSTM_MISTAKES,
                         backward_mistakes=LSTM_BACKWARD_MISTAKES,
                         at_scale=cell_case("lstm", *AT_SCALE, std=AT_SCALE[1] ** -0.5),
                         saturated=Saturated(bias="bias", blocks=4),
                         parity=Parity(cell_case("lstm", *TORCH_SIZES), points=1.0)),
            value_check("forget_bias",
                        "the initial bias: one for the forget gate, zero elsewhere", 0.5,
                        _lstm_bias, mistakes={
                            "a forget-gate bias of zero (Jozefowicz et al. 2015 start it at "
                            "one, so that the cell remembers from the first step)":
                            _forget_bias_zero})],
    requires=("neural_networks.xavier",))


# -- the GRU cell ------------------------------------------------------------------------------
#: ``torch.nn.GRUCell`` with the cell's weights: both biases its own (r applies to b_hn)
TORCH_GRU = torch_cell("gru")


def _gru_update_reversed(oracle):
    """h = z ⊙ n + (1 − z) ⊙ h_prev: torch's GRU with z's pre-activation negated (σ(−a) is
    1 − σ(a))."""
    def forward(p, x, h_prev):
        h = p["weight_x"].shape[1] // 3
        sign = p["bias_x"].new_ones(3 * h)
        sign[h:2 * h] = -1.0
        return oracle({n: v * sign for n, v in p.items()}, x, h_prev)
    return forward


def _gru_written_out(p, x, h_prev, *, reset_before: bool = False, direct_path: bool = True):
    """torch's GRU written out, with one of two usual mistakes: ``reset_before``, the GRU of Cho
    et al.'s paper (the reset gate on h_prev before the recurrent matmul, n = tanh(x W_xn +
    b_xn + (r ⊙ h_prev) W_hn + b_hn)); ``direct_path`` False, the right outputs with a backward
    that leaves out h's direct path to h_prev (z ⊙ h_prev differentiated as if h_prev were a
    constant: ``backward_mistakes``)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    h = h_prev.shape[1]
    ax = x @ p["weight_x"] + p["bias_x"]  # (B, 3H): r, z, n
    ah = h_prev @ p["weight_h"] + p["bias_h"]  # (B, 3H)
    r = torch.sigmoid(ax[:, :h] + ah[:, :h])  # (B, H)
    z = torch.sigmoid(ax[:, h:2 * h] + ah[:, h:2 * h])  # (B, H)
    recurrent = ((r * h_prev) @ p["weight_h"][:, 2 * h:] + p["bias_h"][2 * h:] if reset_before
                 else r * ah[:, 2 * h:])  # (B, H)
    n = torch.tanh(ax[:, 2 * h:] + recurrent)  # (B, H)
    return (1.0 - z) * n + z * (h_prev if direct_path else h_prev.detach())


GRU_BACKWARD_MISTAKES = {
    "a backward that leaves out the direct path from h to h_prev: h = (1 − z) ⊙ n + z ⊙ "
    "h_prev, so dL/dh_prev gets dL/dh ⊙ z besides what goes back through the gates and the "
    "recurrent matmul": partial(_gru_written_out, direct_path=False)}


GRU_MISTAKES = {
    "the update gate the wrong way round, h = z ⊙ n + (1 − z) ⊙ h_prev: in torch's "
    "convention z weighs the old state, h = (1 − z) ⊙ n + z ⊙ h_prev":
        _gru_update_reversed(TORCH_GRU),
    "the reset gate applied to h_prev before the recurrent matmul (Cho et al.'s variant): "
    "torch applies it after, n = tanh(x W_xn + b_xn + r ⊙ (h_prev W_hn + b_hn))":
        partial(_gru_written_out, reset_before=True),
    **_gate_orders(TORCH_GRU, "rzn", ("weight_x", "weight_h", "bias_x", "bias_h"),
                   "n is the tanh candidate")}


GRU_CELL = Question(
    "gru_cell", "The GRU cell", code="library/gated",
    checks=[layer_checks("GRUCell", cell_case("gru", *SIZES), title="GRUCell", points=3.0,
                         torch=TORCH_GRU, forward_mistakes=GRU_MISTAKES,
                         backward_mistakes=GRU_BACKWARD_MISTAKES,
                         at_scale=cell_case("gru", *AT_SCALE, std=AT_SCALE[1] ** -0.5),
                         saturated=Saturated(bias="bias_x", blocks=3),
                         parity=Parity(cell_case("gru", *TORCH_SIZES), points=1.0), hints={
                             "values": "torch's convention: gates in the order r, z, n; "
                                       "n = tanh(x W_xn + b_xn + r ⊙ (h W_hn + b_hn)), the "
                                       "reset gate after the recurrent matmul; h = (1 − z) ⊙ "
                                       "n + z ⊙ h_prev"})],
    requires=("neural_networks.xavier",))

QUESTIONS = [LSTM_CELL, GRU_CELL]
