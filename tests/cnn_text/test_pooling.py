"""Parity of topic ``cnn_text``'s reference pooling with torch, float64, on every device:
``MaxOverTime`` against ``amax`` of the masked features, ``KMaxPooling`` against ``topk`` put
back in sentence order (outputs and dL/dh, on features without ties); and the tie convention
torch does not share (``amax`` splits the gradient of a tie, ``topk``'s order among equals is
unspecified): the first position wins, in the forward and the backward pass."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_course.cnn_text import pooling as q
from nlpdojo_solutions.library.pooling import KMaxPooling, MaxOverTime

torch = pytest.importorskip("torch")

LENGTHS = np.array([6, 1, 3, 5])


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _run(backend, layer, h, grad):
    out, cache = layer(backend.asarray(h), backend.asarray(LENGTHS, dtype=backend.xp.int64))
    grad_h, none = layer.backward(backend.asarray(grad), cache)
    assert none is None
    return _np(backend, out), _np(backend, grad_h)


@pytest.mark.parametrize("layer,oracle,width", [
    (MaxOverTime, q._torch_max, None), (lambda b: KMaxPooling(b, q.K), q._torch_kmax, q.K)],
    ids=["max", "kmax"])
def test_pooling_matches_torch(backend, layer, oracle, width):
    rng = np.random.default_rng(0)
    h = rng.standard_normal((4, 6, 3))
    shape = (4, 3) if width is None else (4, width, 3)
    grad = rng.standard_normal(shape)
    out, grad_h = _run(backend, layer(backend), h, grad)
    th = torch.tensor(h, requires_grad=True)
    t_out = oracle({}, th, torch.as_tensor(LENGTHS))
    (t_out * torch.tensor(grad)).sum().backward()
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad_h, th.grad.numpy(), rtol=1e-12)


def test_the_first_position_of_a_tie_wins_and_padding_never_does(backend):
    h = np.zeros((4, 6, 1))
    h[0, [1, 4], 0] = 2.0  # a tie at positions 1 and 4
    h[1, 3, 0] = 9.0  # beyond the sentence's one real position
    h[2, [0, 2], 0] = -1.0
    out, grad_h = _run(backend, MaxOverTime(backend), h, np.ones((4, 1)))
    assert out[:, 0].tolist() == [2.0, 0.0, 0.0, 0.0]
    assert np.argwhere(grad_h[..., 0]).tolist() == [[0, 1], [1, 0], [2, 1], [3, 0]]
    out, grad_h = _run(backend, KMaxPooling(backend, 2), h, np.ones((4, 2, 1)))
    assert out[0, :, 0].tolist() == [2.0, 2.0] and out[1, :, 0].tolist() == [0.0, 0.0]
    assert out[2, :, 0].tolist() == [-1.0, 0.0]  # −1 at 0 (before its tie at 2), 0 at 1
    assert grad_h[1, :, 0].tolist() == [1.0, 0, 0, 0, 0, 0]  # one real position, one zero slot
    with pytest.raises(ValueError, match="at least k = 7"):
        KMaxPooling(backend, 7)(backend.asarray(h), backend.asarray(LENGTHS))


@pytest.mark.parametrize("oracle", [q._torch_max, q._torch_kmax], ids=["max", "kmax"])
def test_the_graded_inputs_reveal_the_padding_winning_on_every_draw(oracle):
    """The random-feature case the pooling checks draw puts a padded value above a real one
    by construction (row 1's one real value below all its padding in filter 0), so the planted
    'padding may win' bugs and their named hint (PADDING_WINS) do not depend on the input seed:
    on 200 draws the unmasked forward differs every time."""
    make = q._case((), ties=False)
    case = make(type("Ctx", (), {"backend": None})())
    for seed in range(200):
        h, lengths = case.inputs(np.random.default_rng(seed))
        assert lengths[1] == 1 and (h[1, 1:, 0] > h[1, 0, 0]).all(), seed  # the construction
        th, tl = torch.as_tensor(h), torch.as_tensor(lengths)
        right, unmasked = oracle({}, th, tl), oracle({}, th, tl, mask=False)
        assert not torch.equal(right, unmasked), seed
