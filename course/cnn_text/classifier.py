"""Kim (2014)'s sentence CNN (CS224n lecture 11): ``SentenceCNN`` checked as a layer over a
padded batch against torch run on each sentence alone, unpadded (``torch.nn.functional.
conv1d`` with k − 1 zeros each side, ReLU, ``amax``, a linear layer): a padded position that
leaks into a sentence's features, or a max over outputs the sentence does not have, cannot
match. Its embedding, convolutions, ReLU, pooling, dropout and Linear are the reference's,
swapped in, so only the wiring is the student's; a second case with dropout on is checked
against the reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo_autograder.authoring import (
    Context,
    LayerCase,
    Question,
    Variant,
    layer_checks,
    settings_rng,
)
from nlpdojo_autograder.authoring.inputs import padded_sentences, setting, settled
from nlpdojo_autograder.training import TrainingPlan, mr_polarity_checks, mr_polarity_plan
from nlpdojo_course.cnn_text.convolution import CONV1D
from nlpdojo_course.cnn_text.pooling import MAX_OVER_TIME

NN = "neural_networks"
#: as many filters as embedding dimensions in every case let a SentenceCNN that took one for the
#: other keep full marks, and two classes in every case one with 2 written in: F ≠ D, and
#: the case at scale has another C
V, D, C, F, B, T = 5, 2, 2, 3, 3, 5
#: the filter widths of a grading, one set drawn from these (settings_rng): a SentenceCNN
#: whose pooling lengths were written in for widths (2, 3) kept full marks where every check
#: had (2, 3); no set here starts with (2, 3) nor shares a pattern of lengths with another
WIDTH_SETS = ((1, 3), (2, 4), (3, 4), (1, 2, 4), (1, 3, 4), (2, 4, 5), (3, 5))


def drawn_widths(ctx: Context) -> tuple[int, ...]:
    """The filter widths of this grading's Kim CNN cases (one of :data:`WIDTH_SETS`)."""
    return WIDTH_SETS[int(settings_rng(ctx).integers(len(WIDTH_SETS)))]


#: the word of the one-word sentence (row 1), whatever the draw
LONE_WORD = 1


def cnn_params(rng: np.random.Generator, widths: tuple[int, ...], d: int, f: int,
               classes: int, std: float) -> dict[str, np.ndarray]:
    """The convolutions' and the output layer's parameters of a case, drawn after the
    embedding. Filter 0 of every width answers the one-word sentence (whose word's vector the
    case makes all ones) below its own bias, so the padding's outputs (ReLU of the bias) would
    win its max on every draw; its taps are of unequal weight: equal ones would tie windows of
    the same words in another order, and a gradient check at a tie of the max differentiates a
    kink."""
    params = {}
    for j, k in enumerate(widths):
        params[f"convs.{j}.weight"] = std * rng.standard_normal((k, d, f))
        params[f"convs.{j}.bias"] = 0.3 * rng.standard_normal(f)
    for j, k in enumerate(widths):
        params[f"convs.{j}.weight"][:, :, 0] = -0.8 - 0.15 * np.arange(k)[:, None]
        params[f"convs.{j}.bias"][0] = 1.0
    return {**params, "output.weight": rng.standard_normal((f * len(widths), classes)),
            "output.bias": rng.standard_normal(classes)}


def kim_case(dropout: Any, scaled: bool = False, static: bool = False):
    """The layer case of Kim's CNN, at :data:`AT_SCALE`'s sizes where ``scaled``; ``dropout``
    a rate, or a ``setting`` drawn per grading. ``static``: the multichannel CNN's, its static
    table (an argument) drawn before the fine-tuned one, the one-word sentence's vector split
    between them."""
    (v, d, f, t), b, classes, std = ((AT_SCALE, AT_SCALE_BATCH, AT_SCALE_CLASSES, 0.1) if scaled
                                     else ((V, D, F, T), B, C, 0.7))

    def make(ctx: Context) -> LayerCase:
        rng, widths = ctx.rng(), drawn_widths(ctx)
        tables = [rng.standard_normal((v, d)) for _ in range(1 + static)]  # [static,] tuned
        params = {"embedding.weight": tables[-1], **cnn_params(rng, widths, d, f, classes, std)}
        # the word's vector, the channels added, is all ones: see cnn_params
        for table, share in zip(tables, (0.4, 0.6) if static else (1.0,), strict=True):
            table[LONE_WORD] = share
        return LayerCase(args=(ctx.backend, ctx.asarray(tables[0]), classes) if static
                         else (ctx.backend, v, d, classes),
                         kwargs={"widths": widths, "filters": f, "dropout": settled(ctx, dropout)},
                         torch_kwargs={"widths": widths, **({"static": tables[0]} if static
                                                            else {})},
                         sizes=frozenset({"filters"}), params=params,
                         # row 1 a single word, shorter than every filter: only the wide
                         # convolution's zeros give it windows
                         inputs=padded_sentences(v, b, t, low=1, lone_word=LONE_WORD),
                         differentiable=(), names=("ids", "lengths"))
    return make


#: (V, D, F, T) at scale, with AT_SCALE_CLASSES: about 140,000 parameters (builders'
#: ``at_scale``: a backward that differentiates the forward numerically cannot finish there),
#: over a batch of 256
#: sentences, so that the reference's CPU time there is its arithmetic: at 3 sentences it was
#: the fixed cost of a call, and an attacker's backward by forwards on bumps (a row of the
#: output layer for every class, a filter bank's row for every filter, a word's row for all
#: its occurrences) ran in 0.04-0.22 s, under the 1 s floor (3 of 3)
AT_SCALE, AT_SCALE_BATCH, AT_SCALE_CLASSES = (4096, 32, 40, 10), 256, 3


def _torch_cnn(p, ids, lengths, widths):
    """Each sentence alone, unpadded: wide ``conv1d`` per width, ReLU, max over its outputs,
    the features side by side, the linear layer (no dropout)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    rows = []
    for b in range(ids.shape[0]):  # the oracle's loop: each sentence on its own
        vectors = p["embedding.weight"][ids[b, :int(lengths[b])]]  # (L, D)
        features = [torch.relu(torch.nn.functional.conv1d(
            vectors.T[None], p[f"convs.{j}.weight"].permute(2, 1, 0), p[f"convs.{j}.bias"],
            padding=k - 1)[0]).amax(1) for j, k in enumerate(widths)]  # (F,) each
        rows.append(torch.cat(features) @ p["output.weight"] + p["output.bias"])
    return torch.stack(rows)  # (B, C)


_torch_cnn.label = "torch on each sentence alone"  # type: ignore[attr-defined]


#: the dropout check's rate, drawn per grading from a range that leaves out Kim's 0.5 (a number
#: a model might write in)
DROPOUT = setting(0.25, 0.45)


KIM_CNN = Question(
    "kim_cnn", "Kim's CNN over padded sentences", checks=[layer_checks(
        "SentenceCNN", kim_case(0.0), title="SentenceCNN, filter widths drawn, over a padded batch",
        points=2.0, repeat=2, torch=_torch_cnn,
        directions=True,  # every parameter a swapped-in layer's: the wiring is checked
        at_scale=kim_case(0.0, scaled=True),
        # with dropout on, the values check alone (outputs and every gradient against the
        # reference, the same masks drawn): where the dropout sits is what it adds
        variants={"dropout": Variant(
            kim_case(DROPOUT), "SentenceCNN with dropout (its rate drawn) on the pooled features",
            1.0, only=("values",), torch=None, hidden=False,
            at_scale=kim_case(DROPOUT, scaled=True))})],
    requires=(CONV1D, MAX_OVER_TIME, f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier",
              f"{NN}.relu", f"{NN}.dropout"))


# -- a real task: sentence polarity (MR), Kim's first data set ---------------------------------
#: the quick budget: every training sentence (40 tokens at most) twice, Adam at lr 0.003 in
#: batches of 50, 50 filters of each width 3, 4, 5 over 50-d embeddings, dropout 0.5 (Kim 2014,
#: §3.1, but Adam for Adadelta and smaller sizes): 9 s for the reference on one core. The
#: output weights' max norm is 1.5, not Kim's 3: their columns grow from 1.3 to 1.64 in this
#: run, so 3 never acted and a max-norm that did nothing kept these points; at 1.5 it acts in
#: the second epoch (tests/grading/test_budgets_bind.py). Held-out accuracy 0.785 at the
#: default seed
BUDGET = {"dim": 50, "filters": 50, "widths": (3, 4, 5), "dropout": 0.5, "epochs": 2,
          "lr": 0.003, "max_norm": 1.5}
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
               "batches of 50), 50 filters of widths 3, 4 and 5 over 50-d embeddings, dropout "
               "0.5, max norm 1.5 on the output weights",
        hint="the training runs your SentenceCNN on your library's Embedding, Conv1d, ReLU, "
             "MaxOverTime, Dropout, Linear, SoftmaxCrossEntropy, Adam and max_norm: their own "
             "checks say which one is wrong"))

QUESTIONS = [KIM_CNN, KIM_POLARITY]
