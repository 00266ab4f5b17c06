"""``nlpdojo.gradcheck.parity`` on toy implementations: a hand-written linear layer (the
reference, on NumPy) against ``torch.nn.functional.linear`` with autograd (the native), on every
device. A native that is right passes; one that is wrong anywhere is named where."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from nlpdojo.gradcheck.parity import assert_parity, check_parity, compare
from nlpdojo.selection import load_backend

pytestmark = pytest.mark.torch


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
        not _cuda_available(), reason="no CUDA device here")]),
]


class HandLinear:
    """The reference: ``y = x W^T + b`` with its backward written out, on any backend."""

    def __init__(self, backend, n_in: int, n_out: int, *, seed: int = 0) -> None:
        rng = backend.rng(seed)
        self.xp = backend.xp
        self.W = rng.normal((n_out, n_in), std=0.5, dtype=backend.float64)  # (O, I)
        self.b = rng.normal((n_out,), dtype=backend.float64)  # (O,)

    def forward(self, inputs):
        return inputs["x"] @ self.W.T + self.b  # (N, O)

    def grads(self, inputs, grad_output):
        x = inputs["x"]  # (N, I)
        return {"x": grad_output @ self.W,  # (N, I)
                "W": grad_output.T @ x,  # (O, I)
                "b": self.xp.sum(grad_output, axis=0)}  # (O,)


class TorchLinear:
    """The native: ``torch.nn.functional.linear``, gradients by autograd."""

    def __init__(self, backend, n_in: int, n_out: int, *, seed: int = 0) -> None:
        import torch

        self.torch = torch
        self.W = torch.zeros(n_out, n_in, dtype=torch.float64, device=backend.device,
                             requires_grad=True)  # (O, I)
        self.b = torch.zeros(n_out, dtype=torch.float64, device=backend.device,
                             requires_grad=True)  # (O,)

    def forward(self, inputs):
        return self.torch.nn.functional.linear(inputs["x"], self.W, self.b).detach()

    def grads(self, inputs, grad_output):
        x = inputs["x"].detach().requires_grad_()
        out = self.torch.nn.functional.linear(x, self.W, self.b)  # (N, O)
        gx, gW, gb = self.torch.autograd.grad(out, (x, self.W, self.b), grad_output)
        return {"x": gx, "W": gW, "b": gb}


def copy_linear(ref: HandLinear, nat: TorchLinear) -> None:
    from nlpdojo.arrays import like

    with nat.torch.no_grad():
        nat.W.copy_(like(nat.W, ref.W))
        nat.b.copy_(like(nat.b, ref.b))


@pytest.fixture(params=DEVICES)
def backends(request):
    pytest.importorskip("torch")
    return {"reference_backend": load_backend("numpy", dtype="float64"),
            "native_backend": load_backend("torch", request.param, dtype="float64")}


def inputs():
    return {"x": np.random.default_rng(1).standard_normal((4, 3))}  # (N, I)


def test_an_equal_native_passes_on_every_device(backends):
    result = assert_parity(HandLinear, TorchLinear, copy_linear, inputs(), args=(3, 2),
                           kwargs={"seed": 5}, **backends)
    names = [c.name for c in result.comparisons]
    assert names == ["output", "grad 'W'", "grad 'b'", "grad 'x'"]
    assert all(c.max_abs_error < 1e-12 for c in result.comparisons)


def test_the_reference_on_torch_too(backends):
    """Both sides on the same device: the reference is written against the namespace."""
    assert_parity(HandLinear, TorchLinear, copy_linear, inputs(), args=(3, 2),
                  reference_backend=backends["native_backend"],
                  native_backend=backends["native_backend"])


def test_weights_not_copied_fail_on_the_output(backends):
    result = check_parity(HandLinear, TorchLinear, lambda ref, nat: None, inputs(), args=(3, 2),
                          **backends)
    assert not result.ok
    assert "output:" in result.message() and "worst at index" in result.message()


def test_a_wrong_gradient_is_named(backends):
    class WrongBias(TorchLinear):
        def grads(self, inputs, grad_output):
            g = super().grads(inputs, grad_output)
            return {**g, "b": g["b"] * 2}

    result = check_parity(HandLinear, WrongBias, copy_linear, inputs(), args=(3, 2), **backends)
    assert [c.name for c in result.failures] == ["grad 'b'"]
    with pytest.raises(AssertionError, match=r"grad 'b': 2 of 2 entries differ"):
        assert_parity(HandLinear, WrongBias, copy_linear, inputs(), args=(3, 2), **backends)


def test_a_gradient_only_one_side_returns_fails(backends):
    class NoInputGrad(TorchLinear):
        def grads(self, inputs, grad_output):
            g = super().grads(inputs, grad_output)
            del g["x"]
            return g

    result = check_parity(HandLinear, NoInputGrad, copy_linear, inputs(), args=(3, 2),
                          **backends)
    assert "grad 'x': the reference returns it, the native does not" in result.message()


def test_compare_wants_float64_and_equal_shapes():
    a = np.zeros((2, 3))
    assert "parity is checked in float64" in compare("output", a, a.astype(np.float32)).message
    assert "shape (3, 2) differs" in compare("output", a, np.zeros((3, 2))).message
    assert not compare("output", a, np.full((2, 3), np.nan)).ok
    assert compare("output", a, a + 1e-13).ok


def test_where_the_reference_is_infinite_only_the_same_value_matches():
    """A bound of atol + rtol·|±inf| is inf: any value passed there."""
    ref = np.array([-np.inf, np.inf, np.nan, 1.0])
    assert compare("output", ref, ref.copy()).ok
    for wrong in (5.0, np.inf, 0.0):
        native = ref.copy()
        native[0] = wrong
        assert not compare("output", ref, native).ok
    native = ref.copy()
    native[2] = 0.0
    assert not compare("output", ref, native).ok
