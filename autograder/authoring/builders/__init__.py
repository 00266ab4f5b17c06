"""Check builders: the shapes most questions take, so that a question costs a few lines.

* :func:`layer_checks`: a layer (a :class:`~nlpdojo.module.Module`): forward values and every
  gradient against the reference; gradients of every parameter and input by central
  differences of the student's own forward (and torch autograd as a second oracle on the torch
  backend, where the question gives the true function in torch); gradients that accumulate over
  two backward passes; a layer applied several times before backward (backpropagation through
  time: what backward needs must travel in the cache of each call); a hidden case.
* :func:`loss_checks`: a loss: value (a 0-d array) and dL/d(prediction) against the reference,
  and by central differences.
* :func:`optimizer_checks`: an optimizer: the parameter trajectory over several steps against
  the reference and, where torch is installed in the grader, against ``torch.optim`` with
  identical settings; a ``state_dict`` round trip that must resume the trajectory exactly.
* :func:`function_check`: a plain function's outputs against the reference.
* :func:`calls_check`: the outputs of several calls (:func:`call`) against the reference's:
  one function on several inputs, several functions on one input, a call chained on another.
* :func:`function_checks`: a function returning a loss and its gradients (``loss, grad_a,
  ... = f(a, ...)``): values against the reference, a hidden case, and the gradients by
  central differences of its own loss, against the true loss and the reference's gradients.

The builders live one module per question shape (:mod:`.layer`, :mod:`.sequence`,
:mod:`.loss`, :mod:`.optimizer`, :mod:`.function`, :mod:`.metric`) over their shared parts
(:mod:`.cases`, :mod:`.wire`, :mod:`.points`, :mod:`.vectorization`, :mod:`.torch_oracle`,
:mod:`.saturation`; :mod:`.padded`, torch oracles of models over padded sentences;
:mod:`.torch_cnn`, torch oracles' parts of convolutional layers; :mod:`.dropout`, an
inverted-dropout layer's statistics); this
package exports what a topic declares its checks with.

Everything the student's code computes comes back as data through the probes of
:mod:`nlpdojo_autograder.runtime.probes`; inputs, parameter values, perturbations, comparisons and
the torch oracle are the grader's. Inputs are drawn by spec and outputs inspected with the
helpers of :mod:`.inputs`. Each builder returns a list of checks to put in an
:class:`~.checks.Exercise`; their ids are ``<question>.<name>``.

Lecture: CS224n lecture 3-4 (backpropagation, gradient checking); CS231n's layer caches.
"""
from __future__ import annotations

from nlpdojo_autograder.authoring.builders.cases import (
    LayerCase,
    Parity,
    Variant,
    layer_case,
    stand_in_cell,
    state_of,
)
from nlpdojo_autograder.authoring.builders.function import (
    Call,
    GradientOf,
    call,
    calls_check,
    function_check,
    function_checks,
    literal,
)
from nlpdojo_autograder.authoring.builders.layer import layer_checks, torch_check
from nlpdojo_autograder.authoring.builders.loss import LossCase, loss_checks
from nlpdojo_autograder.authoring.builders.metric import Metric, metric_checks
from nlpdojo_autograder.authoring.builders.optimizer import OptimizerCase, optimizer_checks
from nlpdojo_autograder.authoring.builders.padded import (
    TORCH_DIRECTIONS,
    torch_packed,
    torch_pooled,
)
from nlpdojo_autograder.authoring.builders.points import GRAINS, split_points, with_hint
from nlpdojo_autograder.authoring.builders.saturation import Saturated, saturating_offsets
from nlpdojo_autograder.authoring.builders.sequence import (
    FinalState,
    final_state_check,
    sequence_checks,
    stack_case,
)
from nlpdojo_autograder.authoring.builders.torch_oracle import torch_layout, torch_twin
from nlpdojo_autograder.authoring.builders.vectorization import counted_lines, require_vectorized
from nlpdojo_autograder.authoring.builders.wire import run_layer, send_argument, stable_call
from nlpdojo_autograder.authoring.inputs import drawn_setting, settings_rng

__all__ = [
    "Call", "FinalState", "GRAINS", "GradientOf", "LayerCase", "LossCase", "Metric",
    "OptimizerCase", "Parity", "Saturated", "TORCH_DIRECTIONS", "Variant", "call", "calls_check",
    "counted_lines",
    "drawn_setting", "final_state_check", "function_check", "function_checks", "layer_case",
    "layer_checks", "literal",
    "loss_checks", "metric_checks", "optimizer_checks", "require_vectorized", "run_layer",
    "saturating_offsets", "send_argument", "sequence_checks", "settings_rng", "split_points",
    "stable_call", "stack_case", "stand_in_cell", "state_of", "torch_check", "torch_layout",
    "torch_packed", "torch_pooled", "torch_twin", "with_hint",
]
