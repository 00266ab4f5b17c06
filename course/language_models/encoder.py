"""Checks of topic ``language_models``: RNNs as sentence encoders (CS224n lecture 6) and a
sentence classifier on one, trained on MR movie-review sentences (Pang & Lee 2005; Kim 2014).

The encoder takes the layer builders' shape once per pooling (final state, element-wise max,
mean over a sentence's real steps; padded batches of different lengths), so BPTT through a
padded batch, the pooling's backward and the mask are each checked by central differences and
torch autograd. The classifier is then trained under a small fixed budget (the given loop,
grader-side data) and its held-out accuracy, measured by the grader, must be near the
reference's under the same budget and above the majority-class baseline. That training is its
own, integrative question (``sentence_polarity``): it runs the student's whole pipeline, so a bug
in an earlier question may cost points there too, and its hint names the questions to fix.
"""

from __future__ import annotations

from nlpdojo_autograder.authoring import Context, Question, layer_checks
from nlpdojo_autograder.training import (
    TrainingPlan,
    mr_polarity_checks,
    mr_polarity_plan,
    sentence_case,
    sentence_variant,
)
from nlpdojo_course.language_models.rnn import RNN_CELL, SEQUENCE_TIMEOUT_S, TANH_RNN

NN = "neural_networks"
V_E, D_E, H_E, B_E, T_E = 7, 3, 4, 3, 5


def _encoder_case(pooling: str, sizes: tuple[int, ...] = (V_E, D_E, H_E, B_E, T_E),
                  std: float = 0.7, classes: int | None = None):
    """An RNNEncoder's case (the training kit's sentence network over the tanh RNN cell);
    with ``classes``, a SentenceClassifier's: that encoder (its parameters under
    ``encoder.``) and an output layer over its pooled states."""
    return sentence_case(TANH_RNN, *sizes, classes=classes, std=std,
                         prefix="" if classes is None else "encoder.",
                         kwargs={"pooling": pooling})


# -- a real task: sentence polarity (MR) --------------------------------------------------------
#: the quick budget: every training sentence (cut to 40 tokens) once, Adam, batches of 50 of
#: similar lengths (pools of 10 batches sorted by length, ``nlpdojo.training``'s bucketing)
CLASSIFIER = {"dim": 50, "hidden": 50, "pooling": "mean", "epochs": 1, "lr": 0.005,
              "bucketing": 10}


def classifier_shapes(vocab: int, settings: dict, classes: int = 2
                      ) -> dict[str, tuple[int, ...]]:
    """The parameters of a :class:`SentenceClassifier` of these sizes (the given names)."""
    d, h = settings["dim"], settings["hidden"]
    return {"encoder.embedding.weight": (vocab, d), "encoder.cell.weight_e": (d, h),
            "encoder.cell.weight_h": (h, h), "encoder.cell.bias": (h,),
            "output.weight": (h, classes), "output.bias": (classes,)}


def polarity_plan(ctx: Context) -> TrainingPlan:
    """The given loop (the instructor's) trains your SentenceClassifier (your encoder, the
    library's Linear, softmax cross-entropy and Adam) on MR's training split from the grader's
    initial parameters; the grader scores a fresh 80 % of the test split (never sent) and
    compares forwards on 200 training sentences."""
    return mr_polarity_plan(
        ctx, salt=0x3A7, given="sentence_training", options=CLASSIFIER,
        sizes=("dim", "hidden", "pooling"), shapes=lambda v: classifier_shapes(v, CLASSIFIER))


#: (V, D, H, B, T) at scale: 180,482 parameters (builders' ``at_scale``: a backward that
#: differentiates the forward numerically cannot finish there), over a batch of 64 sentences:
#: a backward by central differences of stacked copies of the recurrence (every weight bumped
#: at once, a bump a rank-one term beside one large matrix product a step) took 1.7-1.8 s of
#: CPU at 3 sentences, within twice the time at scale's 1 s floor, and 60-68 s at 64; the
#: honest run 0.05-0.13 s (the reference's 0.015-0.03 s)
CLASSIFIER_AT_SCALE = (4096, 32, 128, 64, 8)


LIBRARY = (f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier", f"{NN}.softmax_ce",
           f"{NN}.adam")

SENTENCE_ENCODER = Question(
    "sentence_encoder", "An RNN sentence encoder: final, max and mean pooling", code="encoder",
    checks=[layer_checks("RNNEncoder", timeout_s=SEQUENCE_TIMEOUT_S,
                         directions=True,  # every parameter a swapped-in layer's: wiring
                         variants={
        pooling: sentence_variant(TANH_RNN, pooling,
                                  f"RNNEncoder, {pooling} pooling over a padded batch", points,
                                  sizes=(V_E, D_E, H_E, B_E, T_E), at_scale=CLASSIFIER_AT_SCALE)
        for pooling, points in (("final", 1.5), ("max", 1.5), ("mean", 1.0))})],
    requires=(RNN_CELL, f"{NN}.embedding"))

SENTENCE_CLASSIFIER = Question(
    "sentence_classifier", "A sentence classifier on the RNN encoder", code="encoder",
    checks=layer_checks("SentenceClassifier",
                        _encoder_case("mean", classes=2), title="SentenceClassifier", points=1.0,
                        repeat=2, timeout_s=SEQUENCE_TIMEOUT_S,
                        directions=True,  # every parameter a swapped-in layer's: wiring
                        # 3 classes at scale: a classifier with 2 written in fails there
                        at_scale=_encoder_case("mean", CLASSIFIER_AT_SCALE, std=0.1,
                                               classes=3)),
    requires=(SENTENCE_ENCODER, RNN_CELL, *LIBRARY))

#: trains the student's own encoder, classifier and library (nothing swapped in: a reference
#: layer called back at every step made one training run 200 s instead of 3 s)
SENTENCE_POLARITY = Question(
    "sentence_polarity", "Sentence polarity of held-out MR sentences (trains your pipeline)",
    integrative=True, datasets=("mr",),
    checks=mr_polarity_checks(
        polarity_plan, title="sentence polarity of held-out MR sentences",
        budget="MR: 8,454 training sentences (40 tokens at most), 1 epoch of Adam "
               "(lr 0.005, batches of 50 of similar lengths), mean pooling, 50-d embeddings "
               "and states",
        hint="the training runs your SentenceClassifier and RNNEncoder on the library's "
             "Embedding, RNNCell, Linear, SoftmaxCrossEntropy and Adam: their own checks say "
             "which one is wrong"))

QUESTIONS = [SENTENCE_ENCODER, SENTENCE_CLASSIFIER, SENTENCE_POLARITY]
