"""Tests for nlpdojo.gradcheck: correct gradients pass, planted bugs fail with the right
diagnosis, x is never left modified, and a sampled check costs the same for any size."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nlpdojo.gradcheck import (
    GradCheckResult,
    autograd_gradient,
    check_gradient,
    check_gradients,
    check_module,
    compare_gradients,
    diagnose,
    gather_evidence,
    judge_evidence,
    numerical_gradient,
    relative_error,
)

N_SAMPLED_EVALS = 1 + 2 * (30 + 10)  # f(x) + two per sampled coordinate and per direction


# -- a softmax cross-entropy affine layer (CS224n lecture 3) ---------------------------------
def softmax_ce(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(x @ w) and its gradient dL/dw."""
    n = x.shape[0]
    s = x @ w  # (N, C)
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)  # (N, C)
    loss = -np.log(p[np.arange(n), y]).mean()
    p[np.arange(n), y] -= 1.0
    return float(loss), x.T @ (p / n)  # (D, C)


@pytest.fixture(scope="module")
def layer() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    n, d, c = 16, 100, 100  # w: 10,000 parameters -> sampled mode
    x = rng.standard_normal((n, d))
    y = rng.integers(0, c, n)
    w = rng.standard_normal((d, c)) * 0.1
    return {"x": x, "y": y, "w": w, "grad": softmax_ce(w, x, y)[1]}


def layer_loss(layer: dict[str, np.ndarray]):
    return lambda w: softmax_ce(w, layer["x"], layer["y"])[0]


def test_correct_affine_softmax_gradient_passes_in_sampled_mode(layer):
    w0 = layer["w"].copy()
    r = check_gradient(layer_loss(layer), layer["w"], layer["grad"], name="W")
    assert r.passed, r.message
    assert r.mode == "sampled" and r.n_checked == 40 and r.n_failed == 0
    assert r.n_evaluations == N_SAMPLED_EVALS
    assert r.message.startswith("dL/dW: ok")
    np.testing.assert_array_equal(layer["w"], w0)


def test_correct_small_layer_passes_in_full_mode():
    rng = np.random.default_rng(2)
    x, y, w = rng.standard_normal((6, 5)), rng.integers(0, 4, 6), rng.standard_normal((5, 4))
    r = check_gradient(lambda v: softmax_ce(v, x, y)[0], w, softmax_ce(w, x, y)[1], name="W")
    assert r.passed and r.mode == "full" and r.n_checked == 20
    assert r.n_evaluations == 1 + 2 * 20


@pytest.mark.parametrize(
    ("f", "grad"),
    [
        (lambda v: float(np.sum(v**3)), lambda v: 3 * v**2),
        (lambda v: float(np.sum(np.sin(v)) * np.exp(v[0])),
         lambda v: np.cos(v) * np.exp(v[0]) + np.eye(v.size)[0] * np.sum(np.sin(v)) * np.exp(v[0])),
        (lambda v: float(np.log(np.sum(np.exp(v)))), lambda v: np.exp(v) / np.sum(np.exp(v))),
        (lambda v: float(np.sum(np.maximum(v, 0.0) ** 2)), lambda v: 2 * np.maximum(v, 0.0)),
    ],
    ids=["cube", "product", "logsumexp", "squared-relu"],
)
def test_small_functions_pass(f, grad):
    v = np.random.default_rng(3).standard_normal(7)
    r = check_gradient(f, v, grad(v))
    assert r.passed, r.message


def test_summed_loss_passes_thanks_to_roundoff_floor(layer):
    """A loss summed over a large batch is large; its round-off floor ε|f|/h exceeds 1e-8."""
    n = 400
    rng = np.random.default_rng(4)
    x, y, w = rng.standard_normal((n, 30)), rng.integers(0, 20, n), rng.standard_normal((30, 20))
    loss, grad = softmax_ce(w, x, y)
    r = check_gradient(lambda v: n * softmax_ce(v, x, y)[0], w, n * grad, name="W")
    assert r.passed, r.message
    assert r.atol > 1e-8


# -- planted bugs ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("plant", "expected"),
    [
        (lambda g: g.T.copy(), "transposed"),
        (lambda g: 2 * g, "twice the true one"),
        (lambda g: g / 16, "1/16 of the numerical one"),  # divided by the batch size N once more
        (lambda g: 16 * g, "16 times the numerical one"),
        (lambda g: 0.5 * g, "half the true one"),
        (lambda g: -g, "wrong sign"),
        (lambda g: np.zeros_like(g), "all zeros"),
        (lambda g: 0.37 * g, "0.37 times the true one"),
    ],
    ids=["transposed", "x2", "x1/N", "xN", "half", "sign", "zeros", "ratio"],
)
@pytest.mark.parametrize("mode", ["sampled", "full"])
def test_planted_bug_fails_with_diagnosis(layer, plant, expected, mode):
    f, w, g = layer_loss(layer), layer["w"], layer["grad"]
    if mode == "full":  # a 12x12 corner of the problem keeps the full check fast
        x, y = layer["x"][:, :12], layer["y"] % 12
        w = layer["w"][:12, :12].copy()
        f, g = (lambda v: softmax_ce(v, x, y)[0]), softmax_ce(w, x, y)[1]
    r = check_gradient(f, w, plant(g), name="W")
    assert not r.passed and r.mode == mode
    assert r.diagnosis is not None and expected in r.diagnosis, r.message
    assert r.message.startswith("dL/dW: max relative error") and expected in r.message


def test_message_names_index_and_both_values(layer):
    r = check_gradient(layer_loss(layer), layer["w"], layer["grad"].T.copy(), name="W")
    head = r.message.splitlines()[0]
    assert f"at [{r.worst_index[0]}, {r.worst_index[1]}]" in head
    assert "yours" in head and "numerical" in head
    assert head.endswith("your gradient equals the true one transposed")
    assert len(r.message.splitlines()) <= 2


def test_nan_gradient_fails_with_message_not_exception(layer):
    g = layer["grad"].copy()
    g[3, 7] = np.nan
    r = check_gradient(layer_loss(layer), layer["w"], g, name="W")
    assert not r.passed and r.worst_index == (3, 7)
    assert "NaN" in r.diagnosis and "[3, 7]" in r.message
    json.dumps(r.to_dict(), allow_nan=False)
    # explained by what was found: a NaN is 0/0 and the like, not a softmax's overflow (a
    # mean over a length of 0 was sent to a softmax it did not have: a student trial)
    assert "0/0" in r.hint and "softmax" not in r.hint
    g[3, 7] = np.inf
    r = check_gradient(layer_loss(layer), layer["w"], g, name="W")
    assert "inf comes from a division by 0" in r.hint


def embedding_problem(vocab: int, dim: int, ids: np.ndarray, seed: int = 5):
    """L = sum(tanh(E[ids]) * T): a look-up whose ids repeat (word2vec-style)."""
    rng = np.random.default_rng(seed)
    emb, target = rng.standard_normal((vocab, dim)), rng.standard_normal((ids.size, dim))

    def f(e: np.ndarray) -> float:
        return float(np.sum(np.tanh(e[ids]) * target))

    upstream = (1 - np.tanh(emb[ids]) ** 2) * target  # (N, D)
    right = np.zeros_like(emb)
    np.add.at(right, ids, upstream)
    wrong = np.zeros_like(emb)
    wrong[ids] = upstream  # the classic bug: repeated ids keep only the last contribution
    return f, emb, right, wrong


def test_repeated_index_bug_names_the_wrong_rows():
    ids = np.array([0, 3, 5, 3, 7, 9, 7, 11])  # rows 3 and 7 repeat
    f, emb, right, wrong = embedding_problem(12, 4, ids)
    assert check_gradient(f, emb, right, name="E").passed
    r = check_gradient(f, emb, wrong, name="E")
    assert not r.passed and r.diagnosis.startswith("rows 3, 7 are wrong; the others are right")
    # both causes named, in the namespace's words (a newcomer's trial: a missing -y of the
    # target row was told only of repeated rows, and pointed at np.add.at)
    assert "the target word's -1 in y_hat - y" in r.hint and "np.add.at" not in r.hint
    assert "scatter-add" in r.hint and r.worst_index[0] in (3, 7)


def test_a_bug_the_sample_misses_is_caught_by_directions():
    v = np.random.default_rng(6).standard_normal(10_000)
    g = np.cos(v)
    i = int(np.argmin(np.abs(g)))  # never among the largest |analytic|
    g[i] = 0.9  # wrong, but still small next to the top coordinates
    r = check_gradient(lambda u: float(np.sum(np.sin(u))), v, g, name="v", n_samples=2)
    assert not r.passed and r.mode == "sampled"
    assert r.worst_index is None and "random directions do not" in r.message


def test_a_plan_of_directions_only_says_so_and_sends_to_no_coordinate():
    """``max_full=0, n_samples=0``: a gradient half its true size (a call's share lost) fails
    along every direction, and the message speaks of directions, not of a sample that missed."""
    v = np.random.default_rng(8).standard_normal((6, 5))
    f = lambda u: float(np.sum(np.sin(u)))  # noqa: E731
    assert check_gradient(f, v, np.cos(v), max_full=0, n_samples=0, n_directions=4).passed
    r = check_gradient(f, v, 0.5 * np.cos(v), name="W", max_full=0, n_samples=0,
                       n_directions=4)
    assert not r.passed and r.n_checked == 4 and r.n_failed == 4 and r.n_evaluations == 9
    assert "checked 4 random directions;" in r.message, r.message
    assert "sample" not in r.message and "max_full" not in r.message, r.message


def test_one_wrong_entry_of_a_vector_is_named():
    v = np.random.default_rng(7).standard_normal(10)
    g = np.cos(v)
    g[4] += 1.0
    r = check_gradient(lambda u: float(np.sum(np.sin(u))), v, g, name="b")
    assert r.worst_index == (4,) and r.diagnosis.startswith("entry 4 is wrong")


# -- shapes, bad losses ----------------------------------------------------------------------
def test_shape_mismatch_transposed_shape_is_confirmed():
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((3, 4))
    g = x.T @ np.ones((5, 4))  # d sum(x @ w) / dw
    r = check_gradient(lambda v: float(np.sum(x @ v)), w, g.T, name="W")
    assert not r.passed and r.n_checked == 0
    assert "transposed" in r.diagnosis and "(4, 3)" in r.message and "(3, 4)" in r.message


def test_shape_mismatch_extra_batch_axis():
    v = np.ones(3)
    r = check_gradient(lambda u: float(np.sum(u)), v, np.ones((8, 3)), name="b")
    assert not r.passed and "(8, 3)" in r.diagnosis and "(3,)" in r.diagnosis
    assert ("It has an extra leading axis of size 8: if your inputs hold a batch of 8 "
            "examples, sum the per-example gradients over that axis") in r.message
    assert "if not, a broadcast made it" in r.message


def test_shape_mismatch_extra_axis_of_one_is_not_called_a_batch():
    """``xp.matmul(delta, U)[None, :]`` in a function without a batch: drop the axis (it said
    "sum the per-example gradients over the batch")."""
    v = np.ones(3)
    r = check_gradient(lambda u: float(np.sum(u)), v, np.ones((1, 3)), name="center_vec")
    assert not r.passed and "(1, 3)" in r.diagnosis
    assert ("It has an extra leading axis of size 1: drop it (a [None, :], reshape or "
            "keepdims=True too many?)") in r.message
    assert "batch" not in r.message


@pytest.mark.parametrize(
    ("f", "needle"),
    [
        (lambda u: float("nan"), "nan"),
        (lambda u: np.sum(u) * np.ones(2), "not a scalar"),
        (lambda u: np.float32(np.sum(u)), "float32"),
        (lambda u: float(np.log(u[0])) if u[0] > 0.5 else float(np.log(0.0 * u[0])), "NaN or inf"),
    ],
    ids=["nan-loss", "vector-loss", "float32-loss", "unstable"],
)
def test_bad_losses_give_failed_results(f, needle):
    v = np.array([0.5 + 1e-6, 2.0])
    with np.errstate(all="ignore"):
        r = check_gradient(f, v, np.array([1.0, 0.0]))
    assert isinstance(r, GradCheckResult) and not r.passed
    assert needle in r.message
    json.dumps(r.to_dict(), allow_nan=False)


# -- x is never left modified -----------------------------------------------------------------
@pytest.mark.parametrize("size", [10, 5000])
def test_x_restored_even_when_f_raises(size):
    v = np.random.default_rng(9).standard_normal(size)
    v0 = v.copy()
    calls = {"n": 0}
    fail_at = 4 if size == 10 else 2 + 2 * 30 + 1  # sampled: fail inside a direction

    def f(u: np.ndarray) -> float:
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise RuntimeError("student code crashed")
        return float(np.sum(u**2))

    with pytest.raises(RuntimeError, match="student code crashed"):
        check_gradient(f, v, 2 * v)
    np.testing.assert_array_equal(v, v0)


def test_closure_over_x_works_and_float32_is_never_touched():
    v = np.random.default_rng(10).standard_normal(6)
    r = check_gradient(lambda _: float(np.sum(v**2)), v, 2 * v)  # f ignores its argument
    assert r.passed
    v32 = v.astype(np.float32)
    r32 = check_gradient(lambda u: float(np.sum(u.astype(np.float64) ** 2)), v32, 2 * v32)
    assert r32.passed and "float32" in r32.notes[0]
    np.testing.assert_array_equal(v32, v.astype(np.float32))


@pytest.mark.parametrize("size", [1_000, 1_000_000])
def test_sampled_cost_does_not_grow_with_size(size):
    v = np.random.default_rng(11).standard_normal(size)
    calls = {"n": 0}

    def f(u: np.ndarray) -> float:  # cheap on purpose: the test counts calls, not time
        calls["n"] += 1
        return float(u[:100] @ u[:100])

    grad = np.zeros_like(v)
    grad[:100] = 2 * v[:100]
    r = check_gradient(f, v, grad, max_full=100)
    assert r.passed and r.mode == "sampled"
    assert calls["n"] == r.n_evaluations == N_SAMPLED_EVALS


# -- several parameters, numerical_gradient, diagnose ------------------------------------------
def test_check_gradients_dict_perturbs_one_at_a_time():
    rng = np.random.default_rng(12)
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    params = {"W": rng.standard_normal((5, 3)), "b": rng.standard_normal(3), "y": y}
    before = {k: v.copy() for k, v in params.items()}

    def f(p: dict[str, np.ndarray]) -> float:
        return softmax_ce(np.vstack([p["W"], p["b"]]), np.hstack([x, np.ones((6, 1))]), p["y"])[0]

    full = softmax_ce(np.vstack([params["W"], params["b"]]), np.hstack([x, np.ones((6, 1))]), y)[1]
    grads = {"W": full[:5], "b": full[5]}
    results = check_gradients(f, params, grads)
    assert [r.name for r in results] == ["W", "b"] and all(r.passed for r in results)
    bad = check_gradients(f, params, {"W": grads["W"], "b": 2 * grads["b"]})
    assert bad[0].passed and not bad[1].passed and "twice" in bad[1].diagnosis
    missing = check_gradients(f, params, {"W": grads["W"]})
    assert not missing[1].passed and "no gradient" in missing[1].message
    for k, v in params.items():
        np.testing.assert_array_equal(v, before[k])


def test_numerical_gradient_full_and_indexed():
    v = np.random.default_rng(13).standard_normal((3, 4))
    f = lambda u: float(np.sum(u**3))  # noqa: E731
    full = numerical_gradient(f, v)
    np.testing.assert_allclose(full, 3 * v**2, rtol=1e-7, atol=1e-8)
    picked = numerical_gradient(f, v, indices=[0, 5, 11])
    np.testing.assert_allclose(picked, (3 * v**2).reshape(-1)[[0, 5, 11]], rtol=1e-8)


def test_diagnose_directly_full_and_sampled():
    rng = np.random.default_rng(14)
    true = rng.standard_normal((6, 6))
    assert diagnose(true, true) is None
    assert diagnose(true.T, true) == "your gradient equals the true one transposed"
    idx = np.array([1, 8, 20, 33])
    assert "transposed" in diagnose(true.T, true.reshape(-1)[idx], sampled_index=idx)
    assert "wrong sign" in diagnose(-true, true.reshape(-1)[idx], sampled_index=idx)
    assert "transposed shape" in diagnose(np.ones((2, 3)), np.arange(6.0).reshape(3, 2))
    assert "equals the true one transposed" in diagnose(true[:2, :3], true[:2, :3].T)
    assert relative_error(0.0, 0.0) == 0.0 and relative_error(1.0, -1.0) == 2.0


# -- modules ---------------------------------------------------------------------------------
@pytest.fixture
def numpy64():
    from nlpdojo.selection import load_backend

    return load_backend("numpy", dtype="float64")


def test_check_module_reference_linear_passes(numpy64):
    from nlpdojo_solutions.library.layers import Linear

    layer = Linear(numpy64, 4, 3, seed=0)
    layer.bias.data = layer.bias.data + 0.1
    w0 = layer.weight.data.copy()
    x = numpy64.rng(1).normal((5, 4))
    results = check_module(layer, (x,))
    assert [r.name for r in results] == ["weight", "bias", "input[0]"]
    assert all(r.passed for r in results), [r.message for r in results]
    np.testing.assert_array_equal(layer.weight.data, w0)
    assert not layer.weight.grad.any()  # grads restored


def test_check_module_broken_linear_fails(numpy64):
    from nlpdojo_solutions.library.layers import Linear

    class BrokenLinear(Linear):
        def backward(self, grad_output, cache):  # transposed weight grad, averaged bias grad
            (x,) = cache
            self.weight.accumulate(grad_output.T @ x)  # (D_out, D_in): the transpose!
            self.bias.accumulate(grad_output.mean(axis=0))
            return grad_output @ self.weight.data.T

    x = numpy64.rng(1).normal((5, 4))
    by_name = {r.name: r for r in check_module(BrokenLinear(numpy64, 4, 4), (x,))}
    assert not by_name["weight"].passed and "transposed" in by_name["weight"].diagnosis
    assert "1/5 of the numerical one" in by_name["bias"].diagnosis
    assert by_name["input[0]"].passed


def test_a_wrong_shape_gradient_is_refused_naming_the_parameter(numpy64):
    from nlpdojo_solutions.library.layers import Linear

    class WrongShapeLinear(Linear):
        def backward(self, grad_output, cache):
            self.weight.accumulate(grad_output.T @ cache[0])  # (3, 4) into a (4, 3) parameter
            return grad_output @ self.weight.data.T

    x = numpy64.rng(1).normal((5, 4))
    with pytest.raises(ValueError, match=r"parameter weight: .*\(3, 4\).*\(4, 3\).*transposed"):
        check_module(WrongShapeLinear(numpy64, 4, 3), (x,))


def test_check_module_catches_a_backward_that_assigns_grad(numpy64):
    from nlpdojo_solutions.library.layers import Linear

    class AssigningLinear(Linear):
        def backward(self, grad_output, cache):
            self.weight.grad = cache[0].T @ grad_output  # correct values, but replaces the grad
            self.bias.accumulate(grad_output.sum(axis=0))
            return grad_output @ self.weight.data.T

    x = numpy64.rng(1).normal((5, 4))
    weight, bias, inp = check_module(AssigningLinear(numpy64, 4, 3), (x,))
    assert not weight.passed and "did not double weight.grad" in weight.message
    assert "accumulate" in weight.message
    assert bias.passed and inp.passed


def test_check_module_catches_a_cache_that_is_not_data(numpy64):
    from nlpdojo_solutions.library.layers import Linear

    class ClosureLinear(Linear):
        def forward(self, x):
            y, _ = super().forward(x)
            return y, {"x": x, "self": self}

        def backward(self, grad_output, cache):
            return super().backward(grad_output, (cache["x"],))

    x = numpy64.rng(1).normal((5, 4))
    results = check_module(ClosureLinear(numpy64, 4, 3), (x,))
    assert all(r.passed for r in results[:-1])
    assert results[-1].name == "cache" and not results[-1].passed
    assert "cache['self'] is a Module" in results[-1].message


def test_check_module_refuses_a_loss_returning_a_float(numpy64):
    from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy

    class FloatLoss(SoftmaxCrossEntropy):
        def forward(self, prediction, target):
            loss, cache = super().forward(prediction, target)
            return float(loss), cache

    scores, target = numpy64.rng(2).normal((6, 5)), numpy64.rng(3).integers(0, 5, (6,))
    (r,) = check_module(FloatLoss(numpy64), (scores, target))
    assert r.name == "output" and not r.passed and "0-d array" in r.message


def test_check_module_on_a_loss_with_integer_targets(numpy64):
    from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy

    scores = numpy64.rng(2).normal((6, 5))
    target = numpy64.rng(3).integers(0, 5, (6,))
    (r,) = check_module(SoftmaxCrossEntropy(numpy64), (scores, target))
    assert r.name == "input[0]" and r.passed, r.message


def test_results_are_json_safe(layer):
    r = check_gradient(layer_loss(layer), layer["w"], 2 * layer["grad"], name="W")
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["passed"] is False and isinstance(d["worst_index"], list)
    assert set(d) >= {"name", "mode", "n_checked", "analytic", "numerical", "abs_error",
                      "rel_error", "n_failed", "diagnosis", "message"}


# -- a property test -------------------------------------------------------------------------
@st.composite
def quadratic_forms(draw):
    n = draw(st.integers(1, 6))
    elems = st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False)
    return (draw(arrays(np.float64, (n, n), elements=elems)),
            draw(arrays(np.float64, n, elements=elems)),
            draw(arrays(np.float64, n, elements=elems)))


@settings(max_examples=60, deadline=None)
@given(quadratic_forms())
def test_property_quadratic_forms_pass(form):
    a, b, x = form
    r = check_gradient(lambda v: float(0.5 * v @ a @ v + b @ v), x, 0.5 * (a + a.T) @ x + b)
    assert r.passed, r.message


@settings(max_examples=40, deadline=None)
@given(quadratic_forms(), st.sampled_from([-1.0, 2.0, 0.5]))
def test_property_scaled_quadratic_gradients_are_diagnosed(form, c):
    a, b, x = form
    g = 0.5 * (a + a.T) @ x + b
    assume(np.abs(g).max() > 1e-3)
    r = check_gradient(lambda v: float(0.5 * v @ a @ v + b @ v), x, c * g)
    assert not r.passed
    expected = {-1.0: "wrong sign", 2.0: "twice", 0.5: "half"}[c]
    assert expected in r.diagnosis, r.message


# -- the autograd oracle ---------------------------------------------------------------------
@pytest.mark.torch
def test_autograd_oracle_agrees_with_numerical_gradient():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(15)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 5, 8)
    w = rng.standard_normal((6, 5))
    xt, yt = torch.tensor(x), torch.tensor(y)

    def f_torch(wt):
        return torch.nn.functional.cross_entropy(xt @ wt, yt)

    auto = autograd_gradient(f_torch, w)
    num = numerical_gradient(lambda v: softmax_ce(v, x, y)[0], w)
    assert auto.dtype == np.float64
    assert compare_gradients(num, auto, name="W").passed
    np.testing.assert_allclose(auto, softmax_ce(w, x, y)[1], rtol=1e-10, atol=1e-12)
    r = compare_gradients(softmax_ce(w[:5], x[:, :5], y)[1].T, auto[:5], name="W")
    assert not r.passed


@pytest.mark.torch
def test_autograd_oracle_diagnoses_against_student_gradient():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(16).standard_normal((4, 4))
    true = autograd_gradient(lambda t: torch.sum(torch.tanh(t) ** 2), a)
    r = compare_gradients(true.T, true, name="W")
    assert not r.passed and "transposed" in r.diagnosis
    with pytest.raises(ValueError, match="scalar"):
        autograd_gradient(lambda t: t * 2, a)


@pytest.mark.torch
def test_check_module_on_torch_backend():
    pytest.importorskip("torch")
    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.library.layers import Linear

    backend = load_backend("torch", dtype="float64")
    layer = Linear(backend, 4, 3, seed=0)
    x = backend.rng(1).normal((5, 4))
    assert all(r.passed for r in check_module(layer, (x,)))


@pytest.mark.torch
def test_check_module_on_a_loss_on_torch():
    pytest.importorskip("torch")
    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy

    backend = load_backend("torch")  # float32: checked on a float64 copy
    scores, target = backend.rng(2).normal((6, 5)), backend.rng(3).integers(0, 5, (6,))
    (r,) = check_module(SoftmaxCrossEntropy(backend), (scores, target))
    assert r.name == "input[0]" and r.passed, r.message


def test_autograd_oracle_without_torch_says_how_to_install(monkeypatch):
    import sys

    from nlpdojo.errors import BackendUnavailableError

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(BackendUnavailableError, match="pip install"):
        autograd_gradient(lambda t: t.sum(), np.ones(3))


def test_check_module_runs_in_float64_even_on_a_float32_backend():
    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.library.layers import Linear

    backend = load_backend("numpy", dtype="float32")
    layer = Linear(backend, 4, 3, seed=0)
    results = check_module(layer, (backend.rng(1).normal((5, 4)),))
    assert all(r.passed for r in results)
    assert layer.weight.data.dtype == np.float32  # parameters handed back as they were


# -- gather in the child, judge in the grader -------------------------------------------------
def _through_the_wire(evidence: dict) -> dict:
    """What the autograder's worker does: arrays through .npz, scalars through JSON."""
    import io

    arrays = {k: v for k, v in evidence.items() if isinstance(v, np.ndarray)}
    scalars = {k: v for k, v in evidence.items() if k not in arrays}
    assert all(isinstance(v, (bool, int, float, str)) or v is None for v in scalars.values())
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    with np.load(buf) as loaded:
        back = {k: loaded[k] for k in loaded.files}
    return {**back, **json.loads(json.dumps(scalars, allow_nan=False))}


@pytest.mark.parametrize(
    "plant",
    [lambda g: g, lambda g: g.T.copy(), lambda g: 2 * g, lambda g: np.full_like(g, np.nan),
     lambda g: g[:50], lambda g: None],
    ids=["correct", "transposed", "x2", "nan", "shape", "none"],
)
def test_gather_then_judge_equals_check_gradient(layer, plant):
    f, w, g = layer_loss(layer), layer["w"], layer["grad"]
    evidence = gather_evidence(f, w, plant(g), seed=3)
    judged = judge_evidence("W", _through_the_wire(evidence))
    direct = check_gradient(f, w, plant(g), name="W", seed=3)
    assert judged.to_dict() == direct.to_dict()


def test_judge_never_calls_f_and_rebuilds_the_plan(layer):
    evidence = gather_evidence(layer_loss(layer), layer["w"], layer["grad"])
    assert judge_evidence("W", evidence).passed
    tampered = {**evidence, "indices": evidence["indices"][::-1].copy()}
    r = judge_evidence("W", tampered)
    assert not r.passed and "internal" in r.message


def test_gradient_of_transposed_shape_that_is_wrong_anyway():
    rng = np.random.default_rng(17)
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((3, 4))
    r = check_gradient(lambda v: float(np.sum(x @ v)), w, np.ones((4, 3)), name="W")
    assert not r.passed and r.diagnosis.endswith("the transposed shape")


def test_a_gradient_sent_where_the_true_one_is_zero_is_named_as_a_missed_mask():
    """A max's gradient given to every position: wrong exactly where the true gradient is 0,
    right where the max was taken; no word of repeated rows."""
    x = np.random.default_rng(3).standard_normal((4, 5, 3))  # (B, T, F)

    def f(v):
        return float(np.sum(v.max(axis=1) * np.arange(1.0, 4.0)))

    right = (x == x.max(axis=1, keepdims=True)) * np.arange(1.0, 4.0)
    everywhere = np.broadcast_to(np.arange(1.0, 4.0), x.shape).copy()
    assert check_gradient(f, x, right, name="h").passed
    r = check_gradient(f, x, everywhere, name="h")
    assert not r.passed
    assert r.diagnosis == "your gradient is not 0 at 48 entries where the true one is 0, and " \
                          "right at the others", r.message
    assert "mask missed in backward" in r.hint and "scatter-add" not in r.hint


def test_rows_of_a_batch_are_not_told_about_repeated_embedding_rows():
    """The first axis of a 3-D gradient is the batch's examples: the rows hint names what
    examples share (padding), not scatter-add."""
    x = np.random.default_rng(4).standard_normal((4, 3, 2))
    right = 2 * x
    wrong = right.copy()
    wrong[1] *= 3.0
    r = check_gradient(lambda v: float(np.sum(v ** 2)), x, wrong, name="h")
    assert not r.passed and r.diagnosis.startswith("row 1 is wrong; the others are right")
    assert "padding" in r.hint and "scatter-add" not in r.hint


def test_wrong_entries_of_a_vector_name_its_blocks_not_repeated_words():
    """A bias of a gated cell whose gates are swapped: the wrong entries are whole gate blocks
    (found by a student: an LSTM's i and f swapped was told about words occurring twice)."""
    x = np.random.default_rng(5).standard_normal(20)  # a (4H,) bias, H = 5
    wrong = 2 * x
    wrong[:10] = 2 * x[np.r_[5:10, 0:5]]  # blocks 1 and 2 (i, f) swapped
    r = check_gradient(lambda v: float(np.sum(v ** 2)), x, wrong, name="bias")
    assert not r.passed
    assert "blocks 1 and 2 of 4 equal blocks of 5" in r.diagnosis, r.diagnosis
    assert "gates" in r.hint and "scatter-add" not in r.hint and "twice" not in r.hint
    one = 2 * x
    one[3] = 0.0
    r = check_gradient(lambda v: float(np.sum(v ** 2)), x, one, name="bias")
    assert r.diagnosis.startswith("entry 3 is wrong") and "blocks" not in r.diagnosis


def test_joined_messages_say_a_tolerance_once_and_each_other_one_where_it_changes():
    from nlpdojo.gradcheck.result import joined_messages

    x = np.linspace(-1.0, 1.0, 6)
    wrong = [check_gradient(lambda v: float(np.sum(v ** 3)), x.copy(), 2 * x, name=n)
             for n in ("a", "b")]
    looser = check_gradient(lambda v: float(np.sum(v ** 3)), x.copy(), 2 * x, name="c",
                            atol=1e-3)
    text = joined_messages([*wrong, looser, wrong[0]])
    assert text.count("a check passes when relative error < 1e-05 or absolute error < 1e-08") \
        == 1, text
    assert "absolute error < 0.001" in text  # another tolerance: said where it applies
    assert text.count("dL/da:") == 1 and "dL/db:" in text and "dL/dc:" in text
    assert text.index("dL/da:") < text.index("1e-08") < text.index("dL/db:")  # first mention


def test_joined_messages_give_the_first_in_full_and_name_the_others():
    from nlpdojo.gradcheck.result import joined_messages

    x = np.linspace(-1.0, 1.0, 6)
    results = [check_gradient(lambda v: float(np.sum(v ** 3)), x.copy(), 2 * x, name=n)
               for n in ("a", "b", "c", "d")]
    text = joined_messages(results, most=2)
    assert "dL/da:" in text and "dL/db:" in text and "dL/dc:" not in text
    assert text.splitlines()[-1] == "… and 2 more wrong too: dL/dc, dL/dd."
    assert joined_messages(results, most=4) == joined_messages(results)  # nothing left over


def test_a_step_across_a_kink_is_differenced_again_at_a_tenth_and_a_wrong_gradient_is_not():
    """Along random directions only, ±h can cross a ReLU's kink: the central difference is then
    not the derivative and a right gradient fails; gathered again at h / 10 it agrees. A wrong
    gradient disagrees at any step: its evidence stays the first, and fails."""
    from nlpdojo.gradcheck import confirmed_at_a_finer_step, gather_evidence, judge_evidence

    x = np.array([3e-6, 1.0, -2.0, 0.5])  # the first entry sits 3e-6 from the kink at 0

    def f(v):
        return float(np.sum(3.0 * np.maximum(v, 0.0) + 0.1 * v))

    right = 3.0 * (x > 0) + 0.1
    plan = {"max_full": 0, "n_samples": 0, "n_directions": 4}
    seed = next(s for s in range(50) if not judge_evidence(
        "x", gather_evidence(f, x.copy(), right, seed=s, **plan)).passed)
    first = gather_evidence(f, x.copy(), right, seed=seed, **plan)
    confirmed = confirmed_at_a_finer_step(f, x.copy(), right, first, "x", **plan)
    assert confirmed["h"] == pytest.approx(first["h"] / 10)
    result = judge_evidence("x", confirmed)
    assert result.passed and any("crossed a kink" in n for n in result.notes)
    assert confirmed["n_evaluations"] > first["n_evaluations"]

    wrong = right * 1.01
    first = gather_evidence(f, x.copy(), wrong, seed=seed, **plan)
    kept = confirmed_at_a_finer_step(f, x.copy(), wrong, first, "x", **plan)
    assert kept is first and not judge_evidence("x", kept).passed
    # evidence that passes is returned as it is, without a second gathering
    smooth = gather_evidence(f, np.array([1.0, 2.0]), np.array([3.1, 3.1]), seed=0, **plan)
    assert confirmed_at_a_finer_step(f, np.array([1.0, 2.0]), np.array([3.1, 3.1]), smooth,
                                     "x", **plan) is smooth
