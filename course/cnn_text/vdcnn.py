"""A very deep CNN for text (CS224n lecture 11, §4.1-4.4; Conneau et al. 2017): ``VeryDeepCNN``
checked as a layer in training mode over a padded batch against the same network in
``torch.nn.functional`` on the same parameters (``embedding``, ``conv1d``, ``batch_norm``,
``relu``, ``max_pool1d`` between the stages with the course's masking, the k largest of a
stable sort put back in sentence order at the top, ``linear``), with a second torch case of
three stages and two blocks a stage. Its embedding, convolutions, residual blocks, poolings,
ReLU and Linear layers are the reference's, swapped in, so only the wiring is the student's:
where the length is halved, which lengths each pooling masks with, and the way back."""

from __future__ import annotations

from functools import partial

from nlpdojo_autograder.authoring import Parity, Question, layer_checks
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_residual_block
from nlpdojo_autograder.authoring.builders.torch_stack import (
    TorchStack,
    convolved,
    embedded,
    fan_in_layer,
    kmax_flat,
    linear,
    local_max,
    stage_params,
    stages,
)
from nlpdojo_autograder.authoring.inputs import fan_in_normal, normal, padded_sentences

from .convolution import CONV1D
from .normalization import BATCH_NORM
from .pooling import K_MAX, LOCAL_MAX
from .residual import RESIDUAL_BLOCK

NN = "neural_networks"
#: the pooling between stages: the paper's width 3, stride 2
WIDTH, STRIDE = 3, 2
#: the case: V words of D dimensions, C classes; two stages (3 and 4 channels: the first
#: block keeps the first convolution's channels, an identity shortcut, the second widens them,
#: a projection), a block each, k = 2 of the 5 positions left of T = 11 by one pooling, 5
#: hidden units. D = k here: the case at scale has them otherwise (16 and 4)
CASE = {"V": 7, "D": 2, "C": 3, "channels": (3, 4), "blocks": 1, "k": 2, "hidden": 5,
        "batch": (3, 11)}
#: the torch check's case: three stages, two blocks each (identity shortcuts after the first
#: of a stage), k = 3 of the 4 positions left of T = 20 by two poolings
TORCH_CASE = {"V": 9, "D": 3, "C": 2, "channels": (2, 3, 4), "blocks": 2, "k": 3,
              "hidden": 4, "batch": (4, 20)}
#: at scale: 156,869 parameters (builders' ``at_scale``: at least 100,000), most in the
#: convolutions, over 24 texts of 40 positions (40, 19, 9 across the stages); three blocks a
#: stage, another k and another count of stages than the case's, so that a number written in
#: is caught
AT_SCALE = {"V": 300, "D": 16, "C": 5, "channels": (32, 48, 64), "blocks": 3, "k": 4,
            "hidden": 48, "batch": (24, 40)}


def _case(sizes: dict):
    """The layer's case at ``sizes``: the network's parameters by name, in the order they are
    drawn (weights at 1/√fan-in, the embedding at unit scale, batch norms' scales in [0.5,
    1.5]; a stage's first block takes the last stage's channels), and padded sentences of ids
    in [1, V) (id 0 pads; row 0 full, row 1 one word)."""
    v, d, classes, (b, t) = sizes["V"], sizes["D"], sizes["C"], sizes["batch"]
    kwargs = {name: sizes[name] for name in ("channels", "blocks", "k", "hidden")}
    channels, blocks, k, hidden = kwargs.values()
    params = {"embedding.weight": normal(v, d), **fan_in_layer("first", 3, d, channels[0]),
              **stage_params("stages", channels, blocks, 3, shortcut=fan_in_normal),
              **fan_in_layer("fc.0", k * channels[-1], hidden),
              **fan_in_layer("fc.1", hidden, hidden),
              **fan_in_layer("output", hidden, classes)}
    return layer_case(v, d, classes, kwargs=kwargs, sizes=frozenset(kwargs), params=params,
                      inputs=padded_sentences(v, b, t, low=1), differentiable=(),
                      names=("ids", "lengths"),
                      # texts 3 times as long (the scores, (B, C), are not)
                      over_time=lambda factor: padded_sentences(v, b, t * factor, low=1))


#: the pooling between the stages (the next stage's lengths ⌈L / 2⌉)
POOLING = local_max(WIDTH, STRIDE)
#: the stages of residual blocks, named ``stages.{s}.{j}.``; what runs between them (and
#: whether after the last) is the forward's or a mistake's
STAGES = partial(stages, "stages", torch_residual_block)
#: the network in ``torch.nn.functional`` on (B, T) ids, declared as a stack of steps
#: (``builders.torch_stack``; each block ``builders.torch_cnn.torch_residual_block``, the
#: residual block's forward): the stages, blocks and k read from the parameters' names and
#: shapes
_torch_vdcnn = TorchStack(
    "the network in torch.nn.functional",
    embedding=embedded("embedding.weight"),  # (B, T, D), the padding's vectors zeroed
    first=convolved("first", padding=1),  # (B, T, C_0)
    stages=STAGES(between=POOLING),  # (B, T_last, C_last)
    top=kmax_flat("fc.0"),  # (B, k·C_last), position by position
    hidden=linear("fc.0", "fc.1", relu=True),  # (B, hidden)
    output=linear("output"))  # (B, classes)


#: the known mistakes of the forward, by their torch forwards: the stack with a step
#: declared otherwise
MISTAKES = {
    "no pooling between the stages (a LocalMaxPooling(3, 2) after every stage but the last "
    "halves the length)": _torch_vdcnn.but(stages=STAGES()),
    "a pooling after the last stage too (the k-max pooling takes the last stage's output as "
    "it is)": _torch_vdcnn.but(stages=STAGES(between=POOLING, after_last=True)),
    "the sentences' own lengths kept after a pooling (each pooling leaves ⌈L / 2⌉ real "
    "positions: pool.output_lengths(lengths, T) gives them to the next pooling)":
        _torch_vdcnn.but(stages=STAGES(between=local_max(WIDTH, STRIDE,
                                                           shortened=lambda n: n))),
    "the pooled lengths rounded down, L // 2 (a window that starts at a sentence's last "
    "position is real too: ⌈L / 2⌉ windows, pool.output_lengths)":
        _torch_vdcnn.but(stages=STAGES(between=local_max(WIDTH, STRIDE,
                                                           shortened=lambda n: n // 2))),
    "the k-max pooling over every position, the padding's too (give it the lengths that "
    "reach the top)": _torch_vdcnn.but(top=kmax_flat("fc.0", real_only=False)),
    "the padded positions' vectors not zeroed (multiply the embeddings by the mask of real "
    "positions, as in Kim's CNN)":
        _torch_vdcnn.but(embedding=embedded("embedding.weight", zero_padding=False)),
    "the k-max output flattened channel by channel, as torch's (B, C, k) would be (reshape "
    "the library's (B, k, C) as it is)":
        _torch_vdcnn.but(top=kmax_flat("fc.0", channel_first=True)),
    "no ReLU after the hidden layers (Linear, ReLU, Linear, ReLU, then the output layer)":
        _torch_vdcnn.but(hidden=linear("fc.0", "fc.1")),
}

VDCNN = Question(
    "vdcnn", "A very deep CNN for text: residual stages, pooling between them, k-max at the "
    "top", checks=layer_checks(
        "VeryDeepCNN", _case(CASE), title="VeryDeepCNN, two stages, over a padded batch",
        points=2.0, repeat=2, torch=_torch_vdcnn, forward_mistakes=MISTAKES, directions=True,
        # every layer the reference's, called back through the grader (swap-in), so the
        # gradient checks difference the parameters along random directions: 814 and 1,321
        # call-backs (one call, two calls), at the 10 ms a call-back `dojo verify` holds a
        # limit to
        timeout_s=30.0, at_scale=_case(AT_SCALE),
        parity=Parity(_case(TORCH_CASE), "VeryDeepCNN, three stages of two blocks, against "
                      "torch", 0.5)),
    requires=(RESIDUAL_BLOCK, LOCAL_MAX, K_MAX, CONV1D, BATCH_NORM, f"{NN}.embedding",
              f"{NN}.affine", f"{NN}.xavier", f"{NN}.relu"))

QUESTIONS = [VDCNN]
