"""The questions of topic ``attention``: attention pooling (a layer of the course library,
checked against softmax attention in torch), an RNN encoder pooled by it (checked over the
grader's stand-in cells) and a classifier of MR sentences trained by the given loop."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    Context,
    LayerCase,
    Parity,
    Question,
    bug,
    layer_checks,
    sequence_checks,
    stand_in_cell,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.inputs import draw, normal
from nlpdojo_autograder.training import TrainingPlan, mr_polarity_checks, mr_polarity_plan

B, T, D, H = 4, 5, 3, 3


def _lengths(r: np.random.Generator, b: int, t: int) -> np.ndarray:
    """One full row, one of a single position, the others in between."""
    return np.array([t, 1, *r.integers(2, t, b - 2)])


def _pool_at(b, t, h):  # the case, at any size: parameters and inputs as data
    return layer_case(h, params={"weight": normal(h)},
                      inputs=(normal(b, t, h), draw(lambda r, drawn: _lengths(r, b, t))),
                      names=("h", "lengths"), differentiable=(0,))


_pool = _pool_at(B, T, H)
#: 524,288 inputs: a backward by numerical differentiation cannot finish there
POOL_AT_SCALE = _pool_at(8, 256, 256)


def _torch_pool(p, h, lengths):
    import torch

    real = torch.arange(h.shape[1])[None, :] < lengths[:, None]  # (B, T)
    scores = (h @ p["weight"]).masked_fill(~real, -float("inf"))  # (B, T)
    return (torch.softmax(scores, dim=1)[:, :, None] * h).sum(1)  # (B, H)


def _encoder(ctx: Context, kind: str, sizes=(B, T, D, H)) -> LayerCase:
    b, t, d, h = sizes
    return LayerCase(args=(ctx.backend, d, h),
                     params={"pool.weight": ctx.rng(5).standard_normal(h)},
                     names=("xs", "lengths"), differentiable=(0,),
                     inputs=lambda r: (r.standard_normal((b, t, d)), _lengths(r, b, t)),
                     cells={"rnn.cell": stand_in_cell(kind, d, h)})


ATTENTION_POOLING = Question(
    "attention_pooling", "Attention pooling over a sentence's real positions",
    code="library/attention",
    checks=[layer_checks("AttentionPooling", _pool, title="AttentionPooling", points=2.0,
                         torch=_torch_pool, at_scale=POOL_AT_SCALE,
                         parity=Parity(_pool, "AttentionPooling against softmax attention in "
                                       "torch", 1.0))],
    planted_bugs=[
        bug("the padding weighted too: a softmax over all T positions",
            "e = xp.exp(xp.where(real, scores - top, xp.full_like(scores, -xp.inf)))",
            "e = xp.exp(scores - top)"),
        bug("the softmax's Jacobian without its second term",
            "grad_alpha - « → 0.0 * »xp.sum(alpha * grad_alpha, axis=1,"),
    ])

ATTENTIVE_ENCODER = Question(
    "attentive_encoder", "An RNN encoder pooled by attention", code="encoder",
    checks=sequence_checks("AttentiveEncoder", _encoder, title="AttentiveEncoder", points=2.0,
                           at_scale=lambda ctx, kind: _encoder(ctx, kind, (4, 128, 256, 64))),
    planted_bugs=[bug("lengths ignored: the padding's states pooled too",
                      "pooled, pool_cache = self.pool(hs, "
                      "«lengths → xp.full_like(lengths, hs.shape[1])»)")],
    requires=(ATTENTION_POOLING, "language_models.rnn"))

#: every training sentence once, Adam, batches of 50, 32-d word vectors: a few seconds
BUDGET = {"dim": 32, "epochs": 1, "lr": 0.01}
SIZES = ("dim",)


def polarity_plan(ctx: Context) -> TrainingPlan:
    """The given loop trains a bag of word vectors pooled by your AttentionPooling (on your
    Embedding, Linear, softmax cross-entropy and Adam) on MR's training split from the
    grader's initial parameters; the grader scores a fresh 80 % of the test split."""
    dim = BUDGET["dim"]
    return mr_polarity_plan(
        ctx, salt=0xA77E, given="polarity_training", options=BUDGET, sizes=SIZES,
        shapes=lambda v: {"embedding.weight": (v, dim), "pool.weight": (dim,),
                          "output.weight": (dim, 2), "output.bias": (2,)})


ATTENTION_POLARITY = Question(
    "attention_polarity", "Sentence polarity of held-out MR sentences by attention pooling "
    "(trains your pipeline)", integrative=True, datasets=("mr",),
    checks=mr_polarity_checks(
        polarity_plan,
        title="Attention pooling: sentence polarity of held-out MR sentences",
        budget="MR: 8,454 training sentences (40 tokens at most), 1 epoch of Adam (lr 0.01, "
               "batches of 50), 32-d word vectors",
        hint="the training runs your library's Embedding, AttentionPooling, Linear, "
             "SoftmaxCrossEntropy and Adam: their own checks say which one is wrong"))

QUESTIONS = [ATTENTION_POOLING, ATTENTIVE_ENCODER, ATTENTION_POLARITY]
