"""Convolutions over a sentence (CS224n lecture 11, "1D convolution for text"): the course
library's ``Conv1d``, channels last, checked against ``torch.nn.functional.conv1d`` (which
wants channels first) on three settings, each with a reason: a plain width-3 filter bank;
stride 2 with one zero vector of padding each side, where the windows no longer meet every
position; dilation 2 with padding 2, where the taps of a window skip positions and the
windows overlap."""

from __future__ import annotations

import dataclasses

from nlpdojo_autograder.authoring import (
    Context,
    LayerCase,
    Question,
    bug,
    layer_checks,
    torch_check,
)

CONV = "..library.conv"
B, T, D, F = 2, 7, 3, 4
#: (kernel size, stride, padding, dilation, points, the setting's name)
SETTINGS = ((3, 1, 0, 1, 1.0, "plain"), (3, 2, 1, 1, 1.0, "strided"),
            (2, 1, 2, 2, 1.0, "dilated"))


def _case(kernel: int, stride: int, padding: int, dilation: int,
          sizes: tuple[int, int, int, int] = (B, T, D, F), std: float = 0.7):
    b, t, d, f = sizes

    def longer(r, factor: int):
        """Sentences ``factor`` times as long, and an upstream gradient of their outputs
        (T_out = ⌊(T + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1)."""
        t_in = t * factor
        t_out = (t_in + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        return (r.standard_normal((b, t_in, d)),), r.standard_normal((b, t_out, f))

    def make(ctx: Context) -> LayerCase:
        rng = ctx.rng()
        return LayerCase(args=(ctx.backend, d, f, kernel),
                         kwargs={"stride": stride, "padding": padding, "dilation": dilation},
                         params={"weight": std * rng.standard_normal((kernel, d, f)),
                                 "bias": 0.5 * rng.standard_normal(f)},
                         inputs=lambda r: (r.standard_normal((b, t, d)),),
                         differentiable=(0,), names=("x",), longer=longer)
    return make


#: (B, T, D, F) at scale: 196,864 parameters at width 3 (builders' ``at_scale``: a backward
#: that differentiates the forward numerically cannot finish there), 768 windows, so that
#: the reference's CPU time is its arithmetic: a backward by forwards on bumps (a row of the
#: filter bank for every filter at once, a feature at every position of a residue for every
#: sentence) costs hundreds of times that (7-17 s against 0.02-0.04 s; 0.4-0.8 s at 48
#: windows, under the 1 s floor: an attacker's kept 3 of 3)
AT_SCALE = (8, 96, 256, 256)


def _torch_conv(stride: int, padding: int, dilation: int):
    """``torch.nn.functional.conv1d`` on the layer's weights: (K, D, F) as torch's (F, D, K),
    the input (B, T, D) as (B, D, T), the output back to (B, T_out, F)."""
    def forward(p, x):
        import torch

        out = torch.nn.functional.conv1d(x.transpose(1, 2), p["weight"].permute(2, 1, 0),
                                         p["bias"], stride=stride, padding=padding,
                                         dilation=dilation)  # (B, F, T_out)
        return out.transpose(1, 2)  # (B, T_out, F)
    forward.label = "torch.nn.functional.conv1d"  # type: ignore[attr-defined]
    return forward


FLIPPED = ("the kernel flipped: a textbook convolution, where libraries compute the "
           "cross-correlation (the k-th position of a window meets weight[k], not "
           "weight[K - 1 - k])")


def _flipped(oracle):
    """The convolution with the kernel flipped along its width (a known mistake's forward)."""
    return lambda p, x: oracle({**p, "weight": p["weight"].flip(0)}, x)


WINDOW_ORDER = ("each window flattened in the other order: gathered as (D, K) and flattened, "
                "where weight.reshape(K · D, F) reads it as (K, D), tap by tap (stack the K "
                "taps on the axis before D, then flatten)")


def _window_order(oracle):
    """The convolution of a student whose windows are (D, K) when flattened: row d·K + k of
    the flat weight meets tap k of feature d (a known mistake's forward)."""
    def forward(p, x):
        k, d, f = p["weight"].shape
        flat = p["weight"].reshape(k * d, f)  # row k·D + d: tap k, feature d
        return oracle({**p, "weight": flat.reshape(d, k, f).permute(1, 0, 2)}, x)
    return forward


def _checks():
    checks = []
    for kernel, stride, padding, dilation, points, name in SETTINGS:
        case, oracle = _case(kernel, stride, padding, dilation), _torch_conv(stride, padding,
                                                                             dilation)
        title = f"Conv1d, width {kernel}, stride {stride}, padding {padding}, dilation {dilation}"
        mistakes = {FLIPPED: _flipped(oracle), WINDOW_ORDER: _window_order(oracle)}
        at_scale = _case(kernel, stride, padding, dilation, AT_SCALE,
                         std=(kernel * AT_SCALE[2]) ** -0.5)
        made = [*layer_checks("conv1d", CONV, "Conv1d", case, title=title, points=0.75 * points,
                              repeat=2, torch=oracle, forward_mistakes=mistakes,
                              at_scale=at_scale),
                torch_check("conv1d", CONV, "Conv1d", case, torch=oracle,
                            title=f"{title}, against torch.nn.functional.conv1d",
                            points=0.25 * points, forward_mistakes=mistakes, at_scale=at_scale)]
        checks += [dataclasses.replace(c, name=f"{c.name}_{name}") for c in made]
    return checks


CONV1D = Question(
    "conv1d", "A 1-D convolution over word vectors (padding, stride, dilation)",
    code="library/conv", checks=_checks(),
    planted_bugs=[
        bug("the kernel flipped (a textbook convolution, not the cross-correlation every "
            "library computes)", CONV,
            "out = xp.matmul(windows, xp.reshape(self.weight.data, (k_size * d, f)))",
            "out = xp.matmul(windows, xp.reshape(xp.flip(self.weight.data, axis=0), "
            "(k_size * d, f)))", "conv1d", says="Your outputs are exactly those of the kernel "
            "flipped"),
        bug("each window flattened as (D, K), not (K, D)", CONV,
            "windows = xp.reshape(windows, (b, t_out, k_size * d))  # (B, T_out, K·D)",
            "windows = xp.reshape(xp.permute_dims(xp.reshape(windows, (b, t_out, k_size, d)), "
            "(0, 1, 3, 2)), (b, t_out, k_size * d))", "conv1d",
            says="Your outputs are exactly those of each window flattened in the other order"),
        bug("overlapping windows' gradients overwritten, not added", CONV,
            "grad_padded[:, start:start + last:self.stride, :] += grad_windows[:, :, k, :]",
            "grad_padded[:, start:start + last:self.stride, :] = grad_windows[:, :, k, :]",
            "conv1d"),
        bug("the stride forgotten in backward (gradients go to consecutive positions)", CONV,
            "grad_padded[:, start:start + last:self.stride, :] += grad_windows[:, :, k, :]",
            "grad_padded[:, start:start + t_out, :] += grad_windows[:, :, k, :]", "conv1d"),
        bug("the padding left in the input's gradient (shifted by the padding)", CONV,
            "return grad_padded[:, self.padding:self.padding + t_steps, :]",
            "return grad_padded[:, :t_steps, :]", "conv1d"),
        bug("the bias gradient averaged over positions instead of summed", CONV,
            "self.bias.grad += xp.sum(grads, axis=0)  # (F,)",
            "self.bias.grad += xp.mean(grads, axis=0)  # (F,)", "conv1d"),
    ])

QUESTIONS = [CONV1D]
