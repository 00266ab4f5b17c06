"""The integrity rules a builder adds to its checks: code vectorized over a batch and over
time (no Python loop over examples or steps, :func:`require_vectorized`), a backward derived by
the chain rule rather than by differencing the forward (its lines counted against the
forward's and the reference's, :func:`counted_lines`), and the same results whether traced or
not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.at_scale import leaves as _leaves
from nlpdojo_autograder.authoring.at_scale import on_reference, reference_subject
from nlpdojo_autograder.authoring.builders.cases import (
    BATCH_FACTOR,
    TIME_FACTOR,
    TIME_OFFSET,
    LayerCase,
    _batch,
    _output_shape,
    _params,
    _same_output_shapes,
    _varied,
)
from nlpdojo_autograder.authoring.builders.torch_oracle import _torch_values
from nlpdojo_autograder.authoring.builders.wire import _host, _send
from nlpdojo_autograder.authoring.checks import CheckFailure
from nlpdojo_autograder.authoring.context import STRICT_BACKEND, Context
from nlpdojo_autograder.runtime.calls import StudentError


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
    if not case.params:
        _require_features_vectorized(ctx, cls, case, token, inputs, grad)


#: the offset of the generator of the wider inputs of the features rule
FEATURES_OFFSET = 0xFEA7


def _require_features_vectorized(ctx: Context, cls: str, case: LayerCase, token: Any,
                                 inputs: tuple[Any, ...], grad: Any) -> None:
    """The same for the features of a layer without parameters (an activation, a pooling,
    dropout): where its float inputs and its output share their last axis, F, as many lines
    on :data:`BATCH_FACTOR` times the features (that axis widened by varied copies). The
    batch and time rules never varied F: a max over time a filter at a time earned full
    marks (an attacker's ``MaxOverTime``). A layer with parameters has its features fixed by
    them (and a case at scale counts its lines)."""
    if any(isinstance(x, (tuple, list)) for x in inputs) or isinstance(grad, (tuple, list)):
        return
    floats = [i for i, x in enumerate(inputs)
              if np.ndim(x) >= 2 and np.asarray(x).dtype.kind == "f"]
    width = np.shape(inputs[floats[0]])[-1] if floats else 0
    if width < 2 or np.ndim(grad) < 2 or np.shape(grad)[-1] != width or any(
            np.shape(inputs[i])[-1] != width for i in floats):
        return
    rng = ctx.rng(FEATURES_OFFSET)

    def wider(x: Any) -> np.ndarray:
        return np.concatenate([x, *(_varied(x, rng) for _ in range(BATCH_FACTOR - 1))], axis=-1)

    lines = [counted_lines(
        ctx, f"{cls}.forward and .backward", ctx.probe("layer_run"),
        lambda xs=xs, g=g: [token, tuple(case.args), case.kwargs, _params(ctx, case),
                            [[_send(ctx, a) for a in xs]], [_send(ctx, g)]],
        {"train": case.train, "cells": case.cells or None}, root_of=token)
        for xs, g in ((inputs, grad), (tuple(wider(x) if i in floats else x
                                              for i, x in enumerate(inputs)), wider(grad)))]
    require_not_growing(cls, lines, width, "features", (
        "A layer is vectorized over its features (the filters, the units): whole-array "
        "operations on the last axis (xp.max(..., axis=1) over time for every filter at once, "
        "xp.where on the whole array)"))


def require_not_growing(cls: str, lines: list[int], count: int, what: str, advice: str) -> None:
    """Fail where ``lines`` (one forward and backward on ``count`` of ``what``, then on
    :data:`BATCH_FACTOR` times as many) grew by a line or more per added one: a Python loop
    over them."""
    if lines[1] - lines[0] >= (BATCH_FACTOR - 1) * count:
        raise CheckFailure(
            f"{cls}.forward and .backward, one call of each, run {lines[0]:,} lines of Python "
            f"in all for {count} {what} and {lines[1]:,} for {BATCH_FACTOR * count}: a Python "
            f"loop over the {what} (a for loop, a comprehension) in one of them or both. "
            + advice)


def _require_time_vectorized(ctx: Context, module: str, cls: str, case: LayerCase,
                             torch: Callable[..., Any] | None = None) -> None:
    """Fail unless one forward and backward of ``module.cls`` runs as many lines of the
    submission's Python on sentences :data:`TIME_FACTOR` times as long (``case.longer``) as on
    the case's (probe ``python_lines``: deterministic, no timing). A loop over the positions of
    a sentence (a window at a time, a running max) runs at least one more line per added
    position, of the input or of the output where it has a time axis (a strided convolution's
    fewer windows); a loop over a convolution's taps does not grow with the length. An
    upstream gradient ``case.longer`` leaves to the check (None) is drawn at the true output's
    shape (:func:`_true_upstream`)."""
    assert case.longer is not None
    token = ctx.function(module, cls)
    lines, lengths, outputs = [], [], []
    for factor in (1, TIME_FACTOR):
        rng = ctx.rng(TIME_OFFSET)
        xs, g = case.longer(rng, factor)
        if g is None:
            g = _true_upstream(ctx, token, case, xs, torch, rng)
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


def _true_upstream(ctx: Context, token: Any, case: LayerCase, xs: tuple[Any, ...],
                   torch: Callable[..., Any] | None, rng: np.random.Generator) -> Any:
    """An upstream gradient for one application to ``xs``, drawn from ``rng`` at the true
    output's shape: the reference's (where one is measured against), else, in the reference's
    own run, the layer's ``torch`` forward's (where torch is in the grader), else the code
    under test's own, whose length there the values check judges (a tuple of arrays for a
    tuple output): a student release's grading imports no torch for it, as the layer's runner
    does not (:func:`~.layer._layer_runner`)."""
    reference = reference_subject(ctx)
    # torch only where nothing else tells the shape, as the layer's runner asks it
    true = None if (reference is not None or torch is None or case.cells or case.train is False
                    or not ctx.expected_only or ctx.backend.name == STRICT_BACKEND
                    ) else _torch_values(torch, case, xs, None)
    if reference is not None:
        shape = on_reference(reference, "output_shape", token, tuple(case.args), case.kwargs,
                             _params(ctx, case), [_send(ctx, a) for a in xs], train=case.train,
                             cells=case.cells or None, names=case.names)
    elif true is not None:
        shape = [np.shape(v) for v in true.values()]
        shape = shape[0] if len(shape) == 1 else tuple(shape)
    else:
        shape = _output_shape(ctx, token, case, tuple(_host(a) for a in xs))

    def draw(s: Any) -> Any:  # a shape (ints), or a list of shapes for a tuple output
        if len(s) and isinstance(s[0], (tuple, list)):
            return tuple(draw(x) for x in s)
        return rng.standard_normal(tuple(s))

    return draw(shape)


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
            "gradient and cache only, the same whoever calls it; and the forward before it "
            "the same on the same inputs: every random draw from the layer's own seeded "
            "generator (a dropout's self.keep_mask), never np.random (a student trial's mask "
            "drawn from np.random was told of the backward alone)")


#: the most lines of Python a vectorized function may run on the larger input of
#: :func:`require_vectorized` (the course's run 2 to 15, whatever the size)
VECTORIZED_LINES = 200


def require_vectorized(ctx: Context, module: str | None, name: str,
                       make_args: Callable[[int], tuple], *, items: str,
                       sizes: tuple[int, int] = (2_000, 8_000)) -> None:
    """Fail unless ``module.name`` (``module`` None: the question's) is vectorized over its
    data: the lines of the submission's Python it runs
    (:func:`~nlpdojo_autograder.runtime.probes.python_lines`) on ``make_args(size)`` must not
    grow with the size, nor pass :data:`VECTORIZED_LINES` (or 2 % of the larger
    size). A loop over the ``items`` (tokens, rows), a comprehension or a generator fed to
    ``Counter`` runs at least one more line per item; NumPy's loops run in C and count
    nothing. A loop over sentences, about a line per six tokens, is caught too. Each counted
    call's result must be an uncounted call's (:func:`counted_lines`)."""
    func = ctx.function(module, name) if module is not None else ctx.function(name)
    lines = [counted_lines(ctx, name, func, lambda size=size: make_args(size))
             for size in sizes]
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
                  kwargs: dict[str, Any] | None = None, *, root_of: Any = None,
                  mutable: Sequence[str] = ()) -> int:
    """The lines of the submission's Python ``func(*make_args(), **kwargs)`` runs (probe
    ``python_lines_and_result``), once its result is shown to be what an uncounted call on
    the same arguments returns (run after it, on arguments made afresh: a result kept from
    one run cannot stand in for the other). A count is only worth the code it counted: code
    that notices the tracer (``sys.gettrace()``) and answers otherwise while counted, cheaply
    and wrongly, fails here instead of passing the rule against Python loops. ``mutable``:
    the parameters of ``func`` it updates in place by contract (a sparse SGD step's matrix)."""
    counted, _ = ctx.probe("python_lines_and_result").call(
        [func, list(make_args()), kwargs or {}], {"root_of": root_of},
        mutable=("args",) if mutable else ())
    if not isinstance(counted, dict) or not {"lines", "result"} <= set(counted):
        raise CheckFailure(f"internal: the line count of {what} came back as {type(counted)}")
    again, _ = func.call(list(make_args()), kwargs or {}, mutable=mutable)
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
