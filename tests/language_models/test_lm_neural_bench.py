"""bench/lm_neural_results.py's training: one optimizer per model for the whole run."""

from __future__ import annotations

import numpy as np
import pytest

from tests._bench import bench_script


@pytest.fixture(scope="module")
def bench():
    with bench_script("lm_neural_results") as module:
        yield module


def _ids(n: int, vocab: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab, n).astype(np.int64)


@pytest.mark.parametrize("name, settings", [
    ("rnn", {"dim": 8, "hidden": 8, "batch_size": 2, "bptt": 5, "optimizer": "adam-clip",
             "clip": 1.0, "lr": 0.01, "dropout": 0.25}),
    ("window", {"dim": 8, "hidden": 8, "context": 2, "batch_size": 16, "optimizer": "adam",
                "lr": 0.01}),
])
def test_adams_moments_go_on_from_epoch_to_epoch_and_restart_after_a_restore(
        bench, name, settings):
    """The topic's loops make their optimizer per call and the benchmark calls them once per
    epoch: the same Adam must come back each epoch (its step count goes on, the new learning
    rate set), and a restore to the best weights starts a new one."""
    from nlpdojo.selection import load_backend

    ids = {split: _ids(200, 12, seed) for seed, split in enumerate(("train", "valid", "test"))}
    trainer = bench.Trainer(load_backend("numpy", "cpu", "float32"), name, ids, 12, settings)
    first = trainer.epoch(0.01, 1, lambda step, loss: None)
    adam = trainer.optimizer
    assert adam is not None and adam.steps == len(first)
    second = trainer.epoch(0.005, 2, lambda step, loss: None)
    assert trainer.optimizer is adam and adam.lr == 0.005
    assert adam.steps == len(first) + len(second)
    assert np.isfinite(trainer.score("valid"))
    trainer.restore(trainer.model.state_dict())
    trainer.epoch(0.005, 3, lambda step, loss: None)
    assert trainer.optimizer is not adam and trainer.optimizer.steps == len(second)


def test_the_library_optimizers_are_left_as_they_were(bench):
    """The benchmark's optimizers go in under names of their own: "adam" stays the library's
    class for everything else in the process."""
    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.language_models import rnn_lm
    from nlpdojo_solutions.library import optim

    ids = {split: _ids(100, 10, 0) for split in ("train", "valid", "test")}
    bench.Trainer(load_backend("numpy", "cpu", "float32"), "window", ids, 10,
                  dict(bench.SETTINGS["window"]) | {"dim": 4, "hidden": 4})
    assert rnn_lm.OPTIMIZERS["adam"] is optim.Adam


@pytest.mark.parametrize("name", ["rnn", "lstm"])
def test_a_split_scored_as_streams_side_by_side_predicts_every_token_once_in_order(bench, name):
    """``score(split, streams)`` (a GPU's batch) cuts the split into pieces of whole windows,
    each led by the token before it, and reads the log-probabilities back in the text's order.
    With the state started afresh at every window, each token's log-probability is the same
    however the split is cut, so one stream and four must give the same perplexity: a token
    predicted twice, left out, or read back out of order (padding counted in its place)
    changes it."""
    from nlpdojo.selection import load_backend

    backend = load_backend("numpy", "cpu", "float64")
    settings = {"dim": 6, "hidden": 5, "batch_size": 2, "bptt": 5, "optimizer": "adam",
                "clip": 1.0, "lr": 0.01, "dropout": 0.0}
    ids = {split: _ids(n, 9, seed) for seed, (split, n) in
           enumerate((("train", 100), ("valid", 473), ("test", 50)))}
    trainer = bench.Trainer(backend, name, ids, 9, settings)
    lm_training, real = trainer.lm_training, trainer.lm_training.rnn_log_probs

    def window_by_window(backend, model, stream, *, batch_size, bptt):
        """The topic's scorer with the state started afresh at every window."""
        inputs, targets = lm_training.scoring_windows(stream, batch_size, bptt)  # (K, B, T)
        out = [real(backend, model, np.concatenate([inputs[k, b], targets[k, b, -1:]]),
                    batch_size=1, bptt=bptt)
               for k in range(len(inputs)) for b in range(batch_size)]
        return np.concatenate(out)  # (K·B·T,), as the scorer returns them

    lm_training.rnn_log_probs = window_by_window
    try:
        one, four = trainer.score("valid", 1), trainer.score("valid", 4)
    finally:
        lm_training.rnn_log_probs = real
    assert np.isclose(one, four, rtol=1e-12), (one, four)


def test_the_clipped_optimizer_rescales_by_the_global_norm_on_any_backend(bench):
    """The benchmark's ``<name>-clip`` optimizer clips the global gradient norm with the
    arrays' own namespace: it once used NumPy, which refuses CUDA tensors (the GPU run lost
    its RNN LM to it). The strict backend's arrays refuse NumPy in the same way, on any
    machine."""
    from nlpdojo.module import Parameter
    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.language_models import rnn_lm

    backend = load_backend("strict", "cpu", "float64")
    params = []
    for grad in ([3.0, 0.0], [[0.0, 4.0]]):
        params.append(Parameter(backend.xp.zeros_like(backend.asarray(grad))))
        params[-1].grad = backend.asarray(grad)
    bench.clipped(rnn_lm.OPTIMIZERS["sgd"], 1.0)(params, lr=1.0).step()
    # global norm 5, clipped to 1: each step is -grad / 5
    assert np.allclose(backend.to_numpy(params[0].data), [-0.6, 0.0], rtol=1e-12)
    assert np.allclose(backend.to_numpy(params[1].data), [[0.0, -0.8]], rtol=1e-12)
