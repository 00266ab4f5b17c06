"""The builders' declarative pieces (issue 10): inputs drawn by spec, requirements on outputs,
``calls_check`` (several calls of a module's functions on drawn inputs) and ``function_check``
on drawn inputs. Each check runs in this process on a small module of right and wrong
functions (the grader's own call machinery, as the reference is run), and is judged against
the right one's payload: a right answer passes, a wrong one fails with its message."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from nlpdojo.arrays import like
from nlpdojo_autograder.authoring.builders import (
    call,
    calls_check,
    drawn_setting,
    function_check,
    function_checks,
    layer_case,
    literal,
)
from nlpdojo_autograder.authoring.checks import Check, CheckFailure
from nlpdojo_autograder.authoring.context import BackendRef, Context
from nlpdojo_autograder.authoring.inputs import (
    BACKEND,
    derived,
    draw,
    inputs,
    integers,
    normal,
    padded_sentences,
    per_grading,
    require,
    require_finite,
    require_rows_sum_to_one,
    require_shapes,
    scratch,
    setting,
    states,
    student,
    uniform,
)
from nlpdojo_autograder.grading.runner import _backends
from nlpdojo_autograder.runtime.calls import StudentError
from nlpdojo_autograder.runtime.remote import LocalSubject
from tests.grading.courses import OneModule

#: the LocalSubjects these tests make are never closed: their scratch goes under tmp_path
pytestmark = pytest.mark.usefixtures("scratch_under_tmp_path")




def _module(**functions) -> types.ModuleType:
    module = types.ModuleType("m")
    module.__dict__.update(functions)
    return module


def _ctx(module: types.ModuleType, tmp_path: Path, seed: int = 0) -> Context:
    subject = LocalSubject(OneModule(module), _backends("numpy", None))
    subject.begin(dtype="float64", swap_in=(), workdir="w")
    return Context(subject=subject, backend=BackendRef("numpy", None, "float64"), seed=seed,
                   workdir=tmp_path)


def _grade(check: Check, right: types.ModuleType, theirs: types.ModuleType, tmp_path: Path):
    """(verdict, message) of ``theirs`` against ``right``'s payload; a CheckFailure or an
    error of the code under test fails with its message."""
    expected = check.collect(_ctx(right, tmp_path / "ref"))
    try:
        actual = check.collect(_ctx(theirs, tmp_path / "sub"))
    except (CheckFailure, StudentError) as exc:
        return False, str(exc)
    verdict = check.judge(actual, expected)
    return verdict.passed, verdict.message


# -- inputs ---------------------------------------------------------------------------------
def test_inputs_are_drawn_in_order_from_the_checks_seed(tmp_path):
    make = inputs(x=normal(3, 2), i=integers(10), ids=integers(5, 6, repeated=True),
                  lr=uniform(0.1, 0.2), shifted=normal(2, loc=50.0, scale=0.5),
                  table=np.arange(3), twice=derived(lambda d: 2 * d["x"]),
                  own=draw(lambda rng, d: rng.permutation(4)))
    ctx = _ctx(_module(), tmp_path, seed=7)
    a, b = make(ctx), make(ctx)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 2))
    assert np.array_equal(a["x"], x) and np.array_equal(a["twice"], 2 * x)
    assert a["i"] == int(rng.integers(0, 10)) and isinstance(a["i"], int)
    assert a["ids"].shape == (6,) and a["ids"][-1] == a["ids"][0]
    assert 0.1 <= a["lr"] < 0.2 and isinstance(a["lr"], float)
    assert np.all(np.abs(a["shifted"] - 50.0) < 5)
    assert sorted(a["own"].tolist()) == [0, 1, 2, 3]
    assert all(np.array_equal(a[k], b[k]) for k in a)  # the same seed, the same inputs
    a["table"][0] = 99  # a constant is copied per draw
    assert make(ctx)["table"][0] == 0
    assert not np.array_equal(make(_ctx(_module(), tmp_path, seed=8))["x"], x)


def test_a_spec_draws_from_a_bare_generator_too():
    ids = integers(7, 4, 3, repeated=True)(np.random.default_rng(0))
    assert ids.shape == (4, 3) and ids.flat[-1] == ids.flat[0] and ids.max() < 7


def test_a_layer_case_as_data_draws_its_settings_per_grading(tmp_path):
    """``layer_case``'s ``kwargs`` (and ``torch_kwargs``) take a setting drawn per grading
    (``setting``: :func:`drawn_setting`'s draw, apart from the inputs): the same in both, a
    fresh one at another seed; parameters and inputs drawn in order as declared."""
    make = layer_case(3, 4, kwargs={"dropout": setting(0.3, 0.6), "cell": "gru"},
                      torch_kwargs={"p": setting(0.3, 0.6)},
                      params={"weight": normal(3, 4, scale=0.5), "bias": normal(4)},
                      inputs=(normal(2, 3), states(2, 4)), differentiable=(0, 1))
    seen = set()
    for seed in (3, 4, 5):
        ctx = _ctx(_module(), tmp_path, seed=seed)
        case = make(ctx)
        rate = case.kwargs["dropout"]
        assert rate == drawn_setting(ctx, 0.3, 0.6) == case.torch_kwargs["p"]
        assert 0.3 <= rate <= 0.6 and case.kwargs["cell"] == "gru"
        rng = ctx.rng()
        np.testing.assert_array_equal(case.params["weight"], 0.5 * rng.standard_normal((3, 4)))
        np.testing.assert_array_equal(case.params["bias"], rng.standard_normal(4))
        x, h = case.inputs(np.random.default_rng(1))
        again = np.random.default_rng(1)
        np.testing.assert_array_equal(x, again.standard_normal((2, 3)))
        np.testing.assert_array_equal(h, np.tanh(again.standard_normal((2, 4))))
        seen.add(rate)
    assert len(seen) == 3


@pytest.mark.parametrize("seed", range(5))
def test_padded_sentences_hold_a_full_row_a_lone_word_and_padding_after_the_words(seed):
    ids, lengths = padded_sentences(9, 5, 6, low=1, repeated=True, lone_word=4)(
        np.random.default_rng(seed))
    assert ids.shape == (5, 6) and lengths.shape == (5,)
    assert lengths[0] == 6 and lengths[1] == 1 and np.all((lengths >= 1) & (lengths <= 6))
    words = np.arange(6)[None, :] < lengths[:, None]  # (B, T)
    assert np.all(ids[~words] == 0) and np.all((ids[words] >= 1) & (ids[words] < 9))
    assert ids[0, -1] == ids[0, 0] and ids[1, 0] == 4


# -- requirements ---------------------------------------------------------------------------
def test_requirements_pass_right_outputs_and_name_wrong_ones():
    finite = require_finite("loss", "the loss is {value}: use log-sum-exp")
    finite({"loss": np.array(3.0)}, {})
    with pytest.raises(CheckFailure, match="the loss is inf: use log-sum-exp"):
        finite({"loss": np.array(np.inf)}, {})
    shapes = require_shapes(a=(6,), b=(6, 4))
    shapes({"a": np.zeros(6), "b": np.zeros((6, 4))}, {})
    with pytest.raises(CheckFailure, match=r"b should have shape \(6, 4\); got \(4, 6\)"):
        shapes({"a": np.zeros(6), "b": np.zeros((4, 6))}, {})
    rows = np.full((4, 7), 1 / 7)
    axis = require_rows_sum_to_one("p", "softmax")
    axis({"p": rows}, {})
    with pytest.raises(CheckFailure, match=r"softmax of a \(7, 4\) matrix: your columns sum"):
        axis({"p": rows.T.copy()}, {})
    with pytest.raises(CheckFailure, match=r"shape \(3,\), values \[1, 2, 3\]"):
        require("v", lambda v: v.sum() == 0, "shape {shape}, values {value}")(
            {"v": np.array([1, 2, 3])}, {})


# -- calls_check ----------------------------------------------------------------------------
def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _softmax_columns(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


SOFTMAX = calls_check("values", "softmax", 1.0,
                      inputs(matrix=normal(4, 7), vector=normal(6)),
                      [call("softmax", x, out=x) for x in ("matrix", "vector")],
                          question="q", module="m",
                      inspect=require_rows_sum_to_one("matrix", "softmax"))


def test_calls_check_one_function_on_several_inputs(tmp_path):
    right = _module(softmax=_softmax)
    assert _grade(SOFTMAX, right, right, tmp_path)[0]
    passed, message = _grade(SOFTMAX, right, _module(softmax=_softmax_columns), tmp_path)
    assert not passed and "your columns sum to 1, not your rows" in message
    passed, message = _grade(SOFTMAX, right, _module(softmax=lambda x: x), tmp_path)
    assert not passed and "matrix" in message


def _fit(x):
    return x.mean(axis=0), x.std(axis=0)


def _apply(x, mean, std, how):
    assert how == "scale"
    return (x - mean) / std


CHAINED = calls_check("values", "fit then apply", 1.0,
                      inputs(train=normal(20, 3), test=normal(5, 3, loc=2.0)),
                      [call("fit", "train", out=("mean", "std")),
                       call("apply", "test", "mean", "std", literal("scale"), out="applied")],
                           question="q", module="m")


def test_calls_check_chains_a_call_on_an_earlier_ones_outputs(tmp_path):
    right = _module(fit=_fit, apply=_apply)
    assert _grade(CHAINED, right, right, tmp_path)[0]
    fit_on_test = _module(fit=lambda x: (x.mean(axis=0) + 1, x.std(axis=0)), apply=_apply)
    passed, message = _grade(CHAINED, right, fit_on_test, tmp_path)
    assert not passed and "mean" in message
    one_value = _module(fit=lambda x: x.mean(axis=0), apply=_apply)
    passed, message = _grade(CHAINED, right, one_value, tmp_path)
    assert not passed and "fit should return (mean, std)" in message


def _decay(step, total, lr0):
    return lr0 * max(0.0, 1.0 - step / total)


EACH = calls_check("values", "a schedule", 1.0,
                   inputs(steps=[0, 5, 10, 20], lr0=uniform(0.1, 1.0)),
                   [call("decay", "steps", 10, "lr0", each="steps", out="rates")],
                       question="q", module="m")


def test_calls_check_each_calls_once_per_element_and_wants_numbers(tmp_path):
    right = _module(decay=_decay)
    ctx = _ctx(right, tmp_path)
    payload = EACH.collect(ctx)
    lr0 = inputs(steps=[0, 5, 10, 20], lr0=uniform(0.1, 1.0))(ctx)["lr0"]
    assert np.allclose(payload["rates"], [lr0, lr0 / 2, 0.0, 0.0])
    assert _grade(EACH, right, right, tmp_path)[0]
    no_floor = _module(decay=lambda s, t, lr0: lr0 * (1.0 - s / t))
    passed, message = _grade(EACH, right, no_floor, tmp_path)
    assert not passed and "rates" in message
    arrays = _module(decay=lambda s, t, lr0: np.full(2, lr0))
    passed, message = _grade(EACH, right, arrays, tmp_path)
    assert not passed and "should return a number" in message


def _project(v):
    return v[:, :2]


def _plot(vectors, words, path):
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
    return vectors[words][:, :2]


PLOT = calls_check("png", "plot", 1.0,
                   inputs(vectors=normal(6, 3), few=derived(lambda d: d["vectors"][:3]),
                          png=scratch("out.png")),
                   [call("project", "few", out="projected", compare=False, inspect=require(
                       "projected", lambda p: p.shape == (3, 2), "project gave {shape}")),
                    call("plot", "vectors", np.array([0, 1, 2]), "png", out="coordinates",
                         writes="out.png")], question="q", module="m",
                   arrays="numpy")


def test_calls_check_inspects_each_call_and_checks_the_file_it_writes(tmp_path):
    right = _module(project=_project, plot=_plot)
    assert _grade(PLOT, right, right, tmp_path)[0]
    assert set(PLOT.collect(_ctx(right, tmp_path))) == {"coordinates"}  # compare=False
    passed, message = _grade(PLOT, right, _module(project=lambda v: v, plot=_plot), tmp_path)
    assert not passed and message == "project gave (3, 3)"
    no_file = _module(project=_project, plot=lambda v, w, p: v[w][:, :2])
    passed, message = _grade(PLOT, right, no_file, tmp_path)
    assert not passed and message == "plot did not save a PNG image at the given path"


def test_calls_check_names_an_unknown_input():
    check = calls_check("values", "t", 1.0, inputs(x=normal(2)),
                        [call("f", "y", out="z")], question="q", module="m")
    with pytest.raises(ValueError, match="no input or output 'y'"):
        check.collect(_ctx(_module(f=lambda x: x), Path(".")))
    with pytest.raises(ValueError, match="each='steps' names none of its arguments"):
        call("f", "x", each="steps", out="y")


def test_a_calls_check_naming_an_output_twice_or_a_gradient_of_nothing_is_refused():
    """Two calls with out="u": only the last was compared (a wrong row_norms earned its
    point); function_checks with a gradient check and no grad_<argument> output checked
    nothing ("gradients match central differences ()"): an author's trial."""
    with pytest.raises(ValueError, match="the calls name their outputs 'u' more than once"):
        calls_check("values", "t", 1.0, inputs(x=normal(2)),
                    [call("row_norms", "x", out="u"), call("normalize", "x", out="u")],
                    question="q", module="m")
    with pytest.raises(ValueError, match=r"a gradient check, but no output is named "
                       r"grad_<argument> \(loss, dpred\)"):
        function_checks("sq_loss", inputs(pred=normal(3), y=normal(3)), question="q",
                        module="m", outputs=("loss", "dpred"), points={"gradient": 2.0},
                        title="t", at_scale=None)


def test_inputs_that_draw_nothing_are_refused():
    """Inputs fixed for good (an array given as it is) ask one question at every grading, and
    a student release's fixture holds its answer: an author's trial returned the fixture's
    numbers for full marks at fresh seeds. A drawn input beside constants is fine."""
    with pytest.raises(ValueError, match=r"inputs\(weights, k\) draws nothing: every grading "
                       "would ask the same question"):
        inputs(weights=np.random.default_rng(7).random((3, 4)), k=2)
    inputs(weights=normal(3, 4), k=2)


# -- function_check and function_checks on drawn inputs ---------------------------------------
def _update(backend, matrix, rows, grads, lr):
    np.add.at(matrix, rows, -lr * grads)
    return matrix


UPDATE = function_check("update",
                        inputs(backend=BACKEND, matrix=normal(5, 2),
                               rows=np.array([1, 3, 1]), grads=normal(3, 2), lr=0.5),
                                   question="q", module="m",
                        title="t", points=1.0, check="update", in_place="matrix")


def test_function_check_on_drawn_inputs(tmp_path):
    right = _module(update=_update)
    assert _grade(UPDATE, right, right, tmp_path)[0]
    overwrites = _module(update=lambda b, m, r, g, lr: _overwrite(m, r, g, lr))
    assert not _grade(UPDATE, right, overwrites, tmp_path)[0]
    copy = _module(update=lambda b, m, r, g, lr: _update(b, m.copy(), r, g, lr))
    passed, message = _grade(UPDATE, right, copy, tmp_path)
    assert not passed and "must update `matrix` in place" in message


def test_a_function_checks_hint_is_said_with_its_failures(tmp_path):
    """``hint=`` without ``in_place=`` was dropped without a word: it is added to every
    failure."""
    check = function_check("double", inputs(x=normal(3)), question="q", module="m",
                           title="double", points=1.0, hint="multiply by two, not add")
    right, wrong = _module(double=lambda x: 2 * x), _module(double=lambda x: x + 2)
    assert _grade(check, right, right, tmp_path)[0]
    passed, message = _grade(check, right, wrong, tmp_path)
    assert not passed and message.endswith("(multiply by two, not add)")


def _overwrite(matrix, rows, grads, lr):
    matrix[rows] -= lr * grads  # a repeated row's updates overwrite each other
    return matrix


def _pair_loss(v, o, U):
    given = v
    v, U = np.asarray(v), np.asarray(U)  # backend arrays (torch tensors on torch) as NumPy
    s = U @ v
    m = s.max()
    p = np.exp(s - m) / np.exp(s - m).sum()
    delta = p.copy()
    delta[o] -= 1.0
    # returned as arrays of the inputs' namespace, as every result is judged
    return tuple(like(given, a) for a in (np.log(np.exp(s - m).sum()) + m - s[o],
                                          U.T @ delta, np.outer(delta, v)))


def _torch_pair_loss(v, o, U):
    import torch

    return torch.nn.functional.cross_entropy((U @ v)[None, :], torch.tensor([o]))


PAIR = inputs(v=normal(3), o=integers(4), U=normal(4, 3))
PAIR_CHECKS = function_checks("pair", PAIR,
                              question="q", module="m", outputs=("loss", "grad_v", "grad_U"),
                              points={"values": 1.0, "gradient": 1.0}, title="pair",
                              torch=_torch_pair_loss, at_scale=None, inspect=require_finite(
                                  "loss", "the loss is {value}"))


def test_function_checks_on_drawn_inputs(tmp_path):
    right = _module(pair=_pair_loss)
    assert all(_grade(c, right, right, tmp_path)[0] for c in PAIR_CHECKS)
    wrong = _module(pair=lambda v, o, U: (_pair_loss(v, o, U)[0],
                                          2 * _pair_loss(v, o, U)[1], _pair_loss(v, o, U)[2]))
    assert not any(_grade(c, right, wrong, tmp_path)[0] for c in PAIR_CHECKS)
    overflow = _module(pair=lambda v, o, U: (np.float64(np.inf), *_pair_loss(v, o, U)[1:]))
    assert _grade(PAIR_CHECKS[0], right, overflow, tmp_path) == (False, "the loss is inf")


def test_function_checks_autograd_takes_the_arguments_by_name(tmp_path):
    """On torch, the oracle is called as ``autograd(v=tensor, o=int, U=tensor)``: its gradient
    joins the payload and must match the student's."""
    pytest.importorskip("torch")
    gradient = PAIR_CHECKS[1]
    subject = LocalSubject(OneModule(_module(pair=_pair_loss)), _backends("torch", None))
    subject.begin(dtype="float64", swap_in=(), workdir="w")
    ctx = Context(subject=subject, backend=BackendRef("torch", None, "float64"), seed=0,
                  workdir=tmp_path)
    payload = gradient.collect(ctx)
    assert {"autograd|v", "autograd|U"} <= set(payload)
    assert np.allclose(payload["autograd|v"], payload["v|analytic"])
    assert gradient.judge(payload, None).passed
    # a forward that computes another function, its backward consistent with it: central
    # differences agree, torch autograd of the true forward does not, and the message says so
    # (not "numerical", which central differences are)
    other = {**payload, "autograd|v": 2 * payload["autograd|v"]}
    verdict = gradient.judge(other, None)
    assert not verdict.passed
    assert "torch autograd" in verdict.message and "numerical" not in verdict.message
    assert "Central differences of your own forward agree" in verdict.message
    payload["v|analytic"] = 2 * payload["v|analytic"]
    verdict = gradient.judge(payload, None)
    by_autograd = [g for g in verdict.details["gradients"]
                   if "reference: torch autograd" in g.get("notes", [])]
    assert not verdict.passed and by_autograd and not all(g["passed"] for g in by_autograd)
    assert "Central differences of your own forward agree" not in verdict.message


def test_a_student_function_is_an_argument_by_spec(tmp_path):
    check = function_check("apply", inputs(f=student("m", "double"), x=normal(3)),
                           question="q", module="m",
                           title="t", points=1.0)
    right = _module(apply=lambda f, x: f(x), double=lambda x: 2 * x)
    assert _grade(check, right, right, tmp_path)[0]
    assert not _grade(check, right, _module(apply=lambda f, x: f(x), double=lambda x: x),
                      tmp_path)[0]


def test_a_layer_case_as_data_takes_a_value_of_the_context_in_its_arguments(tmp_path):
    """``per_grading(make)`` is ``make(ctx)`` of each grading, in the constructor's positional
    arguments as in its keywords (a rate of a distribution of its own, a mask's seed)."""
    make = layer_case(per_grading(lambda ctx: 0.1 * (ctx.seed % 5)), 4,
                      kwargs={"seed": per_grading(lambda ctx: ctx.seed % 1000)},
                      inputs=(normal(2, 3),))
    for seed in (3, 1004):
        ctx = _ctx(_module(), tmp_path, seed=seed)
        case = make(ctx)
        assert case.args == (ctx.backend, 0.1 * (seed % 5), 4)
        assert case.kwargs == {"seed": seed % 1000} and case.params == {}


def test_cases_as_data_for_a_longer_sentence_an_unroll_and_a_loss(tmp_path):
    """A ``layer_case`` field given as ``per_grading`` (a ``longer`` that reads the settings
    drawn, ``kwargs`` whole) is settled per grading; ``inputs`` may be one draw of them all;
    ``unroll_case`` draws xs and a state of the kind, with a stand-in cell at each path;
    ``loss_case`` draws prediction then target, its settings the loss's and torch's;
    ``fan_in_normal`` divides by √(product of all axes but the last)."""
    from nlpdojo_autograder.authoring.builders.cases import stand_in_cell, unroll_case
    from nlpdojo_autograder.authoring.builders.loss import loss_case
    from nlpdojo_autograder.authoring.inputs import fan_in_normal

    ctx = _ctx(_module(), tmp_path, seed=9)
    make = layer_case(2, kwargs=per_grading(lambda c: {"stride": c.seed % 4}),
                      params={"weight": fan_in_normal(3, 2, 5)},
                      inputs=padded_sentences(5, 3, 4, low=1),
                      longer=per_grading(lambda c: lambda r, factor: c.seed * factor))
    case = make(ctx)
    assert case.kwargs == {"stride": 1} and case.longer(None, 2) == 18
    np.testing.assert_array_equal(case.params["weight"],
                                  ctx.rng().standard_normal((3, 2, 5)) / np.sqrt(6))
    ids, lengths = case.inputs(np.random.default_rng(0))
    assert ids.shape == (3, 4) and lengths.shape == (3,)

    unroll = unroll_case({"array": (2, 3, 4, 5), "pair": (1, 2, 3, 4)}, "f.cell", "b.cell")
    case = unroll(ctx, "pair")
    xs, (h, c) = case.inputs(np.random.default_rng(0))
    assert case.args == (ctx.backend, 3, 4) and xs.shape == (1, 2, 3) and c.shape == (1, 4)
    assert case.cells == {p: stand_in_cell("pair", 3, 4) for p in ("f.cell", "b.cell")}
    assert case.differentiable == (0, 1) and case.names == ("xs", "state0")

    loss = loss_case(normal(4, 3), integers(3, 4), margin=setting(0.3, 2.0))(ctx)
    rng = ctx.rng()
    np.testing.assert_array_equal(loss.prediction, rng.standard_normal((4, 3)))
    np.testing.assert_array_equal(loss.target, rng.integers(0, 3, 4))
    assert loss.kwargs == loss.torch_kwargs == {"margin": drawn_setting(ctx, 0.3, 2.0)}


def test_a_numpy_scalar_setting_goes_as_a_python_number(tmp_path):
    """A setting computed with NumPy (``nominal * factor``, a ``np.float64``) reaches the code
    under test as the Python float a caller passes: on the strict backend a NumPy scalar is an
    array of another namespace, and the reference's own strict pass failed on one."""
    from nlpdojo_autograder.authoring.context import outgoing

    sent = outgoing((np.float64(0.42), [np.int64(3)], {"p": np.float32(0.5)}, np.ones(2)))
    assert type(sent[0]) is float and sent[0] == 0.42
    assert type(sent[1][0]) is int and type(sent[2]["p"]) is float
    assert isinstance(sent[3], np.ndarray)  # arrays are left as they are


def test_a_values_payloads_output_names_give_back_the_output_shapes(tmp_path):
    """A student release's grading knows a forward's true output shapes from its fixture's
    expected outputs alone: the names ``_output_payload`` writes (one array; a tuple, numbered
    or by the case's ``outputs``) are the ones ``_known_output_shapes`` reads back."""
    from nlpdojo_autograder.authoring.builders.cases import (
        LayerCase,
        _known_output_shapes,
        _output_payload,
    )

    ctx = _ctx(_module(), tmp_path)
    arrays = (np.zeros((2, 3)), np.zeros((2, 5)))
    for outputs, output in ((None, arrays[0]), (None, arrays), (("h", "c"), arrays)):
        case = LayerCase((), {}, lambda rng: (), outputs=outputs)
        payload = _output_payload(ctx, "Cell", case, output)
        want = [a.shape for a in (output if isinstance(output, tuple) else (output,))]
        assert _known_output_shapes({**payload, "grad x": np.zeros(4)}, case) == want
    assert _known_output_shapes({"grad x": np.zeros(4)}, LayerCase((), {}, lambda rng: ())) is None
    named = LayerCase((), {}, lambda rng: (), outputs=("h", "c"))
    assert _known_output_shapes({"h": np.zeros(2)}, named) is None  # c missing
