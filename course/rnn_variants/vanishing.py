"""Vanishing gradients, measured (CS224n lecture 7; Pascanu et al. 2013): the student's
``state_gradient_norms`` over a tanh RNN cell, an LSTM cell and a GRU cell (the reference's,
swapped in, so only the walk back in time is graded), against the reference's norms; and
Pascanu et al.'s bound: over a tanh RNN whose W_h has largest singular value σ < 1, the norm
k steps back is at most σᵏ times the last step's, earned on right norms only (zeros meet
the bound)."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    Context,
    Property,
    Question,
    property_check,
    value_check,
)
from nlpdojo_course.rnn_variants.cells import GRU_CELL, LSTM_CELL

#: (B, T, D, H) of each cell's norms: other sizes for each (a walk back with T = 6 and H = 5
#: written in kept full marks where every case had them)
SIZES = {"rnn": (3, 6, 4, 5), "lstm": (2, 8, 3, 6), "gru": (4, 5, 5, 4)}
#: (B, T, D, H) of the bound's check, others again
BOUND_SIZES = (2, 9, 3, 7)
#: the gated cells' recurrent matrices have 4H (LSTM) and 3H (GRU) columns
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
#: W_h's largest singular value in the bound's check
SIGMA = 0.8
#: every call of a swapped-in cell is a call-back to the reference process: 3 cells x 5-8
#: steps x (forward, backward) x 2 applications, well inside this
TIMEOUT_S = 60.0


def _params(rng: np.random.Generator, kind: str, d: int, h: int) -> dict[str, np.ndarray]:
    width = GATES[kind] * h
    if kind == "rnn":
        return {"weight_e": 0.7 * rng.standard_normal((d, h)),
                "weight_h": 0.7 * rng.standard_normal((h, h)),
                "bias": 0.3 * rng.standard_normal(h)}
    biases = ({"bias": 0.3 * rng.standard_normal(width)} if kind == "lstm" else
              {"bias_x": 0.3 * rng.standard_normal(width),
               "bias_h": 0.3 * rng.standard_normal(width)})
    return {"weight_x": 0.7 * rng.standard_normal((d, width)),
            "weight_h": 0.7 * rng.standard_normal((h, width)), **biases}


def _norms(ctx: Context, kind: str, rng: np.random.Generator,
           sizes: tuple[int, int, int, int], **options) -> np.ndarray:
    """The student's norms over a cell of ``kind`` on drawn inputs of ``sizes`` (B, T, D, H)."""
    b, t, d, h = sizes
    h0 = np.tanh(rng.standard_normal((b, h)))
    state0 = (ctx.asarray(h0), ctx.asarray(rng.standard_normal((b, h)))) if kind == "lstm" \
        else ctx.asarray(h0)
    xs, grad_last = rng.standard_normal((b, t, d)), rng.standard_normal((b, h))
    norms = ctx.given_function("gradient_flow", "norms_of")(
        ctx.backend, kind, ctx.asarray(xs), state0, ctx.asarray(grad_last),
        params=_params(rng, kind, d, h), **options)
    return ctx.to_numpy(norms, "state_gradient_norms' norms")


def _each_cell(ctx: Context) -> dict[str, np.ndarray]:
    rng = ctx.rng()
    return {f"{kind} cell: ‖∂J/∂h⁽ᵀ⁻ᵏ⁾‖ for k = 0..{SIZES[kind][1]}":
            _norms(ctx, kind, rng, SIZES[kind]) for kind in GATES}


def _tanh_rnn_at_sigma(ctx: Context) -> dict[str, np.ndarray]:
    return {"norms": _norms(ctx, "rnn", ctx.rng(7), BOUND_SIZES, sigma=SIGMA)}


def _within_bound(out: dict[str, np.ndarray]) -> np.ndarray:
    norms = np.asarray(out["norms"], dtype=np.float64).reshape(-1)
    return norms <= SIGMA ** np.arange(norms.size) * norms[0] * (1 + 1e-9) + 1e-12


def _beyond_bound(out: dict[str, np.ndarray]) -> str:
    norms = np.asarray(out["norms"], dtype=np.float64).reshape(-1)
    k = int(np.flatnonzero(~_within_bound(out))[0])
    return (f"k = {k} steps back the norm is {norms[k]:.4g}, above σᵏ ‖∂J/∂h⁽ᵀ⁾‖ = "
            f"{SIGMA ** k * norms[0]:.4g} with σ = {SIGMA}: each step back multiplies the "
            "gradient by diag(1 − h²) W_hᵀ, whose norm is at most σ, so the norms must fall "
            "at least that fast (is each step's gradient passed to the step before it?)")


BOUND = [
    Property("one norm per step back, and the first",
             lambda out: np.asarray(out["norms"]).shape == (BOUND_SIZES[1] + 1,),
             f"state_gradient_norms must give T + 1 = {BOUND_SIZES[1] + 1} norms over "
             f"{BOUND_SIZES[1]} steps, for "
             "k = 0 (∂J/∂h⁽ᵀ⁾ itself) to k = T (∂J/∂h⁽⁰⁾)"),
    Property("Pascanu et al.'s bound", _within_bound, _beyond_bound),
]

VANISHING = Question(
    "vanishing", "Vanishing gradients: ‖∂J⁽ᵀ⁾/∂h⁽ᵗ⁾‖ back through time",
    checks=[
        value_check("norms", "state_gradient_norms over a tanh RNN, an LSTM and "
                    "a GRU cell, 5 to 8 steps", 1.5, _each_cell, rtol=1e-6, dtype="float64",
                    timeout_s=TIMEOUT_S),
        property_check("bound", f"the norms over a tanh RNN with σ_max(W_h) = "
                       f"{SIGMA} fall at least like {SIGMA}ᵏ", 0.5, _tanh_rnn_at_sigma, BOUND,
                       right=(1e-6, 1e-8), dtype="float64", timeout_s=TIMEOUT_S),
    ],
    requires=(LSTM_CELL, GRU_CELL, "language_models.rnn_cell", "neural_networks.xavier"))

QUESTIONS = [VANISHING]
