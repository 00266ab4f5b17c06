"""Topic ``cnn_text``'s reference ``MultichannelCNN`` (Kim 2014, §2.4), on every device: parity
with the grader's torch oracle (the filter over each channel, added, the bias once), an
independent torch formulation (``nn.Conv2d`` over the two channels stacked, both planes
holding the one filter), and the static channel left as it is by training."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_course.cnn_text import multichannel as q
from nlpdojo_solutions.cnn_text.multichannel import MultichannelCNN
from nlpdojo_solutions.library import Adam

torch = pytest.importorskip("torch")

WIDTHS, FILTERS, CLASSES = (2, 3), 4, 3
V, D = 7, 5


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _model(backend, rng):
    """A model of random parameters over a random static table, and both as NumPy."""
    static = rng.standard_normal((V, D))
    model = MultichannelCNN(backend, backend.asarray(static), CLASSES, widths=WIDTHS,
                            filters=FILTERS, dropout=0.0)
    params = {}
    for name, p in model.named_parameters():
        params[name] = 0.7 * rng.standard_normal(tuple(p.data.shape))
        p.data = backend.asarray(params[name])
        p.grad = backend.asarray(np.zeros_like(params[name]))
    return model, static, params


def _batch(rng):
    ids = rng.integers(1, V, (3, 6))
    lengths = np.array([6, 1, 4])
    ids[np.arange(6)[None, :] >= lengths[:, None]] = 0  # padding, a real row of the table
    return ids, lengths


def test_multichannel_cnn_matches_the_oracle_and_an_independent_conv2d(backend):
    rng = np.random.default_rng(5)
    model, static, params = _model(backend, rng)
    ids, lengths = _batch(rng)
    grad = rng.standard_normal((3, CLASSES))
    xp = backend.xp
    scores, cache = model(backend.asarray(ids, dtype=xp.int64),
                          backend.asarray(lengths, dtype=xp.int64))
    assert model.backward(backend.asarray(grad), cache) == (None, None)
    tp = {n: torch.tensor(v, requires_grad=True) for n, v in params.items()}
    expected = q._torch_multichannel(tp, torch.as_tensor(ids), torch.as_tensor(lengths),
                                     WIDTHS, static)
    (expected * torch.as_tensor(grad)).sum().backward()
    np.testing.assert_allclose(_np(backend, scores), expected.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(_np(backend, p.grad), tp[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)
    # Kim's figure 1 as torch.nn writes it: the channels as Conv2d's two input planes, each
    # plane's kernel the same filter, one bias; each sentence alone, unpadded
    rows = []
    for b in range(3):
        n = int(lengths[b])
        planes = torch.stack([torch.as_tensor(static[ids[b, :n]]),
                              torch.as_tensor(params["embedding.weight"][ids[b, :n]])])
        features = []
        for j, k in enumerate(WIDTHS):
            conv = torch.nn.Conv2d(2, FILTERS, (k, D), padding=(k - 1, 0)).double()
            kernel = torch.as_tensor(params[f"convs.{j}.weight"]).permute(2, 0, 1)  # (F, k, D)
            with torch.no_grad():
                conv.weight.copy_(torch.stack([kernel, kernel], dim=1))  # (F, 2, k, D)
                conv.bias.copy_(torch.as_tensor(params[f"convs.{j}.bias"]))
            features.append(torch.relu(conv(planes[None]))[0, :, :, 0].amax(1))  # (F,)
        rows.append(torch.cat(features) @ torch.as_tensor(params["output.weight"])
                    + torch.as_tensor(params["output.bias"]))
    np.testing.assert_allclose(_np(backend, scores), torch.stack(rows).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_training_moves_the_fine_tuned_channel_and_never_the_static_one(backend):
    """Both channels start from the pre-trained vectors; Adam over ``parameters()`` steps the
    embedding and never sees the static table, which is a copy: the caller's array is not
    the model's."""
    rng = np.random.default_rng(6)
    pretrained = rng.standard_normal((V, D))
    given = backend.asarray(pretrained.copy())
    model = MultichannelCNN(backend, given, CLASSES, widths=WIDTHS, filters=FILTERS,
                            dropout=0.0)
    assert "static" not in {name.split(".")[0] for name, _ in model.named_parameters()}
    np.testing.assert_array_equal(_np(backend, model.static), pretrained)
    np.testing.assert_array_equal(_np(backend, model.embedding.weight.data), pretrained)
    ids, lengths = _batch(rng)
    xp = backend.xp
    opt = Adam(model.parameters(), lr=0.05)
    for _ in range(3):
        model.zero_grad()
        scores, cache = model(backend.asarray(ids, dtype=xp.int64),
                              backend.asarray(lengths, dtype=xp.int64))
        model.backward(backend.asarray(np.ones((3, CLASSES))), cache)
        opt.step()
    np.testing.assert_array_equal(_np(backend, model.static), pretrained)
    moved = np.abs(_np(backend, model.embedding.weight.data) - pretrained).max(axis=1)
    assert (moved[np.unique(ids[ids > 0])] > 0).all()  # every word of the batch moved
    given[...] = 0.0  # the caller's array changed afterwards: not the model's channel
    np.testing.assert_array_equal(_np(backend, model.static), pretrained)
