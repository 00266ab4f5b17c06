"""Topic ``cnn_text``'s reference ``VeryDeepCNN`` (Conneau et al. 2017) on every device: scores
and every parameter's gradient equal the grader's oracle (the network in
``torch.nn.functional``) with one and two blocks a stage; the lengths each pooling leaves
(⌈L / 2⌉, a short row's k-max slots empty); the padding's ids never matter; the paper's depth
9 and 17 counted in convolutions; a batch too short for its poolings is refused, saying the
length to pad to."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_course.cnn_text import vdcnn as q
from nlpdojo_solutions.cnn_text.vdcnn import VeryDeepCNN

torch = pytest.importorskip("torch")

V, D, C = 11, 3, 2
LENGTHS = np.array([20, 1, 9, 14])


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def _batch(backend, rng, lengths=LENGTHS, t=20):
    ids = rng.integers(1, V, (len(lengths), t))
    ids[np.arange(t)[None, :] >= lengths[:, None]] = 0
    return ids, backend.asarray(ids, dtype=backend.xp.int64), backend.asarray(
        lengths, dtype=backend.xp.int64)


def _model(backend, rng, **sizes):
    """A small network with every parameter drawn (biases and batch norms' too: the
    initialisation's zeros and ones would hide a bias left out)."""
    model = VeryDeepCNN(backend, V, D, C, **{"channels": (2, 3, 4), "k": 3, "hidden": 5,
                                             **sizes})
    for _, p in model.named_parameters():
        p.data = backend.asarray(rng.standard_normal(p.shape) / np.sqrt(np.prod(p.shape[:-1])))
    return model


@pytest.mark.parametrize("blocks", [1, 2])
def test_the_network_matches_the_oracle_in_torch(backend, blocks):
    rng = np.random.default_rng(blocks)
    model = _model(backend, rng, blocks=blocks)
    ids, x, lengths = _batch(backend, rng)
    grad = rng.standard_normal((len(LENGTHS), C))
    scores, cache = model(x, lengths)
    assert model.backward(backend.asarray(grad), cache) == (None, None)
    p = {n: torch.tensor(v, requires_grad=True) for n, v in model.state_dict().items()}
    expected = q._torch_vdcnn(p, torch.as_tensor(ids), torch.as_tensor(LENGTHS))
    (expected * torch.tensor(grad)).sum().backward()
    np.testing.assert_allclose(_np(backend, scores), expected.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    for name, param in model.named_parameters():
        np.testing.assert_allclose(_np(backend, param.grad), p[name].grad.numpy(), rtol=1e-8,
                                   atol=1e-11, err_msg=name)


def test_each_pooling_leaves_half_the_lengths_rounded_up(backend):
    """T = 20 → 9 → 4 positions over three stages; a row of L real positions keeps ⌈L / 2⌉
    after each pooling, and the k-max pooling's slots past a short row's end are empty (the
    reference's cache: the k-max pooling's, fourth from the start)."""
    rng = np.random.default_rng(3)
    model = _model(backend, rng)
    _, x, lengths = _batch(backend, rng)
    _, cache = model(x, lengths)
    kept, valid, t_top = cache[4]
    assert t_top == 4 and tuple(kept.shape) == (4, 3, 4)
    lengths = LENGTHS
    for t_out in (9, 4):  # each pooling: ⌈L / 2⌉, at most its windows
        lengths = np.minimum(-(-lengths // 2), t_out)
    np.testing.assert_array_equal(lengths, [4, 1, 3, 4])
    np.testing.assert_array_equal(_np(backend, valid).sum(1)[:, 0], np.minimum(lengths, 3))


def test_the_padding_ids_never_matter_and_get_no_gradient(backend):
    """The padded positions' vectors are zeroed, so what id pads a row changes nothing, and
    the row of the id that only pads gets no gradient."""
    rng = np.random.default_rng(4)
    model = _model(backend, rng)
    ids, x, lengths = _batch(backend, rng)
    other = np.where(np.arange(20)[None, :] >= LENGTHS[:, None], 7, ids)
    scores, cache = model(x, lengths)
    again, _ = model(backend.asarray(other, dtype=backend.xp.int64), lengths)
    np.testing.assert_allclose(_np(backend, again), _np(backend, scores), rtol=1e-12)
    model.backward(backend.asarray(rng.standard_normal((4, C))), cache)
    grad = _np(backend, model.embedding.weight.grad)
    assert np.all(grad[0] == 0) and np.any(grad[1:] != 0)


@pytest.mark.parametrize("blocks,depth", [(1, 9), (2, 17)])
def test_the_papers_sizes_have_its_depth(backend, blocks, depth):
    """Depth counts the convolutions of width 3: the first, then two a block, four stages
    (Conneau et al. 2017, Table 2); the shortcuts' 1×1 projections are not counted."""
    model = VeryDeepCNN(backend, 70, 16, 5, blocks=blocks)
    widths = [p.shape[0] for name, p in model.named_parameters()
              if name.endswith("weight") and len(p.shape) == 3]
    assert widths.count(3) == depth and widths.count(1) == 3
    assert model.min_length == 71  # k = 8 after three poolings: 8 → 17 → 35 → 71


def test_a_batch_too_short_for_its_poolings_is_refused(backend):
    rng = np.random.default_rng(5)
    model = _model(backend, rng)  # three stages, k = 3: 3 → 7 → 15 positions
    assert model.min_length == 15
    lengths = np.array([14, 3])
    _, x, lens = _batch(backend, rng, lengths, t=14)
    with pytest.raises(ValueError, match="pad the batch to 15 positions"):
        model(x, lens)
    _, x, lens = _batch(backend, rng, lengths, t=15)
    scores, _ = model(x, lens)
    assert tuple(scores.shape) == (2, C) and np.isfinite(_np(backend, scores)).all()


def test_the_reference_keeps_its_repeated_points_where_a_step_crosses_a_kink(tmp_path):
    """At input seed 50 a central difference of ±1e-5 along a random direction of the first
    convolution's weights crosses a kink of the deep stack (0.4 % off the derivative): the
    reference lost `vdcnn.repeated` there. The check differences it again at a tenth of the
    step, where it agrees, and says so in the details."""
    import shutil
    from pathlib import Path

    from nlpdojo_autograder.grading.grade import GradeOptions, grade

    solutions = Path(__file__).resolve().parents[2] / "solutions"
    for folder in ("cnn_text", "library"):
        shutil.copytree(solutions / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    result = grade(["cnn_text"], submission=tmp_path / "cnn_text", options=GradeOptions(
        questions=frozenset({"cnn_text.vdcnn"}), input_seed=50), replay_options={})
    checks = {c.id: c for e in result.exercises for c in e.checks}
    repeated = checks["vdcnn.repeated"]
    assert repeated.score == repeated.max_score, repeated.message
    notes = [n for g in repeated.details["gradients"] for n in g["notes"]]
    assert any("crossed a kink" in n for n in notes), notes
