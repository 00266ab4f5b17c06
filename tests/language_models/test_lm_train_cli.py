"""``dojo train lm --model window|rnn`` and ``dojo sample`` of their checkpoints: the neural LMs
train with a progress callback, write a checkpoint (also during training) and report held-out
perplexity next to the unigram model's; ``--model`` is a table of builders another module can add
to; options of another model, an unknown model and a stub are one error line (exit code 2);
``dojo train neural-lm`` still runs, as a deprecated alias; ``dojo sample`` generates from a window
or RNN checkpoint (seeded, greedy at T = 0, top-k) and refuses what it cannot sample. A synthetic
corpus is patched in, so each run takes well under a second."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.training import ModelKind
from nlpdojo_autograder.training import TokenStreams as LMData
from nlpdojo_autograder.training import neural_lm as neural
from nlpdojo_course.language_models import neural_models
from nlpdojo_course.language_models import trainer as lm_cli
from tests import _cli
from tests._cli import dojo, forget_student_packages  # noqa: F401 - the fixture

corpus = _cli.corpus  # the fixture: synthetic id streams

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--dim", "4", "--hidden", "6", "--bptt", "5", "--batch-size", "4", "--lr", "0.01",
         "--no-progress"]
WINDOW_SMALL = ["--dim", "4", "--hidden", "6", "--context", "3", "--batch-size", "16",
                "--no-progress"]


def train(*args: str):
    return dojo("train", "lm", *args)


def small(model: str) -> list[str]:
    return SMALL if model == "rnn" else WINDOW_SMALL



@pytest.mark.parametrize("model", ["rnn", "window"])
def test_trains_reports_perplexity_and_saves_a_checkpoint(model, corpus, tmp_path):
    out = tmp_path / "lm.npz"
    result = train("--solutions", "--model", model, "--output", str(out), *small(model))
    assert result.exit_code == 0, result.output
    printed = float(result.output.split("held-out perplexity ")[1].split()[0])
    unigram = float(result.output.split("add-one unigram ")[1].split()[0])
    assert 1.0 < printed < 60.0 and unigram == pytest.approx(
        neural_unigram(corpus, model), abs=0.006)
    with np.load(out) as saved:
        meta = json.loads(str(saved["meta"]))
        params = {k for k in saved.files if k.startswith("param/")}
        assert list(saved["words"]) == list(corpus.words)
    assert meta["model"] == model and meta["step"] > 0 and meta["hidden"] == 6
    assert meta["heldout_perplexity"] == pytest.approx(printed, abs=0.006)
    assert "param/embedding.weight" in params and "param/output.bias" in params
    assert ("param/rnn.cell.weight_h" in params) == (model == "rnn")


@pytest.mark.parametrize("split", ["test", "valid"])
def test_the_neural_models_are_scored_on_the_same_split_as_the_count_models(
        split, corpus, tmp_path, monkeypatch):
    """Issue 26: the neural models were always scored on test while the count models defaulted
    to valid. Both follow --heldout (test by default), and say which."""
    asked = []
    monkeypatch.setattr(neural, "lm_data", lambda *a, **k: (asked.append(k["heldout"]), corpus)[1])
    extra = [] if split == "test" else ["--heldout", "valid"]
    result = train("--solutions", "--model", "rnn", "--output", str(tmp_path / "lm.npz"),
                   *SMALL, *extra)
    assert result.exit_code == 0, result.output
    assert asked == [split]
    flat = " ".join(result.output.split())
    assert "held-out perplexity " in flat and f"on sotu's {split} split (" in flat
    figure = "100.4" if split == "test" else "106.8"
    assert f"reach {figure} on sotu's {split} split (RNN LM" in flat
    assert lm_cli.MODELS.read_meta(tmp_path / "lm.npz")["heldout"] == split


def neural_unigram(corpus: LMData, model: str) -> float:
    """The add-one unigram perplexity over the tokens each model is scored on, by hand."""
    counts = np.bincount(corpus.train_ids, minlength=21)
    targets = corpus.test_ids
    if model == "rnn":  # 10 streams of 51 tokens, windows of 50: each stream's first is no target
        targets = corpus.test_ids[:510].reshape(10, 51)[:, 1:].reshape(-1)
    p = (counts[targets] + 1.0) / (counts.sum() + 21)
    return float(np.exp(-np.mean(np.log(p))))


def test_the_default_optimizer_and_rate_are_the_models_own(corpus, tmp_path):
    for model, expected in (("rnn", ("sgd", 0.7)), ("window", ("adam", 0.003))):
        out = tmp_path / f"{model}.npz"
        assert train("--solutions", "--model", model, "--output", str(out), "--max-steps", "2",
                     "--no-progress").exit_code == 0
        meta = lm_cli.MODELS.read_meta(out)
        assert (meta["optimizer"], meta["lr"]) == expected


def test_checkpoints_are_written_during_training_too(corpus, tmp_path, monkeypatch):
    saved_at = []
    real = neural.NeuralLM.save
    monkeypatch.setattr(neural.NeuralLM, "save",
                        lambda self, path: (saved_at.append(self.meta["step"]), real(self, path)))
    result = train("--solutions", "--model", "rnn", "--output", str(tmp_path / "lm.npz"),
                   "--save-every", "3", "--epochs", "2", *SMALL)
    assert result.exit_code == 0, result.output
    steps = 2 * ((800 // 4 - 1) // 5)
    assert saved_at == [*range(3, steps + 1, 3), steps]


def test_the_progress_bar_counts_every_step(corpus, tmp_path, monkeypatch):
    import tqdm.auto

    bars = []

    class Bar:
        def __init__(self, total, **kwargs):
            self.total, self.n, self.kwargs = total, 0, kwargs
            bars.append(self)

        def update(self, k):
            self.n += k

        def set_postfix(self, **kwargs):
            pass

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    args = [a for a in SMALL if a != "--no-progress"]
    result = train("--solutions", "--model", "rnn", "--output", str(tmp_path / "lm.npz"), *args)
    assert result.exit_code == 0, result.output
    assert len(bars) == 1 and bars[0].total == bars[0].n == (800 // 4 - 1) // 5
    assert bars[0].kwargs["disable"] is None  # no bar where the output is not a terminal


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "transformer"],
     "unknown model 'transformer'; available: gru, lstm, ngram, rnn, window"),
    (["--model", "rnn", "--order", "3"], "--order does not apply to --model rnn (it is for "
                                         "--model ngram)"),
    (["--model", "ngram", "--hidden", "8", "--bptt", "4"],
     "--hidden, --bptt does not apply to --model ngram"),
    (["--model", "window", "--optimizer", "lbfgs"], "unknown --optimizer 'lbfgs'"),
])
def test_bad_options_are_one_error_line_and_exit_code_2(corpus, tmp_path, args, message):
    result = train("--solutions", "--output", str(tmp_path / "x.npz"), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.npz").exists()


def test_a_model_registered_by_another_module_is_trained(corpus, tmp_path, monkeypatch):
    """--model is a table of builders: a new model registers itself, with its own options."""
    seen = {}

    class Uniform:
        tokens = ("a", "</s>")

        def save(self, path):
            np.savez(path, meta=np.asarray(json.dumps({"model": "uniform"})))

    def fit(run):
        seen["options"] = run.options
        run.start(1)
        run.on_step(1, 2.0)
        run.report.update(perplexity=21.0, heldout_tokens=5, steps=1, final_loss=2.0)
        return Uniform()

    monkeypatch.setattr(lm_cli.MODELS, "kinds", dict(lm_cli.MODELS.kinds))
    lm_cli.MODELS.register("uniform", ModelKind(
        "uniform", "every word alike", fit, lambda path, code: Uniform(), ("__init__.py",),
        frozenset({"dim"}), {"dim": 7}))
    with pytest.raises(ValueError, match="registered twice"):
        lm_cli.MODELS.register("uniform", lm_cli.MODELS.kinds["uniform"])
    out = tmp_path / "u.npz"
    result = train("--solutions", "--model", "uniform", "--output", str(out), "--no-progress")
    assert result.exit_code == 0, result.output
    assert "held-out perplexity 21.00" in result.output and seen["options"]["dim"] == 7
    assert "order" not in seen["options"]  # another model's option is not passed
    sampled = dojo("sample", str(out), "--solutions")
    assert sampled.exit_code == 2
    assert "the uniform model of `dojo train lm` cannot generate text" in sampled.output


def test_an_untouched_stub_says_what_is_left_to_write(corpus, tmp_path):
    course = tmp_path / "exercises"
    for name in ("library", "language_models"):
        shutil.copytree(ROOT / "exercises" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    result = train("--model", "rnn", "--code", str(course / "language_models"), "--output",
                   str(tmp_path / "lm.npz"), *SMALL)
    assert result.exit_code == 2
    # the first stub it meets is the course library's (Xavier's, a neural_networks question)
    assert "not implemented yet" in result.output and "grade neural_networks" in result.output
    assert "your course library, which" in result.output


def test_neural_lm_is_a_deprecated_alias_of_train_lm(corpus, tmp_path):
    out = tmp_path / "lm.npz"
    result = dojo("train", "neural-lm", "--solutions", "--model", "window", "--train-texts", "3",
                  "--output", str(out), *WINDOW_SMALL)
    assert result.exit_code == 0, result.output
    assert "deprecated" in result.output and "dojo train lm --model window|rnn" in result.output
    assert "held-out perplexity" in result.output
    assert lm_cli.MODELS.read_meta(out)["model"] == "window"
    refused = dojo("train", "neural-lm", "--solutions", "--model", "ngram", "--output",
                   str(tmp_path / "n.npz"))
    assert refused.exit_code == 2 and "choose rnn or window" in refused.output


@pytest.mark.parametrize("model", ["rnn", "window"])
def test_sample_generates_from_a_neural_checkpoint(model, corpus, tmp_path):
    out = tmp_path / "lm.npz"
    assert train("--solutions", "--model", model, "--output", str(out),
                 *small(model)).exit_code == 0
    first = dojo("sample", str(out), "--solutions", "--sentences", "4", "--seed", "3",
                 "--max-words", "12")
    assert first.exit_code == 0, first.output
    header, *lines = first.output.strip().splitlines()
    assert f"model {model}" in header and len(lines) == 4
    assert all(set(line.split()) <= set(corpus.words) - {"</s>"} for line in lines)
    assert all(len(line.split()) <= 12 for line in lines)
    again = dojo("sample", str(out), "--solutions", "--sentences", "4", "--seed", "3",
                 "--max-words", "12")
    assert again.output == first.output
    greedy = dojo("sample", str(out), "--solutions", "--temperature", "0", "--sentences", "3",
                  "--max-words", "6", "--seed", "1")
    top1 = dojo("sample", str(out), "--solutions", "--top-k", "1", "--sentences", "3",
                "--max-words", "6", "--seed", "2")
    assert len(set(greedy.output.strip().splitlines()[1:])) == 1  # T = 0: one argmax path
    assert greedy.output.strip().splitlines()[1:] == top1.output.strip().splitlines()[1:]
    unknown = dojo("sample", str(out), "--solutions", "--prompt", "w3 zzz", "--sentences", "1")
    assert unknown.exit_code == 0, unknown.output
    assert "not in the model's vocabulary, read as <UNK>: zzz" in unknown.output
    prompted = dojo("sample", str(out), "--solutions", "--prompt", "w3 w4", "--sentences", "2")
    assert all(line.startswith("w3 w4") and not line.startswith("w3 w4 w3 w4")
               for line in prompted.output.strip().splitlines()[1:])


def test_the_rnn_carries_its_state_as_one_long_forward_pass(corpus, tmp_path):
    """Scoring word by word (the carried state) equals the model run over the whole history."""
    from nlpdojo_autograder.training.train import CodeChoice, TopicCode

    out = tmp_path / "lm.npz"
    assert train("--solutions", "--model", "rnn", "--output", str(out), *SMALL).exit_code == 0
    code = CodeChoice(TopicCode("language_models", ("rnn_lm.py",)), None)
    stepwise, whole = neural_models.RNN.load(out, code), neural_models.RNN.load(out, code)
    history = np.random.default_rng(0).integers(0, 21, (3, 9))
    for t in range(1, 9):
        scores = stepwise.next_scores(history[:, :t])  # (3, V)
    np.testing.assert_allclose(np.exp(scores).sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(scores, whole.next_scores(history[:, :8]), rtol=1e-5, atol=1e-6)
    other = history.copy()
    other[:, 0] = (other[:, 0] + 1) % 21  # a different history: the state is not reused
    fresh = neural_models.RNN.load(out, code).next_scores(other[:, :8])
    np.testing.assert_allclose(stepwise.next_scores(other[:, :8]), fresh, rtol=1e-5, atol=1e-6)


def test_sample_refuses_what_it_cannot_sample(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "gpt.npz", meta=np.asarray(json.dumps({"model": "gpt"})))
    np.savez(tmp_path / "bare.npz", meta=np.asarray(json.dumps({"model": "rnn"})))
    trained = tmp_path / "rnn.npz"
    assert train("--solutions", "--model", "rnn", "--output", str(trained),
                 *SMALL).exit_code == 0
    with np.load(trained) as data:  # the parameters of a bigger model under the same name
        arrays = dict(data)
    arrays["param/output.bias"] = np.zeros(5, np.float32)
    np.savez(tmp_path / "mismatch.npz", **arrays)
    for args, message in [
        (["nowhere.npz"], "no checkpoint nowhere.npz"),
        ([str(tmp_path)], "is a folder"),
        (["gpt.npz"], "holds a 'gpt' model, which this nlpdojo cannot sample"),
        (["bare.npz"], "needs its vocabulary (with </s>) and parameters"),
        (["mismatch.npz"], "does not match the rnn model"),
    ]:
        result = dojo("sample", *args, "--solutions")
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_the_help_names_each_options_model_and_default():
    """Defaults are written "(default 3)": rich would swallow "[default: 3]" as markup."""
    result = dojo("train", "lm", "--help")
    assert result.exit_code == 0
    flat = "".join(ch for ch in result.output if ch.isalnum() or ch in "():-.")
    for phrase in ("(default3)", "(defaultkneser-ney)", "(default0.75)", "(default35)",
                   "(default10000)", "ngram:", "rnn:", "window:"):
        assert phrase in flat, phrase
