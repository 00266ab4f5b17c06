"""Kim (2014)'s multichannel CNN (CS224n lecture 11, §2.4): ``MultichannelCNN`` checked as a
layer over a padded batch against torch run on each sentence alone, unpadded, with the filter
applied to each channel and the results added, its bias once (``conv1d`` of the static rows
with the bias plus ``conv1d`` of the fine-tuned rows without; ReLU, ``amax``, the linear
layer). The static table comes with the layer's construction (a drawn (V, D) array), the
fine-tuned one is the ``embedding`` parameter, drawn apart from it: a model that reads one
channel twice, or sends the static channel a gradient, cannot match. Its embedding,
convolutions, ReLU, pooling, dropout and Linear are the reference's, swapped in, so only the
wiring is the student's; a second case with dropout on is checked against the reference."""

from __future__ import annotations

import functools

from nlpdojo_autograder.authoring import Question, Variant, layer_checks
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_sentence_cnn
from nlpdojo_course.cnn_text.classifier import NN
from nlpdojo_course.cnn_text.convolution import CONV1D

# Kim's CNN's cases: F ≠ D, and another C at scale (kim_cases says why)
from nlpdojo_course.cnn_text.kim_cases import AT_SCALE, DROPOUT, kim_case
from nlpdojo_course.cnn_text.pooling import MAX_OVER_TIME


def _torch_multichannel(p, ids, lengths, widths, static, *, channels=("static", "tuned"),
                        static_padding=False, **mistake):
    """Each sentence alone, unpadded, the filter applied to each channel and the results added,
    its bias once (the engine's ``builders.torch_cnn.torch_sentence_cnn`` over the static and
    the fine-tuned tables). The keywords are known mistakes' forwards: ``channels`` (one of
    them only), ``static_padding`` (the static channel's padded positions not zeroed),
    ``mistake``: ``bias_twice``, ``pooled_apart``."""
    tables = {"static": static, "tuned": p["embedding.weight"]}
    return torch_sentence_cnn(p, ids, lengths, widths,
                              {name: tables[name] for name in channels},
                              padded=("static",) if static_padding else (), **mistake)


_torch_multichannel.label = "torch on each sentence alone, a filter per channel"  # type: ignore

BIAS_TWICE = ("the bias added once per channel: each filter over both channels is one "
              "convolution of their sum, W ∗ s + W ∗ e + b, not (W ∗ s + b) + (W ∗ e + b)")
TUNED_ONLY = ("the static channel left out: the vectors are the fine-tuned channel's alone; "
              "add the static table's rows (self.static) to them")
STATIC_ONLY = ("the fine-tuned channel left out of the forward: the vectors are the static "
               "table's rows alone; add the Embedding's output to them")
POOLED_APART = ("each channel through its own ReLU and max over time, the pooled features "
                "added: the filter's responses to the two channels are added before the ReLU "
                "and the max")
STATIC_PADDING = ("the static channel's padded positions not zeroed: the padding's rows of "
                  "the static table reach the sentence's last windows; mask the sum of both "
                  "channels")
#: the known mistakes of the forward, by their torch forwards
MISTAKES = {
    BIAS_TWICE: functools.partial(_torch_multichannel, bias_twice=True),
    TUNED_ONLY: functools.partial(_torch_multichannel, channels=("tuned",)),
    STATIC_ONLY: functools.partial(_torch_multichannel, channels=("static",)),
    POOLED_APART: functools.partial(_torch_multichannel, pooled_apart=True, bias_twice=True),
    STATIC_PADDING: functools.partial(_torch_multichannel, static_padding=True)}


MULTICHANNEL_CNN = Question(
    "multichannel_cnn", "Kim's multichannel CNN: a static and a fine-tuned channel",
    code="multichannel", checks=[layer_checks(
        "MultichannelCNN", kim_case(0.0, static=True),
        title="MultichannelCNN, filter widths drawn, over a padded batch", points=2.0,
        repeat=2, torch=_torch_multichannel, forward_mistakes=MISTAKES,
        directions=True,  # every parameter a swapped-in layer's: the wiring is checked
        at_scale=kim_case(0.0, AT_SCALE, static=True),
        variants={"dropout": Variant(
            kim_case(DROPOUT, static=True),
            "MultichannelCNN with dropout (its rate drawn) on the pooled features", 0.5,
            only=("values",), torch=None, hidden=False,
            at_scale=kim_case(DROPOUT, AT_SCALE, static=True))})],
    requires=(CONV1D, MAX_OVER_TIME, f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier",
              f"{NN}.relu", f"{NN}.dropout"))

QUESTIONS = [MULTICHANNEL_CNN]
