"""Pooling (CS224n lecture 11): the course library's ``MaxOverTime``, ``KMaxPooling`` and
``LocalMaxPooling`` over padded batches (``lengths`` say which positions are real), checked as
layers on random features against torch (``amax``; the k largest of a stable sort put back
in sentence order; ``max_pool1d``: ``builders.torch_cnn``), and
on features full of ties (whole numbers) against the reference: on random floats two
positions never tie, while a ReLU's zeros and a sentence's repeated n-grams tie all the time,
and the convention (the first position wins) decides where the gradient goes. A gradient check
at a tie would differentiate a kink, so the ties get the values check only."""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np

from nlpdojo_autograder.authoring import (
    Parity,
    Question,
    layer_checks,
    with_hint,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.builders.padded import torch_real
from nlpdojo_autograder.authoring.builders.torch_cnn import torch_kmax, torch_local_max
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.authoring.inputs import draw, normal

B, T, F, K = 4, 6, 3, 2
#: the k of k-max pooling's torch check: a second k, so that code written for one (``self.k``
#: ignored) is caught
K_OTHER = 3
#: local max pooling's window and stride: overlapping windows (Conneau et al. 2017's pooling
#: between blocks), so a position can win in two windows and its gradients must add up; the
#: torch check's are another width and another stride, so that either written in is caught
#: (at stride 2 in both, a stride written in as 2 took 1.5 of 1.5: an adversarial trial)
WIDTH, STRIDE = 3, 2
WIDTH_OTHER, STRIDE_OTHER = 2, 1


#: row 1 holds one real position (``_lengths``); on random features its value in filter 0 is
#: set below all of that row's padding, so a max or k-max that ranks the padded positions too
#: (PADDING_WINS) gives a different output on every draw, not only on most

#: two filters of a full sentence whatever the draw: the largest value at positions 1, 3
#: and 4 (the max's gradient goes to 1; k = 2 keeps 1 and 3, not 3 and 4), and 2 at positions
#: 0 and 2 with a larger 5 between (k = 2 keeps 0 and 1, not 1 and 2)
BOUNDARY_TIES = np.array([[1.0, 2.0], [3.0, 5.0], [0.0, 2.0], [3.0, -1.0], [3.0, 0.0],
                          [-2.0, 1.0]])  # (T, 2)


def _lengths(r: np.random.Generator, t: int = T) -> np.ndarray:
    """One full row, one of a single position, the others in between."""
    return np.array([t, 1, *r.integers(2, t, B - 2)])


#: the sentences of the ties case: long enough that a sort that is not stable reorders equal
#: values (NumPy's default argsort, vectorized on AVX-512, did on rows of 6 about once in
#: three, and a k-max with stable=False kept 1.5 of 1.5 on 6 positions: a student trial)
T_TIES = 24


def _features(r: np.random.Generator, ties: bool) -> np.ndarray:
    """Features (B, T, F): random, row 1's one real value in filter 0 below all of its
    padding (PADDING_WINS decisive on every draw); with ``ties``, (B, T_TIES, F) whole
    numbers in [-2, 2] (every feature of a sentence repeats), row 0 (a full sentence)
    holding :data:`BOUNDARY_TIES` in its first positions, its other positions below them."""
    if not ties:
        h = r.standard_normal((B, T, F))
        h[1, 0, 0] = h[1, 1:, 0].min() - 1.0
        return h
    h = np.clip(np.round(1.5 * r.standard_normal((B, T_TIES, F))), -2.0, 2.0)
    h[0, :len(BOUNDARY_TIES), :2] = BOUNDARY_TIES
    h[0, len(BOUNDARY_TIES):, :2] = -3.0
    return h


def _case(cls: str, cls_args: tuple, ties: bool):
    return layer_case(*cls_args, inputs=(draw(lambda r, _: _features(r, ties)),
                                         draw(lambda r, _: _lengths(r, T_TIES if ties else T))),
                      differentiable=(0,), names=("h", "lengths"),
                      # sentences 3 times as long (the output's gradient drawn to fit)
                      over_time=lambda factor: (normal(B, T * factor, F), draw(
                          lambda r, _: _lengths(r, T * factor))))


def _torch_max(p, h, lengths, *, mask=True, fill=-float("inf")):
    """The max over the real positions; with ``mask=False`` over all T positions, the
    padding's too, and with ``fill=0.0`` over the real positions and the padding's zeros
    (known mistakes' forwards)."""
    ranked = h.masked_fill(~torch_real(lengths, h.shape[1]), fill) if mask else h
    return ranked.amax(1)  # (B, F)


def _torch_kmax(p, h, lengths, *, k=K, mask=True):
    """k-max pooling in sentence order (:func:`torch_kmax`; ``mask=False``: its known
    mistake, the padded positions ranked too)."""
    return torch_kmax(h, lengths, k, mask=mask)


def _torch_local(p, h, lengths, *, width=WIDTH, stride=STRIDE, **mistake):
    """Local max pooling (:func:`torch_local_max`; ``mistake``: ``mask=False`` or
    ``fill=0.0``, its known mistakes' forwards)."""
    return torch_local_max(h, lengths, width, stride, **mistake)


PADDING_WINS = ("the padded positions ranked too (set them to −inf where t >= lengths[b] "
                "before taking the largest)")
PADDING_ZERO = ("the padded positions set to 0, not −inf: a sentence whose real values of a "
                "feature are all negative then pools the padding's 0 (fill them with −inf, "
                "which never wins a max)")

#: a pooling question's points: the layer checks on random features, torch, the ties
LAYER_POINTS, TORCH_POINTS, TIES_POINTS = 0.9, 0.3, 0.3
#: a −inf in pooled features is the padding's mask kept, not a log(0): every batch holds a
#: sentence of one position, shorter than k
PADDING_KEPT = ("a −inf here is the mask of a padded position that was kept: a sentence with "
                "fewer real positions than the pooling keeps (lengths[b] < k) leaves slots that "
                "hold 0, with no gradient, not the −inf that masked the padding")


#: NaN in pooled features: the mask applied by multiplying, where 0 · (−inf) is NaN
MASK_BY_PRODUCT = ("0 · (−inf) is NaN: a mask applied by multiplying (h · m + (−inf) · "
                   "(1 − m)) gives NaN wherever m is 1; choose with xp.where(real, h, −inf)")
#: −inf out of a max over time: every position of some sentence masked
ALL_MASKED = ("a −inf here is the mask's: every position of that sentence was masked, so the "
              "max had only −inf to choose from (position t is real where t < lengths[b])")
#: −inf out of local max pooling: a window past the end of a short sentence
PADDING_WINDOW = ("a −inf here is the mask of a window of padding only: it starts at or after "
                  "the sentence's end (j·stride >= lengths[b]), so it has no real value to "
                  "keep; hold 0 there, with no gradient")


def _nonfinite(cls: str):
    """What a NaN or inf in pooled features means, by what was found: NaN (the mask
    multiplied in), −inf (k-max: a slot of a short sentence filled with the mask; local: a
    window of padding only; max: a sentence masked whole)."""
    inf = {"KMaxPooling": PADDING_KEPT, "LocalMaxPooling": PADDING_WINDOW}.get(cls, ALL_MASKED)

    def hint(found: np.ndarray) -> str:
        return MASK_BY_PRODUCT if np.isnan(found).any() else inf
    return hint


RANK_ORDER = ("the k values kept in rank order, largest first (sort the kept positions back "
              "into the sentence's order)")


def _rank_order(expected):
    """The output of k-max pooling in rank order, from the expected one (sentence order) alone:
    each column's values sorted largest first, a short sentence's empty slots (0; on random
    features no real value is exactly 0) last, where that mistake leaves them."""
    out = expected["output"]  # (B, k, F)
    order = np.argsort(np.where(out == 0, np.inf, -out), axis=1, kind="stable")
    return {"output": np.take_along_axis(out, order, axis=1)}


#: what a failed check on features with ties adds
TIES_HINT = ("among equal values the first position wins: the earliest of tied maxima, and "
             "for k-max the earlier of tied values at the k-th place (a stable sort: "
             "xp.argsort(..., stable=True); the default is not stable and reorders equal "
             "values on some machines)")


@question_builder
def _checks(cls: str, cls_args: tuple, oracle, unmasked, title: str, mistakes=None, *,
            question: str, module: str, other=None, more_named=None):
    """A pooling layer's checks, for the ``Question`` they are declared in. ``other``: (its
    constructor arguments, its oracle, its unmasked oracle, its title)
    for the torch check, where the layer takes an argument that must not be taken as fixed;
    ``more_named``: forward mistakes besides the padding ranked (the layer checks')."""
    named = {PADDING_WINS: unmasked, **(more_named or {})}
    nonfinite = _nonfinite(cls)
    t_args, t_oracle, t_unmasked, t_title = other or (cls_args, oracle, unmasked, title)
    checks = layer_checks(cls, _case(cls, cls_args, ties=False),
                          question=question, module=module, title=title,
                          points=LAYER_POINTS, parameters=False, repeat=2, torch=oracle,
                          nonfinite=nonfinite, mistakes=mistakes, forward_mistakes=named,
                          parity=Parity(_case(cls, t_args, ties=False),
                                        f"{t_title}, against torch",
                                        TORCH_POINTS, torch=t_oracle,
                                        forward_mistakes={PADDING_WINS: t_unmasked},
                                        # no parameters, and independent channels: a complex
                                        # step per position costs little at any size
                                        # (docs/security.md)
                                        at_scale=None))
    ties = layer_checks(cls, _case(cls, cls_args, ties=True), question=question, module=module,
                        title=f"{title}, on features with ties (the first position wins)",
                        points=TIES_POINTS, parameters=False, hidden=False, torch=oracle,
                        nonfinite=nonfinite)  # torch: only the output's shape is asked
    return [*checks, *[with_hint(dataclasses.replace(c, name="ties", points=TIES_POINTS),
                                 TIES_HINT) for c in ties if c.name == "values"]]


MAX_OVER_TIME = Question(
    "pooling", "Max pooling over time, padding excluded", code="library/pooling",
    checks=_checks("MaxOverTime", (), _torch_max, partial(_torch_max, mask=False),
                   "MaxOverTime over a padded batch",
                   more_named={PADDING_ZERO: partial(_torch_max, fill=0.0)}))

K_MAX = Question(
    "kmax_pooling", "k-max pooling in sentence order", code="library/pooling",
    checks=_checks("KMaxPooling", (K,), _torch_kmax,
                   partial(_torch_kmax, mask=False),
                   f"KMaxPooling(k={K}) over a padded batch", {RANK_ORDER: _rank_order},
                   other=((K_OTHER,), partial(_torch_kmax, k=K_OTHER),
                          partial(_torch_kmax, k=K_OTHER, mask=False),
                          f"KMaxPooling(k={K_OTHER}) over a padded batch")))

LOCAL_MAX = Question(
    "local_pooling", "Local max pooling: windows of a width, a stride apart",
    code="library/pooling",
    checks=_checks("LocalMaxPooling", (WIDTH, STRIDE), _torch_local,
                   partial(_torch_local, mask=False),
                   f"LocalMaxPooling(width={WIDTH}, stride={STRIDE}) over a padded batch",
                   more_named={PADDING_ZERO: partial(_torch_local, fill=0.0)},
                   other=((WIDTH_OTHER, STRIDE_OTHER),
                          partial(_torch_local, width=WIDTH_OTHER, stride=STRIDE_OTHER),
                          partial(_torch_local, width=WIDTH_OTHER, stride=STRIDE_OTHER,
                                  mask=False),
                          f"LocalMaxPooling(width={WIDTH_OTHER}, stride={STRIDE_OTHER}) over "
                          "a padded batch")))

QUESTIONS = [MAX_OVER_TIME, K_MAX, LOCAL_MAX]
