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
from nlpdojo_autograder.authoring.builders.padded import torch_real
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_conv, torch_kmax, torch_local_max
from nlpdojo_autograder.authoring.inputs import fan_in_normal, normal, padded_sentences

from .convolution import CONV1D
from .normalization import BATCH_NORM
from .pooling import K_MAX, LOCAL_MAX
from .residual import RESIDUAL_BLOCK, _torch_block, block_params, fan_in_layer

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
    1.5]), and padded sentences of ids in [1, V) (id 0 pads; row 0 full, row 1 one word)."""
    v, d, classes, (b, t) = sizes["V"], sizes["D"], sizes["C"], sizes["batch"]
    kwargs = {name: sizes[name] for name in ("channels", "blocks", "k", "hidden")}
    channels, blocks, k, hidden = kwargs.values()
    params = {"embedding.weight": normal(v, d), **fan_in_layer("first", 3, d, channels[0])}
    for s, c in enumerate(channels):
        for j in range(blocks):  # a stage's first block takes the last stage's channels
            c_in = channels[max(s - 1, 0)] if j == 0 else c
            params.update(block_params(c_in, c, 3, f"stages.{s}.{j}.", fan_in_normal))
    params.update({**fan_in_layer("fc.0", k * channels[-1], hidden),
                   **fan_in_layer("fc.1", hidden, hidden),
                   **fan_in_layer("output", hidden, classes)})
    return layer_case(v, d, classes, kwargs=kwargs, sizes=frozenset(kwargs), params=params,
                      inputs=padded_sentences(v, b, t, low=1), differentiable=(),
                      names=("ids", "lengths"),
                      # texts 3 times as long (the scores, (B, C), are not)
                      over_time=lambda factor: padded_sentences(v, b, t * factor, low=1))


def _torch_vdcnn(p, ids, lengths, *, zero_padding=True, pool=True, pool_last=False,
                 halve=lambda n: (n + 1) // 2, kmax_real=True, channel_first=False,
                 fc_relu=True):
    """The network in ``torch.nn.functional`` on (B, T) ids (``builders.torch_cnn``, the residual
    block's torch forward); the stages, blocks and k read from the parameters' names and
    shapes. Each keyword, set otherwise, is a known mistake's forward: ``zero_padding`` off,
    the padded positions keep their vectors; ``pool`` off, no pooling between the stages;
    ``pool_last``, a pooling after the last stage too; ``halve``, how a pooling's lengths
    become the next stage's (⌈L / 2⌉; a mistake's ⌊L / 2⌋, or L kept); ``kmax_real`` off, the
    k-max takes every position for real; ``channel_first``, the k-max output flattened as
    torch's (B, C, k); ``fc_relu`` off, no ReLU on the hidden layers."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch
    from torch.nn import functional

    e = p["embedding.weight"][ids] * (torch_real(lengths, ids.shape[1]) if zero_padding else 1)
    h = torch_conv(e, p["first.weight"], p["first.bias"], padding=1)  # (B, T, C_0)
    blocks = sorted({tuple(map(int, n.split(".")[1:3])) for n in p if n.startswith("stages.")})
    for s, j in blocks:  # (stage, block), in order
        h = _torch_block(p, h, f"stages.{s}.{j}.")  # (B, T_s, C_s)
        if pool and (s, j + 1) not in blocks and ((s + 1, 0) in blocks or pool_last):
            h = torch_local_max(h, lengths, WIDTH, STRIDE)  # (B, ⌊(T_s − 3) / 2⌋ + 1, C_s)
            lengths = halve(lengths).clamp(0, h.shape[1])
    every = torch.full_like(lengths, h.shape[1])  # every position counted as real
    pooled = torch_kmax(h, lengths if kmax_real else every, p["fc.0.weight"].shape[0] // h.shape[2])
    f = (pooled.transpose(1, 2) if channel_first else pooled).reshape(len(pooled), -1)  # (B, k·C)
    for j in (0, 1):
        f = functional.linear(f, p[f"fc.{j}.weight"].T, p[f"fc.{j}.bias"])
        f = torch.relu(f) if fc_relu else f
    return functional.linear(f, p["output.weight"].T, p["output.bias"])  # (B, classes)


_torch_vdcnn.label = "the network in torch.nn.functional"  # type: ignore[attr-defined]


#: the known mistakes of the forward, by their torch forwards
MISTAKES = {
    "no pooling between the stages (a LocalMaxPooling(3, 2) after every stage but the last "
    "halves the length)": partial(_torch_vdcnn, pool=False),
    "a pooling after the last stage too (the k-max pooling takes the last stage's output as "
    "it is)": partial(_torch_vdcnn, pool_last=True),
    "the sentences' own lengths kept after a pooling (each pooling leaves ⌈L / 2⌉ real "
    "positions: pool.output_lengths(lengths, T) gives them to the next pooling)":
        partial(_torch_vdcnn, halve=lambda n: n),
    "the pooled lengths rounded down, L // 2 (a window that starts at a sentence's last "
    "position is real too: ⌈L / 2⌉ windows, pool.output_lengths)":
        partial(_torch_vdcnn, halve=lambda n: n // 2),
    "the k-max pooling over every position, the padding's too (give it the lengths that "
    "reach the top)": partial(_torch_vdcnn, kmax_real=False),
    "the padded positions' vectors not zeroed (multiply the embeddings by the mask of real "
    "positions, as in Kim's CNN)": partial(_torch_vdcnn, zero_padding=False),
    "the k-max output flattened channel by channel, as torch's (B, C, k) would be (reshape "
    "the library's (B, k, C) as it is)": partial(_torch_vdcnn, channel_first=True),
    "no ReLU after the hidden layers (Linear, ReLU, Linear, ReLU, then the output layer)":
        partial(_torch_vdcnn, fc_relu=False),
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
