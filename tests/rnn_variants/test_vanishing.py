"""The reference ``state_gradient_norms`` of topic ``rnn_variants`` against torch autograd
(float64, ``retain_grad`` on every step's state) over the library's tanh RNN, LSTM and GRU
cells with torch's twins' weights, on every device (CUDA skipped cleanly where there is none);
Pascanu et al.'s bound on a tanh RNN at σ_max(W_h) < 1, and the given cell builder's refusals."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_solutions.rnn_variants import gradient_flow

torch = pytest.importorskip("torch")

B, T, D, H = 3, 7, 4, 5



def _torch_norms(kind: str, params: dict[str, np.ndarray], xs, h0, c0, grad_last):
    """‖∂J/∂h⁽ᵗ⁾‖ for t = T..0 by autograd, J = Σ grad_last ⊙ h⁽ᵀ⁾, with the library's
    formulas written in torch (row vectors, torch's gate orders)."""
    p = {k: torch.tensor(v) for k, v in params.items()}
    h = torch.tensor(h0, requires_grad=True)
    c = torch.tensor(c0)
    states = [h]
    for t in range(T):
        x = torch.tensor(xs[:, t])
        if kind == "rnn":
            h = torch.tanh(h @ p["weight_h"] + x @ p["weight_e"] + p["bias"])
        elif kind == "lstm":
            i, f, g, o = (x @ p["weight_x"] + h @ p["weight_h"] + p["bias"]).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            rx, zx, nx = (x @ p["weight_x"] + p["bias_x"]).chunk(3, dim=1)
            rh, zh, nh = (h @ p["weight_h"] + p["bias_h"]).chunk(3, dim=1)
            r, z = torch.sigmoid(rx + rh), torch.sigmoid(zx + zh)
            h = (1 - z) * torch.tanh(nx + r * nh) + z * h
        h.retain_grad()
        states.append(h)
    (h * torch.tensor(grad_last)).sum().backward()
    return np.array([float(s.grad.norm()) for s in reversed(states)])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_norms_are_torch_autograds(backend, kind):
    rng = np.random.default_rng(3)
    width = {"rnn": 1, "lstm": 4, "gru": 3}[kind] * H
    params = ({"weight_e": rng.standard_normal((D, H)), "weight_h": rng.standard_normal((H, H)),
               "bias": rng.standard_normal(H)} if kind == "rnn" else
              {"weight_x": rng.standard_normal((D, width)),
               "weight_h": rng.standard_normal((H, width)),
               **({"bias": rng.standard_normal(width)} if kind == "lstm" else
                  {"bias_x": rng.standard_normal(width), "bias_h": rng.standard_normal(width)})})
    xs, h0, c0 = rng.standard_normal((B, T, D)), np.tanh(rng.standard_normal((B, H))), \
        rng.standard_normal((B, H))
    grad_last = rng.standard_normal((B, H))
    state0 = (backend.asarray(h0), backend.asarray(c0)) if kind == "lstm" else \
        backend.asarray(h0)
    norms = gradient_flow.norms_of(backend, kind, backend.asarray(xs), state0,
                                   backend.asarray(grad_last), params=params)
    np.testing.assert_allclose(backend.to_numpy(norms),
                               _torch_norms(kind, params, xs, h0, c0, grad_last),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sigma", [0.5, 0.9])
def test_a_tanh_rnn_below_one_over_gamma_vanishes_at_least_like_sigma_to_the_k(sigma):
    backend = load_backend("numpy", "cpu", "float64")
    rng = np.random.default_rng(5)
    norms = gradient_flow.norms_of(
        backend, "rnn", backend.asarray(rng.standard_normal((B, T, D))),
        backend.asarray(np.zeros((B, H))), backend.asarray(rng.standard_normal((B, H))),
        sigma=sigma)
    norms = np.asarray(backend.to_numpy(norms))
    assert norms.shape == (T + 1,)
    assert np.all(norms <= sigma ** np.arange(T + 1) * norms[0] * (1 + 1e-12))
    assert norms[-1] < norms[0]


def test_scaling_sets_the_largest_singular_value_and_unknown_cells_are_refused():
    w = np.random.default_rng(0).standard_normal((5, 15))
    assert np.linalg.norm(gradient_flow.scaled_to(w, 0.7), 2) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="unknown cell 'mgu'"):
        gradient_flow.build_cell(load_backend("numpy", "cpu", "float64"), "mgu", D, H)
