"""Gradient clipping by global norm (CS224n lecture 7; Pascanu et al. 2013): the clipped
gradients and the norm of the course library's ``clip_grad_norm`` on gradients above, below and
far above the threshold, one parameter dominating, and all zeros; the per-parameter variant (a
common mistake) is named when that is what the outputs are. The reference equals
``torch.nn.utils.clip_grad_norm_`` (tests/rnn_variants/test_torch_parity.py)."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    CheckFailure,
    Context,
    Question,
    drawn_setting,
    value_check,
)

#: (what, the gradients' shapes, their scales, max_norm), gradients and max_norm each scaled
#: by a factor drawn per grading and per case (0.4 to 2.5, ``drawn_setting``): a limit
#: written in (or chosen by the gradients' count or shapes) fails
CASES = (
    ("above the threshold", ((4, 3), (3,), (2, 5)), (2.0, 2.0, 2.0), 1.0),
    ("below it: unchanged", ((4, 3), (3,)), (0.05, 0.05), 5.0),
    ("one parameter dominates", ((3, 3), (3,), (2, 2)), (10.0, 0.01, 0.5), 1.0),
    ("all zeros", ((2, 3), (3,)), (0.0, 0.0), 1.0),
)
EPS = 1e-6  # torch.nn.utils.clip_grad_norm_'s


def _clipped(ctx: Context) -> dict[str, np.ndarray]:
    rng, out = ctx.rng(), {}
    f = ctx.function("clip_grad_norm")
    for i, (what, shapes, scales, nominal) in enumerate(CASES):
        factor = drawn_setting(ctx, 0.4, 2.5, which=i)  # the case's scale, per grading
        max_norm = float(nominal * factor)  # a Python float, as a caller passes it
        grads = [factor * s * rng.standard_normal(shape)
                 for shape, s in zip(shapes, scales, strict=True)]
        clipped, norm = ctx.unpack(f([ctx.asarray(g) for g in grads], max_norm),
                                   ["clipped", "norm"], "clip_grad_norm")
        if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
            raise CheckFailure(f"clip_grad_norm must return a list of {len(grads)} gradients "
                               f"(one per parameter) and the norm; got {type(clipped).__name__}")
        for k, g in enumerate(clipped):
            out[f"{what}: gradient {k}"] = ctx.to_numpy(g, f"clipped gradient {k}")
        out[f"{what}: norm"] = ctx.to_numpy(norm, "the norm")
        out[f"{what}: max_norm given"] = np.array(max_norm)  # the same on both sides
    return out


def _per_parameter(expected: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What clipping each parameter by its own norm gives, rebuilt from the right outputs:
    the gradients before clipping are the clipped ones divided by the global factor."""
    out = dict(expected)
    for what, shapes, _, _ in CASES:
        max_norm = float(expected[f"{what}: max_norm given"])
        norm = float(expected[f"{what}: norm"])
        factor = min(1.0, max_norm / (norm + EPS))
        for k in range(len(shapes)):
            g = expected[f"{what}: gradient {k}"] / factor
            out[f"{what}: gradient {k}"] = g * min(1.0, max_norm / (np.linalg.norm(g) + EPS))
    return out


CLIP = Question(
    "clipping", "Gradient clipping by global norm", code="library/clipping",
    checks=[value_check("values", "clip_grad_norm on gradients above, below and far "
                        "above the threshold, and on zeros", 1.5, _clipped, mistakes={
                            "clipping each parameter by its own norm (one norm over every "
                            "parameter, and every gradient scaled by the same factor, keeps "
                            "the direction)": _per_parameter})])

QUESTIONS = [CLIP]
