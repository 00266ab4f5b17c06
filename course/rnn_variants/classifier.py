"""The bidirectional LSTM sentence classifier (CS224n lecture 7, "Bidirectional RNNs"; the
BiLSTM-max encoder of Conneau et al. 2017) on MR sentence polarity (Pang and Lee 2005).

``SentenceLSTM`` is checked as a layer over padded batches (max and mean pooling, both
directions; the unidirectional baseline) against ``torch.nn.LSTM(bidirectional=True)`` over
*packed* sequences, torch's own treatment of lengths, so a right-to-left pass that reads the
padding first, or outputs left in reading order, cannot match (its cases and torch forward are
the training kit's sentence network, :func:`~nlpdojo_autograder.training.sentence_case` and
:func:`~nlpdojo_autograder.training.torch_sentence`, as language_models' encoder's are). Then
the student's whole pipeline trains under a small fixed budget as ``language_models``' RNN
encoder does, and the grader scores held-out sentences it never sends.
"""

from __future__ import annotations

from nlpdojo_autograder.authoring import Context, Question, Variant, layer_checks
from nlpdojo_autograder.training import (
    BOTH_WAYS,
    TrainingPlan,
    mr_polarity_checks,
    mr_polarity_plan,
    sentence_variant,
)
from nlpdojo_course.rnn_variants.cells import LSTM_CELL
from nlpdojo_course.rnn_variants.sequences import RECURRENT_Q

NN = "neural_networks"
#: what the classifier is made of (swapped in for the reference in the layer checks; the
#: student's own in the training run)
LIBRARY = (f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier", f"{NN}.softmax_ce",
           f"{NN}.adam", "lstm_cell", "recurrent", "clipping")
V, D, H, B, T, C = 5, 2, 2, 3, 5, 2  # vocabulary, embedding, hidden, batch, steps, classes
#: each LSTM call is one call-back to the reference process, two per direction and application
TIMEOUT_S = 120.0


#: (V, D, H, B, T) at scale of every setting, with AT_SCALE_CLASSES (two classes in every case
#: let a SentenceLSTM with 2 written in keep full marks): 181,123 parameters for the BiLSTM,
#: 156,099 for the LSTM (builders' ``at_scale``: a backward that differentiates the forward
#: numerically cannot finish there), over 64 sentences (as language_models' encoder, where
#: stacked copies of the recurrence, each with one weight bumped, cost 1.7 s at 3 sentences
#: and 60 s at 64)
AT_SCALE, AT_SCALE_CLASSES = (4096, 32, 64, 64, 10), 3


def _variant(bidirectional: bool, pooling: str, points: float) -> Variant:
    """A SentenceLSTM's variant (the training kit's sentence network over LSTM cells, in one
    or both directions): ids from 1 up, so that a word and the padding differ."""
    kind = "BiLSTM" if bidirectional else "LSTM"
    return sentence_variant(
        "lstm", pooling, f"SentenceLSTM, {kind} with {pooling} pooling over a padded batch",
        points, sizes=(V, D, H, B, T), at_scale=AT_SCALE, classes=(C, AT_SCALE_CLASSES),
        cells=BOTH_WAYS[:1 + bidirectional], low=1, names=("ids", "lengths"),
        kwargs={"bidirectional": bidirectional, "pooling": pooling})


# -- a real task: sentence polarity (MR) --------------------------------------------------------
#: the quick budget, as language_models' RNN encoder's: every training sentence (40 tokens at
#: most) once, Adam, batches of 50 of similar lengths (pools of 10 batches sorted by length,
#: ``nlpdojo.training``'s bucketing: 0.6x the CPU of shuffled batches, whose padding made the
#: recurrence run 40 steps a batch where 23 hold words); a BiLSTM of 50 units each way, max
#: pooling; the gradient clipped at 0.5, where it acts in 29 % of the steps (the run's norms
#: are 0.08-3.1, their median 0.37; at 5 it never acted, and a clipping that did nothing kept
#: these points: tests/grading/test_budgets_bind.py). Held-out accuracy 0.795 at the fixtures'
#: seed (0.774 with shuffled batches)
BUDGET = {"dim": 50, "hidden": 50, "bidirectional": True, "pooling": "max", "epochs": 1,
          "lr": 0.005, "clip": 0.5, "bucketing": 10}
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


def open_forget_gates(init: dict) -> dict:
    """``init`` (the classifier's initial parameters, :func:`classifier_shapes`) with both
    directions' forget-gate biases set to one, as the graded run starts; changed in place."""
    hidden = BUDGET["hidden"]
    for side in ("left", "right"):
        init[f"{side}.cell.bias"][hidden:2 * hidden] = 1.0  # the forget gates'
    return init


def polarity_plan(ctx: Context) -> TrainingPlan:
    """The given loop trains your SentenceLSTM (on your Embedding, LSTM cell, unroll, Linear,
    softmax cross-entropy, clipping and Adam) on MR's training split from the grader's initial
    parameters, forget gates at one; the grader scores a fresh 80 % of the test split (never
    sent) and compares forwards on 200 training sentences."""
    plan = mr_polarity_plan(
        ctx, salt=0xB157, given="classifier_training", options=BUDGET, sizes=SIZES,
        shapes=lambda v: classifier_shapes(v, BUDGET["hidden"], BUDGET["dim"]))
    open_forget_gates(plan.init)
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
               "(lr 0.005, batches of 50 of similar lengths, clipping at 0.5), a BiLSTM of 50 "
               "units each way, max pooling, 50-d embeddings",
        hint="the training runs your SentenceLSTM on your library's Embedding, LSTM cell, "
             "Recurrent, Linear, SoftmaxCrossEntropy, clipping and Adam: their own checks say "
             "which one is wrong"))

QUESTIONS = [BILSTM_CLASSIFIER, BILSTM_POLARITY]
