"""Parity of topic ``cnn_text``'s reference ``CharCNNEmbedding`` with the same pipeline in
torch (``embedding``, ``conv1d``, ReLU, ``amax``, a ReLU projection and a highway gate), on
every device: word vectors of words in a (B, T, W) batch and of a flat (N, W) list alike, and
every parameter's gradient."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo_course.cnn_text import char_cnn as q
from nlpdojo_solutions.cnn_text.char_cnn import CharCNNEmbedding

torch = pytest.importorskip("torch")


def _np(backend, x) -> np.ndarray:
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


@pytest.mark.parametrize("shape,kernel", [((2, 3, 6), 3), ((5, 7), 5)],
                         ids=["sentences-width-3", "words-width-5"])
def test_char_cnn_matches_the_pipeline_in_torch(backend, shape, kernel):
    rng = np.random.default_rng(3)
    layer = CharCNNEmbedding(backend, 9, 4, 5, kernel_size=kernel, padding=1)
    params = {}
    for name, p in layer.named_parameters():
        params[name] = 0.7 * rng.standard_normal(tuple(p.data.shape))
        p.data = backend.asarray(params[name])
        p.grad = backend.asarray(np.zeros_like(params[name]))
    chars = rng.integers(0, 9, shape)
    grad = rng.standard_normal((*shape[:-1], 5))
    out, cache = layer(backend.asarray(chars, dtype=backend.xp.int64))
    assert layer.backward(backend.asarray(grad), cache) is None
    tp = {n: torch.tensor(v, requires_grad=True) for n, v in params.items()}
    expected = q._torch_char_cnn(tp, torch.as_tensor(chars), 1)
    (expected * torch.as_tensor(grad)).sum().backward()
    np.testing.assert_allclose(_np(backend, out), expected.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(_np(backend, p.grad), tp[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_words_spelled_alike_start_alike_and_an_unseen_word_has_a_vector(backend):
    """The vector of a word depends on its characters only: the same spelling anywhere in
    a batch gives the same vector, and any string of known characters has one."""
    layer = CharCNNEmbedding(backend, 6, 3, 4, kernel_size=3)
    chars = np.array([[[1, 2, 3, 0], [4, 5, 1, 2]], [[4, 5, 1, 2], [1, 1, 1, 1]]])
    out = _np(backend, layer(backend.asarray(chars, dtype=backend.xp.int64))[0])
    assert out.shape == (2, 2, 4) and np.isfinite(out).all()
    np.testing.assert_allclose(out[0, 1], out[1, 0])
    assert not np.allclose(out[0, 0], out[0, 1])


def test_cs224n_a5_sanity_check_1h_model_embeddings_shape(backend):
    """CS224n's character-aware assignment (a5, 2019-20), ``sanity_check.py 1h``: the model's
    embeddings take a (sentence_length 10, BATCH_SIZE 5, max_word_length 21) tensor of zeros
    (character ids) to (10, 5, EMBED_SIZE 3); its ModelEmbeddings is this pipeline with
    e_char 50, kernel 5 and padding 1. The assignment's check of this module is its shape."""
    layer = CharCNNEmbedding(backend, 96, 50, 3, kernel_size=5, padding=1)
    out = layer(backend.asarray(np.zeros((10, 5, 21), np.int64)))[0]
    assert tuple(out.shape) == (10, 5, 3) and np.isfinite(_np(backend, out)).all()
