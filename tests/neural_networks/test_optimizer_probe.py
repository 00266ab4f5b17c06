"""The optimizer probe (``runtime.probes.optimizer_run``) runs each trajectory on copies of
its start: an update in place, as ``torch.optim`` makes it (``p.data -= lr * p.grad``), moved
the start of the next run, and a right optimizer lost its ``state_dict`` round trip (a
newcomer's trial: plain SGD, which has no state, told to save its moments)."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.optim import Optimizer
from nlpdojo.selection import load_backend
from nlpdojo_autograder.runtime.probes import optimizer_run


class InPlaceSGD(Optimizer):
    def step(self) -> None:
        for p in self.params:
            p.data -= self.lr * p.grad  # in place, as torch.optim.SGD


class CopyingSGD(Optimizer):
    def step(self) -> None:
        for p in self.params:
            p.data = p.data - self.lr * p.grad


@pytest.mark.parametrize("cls", [InPlaceSGD, CopyingSGD])
def test_a_resumed_run_continues_the_straight_one_however_the_update_is_written(cls):
    backend = load_backend("numpy")
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    before = [p.copy() for p in params]
    grads = [[rng.normal(size=(3, 2)), rng.normal(size=4)] for _ in range(4)]
    ran = optimizer_run(cls, {"lr": 0.1}, backend, params, grads, resume_at=2)
    assert all(np.array_equal(a, b) for a, b in zip(params, before, strict=True))  # untouched
    for resumed, straight in zip(ran["resumed"], ran["trajectory"][2:], strict=True):
        for r, s in zip(resumed, straight, strict=True):
            np.testing.assert_array_equal(r, s)
    expected = before[0] - 0.1 * sum(g[0] for g in grads)
    np.testing.assert_allclose(ran["trajectory"][-1][0], expected)
