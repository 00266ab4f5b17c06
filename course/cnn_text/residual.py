"""A residual convolutional block (CS224n lecture 11's tools for deep CNNs; He et al. 2016;
Conneau et al. 2017): ``ResidualBlock`` checked as a layer in training mode against torch
(``conv1d``, ``batch_norm``, ``relu``) with the same parameters, in two settings, each with a
reason: the channels kept, where the shortcut is the identity, and the channels changed, where
it is a 1×1 convolution. Its convolutions, batch norms and ReLUs are the reference's, swapped
in, so only the wiring is the student's: where the sum goes, and that dL/dx adds both
branches."""

from __future__ import annotations

from nlpdojo_autograder.authoring import (
    Parity,
    Question,
    Variant,
    layer_checks,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_residual_block
from nlpdojo_autograder.authoring.builders.torch_stack import residual_block_params
from nlpdojo_autograder.authoring.inputs import normal
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


def _case(c_in: int, c_out: int, b: int = B, t: int = T, k: int = K):
    return layer_case(c_in, c_out, kwargs={"kernel_size": k},
                      params=residual_block_params(c_in, c_out, k),
                      inputs=(normal(b, t, c_in),), names=("x",), sizes=frozenset({"kernel_size"}),
                      # the identity shortcut: as many channels out as in, by construction
                      tied=frozenset({"argument 1", "argument 2"}))


def _torch_block(p, x):
    """The block in ``torch.nn.functional`` on (B, T, C) tensors (the engine's
    ``builders.torch_cnn.torch_residual_block``)."""
    return torch_residual_block(p, x, eps=EPS)


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
