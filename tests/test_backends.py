"""The backend contract on NumPy and PyTorch: reference layers written once give the same
numbers on both, scatter-add sums repeats, seeded streams repeat, the dtype policy holds, and
a missing library or device is an error that says what to do. Checkpoints round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.arrays import to_numpy
from nlpdojo.errors import BackendUnavailableError
from nlpdojo.module import Module, Parameter
from nlpdojo.selection import load_backend
from nlpdojo_solutions.library.layers import Linear
from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy
from nlpdojo_solutions.library.optim import Momentum

TORCH = pytest.param("torch", marks=pytest.mark.torch)
CUDA = pytest.param("cuda", marks=[pytest.mark.torch, pytest.mark.cuda])


def backend_for(name: str, dtype: str | None = None):
    """``numpy``, ``torch`` (CPU) or ``cuda``; skips when torch or CUDA is missing."""
    if name == "numpy":
        return load_backend("numpy", dtype=dtype)
    torch = pytest.importorskip("torch")
    if name == "cuda":
        if not torch.cuda.is_available():
            pytest.skip("no CUDA device here")
        return load_backend("torch", "cuda", dtype=dtype)
    return load_backend("torch", "cpu", dtype=dtype)


def host(x) -> np.ndarray:
    return to_numpy(x, copy=False)


# -- parity: one reference implementation, two backends ----------------------------------------

def _one_training_run(backend, init: dict | None, x_np, y_np, steps: int = 3):
    model = Linear(backend, 5, 3, seed=7)
    if init is not None:
        model.load_state_dict(init)
    loss_fn = SoftmaxCrossEntropy(backend)
    opt = Momentum(model.parameters(), lr=0.5, momentum=0.9)
    x, y = backend.asarray(x_np), backend.asarray(y_np)
    record = {}
    for step in range(steps):
        opt.zero_grad()
        scores, cache = model(x)
        loss, loss_cache = loss_fn(scores, y)
        d_scores = loss_fn.backward(1.0, loss_cache)
        d_x = model.backward(d_scores, cache)
        if step == 0:
            record.update(scores=host(scores), loss=host(loss), d_scores=host(d_scores),
                          d_x=host(d_x), d_w=host(model.weight.grad), d_b=host(model.bias.grad))
        opt.step()
    record.update({f"final_{k}": v for k, v in model.state_dict().items()})
    return model, record


@pytest.mark.parametrize("other", [TORCH, CUDA])
def test_reference_layers_agree_across_backends(other):
    gen = np.random.default_rng(0)
    x_np = gen.standard_normal((4, 5))  # (N, D_in)
    y_np = np.array([0, 2, 1, 2], dtype=np.int64)  # (N,)
    ref_model, ref = _one_training_run(backend_for("numpy"), None, x_np, y_np)
    init = Linear(backend_for("numpy"), 5, 3, seed=7).state_dict()  # torch's stream differs
    _, got = _one_training_run(backend_for(other, "float64"), init, x_np, y_np)
    assert set(got) == set(ref)
    for key in ref:
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-12, atol=1e-12, err_msg=key)
    assert not np.allclose(ref["final_weight"], init["weight"])  # training did move the weights


def test_numpy_backward_matches_torch_autograd():
    """The hand-written backward pass against a trusted oracle (design: torch as oracle)."""
    torch = pytest.importorskip("torch")
    backend = backend_for("numpy")
    gen = np.random.default_rng(3)
    x_np, y_np = gen.standard_normal((6, 5)), gen.integers(0, 3, 6)
    model, loss_fn = Linear(backend, 5, 3, seed=1), SoftmaxCrossEntropy(backend)
    scores, cache = model(x_np)
    loss, loss_cache = loss_fn(scores, y_np)
    d_x = model.backward(loss_fn.backward(1.0, loss_cache), cache)

    x = torch.tensor(x_np, requires_grad=True)
    w = torch.tensor(model.weight.data, requires_grad=True)
    b = torch.tensor(model.bias.data, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(x @ w + b, torch.tensor(y_np))
    t_loss.backward()
    assert float(loss) == pytest.approx(t_loss.item(), rel=1e-12)
    for ours, theirs in ((d_x, x.grad), (model.weight.grad, w.grad), (model.bias.grad, b.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-13)


# -- scatter-add --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["numpy", TORCH, CUDA])
@pytest.mark.parametrize("shape", [(6, 3), (6,)])
def test_scatter_add_sums_repeated_indices(name, shape):
    backend = backend_for(name, "float64")
    gen = np.random.default_rng(1)
    index = np.array([0, 2, 0, 5, 2, 2, 0], dtype=np.int64)  # (N,) with repeats
    values = gen.standard_normal((len(index), *shape[1:]))  # (N, D)
    start = gen.standard_normal(shape)  # (V, D)
    expected = start.copy()
    np.add.at(expected, index, values)

    target = backend.asarray(start.copy())
    out = backend.scatter_add(target, backend.asarray(index), backend.asarray(values))
    assert out is target  # in place
    np.testing.assert_allclose(host(target), expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", ["numpy", TORCH])
def test_scatter_add_with_no_indices_changes_nothing(name):
    backend = backend_for(name, "float64")
    target = backend.asarray(np.ones((3, 2)))
    backend.scatter_add(target, backend.asarray(np.zeros(0, dtype=np.int64)),
                        backend.asarray(np.zeros((0, 2))))
    np.testing.assert_array_equal(host(target), np.ones((3, 2)))


@pytest.mark.parametrize("name", ["numpy", TORCH, CUDA])
@pytest.mark.parametrize("batch", [0, 1, 9, 300])  # 300 x 4 > the numpy backend's dense cut-off
def test_scatter_add_weighted_matches_a_loop(name, batch):
    """``target[index[b, m]] += alpha * weights[b, m] * rows[b]``, repeats summed, in place."""
    backend = backend_for(name, "float64")
    gen = np.random.default_rng(2)
    V, M, D = 7, 4, 3
    index = gen.integers(0, V, (batch, M))  # (B, M) with repeats
    weights = gen.standard_normal((batch, M))  # (B, M)
    rows = gen.standard_normal((batch, D))  # (B, D)
    start = gen.standard_normal((V, D))
    expected = start.copy()
    for b in range(batch):
        for m in range(M):
            expected[index[b, m]] += -0.5 * weights[b, m] * rows[b]
    target = backend.asarray(start.copy())
    out = backend.scatter_add_weighted(target, backend.asarray(index), backend.asarray(weights),
                                       backend.asarray(rows), alpha=-0.5)
    assert out is target
    np.testing.assert_allclose(host(target), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["numpy", TORCH])
def test_scatter_add_casts_values_to_the_targets_dtype(name):
    """float64 gradients into float32 parameters: cast, as NumPy's in-place add does, on every
    backend (not an error on one only)."""
    backend = backend_for(name, "float32")
    target = backend.asarray(np.zeros((3, 2), dtype=np.float32))
    index = backend.asarray(np.array([1, 1]))
    backend.scatter_add(target, index, backend.asarray(np.ones((2, 2))))  # float64 values
    backend.scatter_add_weighted(target, backend.asarray(np.array([[0, 2]])),
                                 backend.asarray(np.ones((1, 2))), backend.asarray(np.ones((1, 2))))
    np.testing.assert_array_equal(host(target), [[1, 1], [2, 2], [1, 1]])
    assert str(host(target).dtype) == "float32"


@pytest.mark.torch
def test_the_torch_backends_vecdot_equals_array_api_compats():
    """Creating a torch backend puts ``torch.linalg.vecdot`` behind ``xp.vecdot`` (3-7x faster
    on the CPU): the same values, broadcasting, axis and errors as array_api_compat's."""
    torch = pytest.importorskip("torch")
    import array_api_compat.torch as atorch

    from nlpdojo_torch import backend as tb

    load_backend("torch", "cpu")
    assert atorch.vecdot is tb.vecdot
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(4, 5, 3, generator=gen, dtype=torch.float64)
    b = torch.randn(4, 1, 3, generator=gen, dtype=torch.float64)  # broadcast over axis 1
    for x, y, axis in [(a, b, -1), (a[:, 0], b[:, 0], -1), (a, a, 1), (a[0, 0], b[0, 0], 0)]:
        torch.testing.assert_close(atorch.vecdot(x, y, axis=axis),
                                   tb._compat_vecdot(x, y, axis=axis), rtol=1e-12, atol=1e-12)
    mixed = tb.vecdot(a, b.to(torch.float32))  # other dtypes: array_api_compat's own rules
    assert mixed.dtype == torch.float64
    with pytest.raises(ValueError, match="same size along the given axis"):
        atorch.vecdot(a, b, axis=1)


# -- seeded randomness ----------------------------------------------------------------------

def _draws(backend, seed):
    rng = backend.rng(seed)
    return [host(rng.normal((3, 4), std=2.0)), host(rng.uniform((5,), low=-1.0, high=3.0)),
            host(rng.integers(2, 9, (10,))), host(rng.permutation(7))]


@pytest.mark.parametrize("name", ["numpy", TORCH, CUDA])
def test_seeded_streams_repeat(name):
    backend = backend_for(name)
    first, again, other = _draws(backend, 42), _draws(backend, 42), _draws(backend, 43)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    normal, uniform, ints, perm = first
    assert normal.shape == (3, 4)
    assert normal.dtype == host(backend.asarray([0.0], dtype=backend.default_dtype)).dtype
    assert uniform.min() >= -1.0 and uniform.max() < 3.0
    assert ints.dtype == np.int64 and ints.min() >= 2 and ints.max() < 9
    assert perm.dtype == np.int64 and sorted(perm.tolist()) == list(range(7))


# -- dtype policy ---------------------------------------------------------------------------

def test_numpy_defaults_to_float64():
    backend = load_backend("numpy")
    assert backend.default_dtype == np.float64
    layer = Linear(backend, 2, 2)
    assert layer.weight.data.dtype == np.float64 and layer.bias.data.dtype == np.float64
    assert backend.rng(0).normal((2,)).dtype == np.float64


@pytest.mark.torch
def test_torch_defaults_to_float32():
    torch = pytest.importorskip("torch")
    backend = load_backend("torch")
    assert backend.default_dtype == torch.float32
    layer = Linear(backend, 2, 2)
    assert layer.weight.data.dtype == torch.float32 and layer.bias.data.dtype == torch.float32


@pytest.mark.parametrize("name,dtype", [("numpy", "float32"),
                                        pytest.param("torch", "float64", marks=pytest.mark.torch)])
def test_dtype_override(name, dtype, monkeypatch):
    backend = backend_for(name, dtype)
    assert backend.default_dtype == getattr(backend.xp, dtype)
    assert Linear(backend, 2, 2).weight.data.dtype == getattr(backend.xp, dtype)
    monkeypatch.setenv("NLPDOJO_DTYPE", dtype)  # the same through the environment
    assert load_backend(name).default_dtype == getattr(backend.xp, dtype)


def test_float64_property_is_available_for_gradient_checks():
    backend = load_backend("numpy", dtype="float32")
    assert backend.float64 == np.float64 and backend.float32 == np.float32


# -- what is missing says how to fix it --------------------------------------------------------

def test_torch_not_installed_gives_the_install_hint(monkeypatch):
    import nlpdojo_torch.plugin as torch_plugin

    monkeypatch.setattr(torch_plugin, "_installed", lambda: False)
    with pytest.raises(BackendUnavailableError) as info:
        load_backend("torch")
    message = str(info.value)
    assert "backend 'torch' is not available" in message
    assert "PyTorch is not installed" in message
    assert "pip install -c constraints.txt torch, " in message
    assert "nlpdojo[torch]" not in message and "-e '.[torch]'" not in message
    assert load_backend().name == "numpy"  # everything on NumPy still works


@pytest.mark.torch
def test_cuda_without_cuda_lists_the_devices():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(BackendUnavailableError) as info:
        load_backend("torch", "cuda")
    message = str(info.value)
    assert "device 'cuda' (from flag) is not available on backend 'torch'" in message
    assert "available here: cpu" in message


@pytest.mark.torch
def test_a_device_index_that_does_not_exist_is_refused():
    pytest.importorskip("torch")
    with pytest.raises(BackendUnavailableError, match=r"device 'cuda:99' .* available here: cpu"):
        load_backend("torch", "cuda:99")


def test_numpy_runs_on_cpu_only(monkeypatch):
    monkeypatch.setenv("NLPDOJO_DEVICE", "cuda")
    with pytest.raises(BackendUnavailableError,
                       match=r"device 'cuda' \(from env NLPDOJO_DEVICE\) .* backend 'numpy'; "
                             r"available here: cpu"):
        load_backend("numpy")


@pytest.mark.cuda
@pytest.mark.torch
def test_cuda_backend_describes_its_device():
    backend = backend_for("cuda")
    info = backend.describe()
    assert info["backend"] == "torch" and info["device"] == "cuda" and info["device_name"]


# -- module checkpoints -------------------------------------------------------------------------

class TwoLayer(Module):
    def __init__(self, backend):
        super().__init__(backend)
        self.layers = [Linear(backend, 3, 4, seed=1), Linear(backend, 4, 2, seed=2)]
        self.scale = Parameter(backend.asarray(np.ones(2)), "scale")


def test_state_dict_names_nested_parameters():
    model = TwoLayer(load_backend())
    assert list(model.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.1.weight",
                                        "layers.1.bias", "scale"]


@pytest.mark.parametrize("name", ["numpy", TORCH])
def test_state_dict_round_trip(name):
    backend = backend_for(name, "float64")
    source, target = TwoLayer(backend), TwoLayer(backend)
    target.layers[0].weight.data = target.layers[0].weight.data * 0 + 5
    state = source.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())  # host arrays
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    # neither side shares memory with the checkpoint
    state["scale"][:] = 7.0
    assert host(source.scale.data).tolist() == [1.0, 1.0]
    assert host(target.scale.data).tolist() == [1.0, 1.0]


def test_load_state_dict_copies_the_checkpoint():
    model = Linear(load_backend(), 2, 2)
    state = model.state_dict()
    model.load_state_dict(state)
    model.weight.data += 1.0  # an in-place update, as an embedding scatter-add would do
    assert not np.array_equal(model.weight.data, state["weight"])


@pytest.mark.torch
def test_state_dict_crosses_backends():
    pytest.importorskip("torch")
    torch_model = Linear(backend_for("torch"), 3, 2, seed=4)
    numpy_model = Linear(load_backend(), 3, 2, seed=0)
    numpy_model.load_state_dict({k: torch_model.weight.data if k == "weight"
                                 else torch_model.bias.data for k in ("weight", "bias")})
    assert numpy_model.weight.data.dtype == np.float64  # the module keeps its own dtype
    np.testing.assert_allclose(numpy_model.weight.data, host(torch_model.weight.data), rtol=1e-7)


def test_load_state_dict_mismatches_are_errors():
    model = Linear(load_backend(), 3, 2)
    state = model.state_dict()
    with pytest.raises(KeyError, match=r"missing \['bias'\], unexpected \[\]"):
        model.load_state_dict({"weight": state["weight"]})
    with pytest.raises(KeyError, match=r"missing \[\], unexpected \['extra'\]"):
        model.load_state_dict({**state, "extra": state["bias"]})


def test_load_state_dict_wrong_shape_changes_nothing():
    model = Linear(load_backend(), 3, 2)
    before = model.state_dict()
    bad = {"weight": before["weight"] + 1.0, "bias": np.zeros(5)}
    with pytest.raises(ValueError, match=r"bias: shape \(5,\) does not match \(2,\)"):
        model.load_state_dict(bad)
    np.testing.assert_array_equal(model.weight.data, before["weight"])  # no partial load


def test_zero_grad_clears_a_nan_gradient():
    p = Parameter(np.ones(3))
    p.grad = np.array([np.nan, np.inf, 1.0])
    p.zero_grad()
    np.testing.assert_array_equal(p.grad, np.zeros(3))


# -- optimizer checkpoints ----------------------------------------------------------------------

def _train_steps(model, loss_fn, opt, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        scores, cache = model(x)
        _, loss_cache = loss_fn(scores, y)
        model.backward(loss_fn.backward(1.0, loss_cache), cache)
        opt.step()


@pytest.mark.parametrize("name", ["numpy", TORCH])
def test_sgd_with_momentum_resumes_exactly(name):
    backend = backend_for(name, "float64")
    gen = np.random.default_rng(5)
    x, y = backend.asarray(gen.standard_normal((8, 3))), backend.asarray(gen.integers(0, 2, 8))
    loss_fn = SoftmaxCrossEntropy(backend)

    model = Linear(backend, 3, 2)
    opt = Momentum(model.parameters(), lr=0.3, momentum=0.9)
    _train_steps(model, loss_fn, opt, x, y, 3)
    model_state, opt_state = model.state_dict(), opt.state_dict()
    _train_steps(model, loss_fn, opt, x, y, 3)
    uninterrupted = model.state_dict()

    resumed = Linear(backend, 3, 2, seed=99)
    resumed.load_state_dict(model_state)
    resumed_opt = Momentum(resumed.parameters(), lr=0.3, momentum=0.9)
    resumed_opt.load_state_dict(opt_state)
    assert resumed_opt.steps == 3
    _train_steps(resumed, loss_fn, resumed_opt, x, y, 3)
    for key, value in resumed.state_dict().items():
        np.testing.assert_array_equal(value, uninterrupted[key], err_msg=key)

    # without the optimizer state (velocity lost) the run does not resume: the test can tell
    fresh = Linear(backend, 3, 2, seed=99)
    fresh.load_state_dict(model_state)
    _train_steps(fresh, loss_fn, Momentum(fresh.parameters(), lr=0.3, momentum=0.9), x, y, 3)
    assert not np.allclose(fresh.state_dict()["weight"], uninterrupted["weight"])


def test_optimizer_state_dict_is_a_host_copy():
    model = Linear(load_backend(), 2, 2)
    opt = Momentum(model.parameters(), lr=0.1, momentum=0.5)
    model.weight.grad = model.weight.grad + 1.0
    opt.step()
    state = opt.state_dict()
    assert state["steps"] == 1 and state["lr"] == 0.1
    velocity = state["state"][0]["velocity"]
    assert isinstance(velocity, np.ndarray)
    velocity[:] = 123.0
    assert not np.any(opt.state[0]["velocity"] == 123.0)
    opt.load_state_dict(state)
    velocity[:] = -1.0  # the loaded optimizer does not share memory with the checkpoint
    assert np.all(opt.state[0]["velocity"] == 123.0)


def test_optimizer_state_for_another_model_is_refused():
    small = Momentum([Linear(load_backend(), 2, 2).weight], lr=0.1, momentum=0.5)
    state = {"lr": 0.1, "steps": 4, "state": {0: {"velocity": np.zeros((2, 2))},
                                              1: {"velocity": np.zeros(2)}}}
    with pytest.raises(ValueError, match=r"parameter 1, but this optimizer has 1 parameters"):
        small.load_state_dict(state)
    assert small.steps == 0  # nothing was loaded


def test_numpy_scatter_add_refuses_rows_out_of_range_and_counts_negatives_from_the_end():
    """SciPy's kernels check no bounds: an index past the end is an IndexError, never a write
    outside the target; a negative one counts from the end, as NumPy's indexing does."""
    backend = backend_for("numpy", "float64")
    target = np.zeros((3, 2))
    for index in ([0, 3], [-4, 0]):
        with pytest.raises(IndexError, match="out of bounds"):
            backend.scatter_add(target, np.array(index), np.ones((2, 2)))
        with pytest.raises(IndexError, match="out of bounds"):
            backend.scatter_add_weighted(target, np.array([index]), np.ones((1, 2)),
                                         np.ones((1, 2)))
    np.testing.assert_array_equal(target, 0.0)
    backend.scatter_add(target, np.array([-1, 0]), np.ones((2, 2)))
    backend.scatter_add_weighted(target, np.array([[-1, 1]]), np.full((1, 2), 2.0),
                                 np.ones((1, 2)))
    np.testing.assert_array_equal(target, [[1, 1], [2, 2], [3, 3]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numpy_scatter_add_in_place_and_on_a_strided_target_agree(dtype):
    """The in-place kernel (a contiguous target) and the general path (a column slice) give
    np.add.at's sums."""
    backend = backend_for("numpy", dtype)
    gen = np.random.default_rng(3)
    index = gen.integers(0, 50, (64, 6))  # (B, M), many repeats
    weights = gen.standard_normal((64, 6)).astype(dtype)
    rows = gen.standard_normal((64, 4)).astype(dtype)
    expected = np.zeros((50, 4))
    np.add.at(expected, index.reshape(-1), (-0.5 * weights[:, :, None] * rows[:, None, :]
                                            ).reshape(-1, 4))
    np.add.at(expected, index[:, 0], 2.0 * rows)
    contiguous = np.zeros((50, 4), dtype=dtype)
    wide = np.zeros((50, 8), dtype=dtype)
    for target in (contiguous, wide[:, ::2]):
        backend.scatter_add_weighted(target, index, weights, rows, alpha=-0.5)
        backend.scatter_add(target, index[:, 0], rows, alpha=2.0)
        np.testing.assert_allclose(target, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.torch
@pytest.mark.parametrize(("device", "index"), [("cuda", 0), ("cuda:1", 1)])
def test_the_cuda_memory_cap_names_a_device_index_as_torch_requires(monkeypatch, device, index):
    """The sandboxed worker caps its GPU memory before it runs anything: torch's per-process
    cap refuses a device without an index, and a bare ``cuda`` (the default) made every
    sandboxed worker on an H100 fail to start. torch's own index check runs here on the CPU."""
    torch = pytest.importorskip("torch")
    from torch._utils import _get_device_index

    from nlpdojo_torch.backend import TorchBackend

    capped = []
    monkeypatch.setattr(torch.cuda, "init", lambda: None)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda d: type(
        "Props", (), {"total_memory": 80 * 2**30, "index": _get_device_index(d)})())
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction",
                        lambda fraction, d=None: capped.append((fraction, _get_device_index(d))))
    monkeypatch.setattr(torch, "zeros", lambda *shape, **kw: None)
    TorchBackend(device).initialize_device(memory_bytes=4 * 2**30)
    assert capped == [(pytest.approx(0.05), index)]
