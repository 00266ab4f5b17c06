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

Everything the student's code computes comes back as data through the probes of
:mod:`nlpdojo_autograder.runtime.probes`; inputs, parameter values, perturbations, comparisons and
the torch oracle are the grader's. Inputs are drawn by spec and outputs inspected with the
helpers of :mod:`.inputs`. Each builder returns a list of checks to put in an
:class:`~.checks.Exercise`; their ids are ``<question>.<name>``.

Lecture: CS224n lecture 3-4 (backpropagation, gradient checking); CS231n's layer caches.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.at_scale import (
    MIN_AT_SCALE_NUMBERS,
    built_with,
    gate,
    on_reference,
    reference_subject,
    require_at_scale,
    require_function_at_scale,
)
from nlpdojo_autograder.authoring.at_scale import leaves as _leaves
from nlpdojo_autograder.authoring.checks import (
    NAMED_MISTAKE,
    Check,
    CheckFailure,
    Context,
    Payload,
    Verdict,
)
from nlpdojo_autograder.authoring.compare import EVAL_KEY, Nonfinite, compare_payloads
from nlpdojo_autograder.authoring.inputs import Inspect
from nlpdojo_autograder.authoring.kinds import (
    MISTAKE_KEY,
    MISTAKES_NEED_TORCH,
    NEEDS_TORCH,
    GradientProblem,
    computed_mistake,
    custom_check,
    gradient_check,
    metric_check,
    mistaken_outputs,
    value_check,
    without_guesses,
)
from nlpdojo_autograder.runtime.calls import StudentError
from nlpdojo_autograder.runtime.channel import MAX_NDIM

#: how a layer's points are shared among its checks
LAYER_SHARES = {"values": 0.3, "hidden": 0.1, "eval": 0.1, "gradients": 0.3, "repeated": 0.15,
                "accumulate": 0.15, "saturated": 0.15}


@dataclass
class LayerCase:
    """One case of a layer check, drawn by the check from ``ctx.rng()``.

    ``args``/``kwargs`` build the layer (``ctx.backend`` stands for the backend);
    ``params`` sets every parameter by dotted name (so the student's and the reference's
    layers compute with the same values); ``inputs(rng)`` draws the inputs of one application
    (float arrays are sent in the check's dtype, integer arrays as int64; an input may be a
    tuple of arrays, a state ``(h, c)``); ``differentiable`` names the positions of the inputs
    that get a gradient.

    ``names`` names the inputs in feedback and payloads (``("x", "h_prev")``: "dL/dh_prev";
    a tuple input gets a tuple of names, ``("x", ("h_prev", "c_prev"))``); without them an
    input is "input 0". ``outputs`` names the arrays of an output that is a tuple
    (``("h", "c")``). ``cells``: ``{dotted path: stand_in_cell(kind, D, H)}``, the sub-modules a
    sequence check replaces with the grader's stand-in cells (:func:`sequence_checks`).
    """

    args: tuple
    params: dict[str, np.ndarray]
    inputs: Callable[[np.random.Generator], tuple[Any, ...]]
    kwargs: dict[str, Any] = field(default_factory=dict)
    differentiable: tuple[int, ...] = (0,)
    train: bool = True
    names: tuple[Any, ...] | None = None
    outputs: tuple[str, ...] | None = None
    cells: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    #: axis 0 of every input, output and gradient is the batch: the values check also runs
    #: forward and backward on a batch :data:`BATCH_FACTOR` times as large (``inputs`` drawn
    #: that many times), and fails a layer whose Python grows with the batch
    #: (:func:`_require_batch_vectorized`)
    batched: bool = True
    #: keyword arguments of the question's ``torch`` forward: the settings drawn for this
    #: case (a leaky ReLU's slope), which the torch forward needs as the layer does
    torch_kwargs: dict[str, Any] = field(default_factory=dict)
    #: for a layer vectorized over time too (a convolution, a pooling over time; not a
    #: recurrence): ``longer(rng, factor)`` gives the inputs and upstream gradient of one
    #: application whose time axis (axis 1 of the first input) is ``factor`` times the
    #: case's; the values check then fails a layer whose Python grows with the sentence's
    #: length (:func:`_require_time_vectorized`)
    longer: Callable[[np.random.Generator, int], tuple[tuple[Any, ...], Any]] | None = None
    #: the keyword arguments that are sizes (a CNN's ``filters``), which its case at scale may
    #: set otherwise; every other keyword argument is how the layer is built and must be the
    #: same there (:func:`_same_configuration`)
    sizes: frozenset[str] = frozenset()
    #: sizes equal by construction, by where :func:`_sizes` says them (``"argument 1"``, a
    #: keyword's name): a residual block's identity shortcut has as many channels out as in.
    #: Every other two sizes must differ in the case or the case at scale
    #: (:func:`_sizes_told_apart`); another check of the question tells these apart
    tied: frozenset[str] = frozenset()


#: what a layer's gradient checks differentiate, as feedback names it (a layer has no loss:
#: the objective is its output times the check's upstream gradient)
LAYER_OBJECTIVE = ("objective sum(output * G) (your forward's output times the check's "
                   "upstream gradient G)", "the forward")

#: how many times the values check of a layer repeats its batch to look for Python loops
BATCH_FACTOR = 3
#: the most numbers a layer check's output may hold (all its outputs together): the cases'
#: outputs hold at most a few hundred, and the grader allocates upstream gradients of the
#: shape the code under test reports
MAX_LAYER_OUTPUT = 1 << 20


#: the offset of the generators of the batch rule's other draws (apart from the check's own)
BATCH_OFFSET = 0xBA7C


def _joined(parts: list[Any]) -> Any:
    """The draws ``parts`` (each an array, or a tuple or list of them, of one structure)
    joined along axis 0, array by array (a 0-d array, a setting, is the first's)."""
    first = parts[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_joined([p[i] for p in parts]) for i in range(len(first)))
    arrays = [np.asarray(p) for p in parts]
    if not arrays[0].ndim:
        return arrays[0]
    if any(a.shape[1:] != arrays[0].shape[1:] or a.dtype != arrays[0].dtype for a in arrays):
        raise CheckFailure("internal: the case's inputs(rng) drew arrays of other shapes or "
                           "dtypes on another generator; the batch rule joins draws of one "
                           "shape along axis 0")
    return np.concatenate(arrays, axis=0)


def _varied(x: Any, rng: np.random.Generator) -> Any:
    """``x`` with each float number scaled by its own factor in [1, 1.01] (signs and zeros
    kept; integers as they are)."""
    if isinstance(x, (tuple, list)):
        return type(x)(_varied(a, rng) for a in x)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        return x
    return x * (1.0 + 0.01 * rng.random(x.shape))


def _batch(ctx: Context, factor: int, draw: Callable[[np.random.Generator], Any]) -> Any:
    """The batch rule's batch ``factor`` times the case's: ``factor`` draws joined along axis
    0, each on a generator of its own, none shared with the other size's batch nor with any
    input the code under test was given before. Not the case's batch repeated, nor holding
    it: a loop over the distinct rows (``np.unique(x, axis=0)``), or one that kept the rows it
    saw in an earlier call, ran no more on the larger batch than on the smaller (found by an
    attacker: affine 3 of 3 with a loop over the rows, each way)."""
    start = 0 if factor == 1 else 1
    return _joined([draw(ctx.rng(BATCH_OFFSET + start + k)) for k in range(factor)])


def _require_batch_vectorized(ctx: Context, module: str, cls: str, case: LayerCase,
                              inputs: tuple[Any, ...], grad: Any) -> None:
    """Fail unless one forward and backward of ``module.cls`` runs as many lines of the
    submission's Python on :data:`BATCH_FACTOR` times the batch as on the batch itself (probe
    ``python_lines``: deterministic, no timing). A loop over the rows of the batch, or over
    its tokens, runs at least one more line per added row; loops over time steps or layers
    do not grow with the batch."""
    token = ctx.function(module, cls)
    lines = []
    for factor in (1, BATCH_FACTOR):
        xs = _batch(ctx, factor, case.inputs)
        g = _batch(ctx, factor, lambda r: _varied(grad, r))
        lines.append(counted_lines(
            ctx, f"{cls}.forward and .backward", ctx.probe("layer_run"),
            lambda xs=xs, g=g: [token, tuple(case.args), case.kwargs, _params(ctx, case),
                                [[_send(ctx, a) for a in xs]], [_send(ctx, g)]],
            {"train": case.train, "cells": case.cells or None}, root_of=token))
    rows = len(_leaves(inputs)[0]) if np.ndim(_leaves(inputs)[0]) else 1
    added = (BATCH_FACTOR - 1) * rows
    if lines[1] - lines[0] >= added:
        raise CheckFailure(
            f"{cls}.forward and .backward, one call of each, run {lines[0]:,} lines of Python "
            f"in all for a batch of {rows} and {lines[1]:,} for a batch of "
            f"{BATCH_FACTOR * rows}: a Python loop over the batch or its tokens (a for loop, a "
            "comprehension) in one of them or both. A layer is vectorized over "
            "the batch: whole-array operations of the namespace on (B, ...) arrays (xp.matmul, "
            "broadcasting, xp.sum(..., axis=0), backend.scatter_add for repeated ids), looping "
            "only over what must come in order, such as time steps")


#: how many times the values check lengthens a layer's sentences to look for loops over time
TIME_FACTOR = 3
#: the offset of the generator of those longer inputs (apart from the check's other draws)
TIME_OFFSET = 0x7135


def _require_time_vectorized(ctx: Context, module: str, cls: str, case: LayerCase) -> None:
    """Fail unless one forward and backward of ``module.cls`` runs as many lines of the
    submission's Python on sentences :data:`TIME_FACTOR` times as long (``case.longer``) as on
    the case's (probe ``python_lines``: deterministic, no timing). A loop over the positions of
    a sentence (a window at a time, a running max) runs at least one more line per added
    position, of the input or of the output where it has a time axis (a strided convolution's
    fewer windows); a loop over a convolution's taps does not grow with the length."""
    assert case.longer is not None
    token = ctx.function(module, cls)
    lines, lengths, outputs = [], [], []
    for factor in (1, TIME_FACTOR):
        xs, g = case.longer(ctx.rng(TIME_OFFSET), factor)
        lengths.append(int(np.shape(_leaves(xs)[0])[1]))
        outputs.append(int(np.shape(_leaves(g)[0])[1]) if np.ndim(_leaves(g)[0]) > 2 else 0)
        try:
            lines.append(counted_lines(
                ctx, f"{cls}.forward and .backward", ctx.probe("layer_run"),
                lambda xs=xs, g=g: [token, tuple(case.args), case.kwargs, _params(ctx, case),
                                    [[_send(ctx, a) for a in xs]], [_send(ctx, g)]],
                {"train": case.train, "cells": case.cells or None}, root_of=token))
        except StudentError:
            # the upstream gradient has the true output's shape: a forward whose shape is
            # wrong at this length is told so, not its backward's error on it (without torch
            # in the grader nothing else had said it: a strided Conv1d's T_out off by one)
            shape = _output_shape(ctx, token, case, tuple(_host(a) for a in xs))
            _same_output_shapes([np.shape(leaf) for leaf in _leaves(g)], list(shape)
                                if shape and isinstance(shape[0], tuple) else [shape])
            raise
    # a loop over the output's positions grows by a line each: with a stride of 3 there are
    # a third as many as input positions (a strided Conv1d looping over its windows passed)
    grown = lengths[1] - lengths[0]
    if outputs[1] > outputs[0]:
        grown = min(grown, outputs[1] - outputs[0])
    if lines[1] - lines[0] >= grown:
        raise CheckFailure(
            f"{cls}.forward and .backward run {lines[0]:,} lines of Python on sentences of "
            f"{lengths[0]} positions and {lines[1]:,} on sentences of {lengths[1]}: a Python "
            "loop over the positions (a window or a step at a time). This layer is vectorized "
            "over time too: whole-array operations on (B, T, ...) arrays (gather every window "
            "at once, or loop over the kernel's few taps; xp.max and xp.argmax along the time "
            "axis), as the lecture's convolution and pooling are")


#: a backward may run this many times its forward's lines of Python, and this many more: a
#: backward derived by hand runs about as many as the forward (twice as many for the LSTM's
#: gates, a loop over time steps in both); one computed by differencing the forward runs the
#: forward again for each coordinate it perturbs (an attacker's LSTM cell: hundreds of times).
#: The forward measured is the reference's on the same call where there is a reference (the
#: submission's own forward could be padded with a loop that does nothing, raising its own
#: allowance: found by an attacker, a max pooling's backward by central differences 1.5 of
#: 1.5); a student release, which has none, measures the submission's forward
BACKWARD_LINES_RATIO, BACKWARD_LINES_SLACK = 8, 60


def _backward_lines_rule(cls: str, counted: Any, yardstick: Any = None) -> None:
    """Fail a backward that runs far more lines than a forward (:data:`BACKWARD_LINES_RATIO`;
    ``counted``: a probe's ``{"forward": lines, "backward": lines, ...}`` for the code under
    test, ``yardstick``: the same probe's count for the reference on the same call, or None):
    one that differences the forward instead of applying the chain rule."""
    for measured in (counted, yardstick):
        if measured is not None and (not isinstance(measured, dict)
                                     or not {"forward", "backward"} <= set(measured)):
            raise CheckFailure(f"internal: the line count of {cls} came back as "
                               f"{type(measured)}")
    backward = int(counted["backward"])
    forward = int((yardstick or counted)["forward"])
    whose = "the reference's forward" if yardstick is not None else "its forward"
    if backward > BACKWARD_LINES_RATIO * forward + BACKWARD_LINES_SLACK:
        raise CheckFailure(
            f"{cls}.backward runs {backward:,} lines of Python where {whose} runs "
            f"{forward:,}: a backward that evaluates the forward again and again (central "
            "differences, one coordinate at a time) is numerical differentiation, not "
            "backpropagation. Derive each gradient with the chain rule from what forward "
            "cached, as whole-array operations (the lecture's backward for this layer)")


def _reference_lines(ctx: Context, probe: str, *args: Any, **kwargs: Any) -> Any:
    """The reference's line counts of probe ``probe`` on the same call (the yardstick of
    :func:`_backward_lines_rule`), None where there is no reference to measure."""
    reference = reference_subject(ctx)
    return None if reference is None else on_reference(reference, probe, *args, **kwargs)


def _require_derived_backward(ctx: Context, module: str, cls: str, case: LayerCase,
                              inputs: tuple[Any, ...], grad: Any) -> Any:
    """Fail a backward pass that differences the forward instead of applying the chain rule:
    it runs the forward's Python once or twice per perturbed coordinate, far more lines than
    a forward (probe ``forward_backward_lines``: deterministic, no timing). Returns
    the input gradients of that traced run, for :func:`_same_when_traced`."""
    token = ctx.function(module, cls)
    call = (token, tuple(case.args), case.kwargs, _params(ctx, case),
            [_send(ctx, a) for a in inputs], _send(ctx, grad))
    options = {"train": case.train, "cells": case.cells or None}
    counted = ctx.probe("forward_backward_lines")(*call, **options)
    _backward_lines_rule(cls, counted,
                         _reference_lines(ctx, "forward_backward_lines", *call, **options))
    return counted.get("input_grads")


def _same_when_traced(ctx: Context, cls: str, traced: Any, untraced: Any) -> None:
    """Fail where the backward gave other input gradients while its lines were counted than
    on the same inputs untraced (code that notices the tracer, ``sys.gettrace()``, to run a
    cheap backward there and an expensive one elsewhere): :func:`_same_results`."""
    if not _same_results(ctx, traced, untraced):
        raise CheckFailure(
            f"{cls}.backward gave other gradients on the same inputs in two runs (one of "
            "them with its lines counted): a backward must be a function of its upstream "
            "gradient and cache only, the same whoever calls it")


def _send(ctx: Context, x: Any) -> Any:
    """An input as the code under test receives it (a tuple of arrays stays a tuple, a list
    of states a list)."""
    if isinstance(x, (tuple, list)):
        return type(x)(_send(ctx, a) for a in x)
    x = np.asarray(x)
    return ctx.asarray(x, np.int64) if np.issubdtype(x.dtype, np.integer) else ctx.asarray(x)


def _host(x: Any) -> Any:
    """A drawn input as NumPy (a tuple of arrays stays a tuple, a list a list)."""
    return type(x)(_host(a) for a in x) if isinstance(x, (tuple, list)) else np.asarray(x)


def _rebuild(tree: Any, leaves: list[Any]) -> Any:
    """``tree``'s structure filled with ``leaves`` in order (consumed from the front)."""
    if isinstance(tree, (tuple, list)):
        return type(tree)(_rebuild(item, leaves) for item in tree)
    return leaves.pop(0)


def _grad_outputs(ctx: Context, shape: Any, applications: int) -> list[Any]:
    """One upstream gradient per application, of the output's shape (a tuple for a tuple)."""
    rng = ctx.rng(2)

    def draw(s: Any) -> Any:  # a shape (ints), or a tuple of shapes for a tuple output
        if s and isinstance(s[0], tuple):
            return tuple(draw(x) for x in s)
        return rng.standard_normal(s)

    return [draw(shape) for _ in range(applications)]


def _input_names(case: LayerCase, inputs: tuple[Any, ...]) -> list[tuple[int, str]]:
    """``(position, name)`` of every array of the differentiable inputs, in order: the
    case's ``names``, or "input i" ("input i.j" inside a tuple input)."""
    out = []
    for i in case.differentiable:
        given = case.names[i] if case.names is not None else None
        if isinstance(inputs[i], (tuple, list)):
            if isinstance(given, str):  # one name for the whole state: state0[0], state0[1][0]
                out += [(i, name) for name in _leaf_paths(inputs[i], given)]
            else:
                out += [(i, given[j] if given else f"input {i}.{j}")
                        for j in range(len(_leaves(inputs[i])))]
        else:
            out.append((i, given or f"input {i}"))
    return out


def _leaf_paths(tree: Any, prefix: str) -> list[str]:
    """The names of a nested state's arrays by their index: ``state0[1][0]``."""
    if isinstance(tree, (tuple, list)):
        return [path for k, item in enumerate(tree) for path in _leaf_paths(item,
                                                                             f"{prefix}[{k}]")]
    return [prefix]


def _grad_key(case: LayerCase, name: str) -> str:
    """The payload key of dL/d(input): "dL/dh_prev" for a named input, "grad input 0"."""
    return f"dL/d{name}" if case.names is not None else f"grad {name}"


def _output_payload(ctx: Context, cls: str, case: LayerCase, output: Any) -> Payload:
    """The forward's output by name: ``output``, or one entry per array of a tuple."""
    if not isinstance(output, (tuple, list)):
        return {"output": ctx.to_numpy(output, f"{cls}.forward's output")}
    names = case.outputs or tuple(f"output {k}" for k in range(len(output)))
    if len(names) != len(output):
        raise CheckFailure(f"{cls}.forward's output holds {len(output)} arrays; it should hold "
                           f"{len(names)}: {', '.join(names)}")
    return {n: ctx.to_numpy(o, f"{cls}.forward's {n}") for n, o in zip(names, output,
                                                                      strict=True)}


def stand_in_cell(kind: str, input_size: int, hidden_size: int) -> tuple[str, int, int]:
    """The spec of a grader stand-in cell (:data:`nlpdojo_autograder.runtime.probes.
    STAND_IN_CELLS`) for :attr:`LayerCase.cells`: ``"array"`` (state h) or ``"pair"`` (state
    (h, c))."""
    if kind not in ("array", "pair"):
        raise ValueError(f"stand-in cell kind {kind!r}: choose 'array' (state h) or 'pair' "
                         "(state (h, c))")
    return (kind, int(input_size), int(hidden_size))


def _with_cells(ctx: Context, case: LayerCase) -> LayerCase:
    """``case`` with the parameters of its stand-in cells drawn (the same for the student's run
    and the reference's: from the check's seed)."""
    if not case.cells:
        return case
    rng, params = ctx.rng(3), dict(case.params)
    for path, (_, d, h) in sorted(case.cells.items()):
        params[f"{path}.weight_x"] = rng.standard_normal((d, h)) / np.sqrt(d)
        params[f"{path}.weight_h"] = rng.standard_normal((h, h)) / np.sqrt(h)
        params[f"{path}.bias"] = 0.5 * rng.standard_normal(h)
    return dataclasses.replace(case, params=params)


class _NotGiven:
    """``at_scale`` left out (:data:`NOT_GIVEN`)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: the default of every builder's ``at_scale``: a layer with parameters, an unroll and a
#: function that returns its gradients must name their case at scale, or say ``None`` in the
#: open (:func:`_at_scale_of`)
NOT_GIVEN: Any = _NotGiven()


def _at_scale_of(builder: str, question: str, name: str, at_scale: Any,
                 parameters: bool = True) -> Any:
    """``at_scale`` as given; left out, None for code without parameters, else an error that
    says what to write (a backward computed by numerical differentiation of the forward, one
    run over K perturbed copies, is only stopped by the run at scale)."""
    if at_scale is not NOT_GIVEN:
        return at_scale
    if not parameters:
        return None
    raise ValueError(
        f"{builder}({question!r}, ..., {name!r}) names no case at scale: give at_scale=, the "
        "question's case at a size of at least "
        f"{MIN_AT_SCALE_NUMBERS:,} parameters and inputs (its case factory at other sizes, "
        "weights scaled by 1/sqrt(fan-in)), where a backward that differentiates the forward "
        "numerically cannot finish; or at_scale=None to say in the open that it has none "
        "(docs/authoring.md, 'What every check of a kind requires')")


def layer_checks(question: str, module: str, cls: str, make: Callable[[Context], LayerCase], *,
                 title: str, points: float, repeat: int = 3, hidden: bool = True,
                 torch: Callable[..., Any] | None = None, rtol: float = 1e-6,
                 eval_mode: bool = False, parameters: bool = True,
                 shares: dict[str, float] | None = None, hints: dict[str, str] | None = None,
                 nonfinite: Nonfinite = None,
                 mistakes: dict[str, Callable[[Payload], Payload]] | None = None,
                 forward_mistakes: dict[str, Callable[..., Any]] | None = None,
                 backward_mistakes: dict[str, Callable[..., Any]] | None = None,
                 at_scale: Callable[[Context], LayerCase] | None = NOT_GIVEN,
                 saturated: Saturated | None = None,
                 **options: Any) -> list[Check]:
    """The checks of a layer ``module.cls`` (``..library.layers``, ``Linear``).

    ``make(ctx)`` returns the :class:`LayerCase`. ``torch``: the true forward in torch, a
    function of ``(params: dict of tensors, *inputs)`` returning the output (or use
    :func:`torch_twin` for a ``torch.nn`` module); where torch is installed in the grader, its
    autograd gradients are a second oracle of the gradient check, on every backend
    (:func:`torch_check` adds a check of its own against it). ``parameters=False``: a layer
    without parameters (an activation, dropout) has nothing to accumulate, so that check is
    left out and its share of the points goes to the others. ``shares``: how the question's
    ``points`` are split, over :data:`LAYER_SHARES` (``{"eval": 0.45}`` where eval mode is half
    of what the layer teaches, as for dropout). ``hints``: ``{check name: hint}`` added to a
    failed check's message (:func:`with_hint`). ``nonfinite``: what a NaN or inf in the
    output means for this layer, said instead of the general causes (a pooling layer's −inf is
    a padded position kept, not a log(0)). ``mistakes``: known wrong variants named by the
    values and hidden checks (:func:`~.kinds.value_check`; a variant may give ``output``
    alone: only what it gives is compared). ``forward_mistakes``: known wrong forwards that
    need the check's inputs (a kernel flipped, the padding left in a max), each written in
    torch as ``torch`` is, ``{"what the student did (the fix)": f(params, *inputs)}``; the
    grader runs them on the check's own inputs (where torch is installed) and an output equal
    to one's is told which mistake it is, by the values, hidden and torch checks.
    ``backward_mistakes``: known wrong backwards, each written as a torch forward with the
    right outputs whose autograd gradients are that backward's (a path the student's backward
    leaves out is cut with ``.detach()`` there): outputs and every gradient equal to one's are
    told which mistake it is, by the same checks.
    ``at_scale``: the layer's case at a size where a backward that differentiates the forward
    numerically cannot finish (at least :data:`~.at_scale.MIN_AT_SCALE_NUMBERS` parameters
    and differentiable input numbers); every check that runs the backward then requires the
    code under test to give the reference's output and gradients there too (:mod:`.at_scale`).
    ``saturated``: a layer with a nonlinearity (a gate's sigmoid, a tanh) gets a check of its
    own on a case whose pre-activations overflow a naive formula (:class:`Saturated`): its
    output and gradients there against the reference's, a NaN or inf named as the overflow.
    ``options`` go to every check (``swap_in``, ``timeout_s``...).
    """
    run = _layer_runner(module, cls, make, torch)
    computed = (*(forward_mistakes or ()), *(backward_mistakes or ()))

    def values(ctx: Context, train: bool | None = None) -> Payload:
        ran = run(ctx, 1, train=train)
        result, case = ran["result"], ran["case"]
        if train is None and case.batched:  # a Python loop over the batch or its tokens?
            _require_batch_vectorized(ctx, module, cls, case, ran["inputs"][0], ran["grads"][0])
        if train is None and case.longer is not None:  # ... or over the positions?
            _require_time_vectorized(ctx, module, cls, case)
        payload = _output_payload(ctx, cls, case, _first(result, "outputs"))
        # eval mode after training, twice, at a larger batch: in the values check, or in the
        # eval check where the question has one (not both: one mistake, one check's points)
        if (train is None and not eval_mode and case.train is not False) or (
                train is False and eval_mode):
            payload.update(_eval_outputs(ctx, module, cls, case, ran["inputs"][0],
                                         ran["grads"][0]))
        payload.update(_input_grads(ctx, cls, case, ran["inputs"][0], result))
        payload.update({f"grad {n}": ctx.to_numpy(g, f"the gradient of {n}")
                        for n, g in _named(result, "param_grads").items()})
        if computed and not ctx.expected_only:
            payload.update(_mistakes_of_layer(forward_mistakes, backward_mistakes, case,
                                              ran["inputs"][0], ran["grads"][0]))
        return payload

    def gradients(ctx: Context, applications: int) -> GradientProblem:
        ran = run(ctx, applications)
        case, inputs, grads, result = ran["case"], ran["inputs"], ran["grads"], ran["result"]
        objective = ctx.probe("layer_objective")
        cls_token = ctx.function(module, cls)
        point: dict[str, np.ndarray] = {n: np.asarray(v, np.float64)
                                        for n, v in case.params.items()}
        analytic: dict[str, Any] = dict(_named(result, "param_grads"))
        # the input gradients of every application (each call's own: a layer that keeps its
        # cache on self gets the earlier calls' wrong, parameters or not)
        labels = [_call_label(a, applications) for a in range(applications)]
        for a, label in enumerate(labels):
            named = _input_names(case, inputs[a])
            arrays = [x for i in case.differentiable for x in _leaves(inputs[a][i])]
            for (_, name), x in zip(named, arrays, strict=True):
                point[f"{name}{label}"] = np.asarray(x, np.float64)
            grads_a = _input_grads(ctx, cls, case, inputs[a], result, a, applications)
            analytic.update({f"{name}{label}": grads_a[_grad_key(case, name) + label]
                             for _, name in named})

        def perturbed(x: tuple[Any, ...], label: str, values: dict[str, np.ndarray]) -> list:
            names = iter(_input_names(case, x))
            out = []
            for i, x_i in enumerate(x):
                if i not in case.differentiable:
                    out.append(_send(ctx, x_i))
                    continue
                leaves = [values.get(f"{next(names)[1]}{label}", leaf) for leaf in _leaves(x_i)]
                out.append(_send(ctx, _rebuild(x_i, leaves)))
            return out

        def loss(values: dict[str, np.ndarray]) -> float:
            params = {n: ctx.asarray(values[n]) for n in case.params}
            xs = [perturbed(x, label, values) for x, label in zip(inputs, labels, strict=True)]
            return float(objective(cls_token, tuple(case.args), case.kwargs, params, xs,
                                   [_send(ctx, g) for g in grads], train=case.train,
                                   cells=case.cells or None, names=case.names))

        # applied more than once, the parameters' gradient is every call's summed: the one-call
        # check differences it coordinate by coordinate, here random directions see a call's
        # share overwritten or lost (the judge compares it whole with the reference's)
        return GradientProblem(loss=loss, point=point, analytic=analytic,
                               autograd_loss=_autograd_loss(torch, case, inputs[0], grads[0])
                               if applications == 1 and torch is not None else None,
                               along_directions=frozenset(case.params)
                               if applications > 1 else frozenset())

    def accumulate(ctx: Context) -> Payload:
        result = run(ctx, 1, twice=True)["result"]
        return {**{f"twice {n}": ctx.to_numpy(g) for n, g in _named(result,
                                                                       "param_grads").items()},
                **{f"once {n}": ctx.to_numpy(g) for n, g in _named(result,
                                                                     "param_grads_once").items()}}

    def judge_accumulate(actual: Payload, expected: Payload | None) -> Verdict:
        # judged on right gradients only: twice 0 is 2 × 0, and a layer whose backward adds
        # nothing (a stub) must not earn this check
        def right(key: str, once: np.ndarray) -> bool:
            theirs = (expected or {}).get(key)
            return theirs is not None and np.shape(once) == np.shape(theirs) and bool(
                np.allclose(once, theirs, rtol=rtol, atol=1e-8))

        # every parameter the reference reports must be reported: a layer that hides its
        # parameters after it was built (named_parameters() empty) has nothing to judge
        unreported = sorted(key[len("once "):] for key in (expected or {})
                            if key.startswith("once ") and key not in actual)
        if unreported:
            return Verdict(False, f"no gradient came back for {', '.join(unreported)}: "
                           "every parameter is listed by named_parameters() each time it is "
                           "asked, with its gradient in .grad")
        wrong = [key[len("once "):] for key, once in actual.items()
                 if key.startswith("once ") and expected is not None and not right(key, once)]
        if wrong:
            return Verdict(False, f"the gradient of {', '.join(wrong)} after one backward pass "
                           "is not right yet (the values and gradient checks say how); that "
                           "gradients accumulate over passes is judged once it is")
        for key, once in actual.items():
            if not key.startswith("once "):
                continue
            name = key[len("once "):]
            twice = actual[f"twice {name}"]
            if not np.allclose(twice, 2 * once, rtol=1e-9, atol=1e-12):
                return Verdict(False, f"after two backward passes the gradient of {name} is not "
                               "twice that of one: gradients must accumulate (add into "
                               f"{name}.grad, `p.grad = p.grad + ...`), never be overwritten; "
                               "zero_grad() is what clears them")
        return Verdict(True, "gradients accumulate over backward passes")

    repeated = gradient_check(question, "repeated", f"{title}: applied {repeat} times before "
                              "backward", 0.0, lambda ctx: gradients(ctx, repeat),
                              objective=LAYER_OBJECTIVE, **options)
    repeated = with_hint(repeated, f"the layer was applied {repeat} times before backward (as "
                         "in an RNN over time), then backward ran once per call in reverse "
                         "order; if the one-call gradient check passes, the usual causes are "
                         "state kept on self between calls (keep what backward needs in the "
                         "cache that forward returns for each call) or a parameter's gradient "
                         "assigned instead of added (each call's backward adds its share: "
                         "p.grad += ..., never p.grad = ...)")
    checks = [
        value_check(question, "values", f"{title}: forward and backward values", 0.0, values,
                    rtol=rtol, nonfinite=nonfinite, mistakes=mistakes,
                    computed_mistakes=computed, **options),
        *([value_check(question, "hidden", f"{title}: a hidden case", 0.0, values, rtol=rtol,
                       hidden=True, nonfinite=nonfinite, mistakes=mistakes,
                       computed_mistakes=computed, **options)]
          if hidden else []),
        *([value_check(question, "eval", f"{title}: in eval mode (model.eval())", 0.0,
                       lambda ctx: values(ctx, train=False), rtol=rtol, nonfinite=nonfinite,
                       **options)]
          if eval_mode else []),
        gradient_check(question, "gradients", f"{title}: gradients by central differences",
                       0.0, lambda ctx: gradients(ctx, 1), objective=LAYER_OBJECTIVE,
                       **options),
        repeated,
        *([custom_check(question, "accumulate", f"{title}: gradients accumulate", 0.0,
                        accumulate, judge_accumulate, needs_expected=True, **options)]
          if parameters else []),
        *([_saturated_check(question, module, cls, title, saturated, torch, rtol, options)]
          if saturated is not None else []),
    ]
    checks = [with_hint(c, hints[c.name]) if c.name in (hints or {}) else c for c in checks]
    scaled = _layer_at_scale(module, cls, _at_scale_of("layer_checks", question, cls, at_scale,
                                                       parameters), make)
    return _share([gate(c, scaled) for c in checks], points, LAYER_SHARES | dict(shares or {}))


def _layer_at_scale(module: str, cls: str, at_scale: Callable[[Context], LayerCase] | None,
                    make: Callable[[Context], LayerCase] | None = None
                    ) -> Callable[[Context], None] | None:
    """What a layer's checks require at scale (:func:`~.at_scale.gate`), None without a case.
    With the checks' own case ``make``, the case at scale must build the layer the same way
    (:func:`_same_configuration`)."""
    if at_scale is None:
        return None

    def require(ctx: Context) -> None:
        if make is not None:
            case, scaled = make(ctx), at_scale(ctx)
            _same_configuration(cls, case, scaled)
            _sizes_told_apart(cls, case, scaled)
        require_at_scale(ctx, module, cls, at_scale, _layer_probe(ctx, module, cls))

    return require


#: what a NaN or inf at saturated pre-activations says, by the nonlinearity that makes it
#: (:class:`Saturated`): the overflow and the formula that avoids it
SATURATION = {
    "sigmoid": "your sigmoid returns NaN for pre-activations above 709: exp overflows there "
               "(e^710 is inf, and e^a / (1 + e^a) is inf / inf); use σ(a) = 0.5 · (1 + "
               "tanh(a / 2)), or e^−|a| on each side (1 / (1 + e^−a) where a ≥ 0, e^a / (1 + "
               "e^a) where a < 0)",
    "tanh": "your tanh returns NaN for pre-activations beyond ±355: (e^2a − 1) / (e^2a + 1) "
            "overflows to inf / inf there; use xp.tanh (or e^−2|a| with the sign put back)",
}
#: the pre-activations of a saturated case, in absolute value: past where e^a overflows in
#: float64 (709.8), so that a naive sigmoid's e^a / (1 + e^a) is NaN there
SATURATED_RANGE = (750.0, 1000.0)


@dataclass(frozen=True)
class Saturated:
    """A layer's case whose pre-activations overflow a naive formula (:func:`layer_checks`'
    ``saturated``): a gate's sigmoid written ``e^a / (1 + e^a)`` is NaN beyond a = 709, a tanh
    written with e^2a beyond 355, where the reference's stays finite. ``case`` makes it (the
    layer's sizes and parameters, a bias pushed out with :func:`saturating_offsets`, say);
    ``nonlinearities`` name the layer's nonlinearities (keys of :data:`SATURATION`), whose
    overflow the message names."""

    case: Callable[[Context], LayerCase]
    nonlinearities: tuple[str, ...] = ("sigmoid", "tanh")

    def __post_init__(self) -> None:
        unknown = [n for n in self.nonlinearities if n not in SATURATION]
        if unknown or not self.nonlinearities:
            raise ValueError(f"Saturated(nonlinearities={self.nonlinearities!r}): name one or "
                             f"more of {sorted(SATURATION)}")


def saturating_offsets(rng: np.random.Generator, blocks: int, width: int) -> np.ndarray:
    """Offsets (blocks · width,) to add to a bias of ``blocks`` gates of ``width`` units each
    (an LSTM's 4H): in each gate one unit pushed to +750..1000, one to −1000..−750, the others
    0, at units drawn per grading, so that every gate has pre-activations past the overflow on
    both sides and others where its values and gradients are not flat."""
    if width < 3:
        raise ValueError(f"saturating_offsets: width {width} leaves no unit unsaturated; "
                         "give every gate at least 3 units")
    offsets = np.zeros((blocks, width))
    for units in offsets:
        up, down = rng.choice(width, 2, replace=False)
        units[up], units[down] = rng.uniform(*SATURATED_RANGE), -rng.uniform(*SATURATED_RANGE)
    return offsets.reshape(-1)  # (blocks · width,)


def _saturated_check(question: str, module: str, cls: str, title: str, saturated: Saturated,
                     torch: Callable[..., Any] | None, rtol: float,
                     options: dict[str, Any]) -> Check:
    """The check of a layer on its :class:`Saturated` case: output, input and parameter
    gradients against the reference's; a NaN or inf where they are finite is the overflow of
    the nonlinearities it names."""
    run = _layer_runner(module, cls, saturated.case, torch)

    def values(ctx: Context) -> Payload:
        ran = run(ctx, 1)
        result, case = ran["result"], ran["case"]
        payload = _output_payload(ctx, cls, case, _first(result, "outputs"))
        payload.update(_input_grads(ctx, cls, case, ran["inputs"][0], result))
        payload.update({f"grad {n}": ctx.to_numpy(g, f"the gradient of {n}")
                        for n, g in _named(result, "param_grads").items()})
        return payload

    said = "; ".join(SATURATION[n] for n in saturated.nonlinearities)
    return value_check(question, "saturated", f"{title}: at pre-activations past the overflow "
                       "of exp (|a| > 709)", 0.0, values, rtol=rtol,
                       nonfinite=f"the pre-activations of this case reach ±{SATURATED_RANGE[0]:g} "
                       f"and more: {said}", **options)


def _same_configuration(cls: str, case: LayerCase, scaled: LayerCase) -> None:
    """An internal failure (every submission's, the reference's first) where a check's case
    builds the layer otherwise than its case at scale: another keyword argument (a pooling, a
    shortcut, a kernel width, a drop rate; not those the case names as ``sizes``) or other
    stand-in cells. Code could take another path in the check's configuration, never run at
    scale (an encoder's max and final pooling, gated by its mean pooling's case: found by an
    attacker; a QRNN of width 2 gated by a case of width 3, a CNN with dropout by one without,
    found by another)."""
    def modes(c: LayerCase) -> tuple:
        # the kinds of cell, not how many: a stack has another count of layers at scale
        kinds = sorted({spec[0] for spec in (c.cells or {}).values()})
        return (built_with(c.kwargs, case.sizes | scaled.sizes), kinds)

    if modes(case) != modes(scaled):
        raise CheckFailure(
            f"internal: the case at scale builds {cls} with {modes(scaled)}, this check's case "
            f"with {modes(case)}: give each configuration a case at scale of its own "
            "(at_scale=), or name the keyword arguments that are sizes (LayerCase.sizes)")


def _sizes(case: LayerCase) -> dict[str, int]:
    """The whole-number sizes a case builds its layer with: its positional arguments after
    the backend (``Linear(backend, D_in, D_out)``) and the keyword arguments it names as
    ``sizes``, by where they are said ("argument 2", "filters")."""
    found = {f"argument {i}": v for i, v in enumerate(case.args) if i > 0
             and isinstance(v, int) and not isinstance(v, bool)}
    found.update({k: v for k, v in case.kwargs.items() if k in case.sizes
                  and isinstance(v, int) and not isinstance(v, bool)})
    return found


def _sizes_told_apart(cls: str, case: LayerCase, scaled: LayerCase) -> None:
    """An internal failure (every submission's, the reference's first) where the checks
    cannot tell a size of the layer from a number written in or from another of its sizes:
    a size the same in the case and the case at scale (a residual block's kernel width 3 in
    both: ``kernel_size = 3`` written in kept full marks), or two sizes equal to each other in
    both (a sentence CNN with as many filters as embedding dimensions in both: filters taken
    from ``embedding_dim`` kept full marks). Found by an attacker; every size must differ in
    the case at scale, and no two sizes may be equal in both cases."""
    small, large = _sizes(case), _sizes(scaled)
    common = [k for k in small if k in large]
    same = [k for k in common if small[k] == large[k]]
    if same:
        raise CheckFailure(
            f"internal: {cls}'s {', '.join(f'{k} ({small[k]})' for k in same)} is the same in "
            "the case and the case at scale, so code with that number written in passes: "
            "give the case at scale another")
    for i, a in enumerate(common):
        for b in common[i + 1:]:
            if small[a] == small[b] and large[a] == large[b] and not {a, b} <= case.tied:
                raise CheckFailure(
                    f"internal: {cls}'s {a} and {b} are equal in the case ({small[a]}) and in "
                    f"the case at scale ({large[a]}), so code that takes one for the other "
                    "passes: make them differ in one case")


#: what the eval-mode outputs of every layer's values check are compared after: a call, the
#: same call again, a batch :data:`BATCH_FACTOR` times as large
EVAL_RUNS = ("", ", called again", f", on a batch {BATCH_FACTOR} times as large")


def _eval_outputs(ctx: Context, module: str, cls: str, case: LayerCase, inputs: tuple[Any, ...],
                  grad: Any) -> Payload:
    """Every layer in eval mode too, declared or not: a new layer trained on the case's input
    (a forward and a backward), then in eval mode applied to it twice and to a batch
    :data:`BATCH_FACTOR` times as large, each output compared with the reference's, which
    draws nothing there. A dropout left on in eval mode (the layer's own or a sublayer's: an
    attacker's LM and sentence CNN kept full marks) gives other outputs, and so does one left
    on only once trained, from the second call on, or for larger batches (a second review's
    ways round a single eval call of an untrained layer)."""
    big = _batch(ctx, BATCH_FACTOR, case.inputs) if case.batched else inputs
    ran = ctx.probe("train_then_eval_run")(
        ctx.function(module, cls), tuple(case.args), case.kwargs, _params(ctx, case),
        [[_send(ctx, a) for a in inputs]],
        [[_send(ctx, a) for a in x] for x in (inputs, inputs, big)], None,
        train_grads=[_send(ctx, grad)], names=case.names, cells=case.cells or None)
    payload: Payload = {}
    for label, output in zip(EVAL_RUNS, ran["outputs"], strict=True):
        payload.update({f"{name} {EVAL_KEY}{label}": value for name, value in
                        _output_payload(ctx, cls, case, output).items()})
    return payload


def _layer_runner(module: str, cls: str, make: Callable[[Context], LayerCase],
                  torch: Callable[..., Any] | None = None) -> Callable[..., dict[str, Any]]:
    """``run(ctx, applications, twice=False, train=None)``: a new layer of the case ``make``
    draws, applied ``applications`` times and backpropagated in reverse order in the code
    under test (probe ``layer_run``): ``{"case", "inputs", "grads", "result"}``. With the
    layer's ``torch`` forward (and torch in the grader), a forward whose output has the wrong
    shape fails here, saying so, before its backward runs on gradients of that shape (whose
    errors would blame the backward). A backward that differences the forward fails every
    check that runs it (:func:`_require_derived_backward`; at scale, :func:`~.at_scale.gate`
    in :func:`layer_checks`)."""
    def run(ctx: Context, applications: int, *, twice: bool = False,
            train: bool | None = None) -> dict[str, Any]:
        case = _with_cells(ctx, make(ctx))
        if train is not None:
            case = dataclasses.replace(case, train=train)
        rng = ctx.rng(1)
        inputs = [tuple(_host(a) for a in case.inputs(rng)) for _ in range(applications)]
        cls_token = ctx.function(module, cls)
        # upstream gradients of the output's shape (asked of the code under test: a wrong
        # shape fails the values check against the reference anyway)
        shape = _output_shape(ctx, cls_token, case, inputs[0])
        yours = list(shape) if shape and isinstance(shape[0], tuple) else [shape]
        if torch is not None and not case.cells and case.train is not False:
            true = _torch_values(torch, case, inputs[0], None)
            if true is not None:
                _same_output_shapes([np.shape(v) for v in true.values()], yours, inputs[0])
        reference = None if ctx.expected_only else reference_subject(ctx)
        if reference is not None:
            # the reference's backward runs on these gradients below (the yardstick of the
            # backward's lines): a forward of the wrong shape is the student's to hear of,
            # never an error of the reference's on the gradients drawn at that shape
            true_shape = on_reference(reference, "output_shape", cls_token, tuple(case.args),
                                      case.kwargs, _params(ctx, case),
                                      [_send(ctx, a) for a in inputs[0]], train=case.train,
                                      cells=case.cells or None, names=case.names)
            _same_output_shapes(
                [tuple(s) for s in true_shape] if true_shape and isinstance(
                    true_shape[0], (tuple, list)) else [tuple(true_shape)], yours, inputs[0])
        grads = _grad_outputs(ctx, shape, applications)
        traced = None
        if not ctx.expected_only:  # every check of the backward: is it the chain rule's?
            traced = _require_derived_backward(ctx, module, cls, case, inputs[0], grads[0])
        result = ctx.probe("layer_run")(
            cls_token, tuple(case.args), case.kwargs, _params(ctx, case),
            [[_send(ctx, a) for a in x] for x in inputs], [_send(ctx, g) for g in grads],
            train=case.train, backward_twice=twice, cells=case.cells or None, names=case.names)
        if traced is not None:
            _same_when_traced(ctx, cls, traced, result["input_grads"][0])
        return {"case": case, "inputs": inputs, "grads": grads, "result": result}

    return run


def _layer_probe(ctx: Context, module: str, cls: str) -> Callable[..., Any]:
    """``run(probe, case, inputs, grads)`` for :func:`~.at_scale.require_at_scale`: one
    application of a new ``module.cls`` of ``case`` to host ``inputs``, backpropagating host
    ``grads`` (probe ``layer_run``), or the output's shape where ``grads`` is None (probe
    ``output_shape``), through ``probe(name, *args, **kwargs)``."""
    token = ctx.function(module, cls)

    def run(probe: Callable[..., Any], case: LayerCase, inputs: tuple[Any, ...],
            grads: Any) -> Any:
        head = (token, tuple(case.args), case.kwargs, _params(ctx, case))
        sent = [_send(ctx, a) for a in inputs]
        options = {"train": case.train, "cells": case.cells or None, "names": case.names}
        if grads is None:
            return probe("output_shape", *head, sent, **options)
        return probe("layer_run", *head, [sent], [_send(ctx, grads)], **options)

    return run


def _params(ctx: Context, case: LayerCase) -> dict[str, Any]:
    return {n: ctx.asarray(v) for n, v in case.params.items()}


def _output_shape(ctx: Context, cls_token: Any, case: LayerCase,
                  inputs: tuple[Any, ...]) -> Any:
    """The shape of one application's output (a tuple of shapes for a tuple output), from a
    forward pass of the code under test."""
    shape = ctx.probe("output_shape")(cls_token, tuple(case.args), case.kwargs,
                                      _params(ctx, case), [_send(ctx, a) for a in inputs],
                                      train=case.train, cells=case.cells or None,
                                      names=case.names)

    def valid(s: Any) -> Any:
        if isinstance(s, tuple) and s and all(isinstance(x, (tuple, list)) for x in s):
            return tuple(valid(x) for x in s)
        if isinstance(s, (list, tuple)) and all(isinstance(x, int) for x in s):
            return tuple(s)
        raise CheckFailure("the layer's output is not an array")

    def elements(s: Any) -> int:
        if s and isinstance(s[0], tuple):
            return sum(elements(x) for x in s)
        if len(s) > MAX_NDIM or any(x < 0 for x in s):
            raise CheckFailure(f"the layer's output has the shape {s}: not an array's")
        return math.prod(s)

    # the grader draws upstream gradients of this shape in its own process: the shape the
    # code under test reports is capped before anything is allocated
    shape = valid(shape)
    if elements(shape) > MAX_LAYER_OUTPUT:
        raise CheckFailure(f"the layer's output has the shape {shape}: over "
                           f"{MAX_LAYER_OUTPUT:,} numbers for a check whose inputs are a few "
                           "dozen; check what forward returns")
    return shape


def _first(result: Any, key: str) -> Any:
    if not isinstance(result, dict) or key not in result or not result[key]:
        raise CheckFailure(f"internal: the probe returned no {key}")
    return result[key][0]


def _named(result: Any, key: str) -> dict[str, Any]:
    value = result.get(key) if isinstance(result, dict) else None
    if not isinstance(value, dict):
        raise CheckFailure(f"internal: the probe returned no {key}")
    return value


def _call_label(application: int, applications: int) -> str:
    """How a gradient check names the inputs of one of several applications of a layer."""
    return "" if applications == 1 else f" of call {application + 1}"


def _input_grads(ctx: Context, cls: str, case: LayerCase, inputs: tuple[Any, ...],
                 result: dict[str, Any], application: int = 0,
                 applications: int = 1) -> dict[str, np.ndarray]:
    """dL/d(input) of every array of the differentiable inputs of one application, keyed by
    :func:`_grad_key` (" of call a" added when there are several), from backward's return
    value (one array for one input, a tuple for several; a tuple input's gradient a tuple)."""
    returned = result["input_grads"][application]
    if len(inputs) == 1 and not (isinstance(returned, (tuple, list)) and len(returned) == 1
                                 and isinstance(inputs[0], (tuple, list)) == isinstance(
                                     returned[0], (tuple, list))):
        returned = (returned,)
    if not isinstance(returned, (tuple, list)) or len(returned) != len(inputs):
        raise CheckFailure(f"{cls}.backward should return the gradient of each of its "
                           f"{len(inputs)} inputs (None for integer inputs); it returned "
                           f"{type(returned).__name__}")
    label = _call_label(application, applications)
    names = iter(_input_names(case, inputs))
    out = {}
    for i in case.differentiable:
        arrays = _leaves(inputs[i])
        given = returned[i]
        if isinstance(inputs[i], (tuple, list)):
            if not isinstance(given, (tuple, list)) or len(_leaves(given)) != len(arrays):
                what = ", ".join(_input_names(case, inputs)[k][1] for k in range(len(arrays)))
                raise CheckFailure(f"{cls}.backward's gradient of input {i} should be a "
                                   f"{type(inputs[i]).__name__} like the input ({what}); it is "
                                   f"{type(given).__name__}")
            given = _leaves(given)
        else:
            given = [given]
        for x, g in zip(arrays, given, strict=True):
            _, name = next(names)
            grad = ctx.to_numpy(g, f"{cls}.backward's gradient of {name}")
            if grad.shape != np.shape(x):
                raise CheckFailure(_gradient_shape_problem(
                    cls, name, grad.shape, np.shape(x), result, application))
            out[_grad_key(case, name) + label] = grad
    return out


def _gradient_shape_problem(cls: str, name: str, shape: tuple, true: tuple,
                            result: dict[str, Any], application: int) -> str:
    """What a backward's input gradient of the wrong ``shape`` (``true``: the input's) says.
    The upstream gradient had the shape of the student's own output: where that output is
    short along the same axis as the gradient (a forward that drops its last step, whose
    backward then follows it), the forward is the mistake, said even where no reference or
    torch gives the true output's shape (a student release)."""
    axes = [k for k in range(len(shape)) if len(shape) == len(true) and shape[k] != true[k]]
    outputs = (result.get("outputs") or [None] * (application + 1))[application]
    if len(axes) == 1 and axes[0] > 0:
        k = axes[0]
        for out in _leaves(outputs if isinstance(outputs, (tuple, list)) else (outputs,)):
            if np.ndim(out) > k and np.shape(out)[k] == shape[k]:
                return (f"your forward returned {shape[k]} step{'s' if shape[k] != 1 else ''} "
                        f"for {true[k]} inputs (axis {k}: its output has shape "
                        f"{np.shape(out)}, {name} {true}), and {cls}.backward followed it (its "
                        f"gradient of {name} has shape {shape}): fix the forward first")
    return f"{cls}.backward's gradient of {name} has shape {shape}; {name} has shape {true}"


def _autograd_loss(torch_forward: Callable[..., Any], case: LayerCase, inputs: tuple[Any, ...],
                   grad: Any) -> Callable[[dict[str, Any]], Any]:
    """The objective sum(forward(x) * G) written with the question's torch forward: a
    function of the gradient check's point (parameters and inputs by name, as tensors)."""
    def loss(values: dict[str, Any]) -> Any:
        params = {n: values[n] for n in case.params}
        return _torch_objective(torch_forward, params, _torch_inputs(case, inputs, values),
                                grad, case.torch_kwargs)

    return loss


def _torch_inputs(case: LayerCase, inputs: tuple[Any, ...], values: dict[str, Any]) -> list:
    """The inputs as torch tensors: the differentiable ones from ``values`` by name."""
    import torch

    names = iter(_input_names(case, inputs))
    out = []
    for i, x in enumerate(inputs):
        if i not in case.differentiable:
            out.append(torch.as_tensor(x) if not isinstance(x, (tuple, list)) else type(x)(
                torch.as_tensor(a) for a in x))
            continue
        leaves = []
        for leaf in _leaves(x):
            name = next(names)[1]
            leaves.append(values[name] if name in values else torch.as_tensor(leaf))
        out.append(_rebuild(x, leaves) if isinstance(x, (tuple, list)) else leaves[0])
    return out


def _torch_objective(torch_forward: Callable[..., Any], params: dict[str, Any], inputs: list,
                     grad: Any, torch_kwargs: dict[str, Any] | None = None) -> Any:
    """Σ sum(output * G) over the arrays of the torch forward's output."""
    import torch

    outs = _leaves(torch_forward(params, *inputs, **(torch_kwargs or {})))
    grads = _leaves(grad)
    if len(outs) != len(grads):
        raise CheckFailure(f"internal: the torch forward gives {len(outs)} arrays, the layer "
                           f"{len(grads)}")
    _same_output_shapes([tuple(o.shape) for o in outs], [np.shape(g) for g in grads])
    return sum((o * torch.as_tensor(g)).sum() for o, g in zip(outs, grads, strict=True))


def _same_output_shapes(true: list, yours: list, inputs: Sequence[Any] = ()) -> None:
    """The upstream gradients are drawn at the shapes of the student's outputs: where the true
    forward's differ, say so (a forward's shape is wrong), not torch's broadcasting error, the
    backward's, or the reference's where it runs on them. ``inputs``: the forward's, to say
    a length along time as steps for inputs (:func:`_steps_for_inputs`)."""
    if len(true) != len(yours):
        raise CheckFailure(f"your forward returned {len(yours)} arrays; the true forward "
                           f"returns {len(true)}")
    for k, (t, y) in enumerate(zip(true, yours, strict=True)):
        if tuple(t) != tuple(y):
            which = "the output" if len(true) == 1 else f"output {k}"
            steps = _steps_for_inputs(tuple(y), tuple(t), inputs)
            raise CheckFailure(
                (f"your forward returned {steps}: " if steps else "")
                + f"{which} of your forward has shape {tuple(y)}; on the same inputs the true "
                f"forward's has shape {tuple(t)}: fix the forward's output shape first")


def _steps_for_inputs(yours: tuple, true: tuple, inputs: Sequence[Any]) -> str:
    """"4 steps for 5 inputs" where ``yours`` differs from ``true`` on one axis after the
    batch's alone, along which an input of the forward has the true length (a loop over time
    that stops a step early); "" otherwise."""
    if len(yours) != len(true):
        return ""
    axes = [k for k, (y, t) in enumerate(zip(yours, true, strict=True)) if y != t]
    if len(axes) != 1 or axes[0] == 0:
        return ""
    k = axes[0]
    if not any(np.ndim(x) > k and np.shape(x)[k] == true[k] for x in _leaves(tuple(inputs))):
        return ""
    return f"{yours[k]} step{'s' if yours[k] != 1 else ''} for {true[k]} inputs (axis {k})"


def torch_twin(build: str | Callable[[], Any],
               weights: dict[str, Callable[[dict[str, Any]], Any]], *,
               args: tuple[Any, ...] = (), label: str = "") -> Callable[..., Any]:
    """A ``torch.nn`` module as a layer's ``torch`` forward (:func:`layer_checks`,
    :func:`torch_check`): ``build`` names the ``torch.nn`` class, made with ``args`` in float64
    (or is a function that makes the module), ``weights`` gives each of its parameters from the
    case's parameters (tensors by the layer's names: transposed, gates concatenated). torch is
    imported only when the forward runs (a NumPy-only grader never needs it); the module runs
    through ``torch.func.functional_call``, so autograd reaches the case's parameters.
    ``label`` names it in feedback (default ``torch.nn.<build>``)::

        torch_twin("RNNCell", {"weight_ih": lambda p: p["weight_e"].T,
                               "weight_hh": lambda p: p["weight_h"].T,
                               "bias_ih": lambda p: p["bias"], "bias_hh": lambda p: 0 * p["bias"]},
                   args=(D, H))
    """
    # the module, made once where it has no buffers: functional_call replaces its parameters
    # and leaves it as it was (a buffer, batch norm's running statistics, would be carried
    # from call to call: such a module is made for every call)
    kept: list[Any] = []

    def module_of(torch: Any) -> Any:
        if kept:
            return kept[0]
        module = build() if callable(build) else getattr(torch.nn, build)(
            *args, dtype=torch.float64)
        if not any(True for _ in module.buffers()):
            kept.append(module)
        return module

    def forward(params: dict[str, Any], *inputs: Any) -> Any:
        import torch

        module = module_of(torch)
        own = {name for name, _ in module.named_parameters()}
        if own != set(weights):
            raise ValueError(f"torch_twin: {type(module).__name__} has parameters "
                             f"{sorted(own)}; the weights given are {sorted(weights)}")
        tensors = {name: value(params) for name, value in weights.items()}
        return torch.func.functional_call(module, tensors, tuple(inputs))

    named = "" if callable(build) else f"torch.nn.{build}"
    forward.label = label or named  # type: ignore[attr-defined]
    return forward


TORCH_KEY = "torch|"


def torch_check(question: str, module: str, cls: str, make: Callable[[Context], LayerCase], *,
                torch: Callable[..., Any], title: str, points: float, rtol: float = 1e-6,
                atol: float = 1e-8, nonfinite: Nonfinite = None,
                forward_mistakes: dict[str, Callable[..., Any]] | None = None,
                backward_mistakes: dict[str, Callable[..., Any]] | None = None,
                at_scale: Callable[[Context], LayerCase] | None = NOT_GIVEN,
                **options: Any) -> Check:
    """One check (``<question>.torch``): the layer's output and every gradient (inputs and
    parameters, for a random upstream gradient) against ``torch``'s on the same parameters
    and inputs, computed by the grader in float64 (``torch``: a function of ``(params,
    *inputs)`` as in :func:`layer_checks`, or :func:`torch_twin`). It runs on every backend;
    where torch is not installed in the grader, it compares with the reference instead.
    ``nonfinite``, ``forward_mistakes``, ``backward_mistakes``, ``at_scale``: as for
    :func:`layer_checks` (the question's checks share one run at scale)."""
    run = _layer_runner(module, cls, make, torch)
    name = getattr(torch, "label", "") or "the layer written in torch"
    computed = (*(forward_mistakes or ()), *(backward_mistakes or ()))

    def collect(ctx: Context) -> Payload:
        ran = run(ctx, 1)
        case, inputs, grad, result = ran["case"], ran["inputs"][0], ran["grads"][0], ran["result"]
        payload = _output_payload(ctx, cls, case, _first(result, "outputs"))
        payload.update(_input_grads(ctx, cls, case, inputs, result))
        payload.update({f"grad {n}": ctx.to_numpy(g, f"the gradient of {n}")
                        for n, g in _named(result, "param_grads").items()})
        oracle = _torch_values(torch, case, inputs, grad)
        if oracle is not None:
            payload.update({TORCH_KEY + k: v for k, v in oracle.items()})
        if computed and not ctx.expected_only:
            payload.update(_mistakes_of_layer(forward_mistakes, backward_mistakes, case, inputs,
                                              grad))
        return payload

    def judge(actual: Payload, expected: Payload | None) -> Verdict:
        beside = (TORCH_KEY, MISTAKE_KEY)
        mine = {k: v for k, v in actual.items() if not k.startswith(beside)}
        oracle = {k[len(TORCH_KEY):]: v for k, v in actual.items() if k.startswith(TORCH_KEY)}
        if not oracle:  # no torch in the grader: the reference is the oracle
            assert expected is not None
            verdict = compare_payloads(mine, {k: v for k, v in expected.items()
                                              if not k.startswith(beside)}, rtol=rtol,
                                       atol=atol, nonfinite=nonfinite)
            if not verdict.passed and MISTAKES_NEED_TORCH in actual:
                verdict.details[NEEDS_TORCH] = True  # said once per grading (a warning)
            return verdict
        verdict = compare_payloads(mine, oracle, rtol=rtol, atol=atol, nonfinite=nonfinite)
        named = None if verdict.passed else computed_mistake(mine, actual, computed,
                                                             rtol=rtol, atol=atol)
        found = (f"your outputs are exactly those of {named}. "
                 f"{without_guesses(verdict.message)}" if named else verdict.message)
        if named:
            verdict.details[NAMED_MISTAKE] = named
        verdict.message = (f"output and every gradient match {name} on the same parameters"
                           if verdict.passed else f"against {name} on the same parameters and "
                           f"inputs: {found}")
        return verdict

    if computed:  # the grader's own outputs of the mistakes: never a fixture
        options.setdefault("stored", lambda key: not key.startswith(MISTAKE_KEY))
    return gate(Check(question, "torch", title, points, "value", collect=collect, judge=judge,
                      needs_expected=True, **options), _layer_at_scale(
        module, cls, _at_scale_of("torch_check", question, cls, at_scale), make))


def _mistakes_of_layer(forward: dict[str, Callable[..., Any]] | None,
                       backward: dict[str, Callable[..., Any]] | None, case: LayerCase,
                       inputs: tuple[Any, ...], grad: Any) -> Payload:
    """What known wrong forwards give (their outputs) and known wrong backwards give (the
    outputs and every gradient for the upstream gradient ``grad``), each written in torch as
    a layer's oracle, on the check's own inputs: computed in the grader and keyed to go beside
    the payload (:func:`~.kinds.mistaken_outputs`), the forward ones first; none where torch
    is not installed."""
    variants = [(f, None) for f in (forward or {}).values()]
    variants += [(f, grad) for f in (backward or {}).values()]
    payload: Payload = {}
    for i, (variant, upstream) in enumerate(variants):
        try:  # a wrong forward's outputs alone; a wrong backward's gradients too
            outputs = _torch_values(variant, case, inputs, upstream)
        except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
            continue
        if outputs is None:  # no torch in the grader: a wrong answer says how to have them
            return {MISTAKES_NEED_TORCH: np.asarray(True)}
        payload.update(mistaken_outputs(i, outputs))
    return payload


def _torch_values(torch_forward: Callable[..., Any], case: LayerCase, inputs: tuple[Any, ...],
                  grad: Any) -> dict[str, np.ndarray] | None:
    """The torch forward's output and gradients (for the upstream gradient ``grad``; the
    output alone where it is None), keyed as :func:`torch_check`'s payload (float64, in the
    grader); None where torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    params = {n: torch.tensor(np.asarray(v, np.float64), requires_grad=True)
              for n, v in case.params.items()}
    named = _input_names(case, inputs)
    leaves = [x for i in case.differentiable for x in _leaves(inputs[i])]
    values = {name: torch.tensor(np.asarray(x, np.float64), requires_grad=True)
              for (_, name), x in zip(named, leaves, strict=True)}
    xs = _torch_inputs(case, inputs, values)
    output = torch_forward(params, *xs, **case.torch_kwargs)
    outs = _leaves(output)
    out_names = (["output"] if len(outs) == 1 and not isinstance(output, (tuple, list)) else
                 list(case.outputs or (f"output {k}" for k in range(len(outs)))))
    result = {n: o.detach().numpy() for n, o in zip(out_names, outs, strict=True)}
    if grad is None:  # the forward alone
        return result
    _same_output_shapes([tuple(o.shape) for o in outs], [np.shape(g) for g in _leaves(grad)])
    loss = sum((o * torch.as_tensor(g)).sum() for o, g in zip(outs, _leaves(grad), strict=True))
    wrt = [*params.values(), *values.values()]
    grads = torch.autograd.grad(loss, wrt, allow_unused=True)
    found = [np.zeros(tuple(t.shape)) if g is None else g.detach().numpy()
             for t, g in zip(wrt, grads, strict=True)]
    result.update({f"grad {n}": g for n, g in zip(params, found, strict=False)})
    result.update({_grad_key(case, name): g
                   for (_, name), g in zip(named, found[len(params):], strict=True)})
    return result


# -- sequences: an unroll over any cell ----------------------------------------------------------
def state_of(kind: str, rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    """An initial state for a stand-in cell of ``kind``: h, or (h, c), each of ``shape``, inside
    (−1, 1) as a tanh RNN makes them."""
    h = np.tanh(rng.standard_normal(shape))
    return h if kind == "array" else (h, np.tanh(rng.standard_normal(shape)))


#: the points of the extra state kinds' checks of :func:`sequence_checks`, per kind
SEQUENCE_SHARES = {"values": 0.15, "gradients": 0.15}


def sequence_checks(question: str, module: str, cls: str,
                    make: Callable[[Context, str], LayerCase], *, title: str, points: float,
                    states: Sequence[str] = ("array",), shares: dict[str, float] | None = None,
                    at_scale: Callable[[Context, str], LayerCase] | None = NOT_GIVEN,
                    **options: Any) -> list[Check]:
    """The checks of an unroll ``module.cls``: an RNN over time, a bidirectional or stacked
    wrapper, any module that runs cells step by step (CS224n lectures 6-7).

    ``make(ctx, kind)`` returns the :class:`LayerCase` for stand-in cells of ``kind``: its
    ``cells`` name where the unroll keeps its cells (``{"cell": stand_in_cell(kind, D, H)}``;
    ``{"forward.cell": ..., "backward.cell": ...}``; ``{"layers.0.cell": ..., "layers.1.cell":
    ...}``) and its inputs include the initial state (:func:`state_of`). The grader puts its
    own stand-in cells there (:data:`nlpdojo_autograder.runtime.probes.STAND_IN_CELLS`: made-up
    formulas, state ``h`` or ``(h, c)``), so the unroll is checked on its own, whatever the
    student's cell does, with no call-back per step: it must work for any cell honouring
    ``forward(x, state) -> (state, cache)`` and ``backward(grad_state, cache) -> (grad_x,
    grad_state_prev)``, the step's output being the state's first array.

    The checks of :func:`layer_checks` with cells of the first kind of ``states``; each further
    kind (``"pair"``: an LSTM's state) adds ``<kind>_values`` and ``<kind>_gradients``
    (:data:`SEQUENCE_SHARES`). ``at_scale(ctx, kind)``: the case at scale for cells of
    ``kind`` (:func:`layer_checks`' ``at_scale``), each kind's checks gated by its own run,
    so that an unroll that takes another path for another state is measured on that path
    too. ``options`` as for :func:`layer_checks`.
    """
    at_scale = _at_scale_of("sequence_checks", question, cls, at_scale)

    def scaled(kind: str) -> Callable[[Context], LayerCase] | None:
        return None if at_scale is None else lambda ctx: at_scale(ctx, kind)

    first, *others = states
    checks = layer_checks(question, module, cls, lambda ctx: make(ctx, first), title=title,
                          points=1.0, shares=shares, at_scale=scaled(first), **options)
    extra_shares: dict[str, float] = {}
    for kind in others:
        made = layer_checks(question, module, cls, lambda ctx, kind=kind: make(ctx, kind),
                            title=f"{title}, state {_STATE[kind]}", points=1.0, hidden=False,
                            at_scale=scaled(kind), **options)
        for check in made:
            if check.name in SEQUENCE_SHARES:
                renamed = f"{kind}_{check.name}"
                checks.append(dataclasses.replace(check, name=renamed))
                extra_shares[renamed] = SEQUENCE_SHARES[check.name]
    checks = [with_hint(c, STAND_IN_HINT.format(cls=cls))
              if c.name.split("_")[-1] in ("values", "gradients") else c for c in checks]
    return _share(checks, points, LAYER_SHARES | extra_shares | dict(shares or {}))


#: added to a failed values or gradients check of an unroll: what the check runs (feedback
#: named the stand-ins' parameters, ``cell.weight_x``, which a student's cell does not have)
#: and the commonest mistake, the gradient not carried back from step to step
STAND_IN_HINT = ("the cells in this check are the grader's stand-ins, made-up formulas whose "
                 "parameters (cell.weight_x, ...) are theirs, not your cell's: it checks your "
                 "{cls} alone. Forward calls each step's cell on (x_t, state) and keeps that "
                 "step's cache; backward walks the steps in reverse, adding the gradient that "
                 "comes back from step t + 1 to step t's output gradient before calling step "
                 "t's cell.backward with step t's cache (backpropagation through time)")


_STATE = {"array": "h", "pair": "(h, c)", "layers": "one (h, c) per layer, a list"}


def final_state_check(question: str, module: str, cls: str,
                      make: Callable[[Context], LayerCase], *, title: str, points: float,
                      **options: Any) -> Check:
    """A value check of ``cls.final_state(cache)`` after one forward pass on the case's inputs
    (its stand-in cells in place): every array of the state it returns, named by its index
    (``final_state[1][0]``: layer 1's h), must equal the reference's. What a language model
    carries from one window to the next. ``options`` as for :func:`value_check`."""
    def run(ctx: Context) -> Payload:
        case = _with_cells(ctx, make(ctx))
        inputs = tuple(_host(a) for a in case.inputs(ctx.rng(1)))
        state = ctx.probe("final_state_run")(
            ctx.function(module, cls), tuple(case.args), case.kwargs, _params(ctx, case),
            [_send(ctx, a) for a in inputs], train=case.train, cells=case.cells or None)
        names = (_leaf_paths(state, "final_state") if isinstance(state, (tuple, list))
                 else ["final_state"])
        return {n: ctx.to_numpy(x, f"{cls}.final_state's {n}")
                for n, x in zip(names, _leaves(state), strict=True)}

    check = value_check(question, "final_state", title, points, run, **options)
    compare = check.judge

    def judge(actual: Payload, expected: Payload | None) -> Verdict:
        if expected is not None and set(actual) != set(expected):  # another nesting
            return Verdict(False, f"{cls}.final_state returned {_structure(actual)}; expected "
                           f"{_structure(expected)} (the state after the last step, in the "
                           "structure the next window starts from)", fraction=0.0)
        return compare(actual, expected)

    return dataclasses.replace(check, judge=judge)


def _structure(payload: Payload) -> str:
    """What a state's arrays, named by :func:`_leaf_paths`, say of its nesting."""
    names = sorted(payload)
    if names == ["final_state"]:
        return "one array"
    outer = sorted({n.split("]")[0] + "]" for n in names})
    inner = [n for n in names if n.count("[") > 1]
    if not inner:
        return f"{len(names)} arrays side by side (a tuple like (h, c))"
    return (f"a sequence of {len(outer)} states of {len(inner) // len(outer)} arrays each "
            "(one per layer)")


def with_hint(check: Check, hint: str) -> Check:
    """``check`` with ``hint`` added, in parentheses, to the message of a failed verdict: what
    a question's author knows of the usual cause of that failure."""
    judge = check.judge

    def hinted(actual: Payload, expected: Payload | None) -> Verdict:
        verdict = judge(actual, expected)
        if not verdict.passed:
            verdict.message = f"{verdict.message} ({hint})"
        return verdict

    return dataclasses.replace(check, judge=hinted)


def _share(checks: list[Check], points: float, shares: dict[str, float]) -> list[Check]:
    """``checks`` with a question's ``points`` split between them by their ``shares`` (the
    shares of the checks present, whatever they sum to), in round numbers
    (:func:`split_points`)."""
    split = split_points(points, [shares[c.name] for c in checks])
    return [dataclasses.replace(c, points=p) for c, p in zip(checks, split, strict=True)]


#: the steps a question's points are split into, coarsest first: the numbers an instructor
#: would write (0.35, 0.2, 0.1; 0.375 where a share falls between two steps of 0.05), never
#: 0.282353
GRAINS = (0.5, 0.25, 0.1, 0.05, 0.025)
#: exact shares that are multiples of this are kept as they are (0.8, 0.45, 0.3)
ROUND_ENOUGH = 0.05
#: the fewest steps per check a grain must give a question, so the split follows the shares
STEPS_PER_CHECK = 2


def _multiple(x: float, step: float) -> bool:
    return abs(x / step - round(x / step)) < 1e-9


def _largest_remainder(exact: list[float], steps: int) -> list[int]:
    """``steps`` whole steps apportioned to the ``exact`` quotas (in steps): each its floor,
    the steps left to the largest remainders (Hamilton's method)."""
    parts = [math.floor(q + 1e-9) for q in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:steps - sum(parts)]:
        parts[i] += 1
    return parts


def split_points(points: float, shares: Sequence[float]) -> list[float]:
    """``points`` split in proportion to ``shares``, in round numbers that sum to exactly
    ``points``: the exact shares where they are multiples of :data:`ROUND_ENOUGH`, else
    multiples of the coarsest grain of :data:`GRAINS` that divides ``points`` into at least
    :data:`STEPS_PER_CHECK` steps per share and apportions them (largest remainders) with every
    part at least one step and equal shares getting equal points. Where no grain does that, the
    finest grain that divides ``points`` without the last condition; where none divides it, the
    exact shares to 6 digits, the rest on the last part."""
    total, n = float(sum(shares)), len(shares)
    if n == 0:
        return []
    exact = [points * s / total for s in shares]
    if all(_multiple(e, ROUND_ENOUGH) for e in exact):
        kept = [round(e, 6) for e in exact[:-1]]
        return [*kept, round(points - sum(kept), 6)]
    fitting = [g for g in GRAINS if _multiple(points, g) and round(points / g) >= n]
    for grain in fitting:
        steps = round(points / grain)
        if steps < STEPS_PER_CHECK * n:
            continue
        parts = _largest_remainder([e / grain for e in exact], steps)
        same = all(parts[i] == parts[j] for i in range(n) for j in range(i)
                   if abs(shares[i] - shares[j]) < 1e-12)
        if min(parts) >= 1 and same:
            return [round(k * grain, 6) for k in parts]
    if fitting:
        grain = fitting[-1]
        parts = _largest_remainder([e / grain for e in exact], round(points / grain))
        return [round(k * grain, 6) for k in parts]
    kept = [round(e, 6) for e in exact[:-1]]
    return [*kept, round(points - sum(kept), 6)]


# -- losses ------------------------------------------------------------------------------------
@dataclass
class LossCase:
    """A loss's inputs: ``prediction`` (floats, gets the gradient) and ``target``;
    ``args`` build the loss (default: the backend alone)."""

    prediction: np.ndarray
    target: np.ndarray
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: keyword arguments of the question's ``torch`` loss: the settings drawn for this case
    #: (a margin), which the torch loss needs as the loss does
    torch_kwargs: dict[str, Any] = field(default_factory=dict)


def _loss_args(ctx: Context, case: LossCase) -> tuple:
    """The loss's constructor arguments: the backend unless the case says otherwise."""
    return tuple(case.args) if case.args else (ctx.backend,)


LOSS_SHARES = {"values": 0.4, "hidden": 0.2, "gradients": 0.4}

#: the upstream gradient dJ/dL a loss's values check also backpropagates (a loss inside a
#: larger objective, a weighted sum of losses): not 1, exact in binary, of either sign's
#: magnitude a factor off
UPSTREAM_SCALE = -2.5


def _require_loss_vectorized(ctx: Context, module: str, cls: str, case: LossCase) -> None:
    """As :func:`_require_batch_vectorized`, for a loss: the lines of Python of one forward and
    backward (probe ``loss_run``) on the prediction and target, and on a batch
    :data:`BATCH_FACTOR` times as large (the targets repeated, the predictions each time
    varied: :func:`_batch`), must be as many."""
    token = ctx.function(module, cls)
    lines = [counted_lines(
        ctx, f"{cls}.forward and .backward", ctx.probe("loss_run"),
        lambda factor=factor: [token, _loss_args(ctx, case), case.kwargs,
                               ctx.asarray(_batch(ctx, factor,
                                                  lambda r: _varied(case.prediction, r))),
                               _send(ctx, _batch(ctx, factor, lambda r: case.target))],
        {}, root_of=token) for factor in (1, BATCH_FACTOR)]
    rows = len(case.prediction) if np.ndim(case.prediction) else 1
    if lines[1] - lines[0] >= (BATCH_FACTOR - 1) * rows:
        raise CheckFailure(
            f"{cls}.forward and .backward, one call of each, run {lines[0]:,} lines of Python "
            f"in all for a batch of {rows} and {lines[1]:,} for a batch of "
            f"{BATCH_FACTOR * rows}: a Python loop over the batch (a for loop, a "
            "comprehension) in one of them or both. A loss is vectorized over the batch: "
            "whole-array operations on the (N, C) scores (a one-hot mask, xp.take_along_axis, "
            "xp.sum(..., axis=1)) instead of a loop over the examples")


def _require_derived_loss_backward(ctx: Context, module: str, cls: str, case: LossCase,
                                   untraced: Any) -> None:
    """As :func:`_require_derived_backward`, for a loss (probe
    ``loss_forward_backward_lines``): its backward must not run the forward's lines again
    and again, and must give while counted the gradient it gives uncounted (``untraced``)."""
    call = (ctx.function(module, cls), _loss_args(ctx, case), case.kwargs,
            ctx.asarray(case.prediction), _send(ctx, case.target))
    counted = ctx.probe("loss_forward_backward_lines")(*call)
    _backward_lines_rule(cls, counted, _reference_lines(ctx, "loss_forward_backward_lines",
                                                        *call))
    _same_when_traced(ctx, cls, counted.get("grad"), untraced)


def _require_scaled(cls: str, grad: np.ndarray, scaled: np.ndarray) -> None:
    """``scaled`` (backward with ``grad_output=UPSTREAM_SCALE``) must be that multiple of
    ``grad`` (with ``grad_output=1.0``): the chain rule, dJ/dprediction = dJ/dL · dL/dprediction.
    """
    if scaled.shape == grad.shape and np.allclose(scaled, UPSTREAM_SCALE * grad, rtol=1e-6,
                                                  atol=1e-12):
        return
    if scaled.shape == grad.shape and np.allclose(scaled, grad, rtol=1e-6, atol=1e-12):
        how = "returned the same gradient as with grad_output=1.0: it ignores grad_output"
    else:
        how = f"did not return {UPSTREAM_SCALE} × its gradient at grad_output=1.0"
    raise CheckFailure(f"{cls}.backward called with grad_output={UPSTREAM_SCALE} {how}. "
                       "grad_output is dJ/dL, the gradient of the whole objective with respect "
                       "to this loss (1.0 only when the loss is the objective itself; a "
                       "weighted sum of losses passes each its weight): multiply the gradient "
                       "by grad_output")


def loss_checks(question: str, module: str, cls: str, make: Callable[[Context], LossCase], *,
                title: str, points: float, hidden: bool = True,
                torch: Callable[[Any, np.ndarray], Any] | None = None, rtol: float = 1e-6,
                stable: bool = False, **options: Any) -> list[Check]:
    """The checks of a loss ``module.cls``: its value (a 0-d array) and dL/d(prediction) against
    the reference, and dL/d(prediction) by central differences (with ``torch``, the true
    loss in torch of ``(prediction tensor, target array)``, as a second oracle where torch is
    installed). The values checks also backpropagate ``grad_output`` = :data:`UPSTREAM_SCALE`
    (the gradient must scale with it); with ``stable`` (a loss that promises numerical
    stability, on large scores ``make`` draws), they run with floating-point overflow raised
    (:func:`stable_call`)."""
    def run(ctx: Context, scaled: float | None = None, strict: bool = False
            ) -> tuple[LossCase, dict[str, Any]]:
        case = make(ctx)
        args = [ctx.function(module, cls), _loss_args(ctx, case), case.kwargs,
                ctx.asarray(case.prediction), _send(ctx, case.target)]
        probe = ctx.probe("loss_run")
        result = (stable_call(ctx, probe, args, {"scaled": scaled}) if strict else
                  probe(*args, scaled=scaled))
        return case, result

    def values(ctx: Context) -> Payload:
        case, result = run(ctx, scaled=UPSTREAM_SCALE, strict=stable)
        _require_loss_vectorized(ctx, module, cls, case)
        grad = ctx.to_numpy(result["grad"], f"{cls}.backward's gradient")
        if grad.shape != case.prediction.shape:
            raise CheckFailure(f"{cls}.backward's gradient has shape {grad.shape}; the "
                               f"prediction has shape {case.prediction.shape}")
        _require_scaled(cls, grad, ctx.to_numpy(result["grad_scaled"],
                                                f"{cls}.backward's gradient"))
        return {"loss": ctx.to_numpy(result["loss"], "the loss"), "grad": grad}

    def gradients(ctx: Context) -> GradientProblem:
        case, result = run(ctx)
        if not ctx.expected_only:  # the chain rule's backward, or differences of the forward?
            _require_derived_loss_backward(ctx, module, cls, case, result["grad"])
        objective = ctx.probe("loss_objective")
        token = ctx.function(module, cls)

        def loss(v: dict[str, np.ndarray]) -> float:
            return float(objective(token, _loss_args(ctx, case), case.kwargs,
                                   ctx.asarray(v["prediction"]),
                                   _send(ctx, case.target)))

        true = None
        if torch is not None:
            def true(v: dict[str, Any]) -> Any:
                return torch(v["prediction"], case.target, **case.torch_kwargs)
        return GradientProblem(loss=loss, point={"prediction": case.prediction},
                               analytic={"prediction": result["grad"]}, autograd_loss=true)

    checks = [value_check(question, "values", f"{title}: value and gradient", 0.0, values,
                          rtol=rtol, **options),
              *([value_check(question, "hidden", f"{title}: a hidden case", 0.0, values,
                             rtol=rtol, hidden=True, **options)] if hidden else []),
              gradient_check(question, "gradients", f"{title}: gradient by central "
                             "differences", 0.0, gradients, **options)]
    return _share(checks, points, LOSS_SHARES)


# -- optimizers --------------------------------------------------------------------------------
@dataclass
class OptimizerCase:
    """``kwargs`` build the optimizer (its settings); the grader draws the starting parameters
    (``shapes``) and one gradient per parameter and step; ``torch``, where given, is the
    ``torch.optim`` class and settings with identical behaviour."""

    kwargs: dict[str, Any]
    shapes: tuple[tuple[int, ...], ...] = ((3, 4), (4,))
    steps: int = 6
    #: the ``torch.optim`` class by name, run with the optimizer's settings (``kwargs`` and
    #: what ``vary`` drew); or ``(name, settings)``, torch's own names for them, each one that
    #: ``vary`` draws taking the value drawn
    torch: str | tuple[str, dict[str, Any]] | None = None
    #: known wrong variants, ``{"what the student did (the fix)": step}``: ``step(params,
    #: grads, state, k)`` updates NumPy ``params`` in place at step ``k`` (from 1), keeping
    #: what it needs in the dict ``state``; where ``vary`` draws the settings, a function of
    #: them that makes the step (``lambda s: momentum_without_velocity(s["lr"])``). A
    #: trajectory that misses the right one but matches a mistake's is told which mistake it is.
    mistakes: dict[str, Callable[..., Any]] = field(default_factory=dict)
    #: ``vary(rng) -> {setting: value}``: settings drawn per grading over ``kwargs`` (every
    #: check of the optimizer, the torch oracle and the mistakes use the same), so that an
    #: optimizer which ignores its constructor and uses the values written in fails
    vary: Callable[[np.random.Generator], dict[str, Any]] | None = None
    #: add :data:`TINY_PARAMETER`, a parameter whose gradients are fixed and tiny (1e-7 to
    #: 1e-3), after the drawn ones: where an ε matters (inside or outside a square root) the
    #: trajectories differ by far more than any tolerance, whatever the draw
    tiny: bool = True
    #: what parameters turning NaN or inf means for this optimizer (Adam: a bias correction
    #: dividing by 1 − β⁰ = 0), said after :data:`OPTIMIZER_NONFINITE`'s general causes
    nonfinite: str = ""


#: added to a check's seed for the generator of settings drawn per grading
#: (:attr:`OptimizerCase.vary`, a layer's or loss's settings): the inputs drawn stay the same
SETTINGS_OFFSET = 7_919

def settings_rng(ctx: Context) -> np.random.Generator:
    """The generator a check draws its settings from (a layer's slope, a loss's margin, an
    optimizer's learning rate: :attr:`OptimizerCase.vary`), fresh per grading as its inputs
    are and apart from them, so that code ignoring the settings it is given fails::

        def _leaky(ctx):
            slope = float(settings_rng(ctx).uniform(0.05, 0.3))
            return LayerCase(args=(ctx.backend,), kwargs={"negative_slope": slope},
                             torch_kwargs={"slope": slope}, ...)
    """
    return ctx.rng(SETTINGS_OFFSET)


def drawn_setting(ctx: Context, low: float, high: float, which: int = 0) -> float:
    """A setting between ``low`` and ``high`` (three significant digits, a Python float),
    drawn per grading from :func:`settings_rng`: a dropout rate, a clip, a decay that the
    code under test takes as an argument and must use (one written in fails). ``which`` tells
    a check's settings apart (each its own draw)."""
    return float(f"{settings_rng(ctx).uniform(low, high, which + 1)[which]:.3g}")


#: ``(start, gradient at step k = base * (1 + k / 4))`` of the parameter every optimizer check
#: adds (:attr:`OptimizerCase.tiny`): fixed, so that the check's power does not depend on the
#: draw. Gradients of 1e-7 make Σg² about 1e-14, far below an ε of 1e-10 or 1e-8, so
#: √(G + ε) and √G + ε are orders of magnitude apart there; 1e-3 keeps a normal coordinate.
TINY_PARAMETER = (np.array([0.5, -0.3, 0.2, 1.0]), np.array([1e-7, -3e-6, 2e-5, -1e-3]))


def _tiny_gradients(steps: int) -> tuple[np.ndarray, list[np.ndarray]]:
    start, base = TINY_PARAMETER
    return start.copy(), [base * (1.0 + k / 4.0) for k in range(steps)]


OPTIMIZER_SHARES = {"trajectory": 0.5, "torch": 0.3, "state": 0.2}
#: what parameters turning NaN or inf in an optimizer's steps come from (gradients here are
#: finite and of moderate size: no overflow)
OPTIMIZER_NONFINITE = ("the update divides by zero (a denominator that is 0 at that step), or "
                       "a NaN of an earlier step is carried on")


def _first_nonfinite_step(trajectory: Payload) -> int | None:
    """The first step after which a parameter of ``trajectory`` (``"step k p{i}"`` keys) holds
    NaN or inf, or None."""
    steps = [int(key.split()[-2]) for key, value in trajectory.items()
             if key.startswith(("step ", "straight step ", "resumed step "))
             and not np.all(np.isfinite(np.asarray(value, np.float64)))]
    return min(steps) if steps else None


def optimizer_checks(question: str, module: str, cls: str, case: OptimizerCase, *, title: str,
                     points: float, rtol: float = 1e-7, **options: Any) -> list[Check]:
    """The checks of an optimizer ``module.cls``: the parameters after each of ``steps`` steps
    against the reference; against ``torch.optim`` (the grader runs torch itself, where it is
    installed; without it that check compares with the reference instead); and a state_dict
    saved half-way and loaded into a new optimizer that must continue the same trajectory."""
    def settings(ctx: Context) -> dict[str, Any]:
        """The optimizer's settings in this grading: ``kwargs`` and what ``vary`` draws (from
        a generator of its own: the parameters and gradients drawn stay the same)."""
        return {**case.kwargs, **(case.vary(settings_rng(ctx)) if case.vary else {})}

    def draw(ctx: Context) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
        rng = ctx.rng()
        start = [rng.standard_normal(s) for s in case.shapes]
        grads = [[rng.standard_normal(s) for s in case.shapes] for _ in range(case.steps)]
        if case.tiny:  # a fixed parameter, the same on every draw (TINY_PARAMETER)
            tiny_start, tiny_grads = _tiny_gradients(case.steps)
            start.append(tiny_start)
            for step, g in zip(grads, tiny_grads, strict=True):
                step.append(g)
        return start, grads

    def run(ctx: Context, resume_at: int | None = None) -> dict[str, Any]:
        start, grads = draw(ctx)
        return ctx.probe("optimizer_run")(
            ctx.function(module, cls), settings(ctx), ctx.backend,
            [ctx.asarray(p) for p in start], [[ctx.asarray(g) for g in gs] for gs in grads],
            resume_at=resume_at)

    def path(ctx: Context, trajectory: Any) -> Payload:
        return {f"step {k + 1} p{i}": ctx.to_numpy(p, f"parameter {i} after step {k + 1}")
                for k, ps in enumerate(trajectory) for i, p in enumerate(ps)}

    def trajectory(ctx: Context) -> Payload:
        return path(ctx, run(ctx)["trajectory"])

    def with_mistakes(ctx: Context) -> Payload:
        """The trajectory and, beside it (not stored in fixtures), the known mistakes'."""
        payload = trajectory(ctx)
        if not ctx.expected_only:
            drawn = settings(ctx)
            for i, make in enumerate(case.mistakes.values()):  # computed here, in the grader
                payload.update({f"mistake {i}|{k}": v for k, v in _mistake_trajectory(
                    _mistake_step(make, drawn), *draw(ctx)).items()})
        return payload

    def nonfinite(mine: Payload) -> str | None:
        """What NaN or inf in ``mine`` means here: from which step, and why it may be."""
        k = _first_nonfinite_step(mine)
        if k is None:
            return None
        return (f"the parameters hold NaN or inf from step {k} on: {OPTIMIZER_NONFINITE}"
                + (f"; {case.nonfinite}" if case.nonfinite else ""))

    def judge_trajectory(actual: Payload, expected: Payload | None) -> Verdict:
        assert expected is not None
        mine = {k: v for k, v in actual.items() if "|" not in k}
        verdict = compare_payloads(mine, {k: v for k, v in expected.items() if "|" not in k},
                                   rtol=rtol, atol=1e-10, nonfinite=nonfinite(mine))
        return named_first(verdict, mine, actual)

    def against_torch(ctx: Context) -> Payload:
        payload = with_mistakes(ctx)
        torch = _torch_optimizer(case, settings(ctx))
        oracle = (_torch_trajectory(*torch, *draw(ctx))
                  if torch is not None and not ctx.expected_only else None)
        if oracle is not None:
            payload.update({f"torch|{k}": v for k, v in oracle.items()})
        return payload

    def mistaken(mine: Payload, actual: Payload) -> str | None:
        """The known mistake whose trajectory ``mine`` follows, or ``None``."""
        for i, what in enumerate(case.mistakes):
            theirs = {k.split("|", 1)[1]: v for k, v in actual.items()
                      if k.startswith(f"mistake {i}|")}
            if theirs and compare_payloads(mine, theirs, rtol=1e-6, atol=1e-10).passed:
                return what
        return None

    def named_first(verdict: Verdict, mine: Payload, actual: Payload) -> Verdict:
        """A failed verdict led by the known mistake ``mine`` follows, if one (a long
        message is cut at its end)."""
        named = None if verdict.passed else mistaken(mine, actual)
        if named:
            verdict.message = (f"Your trajectory is exactly that of {named}. "
                               f"{without_guesses(verdict.message)}")
            verdict.details[NAMED_MISTAKE] = named
        return verdict

    def judge_torch(actual: Payload, expected: Payload | None) -> Verdict:
        oracle = {k[len("torch|"):]: v for k, v in actual.items() if k.startswith("torch|")}
        mine = {k: v for k, v in actual.items() if "|" not in k}
        if oracle:
            verdict = compare_payloads(mine, oracle, rtol=rtol, atol=1e-10,
                                       nonfinite=nonfinite(mine))
            torch = _torch_optimizer(case, {})
            name = torch[0] if torch is not None else "torch"
            verdict.message = (f"same trajectory as {name} with identical settings"
                               if verdict.passed else f"differs from {name} with identical "
                               f"settings: {verdict.message}")
        else:
            assert expected is not None
            verdict = compare_payloads(mine, {k: v for k, v in expected.items() if "|" not in k},
                                       rtol=rtol, atol=1e-10, nonfinite=nonfinite(mine))
        return named_first(verdict, mine, actual)

    def state(ctx: Context) -> Payload:
        result = run(ctx, resume_at=case.steps // 2)
        straight = path(ctx, result["trajectory"][case.steps // 2:])
        resumed = path(ctx, result["resumed"])
        return {**{f"straight {k}": v for k, v in straight.items()},
                **{f"resumed {k}": v for k, v in resumed.items()}}

    def judge_state(actual: Payload, expected: Payload | None) -> Verdict:
        broken = _first_nonfinite_step({k: v for k, v in actual.items()
                                        if k.startswith("straight ")})
        if broken is not None:  # not a state problem: the steps themselves are broken
            return Verdict(False, "the parameters hold NaN or inf after step "
                           f"{broken + case.steps // 2} even without a resume, so whether "
                           "state_dict() resumes the trajectory cannot be judged: the steps "
                           "themselves are wrong (the trajectory check says from which step, "
                           "and why); fix them first")
        for key, value in actual.items():
            if key.startswith("straight "):
                other = actual.get("resumed " + key[len("straight "):])
                if other is None or not np.allclose(value, other, rtol=1e-12, atol=1e-14):
                    return Verdict(False, "an optimizer loaded from state_dict() half-way does "
                                   "not continue the same trajectory: save every piece of "
                                   "per-parameter state (moments, step count) in state_dict and "
                                   "restore it in load_state_dict")
        return Verdict(True, "resumes exactly from its state_dict")

    # a value check whose payload also holds the known mistakes' trajectories (the grader's,
    # never stored in fixtures): a trajectory that follows one is told which
    checks = [Check(question, "trajectory", f"{title}: {case.steps} steps", 0.0, "value",
                    collect=with_mistakes, judge=judge_trajectory,
                    stored=lambda key: "|" not in key, **options),
              custom_check(question, "torch", f"{title}: against torch.optim", 0.0,
                           against_torch, judge_torch, needs_expected=True,
                           stored=lambda key: "|" not in key, **options),
              # earned on a right trajectory only: two runs of a step that does nothing
              # resume each other exactly
              custom_check(question, "state", f"{title}: state_dict round trip", 0.0, state,
                           judge_state, right=(rtol, 1e-10), **options)]
    return _share(checks, points, OPTIMIZER_SHARES)


def _mistake_step(make: Callable[..., Any], settings: dict[str, Any]) -> Callable[..., None]:
    """A mistake's step (:attr:`OptimizerCase.mistakes`): the step itself (four parameters:
    params, grads, state, k), or what ``make(settings)`` makes of the settings drawn."""
    try:
        takes = len(inspect.signature(make).parameters)
    except (TypeError, ValueError):  # a builtin or a callable without a signature: a maker
        takes = 1
    return make if takes == 4 else make(settings)


def _torch_optimizer(case: OptimizerCase, settings: dict[str, Any]
                     ) -> tuple[str, dict[str, Any]] | None:
    """``(torch.optim class name, its settings)`` for the settings drawn, or None."""
    if case.torch is None:
        return None
    if isinstance(case.torch, str):
        return case.torch, settings
    name, fixed = case.torch
    return name, {**fixed, **{k: v for k, v in settings.items() if k in fixed}}


def _mistake_trajectory(step: Callable[..., None], start: list[np.ndarray],
                        grads: list[list[np.ndarray]]) -> dict[str, np.ndarray]:
    """The trajectory of a known wrong variant (:attr:`OptimizerCase.mistakes`), float64."""
    params = [np.array(p, dtype=np.float64) for p in start]
    state: dict[str, Any] = {}
    out = {}
    for k, step_grads in enumerate(grads, start=1):
        with np.errstate(all="ignore"):  # a mistake may divide by zero: that is its trajectory
            step(params, [np.asarray(g, np.float64) for g in step_grads], state, k)
        out.update({f"step {k} p{i}": p.copy() for i, p in enumerate(params)})
    return out


def _torch_trajectory(name: str, settings: dict[str, Any], start: list[np.ndarray],
                      grads: list[list[np.ndarray]]) -> dict[str, np.ndarray] | None:
    """The trajectory under ``torch.optim.<name>(**settings)`` (float64), in the grader; None
    without torch."""
    try:
        import torch
    except ImportError:
        return None
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in start]
    opt = getattr(torch.optim, name)(params, **settings)
    out = {}
    for k, step_grads in enumerate(grads):
        for p, g in zip(params, step_grads, strict=True):
            p.grad = torch.as_tensor(g, dtype=torch.float64)
        opt.step()
        for i, p in enumerate(params):
            out[f"step {k + 1} p{i}"] = p.detach().numpy().copy()
    return out


# -- plain functions ---------------------------------------------------------------------------
#: how a check sends arrays to the code under test: ``"backend"`` (``ctx.asarray``: floats in
#: the check's dtype, integers as int64) for code written against the backend, ``"numpy"`` (as
#: they are) for code written in NumPy (evaluation, plots, SciPy counts)
ARRAYS = ("backend", "numpy")


def _sent(ctx: Context, value: Any, arrays: str) -> Any:
    if arrays not in ARRAYS:
        raise ValueError(f"arrays={arrays!r}: one of {ARRAYS}")
    return send_argument(ctx, value) if arrays == "backend" else value


def function_check(question: str, module: str, name: str,
                   make: Callable[[Context], tuple[tuple, dict[str, Any]] | dict[str, Any]], *,
                   title: str, points: float, outputs: Sequence[str] = ("output",),
                   rtol: float = 1e-6, check: str = "values", in_place: str | None = None,
                   hint: str = "", arrays: str = "backend", inspect: Inspect | None = None,
                   array_outputs: Sequence[str] = (), stable: bool = False,
                   mistakes_of_inputs: dict[str, Callable[[dict[str, Any]], Payload]] | None = None,
                   case: str = "", numbers: Sequence[str] = (), **options: Any) -> Check:
    """``module.name(*args, **kwargs)``'s outputs (named ``outputs``, a tuple when several)
    against the reference's on the inputs ``make(ctx)`` draws; the check is
    ``<question>.<check>``. ``make`` returns ``(args, kwargs)`` (arrays: ``ctx.asarray``) or
    the arguments by name in call order (:func:`~.inputs.inputs`), sent as
    ``arrays`` says (:data:`ARRAYS`). ``inspect(outputs, inputs)`` may fail the check first
    with a message naming a likely mistake (:mod:`.inputs`).

    ``in_place``: the parameter the function is documented to update in place and return (a
    sparse SGD step: a copy per step would cost more than the step); a result that is a copy,
    or an argument left unchanged, fails with that said (and ``hint``: how to do it).
    ``array_outputs``: the outputs the contract asks to be arrays (:func:`function_checks`);
    ``numbers``: those it returns as Python numbers (:func:`function_checks`).
    ``stable``: the function promises numerical stability, so it runs with floating-point
    overflow raised (:func:`stable_call`). ``mistakes_of_inputs``: known wrong versions
    that need the check's inputs, ``{"what the student did (the fix)": f(inputs)}``, ``f``
    given a copy of the arguments ``make`` drew by name (as NumPy arrays) and returning the
    outputs that mistake gives; the grader computes them beside the outputs, and outputs equal
    to one's are told which mistake it is (:func:`~.kinds.value_check`'s
    ``computed_mistakes``). ``case``: what the inputs are, where ``make`` draws particular
    ones (``"on scores around 1000"``): the messages name an output ``softmax on scores around
    1000`` (``softmax's <output> on ...`` for one of several), not by its key.
    """
    positions = _array_positions(outputs, array_outputs)
    computed = tuple(mistakes_of_inputs or ())
    labels = {o: (f"{name} {case}" if len(outputs) == 1 else f"{name}'s {o} {case}")
              for o in outputs} if case else {}

    def run(ctx: Context) -> Payload:
        made = make(ctx)
        mistaken: Payload = {}
        if isinstance(made, dict) and computed and not ctx.expected_only:
            # before the call: an in-place update of the code under test changes no copy
            for i, wrong in enumerate((mistakes_of_inputs or {}).values()):
                theirs = wrong({k: np.copy(v) if isinstance(v, np.ndarray) else v
                                for k, v in made.items()})
                mistaken.update(mistaken_outputs(i, theirs))
        if isinstance(made, dict):
            drawn, args, kwargs = made, [_sent(ctx, a, arrays) for a in made.values()], {}
        else:
            (args, kwargs), drawn = made, {}
        func = ctx.function(module, name)
        if stable:
            result = stable_call(ctx, func, args, kwargs)
        elif in_place is None:
            result = func(*args, **kwargs)
        else:
            result, updated = func.call(args, kwargs, mutable=(in_place,))
            _require_in_place(ctx, name, in_place, updated, result, hint)
        ctx.require_arrays(name, positions)
        values = ctx.unpack(result, list(outputs), name) if len(outputs) > 1 else [result]
        out = {o: ctx.to_numpy(v, labels.get(o, f"{name}'s {o}"), number=o in numbers)
               for o, v in zip(outputs, values, strict=True)}
        if inspect is not None:
            inspect(out, drawn)
        return {**out, **mistaken}

    return value_check(question, check, title, points, run, rtol=rtol,
                       computed_mistakes=computed, labels=labels, **options)


@dataclass(frozen=True)
class Call:
    """One call of a :func:`calls_check`; made by :func:`call`."""

    name: str
    args: tuple
    kwargs: dict[str, Any]
    out: tuple[str, ...]
    each: str | None = None
    inspect: Inspect | None = None
    writes: str | None = None
    compare: bool = True
    numbers: tuple[str, ...] = ()


def call(name: str, *args: Any, out: str | Sequence[str], each: str | None = None,
         inspect: Inspect | None = None, writes: str | None = None, compare: bool = True,
         numbers: Sequence[str] = (), **kwargs: Any) -> Call:
    """``name(*args, **kwargs)``, a function of the check's module, in a :func:`calls_check`.

    A ``str`` argument names an input (or an output of an earlier call, to chain calls); wrap
    a string meant as it is in :func:`literal`; any other value is passed as it is. ``out``
    names the result (a tuple of names: the function returns that many values). ``each``
    names an argument holding a list: the function is called once per element, each call
    returning a number, and the numbers form one output (a schedule at several steps).
    ``inspect(outputs so far, inputs)`` runs right after the call (so a wrong result is blamed
    on this function, not on a later one that uses it). ``writes``: the name of a
    :func:`~.inputs.scratch` file the call must write, its kind told by its
    suffix (:data:`FILE_KINDS`). ``compare=False``: the outputs are inspected or passed on,
    not compared with the reference's. ``numbers``: the outputs (of ``out``) the contract
    returns as Python numbers; any other is judged an array (:mod:`.returned`).
    """
    if each is not None and each not in args:
        raise ValueError(f"call({name!r}): each={each!r} names none of its arguments {args}")
    outs = (out,) if isinstance(out, str) else tuple(out)
    if set(numbers) - set(outs):
        raise ValueError(f"call({name!r}): numbers={tuple(numbers)} names none of out={outs}")
    return Call(name, args, kwargs, outs, each, inspect, writes, compare, tuple(numbers))


@dataclass(frozen=True)
class literal:  # noqa: N801 - reads as a marker in a call's arguments
    """A string argument of a :func:`call` passed as it is, not the name of an input."""

    value: Any


#: what a file a call must write starts with, by suffix: (what it is, magic bytes, least size)
FILE_KINDS = {".png": ("a PNG image", b"\x89PNG\r\n\x1a\n", 1000)}


def calls_check(question: str, check: str, title: str, points: float, module: str,
                make: Callable[[Context], dict[str, Any]], calls: Sequence[Call], *,
                arrays: str = "backend", inspect: Inspect | None = None,
                **options: Any) -> Check:
    """The values of several calls of functions of ``module`` (:func:`call`) on the inputs
    ``make(ctx)`` draws (:func:`~.inputs.inputs`), in order, against the
    reference's: one function on several inputs (a softmax of a matrix, of a vector, of large
    scores), several functions on one input (cosines, neighbours and a correlation of the same
    vectors), a call whose result the next one takes (fit, then apply). Arrays are sent as
    ``arrays`` says (:data:`ARRAYS`); ``inspect(outputs, inputs)`` runs after the last call;
    ``options`` go to :func:`~.kinds.value_check` (``rtol``, ``up_to_sign``,
    ``mistakes``, ``hidden``, ``swap_in``...).
    """
    def arg(space: dict[str, Any], a: Any) -> Any:
        if isinstance(a, literal):
            return a.value
        if isinstance(a, str):
            if a not in space:
                raise ValueError(f"calls_check({question}.{check}): no input or output {a!r}")
            return space[a]
        return a

    def one(ctx: Context, c: Call, space: dict[str, Any]) -> list[Any]:
        func = ctx.function(module, c.name)
        args = [_sent(ctx, arg(space, a), arrays) for a in c.args]
        kwargs = {k: _sent(ctx, arg(space, v), arrays) for k, v in c.kwargs.items()}
        if c.each is None:
            result = func(*args, **kwargs)
            return ctx.unpack(result, list(c.out), c.name) if len(c.out) > 1 else [result]
        at, numbers = c.args.index(c.each), []
        for x in space[c.each]:
            value = ctx.to_numpy(func(*args[:at], _sent(ctx, x, arrays), *args[at + 1:],
                                      **kwargs), f"{c.name}({x!r}, ...)")
            if value.size != 1:
                raise CheckFailure(f"{c.name}({x!r}, ...) should return a number; it returned "
                                   f"an array of shape {value.shape}")
            numbers.append(float(value.reshape(())))
        return [np.array(numbers)]

    def run(ctx: Context) -> Payload:
        drawn = make(ctx)
        space, payload, seen = dict(drawn), {}, {}
        for c in calls:
            values = one(ctx, c, space)
            space.update(zip(c.out, values, strict=True))
            seen.update({o: ctx.to_numpy(v, c.name if len(c.out) == 1 else f"{c.name}'s {o}",
                                         number=o in c.numbers)
                         for o, v in zip(c.out, values, strict=True)})
            if c.inspect is not None:
                c.inspect(seen, drawn)
            if c.writes is not None:
                _require_file(ctx, c.name, c.writes)
            if c.compare:
                payload.update({o: seen[o] for o in c.out})
        if inspect is not None:
            inspect(seen, drawn)
        return payload

    return value_check(question, check, title, points, run, **options)


def _require_file(ctx: Context, function: str, name: str) -> None:
    """The scratch file ``name`` must have been written, and be of the kind its suffix says."""
    what, magic, least = FILE_KINDS[PurePath(name).suffix.lower()]
    data = ctx.read_scratch_file(name) or b""
    if data[:len(magic)] != magic or len(data) < least:
        raise CheckFailure(f"{function} did not save {what} at the given path")


def _require_in_place(ctx: Context, name: str, argument: str, updated: dict[str, Any],
                      returned: Any, hint: str) -> None:
    """``updated`` holds ``argument`` after the call when the call changed it: it must have
    changed and be what the call returned."""
    if returned is None:
        return  # the comparison of the result says "returned None"
    if argument not in updated or not np.array_equal(
            ctx.to_numpy(updated[argument], name), ctx.to_numpy(returned, name)):
        raise CheckFailure(f"{name} must update `{argument}` in place and return it; the "
                           f"{argument} passed in is unchanged or differs from the one returned "
                           f"(a copy?). {hint}".rstrip())


#: a gradient of a function's argument: the name of the output holding it, or a function of
#: ``(outputs, args)`` (NumPy) that rebuilds it (from multiples of a vector, say)
GradientOf = str | Callable[[dict[str, np.ndarray], dict[str, Any]], np.ndarray]


def function_checks(question: str, module: str, name: str,
                    make: Callable[[Context], dict[str, Any]], *, outputs: Sequence[str],
                    points: dict[str, float], title: str,
                    gradients: dict[str, GradientOf] | None = None,
                    torch: Callable[..., Any] | None = None, inspect: Inspect | None = None,
                    titles: dict[str, str] | None = None,
                    cases: dict[str, tuple[Callable[[Context], dict[str, Any]],
                                           Callable[..., None] | None]] | None = None,
                    rtol: float = 1e-6, sampling: dict[str, int] | None = None,
                    array_outputs: Sequence[str] = (), stable: Sequence[str] = (),
                    at_scale: Callable[[Context], dict[str, Any]] | None = NOT_GIVEN,
                    numbers: Sequence[str] = (), **options: Any) -> list[Check]:
    """The checks of a function that returns a value and gradients (a loss and its gradients,
    as CS224n's assignment 2 asks: ``loss, grad_a, grad_b = f(a, ..., b)``).

    ``make(ctx)`` draws the arguments, by parameter name in call order (float arrays are sent
    in the check's dtype, integer arrays as int64, anything else, such as another function's
    token, as it is). ``points`` names the checks and their points:

    * ``values``: every output (named ``outputs``, the first the loss) against the reference;
    * ``hidden``: the same on another seed, only where the reference is installed;
    * ``gradient``: for each argument of ``gradients`` (default: ``grad_<arg>`` for each
      output of that form), the returned gradient against central differences of the
      function's own loss, that loss against the true one, the gradient against the
      reference's and, where torch is installed, against autograd of ``torch(**arguments)``,
      the true loss written in torch (a second oracle), called with every argument by name: those
      differentiated as float64 tensors, the others as ``make`` drew them.

    ``inspect(outputs, args)`` may raise a :class:`CheckFailure` that names a likely mistake
    (a wrong shape, say) before the comparison (:func:`~.inputs.require`,
    ``require_finite``, ``require_shapes``). ``titles`` overrides the checks' titles.
    ``cases`` adds value checks on inputs of their own: ``{name: (make, inspect)}`` (scores
    around 1000, say, with an ``inspect`` that requires a finite loss), named in ``points``.
    ``sampling`` sets the gradient check's ``max_full``, ``n_samples`` and ``n_directions``
    (:func:`~.kinds.gradient_check`): sampled coordinates and random
    directions where one loss evaluation is expensive (a window of calls, say).
    ``array_outputs``: the outputs the contract asks to be arrays (a loss as a 0-d array): a
    Python number returned there fails every check, saying so (:meth:`~.checks.Context.
    require_arrays`). ``numbers``: the outputs the contract returns as Python numbers
    (CS224n's ``float(loss)``); every other output of a call given the backend's arrays must
    be an array of their namespace, device and dtype (:mod:`.returned`).
    ``stable``: the checks (of ``points``) that run the function with
    floating-point overflow raised (:func:`stable_call`): a case of large scores.
    ``at_scale``: arguments (as ``make`` draws them) at a size where gradients found by
    differentiating the function numerically cannot be computed in the check's time and
    memory (at least :data:`~.at_scale.MIN_AT_SCALE_NUMBERS` float numbers); every check then
    requires the reference's outputs there too (:func:`~.at_scale.require_function_at_scale`).
    """
    titles = {"values": f"{title}: against the reference", "hidden": f"{title}: another seed",
              "gradient": f"{title}: gradients by central differences", **(titles or {})}
    grads = gradients if gradients is not None else {
        o[len("grad_"):]: o for o in outputs if o.startswith("grad_")}

    def call(ctx: Context, args: dict[str, Any], strict: bool = False) -> dict[str, Any]:
        func, sent = ctx.function(module, name), [send_argument(ctx, a) for a in args.values()]
        result = stable_call(ctx, func, sent) if strict else func(*sent)
        ctx.require_arrays(name, _array_positions(outputs, array_outputs))
        return dict(zip(outputs, ctx.unpack(result, list(outputs), name), strict=True))

    def numpy_outputs(ctx: Context, args: dict[str, Any], inspect: Callable[..., None] | None
                      = inspect, strict: bool = False) -> dict[str, np.ndarray]:
        out = {o: ctx.to_numpy(v, f"{name}'s {o}", number=o in numbers)
               for o, v in call(ctx, args, strict).items()}
        if inspect is not None:
            inspect(out, args)
        return out

    def values(ctx: Context) -> Payload:
        return numpy_outputs(ctx, make(ctx))

    def case(draw: Callable[[Context], dict[str, Any]], check: Callable[..., None] | None,
             strict: bool) -> Callable[[Context], Payload]:
        return lambda ctx: numpy_outputs(ctx, draw(ctx), check, strict)

    def gradient(ctx: Context) -> GradientProblem:
        args = make(ctx)
        out = numpy_outputs(ctx, args)
        analytic = {a: out[g] if isinstance(g, str) else g(out, args) for a, g in grads.items()}

        def loss(p: dict[str, np.ndarray]) -> float:
            return float(call(ctx, {**args, **p})[outputs[0]])

        true = None
        if torch is not None:
            def true(p: dict[str, Any]) -> Any:
                return torch(**{**args, **p})
        return GradientProblem(loss=loss, point={a: np.asarray(args[a], np.float64)
                                                 for a in grads},
                               analytic=analytic, autograd_loss=true)

    unknown = set(stable) - set(cases or {})
    if unknown:
        raise ValueError(f"function_checks({question!r}): stable names no case: "
                         f"{sorted(unknown)}")
    made = {"values": lambda p: value_check(question, "values", titles["values"], p, values,
                                            rtol=rtol, **options),
            "hidden": lambda p: value_check(question, "hidden", titles["hidden"], p, values,
                                            rtol=rtol, hidden=True, **options),
            "gradient": lambda p: gradient_check(question, "gradient", titles["gradient"], p,
                                                 gradient, **(sampling or {}), **options)}
    for cname, (draw, check) in (cases or {}).items():
        made[cname] = lambda p, cname=cname, draw=draw, check=check: value_check(
            question, cname, titles.get(cname, f"{title}: {cname}"), p,
            case(draw, check, cname in stable), rtol=rtol, **options)
    unknown = set(points) - set(made)
    if unknown:
        raise ValueError(f"function_checks({question!r}): unknown checks {sorted(unknown)}")
    at_scale = _at_scale_of("function_checks", question, name, at_scale)
    scaled = None if at_scale is None else (lambda ctx: require_function_at_scale(
        ctx, module, name, at_scale, outputs, lambda a: send_argument(ctx, a), numbers))
    return [gate(made[c](p), scaled) for c, p in points.items()]


def stable_call(ctx: Context, func: Any, args: Sequence[Any],
                kwargs: dict[str, Any] | None = None) -> Any:
    """``func(*args, **kwargs)`` (a function of the code under test, or a probe) run where the
    code runs with floating-point overflow and invalid values raised (probe
    ``without_overflow``): for the checks of functions that promise numerical stability, whose
    result may come out finite after an inf on the way."""
    return ctx.probe("without_overflow")(func, list(args), dict(kwargs or {}))


def run_layer(ctx: Context, module: str, cls: str, args: tuple[Any, ...], x: np.ndarray,
              grad_output: np.ndarray, *, kwargs: dict[str, Any] | None = None,
              stable: bool = False) -> dict[str, np.ndarray]:
    """One forward and backward of a new ``module.cls(*args, **kwargs)`` (parameters its
    own) on the host input ``x`` with the upstream gradient ``grad_output``, where the code
    under test runs: ``{"output": y, "dL/dx": input gradient}`` on the host, for a
    :func:`~.kinds.property_check` or :func:`~.kinds.value_check` of the layer on inputs of
    the check's choosing (a drop rate measured on a large input, derivatives at kinks).
    Neither call may change what it is given. ``stable``: with floating-point overflow and
    invalid values raised (:func:`stable_call`)."""
    head = [ctx.function(module, cls), tuple(args), dict(kwargs or {}), {},
            [[ctx.asarray(x)]], [ctx.asarray(grad_output)]]
    probe = ctx.probe("layer_run")
    ran = (stable_call(ctx, probe, head, {"names": ("x",)}) if stable
           else probe(*head, names=("x",)))
    return {"output": ctx.to_numpy(ran["outputs"][0], f"{cls}.forward's output"),
            "dL/dx": ctx.to_numpy(ran["input_grads"][0], f"{cls}.backward's gradient")}


def _array_positions(outputs: Sequence[str], arrays: Sequence[str]) -> dict[str, str]:
    """For :meth:`~.checks.Context.require_arrays`: the positions in a result of ``outputs``
    (the result itself for one output) of those named in ``arrays``, with their names."""
    unknown = set(arrays) - set(outputs)
    if unknown:
        raise ValueError(f"array_outputs {sorted(unknown)} are not outputs {list(outputs)}")
    if len(outputs) == 1:
        return {"*": f"its {outputs[0]}"} if arrays else {}
    return {str(i): f"its {o}" for i, o in enumerate(outputs) if o in arrays}


#: the most lines of Python a vectorized function may run on the larger input of
#: :func:`require_vectorized` (the course's run 2 to 15, whatever the size)
VECTORIZED_LINES = 200


def require_vectorized(ctx: Context, module: str, name: str,
                       make_args: Callable[[int], tuple], *, items: str,
                       sizes: tuple[int, int] = (2_000, 8_000)) -> None:
    """Fail unless ``module.name`` is vectorized over its data: the lines of the submission's
    Python it runs (:func:`~nlpdojo_autograder.runtime.probes.python_lines`) on ``make_args(size)``
    must not grow with the size, nor pass :data:`VECTORIZED_LINES` (or 2 % of the larger
    size). A loop over the ``items`` (tokens, rows), a comprehension or a generator fed to
    ``Counter`` runs at least one more line per item; NumPy's loops run in C and count
    nothing. A loop over sentences, about a line per six tokens, is caught too. Each counted
    call's result must be an uncounted call's (:func:`counted_lines`)."""
    lines = [counted_lines(ctx, name, ctx.function(module, name),
                           lambda size=size: make_args(size)) for size in sizes]
    grown, more = lines[1] - lines[0], sizes[1] - sizes[0]
    # the cap: lines added while counted only (a padding loop where the tracer is seen) could
    # make the two counts equal, but not small
    if grown > max(20, 0.02 * more) or lines[1] > max(VECTORIZED_LINES, 0.02 * sizes[1]):
        raise CheckFailure(
            f"{name} runs {lines[0]:,} lines of Python for about "
            f"{sizes[0]:,} {items} and {lines[1]:,} for about {sizes[1]:,}: a Python loop over the "
            f"{items} (a for loop, a comprehension, or a generator fed to Counter or np.array). "
            "This question asks for vectorized code, whose cost in Python does not grow with "
            "the data: whole-array NumPy operations (sliding_window_view, np.unique, "
            "np.cumsum, boolean masks)")


def counted_lines(ctx: Context, what: str, func: Any, make_args: Callable[[], Sequence[Any]],
                  kwargs: dict[str, Any] | None = None, *, root_of: Any = None) -> int:
    """The lines of the submission's Python ``func(*make_args(), **kwargs)`` runs (probe
    ``python_lines_and_result``), once its result is shown to be what an uncounted call on
    the same arguments returns (run after it, on arguments made afresh: a result kept from
    one run cannot stand in for the other). A count is only worth the code it counted: code
    that notices the tracer (``sys.gettrace()``) and answers otherwise while counted, cheaply
    and wrongly, fails here instead of passing the rule against Python loops."""
    counted = ctx.probe("python_lines_and_result")(func, list(make_args()), kwargs or {},
                                                    root_of=root_of)
    if not isinstance(counted, dict) or not {"lines", "result"} <= set(counted):
        raise CheckFailure(f"internal: the line count of {what} came back as {type(counted)}")
    again = func(*make_args(), **(kwargs or {}))
    if not _same_results(ctx, counted["result"], again):
        raise CheckFailure(
            f"{what} gave other results on the same inputs in two runs, one of them with its "
            "lines of Python counted: a result must depend on the inputs alone (and the seed "
            "it is given), not on a global random generator, on earlier calls, or on whether "
            "it is being observed")
    return int(counted["lines"])


def _flat(tree: Any, path: str = "") -> list[tuple[str, Any]]:
    """``(where, leaf)`` of a tree of dicts, tuples and lists (a result to compare)."""
    if isinstance(tree, dict):
        return [x for k in sorted(tree, key=str) for x in _flat(tree[k], f"{path}[{k!r}]")]
    if isinstance(tree, (tuple, list)):
        return [x for i, v in enumerate(tree) for x in _flat(v, f"{path}[{i}]")]
    return [(path, tree)]


def _same_results(ctx: Context, first: Any, second: Any) -> bool:
    """Whether two results of one call are the same: the same structure, equal numbers (to
    rounding: 1e-9 relative), equal anything else."""
    a, b = _flat(first), _flat(second)
    if [p for p, _ in a] != [p for p, _ in b]:
        return False
    for (_, x), (_, y) in zip(a, b, strict=True):
        if x is None or y is None:
            if x is not y:
                return False
            continue
        try:
            x, y = ctx.to_numpy(x, "a result"), ctx.to_numpy(y, "a result")
        except CheckFailure:  # not numbers (a name, an object): compared as they are
            if type(x) is not type(y) or repr(x) != repr(y):
                return False
            continue
        if x.shape != y.shape or not np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True):
            return False
    return True


def send_argument(ctx: Context, x: Any) -> Any:
    """An argument as the code under test receives it: arrays through ``ctx.asarray``."""
    return _send(ctx, x) if isinstance(x, np.ndarray) else x


# -- metrics after one shared training run -----------------------------------------------------
@dataclass
class Metric:
    """One metric of a training run: its key in what ``train`` returns, how the report names
    it, the points, and the threshold (a number, or a function of the reference's value under
    the same budget: ``lambda ref: ref - 0.05``)."""

    key: str
    name: str
    points: float
    threshold: float | Callable[[float], float]
    higher_is_better: bool = True
    title: str = ""
    #: the key, in what ``train`` returns, of the value untrained artefacts reach by chance
    #: (see :func:`~.kinds.metric_check`): the metric must beat it too
    chance: str | None = None
    #: how the feedback names that floor when it is a baseline shown in every message
    chance_name: str | None = None
    #: ``(bound, why)``: past ``bound(reference)`` a value is implausible (kinds.metric_check)
    too_good: tuple[Callable[[float], float], str] | None = None


def metric_checks(question: str, run_name: str, train: Callable[[Context], dict[str, float]],
                  metrics: Sequence[Metric], *, budget: str, timeout_s: float = 600.0,
                  hint: str = "", **options: Any) -> list[Check]:
    """Metric checks that share one training run per budget: ``train(ctx)`` trains the code
    under test under the fixed budget and seeds (the given loop is the instructor's:
    ``ctx.given_function``) and returns every metric, measured by the grader. It runs once per
    grading run (the first of these checks), its result or its failure shared by the others;
    a run stopped for time stops them all at once (``shares``)."""
    def measured(ctx: Context) -> dict[str, float]:
        key = ("training run", question, run_name, ctx.full, ctx.input_seed)
        if key not in ctx.cache:
            try:
                ctx.cache[key] = train(ctx)
            except Exception as exc:  # noqa: BLE001 - every sharing check reports it
                ctx.cache[key] = exc
        if isinstance(ctx.cache[key], Exception):
            raise ctx.cache[key]
        return ctx.cache[key]

    def one(metric: Metric) -> Callable[[Context], Payload]:
        def collect(ctx: Context) -> Payload:
            values = measured(ctx)
            if metric.key not in values:
                raise CheckFailure(f"internal: the training run measured no {metric.key}")
            return {"value": float(values[metric.key]),
                    **{k: float(v) if np.ndim(v) == 0 else np.asarray(v)
                       for k, v in values.items() if k != metric.key}}
        return collect

    return [metric_check(question, m.key, m.title or f"{m.name} after training", m.points,
                         one(m), metric=m.name, threshold=m.threshold,
                         higher_is_better=m.higher_is_better, budget=budget,
                         timeout_s=timeout_s, shares=f"{question} {run_name}", hint=hint,
                         chance=m.chance, chance_name=m.chance_name, too_good=m.too_good,
                         **options)
            for m in metrics]
