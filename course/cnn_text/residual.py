"""A residual convolutional block (CS224n lecture 11's tools for deep CNNs; He et al. 2016;
Conneau et al. 2017): ``ResidualBlock`` checked as a layer in training mode against torch
(``conv1d``, ``batch_norm``, ``relu``) with the same parameters, in two settings, each with a
reason: the channels kept, where the shortcut is the identity, and the channels changed, where
it is a 1×1 convolution. Its convolutions, batch norms and ReLUs are the reference's, swapped
in, so only the wiring is the student's: where the sum goes, and that dL/dx adds both
branches."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    Parity,
    Question,
    Variant,
    layer_checks,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.inputs import draw, normal, uniform
from nlpdojo_course.cnn_text.convolution import CONV1D
from nlpdojo_course.cnn_text.normalization import BATCH_NORM

B, T, K, EPS = 3, 5, 3, 1e-5
#: the kernel width at scale: another than the cases' (a block with ``kernel_size = 3``
#: written in kept full marks where every case had 3)
K_AT_SCALE = 5
#: (channels in, channels out, the setting's name, the sizes at scale: channels in, channels
#: out, B, T): 369,792 parameters with the identity shortcut, 333,120 with the projection at
#: K_AT_SCALE (builders' ``at_scale``: a backward that differentiates the forward numerically
#: cannot finish there; each setting has its own, so that either path is measured)
SETTINGS = ((3, 3, "identity", (192, 192, 4, 12)), (2, 3, "projection", (128, 192, 4, 12)))


def _filters(k: int, fan_in: int, c_out: int):
    """A filter bank (K, C_in, C_out) drawn with the variance 1 / (K · C_in) (He et al.'s fan-in
    scaling without the 2: the block's outputs stay of the inputs' size)."""
    return draw(lambda rng, drawn: rng.standard_normal((k, fan_in, c_out)) / np.sqrt(k * fan_in))


def _case(c_in: int, c_out: int, b: int = B, t: int = T, k: int = K):
    projection = {"shortcut.weight": normal(1, c_in, c_out),
                  "shortcut.bias": normal(c_out, scale=0.3)} if c_in != c_out else {}
    return layer_case(
        c_in, c_out, kwargs={"kernel_size": k},
        params={"conv1.weight": _filters(k, c_in, c_out), "conv1.bias": normal(c_out, scale=0.3),
                "conv2.weight": _filters(k, c_out, c_out), "conv2.bias": normal(c_out, scale=0.3),
                "norm1.weight": uniform(0.5, 1.5, c_out), "norm1.bias": normal(c_out, scale=0.3),
                "norm2.weight": uniform(0.5, 1.5, c_out), "norm2.bias": normal(c_out, scale=0.3),
                **projection},
        inputs=(normal(b, t, c_in),), names=("x",), sizes=frozenset({"kernel_size"}),
        # the identity shortcut: as many channels out as in, by construction
        tied=frozenset({"argument 1", "argument 2"}))


def _torch_block(p, x):
    """The block in ``torch.nn.functional`` on (B, T, C) tensors (torch's (B, C, T) inside)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch
    from torch.nn import functional

    k = p["conv1.weight"].shape[0]  # (K, C_in, C_out)

    def conv(name, h, pad):
        return functional.conv1d(h.transpose(1, 2), p[f"{name}.weight"].permute(2, 1, 0),
                                 p[f"{name}.bias"], padding=pad).transpose(1, 2)

    def norm(name, h):
        return functional.batch_norm(h.transpose(1, 2), None, None, p[f"{name}.weight"],
                                     p[f"{name}.bias"], training=True, eps=EPS).transpose(1, 2)

    h = torch.relu(norm("norm1", conv("conv1", x, k // 2)))
    h = norm("norm2", conv("conv2", h, k // 2))
    skip = conv("shortcut", x, 0) if "shortcut.weight" in p else x
    return torch.relu(h + skip)


_torch_block.label = "the block in torch.nn.functional"  # type: ignore[attr-defined]


def _setting(c_in: int, c_out: int, name: str, sizes: tuple[int, ...]) -> Variant:
    """The checks of one shortcut: the layer's, and torch's block on the same case."""
    case, title = _case(c_in, c_out), f"ResidualBlock, {c_in} to {c_out} channels ({name} shortcut)"
    return Variant(case, title, 0.75, at_scale=_case(*sizes, k=K_AT_SCALE),
                   parity=Parity(case, f"{title}, against torch", 0.25))


RESIDUAL_BLOCK = Question(
    "residual_block", "A residual block: convolutions, batch norm, a 1×1 projection shortcut",
    checks=[layer_checks(
        "ResidualBlock", repeat=2, torch=_torch_block,
        directions=True,  # every parameter a swapped-in layer's: the wiring is checked
        variants={name: _setting(c_in, c_out, name, sizes)
                  for c_in, c_out, name, sizes in SETTINGS})],
    requires=(CONV1D, BATCH_NORM, "neural_networks.relu"))

QUESTIONS = [RESIDUAL_BLOCK]
