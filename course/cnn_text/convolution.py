"""Convolutions over a sentence (CS224n lecture 11, "1D convolution for text"): the course
library's ``Conv1d``, channels last, checked against ``torch.nn.functional.conv1d`` (which
wants channels first) on three settings, each with a reason: a plain width-3 filter bank;
a stride of 2 or 3 with one or two zero vectors of padding each side, where the windows no
longer meet every position; a dilation of 2 to 4 with padding 1 to 3, where the taps of a
window skip positions and the windows overlap (each drawn per grading)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import Parity, Question, Variant, layer_checks
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.builders.choices import choices, choices_text
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_conv
from nlpdojo_autograder.authoring.inputs import normal

B, T, D, F = 2, 7, 3, 4
#: each setting's name: its kernel size, the strides, paddings and dilations a grading draws
#: one of each from, and its points: drawn per grading, apart for each setting (a second
#: review kept 3 of 3 with padding and dilation chosen by the kernel and stride, the
#: arguments ignored)
SETTINGS = {"plain": (3, {"stride": (1,), "padding": (0,), "dilation": (1,)}, 1.0),
            "strided": (3, {"stride": (2, 3), "padding": (1, 2), "dilation": (1,)}, 1.0),
            "dilated": (2, {"stride": (1,), "padding": (1, 2, 3), "dilation": (2, 3, 4)}, 1.0)}


def _case(kernel: int, options: dict[str, tuple[int, ...]], which: int,
          sizes: tuple[int, int, int, int] = (B, T, D, F), std: float = 0.7):
    """Conv1d(D, F, kernel) with a stride, padding and dilation drawn per grading from
    ``options``, the draws of the setting numbered ``which`` (:func:`choices`)."""
    b, t, d, f = sizes
    drawn = choices(options, which)
    return layer_case(d, f, kernel, kwargs=drawn, torch_kwargs=drawn, differentiable=(0,),
                      params={"weight": normal(kernel, d, f, scale=std),
                              "bias": normal(f, scale=0.5)},
                      inputs=(normal(b, t, d),), names=("x",),
                      over_time=lambda factor: (normal(b, t * factor, d),))


#: (B, T, D, F) at scale: 262,400 parameters at width 4, 196,864 at 3 (builders'
#: ``at_scale``: a backward that differentiates the forward numerically cannot finish there),
#: 768 windows, so that the reference's CPU time is its arithmetic: a backward by forwards on
#: bumps (a row of the filter bank for every filter at once, a feature at every position of a
#: residue for every sentence) costs hundreds of times that (7-17 s against 0.02-0.04 s;
#: 0.4-0.8 s at 48 windows, under the 1 s floor: an attacker's kept 3 of 3)
AT_SCALE = (8, 96, 256, 256)
#: the case at scale's kernel is this much wider than its setting's: a Conv1d with a width
#: written in (3: the plain and strided settings' in every case) kept their points
WIDER_AT_SCALE = 1


def _torch_conv(p, x, **drawn):
    """``torch.nn.functional.conv1d`` on the layer's weights (:func:`torch_conv`), the
    settings the case drew as keywords."""
    return torch_conv(x, p["weight"], p["bias"], **drawn)


_torch_conv.label = "torch.nn.functional.conv1d"  # type: ignore[attr-defined]


FLIPPED = ("the kernel flipped: a textbook convolution, where libraries compute the "
           "cross-correlation (the k-th position of a window meets weight[k], not "
           "weight[K - 1 - k])")


def _flipped(oracle):
    """The convolution with the kernel flipped along its width (a known mistake's forward)."""
    return lambda p, x, **drawn: oracle({**p, "weight": p["weight"].flip(0)}, x, **drawn)


WINDOW_ORDER = ("each window flattened in the other order: gathered as (D, K) and flattened, "
                "where weight.reshape(K · D, F) reads it as (K, D), tap by tap (stack the K "
                "taps on the axis before D, then flatten)")


def _window_order(oracle):
    """The convolution of a student whose windows are (D, K) when flattened: row d·K + k of
    the flat weight meets tap k of feature d (a known mistake's forward)."""
    def forward(p, x, **drawn):
        k, d, f = p["weight"].shape
        flat = p["weight"].reshape(k * d, f)  # row k·D + d: tap k, feature d
        return oracle({**p, "weight": flat.reshape(d, k, f).permute(1, 0, 2)}, x, **drawn)
    return forward


MISTAKES = {FLIPPED: _flipped(_torch_conv), WINDOW_ORDER: _window_order(_torch_conv)}


def _setting(which: int, kernel: int, options: dict[str, tuple[int, ...]],
             points: float) -> Variant:
    """The checks of the setting numbered ``which`` in :data:`SETTINGS`: values, gradients,
    repeated application and accumulation, and torch's conv1d on the same case."""
    title = f"Conv1d, width {kernel}, {choices_text(options)}"
    wide = kernel + WIDER_AT_SCALE
    case = _case(kernel, options, which)
    return Variant(case, title, 0.75 * points,
                   at_scale=_case(wide, options, which, AT_SCALE,
                                  std=(wide * AT_SCALE[2]) ** -0.5),
                   parity=Parity(case, f"{title}, against torch.nn.functional.conv1d",
                                 0.25 * points))


CONV1D = Question(
    "conv1d", "A 1-D convolution over word vectors (padding, stride, dilation)",
    code="library/conv", checks=[layer_checks(
        "Conv1d", repeat=2, torch=_torch_conv, forward_mistakes=MISTAKES,
        variants={name: _setting(which, *setting)
                  for which, (name, setting) in enumerate(SETTINGS.items())})])

QUESTIONS = [CONV1D]
