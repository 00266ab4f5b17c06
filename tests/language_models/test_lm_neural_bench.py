"""bench/lm_neural_results.py's training: one optimizer per model for the whole run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("lm_neural_results",
                                                  ROOT / "bench" / "lm_neural_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
