"""The plain-torch peer of bench/ (``bench/torch_window_tagger.py``) is the same model as the
reference window tagger: with copied weights, the same scores, loss and gradients, and the
same parameters after three steps of each optimizer (the library's against torch.optim with
the settings the bench gives it). Otherwise the results table would compare two models."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nlpdojo.selection import load_backend  # noqa: E402
from nlpdojo_course.neural_networks.trainer import DEFAULT_LR  # noqa: E402
from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy  # noqa: E402
from nlpdojo_solutions.neural_networks.tagger import build_tagger  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / "bench" / "torch_window_tagger.py"


def _peer():
    spec = importlib.util.spec_from_file_location("torch_window_tagger", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _copy(ours, peer) -> None:
    state = ours.state_dict()
    with torch.no_grad():
        peer[0].weight.copy_(torch.as_tensor(state["embedding.weight"]))
        peer[2].weight.copy_(torch.as_tensor(state["hidden.weight"].T))  # ours x W, torch x Wᵀ
        peer[2].bias.copy_(torch.as_tensor(state["hidden.bias"]))
        peer[5].weight.copy_(torch.as_tensor(state["output.weight"].T))
        peer[5].bias.copy_(torch.as_tensor(state["output.bias"]))


@pytest.mark.parametrize("optimizer", list(DEFAULT_LR))
def test_the_peer_trains_exactly_like_the_reference(optimizer):
    peer_module = _peer()
    torch.set_default_dtype(torch.float64)
    try:
        be = load_backend("numpy", None, "float64")
        rng = np.random.default_rng(0)
        v, w, d, h, c = 20, 5, 4, 6, 3
        ours, opt = build_tagger(be, vocab_size=v, n_tags=c, window=w, dim=d, hidden=h,
                                 optimizer=optimizer, lr=DEFAULT_LR[optimizer] / 10)
        peer = peer_module.make_model(v, w, d, h, c)
        _copy(ours, peer)
        topt = peer_module.torch_optimizer(optimizer, peer.parameters(),
                                           DEFAULT_LR[optimizer] / 10)
        loss_fn = SoftmaxCrossEntropy(be)
        for _ in range(3):
            x = rng.integers(0, v, (8, w))
            x[0, 1] = x[0, 3]  # a repeated word
            y = rng.integers(0, c, 8)
            opt.zero_grad()
            scores, cache = ours(x)
            loss, lc = loss_fn(scores, y)
            ours.backward(loss_fn.backward(1.0, lc), cache)
            opt.step()
            peer_loss = peer_module.step(peer, topt, torch.as_tensor(x), torch.as_tensor(y))
            np.testing.assert_allclose(float(loss), peer_loss, rtol=1e-10)
        state = ours.state_dict()
        np.testing.assert_allclose(state["embedding.weight"], peer[0].weight.detach().numpy(),
                                   rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(state["hidden.weight"].T, peer[2].weight.detach().numpy(),
                                   rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(state["output.bias"], peer[5].bias.detach().numpy(),
                                   rtol=1e-8, atol=1e-10)
    finally:
        torch.set_default_dtype(torch.float32)
