"""Topic ``toy_mgu``: a gated cell and a bidirectional RNN of it, on the course
library."""

from __future__ import annotations

from nlpdojo_autograder.authoring import (
    LayerCase,
    Parity,
    Question,
    bug,
    layer_checks,
    sequence_checks,
    stand_in_cell,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.inputs import normal, states

B, T, D, H = 3, 4, 2, 3


def _cell_at(b, d, h, std=1.0):  # the case, at any size: parameters and inputs as data
    shapes = {"weight_xf": (d, h), "weight_hf": (h, h), "weight_xn": (d, h),
              "weight_hn": (h, h), "bias_f": (h,), "bias_n": (h,)}
    return layer_case(d, h, params={k: normal(*s, scale=std) for k, s in shapes.items()},
                      inputs=(normal(b, d), states(b, h)), names=("x", "h"),
                      differentiable=(0, 1))


_cell = _cell_at(B, D, H)
#: 262,656 parameters: a backward by numerical differentiation cannot finish there
CELL_AT_SCALE = _cell_at(8, 256, 256, std=256 ** -0.5)


def _torch_cell(p, x, h):
    import torch

    f = torch.sigmoid(x @ p["weight_xf"] + h @ p["weight_hf"] + p["bias_f"])
    n = torch.tanh(x @ p["weight_xn"] + (f * h) @ p["weight_hn"] + p["bias_n"])
    return (1 - f) * h + f * n


def _bidirectional(ctx, kind, sizes=(B, T, D, H)):
    b, t, d, h = sizes
    return LayerCase(args=(ctx.backend, d, h), params={}, names=("xs",),
                     inputs=lambda r: (r.standard_normal((b, t, d)),),
                     cells={"forward_rnn.cell": stand_in_cell(kind, d, h),
                            "backward_rnn.cell": stand_in_cell(kind, d, h)})


MGU_CELL = Question(
    "mgu_cell", "The minimal gated unit", code="library/mgu",
    checks=[layer_checks("MGUCell", _cell, title="MGUCell", points=2.0,
                         torch=_torch_cell, at_scale=CELL_AT_SCALE,
                         parity=Parity(_cell, "MGUCell against the same cell in torch", 1.0))],
    planted_bugs=[bug("forget gate derivative missing", "grad_af = grad_f« * f * (1.0 - f) → »")],
    requires=("neural_networks.xavier",))

BIMGU = Question(
    "bimgu", "A bidirectional RNN of MGU cells", code="bimgu",
    checks=sequence_checks("BiMGU", _bidirectional, title="BiMGU",
                           points=2.0,  # 131,072 inputs at scale, over stand-in cells
                           at_scale=lambda ctx, kind: _bidirectional(ctx, kind, (4, 64, 512, 64))),
    planted_bugs=[bug("right-to-left states not re-reversed",
                      "xp.concat([left, «xp.flip(right, axis=1) → right»], axis=-1)")],
    requires=(MGU_CELL, "language_models.rnn"))

QUESTIONS = [MGU_CELL, BIMGU]
