"""Cells over sequences (CS224n lectures 6-7): the course library's ``Recurrent`` unroll and
its backpropagation through time for any cell, with a state of one array or a tuple (an
LSTM's). Checked over the grader's stand-in cells (``sequence_checks``): a state h and a state
(h, c), so the unroll is graded on its own whatever the student's cells do."""

from __future__ import annotations

from nlpdojo_autograder.authoring import (
    Context,
    LayerCase,
    Question,
    bug,
    sequence_checks,
    stand_in_cell,
    state_of,
)

RECURRENT = "..library.recurrent"
B, T, D, H = 3, 5, 4, 5


def _unroll(ctx: Context, kind: str) -> LayerCase:
    """``GRU`` (a ``Recurrent`` over a GRU cell) with the grader's stand-in in place of its
    cell: only the unroll is the student's."""
    return LayerCase(args=(ctx.backend, D, H), params={}, names=("xs", "state0"),
                     inputs=lambda r: (r.standard_normal((B, T, D)), state_of(kind, r, (B, H))),
                     differentiable=(0, 1), cells={"cell": stand_in_cell(kind, D, H)})


RECURRENT_Q = Question(
    "recurrent", "Any cell over a sequence (BPTT)", code="library/recurrent",
    checks=sequence_checks("recurrent", RECURRENT, "GRU", _unroll,
                           title="Recurrent over a stand-in cell", points=2.0,
                           states=("array", "pair")),
    planted_bugs=[
        bug("BPTT: the state's gradient from the next step dropped", RECURRENT,
            "with_first(grad_state, grad_output[:, t, :])",
            "with_first(zeros_like_state(xp, final), grad_output[:, t, :])", "recurrent"),
        bug("the whole state output at each step (only an array state works)", RECURRENT,
            "outputs.append(first(state))", "outputs.append(state)", "recurrent")],
    requires=("neural_networks.xavier",))

QUESTIONS = [RECURRENT_Q]
