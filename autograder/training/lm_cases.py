"""The course's recurrent cells and language models as their checks draw them (CS224n lectures
6-7): a layer check's case of a cell (the tanh RNN's, the LSTM's, the GRU's: :func:`cell_case`)
and its ``torch.nn`` twin (:func:`torch_cell`); the parameters of a model over each cell, by
the course library's names (:func:`lm_shapes`), a layer check's case of one (:func:`lm_case`)
and the check of the state it hands on to the next window (:func:`lm_final_state_check`). The
one statement of those names that the layer checks, the torch oracle of
the loop (:mod:`.bptt_oracle`), the loop check (:mod:`.loop_runs`) and a budget's initial
parameters (:func:`~.trained.initial_parameters`) read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nlpdojo_autograder.authoring import (
    Check,
    Context,
    LayerCase,
    final_state_check,
    with_hint,
)
from nlpdojo_autograder.authoring.builders import layer_case, torch_layout, torch_twin
from nlpdojo_autograder.authoring.deferred import ForQuestion
from nlpdojo_autograder.authoring.inputs import integers, normal, states


def _cell_shapes(cell: str, dim: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """The cell's parameters: the tanh RNN's W_e, W_h, b; the LSTM's gates i, f, g, o side by
    side; the GRU's r, z, n, with a bias for x and one for h."""
    gates = {"rnn": 1, "lstm": 4, "gru": 3}
    if cell not in gates:
        raise ValueError(f"cell {cell!r}: one of {', '.join(gates)}")
    width = gates[cell] * hidden
    weights = {f"weight_{'e' if cell == 'rnn' else 'x'}": (dim, width),
               "weight_h": (hidden, width)}
    biases = {"bias_x": (width,), "bias_h": (width,)} if cell == "gru" else {"bias": (width,)}
    return {**weights, **biases}


def _scale(name: str, std: float) -> float:
    """The standard deviation a case draws the parameter ``name`` with (a cell's own name,
    ``"weight_x"``, or a model's, ``"rnn.cell.weight_x"``): a cell's weights ``std``, its
    biases 0.5, the others (an embedding, an output layer) 1."""
    *path, own = name.split(".")
    if path and path[-1] != "cell":
        return 1.0
    return std if own.startswith("weight") else 0.5


def _state(cell: str, batch: int, hidden: int) -> Any:
    """The draw of a state before a step: h inside (−1, 1) as a tanh makes it; the LSTM's
    (h, c), c normal."""
    if cell == "lstm":
        return states(batch, hidden), normal(batch, hidden)
    return states(batch, hidden)


def cell_case(cell: str, batch: int, dim: int, hidden: int, *, std: float = 0.7
              ) -> Callable[[Context], LayerCase]:
    """A layer check's case of the course library's ``cell`` ("rnn", "lstm", "gru"), built as
    ``cls(backend, dim, hidden)``: its parameters (:func:`_cell_shapes`) drawn in order,
    normal (the weights with standard deviation ``std``, the biases 0.5); its inputs x (B, D)
    and the state before the step, both differentiated: h_prev inside (−1, 1) as a tanh makes
    it, and for the LSTM c_prev normal, its outputs named h and c."""
    lstm = cell == "lstm"
    return layer_case(dim, hidden, params={
        name: normal(*shape, scale=_scale(name, std))
        for name, shape in _cell_shapes(cell, dim, hidden).items()},
        inputs=(normal(batch, dim), _state(cell, batch, hidden)), differentiable=(0, 1),
        names=("x", ("h_prev", "c_prev") if lstm else "h_prev"),
        outputs=("h", "c") if lstm else None)


def torch_cell(cell: str) -> Callable[..., Any]:
    """The cell's ``torch.nn`` twin (a layer check's ``torch=``): ``RNNCell`` (tanh),
    ``LSTMCell`` or ``GRUCell`` with the cell's weights, W_x (or W_e) and W_h transposed, its
    bias (the GRU: both its biases, r applying to b_hn; the others: b_hh zero)."""
    names = tuple(_cell_shapes(cell, 1, 1))  # weight_x (or weight_e), weight_h, the bias(es)
    return torch_twin(f"{cell.upper()}Cell",
                      lambda p: torch_layout(*(p[name] for name in names)))


def lm_shapes(cell: str, vocab: int, dim: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """The parameters of a language model over ``cell`` ("rnn", "lstm", "gru"), by name, in
    the order the library's model holds them: the embedding, the cell's, the output layer."""
    cell_shapes = _cell_shapes(cell, dim, hidden)
    return {"embedding.weight": (vocab, dim),
            **{f"rnn.cell.{name}": shape for name, shape in cell_shapes.items()},
            "output.weight": (hidden, vocab), "output.bias": (vocab,)}


def lm_case(cell: str, vocab: int, dim: int, hidden: int, batch: int, steps: int, *,
            std: float = 0.7, **fields: Any) -> Callable[[Context], LayerCase]:
    """A layer check's case of a language model over ``cell``, built as ``cls(backend, vocab,
    dim, hidden)``: every parameter of :func:`lm_shapes` drawn in order, normal (the cell's
    weights with standard deviation ``std``, its biases 0.5, the others 1); its inputs a
    batch of ids (B, T) whose last id is its first (the embedding's gradient adds up) and an
    initial state, differentiated: h inside (−1, 1) as a tanh makes it, an LSTM's (h, c) with
    c normal. ``fields``: the rest of the case (``kwargs``, ``names``...,
    :func:`~nlpdojo_autograder.authoring.builders.layer_case`)."""
    return layer_case(vocab, dim, hidden, params={
        name: normal(*shape, scale=_scale(name, std))
        for name, shape in lm_shapes(cell, vocab, dim, hidden).items()},
        inputs=(integers(vocab, batch, steps, repeated=True), _state(cell, batch, hidden)),
        differentiable=(1,),
        **fields)


#: what a failed final_state check of a language model adds: who reads the state (the given
#: scoring, ``lm_training.rnn_log_probs``, and the student's training loop ``{loop}`` carry it
#: into the next window as that window's state) and what it is (``{state}``)
LM_FINAL_STATE_HINT = ("the given rnn_log_probs (lm_training.py) and your {loop} start each "
                       "window from model.final_state(cache) of the window before it: {state}")


def lm_final_state_check(cls: str, make: Callable[[Context], LayerCase], *, loop: str,
                         state: str, title: str, points: float, **options: Any
                         ) -> Check | ForQuestion:
    """The check of the state a language model ``cls`` hands on to the next window
    (:func:`~nlpdojo_autograder.authoring.final_state_check` on its case ``make``), a failure
    saying who reads that state, the given scoring and the student's training ``loop``
    (``"train_rnn_lm"``), and what it is, ``state`` (``"h after the last step, (B, H)"``):
    :data:`LM_FINAL_STATE_HINT`. ``options`` as for ``final_state_check`` (``timeout_s``)."""
    return with_hint(final_state_check(cls, make, title=title, points=points, **options),
                     LM_FINAL_STATE_HINT.format(loop=loop, state=state))
