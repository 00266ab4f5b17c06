"""The training kit's one checkpoint format: what is written comes back (parameters, optimizer
state, the trainer's arrays, the meta), atomically, without pickles; the files written before
the kit (version 1: the tagger's ``model/`` layout, the LM's unversioned one) still load; a
missing, foreign, folder or newer file is one clear error naming the command that writes them;
resuming restores the parameters, the optimizer and the dropout layers' draw counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlpdojo_autograder.training import (
    CheckpointFiles,
    TrainError,
    read_checkpoint,
    read_meta,
    restore,
    save_checkpoint,
    save_training,
)
from nlpdojo_autograder.training.checkpoint import VERSION

FILES = CheckpointFiles("dojo train thing", example="dojo train thing --model a")
OPTIM = {"lr": 0.5, "steps": 3, "state": {0: {"m": np.ones(2)}, 2: {"v": np.zeros((2, 2))}}}


def test_what_is_saved_comes_back(tmp_path):
    path = tmp_path / "ckpt"  # no .npz: the name is kept as given
    params = {"w": np.arange(6.0).reshape(2, 3), "b": np.zeros(3, np.float32)}
    save_checkpoint(path, {"model": "a", "hidden": 3}, params=params, optimizer=OPTIM,
                    arrays={"words": np.asarray(["x", "</s>"])})
    assert path.is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]
    saved = read_checkpoint(path, FILES)
    assert saved.meta["model"] == "a" and saved.meta["version"] == VERSION
    assert set(saved.params) == {"w", "b"} and saved.params["b"].dtype == np.float32
    np.testing.assert_array_equal(saved.params["w"], params["w"])
    assert saved.optimizer["lr"] == 0.5 and saved.optimizer["steps"] == 3
    assert set(saved.optimizer["state"]) == {0, 2}
    np.testing.assert_array_equal(saved.optimizer["state"][2]["v"], np.zeros((2, 2)))
    assert list(saved.arrays) == ["words"] and read_meta(path, FILES)["hidden"] == 3
    with np.load(path, allow_pickle=False) as raw:  # readable without pickles
        assert {"meta", "param/w", "optim/0/m", "words"} <= set(raw.files)


def test_compressed_checkpoints_read_the_same(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(path, {"model": "a"}, arrays={"counts_0": np.arange(1000)}, compress=True)
    np.testing.assert_array_equal(read_checkpoint(path, FILES).arrays["counts_0"],
                                  np.arange(1000))
    assert read_checkpoint(path, FILES).optimizer is None


def test_version_1_files_still_load(tmp_path):
    tagger = tmp_path / "tagger.npz"  # written by `dojo train tagger` before the kit
    np.savez(tagger, **{"model/w": np.ones(2), "optim/0/m": np.zeros(2),
                        "meta": np.asarray(json.dumps({"version": 1, "optimizer_lr": 0.1,
                                                       "optimizer_steps": 7,
                                                       "epochs_done": 1}))})
    saved = read_checkpoint(tagger, FILES)
    assert list(saved.params) == ["w"] and saved.optimizer["steps"] == 7
    assert saved.optimizer["lr"] == 0.1 and list(saved.optimizer["state"]) == [0]
    lm = tmp_path / "lm.npz"  # written by `dojo train lm` before the kit: no version
    np.savez(lm, **{"param/w": np.ones(2), "words": np.asarray(["a"]),
                    "meta": np.asarray(json.dumps({"model": "rnn"}))})
    saved = read_checkpoint(lm, FILES)
    assert list(saved.params) == ["w"] and saved.optimizer is None
    assert list(saved.arrays) == ["words"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: tmp / "missing.npz",
     "no checkpoint {path}: train one first, e.g. `dojo train thing --model a --output {path}`"),
    (lambda tmp: tmp, "{path} is a folder: pass a checkpoint file written by `dojo train thing"),
    (lambda tmp: (tmp / "x.npz").write_text("hello") and tmp / "x.npz",
     "{path} is not a checkpoint of `dojo train thing`"),
    (lambda tmp: np.savez(tmp / "y.npz", x=np.zeros(2)) or tmp / "y.npz",
     "{path} is not a checkpoint of `dojo train thing`"),
    (lambda tmp: np.savez(tmp / "z.npz", meta=np.asarray("[1, 2]")) or tmp / "z.npz",
     "its meta is not a JSON object"),
    (lambda tmp: np.savez(tmp / "v.npz", meta=np.asarray('{"version": 9}')) or tmp / "v.npz",
     "checkpoint version 9, this nlpdojo reads versions 1 and 2; train it again"),
    (lambda tmp: np.savez(tmp / "p.npz", meta=np.asarray('{"model": "a"}'),
                          o=np.asarray([object()], dtype=object)) or tmp / "p.npz",
     "{path} is not a checkpoint of `dojo train thing` (it holds pickled Python objects, "
     "which nlpdojo never loads)"),
])
def test_what_is_not_a_checkpoint_is_one_clear_error(make, message, tmp_path):
    path = make(tmp_path)
    with pytest.raises(TrainError) as caught:
        read_checkpoint(path, FILES)
    assert message.format(path=path) in str(caught.value)
    assert "allow_pickle" not in str(caught.value)  # NumPy's advice to load them unsafely


def test_the_name_a_checkpoint_is_called_by_can_be_the_commands_own(tmp_path):
    (tmp_path / "x.npz").write_text("hello")
    files = CheckpointFiles("dojo train tagger", what="a tagger checkpoint")
    with pytest.raises(TrainError, match="is not a tagger checkpoint"):
        read_checkpoint(tmp_path / "x.npz", files)


class _Layer:
    def __init__(self) -> None:
        self.calls = 0


class _Model:
    """What the kit uses of a course model: state_dict, load_state_dict, modules."""

    def __init__(self) -> None:
        self.w = np.zeros(3)
        self.dropout = _Layer()

    def state_dict(self):
        return {"w": self.w.copy()}

    def load_state_dict(self, state):
        if set(state) != {"w"} or np.shape(state["w"]) != (3,):
            raise KeyError(f"expected w of shape (3,), got {sorted(state)}")
        self.w = np.array(state["w"])

    def modules(self):
        return [self, self.dropout]


class _Optimizer:
    def __init__(self) -> None:
        self.state = {"lr": 0.1, "steps": 0, "state": {}}

    def state_dict(self):
        return self.state

    def load_state_dict(self, state):
        self.state = state


def test_a_resumed_run_gets_parameters_optimizer_and_draw_counts_back(tmp_path):
    model, opt = _Model(), _Optimizer()
    model.w[:] = [1.0, 2.0, 3.0]
    model.dropout.calls = 5
    opt.state = {"lr": 0.1, "steps": 4, "state": {0: {"m": np.ones(3)}}}
    path = tmp_path / "t.npz"
    save_training(path, {"epochs_done": 1}, model, opt)
    fresh, fresh_opt = _Model(), _Optimizer()
    saved = read_checkpoint(path, FILES)
    restore(saved, fresh, fresh_opt, path, "this model")
    np.testing.assert_array_equal(fresh.w, [1.0, 2.0, 3.0])
    assert fresh.dropout.calls == 5 and fresh_opt.state["steps"] == 4
    np.testing.assert_array_equal(fresh_opt.state["state"][0]["m"], np.ones(3))
    saved.params["w"] = np.zeros(4)
    with pytest.raises(TrainError, match=r"t.npz does not match this model \(.*\); try again"):
        restore(saved, fresh, None, path, "this model", "; try again")
