"""A layer vectorized over time declares its longer inputs as it declares its inputs
(``layer_case(..., over_time=...)``) and the time rule draws their upstream gradient at the
true output's shape: the reference's where one is measured against, else the ``torch=``
forward's, else the code under test's own (a student release without torch)."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from nlpdojo.module import Module
from nlpdojo_autograder.authoring.builders import layer_case
from nlpdojo_autograder.authoring.builders.vectorization import _true_upstream
from nlpdojo_autograder.authoring.context import BackendRef, Context
from nlpdojo_autograder.authoring.inputs import normal, padded_sentences
from nlpdojo_autograder.grading.runner import _backends
from nlpdojo_autograder.runtime.remote import LocalSubject
from tests.grading.courses import OneModule

#: the LocalSubjects these tests make are never closed: their scratch goes under tmp_path
pytestmark = pytest.mark.usefixtures("scratch_under_tmp_path")


class Pairs(Module):
    """Each two neighbouring positions added: (B, T, D) to (B, T − 1, D)."""

    def forward(self, x):
        return x[:, 1:] + x[:, :-1], None

    def backward(self, grad, cache):
        xp = self.xp
        zero = xp.zeros_like(grad[:, :1])
        return xp.concatenate([grad, zero], axis=1) + xp.concatenate([zero, grad], axis=1)


class AllPositions(Pairs):
    """A forward of the wrong length: every position kept."""

    def forward(self, x):
        return x, None




def _subject(cls: type) -> LocalSubject:
    module = types.ModuleType("m")
    module.Pairs = cls
    subject = LocalSubject(OneModule(module), _backends("numpy", None))
    subject.begin(dtype="float64", swap_in=(), workdir="w")
    return subject


def _ctx(cls: type, tmp_path: Path, reference: type | None = None, *,
         expected_only: bool = False) -> Context:
    subject, trusted = _subject(cls), None
    if reference is not None:  # measured against a reference: the code under test untrusted
        subject.isolation, trusted = "process", (lambda: _subject(reference))
    return Context(subject=subject, backend=BackendRef("numpy", None, "float64"), seed=0,
                   workdir=tmp_path, trusted=trusted, expected_only=expected_only)


def test_over_time_declares_the_longer_inputs_and_leaves_the_gradient_to_the_check(tmp_path):
    make = layer_case(inputs=padded_sentences(5, 3, 4, low=1), differentiable=(),
                      over_time=lambda factor: padded_sentences(5, 3, 4 * factor, low=1))
    (ids, lengths), grad = make(_ctx(Pairs, tmp_path)).longer(np.random.default_rng(0), 3)
    assert ids.shape == (3, 12) and lengths[0] == 12 and grad is None


@pytest.mark.parametrize("reference,torch,expected_only,length", [
    (Pairs, None, False, 5),  # the reference's shape, whatever the code under test returns
    (None, "pairs", True, 5),  # the reference's own run: the torch forward's
    # a student release's grading (no reference process): the code under test's own, whose
    # length the values check judges against the fixture's; no torch imported for it
    (None, "pairs", False, 6),
    (None, None, False, 6)])  # neither: the code under test's own
def test_the_longer_inputs_gradient_has_the_true_outputs_shape(tmp_path, reference, torch,
                                                                 expected_only, length):
    if torch:
        pytest.importorskip("torch")
        torch = lambda p, x: x[:, 1:] + x[:, :-1]  # noqa: E731 - the layer's torch forward
    make = layer_case(inputs=(normal(2, 2, 3),), names=("x",),
                      over_time=lambda factor: (normal(2, 2 * factor, 3),))
    ctx = _ctx(AllPositions, tmp_path, reference, expected_only=expected_only)
    case = make(ctx)
    xs, _ = case.longer(np.random.default_rng(0), 3)
    grad = _true_upstream(ctx, ctx.function("m", "Pairs"), case, xs, torch,
                          np.random.default_rng(1))
    assert np.shape(grad) == (2, length, 3)
