"""The course's recurrent language models as their checks draw them (CS224n lectures 6-7): the
parameters of a model over each cell, by the course library's names (:func:`lm_shapes`), and a
layer check's case of one (:func:`lm_case`). The one statement of those names that the layer
checks, the torch oracle of the loop (:mod:`.bptt_oracle`), the loop check (:mod:`.loop_runs`)
and a budget's initial parameters (:func:`~.trained.initial_parameters`) read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nlpdojo_autograder.authoring import Context, LayerCase
from nlpdojo_autograder.authoring.builders import layer_case
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
    def scale(name: str) -> float:
        return (std if name.startswith("rnn.cell.weight") else
                0.5 if name.startswith("rnn.cell.") else 1.0)

    state = (states(batch, hidden), normal(batch, hidden)) if cell == "lstm" else \
        states(batch, hidden)
    return layer_case(vocab, dim, hidden, params={
        name: normal(*shape, scale=scale(name))
        for name, shape in lm_shapes(cell, vocab, dim, hidden).items()},
        inputs=(integers(vocab, batch, steps, repeated=True), state), differentiable=(1,),
        **fields)
