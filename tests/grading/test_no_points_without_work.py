"""A check must not pay for work that was not done: a layer whose backward adds nothing to
its parameters' gradients (a stub's ``+= 0``) once earned "gradients accumulate" (twice 0 is
2 × 0), and a constant classifier tied the chance floor of a trained-accuracy check
(test_trained_metrics.py). Accumulation is judged on right gradients only."""

from __future__ import annotations

import numpy as np

from nlpdojo.plugins import get_registry
from tests.grading.courses import edited_course
from tests.grading.test_mistakes_that_passed import _grade

CONV = "library/conv.py"
ZERO_BACKWARD = ("        windows, t_steps = cache\n",
                 "        windows, t_steps = cache\n"
                 "        return xp.zeros((grad_output.shape[0], t_steps, self.weight.shape[1]),"
                 " dtype=grad_output.dtype)\n")


def test_a_backward_that_adds_nothing_earns_no_accumulate_points(tmp_path):
    course = edited_course(tmp_path, ("library", "cnn_text"), {CONV: ZERO_BACKWARD})
    checks = _grade("cnn_text", course / "cnn_text", "conv1d")
    accumulate = {k: c for k, c in checks.items() if ".accumulate" in k}
    assert len(accumulate) == 3  # one per setting
    for check in accumulate.values():
        assert check.score == 0, (check.id, check.message)
        assert "is not right yet" in check.message
    assert sum(c.score for c in checks.values()) == 0


def test_the_accumulate_judge_pays_only_right_gradients_that_add_up():
    check = get_registry().get("exercise", "cnn_text").check("conv1d.accumulate_plain")
    right = {"once bias": np.array([1.0, -2.0]), "twice bias": np.array([2.0, -4.0])}
    assert check.judge(right, right).passed
    zeros = {"once bias": np.zeros(2), "twice bias": np.zeros(2)}
    assert not check.judge(zeros, right).passed
    overwritten = {"once bias": right["once bias"], "twice bias": right["once bias"]}
    verdict = check.judge(overwritten, right)
    assert not verdict.passed and "accumulate" in verdict.message
