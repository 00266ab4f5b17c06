"""Inverted dropout judged on statistics (Srivastava et al. 2014; CS224n lecture 3's inverted
scaling): what no reference is needed for, since a random mask matches no fixed output. In
training mode each unit is zeroed with probability p and the kept ones are divided by 1 − p,
so that the expected output is the input and eval mode needs nothing; backward multiplies
the upstream gradient by the same mask and scale as its forward. :func:`dropout_check` runs
the layer once on a large constant input and checks the three; the layer's values against
the reference (its mask drawn from its seed) and its eval mode are ``layer_checks``' (its
``eval_mode=True``, with :data:`EVAL_HINT` as the eval check's hint). A model with a dropout
layer inside is checked with it on by :func:`dropout_variant`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlpdojo_autograder.authoring.builders.cases import LayerCase, Variant
from nlpdojo_autograder.authoring.builders.wire import run_layer
from nlpdojo_autograder.authoring.checks import Check, Payload
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.kinds import property_check
from nlpdojo_autograder.authoring.properties import Property

#: the run's input, 2.0 everywhere, of this shape (20,000 units: the fraction zeroed has a
#: standard deviation of at most 0.0035, under an eighth of the tolerance), and the layer's seed
SHAPE, VALUE, SEED = (200, 100), 2.0, 1
#: how far the fraction of units zeroed may be from p
RATE_TOLERANCE = 0.03
#: what a failed eval-mode check of an inverted-dropout layer adds (``layer_checks``'
#: ``hints={"eval": EVAL_HINT}``)
EVAL_HINT = ("in eval mode (model.eval() sets self.training to False on every layer) "
             "inverted dropout is the identity: return x unchanged, drop nothing and scale "
             "nothing; forgetting this makes every evaluation noisy")


def _kept(o: Payload) -> float:
    """What a kept unit of the input :data:`VALUE` comes out as: VALUE / (1 − p)."""
    return VALUE / (1 - float(o["p"]))


#: the properties of the run's outputs (``p``: the rate it was built with)
INVERTED_DROPOUT = [
    Property("drops units with probability p",
             lambda o: abs(np.mean(o["output"] == 0) - o["p"]) <= RATE_TOLERANCE,
             lambda o: f"with p = {float(o['p'])} a fraction {np.mean(o['output'] == 0):.3f} "
             "of the units was zeroed; each unit should be dropped with probability p"),
    Property("keeps the mean", lambda o: np.allclose(o["output"][o["output"] != 0], _kept(o)),
             lambda o: f"kept units of an input {VALUE} should come out as {_kept(o):.4g} (p = "
             f"{float(o['p'])}): inverted dropout divides them by 1 - p, so the expected "
             "output equals the input and eval mode needs nothing"),
    Property("backward reuses the mask", lambda o: np.allclose(VALUE * o["dL/dx"], o["output"]),
             "the input gradient is not the same mask (and scale) as the forward pass: "
             "backward must reuse the mask of its call")]


def dropout_check(check: str, title: str, points: float, *, rate: Callable[[Context], float],
                  layer: str = "Dropout") -> Check:
    """A property check of the question's inverted-dropout ``layer``, built as
    ``layer(backend, p, seed=SEED)`` at the rate ``p = rate(ctx)`` drawn per grading (a rate
    written in fails), run once forward and backward in training mode on :data:`SHAPE` units
    of :data:`VALUE` with an upstream gradient of ones: :data:`INVERTED_DROPOUT` must hold."""
    def run(ctx: Context) -> Payload:
        p = rate(ctx)
        return {**run_layer(ctx, layer, (ctx.backend, p), np.full(SHAPE, VALUE),
                            np.ones(SHAPE), kwargs={"seed": SEED}), "p": np.array(p)}

    return property_check(check, title, points, run, INVERTED_DROPOUT,
                          oracle="the drop rate and scale that only a random mask scaled by "
                                 "1/(1 − p) has")


def dropout_variant(make: Callable[[Context], LayerCase], title: str, points: float, *,
                    hint: str, at_scale: Callable[[Context], LayerCase] | None) -> Variant:
    """A ``layer_checks`` variant of a model with inverted dropout inside, its case ``make``
    building it with dropout on: its outputs and gradients in training mode against the
    reference's (the masks are drawn from the dropout layer's seed and call count, so the
    reference draws the same; torch's are not: no torch oracle), check ``dropout``, and in
    eval mode, where it must drop nothing, ``dropout_eval``; half the points each, ``hint``
    where either fails. The dropout check compares the outputs of a second and a third call
    of one layer too (``successive``): the masks advance from call to call."""
    return Variant(make, title, points, only=("values", "eval"), successive=True,
                   names={"values": "dropout", "eval": "dropout_eval"}, torch=None,
                   eval_mode=True, shares={"values": 0.5, "eval": 0.5}, at_scale=at_scale,
                   hints={"values": hint, "eval": hint})
