"""The module contract (nlpdojo.module): ``forward -> (output, cache)``, ``backward(grad, cache)``.

A layer applied several times before backward (over time, or shared between branches) gets the
exact gradient, checked against torch autograd on identical float64 inputs; parameters are found
in every container and listed once when tied (and stepped once, as torch.optim.SGD does); a loss
is a 0-d array; a parameter keeps its dtype and shape; caches are plain data."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.module import Module, Parameter, cache_problem
from nlpdojo.selection import load_backend
from nlpdojo_solutions.library.layers import Linear
from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy
from nlpdojo_solutions.library.optim import SGD, Momentum

TORCH = pytest.param("torch", marks=pytest.mark.torch)


def backend_for(name: str, dtype: str = "float64"):
    if name == "torch":
        pytest.importorskip("torch")
    return load_backend(name, dtype=dtype)


def host(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def torch_leaf(a):
    import torch

    return torch.tensor(host(a), dtype=torch.float64, requires_grad=True)


# -- one layer, several calls: exact gradients ----------------------------------------------------

@pytest.mark.parametrize("name", ["numpy", TORCH])
def test_a_layer_applied_three_times_gets_the_unrolled_gradient(name):
    """h1 = L(x), h2 = L(h1), h3 = L(h2); three caches, backward in reverse order (BPTT)."""
    torch = pytest.importorskip("torch")
    backend = backend_for(name)
    layer = Linear(backend, 4, 4, seed=3)
    layer.bias.data = backend.asarray(np.linspace(-0.5, 0.5, 4))
    gen = np.random.default_rng(0)
    x_np, r_np = gen.standard_normal((5, 4)), gen.standard_normal((5, 4))  # (N, D), dL/dh3

    h, caches = backend.asarray(x_np), []
    for _ in range(3):
        h, cache = layer(h)  # (N, D)
        caches.append(cache)
    grad = backend.asarray(r_np)
    for cache in reversed(caches):
        grad = layer.backward(grad, cache)  # dL/d(input of this call), (N, D)

    x, w, b = torch_leaf(x_np), torch_leaf(layer.weight.data), torch_leaf(layer.bias.data)
    t = x
    for _ in range(3):
        t = t @ w + b
    torch.sum(t * torch.tensor(r_np)).backward()
    np.testing.assert_allclose(host(h), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, theirs in ((grad, x.grad), (layer.weight.grad, w.grad), (layer.bias.grad, b.grad)):
        np.testing.assert_allclose(host(ours), theirs.numpy(), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("name", ["numpy", TORCH])
def test_a_layer_shared_by_two_branches_accumulates(name):
    """y = L(a) + L(b): both calls' parameter gradients are summed."""
    torch = pytest.importorskip("torch")
    backend = backend_for(name)
    layer = Linear(backend, 3, 2, seed=1)
    gen = np.random.default_rng(1)
    a_np, b_np, r_np = gen.standard_normal((4, 3)), gen.standard_normal((4, 3)), \
        gen.standard_normal((4, 2))
    ya, cache_a = layer(backend.asarray(a_np))  # (N, 2)
    yb, cache_b = layer(backend.asarray(b_np))  # (N, 2)
    r = backend.asarray(r_np)  # dL/dy, and so dL/dya = dL/dyb = r
    da, db = layer.backward(r, cache_a), layer.backward(r, cache_b)

    a, b = torch_leaf(a_np), torch_leaf(b_np)
    w, bias = torch_leaf(layer.weight.data), torch_leaf(layer.bias.data)
    torch.sum(((a @ w + bias) + (b @ w + bias)) * torch.tensor(r_np)).backward()
    for ours, theirs in ((da, a.grad), (db, b.grad), (layer.weight.grad, w.grad),
                         (layer.bias.grad, bias.grad)):
        np.testing.assert_allclose(host(ours), theirs.numpy(), rtol=1e-12, atol=1e-13)


def test_two_backward_calls_accumulate():
    backend = load_backend("numpy")
    layer = Linear(backend, 3, 2, seed=2)
    x = backend.rng(0).normal((4, 3))
    y, cache = layer(x)
    g = backend.rng(1).normal((4, 2))
    layer.backward(g, cache)
    once = (layer.weight.grad.copy(), layer.bias.grad.copy())
    layer.backward(g, cache)  # the cache can be used again: backward changes nothing in it
    np.testing.assert_array_equal(layer.weight.grad, 2 * once[0])
    np.testing.assert_array_equal(layer.bias.grad, 2 * once[1])
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


def test_forward_must_return_a_pair():
    class Bare(Module):
        def forward(self, x):
            return x * 2  # an array of length 2 would unpack silently: __call__ refuses

    with pytest.raises(TypeError, match=r"Bare.forward must return the pair \(output, cache\)"):
        Bare(load_backend())(np.ones((2, 3)))


# -- finding parameters -------------------------------------------------------------------------

class Containers(Module):
    def __init__(self, backend):
        super().__init__(backend)
        self.heads = {"tag": Linear(backend, 3, 2, seed=1), "ner": Linear(backend, 3, 4, seed=2)}
        self.blocks = [Linear(backend, 3, 3, seed=3),
                       (Parameter(np.ones(2), "gain"), {"shift": Parameter(np.zeros(2), "s")})]
        self.pair = (Parameter(np.ones(1), "a"), Parameter(np.ones(1), "b"))
        self.config = {"dropout": 0.1, "names": ["x", "y"]}  # not parameters: ignored


def test_parameters_in_dicts_lists_and_tuples_have_dotted_names():
    model = Containers(load_backend())
    assert [name for name, _ in model.named_parameters()] == [
        "heads.tag.weight", "heads.tag.bias", "heads.ner.weight", "heads.ner.bias",
        "blocks.0.weight", "blocks.0.bias", "blocks.1.0", "blocks.1.1.shift", "pair.0", "pair.1"]
    assert list(model.state_dict()) == [name for name, _ in model.named_parameters()]
    assert [type(m).__name__ for m in model.modules()] == ["Containers", "Linear", "Linear",
                                                           "Linear"]


class Tied(Module):
    """h = x W + b1; scores = h W + b2 (one (D, D) weight used twice, as tied embeddings are)."""

    def __init__(self, backend, d=4):
        super().__init__(backend)
        self.encoder = Linear(backend, d, d, seed=1)
        self.decoder = Linear(backend, d, d, seed=2)
        self.decoder.weight = self.encoder.weight  # tied
        self.layers = [self.encoder, self.decoder]  # the same modules again, by another name

    def forward(self, x):
        h, enc_cache = self.encoder(x)  # (N, D)
        y, dec_cache = self.decoder(h)  # (N, D)
        return y, (enc_cache, dec_cache)

    def backward(self, grad_output, cache):
        enc_cache, dec_cache = cache
        return self.encoder.backward(self.decoder.backward(grad_output, dec_cache), enc_cache)


def test_tied_parameters_are_listed_once_under_the_first_name():
    model = Tied(load_backend())
    assert [name for name, _ in model.named_parameters()] == [
        "encoder.weight", "encoder.bias", "decoder.bias"]
    assert len(list(model.modules())) == 3  # Tied, encoder, decoder: each once
    state = model.state_dict()
    model.load_state_dict(state)
    assert model.decoder.weight is model.encoder.weight  # loading does not untie


def test_the_optimizer_steps_a_parameter_once_however_often_it_is_given():
    p, q = Parameter(np.zeros(2), "p"), Parameter(np.zeros(3), "q")
    opt = SGD([p, q, p], lr=1.0)
    assert opt.params == [p, q]
    p.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(p.data, [-1.0, -1.0])  # once, not twice
    with pytest.raises(TypeError, match="optimizers take Parameters"):
        SGD([Linear(load_backend(), 2, 2)], lr=0.1)


@pytest.mark.torch
def test_a_tied_model_trains_like_torch_sgd():
    torch = pytest.importorskip("torch")
    backend = load_backend("numpy")
    model, loss_fn = Tied(backend), SoftmaxCrossEntropy(backend)
    opt = Momentum(model.parameters(), lr=0.2, momentum=0.9)
    gen = np.random.default_rng(4)
    x_np, y_np = gen.standard_normal((6, 4)), gen.integers(0, 4, 6)

    w, b1 = torch_leaf(model.encoder.weight.data), torch_leaf(model.encoder.bias.data)
    b2 = torch_leaf(model.decoder.bias.data + 0.0)
    t_opt = torch.optim.SGD([w, b1, b2], lr=0.2, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        scores, cache = model(x_np)
        loss, loss_cache = loss_fn(scores, y_np)
        model.backward(loss_fn.backward(1.0, loss_cache), cache)
        opt.step()

        t_opt.zero_grad()
        t_loss = torch.nn.functional.cross_entropy(
            (torch.tensor(x_np) @ w + b1) @ w + b2, torch.tensor(y_np))
        t_loss.backward()
        t_opt.step()
        assert float(loss) == pytest.approx(t_loss.item(), rel=1e-12)
    for ours, theirs in ((model.encoder.weight, w), (model.encoder.bias, b1),
                         (model.decoder.bias, b2)):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-12)


# -- losses are arrays ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["numpy", TORCH])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_loss_is_a_0d_array_on_the_device_with_the_predictions_dtype(name, dtype):
    backend = backend_for(name, dtype)
    scores = backend.rng(0).normal((5, 3))  # (N, C) in the backend's dtype
    target = backend.rng(1).integers(0, 3, (5,))
    loss, cache = SoftmaxCrossEntropy(backend)(scores, target)
    assert not isinstance(loss, float)  # np.float64 is a float: that would fail here too
    assert type(loss) is type(scores)
    assert tuple(loss.shape) == () and loss.dtype == scores.dtype
    assert str(getattr(loss, "device", "cpu")) == str(getattr(scores, "device", "cpu"))
    d_scores = SoftmaxCrossEntropy(backend).backward(1.0, cache)
    assert tuple(d_scores.shape) == (5, 3) and d_scores.dtype == scores.dtype
    d_twice = SoftmaxCrossEntropy(backend).backward(backend.asarray(2.0, dtype=scores.dtype),
                                                    cache)  # a 0-d grad_output
    np.testing.assert_allclose(host(d_twice), 2 * host(d_scores), rtol=1e-6)


# -- parameters keep dtype, shape and device ------------------------------------------------------

@pytest.mark.parametrize("name", ["numpy", TORCH])
def test_float32_parameters_stay_float32_under_float64_gradients(name):
    backend = backend_for(name, "float32")
    layer = Linear(backend, 3, 2)
    dtype = layer.weight.data.dtype
    layer.weight.grad = np.ones((3, 2))  # float64, and NumPy into a torch parameter too
    layer.bias.accumulate(np.ones(2))
    Momentum(layer.parameters(), lr=0.1, momentum=0.5).step()
    for p in layer.parameters():
        assert p.data.dtype == dtype and p.grad.dtype == dtype, p
    layer.weight.data = backend.asarray(np.zeros((3, 2)), dtype=backend.float64)
    assert layer.weight.data.dtype == dtype


@pytest.mark.parametrize("name", ["numpy", TORCH])
def test_a_float64_input_to_a_float32_model_leaves_the_parameters_float32(name):
    """Documented in nlpdojo.module: xp promotes the computation, parameters stay float32."""
    backend = backend_for(name, "float32")
    layer = Linear(backend, 3, 2)
    y, cache = layer(backend.asarray(np.ones((4, 3)), dtype=backend.float64))
    assert y.dtype == backend.float64
    d_x = layer.backward(backend.asarray(np.ones((4, 2)), dtype=backend.float64), cache)
    assert d_x.dtype == backend.float64
    assert layer.weight.grad.dtype == backend.float32 == layer.bias.grad.dtype


def test_a_wrong_shape_is_refused_naming_the_parameter_and_both_shapes():
    layer = Linear(load_backend(), 3, 2)
    before = layer.weight.data.copy()
    with pytest.raises(ValueError, match=r"parameter weight: data of shape \(2, 3\) does not "
                                         r"match the parameter's shape \(3, 2\) \(the transposed"):
        layer.weight.data = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"parameter bias: gradient of shape \(4, 2\) .*\(2,\)"):
        layer.bias.accumulate(np.ones((4, 2)))  # no broadcasting: sum over the batch first
    with pytest.raises(ValueError, match=r"parameter bias: grad of shape \(\) "):
        layer.bias.grad = 0.0
    np.testing.assert_array_equal(layer.weight.data, before)
    assert not layer.bias.grad.any()


@pytest.mark.torch
def test_a_numpy_value_assigned_to_a_torch_parameter_becomes_a_tensor():
    torch = pytest.importorskip("torch")
    layer = Linear(load_backend("torch"), 3, 2)
    layer.weight.data = np.arange(6.0).reshape(3, 2)
    assert isinstance(layer.weight.data, torch.Tensor)
    assert layer.weight.data.dtype == torch.float32


# -- caches are plain data ------------------------------------------------------------------------

def _plain(value) -> bool:
    """An independent walk: only arrays, numbers, strings, None and containers of them."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return isinstance(value, np.ndarray) or type(value).__name__ == "Tensor"


@pytest.mark.parametrize("name", ["numpy", TORCH])
def test_linear_and_softmax_cross_entropy_caches_are_plain_data(name):
    backend = backend_for(name)
    layer, loss_fn = Linear(backend, 3, 2), SoftmaxCrossEntropy(backend)
    scores, cache = layer(backend.rng(0).normal((4, 3)))
    _, loss_cache = loss_fn(scores, backend.rng(1).integers(0, 2, (4,)))
    for c in (cache, loss_cache, {"steps": [cache, loss_cache], "t": 3, "note": None}):
        assert _plain(c) and cache_problem(c) is None


def test_cache_problem_names_what_is_not_data():
    layer = Linear(load_backend(), 2, 2)
    assert "cache[1] is a Parameter" in cache_problem((np.ones(2), layer.weight))
    assert "cache['f'] is a function" in cache_problem({"f": lambda: 0})
    assert "cache[0]['m'] is a Module" in cache_problem([{"m": layer}])


# -- reading and writing a parameter: p.data and p.grad, and the names newcomers try --------------

@pytest.mark.parametrize(("name", "meant"), [("value", "data"), ("val", "data"),
                                             ("weight", "data"), ("values", "data"),
                                             ("gradient", "grad"), ("dW", "grad")])
def test_a_wrong_name_on_a_parameter_says_data_and_grad(name, meant):
    """Issue 26: `p.value` was an AttributeError with no hint. Reading or assigning a common
    wrong name names what was meant, and p.data and p.grad."""
    p = Parameter(np.zeros((2, 3)), "W")
    with pytest.raises(AttributeError, match=rf"did you mean p\.{meant}\?") as read:
        getattr(p, name)
    message = str(read.value)
    assert f"Parameter has no attribute {name!r}" in message
    assert "p.data" in message and "p.grad" in message
    assert read.value.name == name and read.value.obj is p
    with pytest.raises(AttributeError, match=r"p\.data .* p\.grad"):
        setattr(p, name, np.ones((2, 3)))
    assert not hasattr(p, name)
    np.testing.assert_array_equal(p.data, np.zeros((2, 3)))  # nothing was assigned


def test_any_other_missing_name_names_data_and_grad_and_the_real_ones_work():
    p = Parameter(np.zeros(3), "b")
    with pytest.raises(AttributeError) as info:
        p.biases  # noqa: B018 - the attribute access is what is tested
    assert "did you mean" not in str(info.value) and "p.data" in str(info.value)
    with pytest.raises(AttributeError, match="__array_interface__"):
        p.__array_interface__  # noqa: B018 - protocols probed by libraries: a plain error
    p.data = np.ones(3)
    p.grad = np.full(3, 2.0)
    p.name = "bias"
    p.accumulate(np.ones(3))
    assert p.name == "bias" and p.data.tolist() == [1, 1, 1] and p.grad.tolist() == [3, 3, 3]
    p.replace(np.zeros(4))
    assert p.shape == (4,)
