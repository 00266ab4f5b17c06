"""torch as the second oracle of a layer: its ``nn`` twin with the layer's weights copied in
(:func:`torch_twin`), values and gradients by autograd, and the forward and backward mistakes
a student's outputs are compared with (named mistakes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.at_scale import leaves as _leaves
from nlpdojo_autograder.authoring.builders.cases import (
    LayerCase,
    _grad_key,
    _input_names,
    _same_output_shapes,
)
from nlpdojo_autograder.authoring.builders.wire import _rebuild
from nlpdojo_autograder.authoring.checks import CheckFailure, Payload
from nlpdojo_autograder.authoring.compare import MISTAKE_KEY
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.kinds import MISTAKES_NEED_TORCH, mistaken_outputs


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


#: the ``torch.nn`` cells :func:`torch_twin` makes with (input size, hidden size) read from
#: their weights where no ``args`` are given
TORCH_CELLS = ("RNNCell", "LSTMCell", "GRUCell")


def torch_layout(weight_x: Any, weight_h: Any, bias: Any, bias_h: Any = None, *,
                 suffix: str = "") -> dict[str, Any]:
    """A cell computing ``x W_x + h W_h + b`` (W_x (D, gH), W_h (H, gH): its gates side by side
    in torch's order) in the layout of torch's recurrent modules: the weights transposed, the
    second bias ``bias_h`` (a GRU's, inside its reset gate) or zero. ``suffix``: the end of
    torch's names, ``""`` for a cell (``nn.LSTMCell``), ``"_l0"`` for the first layer of
    ``nn.RNN``/``LSTM``/``GRU`` and ``"_l0_reverse"`` for its right-to-left direction."""
    return {f"weight_ih{suffix}": weight_x.T, f"weight_hh{suffix}": weight_h.T,
            f"bias_ih{suffix}": bias, f"bias_hh{suffix}": 0 * bias if bias_h is None else bias_h}


def torch_twin(build: str | Callable[[], Any],
               weights: dict[str, Callable[[dict[str, Any]], Any]]
               | Callable[[dict[str, Any]], dict[str, Any]], *,
               args: tuple[Any, ...] | Callable[[dict[str, Any]], tuple[Any, ...]] | None = None,
               label: str = "") -> Callable[..., Any]:
    """A ``torch.nn`` module as a layer's ``torch`` forward (:func:`layer_checks`,
    :func:`torch_check`): ``build`` names the ``torch.nn`` class, made with ``args`` in float64
    (or is a function that makes the module), ``weights`` gives each of its parameters from the
    case's parameters (tensors by the layer's names: transposed, gates concatenated), or is one
    function of them returning them all (:func:`torch_layout`); ``args`` may be a function of
    those parameters (the sizes read from their shapes), so that one twin serves every case of
    a question, whatever its sizes; left out, a cell of :data:`TORCH_CELLS` is made with the
    sizes its weights have (weight_ih (gH, D), weight_hh (gH, H): D, H), any other class with
    none. torch is
    imported only when the forward runs (a NumPy-only grader never needs it); the module runs
    through ``torch.func.functional_call``, so autograd reaches the case's parameters.
    ``label`` names it in feedback (default ``torch.nn.<build>``)::

        torch_twin("RNNCell", {"weight_ih": lambda p: p["weight_e"].T,
                               "weight_hh": lambda p: p["weight_h"].T,
                               "bias_ih": lambda p: p["bias"], "bias_hh": lambda p: 0 * p["bias"]},
                   args=lambda p: (p["weight_e"].shape[0], p["weight_h"].shape[0]))
        torch_twin("RNNCell", lambda p: torch_layout(p["weight_e"], p["weight_h"], p["bias"]))
    """
    # the module, made once per sizes where it has no buffers: functional_call replaces its
    # parameters and leaves it as it was (a buffer, batch norm's running statistics, would be
    # carried from call to call: such a module is made for every call)
    kept: dict[tuple[Any, ...], Any] = {}

    def module_of(torch: Any, params: dict[str, Any], tensors: dict[str, Any]) -> Any:
        sizes = (tuple(args(params)) if callable(args) else args if args is not None
                 else (tensors["weight_ih"].shape[1], tensors["weight_hh"].shape[1])
                 if build in TORCH_CELLS else ())
        if sizes in kept:
            return kept[sizes]
        module = build() if callable(build) else getattr(torch.nn, build)(
            *sizes, dtype=torch.float64)
        if not any(True for _ in module.buffers()):
            kept[sizes] = module
        return module

    def forward(params: dict[str, Any], *inputs: Any) -> Any:
        import torch

        tensors = (weights(params) if callable(weights)
                   else {name: value(params) for name, value in weights.items()})
        module = module_of(torch, params, tensors)
        own = {name for name, _ in module.named_parameters()}
        if own != set(tensors):
            raise ValueError(f"torch_twin: {type(module).__name__} has parameters "
                             f"{sorted(own)}; the weights given are {sorted(tensors)}")
        return torch.func.functional_call(module, tensors, tuple(inputs))

    named = "" if callable(build) else f"torch.nn.{build}"
    forward.label = label or named  # type: ignore[attr-defined]
    return forward


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


def _oracle_inputs(case: LayerCase, inputs: tuple[Any, ...], grad: Any) -> dict[str, Any]:
    """Everything a torch oracle of a layer case reads besides the question's own torch
    forwards (:meth:`Context.oracles`): parameters, inputs, upstream gradient, and how they
    are named and passed."""
    return {"params": case.params, "inputs": inputs, "upstream": grad,
            "differentiable": case.differentiable, "names": case.names,
            "outputs": case.outputs, "torch_kwargs": case.torch_kwargs}


def _mistakes_oracle(ctx: Context, forward: dict[str, Callable[..., Any]] | None,
                     backward: dict[str, Callable[..., Any]] | None, case: LayerCase,
                     inputs: tuple[Any, ...], grad: Any) -> Payload:
    """The named mistakes' outputs (:func:`_mistakes_of_layer`) as an oracle: computed by the
    reference's run, taken from its payload by a submission's on equal inputs."""
    return ctx.oracles(MISTAKE_KEY, _oracle_inputs(case, inputs, grad),
                       lambda: _mistakes_of_layer(forward, backward, case, inputs, grad))
