"""Character-level word representations (CS224n lecture 11, §3.9-3.10; Kim et al. 2016):
``CharCNNEmbedding`` checked as a layer on words of random characters against torch
(``embedding``, ``conv1d``, ReLU, ``amax`` over the positions, a ReLU projection and a highway
gate: the character-aware assignment's ``ModelEmbeddings`` without its dropout), with a second
torch case at the assignment's filter width (5, one zero each side). Its embedding,
convolution, ReLU, pooling, projection and highway are the reference's, swapped in, so only
the wiring is the student's."""

from __future__ import annotations

from functools import partial

from nlpdojo_autograder.authoring import Parity, Question, layer_checks
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_conv
from nlpdojo_autograder.authoring.inputs import integers, normal
from nlpdojo_course.cnn_text.convolution import CONV1D
from nlpdojo_course.cnn_text.pooling import MAX_OVER_TIME

NN = "neural_networks"
#: the case: V characters of C dimensions, F filters (the word's dimension) of width K with P
#: zeros each side, over (B, T, W) characters (B sentences of T words of W characters). C ≠ F,
#: so a pipeline that takes one for the other fails; the torch case has other sizes again
CASE = {"V": 7, "C": 3, "F": 4, "K": 3, "P": 1, "words": (2, 3, 6)}
#: the torch check's case: the assignment's width 5 and padding 1, other sizes
TORCH_SIZES = {"V": 9, "C": 4, "F": 5, "K": 5, "P": 1, "words": (3, 2, 7)}
#: at scale, each case's kernel and padding: 96 characters of 32 dimensions, 200 filters
#: (102,872 parameters at the width 3 of the values checks, 115,672 at the torch check's 5: at
#: least the builders' 100,000), over 32 × 20 words of 12 characters (builders' ``at_scale``)
AT_SCALE = {"V": 96, "C": 32, "F": 200, "words": (32, 20, 12)}


def _case(sizes: dict, std: float = 0.7):
    """The layer's case at ``sizes`` as data: every parameter drawn (the embedding at unit
    scale, the others at ``std``), and words of characters drawn uniformly."""
    v, c, f, k, p, (b, t, w) = (sizes[n] for n in ("V", "C", "F", "K", "P", "words"))
    return layer_case(v, c, f, kwargs={"kernel_size": k, "padding": p},
                      torch_kwargs={"padding": p},
                      params={"embedding.weight": normal(v, c),
                              "conv.weight": normal(k, c, f, scale=std),
                              "conv.bias": normal(f, scale=0.3),
                              "projection.weight": normal(f, f, scale=std),
                              "projection.bias": normal(f, scale=0.3),
                              "highway.weight": normal(f, f, scale=std),
                              "highway.bias": normal(f, scale=0.5)},
                      inputs=(integers(v, b, t, w),), differentiable=(), names=("chars",),
                      # 3 times as many words a sentence (the output grows with them)
                      over_time=lambda factor: (integers(v, b, t * factor, w),))


def _torch_char_cnn(p, chars, padding, *, gate_side=False, project=True, relu=True):
    """The pipeline in torch on every word at once (:func:`torch_conv`); with
    ``gate_side`` the highway's arguments swapped (its gate computed from y and weighing c),
    without ``project`` the projection's ReLU left out, without ``relu`` the convolution's
    (known mistakes' forwards)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    e = p["embedding.weight"][chars.reshape(-1, chars.shape[-1])]  # (N, W, C)
    h = torch_conv(e, p["conv.weight"], p["conv.bias"], padding=padding)  # (N, W_out, F)
    c = (torch.relu(h) if relu else h).amax(1)  # (N, F)
    z = c @ p["projection.weight"] + p["projection.bias"]
    y = torch.relu(z) if project else z
    # Highway(u, v): the gate reads u and weighs the transform v against carrying u; the
    # library's takes u = c, v = y (``gate_side``: swapped, Highway(y, c))
    u, v = (y, c) if gate_side else (c, y)  # (N, F) each
    t = torch.sigmoid(u @ p["highway.weight"] + p["highway.bias"])
    out = t * v + (1 - t) * u
    return out.reshape(*chars.shape[:-1], -1)


GATE_SIDE = ("the highway's gate on the wrong side: its arguments swapped, Highway(y, c), so "
             "the gate reads y and weighs c (the library's Highway(u, y) takes what it "
             "carries, u = c, first and the transform's output y second)")
NO_PROJECTION_RELU = ("no ReLU on the projection: y = ReLU(c W_proj + b_proj) before the "
                      "highway")
NO_CONV_RELU = "no ReLU after the convolution: the max runs over ReLU(Conv1d(e))"
#: the known mistakes of the forward, by their torch forwards
MISTAKES = {GATE_SIDE: partial(_torch_char_cnn, gate_side=True),
            NO_PROJECTION_RELU: partial(_torch_char_cnn, project=False),
            NO_CONV_RELU: partial(_torch_char_cnn, relu=False)}


CHAR_CNN = Question(
    "char_cnn", "Character-level word vectors: a CNN over a word's characters, a highway",
    checks=layer_checks(
        "CharCNNEmbedding", _case(CASE), title="CharCNNEmbedding over words of random "
        "characters", points=1.5, repeat=2, torch=_torch_char_cnn, forward_mistakes=MISTAKES,
        directions=True,  # every parameter a swapped-in layer's: the wiring is checked
        at_scale=_case({**CASE, **AT_SCALE}, std=0.05),
        parity=Parity(_case(TORCH_SIZES), "CharCNNEmbedding (width 5, padding 1), against "
                      "torch", 0.5, at_scale=_case({**TORCH_SIZES, **AT_SCALE}, std=0.05))),
    requires=(CONV1D, MAX_OVER_TIME, f"{NN}.embedding", f"{NN}.affine", f"{NN}.xavier",
              f"{NN}.relu", "rnn_variants.highway"))

QUESTIONS = [CHAR_CNN]
