"""The quasi-recurrent layer (CS224n lecture 11; Bradbury et al. 2017): ``QRNN`` checked as a
layer against torch (``conv1d`` with k − 1 zeros each side, its first T outputs kept, then
fo-pooling step by step) with the same parameters, the convolution the reference's (swapped
in), so only the mask, the gates and the recurrence are the student's. Width 3, so that a
window that reads the words to its right (an unmasked convolution) differs from the masked one
at every position but the last."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    Parity,
    Question,
    Saturated,
    layer_checks,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_conv
from nlpdojo_autograder.authoring.inputs import fan_in_normal, normal
from nlpdojo_course.cnn_text.convolution import CONV1D

B, T, D, H, K = 3, 5, 3, 2, 3
#: the width of the torch check: a second width, so that code written for one (a
#: hard-coded ``k − 1``) is caught
K_OTHER = 2
#: the width at scale, another than either check's (a backward with k − 1 = 2 written in kept
#: the layer checks' points where every case of them had width 3)
K_AT_SCALE = 4


def _case(k: int, sizes: tuple[int, int, int, int] = (B, T, D, H), forget_bias: float = 0.0,
          scale: float = 1.0):
    """The layer's case: the gates' bias (z, f, o) with ``forget_bias`` added to f's;
    ``scale`` multiplies the inputs from the third step on (:data:`SATURATING_SCALE`): the
    gates of the first two steps stay where their values and gradients are not flat."""
    b, t, d, h = sizes
    shift = np.repeat([0.0, forget_bias, 0.0], h)  # (3H,): z, f, o
    steps = np.where(np.arange(t) < 2, 1.0, scale)[None, :, None]  # (1, T, 1)
    return layer_case(d, h, kwargs={"kernel_size": k}, sizes=frozenset({"kernel_size"}),
                      params={"conv.weight": fan_in_normal(k, d, 3 * h),  # (K, D, 3H)
                              "conv.bias": normal(3 * h, loc=shift, scale=0.5)},
                      inputs=(normal(b, t, d, scale=steps),), names=("x",))


#: (B, T, D, H) at scale: 266,848 numbers to differentiate (builders' ``at_scale``: a
#: backward that differentiates the forward numerically cannot finish there), over 8,192 time
#: steps. Long, because fo-pooling's columns (b, h) are independent: an attacker's backward
#: took complex-step derivatives of the pooling alone, one perturbation per time step and
#: gate, all stacked in one forward, which costs little at T = 10 (2 of 2 points) and
#: ~T² at T = 8,192 (24,576 pooled forwards of 8,192 steps), where the chain rule's loop
#: back over time costs about one forward
AT_SCALE = (2, 8192, 16, 32)
#: the forget gates' bias at scale: f ≈ σ(6) ≈ 0.9975, a memory of thousands of steps. With
#: the gates of a plain case (f ≈ 0.5 ± 0.2) a step's influence is gone after ~90 steps, and an
#: attacker's backward differenced the pooling in windows: every 96th step perturbed at once
#: in 4 × 96 copies of the state beside the forward, each output credited to the last
#: perturbed step before it (2 of 2 points, 1 s of CPU at scale). With this memory the window
#: must span thousands of steps (its copies cost hundreds of times the chain rule's loop)
AT_SCALE_FORGET_BIAS = 6.0


#: the inputs' scale of the saturated case from its third step on: the gates' pre-activations
#: there spread about ±1000, about half of them past the overflow of exp (±709) either way
SATURATING_SCALE = 1000.0


def _torch_qrnn(p, x):
    """The layer in torch: ``conv1d`` with k − 1 zeros each side (:func:`torch_conv`),
    its first T outputs, fo-pooling step by step (the width read from the kernel's shape)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    k = p["conv.weight"].shape[0]  # (K, D, 3H)
    gates = torch_conv(x, p["conv.weight"], p["conv.bias"], padding=k - 1)[:, :x.shape[1], :]
    z, f, o = gates.chunk(3, dim=-1)  # (B, T, H) each: masked, nothing from the right
    z, f, o = torch.tanh(z), torch.sigmoid(f), torch.sigmoid(o)
    c, cells = torch.zeros_like(z[:, 0]), []
    for t in range(x.shape[1]):
        c = f[:, t] * c + (1 - f[:, t]) * z[:, t]
        cells.append(c)
    return o * torch.stack(cells, dim=1)  # (B, T, H)


_torch_qrnn.label = "the QRNN written in torch"  # type: ignore[attr-defined]

TITLE = f"QRNN, width {K}, {D} to {H} channels"

QRNN = Question(
    "qrnn", "A quasi-recurrent layer: masked convolution gates, fo-pooling over time",
    checks=[layer_checks("QRNN", _case(K), title=TITLE, points=1.5, repeat=2,
                         torch=_torch_qrnn,
                         at_scale=_case(K_AT_SCALE, AT_SCALE, AT_SCALE_FORGET_BIAS),
                         saturated=Saturated(_case(K, scale=SATURATING_SCALE)),
                         parity=Parity(_case(K_OTHER), f"QRNN, width {K_OTHER}, {D} to {H} "
                                       "channels, against torch", 0.5))],
    requires=(CONV1D,))

QUESTIONS = [QRNN]
