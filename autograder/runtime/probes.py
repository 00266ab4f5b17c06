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

import _imp
import _thread
import contextlib
import gc
import importlib.machinery
import importlib.util
import inspect
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from array_api_compat import array_namespace
from array_api_compat import device as array_device
from threadpoolctl import threadpool_limits as _threadpool_limits

from nlpdojo.arrays import to_numpy
from nlpdojo.module import Module, Parameter
from nlpdojo_autograder.runtime.channel import plain, to_wire
from nlpdojo_autograder.runtime.executed import recording
from nlpdojo_autograder.runtime.signatures import invoke

# bound once, at import: what the line counter calls while it counts cannot be rebound later
# by changing the os module (graded code may not, by the code rules; this holds regardless)
_SEP = os.sep
_abspath, _dirname, _join, _realpath = (os.path.abspath, os.path.dirname, os.path.join,
                                        os.path.realpath)


class ProbeError(TypeError):
    """The code under test does not follow the module contract (the message says how)."""


class UncountedWork(ProbeError):
    """The code under test ran where the line counter cannot see (another thread, the tracer
    taken away): its message is the whole feedback."""


#: how many Python threads were running when the worker sealed the submission's code, before
#: any of it ran (:func:`submission_starts`); None outside a worker (a test calling a probe)
_THREADS_BEFORE_SUBMISSION: int | None = None


def submission_starts() -> None:
    """Called by the worker before any code under test runs: threads beyond these are the
    submission's (see :func:`_counted`). A tqdm progress bar starts no monitor thread here
    (``tqdm.monitor_interval = 0``, set when tqdm is imported: :class:`_QuietProgressBars`),
    so that a bar in the student's own loop is no thread of theirs. The objects there are so
    far (the grader's, the libraries', torch's) are frozen out of garbage collection: the
    collection inside each count (:func:`_counted`) then reads only what came after, in
    milliseconds (a tenth of a second each with torch's objects)."""
    global _THREADS_BEFORE_SUBMISSION
    if "tqdm" in sys.modules:
        _quiet_tqdm(sys.modules["tqdm"])
    elif not any(isinstance(f, _QuietProgressBars) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietProgressBars())
    _THREADS_BEFORE_SUBMISSION = _thread._count()
    gc.freeze()


def _quiet_tqdm(module: Any) -> None:
    with contextlib.suppress(AttributeError):
        module.tqdm.monitor_interval = 0


class _QuietProgressBars:
    """A finder that sets ``tqdm.monitor_interval = 0`` once tqdm is imported (by the code
    under test, a given training loop): importing tqdm in every worker to set it cost a
    tenth of a worker's start-up (tqdm reads its version from its package metadata), and
    most gradings never import it. It finds nothing itself: it leaves ``sys.meta_path`` at
    tqdm's import and wraps the loader the other finders give."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "tqdm":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            spec = getattr(finder, "find_spec", lambda *a: None)(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


class _QuietLoader:
    """``loader``, and ``tqdm.monitor_interval = 0`` once the module is executed."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        _quiet_tqdm(module)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, get_code...
        return getattr(self.loader, name)


def build(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
          params: dict[str, Any] | None = None, *, train: bool = True,
          cells: dict[str, Sequence[Any]] | None = None) -> Any:
    """``cls(*args, **kwargs)`` with its parameters set to ``params`` (by dotted name); with
    ``cells``, the sub-modules at those dotted paths first replaced by the grader's
    :class:`TestCell` of each spec ``(kind, input size, hidden size)`` (a sequence check)."""
    layer = invoke(cls, args, kwargs)
    for path, (kind, input_size, hidden_size) in (cells or {}).items():
        _replace(layer, path, STAND_IN_CELLS[kind](layer.backend, int(input_size),
                                               int(hidden_size)))
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
    result = invoke(layer.forward, inputs, {})
    if not isinstance(result, tuple) or len(result) != 2:
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise ProbeError(f"{type(layer).__name__}.forward must return (output, cache): the "
                         f"output and what backward needs for this call; it returned {got}")
    output, cache = result  # (a tuple subclass's own __iter__ runs here, where it is counted)
    return output, cache


def leaves(tree: Any) -> list[Any]:
    """The arrays of a nested tuple or list (a state ``(h, c)``; an array is its own leaf)."""
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [tree]


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.generic)


def _snapshot(tree: Any) -> list[Any]:
    """Copies (NumPy) of the arrays of ``tree``, to tell afterwards whether a call changed them."""
    return [to_numpy(a) if _is_array(a) else None for a in leaves(tree)]


def _changed(tree: Any, snapshot: list[Any]) -> int | None:
    """The index (among ``leaves(tree)``) of the first array that differs from its snapshot."""
    for k, (a, before) in enumerate(zip(leaves(tree), snapshot, strict=True)):
        if before is None:
            continue
        now = to_numpy(a)
        if not (same_bytes(now, before) or np.array_equal(now, before, equal_nan=True)):
            return k
    return None


def same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two NumPy arrays of numbers hold the same bytes in one shape and dtype: then
    ``np.array_equal`` (NaN equal to NaN) says they are equal too, in a twentieth of its time
    (0.2 against 4 us for a small array): the quick answer for the common case, an array a
    call left as it was, asked several times per call-back. False says nothing (-0.0 and 0.0,
    say): ask ``np.array_equal`` then."""
    if a.shape != b.shape or a.dtype != b.dtype or a.dtype.kind not in "biufc":
        return False
    if a.nbytes <= SMALL_BYTES or not (a.flags.c_contiguous and b.flags.c_contiguous):
        return a.tobytes() == b.tobytes()
    # a large array's copy costs more than a comparison of its bytes where they lie
    return bool(np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)))


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether NumPy arrays ``a`` and ``b`` are the same array: one shape, one dtype, equal
    values (NaN equal to NaN where the dtype has NaN); the bytes are compared first
    (:func:`same_bytes`). What a call's arguments and an object's state are compared by."""
    return a.shape == b.shape and a.dtype == b.dtype and (same_bytes(a, b) or bool(
        np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.inexact))))


#: up to this size an array's bytes are compared as copies (``tobytes``: the quickest for the
#: small arrays of a check); beyond it, in place
SMALL_BYTES = 16_384


#: how a layer must compute instead of changing what it was given
IN_PLACE_FIX = ("compute a new array instead (`y = xp.where(x > 0, x, 0.0 * x)`, not "
                "`x[x < 0] = 0`; `g = g * m`, not `g *= m`; no `out=` into an argument)")


def _names_of(names: Sequence[Any] | None, inputs: Sequence[Any]) -> list[str]:
    """The names of the arrays of one application's inputs, in :func:`leaves` order."""
    out = []
    for i, x in enumerate(inputs):
        given = names[i] if names is not None and i < len(names) else None
        n = len(leaves(x))
        if isinstance(given, (tuple, list)) and len(given) == n:
            out += [str(g) for g in given]
        elif n == 1:
            out.append(str(given) if given is not None else f"input {i}")
        else:
            out += [f"{given or f'input {i}'}[{j}]" for j in range(n)]
    return out


def _forward_unchanging(layer: Any, x: Sequence[Any], names: Sequence[Any] | None,
                        call: int, calls: int) -> tuple[Any, Any]:
    """:func:`forward`, failing if it changed one of its inputs in place."""
    before = _snapshot(list(x))
    result = forward(layer, x)
    k = _changed(list(x), before)
    if k is not None:
        which = f" (call {call + 1} of {calls})" if calls > 1 else ""
        raise ProbeError(f"{type(layer).__name__}.forward changed its input "
                         f"`{_names_of(names, x)[k]}` in place{which}: a layer must not modify "
                         "its inputs (the caller, an earlier layer or the next step of an RNN, "
                         f"still needs them); {IN_PLACE_FIX}")
    return result


def _backward_unchanging(layer: Any, grad: Any, cache: Any) -> Any:
    """``layer.backward(grad, cache)``, failing if it changed the upstream gradient in place."""
    before = _snapshot(grad)
    result = invoke(layer.backward, (grad, cache), {})
    k = _changed(grad, before)
    if k is not None:
        what = "grad_output" if len(before) == 1 else f"array {k} of grad_output"
        raise ProbeError(f"{type(layer).__name__}.backward changed its upstream gradient "
                         f"({what}) in place: a layer must not modify the gradient it is given "
                         "(the caller may pass the same array on to other layers, or use it "
                         f"again); {IN_PLACE_FIX}")
    return result


def _inner(out: Any, grad: Any) -> float:
    """Σ sum(out * grad) over the arrays of ``out`` (an array, or a tuple such as ``(h, c)``)
    and the matching ``grad``."""
    outs, grads = leaves(out), leaves(grad)
    if len(outs) != len(grads):
        raise ProbeError(f"the output holds {len(outs)} arrays, the upstream gradient "
                         f"{len(grads)}: return the output in the released structure")
    # the grader's arithmetic, not the submission's: an output holding −inf times a 0 of the
    # upstream gradient is NaN here, and NumPy's warning of it was shown as printed by the
    # student's code (a student trial)
    with np.errstate(all="ignore"):
        return sum(float(array_namespace(o).sum(o * g))
                   for o, g in zip(outs, grads, strict=True))


def layer_run(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
              params: dict[str, Any] | None, inputs: Sequence[Sequence[Any]],
              grad_outputs: Sequence[Any] | None, *, train: bool = True,
              backward_twice: bool = False,
              cells: dict[str, Sequence[Any]] | None = None,
              names: Sequence[Any] | None = None,
              grad_seed: int | None = None) -> dict[str, Any]:
    """Apply one new layer to each of ``inputs`` in turn (one tuple of arrays per application),
    then backpropagate ``grad_outputs[t]`` through each application in reverse order, as
    backpropagation through time does; with ``backward_twice``, all of it a second time (the
    parameter gradients must then be twice as large: they accumulate). ``grad_outputs`` None:
    each is drawn standard normal at its output's shape from ``numpy.random.default_rng(
    grad_seed)`` (:func:`draw_like`), and returned as ``grad_outputs`` (the grader's run at
    scale of the reference: no forward run apart only to learn the output's shape).

    Returns ``outputs`` (per application), ``input_grads`` (per application, of the first
    backward pass), ``param_grads`` and ``param_grads_once`` (after one pass) by name.
    An input, an output and its gradient may be a tuple of arrays (a state ``(h, c)``).
    Neither forward nor backward may change what it is given (the inputs, named ``names`` in
    the message, and the upstream gradients): a :class:`ProbeError` says which it changed.
    """
    layer = build(cls, args, kwargs, params, train=train, cells=cells)
    outputs, caches = [], []
    kept = [_snapshot(list(x)) for x in inputs]
    for t, x in enumerate(inputs):  # the layer keeps nothing between calls: each its own cache
        out, cache = _forward_unchanging(layer, x, names, t, len(inputs))
        outputs.append(out)
        caches.append(cache)
    drawn = grad_outputs is None
    if drawn:
        if grad_seed is None:
            raise ProbeError("layer_run: no upstream gradients and no seed to draw them from")
        rng = np.random.default_rng(grad_seed)
        grad_outputs = [draw_like(rng, out) for out in outputs]
    input_grads: list[Any] = [None] * len(inputs)
    once: dict[str, Any] = {}
    for round_ in range(2 if backward_twice else 1):
        for t in reversed(range(len(inputs))):
            g = _backward_unchanging(layer, grad_outputs[t], caches[t])
            if round_ == 0:
                input_grads[t] = g
        if round_ == 0:
            once = {n: _copy(p.grad) for n, p in layer.named_parameters()}
    for x, before in zip(inputs, kept, strict=True):
        k = _changed(list(x), before)
        if k is not None:  # forward left it alone: backward changed what its cache holds
            raise ProbeError(f"{type(layer).__name__}.backward changed the input "
                             f"`{_names_of(names, x)[k]}` in place (the cache holds the "
                             "caller's array, not a copy): a layer must not modify its inputs, "
                             f"in forward or in backward; {IN_PLACE_FIX}")
    result = {"outputs": outputs, "input_grads": input_grads,
              "param_grads": {n: p.grad for n, p in layer.named_parameters()},
              "param_grads_once": once}
    if drawn:
        result["grad_outputs"] = grad_outputs
    return result


def draw_like(rng: np.random.Generator, out: Any) -> Any:
    """An upstream gradient for ``out`` (an array, or a tuple of them: a state ``(h, c)``):
    standard normal at its shape, an array of its namespace, floating dtype and device."""
    if isinstance(out, tuple):
        return tuple(draw_like(rng, o) for o in out)
    xp = array_namespace(out)
    return xp.asarray(rng.standard_normal(tuple(int(s) for s in out.shape)), dtype=out.dtype,
                      device=array_device(out))


def train_then_eval_run(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                        params: dict[str, Any] | None, train_inputs: Sequence[Sequence[Any]],
                        eval_inputs: Sequence[Sequence[Any]], eval_grads: Sequence[Any] | None,
                        *, names: Sequence[Any] | None = None,
                        train_grads: Sequence[Any] | None = None,
                        cells: dict[str, Sequence[Any]] | None = None) -> dict[str, Any]:
    """A new layer run forward in training mode on each of ``train_inputs`` (what it learns
    from them, batch norm's running statistics, stays in the layer; with ``train_grads``,
    each forward followed by its backward), then put in eval mode (``layer.eval()``) and run
    forward and backward on each of ``eval_inputs`` in turn (``eval_grads`` None: forward
    only).

    Returns the eval applications' ``outputs`` and ``input_grads``, and the parameters'
    gradients after them (``param_grads``: the eval backward passes' added up, after the
    training ones where ``train_grads`` ran them). As in :func:`layer_run`, no call may
    change what it is given."""
    layer = build(cls, args, kwargs, params, train=True, cells=cells)
    for t, x in enumerate(train_inputs):
        _, cache = _forward_unchanging(layer, x, names, t, len(train_inputs))
        if train_grads is not None:
            _backward_unchanging(layer, train_grads[t], cache)
    layer.train(False)
    outputs, input_grads = [], []
    for t, x in enumerate(eval_inputs):
        out, cache = _forward_unchanging(layer, x, names, t, len(eval_inputs))
        outputs.append(out)
        if eval_grads is not None:
            input_grads.append(_backward_unchanging(layer, eval_grads[t], cache))
    return {"outputs": outputs, "input_grads": input_grads,
            "param_grads": {n: p.grad for n, p in layer.named_parameters()}}


def final_state_run(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                    params: dict[str, Any] | None, inputs: Sequence[Any], *,
                    train: bool = True, cells: dict[str, Sequence[Any]] | None = None) -> Any:
    """``final_state(cache)`` of a new layer after one forward pass on ``inputs``: the state
    after the last step as the layer reads it from its cache (an array, a tuple ``(h, c)``,
    a list with one per stacked layer)."""
    layer = build(cls, args, kwargs, params, train=train, cells=cells)
    _, cache = forward(layer, inputs)
    if not callable(getattr(layer, "final_state", None)):
        raise ProbeError(f"{type(layer).__name__} has no final_state(cache) method; keep the "
                         "methods of the released code")
    return layer.final_state(cache)


def _copy(x: Any) -> Any:
    return array_namespace(x).asarray(x, copy=True)


def output_shape(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                 params: dict[str, Any] | None, inputs: Sequence[Any], *,
                 train: bool = True, cells: dict[str, Sequence[Any]] | None = None,
                 names: Sequence[Any] | None = None) -> list[Any]:
    """The shape of ``forward(*inputs)``'s output of a new layer: a list of ints, or for an
    output that is a tuple of arrays (a state ``(h, c)``) a tuple of such lists."""
    out, _ = _forward_unchanging(build(cls, args, kwargs, params, train=train, cells=cells),
                                 inputs, names, 0, 1)
    return _shapes(out, cls.__name__)


def _shapes(out: Any, name: str) -> Any:
    if isinstance(out, tuple):
        return tuple(_shapes(o, name) for o in out)
    if not hasattr(out, "shape"):
        raise ProbeError(f"{name}.forward's output is a {type(out).__name__}, not an array")
    return [int(s) for s in out.shape]


def layer_objective(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                    params: dict[str, Any] | None, inputs: Sequence[Sequence[Any]],
                    grad_outputs: Sequence[Any], *, train: bool = True,
                    cells: dict[str, Sequence[Any]] | None = None,
                    names: Sequence[Any] | None = None) -> float:
    """``Σ_t sum(forward(inputs[t]) * grad_outputs[t])`` of a new layer: the scalar whose
    gradient :func:`layer_run`'s backward passes compute (what central differences check)."""
    layer = build(cls, args, kwargs, params, train=train, cells=cells)
    total = 0.0
    for t, (x, g) in enumerate(zip(inputs, grad_outputs, strict=True)):
        out, _ = _forward_unchanging(layer, x, names, t, len(inputs))
        total += _inner(out, g)
    return total


def loss_run(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
             prediction: Any, target: Any, grad_output: float = 1.0,
             scaled: float | None = None, second: Any = None) -> dict[str, Any]:
    """A loss's value and dL/d(prediction) (``backward(grad_output, cache)``); the value must
    be a 0-d array, not a float. With ``scaled``, also ``grad_scaled``: the gradient of a
    second forward pass backpropagated with ``grad_output=scaled`` (a loss inside a larger
    objective, J = scaled * L: the gradient must scale with it). With ``second`` (another
    prediction), also ``grad_interleaved``: the first prediction's gradient from its own cache
    after a forward of ``second``, and ``grad_second_first``: the second's gradient from its
    cache, taken before the first's (against ``grad_second``, the second's alone): what
    backward needs lives in the cache, not on self."""
    loss_fn = invoke(cls, args, kwargs)
    given = _snapshot([prediction, target])

    def unchanged() -> None:
        k = _changed([prediction, target], given)
        if k is not None:
            raise ProbeError(f"{type(loss_fn).__name__}.forward or .backward changed its "
                             f"argument `{('prediction', 'target')[k]}` in place; a function "
                             "must not modify its inputs (the caller still needs them): "
                             "compute a new array instead (`x = x - m`, not `x -= m`; no "
                             "`out=` into an argument)")

    loss, cache = forward(loss_fn, (prediction, target))
    unchanged()
    if getattr(loss, "shape", None) != ():  # a Python float has no shape
        given_as = (f"an array of shape {tuple(loss.shape)}" if hasattr(loss, "shape")
                    else f"a Python {type(loss).__name__}")
        raise ProbeError(f"{type(loss_fn).__name__}.forward must return the loss as a 0-d array "
                         f"(xp.sum(...) / n), not {given_as}: a Python number stops a GPU every "
                         "step (it waits for the value), and the loss is one number")
    result = {"loss": loss, "grad": loss_fn.backward(grad_output, cache)}
    unchanged()
    if scaled is not None:  # a fresh forward: a backward may use up its cache
        _, cache = forward(loss_fn, (prediction, target))
        result["grad_scaled"] = loss_fn.backward(scaled, cache)
    if second is not None:
        # the first's backward after a second forward (state kept on self is the second's),
        # then the second's backward before the first's (a queue on self answers the first
        # order right and this one wrong: an adversarial trial)
        _, cache = forward(loss_fn, (prediction, target))
        forward(loss_fn, (second, target))
        result["grad_interleaved"] = loss_fn.backward(grad_output, cache)
        _, alone = forward(loss_fn, (second, target))
        result["grad_second"] = loss_fn.backward(grad_output, alone)
        fresh = invoke(cls, args, kwargs)  # nothing left on self by the calls above
        _, cache = forward(fresh, (prediction, target))
        _, later = forward(fresh, (second, target))
        result["grad_second_first"] = fresh.backward(grad_output, later)
        fresh.backward(grad_output, cache)
    return result


def keeps_global_rng(func: Callable[..., Any], args: Sequence[Any],
                     kwargs: dict[str, Any]) -> dict[str, Any]:
    """``func(*args, **kwargs)`` and whether NumPy's global generator (``np.random.seed``,
    ``np.random.random``...) is as it was before the call: a function told to draw from the
    generator it is given draws nothing from the caller's global one, nor reseeds it."""
    before = np.random.get_state()
    result = func(*args, **kwargs)
    after = np.random.get_state()
    kept = (before[0] == after[0] and np.array_equal(before[1], after[1])
            and tuple(before[2:]) == tuple(after[2:]))
    return {"result": result, "kept": bool(kept)}


def loss_objective(cls: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any],
                   prediction: Any, target: Any) -> float:
    loss_fn = invoke(cls, args, kwargs)
    loss, _ = forward(loss_fn, (prediction, target))
    return float(loss)


def without_overflow(func: Callable[..., Any], args: Sequence[Any],
                     kwargs: dict[str, Any] | None = None) -> Any:
    """``func(*args, **kwargs)`` with floating-point overflow, invalid operations (inf − inf,
    0 · inf) and division by zero raised as :class:`FloatingPointError` where the student's
    line computes them: what a numerically stable function promises is not only a finite
    result but no inf or nan on the way (``1 / (1 + e^800)`` is 0, after an overflow; both
    branches of ``xp.where`` are computed). NumPy (and array_api_strict, which runs on it) by
    ``np.errstate``; torch, which warns of nothing, by a function mode that checks every
    floating-point result of an operation whose inputs were finite."""
    kwargs = kwargs or {}
    given = _snapshot([list(args), list(kwargs.values())])
    with np.errstate(over="raise", invalid="raise", divide="raise"), _torch_finite():
        result = invoke(func, args, kwargs)
    k = _changed([list(args), list(kwargs.values())], given)
    if k is not None:  # the arguments a plain function was given, as the worker checks them
        try:
            names = [*inspect.signature(func).parameters][:len(args)] + list(kwargs)
        except (TypeError, ValueError):
            names = []
        top = _top_level(k, [*args, *kwargs.values()])
        name = names[top] if top < len(names) else str(top)
        raise ProbeError(f"{getattr(func, '__name__', 'the function')}() changed its argument "
                         f"`{name}` in place; a function must not modify its inputs (the "
                         "caller still needs them): compute a new array instead (`x = x - m`, "
                         "not `x -= m`; no `out=` into an argument)")
    return result


def _top_level(k: int, values: Sequence[Any]) -> int:
    """Which of ``values`` holds the ``k``-th of their :func:`leaves`."""
    for i, v in enumerate(values):
        n = len(leaves(v))
        if k < n:
            return i
        k -= n
    return len(values)


def _torch_finite() -> Any:
    """A context in which a torch operation that makes inf or nan of finite inputs raises
    :class:`FloatingPointError` (a null context where torch is not loaded). An operation that
    allocates without writing (``empty_like``, ``new_empty``...) is not judged: its memory holds
    whatever was there, a NaN included."""
    torch = sys.modules.get("torch")
    if torch is None:
        return contextlib.nullcontext()
    from torch.overrides import TorchFunctionMode

    def finite(x: Any) -> bool:
        return not (isinstance(x, torch.Tensor) and x.is_floating_point()) or bool(
            torch.isfinite(x).all())

    class Finite(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            name = getattr(func, "__name__", str(func))
            if "empty" in name:  # uninitialised memory: nothing was computed
                return out
            if not all(finite(x) for x in leaves(out)) and all(
                    finite(x) for x in leaves([*args, *kwargs.values()])):
                raise FloatingPointError(f"overflow or invalid value in torch {name}: it made "
                                         "inf or nan of finite inputs")
            return out

    return Finite()


def optimizer_run(cls: Callable[..., Any], kwargs: dict[str, Any], backend: Any,
                  params: Sequence[Any], grads: Sequence[Sequence[Any]], *,
                  resume_at: int | None = None) -> dict[str, Any]:
    """Parameters ``params`` stepped with ``grads[k]`` at step ``k``: the trajectory (the
    parameters after every step). With ``resume_at``, a second optimizer is made from the
    first's ``state_dict`` after that many steps and takes the remaining steps on a copy: its
    trajectory must continue the first's exactly."""
    def run(start: list[Any], steps: Sequence[Sequence[Any]], state: Any = None
            ) -> tuple[list[list[Any]], Any]:
        # each run on copies of its start: ``asarray`` keeps a NumPy array as it is, and an
        # update in place (``p.data -= lr * g``, as torch.optim does) moved the start of the
        # next run, so a right optimizer failed the round trip of its state_dict
        ps = [Parameter(_copy(backend.asarray(p)), f"p{i}") for i, p in enumerate(start)]
        opt = cls(ps, **kwargs)
        if state is not None:
            opt.load_state_dict(state)
        path = []
        for step_grads in steps:
            for p, g in zip(ps, step_grads, strict=True):
                p.zero_grad()
                # a copy: a step that updates its state in place where that state is the
                # step's p.grad (velocity = p.grad at the first step, then velocity *= μ, as
                # right in a training, whose next step's p.grad is a new array) changed the
                # grader's gradients, which the later runs take again, and lost the state
                # check, told to save its state (a student trial)
                p.grad = _copy(backend.asarray(g))
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


#: the framework's own packages (an editable install keeps them outside the environment)
_FRAMEWORK = ("nlpdojo", "nlpdojo_numpy", "nlpdojo_torch", "nlpdojo_autograder")


def _installed_roots() -> tuple[str, ...]:
    """Where installed code lives: the interpreter's and the environment's libraries, and
    the framework's packages."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for name in _FRAMEWORK:
        module = sys.modules.get(name)
        for path in getattr(module, "__path__", None) or ():
            roots.add(path)
    return tuple(sorted(_join(_realpath(p), "") for p in roots))


def _installed_code(frame: Any, roots: tuple[str, ...]) -> bool:
    """Whether ``frame`` runs installed code (the standard library, NumPy, the framework):
    its file is under one of ``roots`` and is the file of the module whose globals it runs in,
    and its code object is one that file's source compiles to (:func:`_code_of_file`). Code
    compiled at run time under a borrowed name (an installed file's, ``<frozen ...>``) and run
    in globals made to match is the submission's: its lines count."""
    code = frame.f_code
    filename = code.co_filename
    if filename.startswith("<frozen ") and filename.endswith(">"):  # importlib's bootstrap
        return _signature(code) in _code_of_frozen(filename[len("<frozen "):-1])
    module_file = frame.f_globals.get("__file__")
    if type(module_file) is not str or type(filename) is not str or \
            not filename.startswith(roots):
        return False
    return (_realpath(module_file) == _realpath(filename)
            and _signature(code) in _code_of_file(_realpath(filename)))


#: :func:`_installed_code`'s verdicts, kept for the worker's life: per installed roots, by the
#: code object's ``id``, as ``(code object, its module's file, verdict)``. A verdict depends on
#: nothing else (the code object and the file name are immutable, an installed file's compiled
#: code is read once, :data:`_FILE_CODE`); the entry holds its code object, so its id is not
#: reused, and a lookup takes it only for that very object (``is``) and file. A counted call
#: pays the ``realpath`` calls and the compile of each code object's file once per worker, not
#: once per count (line counting was a tenth of a layer check's grading), and no hash of a code
#: object per call the count sees (a code object hashes every constant it holds: a
#: microsecond, as much as the rest of the tracer)
_INSTALLED: dict[tuple[str, ...], dict[int, tuple[Any, str | None, bool]]] = {}


def _signature(code: Any) -> tuple[int, str, bytes]:
    """What tells a code object from another of the same file: where it starts, its name and
    its bytecode (``co_code``: the unspecialised bytecode, as compiled)."""
    return code.co_firstlineno, code.co_name, code.co_code


def _signatures(code: Any) -> set[tuple[int, str, bytes]]:
    """The signatures of ``code`` and of every code object nested in it (functions, classes,
    comprehensions, lambdas)."""
    found, todo = set(), [code]
    while todo:
        current = todo.pop()
        found.add(_signature(current))
        todo += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    return found


#: per installed file, the signatures of the code its source compiles to (a worker reads
#: each file the counted code calls into once)
_FILE_CODE: dict[str, frozenset[tuple[int, str, bytes]]] = {}


def _code_of_file(path: str) -> frozenset[tuple[int, str, bytes]]:
    if path not in _FILE_CODE:
        try:
            _FILE_CODE[path] = frozenset(_signatures(_compiled(path)))
        except (OSError, SyntaxError, ValueError):
            _FILE_CODE[path] = frozenset()  # not a Python source: nothing is installed code
    return _FILE_CODE[path]


#: set in the grader's process (:func:`runs_no_code_under_test`), where the reference alone
#: is counted: no code under test runs there, so no bytecode cache can be its
_RUNS_NO_CODE_UNDER_TEST = False


def runs_no_code_under_test() -> None:
    """Say that this process runs the reference only (the grader's trusted subject, whose
    lines the integrity rules count as the yardstick): :func:`_compiled` then reads an
    installed file's bytecode cache even where it could be written (the grader's own
    installation, writable by its user, is written by no submission under the sandbox), as
    the import system does, instead of compiling NumPy's files again in every grading
    process (a third of a second of each)."""
    global _RUNS_NO_CODE_UNDER_TEST
    _RUNS_NO_CODE_UNDER_TEST = True


def _compiled(path: str) -> Any:
    """The code the source at ``path`` compiles to: its cached bytecode (``__pycache__``,
    read and checked against the source as the import system does) where neither that file
    nor its folder can be written here (the sandbox's read-only installation: no code under
    test can have put its own code there) or no code under test runs in this process
    (:func:`runs_no_code_under_test`), else the source compiled. Reading the cache is a
    tenth of compiling: a worker started for each graded planted bug compiled NumPy's files
    again each time (a seventh of its time in ``dojo verify``)."""
    try:
        cached = importlib.util.cache_from_source(path)
    except (NotImplementedError, ValueError):
        cached = None
    if cached is not None and os.path.isfile(cached) and (_RUNS_NO_CODE_UNDER_TEST or (
            not os.access(cached, os.W_OK) and not os.access(_dirname(cached), os.W_OK))):
        with contextlib.suppress(ImportError, EOFError):
            return importlib.machinery.SourceFileLoader("installed", path).get_code("installed")
    with open(path, "rb") as f:
        source = f.read()
    return compile(source, path, "exec", dont_inherit=True)


#: frozen modules whose code names another file (``<frozen importlib._bootstrap>``)
_FROZEN_AS = {"importlib._bootstrap": "_frozen_importlib",
              "importlib._bootstrap_external": "_frozen_importlib_external"}


def genuine_frozen(code: Any) -> bool:
    """Whether ``code`` (its file ``<frozen NAME>``) is the code of the interpreter's frozen
    module NAME, not code compiled at run time under that name."""
    filename = code.co_filename
    return (type(filename) is str and filename.startswith("<frozen ") and filename.endswith(">")
            and _signature(code) in _code_of_frozen(filename[len("<frozen "):-1]))


def _code_of_frozen(name: str) -> frozenset[tuple[int, str, bytes]]:
    key = f"<frozen {name}>"
    if key not in _FILE_CODE:
        try:
            _FILE_CODE[key] = frozenset(_signatures(
                _imp.get_frozen_object(_FROZEN_AS.get(name, name))))
        except Exception:  # noqa: BLE001 - no such frozen module: the name is borrowed
            _FILE_CODE[key] = frozenset()
    return _FILE_CODE[key]


def python_lines(func: Callable[..., Any], args: Sequence[Any],
                 kwargs: dict[str, Any] | None = None, *, root_of: Any = None) -> int:
    """How many lines of the submission's own Python ``func(*args, **kwargs)`` executes (line
    events, ``sys.settrace``, counted in files under the course folder that holds ``func``'s
    topic, or ``root_of``'s where ``func`` is a probe running a class of the submission:
    NumPy's C loops count nothing, a Python loop over the data one or more per item), and one
    more for each call its code makes into an installed Python function (``xp.matmul``
    through array_api_compat, ``np.stack``): ``list(map(xp.matmul, rows, repeat(W)))`` runs
    one line of the submission at any size and calls the library once per row.
    :func:`nlpdojo_autograder.authoring.builders.require_vectorized` runs it at two input sizes."""
    return _counted(func, args, kwargs, root_of)[0]


def python_lines_and_result(func: Callable[..., Any], args: Sequence[Any],
                            kwargs: dict[str, Any] | None = None, *,
                            root_of: Any = None, one_thread: bool = False,
                            cpu_cap: float | None = None) -> dict[str, Any]:
    """:func:`python_lines` and what the counted call returned (``lines``, ``result``): the
    grader compares that result with an uncounted run's on the same arguments
    (``builders.counted_lines``), so that code which notices the tracer and answers otherwise
    while it is counted gains nothing.

    ``one_thread``: the native thread pools (BLAS, OpenMP: threadpoolctl) run one thread
    during the call, as at scale, where the grader measures the call's CPU time on both sides
    (:mod:`~nlpdojo_autograder.authoring.at_scale`): pool threads that spin while they wait
    for work would count, more on a machine with more cores.

    ``cpu_cap``: CPU seconds past which the call is stopped (:class:`CpuCapReached`), the
    grader having already read a verdict in them (too slow at scale); the reply then says
    ``cpu_capped``, with the lines counted by then and no result. Only a saving: code that
    catches the stop runs on as before, and the grader judges by the CPU time it reads from
    outside the worker, never by this reply."""
    try:
        with (_threadpool_limits(limits=1) if one_thread else contextlib.nullcontext(),
              _cpu_capped(cpu_cap)):
            lines, result = _counted(func, args, kwargs, root_of)
    except CpuCapReached as stopped:
        return {"lines": stopped.lines, "result": None, "hottest": stopped.hottest,
                "cpu_capped": True}
    return {"lines": lines, "result": result, "hottest": _HOTTEST[0]}


class CpuCapReached(BaseException):
    """Raised in the worker's main thread (``SIGPROF``) once a counted call has used its
    ``cpu_cap`` (:func:`python_lines_and_result`): a ``BaseException``, so that the
    submission's ``except Exception`` does not take it for its own. ``lines`` and ``hottest``:
    the count by then (:func:`_counted`)."""

    lines: int = 0
    hottest: list[Any] | None = None


#: how much more CPU time a stop waits where it fell in this module's own code (below)
_STOP_DEFERRED_S = 0.002
#: whether the running cap's stop was raised (:func:`_counted` takes whatever then ends the
#: count for it: the stop, or what CPython turned it into)
_CAP_RAISED = [False]


@contextlib.contextmanager
def _cpu_capped(seconds: float | None) -> Any:
    """Stop the ``with`` block by :class:`CpuCapReached` once the process has used ``seconds``
    of CPU time (``ITIMER_PROF``: user and system, every thread), where the block runs in the
    main thread; elsewhere, or with no cap, nothing.

    The stop is raised in the code under test (or the libraries it calls), never in this
    module's own: raised inside the line counter's tracer it made CPython drop the tracer,
    whose audit event (``sys.settrace``) the worker refuses, so a ``PermissionError`` about
    reaching the interpreter replaced it (a trial's Python loop, 1 stop in 10); raised in
    :func:`_counted`'s ``finally`` it could leave the tracer in place. There it waits
    :data:`_STOP_DEFERRED_S` of CPU time more, until the code under test runs again; and
    whatever ends the count once it was raised is taken for it (CPython checks for signals on
    the way into the tracer too, where the interrupted frame is still the code under test's)."""
    if (not isinstance(seconds, (int, float)) or not seconds > 0
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        if frame is not None and frame.f_code.co_filename == __file__:
            signal.setitimer(signal.ITIMER_PROF, _STOP_DEFERRED_S)
            return
        _CAP_RAISED[0] = True
        raise CpuCapReached

    _CAP_RAISED[0] = False
    previous = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        _CAP_RAISED[0] = False  # (a later count without a cap takes nothing for a stop)


def forward_backward_lines(cls: Callable[..., Any], args: Sequence[Any],
                           kwargs: dict[str, Any], params: dict[str, Any] | None,
                           inputs: Sequence[Any], grad_output: Any, *, train: bool = True,
                           cells: dict[str, Sequence[Any]] | None = None) -> dict[str, Any]:
    """The submission's Python lines (as :func:`python_lines` counts them) of one forward of a
    new layer on ``inputs`` (``forward``) and of its backward of ``grad_output``
    (``backward``), and the input gradients that backward gave (``input_grads``: the
    caller compares them with an untraced run's, so that code which behaves otherwise when
    traced gains nothing). A backward computed by differencing the forward runs the
    forward's lines again for every coordinate it perturbs."""
    layer = build(cls, args, kwargs, params, train=train, cells=cells)
    forward_lines, (_, cache) = _counted(
        lambda: _forward_unchanging(layer, inputs, None, 0, 1), (), None, cls, send=False)
    backward_lines, grads = _counted(
        lambda: _backward_unchanging(layer, grad_output, cache), (), None, cls)
    return {"forward": forward_lines, "backward": backward_lines, "input_grads": grads}


def loss_forward_backward_lines(cls: Callable[..., Any], args: Sequence[Any],
                                kwargs: dict[str, Any], prediction: Any, target: Any
                                ) -> dict[str, Any]:
    """As :func:`forward_backward_lines`, for a loss: the lines of one forward on
    ``prediction`` and ``target`` and of its backward (``grad_output`` 1), and the gradient
    that backward gave (``grad``)."""
    loss_fn = invoke(cls, args, kwargs)
    forward_lines, (_, cache) = _counted(
        lambda: forward(loss_fn, (prediction, target)), (), None, cls, send=False)
    backward_lines, grad = _counted(lambda: loss_fn.backward(1.0, cache), (), None, cls)
    return {"forward": forward_lines, "backward": backward_lines, "grad": grad}


def _counted(func: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any] | None,
             root_of: Any, *, send: bool = True) -> tuple[int, Any]:
    """``(lines, result)`` of ``func(*args, **kwargs)`` (see :func:`python_lines`).

    ``send``: the result is made plain data (:func:`~.channel.plain`) inside the count, so that
    no code of the submission runs after it: a list subclass whose ``__iter__`` does the work
    would otherwise do it while the reply is encoded, uncounted (a forward's result is not
    sent, its cache goes to the backward's count: ``send=False``; :func:`forward` unpacks it
    inside the count).

    ``sys.settrace`` sees one thread, so work moved elsewhere would count nothing: a thread
    started during the count is traced too (its lines count); threads of the submission
    already running (started at import, waiting for work) or still running after the count,
    and a tracer taken away (``sys.settrace(None)``), fail the count with
    :class:`UncountedWork`. A tracer taken away and put back by code that kept the original
    ``sys.settrace`` is not seen (docs/security.md, residual risks)."""
    source = inspect.getsourcefile(inspect.unwrap(root_of if root_of is not None else func)) \
        or ""
    root = _dirname(_dirname(_abspath(source))) + _SEP
    roots = _installed_roots()
    installed = _INSTALLED.setdefault(roots, {})
    count = 0
    hot: dict[tuple[str, int], int] = {}
    _HOTTEST[0] = None

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
            # a loop, by now: where it runs, sampled (one line in 16: honest loops over time
            # steps run thousands of lines, each paying for this; the hottest line of a loop
            # still comes out on top)
            if count > HOT_AFTER and not count & 15:
                where = (frame.f_code.co_filename, frame.f_lineno)
                hot[where] = hot.get(where, 0) + 1
        return local

    def enter(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        # the submission's frames are traced line by line, NumPy's Python parts are not; code
        # compiled under another file name (outside the course folder) counts as the
        # submission's unless it is the code of the installed module it claims to be
        if record is not None:  # dojo verify's record of what ran, taken here meanwhile
            record.note(frame.f_code)
        if chained is not None:  # a tracer already there, not the record's
            chained(frame, event, arg)
        code = frame.f_code
        if code.co_filename.startswith(root):
            return local
        module_file = frame.f_globals.get("__file__")
        if type(module_file) is not str:  # (exactly a str: a subclass's __eq__ would run the
            module_file = None            # submission's code untraced)
        entry = installed.get(id(code))
        if entry is None or entry[0] is not code or entry[1] != module_file:
            entry = installed[id(code)] = (code, module_file, _installed_code(frame, roots))
        if not entry[2]:
            return local
        # a call from the submission's code into an installed function counts as a line: a
        # loop handed to ``map`` (``list(map(xp.matmul, rows, repeat(W)))``) runs no line of
        # the submission per row, but calls the library once per row (an attacker's loop over
        # the pairs of a minibatch kept 6 of 6 points)
        caller = frame.f_back
        if caller is not None and caller.f_trace is local:
            count += 1
        return None

    _no_threads_running("before")
    # no garbage collection while counting: a collection can start inside the tracer (which
    # allocates), and finalizers and weakref callbacks it runs there would run untraced
    collecting = gc.isenabled()
    gc.disable()
    previous = sys.gettrace()
    record = recording()
    chained = previous if record is None or previous is not record.tracer else None
    taken: list[str] = []
    settrace = sys.settrace  # (inside, sys.settrace refuses)
    with _threads_traced(enter), _tracer_kept(taken):
        settrace(enter)
        try:
            result = func(*args, **(kwargs or {}))
            if send:
                result = plain(result, to_wire)
            # the garbage the call left (a generator in a cycle whose ``finally`` does the
            # work) is finalized here, counted, not at the first collection after the count
            # (in a worker: the reference, counted in the grader, is trusted)
            if _THREADS_BEFORE_SUBMISSION is not None:
                gc.collect()
        except BaseException as ended:
            if not (isinstance(ended, CpuCapReached) or _CAP_RAISED[0]):
                raise
            # the cap's stop, or what it turned into (raised on the way into the tracer,
            # CPython drops the tracer, whose audit event the worker refuses: PermissionError);
            # the count so far goes with it
            stopped = ended if isinstance(ended, CpuCapReached) else CpuCapReached()
            stopped.lines, stopped.hottest = count, _hot_line(hot, root)
            raise stopped from None
        finally:
            if sys.gettrace() is not enter:
                taken.append("replaced")
            settrace(previous)
            if collecting:
                gc.enable()
    if taken:
        raise UncountedWork(
            "your code changed the tracer (sys.settrace) while the grader counted the lines it "
            "runs; the rule that backward derives gradients with the chain rule (and the one "
            "against Python loops over the data) needs them counted: leave tracing alone")
    _no_threads_running("after")
    _HOTTEST[0] = _hot_line(hot, root)
    return count, result


def _hot_line(hot: dict[tuple[str, int], int], root: str) -> list[Any] | None:
    """The line noted most often in ``hot``, as ``[file within the course folder, line]``."""
    if not hot:
        return None
    (file, line), _ = max(hot.items(), key=lambda item: item[1])
    return [file[len(root):] if file.startswith(root) else os.path.basename(file), line]


#: the lines a count runs before it notes which line each is (:func:`_counted`): far above
#: what a vectorised function or layer runs at any size (a few dozen), far below a loop over
#: the data at scale (thousands)
HOT_AFTER = 256
#: the line of the submission the last count ran most often after :data:`HOT_AFTER` (one
#: line event in 16 sampled), as ``[file within the course folder, line]`` (None where it ran
#: no more):
#: :func:`python_lines_and_result` sends it, the grader names it where the count is too high
_HOTTEST: list[list[Any] | None] = [None]


def _no_threads_running(when: str) -> None:
    """Fail where a thread of the submission runs beside a count (in a worker only)."""
    if _THREADS_BEFORE_SUBMISSION is not None and _thread._count() > _THREADS_BEFORE_SUBMISSION:
        raise UncountedWork(
            f"your code had a Python thread running {when} the grader counted the lines it "
            "runs: work done in another thread escapes the count that tells backpropagation "
            "from numerical differentiation and whole-array code from Python loops. Graded "
            "code runs in one thread: do the work in the call itself (no threading)")


@contextlib.contextmanager
def _threads_traced(tracer: Callable[..., Any]) -> Any:
    """Every thread started inside runs under ``tracer`` (both names of the function that
    starts threads, ``_thread``'s and the one ``threading`` keeps)."""
    original, settrace = _thread.start_new_thread, sys.settrace

    def start_traced(function: Callable[..., Any], args: tuple, kwargs: Any = None) -> int:
        def run(*a: Any, **k: Any) -> Any:
            settrace(tracer)
            return function(*a, **k)
        return original(run, args, kwargs or {})

    _thread.start_new_thread = threading._start_new_thread = start_traced  # type: ignore
    try:
        yield
    finally:
        _thread.start_new_thread = threading._start_new_thread = original  # type: ignore


@contextlib.contextmanager
def _tracer_kept(taken: list[str]) -> Any:
    """``sys.settrace`` refuses to change the tracer inside (noted in ``taken``)."""
    original = sys.settrace

    def refuse(function: Any) -> None:
        taken.append("settrace")

    sys.settrace = refuse
    try:
        yield
    finally:
        sys.settrace = original


# -- the grader's stand-in cells: what a sequence check unrolls ----------------------------
# A sequence check (builders.sequence_checks) checks an unroll (an RNN over time, a
# bidirectional or stacked wrapper) with these cells in place of the student's: the unroll is
# then judged on its own (a wrong cell costs points on the cell's question only), it runs in
# the worker with no call-back per step, and it is shown to work for any cell honouring the
# step contract ``forward(x, state) -> (state, cache)``, ``backward(grad_state, cache) ->
# (grad_x, grad_state_prev)``, the output of a step being the state's first array (h). Their
# formulas are made up on purpose (sines, no gates): no question asks for them.
def _replace(layer: Any, path: str, cell: Any) -> None:
    """Set the sub-module at dotted ``path`` (``cell``, ``layers.0.cell``) to ``cell``."""
    *parents, last = path.split(".")
    owner = layer
    for part in parents:
        owner = owner[int(part)] if isinstance(owner, (list, tuple)) else getattr(
            owner, part, None)
        if owner is None:
            break
    if owner is None or (not isinstance(owner, list) and not hasattr(owner, last)):
        raise ProbeError(f"{type(layer).__name__} has no sub-module {path!r}: a sequence check "
                         f"puts its own cell there (keep the attribute names of the released "
                         "code, and run every step through that cell)")
    if isinstance(owner, list):
        owner[int(last)] = cell
    else:
        setattr(owner, last, cell)


def _cell_parameters(cell: Any, input_size: int, hidden_size: int) -> None:
    xp, backend = cell.xp, cell.backend

    def zeros(*shape: int) -> Any:
        return xp.zeros(shape, dtype=backend.default_dtype, device=backend.device)

    # the checks set every value; zeros until then
    cell.weight_x = Parameter(zeros(input_size, hidden_size), "weight_x")  # (D, H)
    cell.weight_h = Parameter(zeros(hidden_size, hidden_size), "weight_h")  # (H, H)
    cell.bias = Parameter(zeros(hidden_size), "bias")  # (H,)


def _affine_grads(cell: Any, x: Any, h: Any, grad_a: Any) -> tuple[Any, Any]:
    """For a = x W_x + h W_h + b: add the parameters' gradients, return (dL/dx, dL/dh)."""
    xp = cell.xp
    cell.weight_x.grad = cell.weight_x.grad + xp.matmul(xp.matrix_transpose(x), grad_a)
    cell.weight_h.grad = cell.weight_h.grad + xp.matmul(xp.matrix_transpose(h), grad_a)
    cell.bias.grad = cell.bias.grad + xp.sum(grad_a, axis=0)
    return (xp.matmul(grad_a, xp.matrix_transpose(cell.weight_x.data)),
            xp.matmul(grad_a, xp.matrix_transpose(cell.weight_h.data)))


class ArrayStateCell(Module):
    """State h (B, H): h' = sin(x W_x + h W_h + b) + h / 2."""

    def __init__(self, backend: Any, input_size: int, hidden_size: int) -> None:
        super().__init__(backend)
        _cell_parameters(self, input_size, hidden_size)

    def forward(self, x: Any, h: Any) -> tuple[Any, Any]:
        xp = self.xp
        a = xp.matmul(x, self.weight_x.data) + xp.matmul(h, self.weight_h.data) \
            + self.bias.data  # (B, H)
        return xp.sin(a) + 0.5 * h, (x, h, a)

    def backward(self, grad_h: Any, cache: Any) -> tuple[Any, Any]:
        x, h, a = cache
        grad_x, grad_h_prev = _affine_grads(self, x, h, grad_h * self.xp.cos(a))
        return grad_x, grad_h_prev + 0.5 * grad_h


class PairStateCell(Module):
    """State (h, c), each (B, H): c' = c / 2 + sin(x W_x + h W_h + b), h' = sin(c')."""

    def __init__(self, backend: Any, input_size: int, hidden_size: int) -> None:
        super().__init__(backend)
        _cell_parameters(self, input_size, hidden_size)

    def forward(self, x: Any, state: Any) -> tuple[Any, Any]:
        xp = self.xp
        h, c = state
        a = xp.matmul(x, self.weight_x.data) + xp.matmul(h, self.weight_h.data) \
            + self.bias.data  # (B, H)
        c_next = 0.5 * c + xp.sin(a)  # (B, H)
        return (xp.sin(c_next), c_next), (x, h, a, c_next)

    def backward(self, grad_state: Any, cache: Any) -> tuple[Any, Any]:
        xp = self.xp
        grad_h, grad_c = grad_state
        x, h, a, c_next = cache
        grad_c_next = grad_c + grad_h * xp.cos(c_next)  # (B, H)
        grad_x, grad_h_prev = _affine_grads(self, x, h, grad_c_next * xp.cos(a))
        return grad_x, (grad_h_prev, 0.5 * grad_c_next)


#: the stand-in cells by state kind: ``"array"`` (h) and ``"pair"`` ((h, c), an LSTM's shape)
STAND_IN_CELLS: dict[str, type] = {"array": ArrayStateCell, "pair": PairStateCell}


def stand_in_name(cls: type) -> tuple[str, str] | None:
    """``(module, qualname)`` by which a stand-in cell crosses to the reference process (an
    unroll holding one is handed to a swapped-in reference method), or None for any other
    class. Its module is this one's full name, which no module of the code under test has."""
    if cls in STAND_IN_CELLS.values():
        return (__name__, cls.__qualname__)
    return None


def stand_in_class(module: str, qualname: str) -> type | None:
    """The stand-in cell class named so by :func:`stand_in_name`, or None."""
    if module != __name__:
        return None
    return next((c for c in STAND_IN_CELLS.values() if c.__qualname__ == qualname), None)
