"""The builders for what recurrent topics need (issue 24): ``sequence_checks`` (an unroll over
the grader's stand-in cells: forward, BPTT, a tuple state, bidirectional and stacked wrappers),
``torch_check``/``torch_twin`` (a layer against a ``torch.nn`` module on every backend), named
inputs in feedback, and ``property_check``. Each check runs in this process on small modules
of right and wrong layers (the grader's own call machinery, as the reference is run) and is
judged against the right one's payload."""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import numpy as np
import pytest

from nlpdojo.module import Module, Parameter
from nlpdojo_autograder.authoring.builders import (
    LayerCase,
    final_state_check,
    layer_checks,
    sequence_checks,
    stand_in_cell,
    state_of,
    torch_check,
    torch_twin,
)
from nlpdojo_autograder.authoring.builders.cases import FIRST_INPUT
from nlpdojo_autograder.authoring.checks import NAMED_MISTAKE, Check, CheckFailure
from nlpdojo_autograder.authoring.context import BackendRef, Context
from nlpdojo_autograder.authoring.kinds import SAID_IN_FULL, property_check
from nlpdojo_autograder.authoring.properties import finite, rows_sum_to_one, within
from nlpdojo_autograder.grading.runner import _backends
from nlpdojo_autograder.runtime.calls import StudentError
from nlpdojo_autograder.runtime.probes import ArrayStateCell
from nlpdojo_autograder.runtime.remote import LocalSubject
from tests.grading.courses import OneModule

#: the LocalSubjects these tests make are never closed: their scratch goes under tmp_path
pytestmark = pytest.mark.usefixtures("scratch_under_tmp_path")




def _module(**classes) -> types.ModuleType:
    module = types.ModuleType("m")
    module.__dict__.update(classes)
    return module


def _ctx(module: types.ModuleType, tmp_path: Path, backend: str = "numpy") -> Context:
    subject = LocalSubject(OneModule(module), _backends(backend, None))
    subject.begin(dtype="float64", swap_in=(), workdir="w")
    return Context(subject=subject, backend=BackendRef(backend, None, "float64"), seed=0,
                   workdir=tmp_path)


def _grade(check: Check, right: types.ModuleType, theirs: types.ModuleType, tmp_path: Path,
           backend: str = "numpy") -> tuple[bool, str]:
    expected = check.collect(_ctx(right, tmp_path / "ref", backend))
    try:
        actual = check.collect(_ctx(theirs, tmp_path / "sub", backend))
    except (CheckFailure, StudentError) as exc:
        return False, str(exc)
    verdict = check.judge(actual, expected)
    return verdict.passed, verdict.message


def _verdicts(checks: list[Check], right, theirs, tmp_path) -> dict[str, tuple[bool, str]]:
    return {c.name: _grade(c, right, theirs, tmp_path / c.name) for c in checks}


# -- unrolls: any cell, a tuple state, bidirectional, stacked ----------------------------------
class Unroll(Module):
    """The cell over T steps from a given state (an array h or a tuple (h, c)); the output of
    a step is the state's first array. ``carry=False`` is the classic BPTT mistake."""

    carry = True

    def __init__(self, backend, input_size: int, hidden_size: int) -> None:
        super().__init__(backend)
        self.cell = ArrayStateCell(backend, input_size, hidden_size)  # replaced by the check

    def forward(self, xs, state):
        outputs, caches = [], []
        for t in range(xs.shape[1]):
            state, cache = self.cell(xs[:, t, :], state)
            caches.append(cache)
            outputs.append(state[0] if isinstance(state, tuple) else state)
        return self.xp.stack(outputs, axis=1), (caches, isinstance(state, tuple))  # (B, T, H)

    def backward(self, grad_output, cache):
        caches, pair = cache
        xp, carried, grad_xs = self.xp, None, [None] * len(caches)
        for t in reversed(range(len(caches))):
            g = grad_output[:, t, :]
            if carried is None:  # nothing after the last step
                step = (g, xp.zeros_like(g)) if pair else g
            else:
                step = (g + carried[0], carried[1]) if pair else g + carried
            grad_xs[t], carried = self.cell.backward(step, caches[t])
            if not self.carry:
                carried = _zeros_like(xp, carried)
        return xp.stack(grad_xs, axis=1), carried


def _zeros_like(xp, state):
    return tuple(xp.zeros_like(s) for s in state) if isinstance(state, tuple) else \
        xp.zeros_like(state)


class NoBPTT(Unroll):
    carry = False


class ArrayOnly(Unroll):
    """Works for a state h only: stacks the whole state of a tuple-state cell."""

    def forward(self, xs, state):
        outputs, caches = [], []
        for t in range(xs.shape[1]):
            state, cache = self.cell(xs[:, t, :], state)
            caches.append(cache)
            outputs.append(state if not isinstance(state, tuple) else state[1])
        return self.xp.stack(outputs, axis=1), (caches, isinstance(state, tuple))


def _unroll_case(ctx, kind: str) -> LayerCase:
    return LayerCase(args=(ctx.backend, 3, 4), params={}, names=("xs", "h0"),
                     inputs=lambda r: (r.standard_normal((2, 5, 3)), state_of(kind, r, (2, 4))),
                     differentiable=(0, 1), cells={"cell": stand_in_cell(kind, 3, 4)})


UNROLL = sequence_checks("Unroll", _unroll_case,
                         question="rnn", module="m", title="Unroll", points=3.0,
                         states=("array", "pair"), at_scale=None)


def test_sequence_checks_pass_an_unroll_over_any_cell(tmp_path):
    right = _module(Unroll=Unroll)
    assert [c.name for c in UNROLL] == ["values", "hidden", "gradients", "repeated",
                                        "accumulate", "pair_values", "pair_gradients"]
    assert sum(c.points for c in UNROLL) == pytest.approx(3.0)
    verdicts = _verdicts(UNROLL, right, right, tmp_path)
    assert all(ok for ok, _ in verdicts.values()), verdicts


def test_a_missing_bptt_fails_the_gradients_and_names_the_initial_state(tmp_path):
    verdicts = _verdicts(UNROLL, _module(Unroll=Unroll), _module(Unroll=NoBPTT), tmp_path)
    assert verdicts["values"][0] is False and "dL/dh0" in verdicts["values"][1]
    assert verdicts["gradients"][0] is False and "h0" in verdicts["gradients"][1]
    assert verdicts["pair_gradients"][0] is False


def test_an_unroll_that_assumes_an_array_state_fails_the_tuple_state_only(tmp_path):
    verdicts = _verdicts(UNROLL, _module(Unroll=Unroll), _module(Unroll=ArrayOnly), tmp_path)
    assert all(verdicts[n][0] for n in ("values", "gradients", "repeated", "accumulate"))
    assert not verdicts["pair_values"][0]


def test_a_missing_cell_attribute_is_named(tmp_path):
    class Elsewhere(Unroll):
        def __init__(self, backend, d, h):
            Module.__init__(self, backend)
            self.step_cell = ArrayStateCell(backend, d, h)

    ok, message = _grade(UNROLL[0], _module(Unroll=Unroll), _module(Unroll=Elsewhere), tmp_path)
    assert not ok and "no sub-module 'cell'" in message


class Bidirectional(Module):
    """A left-to-right and a right-to-left unroll from zero states, outputs concatenated."""

    reverse_back = True

    def __init__(self, backend, input_size: int, hidden_size: int) -> None:
        super().__init__(backend)
        self.fwd = Unroll(backend, input_size, hidden_size)
        self.bwd = Unroll(backend, input_size, hidden_size)
        self.hidden_size = hidden_size

    def forward(self, xs):
        xp = self.xp
        h0 = xp.zeros((xs.shape[0], self.hidden_size), dtype=xs.dtype)
        left, c_left = self.fwd(xs, h0)
        right, c_right = self.bwd(xp.flip(xs, axis=1), h0)
        if self.reverse_back:
            right = xp.flip(right, axis=1)
        return xp.concat([left, right], axis=-1), (c_left, c_right)  # (B, T, 2H)

    def backward(self, grad_output, cache):
        xp, h = self.xp, self.hidden_size
        c_left, c_right = cache
        grad_left, _ = self.fwd.backward(grad_output[..., :h], c_left)
        grad_right = grad_output[..., h:]
        if self.reverse_back:
            grad_right = xp.flip(grad_right, axis=1)
        grad_rev, _ = self.bwd.backward(grad_right, c_right)
        return grad_left + xp.flip(grad_rev, axis=1)


class NotReReversed(Bidirectional):
    reverse_back = False


def _bi_case(ctx, kind: str) -> LayerCase:
    return LayerCase(args=(ctx.backend, 3, 4), params={}, names=("xs",),
                     inputs=lambda r: (r.standard_normal((2, 5, 3)),),
                     cells={"fwd.cell": stand_in_cell(kind, 3, 4),
                            "bwd.cell": stand_in_cell(kind, 3, 4)})


BIDIRECTIONAL = sequence_checks("Bidirectional", _bi_case,
                                question="birnn", module="m", title="BiRNN",
                                points=2.0, at_scale=None)


def test_a_bidirectional_wrapper_gets_a_stand_in_cell_per_direction(tmp_path):
    right = _module(Bidirectional=Bidirectional)
    verdicts = _verdicts(BIDIRECTIONAL, right, right, tmp_path)
    assert all(ok for ok, _ in verdicts.values()), verdicts
    wrong = _verdicts(BIDIRECTIONAL, right, _module(Bidirectional=NotReReversed), tmp_path)
    assert not wrong["values"][0] and "output" in wrong["values"][1]


class Stacked(Module):
    """Two unrolls, the second on the first's states, from zero states."""

    def __init__(self, backend, input_size: int, hidden_size: int) -> None:
        super().__init__(backend)
        self.layers = [Unroll(backend, input_size, hidden_size),
                       Unroll(backend, hidden_size, hidden_size)]
        self.hidden_size = hidden_size

    def forward(self, xs):
        h0 = self.xp.zeros((xs.shape[0], self.hidden_size), dtype=xs.dtype)
        caches = []
        for layer in self.layers:
            xs, cache = layer(xs, h0)
            caches.append(cache)
        return xs, caches

    def backward(self, grad_output, cache):
        for layer, c in zip(reversed(self.layers), reversed(cache), strict=True):
            grad_output, _ = layer.backward(grad_output, c)
        return grad_output


def _stacked_case(ctx, kind: str) -> LayerCase:
    return LayerCase(args=(ctx.backend, 3, 4), params={}, names=("xs",),
                     inputs=lambda r: (r.standard_normal((2, 5, 3)),),
                     cells={"layers.0.cell": stand_in_cell(kind, 3, 4),
                            "layers.1.cell": stand_in_cell(kind, 4, 4)})


def test_a_stacked_unroll_gets_a_stand_in_cell_per_layer(tmp_path):
    checks = sequence_checks("Stacked", _stacked_case,
                             question="stacked", module="m", title="Stacked",
                             points=2.0, at_scale=None)
    right = _module(Stacked=Stacked)
    verdicts = _verdicts(checks, right, right, tmp_path)
    assert all(ok for ok, _ in verdicts.values()), verdicts
    payload = checks[0].collect(_ctx(right, tmp_path / "p"))
    assert {"grad layers.0.cell.weight_x", "grad layers.1.cell.weight_h"} <= set(payload)


class StatePerLayer(Module):
    """Two unrolls of (h, c) cells, layer k from ``state0[k]`` (a list); ``final_state`` gives
    the list of their last states. Used by ``final_state_check``."""

    def __init__(self, backend, input_size: int, hidden_size: int) -> None:
        super().__init__(backend)
        self.layers = [Unroll(backend, input_size, hidden_size),
                       Unroll(backend, hidden_size, hidden_size)]

    def forward(self, xs, state0):
        assert isinstance(state0, list), "a list of per-layer states arrives as a list"
        finals = []
        for layer, state in zip(self.layers, state0, strict=True):
            outputs = []
            for t in range(xs.shape[1]):
                state, _ = layer.cell(xs[:, t, :], state)
                outputs.append(state[0])
            xs = self.xp.stack(outputs, axis=1)  # (B, T, H): the next layer's inputs
            finals.append(state)
        return xs, finals

    def final_state(self, cache):
        return list(cache)  # each layer's (h, c) after the last step


class TopLayerOnly(StatePerLayer):
    def final_state(self, cache):
        return super().final_state(cache)[-1]


class LayersSwapped(StatePerLayer):
    def final_state(self, cache):
        return super().final_state(cache)[::-1]


def _per_layer_case(ctx) -> LayerCase:
    return LayerCase(args=(ctx.backend, 3, 4), params={}, names=("xs", "state0"),
                     inputs=lambda r: (r.standard_normal((2, 5, 3)),
                                       [state_of("pair", r, (2, 4)) for _ in range(2)]),
                     differentiable=(0, 1),
                     cells={"layers.0.cell": stand_in_cell("pair", 3, 4),
                            "layers.1.cell": stand_in_cell("pair", 4, 4)})


def test_final_state_check_names_a_wrong_layer_and_a_wrong_nesting(tmp_path):
    check = final_state_check("StatePerLayer", _per_layer_case, question="stacked", module="m",
                              title="final state", points=1.0)
    right = _module(StatePerLayer=StatePerLayer)
    assert _grade(check, right, right, tmp_path / "right") == (True, "matches the reference")
    passed, message = _grade(check, right, _module(StatePerLayer=LayersSwapped), tmp_path / "s")
    assert not passed and "final_state[0][0]" in message
    passed, message = _grade(check, right, _module(StatePerLayer=TopLayerOnly), tmp_path / "t")
    assert not passed and "returned 2 arrays side by side" in message
    assert "expected a sequence of 2 states of 2 arrays each (one per layer)" in message


def test_stand_in_cell_kinds_are_checked():
    with pytest.raises(ValueError, match="'array'"):
        stand_in_cell("lstm", 3, 4)


# -- a layer against a torch.nn module, named inputs ------------------------------------------
class Cell(Module):
    """h = tanh(h_prev W_h + x W_e + b), torch.nn.RNNCell's tanh cell."""

    derivative = True

    def __init__(self, backend, d: int, h: int) -> None:
        super().__init__(backend)
        zeros = backend.xp.zeros
        self.weight_e = Parameter(zeros((d, h), dtype=backend.default_dtype), "weight_e")
        self.weight_h = Parameter(zeros((h, h), dtype=backend.default_dtype), "weight_h")
        self.bias = Parameter(zeros((h,), dtype=backend.default_dtype), "bias")

    def forward(self, x, h_prev):
        xp = self.xp
        h = xp.tanh(xp.matmul(h_prev, self.weight_h.data) + xp.matmul(x, self.weight_e.data)
                    + self.bias.data)
        return h, (x, h_prev, h)

    def backward(self, grad_h, cache):
        xp = self.xp
        x, h_prev, h = cache
        grad_z = grad_h * (1.0 - h * h) if self.derivative else grad_h
        self.weight_e.grad = self.weight_e.grad + xp.matmul(xp.matrix_transpose(x), grad_z)
        self.weight_h.grad = self.weight_h.grad + xp.matmul(xp.matrix_transpose(h_prev), grad_z)
        self.bias.grad = self.bias.grad + xp.sum(grad_z, axis=0)
        return (xp.matmul(grad_z, xp.matrix_transpose(self.weight_e.data)),
                xp.matmul(grad_z, xp.matrix_transpose(self.weight_h.data)))


class NoDerivative(Cell):
    derivative = False


def _cell_case(ctx) -> LayerCase:
    rng = ctx.rng()
    return LayerCase(args=(ctx.backend, 3, 4), params={
        "weight_e": rng.standard_normal((3, 4)), "weight_h": rng.standard_normal((4, 4)),
        "bias": rng.standard_normal(4)}, names=("x", "h_prev"), differentiable=(0, 1),
        inputs=lambda r: (r.standard_normal((2, 3)), np.tanh(r.standard_normal((2, 4)))))


def _rnn_cell_twin():
    import torch

    return torch_twin(lambda: torch.nn.RNNCell(3, 4, dtype=torch.float64), {
        "weight_ih": lambda p: p["weight_e"].T, "weight_hh": lambda p: p["weight_h"].T,
        "bias_ih": lambda p: p["bias"], "bias_hh": lambda p: 0 * p["bias"]},
        label="torch.nn.RNNCell")


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_torch_check_compares_with_a_torch_module_on_every_backend(tmp_path, backend):
    pytest.importorskip("torch")
    check = torch_check("Cell", _cell_case, question="cell", module="m", torch=_rnn_cell_twin(),
                        title="against torch.nn.RNNCell", points=1.0, at_scale=None)
    right, wrong = _module(Cell=Cell), _module(Cell=NoDerivative)
    ok, message = _grade(check, right, right, tmp_path, backend)
    assert ok and "torch.nn.RNNCell" in message
    payload = check.collect(_ctx(right, tmp_path / "p", backend))
    assert {"torch|output", "torch|dL/dh_prev", "torch|grad weight_h"} <= set(payload)
    ok, message = _grade(check, right, wrong, tmp_path, backend)
    assert not ok and "against torch.nn.RNNCell" in message and "dL/d" in message


def test_torch_check_falls_back_to_the_reference_without_torch(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("no torch here")
        return real(name, *args, **kwargs)

    check = torch_check("Cell", _cell_case, question="cell", module="m", torch=lambda p, x, h: None,
                        title="t", points=1.0, at_scale=None)
    monkeypatch.setattr(builtins, "__import__", no_torch)
    assert _grade(check, _module(Cell=Cell), _module(Cell=Cell), tmp_path)[0]
    assert not _grade(check, _module(Cell=Cell), _module(Cell=NoDerivative), tmp_path)[0]


def test_the_torch_oracle_joins_the_gradient_check_on_numpy_too(tmp_path):
    pytest.importorskip("torch")
    checks = layer_checks("Cell", _cell_case, question="cell", module="m", title="Cell", points=1.0,
                          torch=_rnn_cell_twin(), at_scale=None)
    gradients = next(c for c in checks if c.name == "gradients")
    payload = gradients.collect(_ctx(_module(Cell=Cell), tmp_path))
    assert {"autograd|h_prev", "autograd|weight_e"} <= set(payload)
    assert "autograd" in gradients.judge(payload, None).message


def test_a_case_of_several_float_inputs_says_which_get_a_gradient(tmp_path):
    """Left to its default, ``differentiable`` checked input 0's gradient only: a cell whose
    backward returned 0 for h_prev earned every point (an author's trial). A case drawing
    several float inputs without saying is an error of the declaration, naming the fix; said
    (``(0,)`` too), it is taken as said."""
    def undeclared(ctx) -> LayerCase:
        case = _cell_case(ctx)
        return dataclasses.replace(case, differentiable=FIRST_INPUT)

    checks = layer_checks("Cell", undeclared, question="cell", module="m", title="Cell",
                          points=1.0, at_scale=None)
    for check in checks:
        with pytest.raises(CheckFailure, match=r"internal: the case of Cell draws float inputs "
                           r"at positions 0, 1 but does not say which get a gradient.*"
                           r"differentiable=\(0, 1,\)"):
            check.collect(_ctx(_module(Cell=Cell), tmp_path / check.name))
    first_only = layer_checks("Cell", lambda ctx: dataclasses.replace(
        _cell_case(ctx), differentiable=(0,)), question="cell", module="m", title="Cell",
        points=1.0, at_scale=None)
    assert all(_grade(c, _module(Cell=Cell), _module(Cell=Cell), tmp_path / f"f{c.name}")[0]
               for c in first_only)


def test_a_share_or_hint_of_no_check_is_an_error():
    """``shares={"gradient": 0.6}`` (for "gradients") and a hint keyed by a check the builder
    does not make were ignored without a word."""
    with pytest.raises(ValueError, match=r"shares=\{'gradient': \.\.\.\} names no check this "
                       r"builder makes \(values, hidden, gradients.*did you mean 'gradients'"):
        layer_checks("Cell", _cell_case, question="cell", module="m", title="Cell", points=1.0,
                     at_scale=None, shares={"gradient": 0.6})
    with pytest.raises(ValueError, match=r"hints=\{'eval': \.\.\.\} names no check"):
        layer_checks("Cell", _cell_case, question="cell", module="m", title="Cell", points=1.0,
                     at_scale=None, hints={"eval": "eval mode is off"})
    layer_checks("Cell", _cell_case, question="cell", module="m", title="Cell", points=1.0,
                 at_scale=None, shares={"gradients": 0.6}, hints={"values": "h"})


def test_feedback_names_the_inputs(tmp_path):
    checks = layer_checks("Cell", _cell_case, question="cell", module="m", title="Cell", points=1.0,
                          at_scale=None)
    verdicts = _verdicts(checks, _module(Cell=Cell), _module(Cell=NoDerivative), tmp_path)
    assert "dL/dh_prev" in verdicts["values"][1] or "dL/dx" in verdicts["values"][1]
    assert "h_prev" in verdicts["gradients"][1] or "x:" in verdicts["gradients"][1]
    assert "input 0" not in verdicts["values"][1] + verdicts["gradients"][1]


def test_torch_twin_requires_every_parameter_of_the_module():
    torch = pytest.importorskip("torch")
    twin = torch_twin(lambda: torch.nn.RNNCell(3, 4, dtype=torch.float64),
                      {"weight_ih": lambda p: p["w"]})
    with pytest.raises(ValueError, match="bias_hh"):
        twin({"w": torch.zeros(4, 3, dtype=torch.float64)}, torch.zeros(1, 3))


def test_torch_twin_by_name_builds_the_module_in_float64_and_names_it():
    torch = pytest.importorskip("torch")
    weights = {"weight_ih": lambda p: p["w_x"].T, "weight_hh": lambda p: p["w_h"].T,
               "bias_ih": lambda p: p["b"], "bias_hh": lambda p: 0 * p["b"]}
    named = torch_twin("RNNCell", weights, args=(3, 4))
    built = torch_twin(lambda: torch.nn.RNNCell(3, 4, dtype=torch.float64), weights)
    rng = np.random.default_rng(0)
    p = {"w_x": rng.standard_normal((3, 4)), "w_h": rng.standard_normal((4, 4)),
         "b": rng.standard_normal(4)}
    p = {k: torch.tensor(v) for k, v in p.items()}
    x, h = torch.tensor(rng.standard_normal((2, 3))), torch.tensor(rng.standard_normal((2, 4)))
    expected = torch.tanh(x @ p["w_x"] + h @ p["w_h"] + p["b"])
    assert named(p, x, h).dtype == torch.float64
    assert torch.allclose(named(p, x, h), expected) and torch.allclose(built(p, x, h), expected)
    assert named.label == "torch.nn.RNNCell" and built.label == ""
    assert torch_twin("GRUCell", weights, args=(3, 4), label="mine").label == "mine"


# -- property checks ----------------------------------------------------------------------------
def _distributions(ctx):
    x = ctx.rng().standard_normal((5, 7))
    result = ctx.function("m", "softmax")(ctx.asarray(x))
    return {"p": ctx.to_numpy(result, "softmax's output")}


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _column_softmax(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


PROPERTY = property_check("rows", "distributions", 1.0, _distributions,
                          [finite("p"), within("p", 0.0, 1.0), rows_sum_to_one("p")],
                              question="softmax")


def test_a_property_check_needs_no_reference(tmp_path):
    assert PROPERTY.kind == "property" and not PROPERTY.needs_expected
    payload = PROPERTY.collect(_ctx(_module(softmax=_softmax), tmp_path))
    verdict = PROPERTY.judge(payload, None)
    assert verdict.passed and "rows of p sum to 1" in verdict.message
    payload = PROPERTY.collect(_ctx(_module(softmax=_column_softmax), tmp_path / "c"))
    verdict = PROPERTY.judge(payload, None)
    assert not verdict.passed and verdict.message.startswith("row (0,) of p is not a")
    payload["p"] = np.full((5, 7), np.nan)
    assert "NaN or inf" in PROPERTY.judge(payload, None).message


def test_a_property_check_wants_properties():
    with pytest.raises(ValueError, match="no properties"):
        property_check("n", "t", 1.0, _distributions, [], question="q")


def _straight_through(p, x, h_prev):
    """torch.nn.RNNCell's outputs with the backward of NoDerivative: tanh's derivative left out
    (the gradient goes through as if h were its pre-activation)."""
    import torch

    z = h_prev @ p["weight_h"] + x @ p["weight_e"] + p["bias"]
    return z + (torch.tanh(z) - z).detach()


class DoubledBackward(Cell):
    """A backward mistake that is not the one declared: every gradient twice the right one."""

    def backward(self, grad_h, cache):
        return super().backward(2.0 * grad_h, cache)


def test_a_backward_mistake_is_named_by_outputs_and_gradients_together(tmp_path):
    """``backward_mistakes``: a torch forward with the right outputs whose autograd gradients
    are the wrong backward's. A cell with that backward is told which mistake it is by the
    values and torch checks; a cell with another wrong backward (the same right outputs) is
    not, and the right cell passes."""
    pytest.importorskip("torch")
    said = "a backward without tanh's derivative"
    mistakes = {said: _straight_through}
    checks = [*layer_checks("Cell", _cell_case,
                            question="cell", module="m", title="Cell", points=1.0,
                            torch=_rnn_cell_twin(), backward_mistakes=mistakes, at_scale=None),
              torch_check("Cell", _cell_case,
                          question="cell", module="m", torch=_rnn_cell_twin(), title="t",
                          points=1.0, backward_mistakes=mistakes, at_scale=None)]
    chosen = [c for c in checks if c.name in ("values", "torch")]
    right = _module(Cell=Cell)
    for check in chosen:
        assert _grade(check, right, right, tmp_path / f"r{check.name}")[0]
        ok, message = _grade(check, right, _module(Cell=NoDerivative),
                             tmp_path / f"n{check.name}")
        assert not ok and said in message, (check.name, message)
        ok, message = _grade(check, right, _module(Cell=DoubledBackward),
                             tmp_path / f"d{check.name}")
        assert not ok and said not in message, (check.name, message)
        # the name in the result's details too: a cohort's failures are grouped by it
        verdict = check.judge(check.collect(_ctx(_module(Cell=NoDerivative), tmp_path / "m")),
                              check.collect(_ctx(right, tmp_path / "e")))
        assert verdict.details[NAMED_MISTAKE] == said
    # computed by the grader beside the outputs, never stored as a fixture
    values = next(c for c in checks if c.name == "values")
    payload = values.collect(_ctx(right, tmp_path / "p"))
    mine = [k for k in payload if k.startswith("mistake|0|")]
    assert "mistake|0|output" in mine and "mistake|0|grad weight_h" in mine, mine
    assert not any(values.stored(k) for k in mine)


def test_a_gradient_wrong_by_every_oracle_is_said_once_with_its_tolerance_once(tmp_path):
    """Central differences and torch's autograd both find NoDerivative's gradients wrong: the
    message says each gradient once (central differences'; the autograd comparison stays in
    the details) and the tolerance once, at its first mention."""
    pytest.importorskip("torch")
    checks = layer_checks("Cell", _cell_case, question="cell", module="m", title="Cell", points=1.0,
                          torch=_rnn_cell_twin(), at_scale=None)
    gradients = next(c for c in checks if c.name == "gradients")
    payload = gradients.collect(_ctx(_module(Cell=NoDerivative), tmp_path))
    verdict = gradients.judge(payload, None)
    assert not verdict.passed
    message = verdict.message
    lines = message.splitlines()
    full = [name for name in ("x", "h_prev", "weight_e", "weight_h", "bias")
            if message.count(f"dL/d{name}:") == 1]
    assert len(full) == SAID_IN_FULL, message  # the first ones in full, the other one named
    assert lines[-1].startswith("… and 1 more wrong too: dL/d"), message
    for name in ("x", "h_prev", "weight_e", "weight_h", "bias"):
        assert message.count(f"dL/d{name}:") + lines[-1].count(f"dL/d{name}.") == 1, message
    assert "torch autograd" not in message
    assert message.count("a check passes when relative error") == 1, message
    oracles = [g["notes"] for g in verdict.details["gradients"] if not g["passed"]]
    assert any("reference: torch autograd" in notes for notes in oracles)  # in the details


def test_without_torch_a_wrong_answer_says_how_to_have_its_mistake_named(tmp_path,
                                                                         monkeypatch):
    """Mistakes written in torch cannot be computed where the grader has no torch (a student's
    own install): a wrong answer's values and torch checks then mark that with torch the
    grader would name the mistake made (``details[NEEDS_TORCH]``, which the grading says
    once, in a warning: ``grade.torch_warning``), not in each message; a right one marks
    nothing."""
    import builtins

    from nlpdojo_autograder.authoring.kinds import NEEDS_TORCH, TORCH_NAMES_MISTAKES
    from nlpdojo_autograder.grading.grade import torch_warning
    from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult

    real = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("no torch here")
        return real(name, *args, **kwargs)

    mistakes = {"a backward without tanh's derivative": _straight_through}
    checks = [*layer_checks("Cell", _cell_case,
                            question="cell", module="m", title="Cell", points=1.0,
                            torch=lambda p, x, h: None, backward_mistakes=mistakes,
                            at_scale=None),
              torch_check("Cell", _cell_case,
                          question="cell", module="m", torch=lambda p, x, h: None,
                          title="t", points=1.0, backward_mistakes=mistakes, at_scale=None)]
    monkeypatch.setattr(builtins, "__import__", no_torch)
    right = _module(Cell=Cell)
    failed = []
    for check in (c for c in checks if c.name in ("values", "torch")):
        expected = check.collect(_ctx(right, tmp_path / f"e{check.name}", "numpy"))
        verdict = check.judge(check.collect(_ctx(right, tmp_path / f"r{check.name}", "numpy")),
                              expected)
        assert verdict.passed and NEEDS_TORCH not in verdict.details
        verdict = check.judge(check.collect(_ctx(_module(Cell=NoDerivative),
                                                 tmp_path / f"n{check.name}", "numpy")), expected)
        assert not verdict.passed and verdict.details.get(NEEDS_TORCH), check.name
        assert "torch" not in verdict.message, verdict.message  # said once, below
        failed.append(CheckResult(id=check.id, question=check.question, kind=check.kind,
                                  score=0.0, max_score=1.0, status="failed",
                                  message=verdict.message, details=verdict.details))
    (line,) = torch_warning([ExerciseResult(name="t", title="t", checks=failed)])
    assert line.startswith("2 failed checks (t.cell)") and line.endswith(TORCH_NAMES_MISTAKES)
    assert torch_warning([ExerciseResult(name="t", title="t", checks=[
        dataclasses.replace(c, score=1.0, status="passed") for c in failed])]) == []
