"""The course library's max-norm constraint against ``torch.renorm(W, 2, 1, s)`` (float64, every
device), what it leaves alone (short columns, the caller's array, biases), and the usual
mistakes named by the question's check."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_course.cnn_text import max_norm as q
from nlpdojo_solutions.library import Linear
from nlpdojo_solutions.library.constraints import apply_max_norm, max_norm

torch = pytest.importorskip("torch")


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


@pytest.mark.parametrize("what,shape,scales,limit", q.CASES, ids=[c[0] for c in q.CASES])
def test_max_norm_matches_torch_renorm(backend, what, shape, scales, limit):
    weight = q._weights(np.random.default_rng(3), shape, scales)
    got = _np(backend, max_norm(backend.asarray(weight), limit))
    # torch.renorm: each slice along dim 1 (a column of the (in, out) weight) above maxnorm
    # scaled to it (torch divides by norm + 1e-7, hence the tolerance)
    expected = torch.renorm(torch.tensor(weight), p=2, dim=1, maxnorm=limit).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)
    assert np.all(np.linalg.norm(got, axis=0) <= limit * (1 + 1e-9))


def test_short_columns_and_the_callers_array_are_left_alone(backend):
    weight = np.array([[3.0, 0.1], [4.0, 0.2]])  # column norms 5 and 0.22
    before = weight.copy()
    got = _np(backend, max_norm(backend.asarray(weight), 1.0))
    np.testing.assert_allclose(got[:, 0], [0.6, 0.8])  # onto the unit sphere, direction kept
    np.testing.assert_array_equal(got[:, 1], weight[:, 1])
    np.testing.assert_array_equal(weight, before)


def test_apply_max_norm_projects_weights_in_place_and_leaves_biases(backend):
    layer = Linear(backend, 4, 3, seed=0)
    layer.weight.data = backend.asarray(10.0 * np.ones((4, 3)))
    layer.bias.data = backend.asarray(10.0 * np.ones(3))
    apply_max_norm(layer.parameters(), 3.0)
    np.testing.assert_allclose(np.linalg.norm(_np(backend, layer.weight.data), axis=0), 3.0)
    np.testing.assert_array_equal(_np(backend, layer.bias.data), 10.0)


def _payload(seed: int, constrain) -> dict[str, np.ndarray]:
    """The check's payload for the weights and limits of ``seed`` (each case's scaled by a
    factor, as a grading draws them), outputs by ``constrain``."""
    rng, out = np.random.default_rng(seed), {}
    for what, shape, scales, nominal in q.CASES:
        factor = rng.uniform(0.4, 2.5)
        weight, limit = factor * q._weights(rng, shape, scales), factor * nominal
        out[what] = constrain(weight, limit)
        out[f"{what}: the weight given"], out[f"{what}: the limit given"] = weight, limit
    return out


def _reference(weight: np.ndarray, limit: float) -> np.ndarray:
    return np.asarray(max_norm(weight, limit))


def _check():
    from nlpdojo.plugins import get_registry

    return get_registry().get("exercise", "cnn_text").check("max_norm.values")


@pytest.mark.parametrize("mistake,wrong", [(m, f) for m, f in zip(
    q.MISTAKES, (q._rows, q._stretched, q._whole), strict=True)],
    ids=["rows", "stretched", "whole"])
def test_each_mistake_is_named_whatever_the_draw(mistake, wrong):
    """Each named mistake differs from the constraint on some case and is named, on every
    draw."""
    for seed in range(5):
        expected = _payload(seed, _reference)
        verdict = _check().judge(_payload(seed, wrong), expected)
        assert not verdict.passed and mistake in verdict.message


def test_a_mistake_that_matches_one_case_only_is_not_named():
    """A clip of every entry to [−s, s] equals the row norm's output on the zero column
    only: it fails, and no mistake is named (once the first matching case named one)."""
    def clipped(weight, limit):
        return np.clip(weight, -limit, limit)

    verdict = _check().judge(_payload(0, clipped), _payload(0, _reference))
    assert not verdict.passed
    assert not any(m in verdict.message for m in q.MISTAKES), verdict.message


def test_torch_renorms_own_epsilon_passes():
    """An honest constraint written as torch's, limit / (norm + 1e-7), differs from the
    reference's 1e-12 by about 1e-7 relative: it lost the whole point at rtol 1e-9 (found by a
    reviewer); torch.renorm itself is a right answer."""
    def torch_eps(weight, limit):
        norms = np.linalg.norm(weight, axis=0, keepdims=True)
        return weight * np.minimum(1.0, limit / (norms + 1e-7))

    for seed in range(5):
        verdict = _check().judge(_payload(seed, torch_eps), _payload(seed, _reference))
        assert verdict.passed, verdict.message
