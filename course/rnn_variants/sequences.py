"""Cells over sequences (CS224n lectures 6-7): the course library's ``Recurrent`` unroll and
its backpropagation through time for any cell, with a state of one array or a tuple (an
LSTM's); the bidirectional wrapper, the stacked RNN with dropout between its layers and the
densely connected one (each layer reading the inputs and every layer below). All
are checked over the grader's stand-in cells (``sequence_checks``) with a state h and a state
(h, c), so each is graded on its own, whatever the student's cells do; the stacks' cases are
the builders' ``stack_case`` (the course library's layout of a stack)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import Question, Saturated, layer_checks, sequence_checks
from nlpdojo_autograder.authoring.builders import FinalState, layer_case, stack_case
from nlpdojo_autograder.authoring.builders.cases import unroll_case
from nlpdojo_autograder.authoring.inputs import normal, states

B, T, D, H = 3, 5, 4, 5
#: the wrappers' sizes: smaller, since their layers are the reference's, swapped in, and each
#: of their calls is a call-back to the reference process (a limit must cover them:
#: `dojo verify`'s baseline, runtime.callbacks.CALLBACK_BUDGET_S)
BW, TW, DW, HW = 2, 3, 2, 2
#: (B, T, D, H) by the state a check's cells carry: every size varies between a question's
#: checks, so that none can be taken as fixed (an attacker's cells with H = 5 written in kept
#: full marks where every check had H = 5)
UNROLL_SIZES = {"array": (B, T, D, H), "pair": (2, 4, 3, 6)}
WRAPPER_SIZES = {"array": (BW, TW, DW, 3), "pair": (3, 2, 3, HW), "layers": (BW, TW, DW, HW)}
#: their limit and repeats: the stacked RNN's repeated check (2 applications) makes 1,164
#: call-backs, 12 s at 10 ms each
WRAPPER_TIMEOUT_S = 60.0
#: (B, T, D, H) at scale: 131,072 input numbers to differentiate, over stand-in cells
#: (builders' ``at_scale``: a backward that differentiates the forward numerically cannot
#: finish there)
AT_SCALE = (4, 64, 512, 64)


#: ``GRU`` (a ``Recurrent`` over a GRU cell) with the grader's stand-in in place of its cell:
#: only the unroll is the student's
_unroll = unroll_case(UNROLL_SIZES, "cell")


#: what the recurrent question's final_state check adds to a failure: the given
#: ``Recurrent.final_state`` returns ``cache[1]`` of the student's forward (a cache laid out
#: ``(state, caches)`` kept full marks here and crashed later, in the student's own LSTM cell,
#: when a language model carried the list of caches into its next window as a state)
FINAL_STATE_HINT = ("the given Recurrent.final_state returns cache[1] of the cache your "
                    "forward returns, as its docstring says: put the state after the last "
                    "step there, in the state's structure (return outputs, (caches, state))")
#: the final_state check's title: the method is given, the cache it reads the student's
FINAL_STATE_TITLE = ("Recurrent.final_state (given) on your forward's cache: the (h, c) after "
                     "the last step")

RECURRENT_Q = Question(
    "recurrent", "Any cell over a sequence (BPTT)", code="library/recurrent",
    checks=sequence_checks("GRU", _unroll,
                           title="Recurrent over a stand-in cell", points=1.75,
                           states=("array", "pair"),
                           at_scale=unroll_case(AT_SCALE, "cell"),
                           final_state=FinalState(0.25, FINAL_STATE_TITLE, FINAL_STATE_HINT)),
    requires=("neural_networks.xavier",))


#: a stand-in cell in each direction
DIRECTIONS = ("forward_rnn.cell", "backward_rnn.cell")


#: how each wrapper works, told when its values or gradients differ (the stand-in cells'
#: note first): the step-by-step unroll's recipe, which they were told before, is not theirs
BIDIRECTIONAL_RECIPE = (
    "Forward runs forward_rnn on xs and backward_rnn on xs flipped in time, both from state0, "
    "and puts each step's two outputs side by side after flipping backward_rnn's back; "
    "backward splits the output gradient into its two halves, flips the second in time for "
    "backward_rnn's backward and flips the input gradient it returns back, adds the two "
    "input gradients, and adds the two state gradients (state0 fed both layers)")
STACKED_RECIPE = (
    "Forward runs the layers bottom up, each on the outputs of the one below from its own "
    "state (state0[k] for a list, else state0 for every layer), with the connection around "
    "each layer but the first (from its inputs to its outputs) and dropout after every layer "
    "but the top one; backward walks them top down, in the reverse order: the dropout's "
    "backward, the connection's (its input gradient kept aside), the layer's, then the kept "
    "part added to the layer's input gradient, which is the output gradient of the layer "
    "below; dL/dstate0 is a list of the layers' for a list, else their sum")
DENSE_RECIPE = (
    "Forward runs layer k on the inputs and the outputs of layers 0..k-1 side by side (width "
    "D + k·H), from its own state; backward walks the layers top down, splitting the gradient "
    "of layer k's inputs along the last axis into the inputs' share (added into dL/dxs) and "
    "each lower layer's share (added into that layer's output gradient before its own "
    "backward runs); dL/dstate0 is a list of the layers' for a list, else their sum")

BIDIRECTIONAL = Question(
    "bidirectional", "A bidirectional RNN", code="library/deep_rnn",
    checks=sequence_checks("Bidirectional", unroll_case(WRAPPER_SIZES, *DIRECTIONS),
                           title="Bidirectional over stand-in cells", points=1.5,
                           states=("array", "pair"), timeout_s=WRAPPER_TIMEOUT_S, repeat=2,
                           at_scale=unroll_case(AT_SCALE, *DIRECTIONS),
                           recipe=BIDIRECTIONAL_RECIPE),
    requires=(RECURRENT_Q, "neural_networks.xavier"))

# -- residual and highway connections -----------------------------------------------------------
def _highway_at(b: int, t: int, h: int, std: float = 0.7):
    # vectorized over time too: a product a position at a time kept 1.5 of 1.5 (a helper's
    # trial), the batch rule growing the batch only
    return layer_case(h, params={"weight": normal(h, h, scale=std), "bias": normal(h, scale=0.5)},
                      inputs=(normal(b, t, h), states(b, t, h)), differentiable=(0, 1),
                      names=("u", "y"),
                      over_time=lambda factor: (normal(b, t * factor, h),
                                                states(b, t * factor, h)))


_highway = _highway_at(B, T, H)


#: (B, T, H) at scale: 262,656 parameters (builders' ``at_scale``)
HIGHWAY_AT_SCALE = (8, 32, 512)


def _torch_highway(p, u, y):
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    t = torch.sigmoid(u @ p["weight"] + p["bias"])
    return t * y + (1 - t) * u


_residual = layer_case(inputs=(normal(B, T, H), normal(B, T, H)), differentiable=(0, 1),
                       names=("u", "y"))


HIGHWAY = Question(
    "highway", "A highway connection", code="library/deep_rnn",
    checks=layer_checks("Highway", _highway, title="Highway", points=1.5,
                        torch=_torch_highway,
                        at_scale=_highway_at(*HIGHWAY_AT_SCALE, std=HIGHWAY_AT_SCALE[2] ** -0.5),
                        saturated=Saturated(bias="bias", nonlinearities=("sigmoid",))))
RESIDUAL = Question(
    "residual", "A residual connection", code="library/deep_rnn",
    checks=layer_checks("Residual", _residual, title="Residual", points=0.5,
                        parameters=False, hidden=False))


# -- stacked layers ------------------------------------------------------------------------------
#: the connection around the layers of each state kind's checks: every connection asked for
#: in every grading (an attacker's Stacked that wrote the residual connection in kept full
#: marks where no check asked for highway); the number of layers (2 or 3) and the drop rate
#: between them (0.2 to 0.6) are drawn per grading (builders' ``stack_case``)
CONNECTION_OF = {"array": "highway", "pair": "none", "layers": "residual"}


#: an eval-mode run of the stack (an attacker's Stacked kept its dropouts training in eval
#: mode and kept full marks where no check ran it in eval mode)
STACKED_EVAL_HINT = ("in eval mode (model.eval() sets training to False on the stack and on "
                     "every layer it holds, its dropouts among them) nothing is dropped: the "
                     "outputs are the same at every call")


STACKED = Question(
    "stacked", "A stacked RNN with dropout between its layers", code="library/deep_rnn",
    checks=sequence_checks("Stacked", stack_case(WRAPPER_SIZES, connections=CONNECTION_OF),
                           title="Stacked (2 or 3 layers; highway, no and residual "
                                 "connections; dropout drawn) over stand-in cells",
                           points=1.75, states=("array", "pair", "layers"),
                           timeout_s=WRAPPER_TIMEOUT_S, repeat=2, eval_mode=True,
                           directions=True,  # stand-in cells and swapped-in layers: wiring
                           hints={"eval": STACKED_EVAL_HINT},
                           at_scale=stack_case(AT_SCALE, connections=CONNECTION_OF, at_scale=True),
                           final_state=FinalState(0.25), recipe=STACKED_RECIPE),
    requires=(RECURRENT_Q, RESIDUAL, HIGHWAY, "neural_networks.xavier",
              "neural_networks.dropout"))


# -- dense connections --------------------------------------------------------------------------
DENSE = Question(
    "dense", "Dense connections: each layer reads the inputs and every layer below",
    code="library/deep_rnn",
    checks=sequence_checks("DenselyConnected", stack_case(WRAPPER_SIZES, dense=True),
                           title="DenselyConnected (2 or 3 layers) over stand-in cells",
                           points=1.25, states=("array", "pair", "layers"),
                           timeout_s=WRAPPER_TIMEOUT_S, repeat=2,
                           directions=True,  # stand-in cells only: the wiring is checked
                           at_scale=stack_case(AT_SCALE, dense=True, at_scale=True),
                           final_state=FinalState(0.25), recipe=DENSE_RECIPE),
    requires=(RECURRENT_Q, "neural_networks.xavier"))


QUESTIONS = [RECURRENT_Q, BIDIRECTIONAL, RESIDUAL, HIGHWAY, STACKED, DENSE]
