"""``dojo train neural-lm``: the RNN and window LMs train with a progress callback, write a
checkpoint (also during training) and report held-out perplexity next to the unigram model's;
``--model`` is a dict of builders another module can add to; a stub or an unknown model is one error
line. A synthetic corpus is patched in, so each run takes well under a second."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.topics import language_models_neural_train as lm_cli
from nlpdojo_autograder.topics.language_models_neural_data import LMData

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
SMALL = ["--dim", "4", "--hidden", "6", "--bptt", "5", "--batch-size", "4", "--lr", "0.01",
         "--no-progress"]


def train(*args: str):
    return runner.invoke(build_app(), ["train", "neural-lm", *args])


@pytest.fixture(autouse=True)
def _fresh_student_package():
    yield
    for name in [m for m in sys.modules if m.startswith("nlpdojo_submission_cli")]:
        del sys.modules[name]


@pytest.fixture
def corpus(monkeypatch) -> LMData:
    rng = np.random.default_rng(0)
    words = tuple(f"w{i}" for i in range(19)) + ("</s>", "<UNK>")
    fake = LMData(rng.integers(0, 21, 800), rng.integers(0, 21, 10 * 51 + 1), words)
    monkeypatch.setattr(lm_cli, "require_datasets", lambda names: None)
    monkeypatch.setattr(lm_cli, "lm_data", lambda *a, **k: fake)
    return fake


@pytest.mark.parametrize("model", ["rnn", "window"])
def test_trains_reports_perplexity_and_saves_a_checkpoint(model, corpus, tmp_path):
    out = tmp_path / "lm.npz"
    result = train("--solutions", "--model", model, "--output", str(out), *SMALL)
    assert result.exit_code == 0, result.output
    assert "held-out perplexity" in result.output and "add-one unigram" in result.output
    with np.load(out) as saved:
        meta = json.loads(str(saved["meta"]))
        params = {k for k in saved.files if k.startswith("param/")}
        assert list(saved["words"]) == list(corpus.words)
    assert meta["model"] == model and meta["step"] > 0 and meta["hidden"] == 6
    assert "param/embedding.weight" in params and "param/output.bias" in params
    assert ("param/rnn.cell.weight_h" in params) == (model == "rnn")


def test_checkpoints_are_written_during_training_too(corpus, tmp_path, monkeypatch):
    saved_at = []
    real = lm_cli.save_checkpoint
    monkeypatch.setattr(lm_cli, "save_checkpoint",
                        lambda *a: (saved_at.append(a[-1]), real(*a)))
    result = train("--solutions", "--output", str(tmp_path / "lm.npz"), "--save-every", "3",
                   "--epochs", "2", *SMALL)
    assert result.exit_code == 0, result.output
    steps = 2 * ((800 // 4 - 1) // 5)
    assert saved_at == [*range(3, steps + 1, 3), steps]


def test_an_unknown_model_is_one_error_line_listing_the_models(corpus, tmp_path):
    result = train("--solutions", "--model", "lstm", "--output", str(tmp_path / "x.npz"))
    assert result.exit_code == 2
    assert "unknown --model 'lstm'; choose one of rnn, window" in result.output


def test_a_model_registered_by_another_module_is_trained(corpus, tmp_path, monkeypatch):
    """--model is a dict of builders: a count model registers itself the same way."""
    seen = {}

    def fit(run):
        seen["options"] = run.options
        run.on_step(1, 2.0)
        targets = run.data.test_ids
        return lm_cli.LMResult(np.full(len(targets), -np.log(21.0)), targets, [2.0],
                               {"counts": np.ones(3)}, {"order": 2})

    monkeypatch.setattr(lm_cli, "MODELS", dict(lm_cli.MODELS))
    lm_cli.register_model("uniform", lm_cli.LMBuilder("uniform", ("__init__.py",),
                                                      lambda run: 1, fit))
    with pytest.raises(ValueError, match="registered twice"):
        lm_cli.register_model("uniform", lm_cli.MODELS["uniform"])
    result = train("--solutions", "--model", "uniform", "--output", str(tmp_path / "u.npz"),
                   *SMALL)
    assert result.exit_code == 0, result.output
    assert "held-out perplexity 21.00" in result.output and seen["options"]["dim"] == 4


def test_an_untouched_stub_says_what_is_left_to_write(corpus, tmp_path):
    course = tmp_path / "exercises"
    for name in ("library", "language_models"):
        shutil.copytree(ROOT / "exercises" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    result = train("--code", str(course / "language_models"), "--output",
                   str(tmp_path / "lm.npz"), *SMALL)
    assert result.exit_code == 2
    assert "not implemented yet" in result.output and "grade language_models" in result.output
