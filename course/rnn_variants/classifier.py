"""The bidirectional LSTM sentence classifier (CS224n lecture 7, "Bidirectional RNNs"; the
BiLSTM-max encoder of Conneau et al. 2017) on MR sentence polarity (Pang and Lee 2005).

``SentenceLSTM`` is checked as a layer over padded batches (max and mean pooling, both
directions; the unidirectional baseline) against ``torch.nn.LSTM(bidirectional=True)`` over
*packed* sequences, torch's own treatment of lengths, so a right-to-left pass that reads the
padding first, or outputs left in reading order, cannot match. Then the student's whole pipeline
trains under a small fixed budget as ``language_models``' RNN encoder does, and the grader
scores held-out sentences it never sends.
"""

from __future__ import annotations

from nlpdojo_autograder.authoring import Context, Question, Variant, layer_checks
from nlpdojo_autograder.authoring.builders import (
    TORCH_DIRECTIONS,
    layer_case,
    torch_layout,
    torch_packed,
    torch_pooled,
)
from nlpdojo_autograder.authoring.inputs import normal, padded_sentences
from nlpdojo_autograder.training import TrainingPlan, mr_polarity_checks, mr_polarity_plan
from nlpdojo_course.rnn_variants.cells import LSTM_CELL
from nlpdojo_course.rnn_variants.sequences import RECURRENT_Q

NN = "neural_networks"
#: what the classifier is made of (swapped in for the reference in the layer checks; the
#: student's own in the training run)
LIBRARY = (f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier", f"{NN}.softmax_ce",
           f"{NN}.adam", "lstm_cell", "recurrent", "clipping")
V, D, H, B, T, C = 5, 2, 2, 3, 5, 2
#: an LSTM cell's parameters, in the order torch_layout takes them
CELL = ("weight_x", "weight_h", "bias")
#: each LSTM call is one call-back to the reference process, two per direction and application
TIMEOUT_S = 120.0


def _case(bidirectional: bool, pooling: str, sizes: tuple[int, int, int, int] = (V, D, H, T),
          std: float = 0.7, batch: int = B, classes: int = C):
    v, d, h, t = sizes
    sides = ("left", "right") if bidirectional else ("left",)
    width = 2 * h if bidirectional else h
    return layer_case(
        v, d, h, classes, kwargs={"bidirectional": bidirectional, "pooling": pooling},
        params={"embedding.weight": normal(v, d),
                **{f"{side}.cell.{name}": draw for side in sides for name, draw in (
                    ("weight_x", normal(d, 4 * h, scale=std)),
                    ("weight_h", normal(h, 4 * h, scale=std)),
                    ("bias", normal(4 * h, scale=0.5)))},
                "output.weight": normal(width, classes), "output.bias": normal(classes)},
        inputs=padded_sentences(v, batch, t, low=1, repeated=True), differentiable=(),
        names=("ids", "lengths"))


#: (V, D, H, T) at scale of every setting, with AT_SCALE_CLASSES (two classes in every case let
#: a SentenceLSTM with 2 written in keep full marks): 181,123 parameters for the BiLSTM,
#: 156,099 for the LSTM (builders' ``at_scale``: a backward that differentiates the forward
#: numerically cannot finish there), over 64 sentences (as language_models' encoder, where
#: stacked copies of the recurrence, each with one weight bumped, cost 1.7 s at 3 sentences
#: and 60 s at 64)
AT_SCALE, AT_SCALE_BATCH, AT_SCALE_CLASSES = (4096, 32, 64, 10), 64, 3


def _torch_classifier(bidirectional: bool, pooling: str):
    """The classifier in torch: ``torch.nn.LSTM`` over packed sequences (each row's real
    steps only, both directions), padded back with zeros, pooled over the real steps."""
    def forward(p, ids, lengths):
        sides = zip(("left", "right"), TORCH_DIRECTIONS[:1 + bidirectional], strict=False)
        weights = {k: w for side, suffix in sides
                   for k, w in torch_layout(*(p[f"{side}.cell.{n}"] for n in CELL),
                                            suffix=suffix).items()}
        hs = torch_packed("LSTM", weights, p["embedding.weight"][ids], lengths)  # (B, T, 2H)
        return torch_pooled(hs, lengths, pooling) @ p["output.weight"] + p["output.bias"]
    forward.label = "torch.nn.LSTM over packed sequences"  # type: ignore[attr-defined]
    return forward


def _variant(bidirectional: bool, pooling: str, points: float) -> Variant:
    kind = "BiLSTM" if bidirectional else "LSTM"
    return Variant(_case(bidirectional, pooling),
                   f"SentenceLSTM, {kind} with {pooling} pooling over a padded batch", points,
                   torch=_torch_classifier(bidirectional, pooling),
                   at_scale=_case(bidirectional, pooling, AT_SCALE, std=0.1,
                                  batch=AT_SCALE_BATCH, classes=AT_SCALE_CLASSES))


# -- a real task: sentence polarity (MR) --------------------------------------------------------
#: the quick budget, as language_models' RNN encoder's: every training sentence (40 tokens at
#: most) once, Adam, batches of 50; a BiLSTM of 50 units each way, max pooling; the gradient
#: clipped at 0.5, where it acts in about a quarter of the steps (the run's norms are 0.06-1.7,
#: their median 0.33; at 5 it never acted, and a clipping that did nothing kept these points:
#: tests/grading/test_budgets_bind.py). Held-out accuracy 0.787 at the default seed
BUDGET = {"dim": 50, "hidden": 50, "bidirectional": True, "pooling": "max", "epochs": 1,
          "lr": 0.005, "clip": 0.5}
SIZES = ("dim", "hidden", "bidirectional", "pooling")


def classifier_shapes(vocab: int, hidden: int, dim: int, classes: int = 2
                      ) -> dict[str, tuple[int, ...]]:
    """The parameters of a bidirectional :class:`SentenceLSTM` of these sizes."""
    shapes: dict[str, tuple[int, ...]] = {"embedding.weight": (vocab, dim)}
    for side in ("left", "right"):
        shapes.update({f"{side}.cell.weight_x": (dim, 4 * hidden),
                       f"{side}.cell.weight_h": (hidden, 4 * hidden),
                       f"{side}.cell.bias": (4 * hidden,)})
    return {**shapes, "output.weight": (2 * hidden, classes), "output.bias": (classes,)}


def polarity_plan(ctx: Context) -> TrainingPlan:
    """The given loop trains your SentenceLSTM (on your Embedding, LSTM cell, unroll, Linear,
    softmax cross-entropy, clipping and Adam) on MR's training split from the grader's initial
    parameters, forget gates at one; the grader scores a fresh 80 % of the test split (never
    sent) and compares forwards on 200 training sentences."""
    plan = mr_polarity_plan(
        ctx, salt=0xB157, given="classifier_training", options=BUDGET, sizes=SIZES,
        shapes=lambda v: classifier_shapes(v, BUDGET["hidden"], BUDGET["dim"]))
    hidden = BUDGET["hidden"]
    for side in ("left", "right"):
        plan.init[f"{side}.cell.bias"][hidden:2 * hidden] = 1.0  # the forget gates'
    return plan


BILSTM_CLASSIFIER = Question(
    "bilstm_classifier", "A bidirectional LSTM sentence classifier over padded sentences",
    code="classifier",
    checks=[layer_checks("SentenceLSTM", repeat=2, timeout_s=TIMEOUT_S,
                         directions=True,  # every parameter a swapped-in layer's: wiring
                         variants={
        "bi_max": _variant(True, "max", 1.5), "bi_mean": _variant(True, "mean", 1.0),
        "uni_max": _variant(False, "max", 0.5)})],
    requires=(LSTM_CELL, RECURRENT_Q, f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier"))

#: trains the student's own classifier and library (nothing swapped in: a reference layer
#: called back at every step would make the run minutes instead of seconds)
BILSTM_POLARITY = Question(
    "bilstm_polarity", "Sentence polarity of held-out MR sentences with a BiLSTM (trains your "
    "pipeline)", integrative=True, datasets=("mr",),
    checks=mr_polarity_checks(
        polarity_plan, title="BiLSTM sentence polarity of held-out MR sentences",
        budget="MR: 8,454 training sentences (40 tokens at most), 1 epoch of Adam "
               "(lr 0.005, batches of 50, clipping at 0.5), a BiLSTM of 50 units each way, "
               "max pooling, 50-d embeddings",
        hint="the training runs your SentenceLSTM on your library's Embedding, LSTM cell, "
             "Recurrent, Linear, SoftmaxCrossEntropy, clipping and Adam: their own checks say "
             "which one is wrong"))

QUESTIONS = [BILSTM_CLASSIFIER, BILSTM_POLARITY]
