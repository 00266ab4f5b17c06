"""The torch backend's native ``lstm`` and ``gru`` (``torch.nn.LSTM``/``GRU``, cuDNN on CUDA)
equal the course library's reference ``LSTM``/``GRU`` with the same weights: outputs, final
state, the gradients of the inputs, of the initial state and of every parameter, float64, on
every torch device (CUDA skipped cleanly where there is none). They are reachable only on
request, and refused off the torch backend."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.errors import UnknownNameError
from nlpdojo.plugins import get_registry
from nlpdojo.selection import load_backend
from nlpdojo_solutions.library import GRU, LSTM

torch = pytest.importorskip("torch")

DEVICES = ["cpu", pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device")])]
B, T, D, H = 3, 5, 4, 6


def _host(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), np.float64)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name,library", [("lstm", LSTM), ("gru", GRU)])
def test_the_native_layer_equals_the_library_layer(device, name, library):
    backend = load_backend("torch", device, "float64")
    native_cls = get_registry().get("module", name, backend="torch", native=True)
    reference, native = library(backend, D, H, seed=4), native_cls(backend, D, H, seed=9)
    native.load_state_dict(reference.state_dict())  # the library's names and layouts
    rng = np.random.default_rng(0)
    xs = backend.asarray(rng.standard_normal((B, T, D)))
    h0 = backend.asarray(np.tanh(rng.standard_normal((B, H))))
    state0 = (h0, backend.asarray(rng.standard_normal((B, H)))) if name == "lstm" else h0
    grad = backend.asarray(rng.standard_normal((B, T, H)))

    outputs = []
    for layer in (reference, native):
        out, cache = layer(xs, state0)
        grad_xs, grad_state0 = layer.backward(grad, cache)
        final = layer.final_state(cache)
        flat = [out, grad_xs, *(grad_state0 if name == "lstm" else (grad_state0,)),
                *(final if name == "lstm" else (final,))]
        flat += [p.grad for _, p in sorted(layer.named_parameters())]
        outputs.append([_host(backend, x) for x in flat])
    assert len(outputs[0]) == len(outputs[1])
    for ours, theirs in zip(*outputs, strict=True):
        np.testing.assert_allclose(theirs, ours, rtol=1e-10, atol=1e-12)


def test_natives_are_found_only_on_request_and_only_on_torch():
    registry = get_registry()
    with pytest.raises(UnknownNameError, match="native=True"):
        registry.get("module", "lstm")
    native_cls = registry.get("module", "gru", backend="torch", native=True)
    with pytest.raises(ValueError, match="torch backend only"):
        native_cls(load_backend("numpy", "cpu", "float64"), D, H)
