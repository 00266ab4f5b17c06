"""The LSTM language model (CS224n lecture 7; Zaremba et al. 2014): ``GatedLM`` checked as a
layer (an LSTM state, dropout on), ``train_gated_lm`` by the losses of a few clipped windows
(with the usual mistakes named against a torch oracle), and the model trained on State of the
Union addresses by the training kit's language-model plan, its perplexity measured by the
grader (the data, sizes and steps of ``language_models``' RNN LM, so the two compare)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo_autograder.authoring import (
    CheckFailure,
    Context,
    Question,
    Variant,
    final_state_check,
    layer_checks,
    metric_checks,
    settings_rng,
    value_check,
    with_hint,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.inputs import integers, normal, setting, states
from nlpdojo_autograder.training import (
    OPTIMIZER_STATE_MISTAKES,
    TRAINED,
    LoopRun,
    TrainingPlan,
    checked_runs,
    language_model_plan,
    measured,
    perplexity_metric,
    require_datasets,
    stream_targets,
    token_streams,
    truncated_bptt_losses,
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


def _lm_at(v: int, d: int, hid: int, b: int, t: int, std: float = 0.7):
    return layer_case(
        v, d, hid, kwargs={"dropout": setting(*DROPOUT)},
        params={"embedding.weight": normal(v, d),
                "rnn.cell.weight_x": normal(d, 4 * hid, scale=std),
                "rnn.cell.weight_h": normal(hid, 4 * hid, scale=std),
                "rnn.cell.bias": normal(4 * hid, scale=0.5),
                "output.weight": normal(hid, v), "output.bias": normal(v)},
        inputs=(integers(v, b, t, repeated=True), (states(b, hid), normal(b, hid))),
        differentiable=(1,), names=("ids", ("h0", "c0")))


#: a GatedLM of GRU cells, whose state is h alone (a GatedLM that handled an LSTM's (h, c) only
#: kept every point where no check built another). Checked by its forward and backward values
#: alone (the GRU cell has checks of its own; the wiring of the state is what this adds), with
#: no case at scale (the LSTM's checks measure the backward there). A stack of two is not
#: checked: the reference Stacked, swapped in, refuses the LSTM layers the GatedLM builds from
#: library/recurrent.py there.
_gru_lm = layer_case(
    V, D, HID, kwargs={"dropout": setting(*DROPOUT), "cell": "gru", "num_layers": 1},
    params={"embedding.weight": normal(V, D),
            "rnn.cell.weight_x": normal(D, 3 * HID, scale=0.7),
            "rnn.cell.weight_h": normal(HID, 3 * HID, scale=0.7),
            "rnn.cell.bias_x": normal(3 * HID, scale=0.5),
            "rnn.cell.bias_h": normal(3 * HID, scale=0.5),
            "output.weight": normal(HID, V), "output.bias": normal(V)},
    inputs=(integers(V, B, T, repeated=True), states(B, HID)),
    differentiable=(1,), names=("ids", "state0"))


_lm = _lm_at(V, D, HID, B, T)
#: (V, D, H, B, T) at scale: 124,160 parameters (builders' ``at_scale``: a backward that
#: differentiates the forward numerically cannot finish there)
AT_SCALE = (1024, 32, 64, 32, 8)


# -- train_gated_lm: a few windows, and the usual mistakes against torch -------------------------
#: CLIP: the gradient's norm exceeds it in some window of every draw (its largest norm over a
#: run was >= 0.25 in 3,000 draws; at 0.3, 2 % of draws never clipped, and the reference's
#: losses were those of the unclipped loop: tests/rnn_variants). LR and CLIP are the nominal
#: settings; a grading draws its own around them, and Adam's learning rate
#: (:func:`windows_settings`)
VOCAB, DIM, HIDDEN, STREAMS, BPTT, LR, CLIP, EPOCHS = 9, 3, 4, 3, 4, 0.5, 0.1, 2


def windows_settings(ctx: Context) -> dict[str, float]:
    """The clipped-windows check's settings, drawn per grading (three digits): SGD's learning
    rate in [0.35, 0.7], the clip in [0.12, 0.24] (below 0.25: every draw clips; the nominal
    0.1 and the budget's 0.25, numbers a loop might write in, outside), Adam's learning rate
    in [0.03, 0.07]. A loop that writes in a setting, or picks it by the batch's size, fails."""
    lr, clip, adam_lr = settings_rng(ctx).uniform((0.35, 0.12, 0.03), (0.7, 0.24, 0.07))
    return {"lr": float(f"{lr:.3g}"), "clip": float(f"{clip:.3g}"),
            "adam_lr": float(f"{adam_lr:.3g}")}


def _windows_init(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"embedding.weight": 0.5 * rng.standard_normal((VOCAB, DIM)),
            "rnn.cell.weight_x": 0.5 * rng.standard_normal((DIM, 4 * HIDDEN)),
            "rnn.cell.weight_h": 0.5 * rng.standard_normal((HIDDEN, 4 * HIDDEN)),
            "rnn.cell.bias": np.zeros(4 * HIDDEN),
            "output.weight": 0.5 * rng.standard_normal((HIDDEN, VOCAB)),
            "output.bias": np.zeros(VOCAB)}


#: the usual mistakes of the loop, as options of :func:`torch_gated_losses`, and what to say
MISTAKES = {
    "a gradient that is not clipped before the step (not at all, or after the optimizer's "
    "step, which then used the unclipped gradient): clip_gradients(model.parameters(), clip) "
    "goes between backward and the optimizer's step": {"clip": None},
    "the cell state not carried across windows: the next window starts from the whole final "
    "state, (h, c), not h with a zero c": {"carry_cell": False},
    "the state not carried across windows: each window starts from the final state of the one "
    "before it (model.final_state(cache)); only the epoch starts from zeros": {"carry": False},
}

def torch_gated_losses(train: np.ndarray, init: dict[str, np.ndarray], *, clip: float | None,
                       lr: float = LR, **settings: Any) -> np.ndarray:
    """The training losses of :data:`VOCAB`-sized truncated BPTT over the LSTM cell with SGD
    (or ``optimizer="adam"``) and global-norm clipping, in torch: the training kit's oracle
    (:func:`~nlpdojo_autograder.training.bptt_oracle.truncated_bptt_losses`), an independent
    oracle of ``train_gated_lm``; ``settings``: the switches of :data:`MISTAKES` and
    :data:`~nlpdojo_autograder.training.OPTIMIZER_STATE_MISTAKES`."""
    return truncated_bptt_losses(train, init, cell="lstm", batch_size=STREAMS, bptt=BPTT,
                                 epochs=EPOCHS, clip=clip, lr=lr, **settings)


def _clipped_windows(ctx: Context) -> dict[str, np.ndarray]:
    """Two epochs of 6 windows of your loop, SGD with the gradient clipped at a norm it
    exceeds, on a random stream: the loss of every window and the trained parameters; then
    the same with Adam and no clipping (clip=None), whose state (moments, step count) must
    live across windows (:func:`checked_runs`: the usual mistakes of each run named against
    the torch oracle). The learning rates and the clip are drawn per grading
    (:func:`windows_settings`)."""
    rng, drawn = ctx.rng(), windows_settings(ctx)
    train, init = rng.integers(0, VOCAB, STREAMS * 25), _windows_init(rng)

    def run(*, lr: float, clip: float | None, optimizer: str = "sgd") -> dict[str, np.ndarray]:
        trained = ctx.given_function("lm_training", "train_lm")(
            ctx.backend, train, vocab_size=VOCAB, seed=0, init=init, dim=DIM, hidden=HIDDEN,
            cell="lstm", batch_size=STREAMS, bptt=BPTT, optimizer=optimizer, lr=lr, clip=clip,
            epochs=EPOCHS)
        if not isinstance(trained, dict) or not {"parameters", "losses"} <= set(trained):
            raise CheckFailure("internal: train_lm returned no parameters and losses")
        return {"training losses": ctx.to_numpy(trained["losses"], "the training losses",
                                                number=True),
                **{f"trained {name}": ctx.to_numpy(value, f"the trained {name}")
                   for name, value in sorted(trained["parameters"].items())}}

    return checked_runs(ctx, run, torch_gated_losses, cell="lstm", train=train, init=init,
                        what="train_gated_lm: your training losses", runs=[
                            LoopRun("sgd", {"lr": drawn["lr"], "clip": drawn["clip"]},
                                    mistakes=MISTAKES),
                            LoopRun("adam", {"optimizer": "adam", "lr": drawn["adam_lr"],
                                             "clip": None},
                                    mistakes=OPTIMIZER_STATE_MISTAKES, label="Adam")])


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


def lm_shapes(vocab: int, dim: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """The parameters of a gated LM with an LSTM (the given constructor's names)."""
    return {"embedding.weight": (vocab, dim), "rnn.cell.weight_x": (dim, 4 * hidden),
            "rnn.cell.weight_h": (hidden, 4 * hidden), "rnn.cell.bias": (4 * hidden,),
            "output.weight": (hidden, vocab), "output.bias": (vocab,)}


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
        shapes=lm_shapes(data.vocab_size, BUDGET["dim"], BUDGET["hidden"]),
        targets=lambda ids: stream_targets(ids, EVAL_STREAMS, EVAL_BPTT))
    hidden = BUDGET["hidden"]
    plan.init["rnn.cell.bias"][hidden:2 * hidden] = 1.0  # the forget gate's
    return plan


#: what a failed final_state check adds: the given scoring (lm_training.rnn_log_probs) and
#: the training loop carry it into the next window as that window's state
FINAL_STATE_HINT = ("the given rnn_log_probs (lm_training.py) and your train_gated_lm start each "
                    "window from model.final_state(cache) of the window before it: the state "
                    "after the last step, in the structure forward takes as its state ((h, c) "
                    "for an LSTM)")

LSTM_LM = Question(
    "lstm_lm", "An LSTM language model: dropout, clipping, the whole state carried",
    checks=[
        layer_checks("GatedLM", _lm, title=f"GatedLM (LSTM, dropout drawn) over {T} steps",
                     points=1.5, timeout_s=TIMEOUT_S, at_scale=_lm_at(*AT_SCALE, std=0.1),
                     directions=True,  # every parameter a swapped-in layer's: the wiring
                     variants={"gru": Variant(
                         _gru_lm, f"GatedLM (gru: 1 layer of GRU cells) over {T} steps", 0.25,
                         only=("values",), hidden=False, at_scale=None)}),
        with_hint(final_state_check(
            "GatedLM", _lm, title="GatedLM.final_state: the (h, c) after the last step",
            points=0.25, timeout_s=TIMEOUT_S), FINAL_STATE_HINT),
        value_check("clipped_windows", "train_gated_lm: the losses and parameters of "
                    "two epochs of 6 windows of SGD, the gradient clipped, and of Adam, not "
                    "clipped", 1.0,
                    _clipped_windows, rtol=1e-6, timeout_s=TIMEOUT_S),
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
