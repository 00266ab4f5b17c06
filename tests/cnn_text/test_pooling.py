"""Parity of topic ``cnn_text``'s reference pooling with torch, float64, on every device:
``MaxOverTime`` against ``amax`` of the masked features, ``KMaxPooling`` against ``topk`` put
back in sentence order, ``LocalMaxPooling`` against ``max_pool1d`` (outputs and dL/dh, on
features without ties, overlapping windows and torch's default stride); and the tie convention
torch does not share (``amax`` splits the gradient of a tie, ``topk``'s order among equals is
unspecified): the first position wins, in the forward and the backward pass."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from nlpdojo_course.cnn_text import pooling as q
from nlpdojo_solutions.library.pooling import KMaxPooling, LocalMaxPooling, MaxOverTime

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
    (MaxOverTime, q._torch_max, None), (lambda b: KMaxPooling(b, q.K), q._torch_kmax, q.K),
    (lambda b: LocalMaxPooling(b, 3, 2), q._torch_local, 2),
    (lambda b: LocalMaxPooling(b, 2), partial(q._torch_local, width=2, stride=2), 3),
    (lambda b: LocalMaxPooling(b, 3, 1), partial(q._torch_local, width=3, stride=1), 4)],
    ids=["max", "kmax", "local-3-2", "local-2", "local-3-1"])
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


def test_local_windows_keep_their_first_maximum_and_add_up_where_they_overlap(backend):
    """Width 3, stride 2 over 6 positions: windows {0, 1, 2} and {2, 3, 4}. A value that wins
    both windows (position 2) gets both gradients; of a tie the first position wins; a window
    that starts past a sentence's end holds 0 and passes nothing back."""
    h = np.zeros((4, 6, 1))
    h[0, 2, 0] = 5.0  # the maximum of both windows
    h[1, 3, 0] = 9.0  # padding (one real position): never wins
    h[3, [3, 4], 0] = 4.0  # a tie in the second window: position 3 wins
    layer = LocalMaxPooling(backend, 3, 2)
    out, grad_h = _run(backend, layer, h, np.ones((4, 2, 1)))
    assert out[:, :, 0].tolist() == [[5.0, 5.0], [0.0, 0.0], [0.0, 0.0], [0.0, 4.0]]
    assert grad_h[0, :, 0].tolist() == [0, 0, 2.0, 0, 0, 0]  # two windows, one position
    assert grad_h[1, :, 0].tolist() == [1.0, 0, 0, 0, 0, 0]  # its one real window
    assert grad_h[2, :, 0].tolist() == [1.0, 0, 1.0, 0, 0, 0]  # zeros: the first wins
    assert grad_h[3, :, 0].tolist() == [1.0, 0, 0, 1.0, 0, 0]
    lengths = layer.output_lengths(backend.asarray(LENGTHS, dtype=backend.xp.int64), 6)
    assert _np(backend, lengths).tolist() == [2, 1, 2, 2]  # windows starting at real positions
    assert _np(backend, LocalMaxPooling(backend, 2).output_lengths(
        backend.asarray(np.array([1, 7, 8]), dtype=backend.xp.int64), 9)).tolist() == [1, 4, 4]
    with pytest.raises(ValueError, match="at least 7 positions"):
        LocalMaxPooling(backend, 7)(backend.asarray(h), backend.asarray(LENGTHS))
    with pytest.raises(ValueError, match="width >= 1 and stride >= 1"):
        LocalMaxPooling(backend, 2, 0)


@pytest.mark.parametrize("oracle", [q._torch_max, q._torch_kmax, q._torch_local],
                         ids=["max", "kmax", "local"])
def test_the_graded_inputs_reveal_the_padding_winning_on_every_draw(oracle):
    """The random-feature case the pooling checks draw puts a padded value above a real one
    by construction (row 1's one real value below all its padding in filter 0), so the planted
    'padding may win' bugs and their named hint (PADDING_WINS) do not depend on the input seed:
    on 200 draws the unmasked forward differs every time."""
    make = q._case("MaxOverTime", (), ties=False)
    case = make(type("Ctx", (), {"backend": None})())
    for seed in range(200):
        h, lengths = case.inputs(np.random.default_rng(seed))
        assert lengths[1] == 1 and (h[1, 1:, 0] > h[1, 0, 0]).all(), seed  # the construction
        th, tl = torch.as_tensor(h), torch.as_tensor(lengths)
        right, unmasked = oracle({}, th, tl), oracle({}, th, tl, mask=False)
        assert not torch.equal(right, unmasked), seed
