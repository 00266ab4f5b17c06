"""Parity of the course library with PyTorch (topic ``neural_networks``): every activation,
layer and loss against ``torch.nn.functional`` (forward and every gradient, float64, identical
inputs), every optimizer against ``torch.optim`` over several steps with its state, on every
device; CUDA is skipped cleanly where there is none."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.module import Parameter
from nlpdojo.selection import load_backend
from nlpdojo_solutions.library import activations, init, layers, losses, optim, regularization

torch = pytest.importorskip("torch")
F = torch.nn.functional

DEVICES = [("numpy", "cpu"), ("torch", "cpu"),
           pytest.param(("torch", "cuda"), marks=[pytest.mark.cuda, pytest.mark.skipif(
               not torch.cuda.is_available(), reason="no CUDA device")])]


@pytest.fixture(params=DEVICES, ids=["numpy-cpu", "torch-cpu", "torch-cuda"])
def backend(request):
    name, device = request.param
    return load_backend(name, device, "float64")


def _t(x: np.ndarray, grad: bool = False):
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _close(actual, expected, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    np.testing.assert_allclose(actual, expected.detach().numpy() if hasattr(expected, "detach")
                               else expected, rtol=rtol, atol=atol)


def _layer_vs_torch(backend, layer, torch_fn, x: np.ndarray, params: dict[str, np.ndarray],
                    *, integer: bool = False) -> None:
    """Forward, dL/dx and every dL/dparam of ``layer`` against torch autograd of ``torch_fn``,
    with L = sum(out * G) for a random G."""
    named = dict(layer.named_parameters())
    for name, value in params.items():
        named[name].data = backend.asarray(value)
    out, cache = layer.forward(backend.asarray(x) if not integer else
                               backend.asarray(x, dtype=backend.xp.int64))
    g = np.random.default_rng(1).standard_normal(_np(backend, out).shape)
    grad_x = layer.backward(backend.asarray(g), cache)
    tparams = {n: _t(v, True) for n, v in params.items()}
    tx = torch.as_tensor(x) if integer else _t(x, True)
    tout = torch_fn(tparams, tx)
    (tout * _t(g)).sum().backward()
    _close(_np(backend, out), tout)
    if not integer:
        _close(_np(backend, grad_x), tx.grad)
    else:
        assert grad_x is None
    for n, tp in tparams.items():
        _close(_np(backend, named[n].grad), tp.grad)


ACTIVATIONS = [
    (activations.Sigmoid, {}, lambda x: torch.sigmoid(x)),
    (activations.Tanh, {}, lambda x: torch.tanh(x)),
    (activations.HardTanh, {}, lambda x: F.hardtanh(x)),
    (activations.SoftSign, {}, lambda x: F.softsign(x)),
    (activations.ReLU, {}, lambda x: F.relu(x)),
    (activations.LeakyReLU, {}, lambda x: F.leaky_relu(x)),
    (activations.LeakyReLU, {"negative_slope": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
]


@pytest.mark.parametrize("cls,kwargs,fn", ACTIVATIONS,
                         ids=[f"{c.__name__}{k or ''}" for c, k, _ in ACTIVATIONS])
def test_activation_matches_torch(backend, cls, kwargs, fn):
    x = 2.0 * np.random.default_rng(0).standard_normal((6, 7))
    x[0, :3] = [-1.0, 0.0, 1.0]  # the kinks: derivatives as torch defines them there
    x[1, :2] = [-800.0, 800.0]  # sigmoid must not overflow
    _layer_vs_torch(backend, cls(backend, **kwargs), lambda p, t: fn(t), x, {})


def test_linear_matches_torch(backend):
    rng = np.random.default_rng(0)
    params = {"weight": rng.standard_normal((4, 3)), "bias": rng.standard_normal(3)}
    _layer_vs_torch(backend, layers.Linear(backend, 4, 3),
                    lambda p, x: F.linear(x, p["weight"].T, p["bias"]),
                    rng.standard_normal((5, 4)), params)


def test_embedding_matches_torch_and_accumulates_repeats(backend):
    rng = np.random.default_rng(0)
    ids = np.array([[1, 4, 1], [0, 4, 4]])
    params = {"weight": rng.standard_normal((6, 3))}
    _layer_vs_torch(backend, layers.Embedding(backend, 6, 3),
                    lambda p, i: F.embedding(i, p["weight"]), ids, params, integer=True)


def test_dropout_is_inverted_and_identity_in_eval(backend):
    x = np.ones((300, 100))
    layer = layers.Dropout(backend, 0.3, seed=5)
    out, cache = layer.forward(backend.asarray(x))
    y = _np(backend, out)
    assert abs(np.mean(y == 0) - 0.3) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / 0.7)
    g = _np(backend, layer.backward(backend.asarray(x), cache))
    np.testing.assert_array_equal(g, y)  # the same mask, the same scale
    layer.eval()
    out, cache = layer.forward(backend.asarray(x))
    np.testing.assert_array_equal(_np(backend, out), x)
    # torch's dropout has the same law: the mean is kept, a fraction p is zeroed
    t = F.dropout(_t(x), 0.3, training=True)
    assert abs(float((t == 0).double().mean()) - 0.3) < 0.01


def test_dropout_masks_are_the_same_on_every_backend(backend):
    x = np.random.default_rng(0).standard_normal((5, 4))
    ref = layers.Dropout(load_backend("numpy", "cpu", "float64"), 0.5, seed=2)
    mine = layers.Dropout(backend, 0.5, seed=2)
    for _ in range(2):
        np.testing.assert_array_equal(_np(backend, mine.forward(backend.asarray(x))[0]),
                                      ref.forward(x)[0])


def test_xavier_uniform_statistics(backend):
    w = _np(backend, init.xavier_uniform(backend, 400, 200, seed=1))
    bound = np.sqrt(6 / 600)
    assert w.shape == (400, 200) and np.abs(w).max() <= bound
    assert abs(w.var() - bound ** 2 / 3) < 0.03 * bound ** 2 / 3
    t = torch.empty(200, 400, dtype=torch.float64)  # torch's (out, in) layout, same law
    torch.nn.init.xavier_uniform_(t)
    assert abs(float(t.var()) - w.var()) < 0.05 * w.var()


def _loss_vs_torch(backend, loss, torch_fn, scores: np.ndarray, target: np.ndarray) -> None:
    value, cache = loss.forward(backend.asarray(scores),
                                backend.asarray(target, dtype=backend.xp.int64))
    assert tuple(value.shape) == ()
    grad = loss.backward(0.7, cache)
    ts = _t(scores, True)
    tv = torch_fn(ts, torch.as_tensor(target))
    (0.7 * tv).backward()
    _close(_np(backend, value), tv)
    _close(_np(backend, grad), ts.grad)


def test_softmax_cross_entropy_matches_torch(backend):
    rng = np.random.default_rng(0)
    scores = 3 * rng.standard_normal((8, 5))
    scores[0] += 1000.0
    _loss_vs_torch(backend, losses.SoftmaxCrossEntropy(backend), F.cross_entropy, scores,
                   rng.integers(0, 5, 8))


@pytest.mark.parametrize("k", [2, 4])
def test_max_margin_matches_torch(backend, k):
    """torch's multi_margin_loss also divides by the number of candidates."""
    rng = np.random.default_rng(k)
    _loss_vs_torch(backend, losses.MaxMargin(backend),
                   lambda s, t: F.multi_margin_loss(s, t, margin=1.0) * s.shape[1],
                   rng.standard_normal((9, k)), rng.integers(0, k, 9))


def test_l2_penalty_matches_torch_weight_matrices_only(backend):
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4),
              "e": rng.standard_normal((5, 2))}
    penalty, grads = regularization.l2_penalty({n: backend.asarray(v) for n, v in
                                                params.items()}, 0.1)
    t = {n: _t(v, True) for n, v in params.items()}
    tp = 0.1 * (t["w"].pow(2).sum() + t["e"].pow(2).sum())
    tp.backward()
    _close(_np(backend, penalty), tp)
    for n in ("w", "e"):
        _close(_np(backend, grads[n]), t[n].grad)
    np.testing.assert_array_equal(_np(backend, grads["b"]), 0.0)


OPTIMIZERS = [
    (optim.SGD, {"lr": 0.1}, "SGD", {"lr": 0.1}),
    (optim.Momentum, {"lr": 0.1, "momentum": 0.9}, "SGD", {"lr": 0.1, "momentum": 0.9}),
    (optim.Adagrad, {"lr": 0.1}, "Adagrad", {"lr": 0.1, "eps": 1e-10}),
    (optim.RMSProp, {"lr": 0.01, "alpha": 0.9}, "RMSprop", {"lr": 0.01, "alpha": 0.9}),
    (optim.Adam, {"lr": 0.01}, "Adam", {"lr": 0.01}),
    (optim.Adam, {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-6}, "Adam",
     {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-6}),
]


@pytest.mark.parametrize("cls,kwargs,name,settings", OPTIMIZERS,
                         ids=[f"{c.__name__}-{i}" for i, (c, *_) in enumerate(OPTIMIZERS)])
def test_optimizer_matches_torch_and_resumes_from_its_state(backend, cls, kwargs, name,
                                                            settings):
    rng = np.random.default_rng(0)
    start = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    grads = [[rng.standard_normal(p.shape) for p in start] for _ in range(8)]

    def run(opt, params, steps):
        path = []
        for gs in steps:
            for p, g in zip(params, gs, strict=True):
                p.zero_grad()
                p.grad = p.grad + backend.asarray(g)
            opt.step()
            path.append([_np(backend, p.data) for p in params])
        return path

    params = [Parameter(backend.asarray(p)) for p in start]
    opt = cls(params, **kwargs)
    mine = run(opt, params, grads[:4])
    # a second optimizer loaded from the first's state_dict continues the same trajectory
    state = opt.state_dict()
    mine += run(opt, params, grads[4:])
    copies = [Parameter(backend.asarray(p)) for p in mine[3]]
    resumed = cls(copies, **kwargs)
    resumed.load_state_dict(state)
    for a, b in zip(run(resumed, copies, grads[4:]), mine[4:], strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)

    tparams = [_t(p, True) for p in start]
    topt = getattr(torch.optim, name)(tparams, **settings)
    for k, gs in enumerate(grads):
        for p, g in zip(tparams, gs, strict=True):
            p.grad = _t(g)
        topt.step()
        for x, tp in zip(mine[k], tparams, strict=True):
            _close(x, tp, rtol=1e-9)
