"""``bench/mr_vdcnn_results.py``'s adapter: a batch the training kit cut to its longest
sentence is padded with id 0 to the network's ``min_length``, and scores as the same batch
padded by hand (the padding's ids never matter); a batch as long already is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from nlpdojo.selection import load_backend
from nlpdojo_solutions.cnn_text.vdcnn import VeryDeepCNN
from tests._bench import bench_script


@pytest.fixture(scope="module")
def bench():
    with bench_script("mr_vdcnn_results") as module:
        yield module


def test_a_short_batch_is_padded_to_the_networks_min_length(bench):
    backend = load_backend("numpy", "cpu", "float64")
    net = VeryDeepCNN(backend, 9, 3, 2, channels=(2, 3), k=2, hidden=4)  # min_length 5
    model = bench.PaddedToMinLength(net)
    ids = np.array([[1, 2, 3], [4, 5, 0]])
    lengths = backend.asarray(np.array([3, 2]))
    scores, cache = model(backend.asarray(ids), lengths)
    by_hand, _ = net(backend.asarray(np.pad(ids, ((0, 0), (0, 2)))), lengths)
    np.testing.assert_allclose(scores, by_hand, rtol=1e-12)
    model.backward(backend.asarray(np.ones((2, 2))), cache)
    assert len(model.parameters()) == len(net.parameters())
    long, _ = model(backend.asarray(np.pad(ids, ((0, 0), (0, 3)))), lengths)  # 6 >= 5
    np.testing.assert_allclose(long, net(backend.asarray(np.pad(ids, ((0, 0), (0, 3)))),
                                         lengths)[0], rtol=1e-12)
