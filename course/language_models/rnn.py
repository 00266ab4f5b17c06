"""Recurrent neural networks (CS224n lecture 6): the RNN cell of the course library, the RNN over
a sequence (backpropagation through time) and the RNN language model with truncated BPTT over
batched streams.

The layers take the builders' shape (values, gradients of every input and parameter by
central differences of the student's own forward, torch autograd as a second oracle, repeated
application, accumulation); BPTT is checked over several steps, so the gradient of every
repeated weight is the sum over its uses. The RNN LM is then trained under a small fixed
budget and seeds on State of the Union addresses (the given loop, grader-side data,
:mod:`.measure`) and its held-out perplexity, computed by the grader from the
log-probabilities it gives, must be within 5% of the reference's under the same budget and
below the add-one unigram model's.
"""

from __future__ import annotations

from nlpdojo_autograder.authoring import (
    Question,
    Saturated,
    layer_checks,
    sequence_checks,
)
from nlpdojo_autograder.authoring.builders.cases import unroll_case
from nlpdojo_autograder.training import (
    cell_case,
    lm_case,
    lm_final_state_check,
    loop_check,
    sgd_then_adam,
    sotu_perplexity_checks,
    torch_cell,
    torch_lm,
    windows_check,
)
from nlpdojo_course.language_models.measure import HELD_OUT_WHY, RNN_RUN

NN = "neural_networks"
#: the cell of this topic's recurrent models (the cell, the LM, the sentence encoder), as the
#: training kit names the tanh RNN's (its cases, torch forwards and loop oracle)
TANH_RNN = "rnn"
#: the course library's pieces the neural LMs are made of (required: swapped in for the
#: reference in their value and gradient checks; the training runs keep the student's own,
#: since a swapped layer sends its parameters across processes at every step)
LIBRARY = (f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier", f"{NN}.softmax_ce",
           f"{NN}.sgd", f"{NN}.adam")
#: the model-level checks (the RNN LM, the window LM, the sentence encoder) call their
#: swapped-in layers back from the worker at every point their gradient evidence needs, each a
#: round trip to the sandboxed reference process; a limit covers a check's call-backs at 10 ms
#: each (`dojo verify`'s baseline holds every limit to it). The RNN's own checks run over the
#: grader's stand-in cells (sequence_checks) and call nothing back
SEQUENCE_TIMEOUT_S = 150.0


# -- the RNN cell ------------------------------------------------------------------------------
B_CELL, D_CELL, H_CELL = 3, 4, 5
#: (B, D, H) at scale: 295,296 parameters (builders' ``at_scale``: a backward that
#: differentiates the forward numerically cannot finish there)
CELL_AT_SCALE = (128, 384, 384)


#: ``torch.nn.RNNCell`` (tanh) with the cell's weights: W_e, W_h transposed, one bias
TORCH_CELL = torch_cell(TANH_RNN)


# -- the RNN over T steps (BPTT) -----------------------------------------------------------------
T_RNN = 6


#: the RNN over T steps with the grader's stand-in cell in place of its RNNCell
_rnn = unroll_case((B_CELL, T_RNN, D_CELL, H_CELL), "cell", names=("xs", "h0"))


#: (B, T, D, H) at scale: 131,072 input numbers to differentiate (builders' ``at_scale``)
RNN_AT_SCALE = (4, 64, 512, 64)


# -- the RNN LM --------------------------------------------------------------------------------
V_LM, D_LM, H_LM, B_LM, T_LM = 7, 3, 4, 2, 5
_rnn_lm = lm_case(TANH_RNN, V_LM, D_LM, H_LM, B_LM, T_LM)
#: (V, D, H, B, T) at scale: 184,448 parameters (builders' ``at_scale``)
RNN_LM_AT_SCALE = (1024, 32, 128, 32, 8)


#: the usual truncated-BPTT mistakes, as switches of the training kit's oracle
#: (:func:`~nlpdojo_autograder.training.truncated_bptt_losses`), and what to say
BPTT_MISTAKES = {
    "the hidden state not carried across windows: each window must start from the final "
    "state of the window before it (model.final_state(cache)), not from zeros; only the "
    "epoch starts from zeros": {"carry": False},
    "targets not shifted by one: the target of input x⁽ᵗ⁾ is the next token x⁽ᵗ⁺¹⁾, so the "
    "targets are the inputs' window moved one token on": {"shift": 0},
    "the hidden state not reset at each epoch: an epoch reads the text from its start again, "
    "so its first window starts from zeros (model.initial_state), not from the state the "
    "last epoch ended in": {"reset": False},
    "gradients never zeroed: each window's gradients are added to every earlier window's "
    "(backward accumulates into p.grad); call opt.zero_grad() before each window's "
    "backward": {"accumulate": True},
    "the state carried from the window's first step: the next window starts from the last "
    "step's hidden state h⁽ᵀ⁾ (final_state reads hs[:, -1])": {"carried": "first"},
    "the gradient of the window's summed loss, not of its mean: SoftmaxCrossEntropy averages "
    "over the B·T tokens, so backward starts from an upstream gradient of 1 (a student trial's "
    "B·T made SGD's steps that much larger)": {"grad_scale": "tokens"},
    "the gradient of a loss averaged over the batch alone (summed over the T steps): "
    "SoftmaxCrossEntropy averages over all B·T tokens, so backward starts from an upstream "
    "gradient of 1": {"grad_scale": "steps"},
}


RNN_CELL = Question(
    "rnn_cell", "The RNN cell (course library)", code="library/rnn",
    checks=layer_checks("RNNCell", cell_case(TANH_RNN, B_CELL, D_CELL, H_CELL), title="RNNCell",
                        points=2.0, torch=TORCH_CELL,
                        at_scale=cell_case(TANH_RNN, *CELL_AT_SCALE,
                                           std=CELL_AT_SCALE[1] ** -0.5),
                        saturated=Saturated(bias="bias", nonlinearities=("tanh",))),
    requires=(f"{NN}.xavier",))

RNN = Question(
    "rnn", "The RNN over a sequence: backpropagation through time (course library)",
    code="library/rnn",
    checks=sequence_checks("RNN", _rnn, title=f"RNN over {T_RNN} steps (BPTT)",
                           points=2.5,
                           at_scale=unroll_case(RNN_AT_SCALE, "cell", names=("xs", "h0"))),
    requires=(RNN_CELL,))

RNN_LM = Question(
    "rnn_lm", "RNN language model, truncated BPTT over batched streams",
    checks=[
        layer_checks("RNNLM", _rnn_lm, title="RNNLM over 5 steps",
                     points=2.25, torch=torch_lm(TANH_RNN), timeout_s=SEQUENCE_TIMEOUT_S,
                     directions=True,  # every parameter a swapped-in layer's: the wiring
                     at_scale=lm_case(TANH_RNN, *RNN_LM_AT_SCALE, std=0.1)),
        # what a failure adds: the given scoring (lm_training.rnn_log_probs) and the loop
        # carry the state into the next window as that window's h0
        lm_final_state_check("RNNLM", _rnn_lm, loop="train_rnn_lm",
                             state="h after the last step, (B, H)",
                             title="RNNLM.final_state: h after the last step", points=0.25,
                             timeout_s=SEQUENCE_TIMEOUT_S),
        windows_check("windows", "bptt_windows: B streams, windows of T, targets "
                      "shifted by one", 1.0),
        # a few windows of the loop with plain SGD on a random stream, then with Adam, whose
        # state (moments, step count) must live across windows: the loss of every window and
        # the held-out log-probabilities after it (state carried, targets shifted, gradients
        # cut at each window's border)
        loop_check("truncated_bptt", "train_rnn_lm: losses of two epochs of 6 windows of SGD, "
                   "and of Adam, and the held-out log-probabilities after them", 1.0,
                   loop="train_rnn_lm", given="train_and_score", cell=TANH_RNN, held_out=True,
                   options={"model": "rnn", "eval_bptt": 5}, timeout_s=SEQUENCE_TIMEOUT_S,
                   runs=sgd_then_adam({"lr": 0.5}, {"lr": 0.05},
                                      mistakes=BPTT_MISTAKES)),
        sotu_perplexity_checks(
            RNN_RUN, "RNN LM on State of the Union addresses", 3.0,
            budget="State of the Union: 40 addresses, 2,000-token vocabulary, 300 windows of "
                   "20 streams x 20 steps, SGD (lr 0.7)",
            hint="the training runs your RNNLM, bptt_windows and train_rnn_lm with your own "
                 "Embedding, Linear, SoftmaxCrossEntropy and SGD (neural_networks): their own "
                 "checks say which one is wrong", why=HELD_OUT_WHY, own_code=LIBRARY),
    ],
    requires=(RNN, *LIBRARY), datasets=("sotu",))

QUESTIONS = [RNN_CELL, RNN, RNN_LM]
