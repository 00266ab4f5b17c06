"""The given toy functions of the gradient-checker question run on arrays of any device: on a
GPU the grader's checks call them with CUDA arrays (a CPU weight beside a CUDA input failed
``gradcheck`` on an H100), and the strict backend's second device reproduces that here."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_solutions.neural_networks.toy_functions import log_sum_exp, weighted_cubes


@pytest.mark.parametrize("function", [weighted_cubes, log_sum_exp])
def test_a_given_function_gives_the_same_value_on_the_strict_backends_other_device(function):
    x = np.random.default_rng(0).normal(size=(3, 4))
    strict = load_backend("strict", None, "float64")
    on_device = strict.asarray(x)
    assert "device1" in repr(on_device.device)  # not the default device
    expected = float(function(x))
    assert float(function(on_device)) == pytest.approx(expected, rel=1e-12)


def test_the_strict_backend_refuses_an_array_made_without_a_device_beside_its_own():
    strict = load_backend("strict", None, "float64")
    xp = strict.xp
    with pytest.raises(ValueError, match="different devices"):
        strict.asarray(np.ones(3)) + xp.arange(3, dtype=xp.float64)
