"""The LSTM language model (CS224n lecture 7; Zaremba et al. 2014): ``GatedLM`` checked as a
layer (an LSTM state, dropout on), ``train_gated_lm`` by the losses of a few clipped windows
(with the usual mistakes named against a torch oracle), and the model trained on State of the
Union addresses by the training kit's language-model plan, its perplexity measured by the
grader (the data, sizes and steps of ``language_models``' RNN LM, so the two compare)."""

from __future__ import annotations

import functools

from nlpdojo_autograder.authoring import (
    Context,
    Question,
    Variant,
    layer_checks,
    metric_checks,
)
from nlpdojo_autograder.authoring.inputs import setting
from nlpdojo_autograder.training import (
    TRAINED,
    TrainingPlan,
    language_model_plan,
    lm_case,
    lm_final_state_check,
    lm_shapes,
    loop_check,
    measured,
    perplexity_metric,
    require_datasets,
    sgd_then_adam,
    stream_targets,
    token_streams,
)
from nlpdojo_course.rnn_variants.cells import GRU_CELL, LSTM_CELL
from nlpdojo_course.rnn_variants.clipping import CLIP
from nlpdojo_course.rnn_variants.sequences import RECURRENT_Q

NN = "neural_networks"
#: what the LM is made of: required (swapped in for the reference in the layer check), and
#: the student's own in the training runs (``own_code``)
LIBRARY = (f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier", f"{NN}.dropout",
           f"{NN}.softmax_ce", f"{NN}.sgd", f"{NN}.adam", LSTM_CELL, RECURRENT_Q, CLIP)
V, D, HID, B, T = 5, 2, 3, 2, 4
#: the layer checks' dropout rate is drawn per grading between these (one written in fails)
DROPOUT = (0.3, 0.6)
#: the budget's time limit: an LSTM step costs about four RNN steps
TIMEOUT_S = 120.0


_lm_at = functools.partial(lm_case, "lstm", kwargs={"dropout": setting(*DROPOUT)},
                           names=("ids", ("h0", "c0")))
_lm = _lm_at(V, D, HID, B, T)
#: (V, D, H, B, T) at scale: 124,160 parameters (builders' ``at_scale``: a backward that
#: differentiates the forward numerically cannot finish there)
AT_SCALE = (1024, 32, 64, 32, 8)

#: a GatedLM of GRU cells, whose state is h alone (a GatedLM that handled an LSTM's (h, c) only
#: kept every point where no check built another). Checked by its forward and backward values
#: alone (the GRU cell has checks of its own; the wiring of the state is what this adds), with
#: no case at scale (the LSTM's checks measure the backward there). A stack of two is not
#: checked: the reference Stacked, swapped in, refuses the LSTM layers the GatedLM builds from
#: library/recurrent.py there.
_gru_lm = lm_case("gru", V, D, HID, B, T, names=("ids", "state0"),
                  kwargs={"dropout": setting(*DROPOUT), "cell": "gru", "num_layers": 1})


# -- train_gated_lm: a few windows, and the usual mistakes against torch -------------------------
#: the nominal settings of the clipped-windows check, whose gradings draw their own around them
#: (three digits, each a setting of its :class:`LoopRun`): SGD's learning rate in [0.35, 0.7],
#: the clip in [0.12, 0.24], Adam's learning rate in [0.03, 0.07] (a loop that writes in a
#: setting, or picks it by the batch's size, fails). The clip stays below 0.25: the gradient's
#: norm exceeds it in some window of every draw (its largest norm over a run was >= 0.25 in
#: 3,000 draws; at 0.3, 2 % of draws never clipped, and the reference's losses were those of
#: the unclipped loop: tests/rnn_variants); the nominal 0.1 and the budget's 0.25, numbers a
#: loop might write in, lie outside
NOMINAL = {"lr": 0.5, "clip": 0.1}

#: the usual mistakes of the loop, as switches of the training kit's oracle
#: (:func:`~nlpdojo_autograder.training.truncated_bptt_losses`), and what to say
MISTAKES = {
    "a gradient that is not clipped before the step (not at all, after the optimizer's step, "
    "which then used the unclipped gradient, or a part of the parameters alone, whose norm "
    "stayed under the clip): clip_gradients(model.parameters(), clip), one norm over every "
    "parameter, goes between backward and the optimizer's step": {"clip": None},
    "the cell state not carried across windows: the next window starts from the whole final "
    "state, (h, c), not h with a zero c": {"carry_cell": False},
    "the state not carried across windows: each window starts from the final state of the one "
    "before it (model.final_state(cache)); only the epoch starts from zeros": {"carry": False},
}


# -- the model trained on State of the Union, measured by the grader ---------------------------
#: the data, sizes and steps of language_models' RNN LM (its measure.py), the cell an LSTM, Adam
#: at lr 0.01 (which made the tanh RNN's state dynamics chaotic), and the gradient clipped at
#: 0.25: the run's global norms are 0.16-0.95, their median 0.21, so clipping acts in about a
#: third of the steps, from the third window on (at Zaremba et al.'s 5 it never did, and a
#: clipping that did nothing kept these points: tests/grading/test_budgets_bind.py). The
#: reference reaches held-out perplexity 76.5 at the default seed (82.7 clipped at 5); with SGD
#: at lr 1 the LSTM is still at 191 after these 300 steps, at lr 3 at 119
NEURAL_DATA = {"train_texts": 40, "vocab_size": 2000}
EVAL_STREAMS, EVAL_BPTT = 10, 50
BUDGET = {"dim": 32, "hidden": 64, "cell": "lstm", "dropout": 0.0, "batch_size": 20,
          "bptt": 20, "optimizer": "adam", "lr": 0.01, "clip": 0.25, "epochs": 1,
          "max_windows": 300, "eval_bptt": EVAL_BPTT}


def lm_plan(ctx: Context) -> TrainingPlan:
    """The budget's run on State of the Union: the training text and the grader's initial
    parameters go to the worker; a held-out stretch of the test split (never sent) is scored
    by the grader. The LSTM's bias starts with the forget gate at one, as ``lstm_bias``."""
    require_datasets(["sotu"])
    data = token_streams("sotu", **NEURAL_DATA)
    sizes = {k: BUDGET[k] for k in ("dim", "hidden", "cell", "dropout", "eval_bptt")}
    plan = language_model_plan(
        ctx, data, salt=0x157A, train=("lm_training", "train_lm"),
        score=("lm_training", "score_lm"),
        options={"vocab_size": data.vocab_size, **BUDGET},
        score_options={"vocab_size": data.vocab_size, **sizes},
        shapes=lm_shapes("lstm", data.vocab_size, BUDGET["dim"], BUDGET["hidden"]),
        targets=lambda ids: stream_targets(ids, EVAL_STREAMS, EVAL_BPTT))
    hidden = BUDGET["hidden"]
    plan.init["rnn.cell.bias"][hidden:2 * hidden] = 1.0  # the forget gate's
    return plan


#: what a failed final_state check adds (the training kit's lm_final_state_check: the given
#: scoring, lm_training.rnn_log_probs, and the training loop carry it into the next window as
#: that window's state): the state it is
FINAL_STATE = ("the state after the last step, in the structure forward takes as its state "
               "((h, c) for an LSTM)")

LSTM_LM = Question(
    "lstm_lm", "An LSTM language model: dropout, clipping, the whole state carried",
    checks=[
        layer_checks("GatedLM", _lm, title=f"GatedLM (LSTM, dropout drawn) over {T} steps",
                     points=1.5, timeout_s=TIMEOUT_S, at_scale=_lm_at(*AT_SCALE, std=0.1),
                     directions=True,  # every parameter a swapped-in layer's: the wiring
                     variants={"gru": Variant(
                         _gru_lm, f"GatedLM (gru: 1 layer of GRU cells) over {T} steps", 0.25,
                         only=("values",), hidden=False, at_scale=None)}),
        lm_final_state_check("GatedLM", _lm, loop="train_gated_lm", state=FINAL_STATE,
                             title="GatedLM.final_state: the (h, c) after the last step",
                             points=0.25, timeout_s=TIMEOUT_S),
        # two epochs of 6 windows of the loop, SGD with the gradient clipped at a norm it
        # exceeds, on a random stream: the loss of every window and the trained parameters;
        # then Adam, not clipped (clip=None), whose state (moments, step count) must live
        # across windows. The learning rates and the clip are drawn per grading
        loop_check("clipped_windows", "train_gated_lm: the losses and parameters of two "
                   "epochs of 6 windows of SGD, the gradient clipped, and of Adam, not clipped",
                   1.0, loop="train_gated_lm", given="train_lm", cell="lstm",
                   options={"cell": "lstm"}, timeout_s=TIMEOUT_S, runs=sgd_then_adam(
                       {"lr": setting(0.35, 0.7), "clip": setting(0.12, 0.24, 1)},
                       {"lr": setting(0.03, 0.07, 2), "clip": None},
                       mistakes=MISTAKES)),
    ],
    requires=(*LIBRARY, GRU_CELL))

#: trains the student's own LM, loop and library (nothing swapped in: a reference layer called
#: back at every step would make the run minutes instead of seconds), so a mistake in the
#: topic's cells or clipping costs points here too, as intended
LSTM_LM_PERPLEXITY = Question(
    "lstm_lm_perplexity", "The LSTM LM trained on State of the Union addresses (trains your "
    "pipeline)", integrative=True, datasets=("sotu",),
    checks=metric_checks(
        "sotu", measured(lm_plan), [perplexity_metric(
            "LSTM LM on State of the Union addresses", 2.0, why=(
                "does the model see the token it predicts? The targets are the inputs shifted "
                "by one token"))],
        budget="State of the Union: 40 addresses, 2,000-token vocabulary, 300 windows of 20 "
               "streams x 20 steps, an LSTM of 64 units, Adam (lr 0.01), clipping at 0.25",
        hint="the training runs your GatedLM and train_gated_lm with your library's Embedding, "
             "LSTM, Linear, SoftmaxCrossEntropy, clipping and Adam: their own checks say which "
             "one is wrong", timeout_s=600, **TRAINED))

QUESTIONS = [LSTM_LM, LSTM_LM_PERPLEXITY]
