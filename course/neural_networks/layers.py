"""Initialization and layers (CS224n lecture 3, notes part III): Xavier's uniform initializer
(judged on statistics, no reference needed), the affine layer, inverted dropout in training
and eval mode, and the embedding look-up whose rows of repeated words must add up."""

from __future__ import annotations

import math

import numpy as np

from nlpdojo_autograder.authoring import (
    Context,
    Question,
    Variant,
    Verdict,
    custom_check,
    layer_checks,
    settings_rng,
)
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.builders.dropout import EVAL_HINT, dropout_check
from nlpdojo_autograder.authoring.inputs import integers, normal, per_grading
from nlpdojo_autograder.authoring.statistics import ks_uniform_pvalue
from nlpdojo_autograder.training import is_float64
from nlpdojo_course.neural_networks.common import torch

# -- Xavier --------------------------------------------------------------------------------------
#: a right draw fails the test of uniformity this rarely (a three-point distribution with the
#: uniform's bound and variance, an attacker's, scores p far below it on 10,000 entries)
UNIFORM_ALPHA = 1e-9
#: the two size ranges drawn per grading, ((fan_in range), (fan_out range)): their bounds are
#: far apart, so no bound written in meets both
XAVIER_SIZES = (((100, 200), (100, 200)), ((300, 500), (300, 450)))
#: the largest |w| of N draws from U[-b, b] lies below b·(1 - TOP_GAP/N) with probability
#: (1 - TOP_GAP/N)^N ≈ e^-20 = 2e-9: a bound from fan_in + fan_out + 1 (0.05-0.08 % below b
#: at the larger size) kept the point while 0.98 b was the floor (a student trial)
TOP_GAP = 20.0


def _xavier_collect(ctx: Context):
    rng, f = settings_rng(ctx), ctx.function("xavier_uniform")
    out = {"small": ctx.to_numpy(f(ctx.backend, 3, 7, seed=0))}
    # the backend's default dtype, as the docstring says, read as the call returned it: a
    # float32 draw on a float64 backend makes a Linear's weight float32 for good (a Parameter
    # keeps its dtype) and kept the point, its statistics alike (a student trial)
    dtypes = []
    for i, ranges in enumerate(XAVIER_SIZES):
        fan_in, fan_out = (int(rng.integers(*r)) for r in ranges)
        drawn = f(ctx.backend, fan_in, fan_out, seed=3 + i)
        dtypes.append(ctx.returned.dtype(drawn))
        out[f"w{i}"] = ctx.to_numpy(drawn, "xavier_uniform's matrix")
        out[f"fans{i}"] = np.array([fan_in, fan_out])
    out["bits"] = np.array([_BITS.get(d, 0) for d in dtypes])
    # every entry a float32 value: drawn in float32 and cast (a right float64 draw has about
    # one entry in 5·10⁸ that float32 holds exactly; an adversarial trial's cast kept 1 of 1)
    out["float32_values"] = np.array([float(np.all(
        out[f"w{i}"].astype(np.float32).astype(np.float64) == out[f"w{i}"]))
        for i in range(len(XAVIER_SIZES))])
    out["backend_bits"] = np.array(64 if is_float64(ctx) else 32)
    out["same_seed"] = ctx.to_numpy(f(ctx.backend, *(int(n) for n in out["fans0"]), seed=3))
    out["other_seed"] = ctx.to_numpy(f(ctx.backend, *(int(n) for n in out["fans0"]), seed=4))
    return out


#: a floating dtype's bits, by its name as a call's reply describes it (0: not known)
_BITS = {"float16": 16, "bfloat16": 16, "float32": 32, "float64": 64}


def _xavier_judge(actual, expected) -> Verdict:
    said = []
    if int(actual.get("backend_bits", 0)) == 64 and np.all(
            np.atleast_1d(actual.get("float32_values", [0.0])) == 1.0):
        return Verdict(False, "every entry xavier_uniform returned is a float32 value, on a "
                       "backend that computes in float64: drawn in float32 and converted, "
                       "they keep 24 bits of precision, not 53; draw in the backend's default "
                       "dtype, as backend.rng(seed).uniform does")
    bits = [int(b) for b in np.atleast_1d(actual.get("bits", [])) if b]  # 0: not known
    if bits and any(b != int(actual["backend_bits"]) for b in bits):
        return Verdict(False, f"xavier_uniform returned float{min(bits)} values on a backend "
                       f"that computes in float{int(actual['backend_bits'])}: draw in the "
                       "backend's default dtype, as backend.rng(seed).uniform does (a "
                       "Parameter keeps the dtype it is made with)")
    for i in range(len(XAVIER_SIZES)):
        w, (fan_in, fan_out) = actual[f"w{i}"], (int(n) for n in actual[f"fans{i}"])
        bound = math.sqrt(6 / (fan_in + fan_out))  # the docstring's b
        if w.shape != (fan_in, fan_out) or actual["small"].shape != (3, 7):
            return Verdict(False, f"xavier_uniform(backend, {fan_in}, {fan_out}) has shape "
                           f"{w.shape}; expected ({fan_in}, {fan_out}) = (fan_in, fan_out)")
        if i == 0 and (not np.array_equal(w, actual["same_seed"])
                       or np.array_equal(w, actual["other_seed"])):
            return Verdict(False, "draw with backend.rng(seed): the same seed must give the "
                           "same matrix and another seed another one")
        bad = int(w.size - np.count_nonzero(np.isfinite(w)))
        if bad:  # NaN fails no comparison below: refused here
            return Verdict(False, f"{fan_in} x {fan_out}: the matrix holds {bad} entries that "
                           "are NaN or infinite; every entry is a draw from U[-b, b]")
        top, var, target = float(np.abs(w).max()), float(w.var()), bound ** 2 / 3.0
        if top > bound * (1 + 1e-9) or top < 0.98 * bound:
            return Verdict(False, f"{fan_in} x {fan_out}: the largest |w| is {top:.4g}; "
                           f"U[-b, b] with b = sqrt(6 / (fan_in + fan_out)) = {bound:.4g} "
                           "reaches close to b but never beyond")
        if top < bound * (1 - TOP_GAP / w.size):
            return Verdict(False, f"{fan_in} x {fan_out}: the largest |w| is {top:.7g}, "
                           f"{1 - top / bound:.3%} below b = sqrt(6 / (fan_in + fan_out)) = "
                           f"{bound:.7g}; the largest of {w.size:,} draws from U[-b, b] comes "
                           f"within {TOP_GAP / w.size:.3%} of b (a right draw falls short "
                           "once in 250 million gradings): is b computed from exactly "
                           "fan_in + fan_out?")
        # the mean within 6 standard errors: a right draw fails it once in 10^9 gradings
        # (4, as before, failed one in 16,000 of the reference's, at sizes drawn per grading)
        if abs(var - target) > 0.05 * target or \
                abs(float(w.mean())) > 6 * math.sqrt(target / w.size):
            return Verdict(False, f"{fan_in} x {fan_out}: mean {w.mean():.3g} and variance "
                           f"{var:.4g}; Xavier's uniform has mean 0 and variance 2 / (fan_in + "
                           f"fan_out) = {target:.4g}")
        fit = ks_uniform_pvalue(w / bound, -1.0, 1.0)
        if fit < UNIFORM_ALPHA:  # the bound, mean and variance of a uniform, not its shape
            return Verdict(False, f"{fan_in} x {fan_out}: the entries are within ±b with "
                           "Xavier's variance, but not uniform on [-b, b] (Kolmogorov-Smirnov "
                           f"p = {fit:.2g}): draw each entry from U[-b, b] "
                           "(backend.rng(seed).uniform)")
        said.append(f"{fan_in} x {fan_out} uniform in ±{bound:.4g}")
    return Verdict(True, "; ".join(said) + ", variances ≈ 2/(fan_in+fan_out)")


XAVIER = Question(
    "xavier", "Xavier initialization", code="library/init",
    checks=[custom_check("statistics", "bound, variance and seeding", 1.0,
                         _xavier_collect, _xavier_judge,
                         oracle="the bound and variance of Xavier's uniform distribution "
                                "(Glorot and Bengio 2010)")])


# -- affine ------------------------------------------------------------------------------------
def _affine_at(n: int, d_in: int, d_out: int, std: float = 1.0):
    return layer_case(d_in, d_out, params={"weight": normal(d_in, d_out, scale=std),
                                           "bias": normal(d_out)}, inputs=(normal(n, d_in),))


_affine = _affine_at(5, 4, 3)
#: (N, D_in, D_out) at scale: 262,656 parameters (builders' ``at_scale``: a backward that
#: differentiates the forward numerically cannot finish there), and a batch of 512 rows, so
#: that the reference's CPU time there is its arithmetic, not the fixed cost of a call: a
#: backward by forwards on bumps (a row of W for every output at once, an input column for
#: every row at once) costs ~D_in / 3 times that (13 s against 0.04 s; 0.39 s at 16 rows,
#: under the 1 s floor: an attacker's kept 3 of 3)
AFFINE_AT_SCALE = (512, 512, 512)


AFFINE = Question(
    "affine", "Affine layer", code="library/layers", requires=(XAVIER,),
    checks=layer_checks("Linear", _affine, title="Linear", points=3.0,
                        torch=lambda p, x: x @ p["weight"] + p["bias"],
                        at_scale=_affine_at(*AFFINE_AT_SCALE, std=AFFINE_AT_SCALE[1] ** -0.5)))


# -- dropout -----------------------------------------------------------------------------------
# its values against the reference (the mask drawn from its seed) and eval mode are
# layer_checks'; its rate and inverted scaling the dropout builder's statistics
def _p_drop(ctx: Context) -> float:
    """The drop rate, drawn per grading (a rate written in fails)."""
    return float(f"{settings_rng(ctx).uniform(0.2, 0.6):.2f}")


#: Dropout(backend, p, seed=...): the rate and the mask's seed drawn per grading
DROPOUT_CASE = layer_case(per_grading(_p_drop),
                          kwargs={"seed": per_grading(lambda ctx: ctx.seed % 1000)},
                          inputs=(normal(6, 5),))


DROPOUT = Question(
    "dropout", "Inverted dropout, train and eval", code="library/layers",
    checks=[
        layer_checks("Dropout", DROPOUT_CASE, title="Dropout", points=1.5,
                     eval_mode=True, parameters=False, shares={"eval": 0.45},
                     hints={"eval": EVAL_HINT}),
        dropout_check("scaling", "Dropout: drop rate and inverted scaling", 0.5,
                      rate=_p_drop),
    ])


# -- embedding ---------------------------------------------------------------------------------
V_EMB, D_EMB = 7, 3
#: (V, D, B, T) at scale: 131,072 parameters (builders' ``at_scale``), 4,096 tokens: rows
#: bumped one by one cost V look-ups of them all
EMBEDDING_AT_SCALE = (4096, 32, 32, 128)


def _embedding_at(v: int, d: int, b: int, t: int):
    # a repeated word: its gradients must add up
    return layer_case(v, d, params={"weight": normal(v, d)},
                      inputs=(integers(v, b, t, repeated=True),), differentiable=())


_embedding = _embedding_at(V_EMB, D_EMB, 4, 3)


def _last_occurrence_only(p, ids):
    """The look-up whose backward gives each repeated id one occurrence's gradient, the
    last's, as NumPy's buffered ``grad[ids] += g`` does (a student trial was shown numbers
    only): the same rows, the earlier occurrences' taken for constants."""
    torch_ = torch()
    flat = ids.reshape(-1)  # (N,)
    at = torch_.arange(flat.shape[0])
    later = (flat[None, :] == flat[:, None]) & (at[None, :] > at[:, None])  # (N, N)
    last = ~later.any(dim=1)  # (N,) no equal id after it
    rows = p["weight"][ids]  # (B, T, D)
    return torch_.where(last.reshape(*ids.shape, 1), rows, rows.detach())


#: the usual mistake of the backward: a repeated id's gradients not summed
EMBEDDING_MISTAKES = {
    "an update by fancy indexing, grad[ids] += g: with an id repeated in the batch NumPy adds "
    "one of its rows' gradients (the last), not their sum; add every occurrence with "
    "backend.scatter_add (np.add.at)": _last_occurrence_only,
}


#: ids of one axis (the docstring's "any shape": a look-up reshaped to (ids.shape[0],
#: ids.shape[1], D) kept 2 of 2 where every case's ids were (B, T): a student trial)
_embedding_flat = layer_case(V_EMB, D_EMB, params={"weight": normal(V_EMB, D_EMB)},
                             inputs=(integers(V_EMB, 8, repeated=True),), differentiable=())

EMBEDDING = Question(
    "embedding", "Embedding look-up with accumulated row gradients", code="library/layers",
    checks=layer_checks("Embedding", _embedding, title="Embedding",
                        points=1.75, torch=lambda p, ids: p["weight"][ids],
                        backward_mistakes=EMBEDDING_MISTAKES,
                        at_scale=_embedding_at(*EMBEDDING_AT_SCALE),
                        variants={"flat": Variant(
                            _embedding_flat, "Embedding of ids of one axis, (N,) -> (N, D)",
                            0.25, only=("values",), hidden=False, at_scale=None)}))

QUESTIONS = [XAVIER, AFFINE, DROPOUT, EMBEDDING]
