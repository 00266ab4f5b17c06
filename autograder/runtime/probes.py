"""Procedures the grader runs on the code under test: build a layer, loss or optimizer, give it
the grader's parameter values, run it, and return what it computed, as data.

They run where the code under test runs (the sandboxed worker for a student's code, the
grader's own process for the reference), called through ``Context.probe``. Nothing here
judges: the check builders (:mod:`nlpdojo_autograder.authoring.builders`) compare what comes
back with the reference and with central differences in the grader. The code is public on
purpose, so a student can read exactly what a check does with their layer.

The contract they drive is :mod:`nlpdojo.module`'s: ``forward(*inputs) -> (output, cache)``,
``backward(grad_output, cache) -> grad_input(s)``, gradients added into ``Parameter.grad``.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from array_api_compat import array_namespace

from nlpdojo.module import Parameter


class ProbeError(TypeError):
    """The code under test does not follow the module contract (the message says how)."""


def build(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
          params: dict[str, Any] | None = None, *, train: bool = True) -> Any:
    """``cls(*args, **kwargs)`` with its parameters set to ``params`` (by dotted name)."""
    layer = cls(*args, **kwargs)
    named = dict(layer.named_parameters()) if hasattr(layer, "named_parameters") else {}
    for name, value in (params or {}).items():
        if name not in named:
            raise ProbeError(f"{type(layer).__name__} has no parameter {name!r} (it has: "
                             f"{', '.join(named) or 'none'}); keep the parameter names of the "
                             "released code")
        if tuple(value.shape) != tuple(named[name].data.shape):
            raise ProbeError(f"{type(layer).__name__}.{name} has shape "
                             f"{tuple(named[name].data.shape)}, expected {tuple(value.shape)}")
        named[name].data = value
        named[name].zero_grad()
    if hasattr(layer, "train"):
        layer.train(train)
    return layer


def forward(layer: Any, inputs: Sequence[Any]) -> tuple[Any, Any]:
    """``layer.forward(*inputs)``, checked to return ``(output, cache)``."""
    result = layer.forward(*inputs)
    if not isinstance(result, tuple) or len(result) != 2:
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise ProbeError(f"{type(layer).__name__}.forward must return (output, cache): the "
                         f"output and what backward needs for this call; it returned {got}")
    return result


def _inner(out: Any, grad: Any) -> Any:
    """sum(out * grad) as a 0-d array of out's library."""
    xp = out.__array_namespace__() if hasattr(out, "__array_namespace__") else None
    if xp is None:
        xp = array_namespace(out)
    return xp.sum(out * grad)


def layer_run(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
              params: dict[str, Any] | None, inputs: Sequence[Sequence[Any]],
              grad_outputs: Sequence[Any], *, train: bool = True,
              backward_twice: bool = False) -> dict[str, Any]:
    """Apply one new layer to each of ``inputs`` in turn (one tuple of arrays per application),
    then backpropagate ``grad_outputs[t]`` through each application in reverse order, as
    backpropagation through time does; with ``backward_twice``, all of it a second time (the
    parameter gradients must then be twice as large: they accumulate).

    Returns ``outputs`` (per application), ``input_grads`` (per application, of the first
    backward pass), ``param_grads`` and ``param_grads_once`` (after one pass) by name.
    """
    layer = build(cls, args, kwargs, params, train=train)
    outputs, caches = [], []
    for x in inputs:  # the layer keeps nothing between calls: each call has its own cache
        out, cache = forward(layer, x)
        outputs.append(out)
        caches.append(cache)
    input_grads: list[Any] = [None] * len(inputs)
    once: dict[str, Any] = {}
    for round_ in range(2 if backward_twice else 1):
        for t in reversed(range(len(inputs))):
            g = layer.backward(grad_outputs[t], caches[t])
            if round_ == 0:
                input_grads[t] = g
        if round_ == 0:
            once = {n: _copy(p.grad) for n, p in layer.named_parameters()}
    return {"outputs": outputs, "input_grads": input_grads,
            "param_grads": {n: p.grad for n, p in layer.named_parameters()},
            "param_grads_once": once}


def _copy(x: Any) -> Any:
    return array_namespace(x).asarray(x, copy=True)


def output_shape(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                 params: dict[str, Any] | None, inputs: Sequence[Any], *,
                 train: bool = True) -> list[int]:
    """The shape of ``forward(*inputs)``'s output of a new layer."""
    out, _ = forward(build(cls, args, kwargs, params, train=train), inputs)
    if not hasattr(out, "shape"):
        raise ProbeError(f"{cls.__name__}.forward's output is a {type(out).__name__}, not an "
                         "array")
    return [int(s) for s in out.shape]


def layer_objective(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                    params: dict[str, Any] | None, inputs: Sequence[Sequence[Any]],
                    grad_outputs: Sequence[Any], *, train: bool = True) -> float:
    """``Σ_t sum(forward(inputs[t]) * grad_outputs[t])`` of a new layer: the scalar whose
    gradient :func:`layer_run`'s backward passes compute (what central differences check)."""
    layer = build(cls, args, kwargs, params, train=train)
    total = 0.0
    for x, g in zip(inputs, grad_outputs, strict=True):
        out, _ = forward(layer, x)
        total += float(_inner(out, g))
    return total


def loss_run(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
             prediction: Any, target: Any, grad_output: float = 1.0) -> dict[str, Any]:
    """A loss's value and dL/d(prediction); the value must be a 0-d array, not a float."""
    loss_fn = cls(*args, **kwargs)
    loss, cache = forward(loss_fn, (prediction, target))
    if getattr(loss, "shape", None) != ():  # a Python float has no shape
        raise ProbeError(f"{type(loss_fn).__name__}.forward must return the loss as a 0-d array "
                         f"(xp.sum(...) / n), not {type(loss).__name__} of shape "
                         f"{getattr(loss, 'shape', '?')}: a Python float stops a GPU every step")
    return {"loss": loss, "grad": loss_fn.backward(grad_output, cache)}


def loss_objective(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                   prediction: Any, target: Any) -> float:
    loss_fn = cls(*args, **kwargs)
    loss, _ = forward(loss_fn, (prediction, target))
    return float(loss)


def optimizer_run(cls: Callable[..., Any], kwargs: dict[str, Any], backend: Any,
                  params: Sequence[Any], grads: Sequence[Sequence[Any]], *,
                  resume_at: int | None = None) -> dict[str, Any]:
    """Parameters ``params`` stepped with ``grads[k]`` at step ``k``: the trajectory (the
    parameters after every step). With ``resume_at``, a second optimizer is made from the
    first's ``state_dict`` after that many steps and takes the remaining steps on a copy: its
    trajectory must continue the first's exactly."""
    def run(start: list[Any], steps: Sequence[Sequence[Any]], state: Any = None
            ) -> tuple[list[list[Any]], Any]:
        ps = [Parameter(backend.asarray(p), f"p{i}") for i, p in enumerate(start)]
        opt = cls(ps, **kwargs)
        if state is not None:
            opt.load_state_dict(state)
        path = []
        for step_grads in steps:
            for p, g in zip(ps, step_grads, strict=True):
                p.zero_grad()
                p.grad = backend.asarray(g)
            opt.step()
            path.append([_copy(p.data) for p in ps])
        return path, opt

    trajectory, opt = run(list(params), grads[:resume_at] if resume_at else grads)
    result: dict[str, Any] = {"trajectory": trajectory}
    if resume_at:
        state = opt.state_dict()
        rest, _ = run(trajectory[-1], grads[resume_at:], state)
        straight, _ = run(list(params), grads)
        result = {"trajectory": straight, "resumed": rest}
    return result


def python_lines(func: Callable[..., Any], args: Sequence[Any],
                 kwargs: dict[str, Any] | None = None) -> int:
    """How many lines of the submission's own Python ``func(*args, **kwargs)`` executes (line
    events, ``sys.settrace``, counted in files under the course folder that holds ``func``'s
    topic: NumPy's C loops count nothing, a Python loop over the data one or more per item).
    :func:`nlpdojo_autograder.authoring.builders.require_vectorized` runs it at two input sizes."""
    source = inspect.getsourcefile(inspect.unwrap(func)) or ""
    root = os.path.dirname(os.path.dirname(os.path.abspath(source))) + os.sep
    count = 0

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def enter(frame: Any, event: str, arg: Any) -> Any:
        # only the submission's frames are traced line by line (not NumPy's Python parts)
        return local if frame.f_code.co_filename.startswith(root) else None

    previous = sys.gettrace()
    sys.settrace(enter)
    try:
        func(*args, **(kwargs or {}))
    finally:
        sys.settrace(previous)
    return count
