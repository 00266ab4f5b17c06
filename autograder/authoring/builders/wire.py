"""Values to and from the code under test: inputs sent as the backend's arrays (``_send``),
results brought back to NumPy (``_host``), and calls that turn a student's exception into
a check failure (:func:`stable_call`, :func:`run_layer`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.checks import CheckFailure
from nlpdojo_autograder.authoring.context import Context


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


def _first(result: Any, key: str) -> Any:
    if not isinstance(result, dict) or key not in result or not result[key]:
        raise CheckFailure(f"internal: the probe returned no {key}")
    return result[key][0]


def _named(result: Any, key: str) -> dict[str, Any]:
    value = result.get(key) if isinstance(result, dict) else None
    if not isinstance(value, dict):
        raise CheckFailure(f"internal: the probe returned no {key}")
    return value


def stable_call(ctx: Context, func: Any, args: Sequence[Any],
                kwargs: dict[str, Any] | None = None) -> Any:
    """``func(*args, **kwargs)`` (a function of the code under test, or a probe) run where the
    code runs with floating-point overflow and invalid values raised (probe
    ``without_overflow``): for the checks of functions that promise numerical stability, whose
    result may come out finite after an inf on the way."""
    return ctx.probe("without_overflow")(func, list(args), dict(kwargs or {}))


def run_layer(ctx: Context, cls: str, args: tuple[Any, ...], x: np.ndarray,
              grad_output: np.ndarray, *, module: str | None = None,
              kwargs: dict[str, Any] | None = None,
              stable: bool = False) -> dict[str, np.ndarray]:
    """One forward and backward of a new ``cls(*args, **kwargs)`` (parameters its own) of
    the module of the check's question (``module``: another) on the host input ``x`` with
    the upstream gradient ``grad_output``, where the code under test runs: ``{"output": y,
    "dL/dx": input gradient}`` on the host, for a :func:`~.kinds.property_check` or
    :func:`~.kinds.value_check` of the layer on inputs of the check's choosing (a drop rate
    measured on a large input, derivatives at kinks). Neither call may change what it is
    given. ``stable``: with floating-point overflow and invalid values raised
    (:func:`stable_call`)."""
    layer = ctx.function(module, cls) if module is not None else ctx.function(cls)
    head = [layer, tuple(args), dict(kwargs or {}), {},
            [[ctx.asarray(x)]], [ctx.asarray(grad_output)]]
    probe = ctx.probe("layer_run")
    ran = (stable_call(ctx, probe, head, {"names": ("x",)}) if stable
           else probe(*head, names=("x",)))
    return {"output": ctx.to_numpy(ran["outputs"][0], f"{cls}.forward's output"),
            "dL/dx": ctx.to_numpy(ran["input_grads"][0], f"{cls}.backward's gradient")}


def send_argument(ctx: Context, x: Any) -> Any:
    """An argument as the code under test receives it: arrays through ``ctx.asarray``."""
    return _send(ctx, x) if isinstance(x, np.ndarray) else x
