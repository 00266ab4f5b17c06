"""The training kit's ``dojo train`` plumbing: a registry of model kinds (lazy "module:attr"
entries, a duplicate refused, an unknown kind listing the others, a stray option refused
naming the kinds that read it, defaults filled in) and the run driver (which code trains, the
output folder and the data checked before any work, the progress callbacks, the periodic
checkpoint, an untouched stub as one clear error, the closing report)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.training import (
    OUTPUTS_ENV,
    ModelKind,
    ModelRegistry,
    TrainError,
    check_finite,
    resume_epoch,
    run_training,
)
from nlpdojo_autograder.training import commands as kit


class Toy:
    def __init__(self, step: int = 0) -> None:
        self.step = step

    def save(self, path: Path) -> None:
        np.savez(path, meta=np.asarray(json.dumps({"model": "toy", "step": self.step})))


def fit(run):
    run.start(4)
    for step in range(1, 5):
        run.snapshot = lambda s: Toy(s)
        run.on_step(step, 1.0 / step)
    run.report.update(score=0.5, steps=4, final_loss=0.25)
    return Toy(4)


def stub(run):
    raise NotImplementedError("toy.fit: not implemented yet")


TOY = ModelKind("toy", "a toy", fit, lambda path, code: Toy(), ("__init__.py",),
                frozenset({"hidden", "save_every"}), {"hidden": 8})
#: a kind another module defines, registered by its "module:attribute"
LAZY = ModelKind("lazy", "registered lazily", stub, lambda p, c: None,
                 options=frozenset({"depth"}))


@pytest.fixture
def models(monkeypatch) -> ModelRegistry:
    monkeypatch.setattr(kit, "require_datasets", lambda names: None)
    return ModelRegistry("dojo train toy", "word_vectors", noun="toy model",
                         flags={"hidden": "--hidden", "depth": "--depth",
                                "save_every": "--save-every"},
                         kinds={"toy": TOY, "lazy": f"{__name__}:LAZY"},
                         metric=lambda r: f"score {r['score']:.2f}",
                         after="(`dojo use {output}`)")


def test_kinds_are_found_listed_and_registered_once(models):
    assert models.get("toy") is TOY and models.get("lazy") is LAZY
    assert set(models) == {"toy", "lazy"} and "toy" in models
    with pytest.raises(TrainError, match=r"unknown model 'x'; available: lazy, toy "
                                         r"\(dojo train toy --model NAME\)"):
        models.get("x")
    with pytest.raises(ValueError, match="registered twice"):
        models.register("toy", TOY)


def test_other_plugins_add_kinds_to_a_command_by_its_trainer_name(models, monkeypatch):
    """``register_model_kinds``: a kind added for trainer ``toy`` joins ``dojo train toy``
    (listed, found, its "module:attribute" imported), one for another trainer does not, and
    one named as the command's own kind is an error naming its plugin."""
    from nlpdojo.registry import Registry

    registry = Registry()
    registry.add("model_kind", "deep", f"{__name__}:LAZY", plugin="pack", trainer="toy")
    registry.add("model_kind", "other", TOY, plugin="pack", trainer="lm")
    monkeypatch.setattr(kit, "get_registry", lambda: registry)
    assert models.trainer == "toy"
    assert set(models) == {"toy", "lazy", "deep"} and "other" not in models
    assert models.get("deep") is LAZY
    with pytest.raises(TrainError, match=r"available: deep, lazy, toy"):
        models.get("other")
    registry.add("model_kind", "toy", TOY, plugin="clash", trainer="toy")
    with pytest.raises(TrainError, match=r"plugin 'clash' adds a model 'toy' to `dojo train "
                                         r"toy`, which has one of that name"):
        models.get("toy")


def test_options_take_the_kinds_defaults_and_a_stray_one_is_refused(models):
    assert models.resolve(TOY, {"corpus": "c", "hidden": None, "depth": None}) == {
        "corpus": "c", "hidden": 8, "save_every": None}
    assert models.resolve(TOY, {"hidden": 3})["hidden"] == 3
    with pytest.raises(TrainError, match=r"--depth does not apply to --model toy \(it is for "
                                         r"--model lazy\); `dojo train toy --help`"):
        models.resolve(TOY, {"depth": 2})


def test_a_run_trains_reports_and_checkpoints(models, tmp_path, capsys):
    saved = []
    real = Toy.save
    Toy.save = lambda self, path: (saved.append(self.step), real(self, path))
    try:
        run = run_training(models, "toy", output=tmp_path / "t.npz", code=None,
                           solutions=True, progress=False, corpus="sotu", hidden=None,
                           depth=None, save_every=2)
    finally:
        Toy.save = real
    assert saved == [2, 4, 4] and run.options["hidden"] == 8 and run.corpus == "sotu"
    out = capsys.readouterr().out
    assert "training the toy toy model (a toy) on sotu: the reference solutions" in out
    assert "score 0.50" in out and "trained (4 steps, final loss 0.2500, " in out
    assert f"checkpoint -> {tmp_path / 't.npz'} (`dojo use {tmp_path / 't.npz'}`)" in out


def test_without_output_each_model_keeps_its_own_checkpoint(models, tmp_path, monkeypatch,
                                                           capsys):
    """No ``--output``: ``<trainer>-<model>.npz`` in the outputs folder, so training a second
    model does not overwrite the first one's checkpoint (a student's hour of training)."""
    monkeypatch.setenv(OUTPUTS_ENV, str(tmp_path / "outputs"))
    models.register("again", dataclasses.replace(TOY, name="again"))
    for name in ("toy", "again"):
        run_training(models, name, output=None, code=None, solutions=True, progress=False,
                     corpus="sotu", hidden=None, depth=None, save_every=None)
    written = sorted(p.name for p in (tmp_path / "outputs").iterdir())
    assert written == ["toy-again.npz", "toy-toy.npz"]
    # the closing line names the file as a command reads it back (a bare name)
    assert "(`dojo use toy-again.npz`)" in capsys.readouterr().out


def test_a_stub_a_bad_output_folder_and_missing_data_fail_before_or_clearly(models, tmp_path,
                                                                            monkeypatch):
    with pytest.raises(TrainError, match="not implemented yet .*`grade word_vectors` shows"):
        run_training(models, "lazy", output=tmp_path / "t.npz", code=None, solutions=True,
                     progress=False, corpus="sotu")
    with pytest.raises(TrainError, match="does not exist"):
        run_training(models, "toy", output=tmp_path / "no" / "t.npz", code=None,
                     solutions=True, progress=False, corpus="sotu")

    def missing(names):
        raise TrainError(f"not fetched yet: {names[0]}")

    monkeypatch.setattr(kit, "require_datasets", missing)
    with pytest.raises(TrainError, match="not fetched yet: sotu"):
        run_training(models, "toy", output=tmp_path / "t.npz", code=None, solutions=True,
                     progress=False, corpus="sotu")
    assert not (tmp_path / "t.npz").exists()


def test_a_kind_limits_its_corpora_and_checks_its_options(models, tmp_path):
    def no_odd(options):
        if options["hidden"] % 2:
            raise TrainError("--hidden must be even")

    models.register("even", ModelKind("even", "even", fit, lambda p, c: Toy(),
                                      options=frozenset({"hidden"}), defaults={"hidden": 2},
                                      corpora=("sotu",), validate=no_odd))
    with pytest.raises(TrainError, match="corpus 'mr' is not a toy-model corpus; choose one "
                                         "of sotu"):
        run_training(models, "even", output=tmp_path / "t.npz", code=None, solutions=True,
                     progress=False, corpus="mr")
    with pytest.raises(TrainError, match="must be even"):
        run_training(models, "even", output=tmp_path / "t.npz", code=None, solutions=True,
                     progress=False, corpus="sotu", hidden=3)


def test_a_checkpoints_meta_names_its_kind(models, tmp_path):
    Toy(3).save(tmp_path / "t.npz")
    model, meta = models.load(tmp_path / "t.npz", None)
    assert isinstance(model, Toy) and meta["step"] == 3
    np.savez(tmp_path / "n.npz", meta=np.asarray("{}"))
    with pytest.raises(TrainError, match="not a checkpoint of `dojo train toy` .no model name"):
        models.read_meta(tmp_path / "n.npz")


def test_diverged_losses_and_a_finished_resume_are_clear_errors(tmp_path):
    check_finite([1.0, 0.5], "adam, lr 0.1", "word_vectors")
    with pytest.raises(TrainError, match=r"became nan \(adam, lr 0.1\): lower --lr, or check "
                                         "your gradients with `grade word_vectors`"):
        check_finite([1.0, float("nan")], "adam, lr 0.1", "word_vectors")
    assert resume_epoch({"epochs_done": 1}, 3, tmp_path / "t.npz") == 1
    with pytest.raises(TrainError, match="has 3 epoch.s. already; ask for more with --epochs 4"):
        resume_epoch({"epochs_done": 3}, 3, tmp_path / "t.npz")


def test_a_run_whose_loss_turns_nan_stops_there_and_saves_nothing(models, tmp_path):
    """Found by a student: an LSTM whose cell state overflowed trained to a held-out
    perplexity of nan, saved that checkpoint and exited 0."""
    def diverges(run):
        run.start(4)
        run.snapshot = lambda s: Toy(s)
        for step, loss in enumerate((2.0, 1.5, float("nan"), 1.0), start=1):
            run.on_step(step, loss)
        return Toy(4)

    models.register("wild", ModelKind("wild", "diverges", diverges, lambda p, c: Toy(),
                                      ("__init__.py",), frozenset({"save_every"})))
    out = tmp_path / "t.npz"
    with pytest.raises(TrainError, match=r"the training loss became nan at step 3 .*"
                                         r"lower --lr, or check your gradients with `grade "
                                         r"word_vectors`"):
        run_training(models, "wild", output=out, code=None, solutions=True, progress=False,
                     corpus="sotu", save_every=None)
    assert not out.exists()
