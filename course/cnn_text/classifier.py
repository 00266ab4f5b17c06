"""Kim (2014)'s sentence CNN (CS224n lecture 11): ``SentenceCNN`` checked as a layer over a
padded batch against torch run on each sentence alone, unpadded (``torch.nn.functional.
conv1d`` with k − 1 zeros each side, ReLU, ``amax``, a linear layer): a padded position that
leaks into a sentence's features, or a max over outputs the sentence does not have, cannot
match. Its embedding, convolutions, ReLU, pooling, dropout and Linear are the reference's,
swapped in, so only the wiring is the student's; a second case with dropout on is checked
against the reference. Its case, the multichannel CNN's too, is :mod:`.kim_cases`'."""

from __future__ import annotations

from nlpdojo_autograder.authoring import Context, Question, Variant, layer_checks
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_sentence_cnn
from nlpdojo_autograder.training import TrainingPlan, mr_polarity_checks, mr_polarity_plan
from nlpdojo_course.cnn_text.convolution import CONV1D
from nlpdojo_course.cnn_text.kim_cases import AT_SCALE, DROPOUT, kim_case
from nlpdojo_course.cnn_text.pooling import MAX_OVER_TIME

NN = "neural_networks"


def _torch_cnn(p, ids, lengths, widths):
    """Each sentence alone, unpadded (the engine's ``builders.torch_cnn.torch_sentence_cnn``,
    over the embedding's one channel)."""
    return torch_sentence_cnn(p, ids, lengths, widths, {"tuned": p["embedding.weight"]})


_torch_cnn.label = "torch on each sentence alone"  # type: ignore[attr-defined]


KIM_CNN = Question(
    "kim_cnn", "Kim's CNN over padded sentences", checks=[layer_checks(
        "SentenceCNN", kim_case(0.0), title="SentenceCNN, filter widths drawn, over a padded batch",
        points=2.0, repeat=2, torch=_torch_cnn,
        directions=True,  # every parameter a swapped-in layer's: the wiring is checked
        at_scale=kim_case(0.0, AT_SCALE),
        # with dropout on, the values check alone (outputs and every gradient against the
        # reference, the same masks drawn): where the dropout sits is what it adds; a second
        # call's output too, whose masks must be the next ones (successive)
        variants={"dropout": Variant(
            kim_case(DROPOUT), "SentenceCNN with dropout (its rate drawn) on the pooled features",
            1.0, only=("values",), torch=None, hidden=False, successive=True,
            at_scale=kim_case(DROPOUT, AT_SCALE))})],
    requires=(CONV1D, MAX_OVER_TIME, f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier",
              f"{NN}.relu", f"{NN}.dropout"))


# -- a real task: sentence polarity (MR), Kim's first data set ---------------------------------
#: the quick budget: every training sentence (40 tokens at most) twice, Adam at lr 0.003 in
#: batches of 50 of similar lengths (pools of 10 batches sorted by length,
#: ``nlpdojo.training``'s bucketing: 0.75x the CPU of shuffled ones), 50 filters of each width
#: 3, 4, 5 over 50-d embeddings, dropout 0.5 (Kim 2014, §3.1, but Adam for Adadelta and smaller
#: sizes): 6 s for the reference on one core. The output weights' max norm is 1.5, not Kim's
#: 3: their columns grow from 1.3 to 1.64 with shuffled batches, so 3 never acted and a
#: max-norm that did nothing kept these points; at 1.5 it acts in the second epoch (from step
#: 201 of 340: tests/grading/test_budgets_bind.py). Held-out accuracy 0.787 at the fixtures'
#: seed (0.778 with shuffled batches)
BUDGET = {"dim": 50, "filters": 50, "widths": (3, 4, 5), "dropout": 0.5, "epochs": 2,
          "lr": 0.003, "max_norm": 1.5, "bucketing": 10}
SIZES = ("dim", "filters", "widths", "dropout")


def cnn_shapes(vocab: int, dim: int, filters: int, widths: tuple[int, ...],
               classes: int = 2) -> dict[str, tuple[int, ...]]:
    """The parameters of a :class:`SentenceCNN` of these sizes."""
    shapes: dict[str, tuple[int, ...]] = {"embedding.weight": (vocab, dim)}
    for j, k in enumerate(widths):
        shapes.update({f"convs.{j}.weight": (k, dim, filters), f"convs.{j}.bias": (filters,)})
    return {**shapes, "output.weight": (filters * len(widths), classes),
            "output.bias": (classes,)}


def polarity_plan(ctx: Context) -> TrainingPlan:
    """The given loop trains your SentenceCNN (on your Embedding, Conv1d, ReLU, MaxOverTime,
    Dropout, Linear, softmax cross-entropy, Adam and max-norm constraint) on MR's training
    split from the grader's initial parameters; the grader scores a fresh 80 % of the test
    split (never sent) and compares forwards on 200 training sentences."""
    return mr_polarity_plan(
        ctx, salt=0xC177, given="polarity_training", options=BUDGET, sizes=SIZES,
        shapes=lambda v: cnn_shapes(v, BUDGET["dim"], BUDGET["filters"], BUDGET["widths"]))


#: trains the student's own CNN and library (nothing swapped in)
KIM_POLARITY = Question(
    "kim_polarity", "Sentence polarity of held-out MR sentences with Kim's CNN (trains your "
    "pipeline)", integrative=True, datasets=("mr",),
    checks=mr_polarity_checks(
        polarity_plan,
        title="Kim's CNN: sentence polarity of held-out MR sentences",
        budget="MR: 8,454 training sentences (40 tokens at most), 2 epochs of Adam (lr 0.003, "
               "batches of 50 of similar lengths), 50 filters of widths 3, 4 and 5 over 50-d "
               "embeddings, dropout 0.5, max norm 1.5 on the output weights",
        hint="the training runs your SentenceCNN on your library's Embedding, Conv1d, ReLU, "
             "MaxOverTime, Dropout, Linear, SoftmaxCrossEntropy, Adam and max_norm: their own "
             "checks say which one is wrong"))

QUESTIONS = [KIM_CNN, KIM_POLARITY]
