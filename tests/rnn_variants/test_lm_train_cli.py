"""``dojo train lm --model lstm|gru``: rnn_variants adds its gated LMs to language_models'
command through the training kit's registry, touching no other topic's file: they train with
the topic's own ``train_gated_lm`` (clipping, the state carried), report perplexity beside the
add-one unigram model's, save a checkpoint that ``dojo sample`` generates from (with
language_models' sampler, found beside the rnn_variants folder a student names), and refuse
options they do not read. A synthetic corpus is patched in: each run takes about a second."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_course.language_models.trainer import MODELS
from tests import _cli
from tests._cli import dojo, forget_student_packages  # noqa: F401 - the fixture

corpus = _cli.corpus  # the fixture: synthetic id streams

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--dim", "4", "--hidden", "6", "--bptt", "5", "--batch-size", "4", "--no-progress"]



@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_gated_lm_trains_saves_and_samples(cell, corpus, tmp_path):
    out = tmp_path / f"{cell}.npz"
    result = dojo("train", "lm", "--solutions", "--model", cell, "--output", str(out), *SMALL)
    assert result.exit_code == 0, result.output
    assert f"training the {cell} language model" in result.output
    assert "held-out perplexity" in result.output and "add-one unigram" in result.output
    assert "trained (39 steps" in result.output  # (800 // 4 - 1) // 5 windows, one epoch
    meta = MODELS.read_meta(out)
    assert meta["model"] == cell and meta["clip"] == 5.0 and meta["optimizer"] == "adam"
    params = dict(np.load(out))
    # an LSTM's cell holds four gates' weights, a GRU's three
    gates = {"lstm": 4, "gru": 3}[cell]
    assert params["param/rnn.cell.weight_h"].shape == (6, gates * 6)
    sampled = dojo("sample", str(out), "--solutions", "--sentences", "3", "--seed", "2",
                   "--max-words", "7")
    assert sampled.exit_code == 0, sampled.output
    header, *lines = sampled.output.strip().splitlines()
    assert f"model {cell}" in header and len(lines) == 3
    assert all(set(line.split()) <= set(corpus.words) - {"</s>"} for line in lines)


def test_the_clipping_reaches_the_students_loop(corpus, tmp_path, monkeypatch):
    """The kind passes its options to ``train_gated_lm``: the clip among them."""
    from nlpdojo_solutions.rnn_variants import lstm_lm

    seen = {}
    original = lstm_lm.train_gated_lm

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(lstm_lm, "train_gated_lm", spy)
    result = dojo("train", "lm", "--solutions", "--model", "lstm", "--max-steps", "3",
                  "--lr", "0.5", "--optimizer", "sgd", "--output", str(tmp_path / "l.npz"),
                  *SMALL)
    assert result.exit_code == 0, result.output
    assert seen["clip"] == 5.0 and seen["lr"] == 0.5 and seen["optimizer"] == "sgd"
    assert seen["max_windows"] == 3 and "trained (3 steps" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "lstm", "--context", "3"], "--context does not apply to --model lstm"),
    (["--model", "gru", "--order", "3"], "--order does not apply to --model gru"),
    (["--model", "lstm", "--optimizer", "lbfgs"], "unknown --optimizer 'lbfgs'"),
])
def test_options_a_gated_lm_does_not_read_are_one_error_line(corpus, tmp_path, args, message):
    result = dojo("train", "lm", "--solutions", "--output", str(tmp_path / "x.npz"), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.npz").exists()


def test_a_students_folders_train_and_sample(corpus, tmp_path):
    """``--code exercises/rnn_variants`` trains the student's LSTM LM; ``dojo sample`` with the
    same ``--code`` takes the sampler from ``exercises/language_models`` beside it."""
    course = tmp_path / "exercises"
    for name in ("library", "neural_networks", "language_models", "rnn_variants"):
        shutil.copytree(ROOT / "solutions" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "lstm.npz"
    code = str(course / "rnn_variants")
    trained = dojo("train", "lm", "--model", "lstm", "--code", code, "--output", str(out),
                   "--max-steps", "4", *SMALL)
    assert trained.exit_code == 0, trained.output
    assert f"your code in {code}" in trained.output
    sampled = dojo("sample", str(out), "--code", code, "--sentences", "2", "--seed", "1")
    assert sampled.exit_code == 0, sampled.output
    assert (f"sampled by your code in {code}; the sampler: your code in "
            f"{course / 'language_models'}") in sampled.output


def test_an_untouched_stub_says_what_is_left_to_write(corpus, tmp_path):
    course = tmp_path / "exercises"
    for name in ("library", "rnn_variants"):
        shutil.copytree(ROOT / "exercises" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    result = dojo("train", "lm", "--model", "lstm", "--code", str(course / "rnn_variants"),
                  "--output", str(tmp_path / "lm.npz"), *SMALL)
    assert result.exit_code == 2, result.output
    assert "not implemented yet" in result.output and "Traceback" not in result.output


def test_an_untouched_sampler_stub_names_the_sampler_topic(corpus, tmp_path):
    """The LSTM LM is written (rnn_variants), the sampler not yet (language_models): the error
    sends the student to ``grade language_models``, not to the model's topic."""
    course = tmp_path / "exercises"
    for name in ("library", "neural_networks", "rnn_variants"):
        shutil.copytree(ROOT / "solutions" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "exercises" / "language_models", course / "language_models",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "lstm.npz"
    code = str(course / "rnn_variants")
    assert dojo("train", "lm", "--model", "lstm", "--code", code, "--output", str(out),
                "--max-steps", "2", *SMALL).exit_code == 0
    sampled = dojo("sample", str(out), "--code", code)
    assert sampled.exit_code == 2, sampled.output
    assert "not implemented yet" in sampled.output
    assert "`grade language_models`" in sampled.output and "Traceback" not in sampled.output


def _course(tmp_path: Path) -> Path:
    """A student's course with every topic these commands run written (the reference's)."""
    course = tmp_path / "exercises"
    for name in ("library", "neural_networks", "language_models", "rnn_variants"):
        shutil.copytree(ROOT / "solutions" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return course


@pytest.mark.parametrize(("old", "new", "says"), [
    ("vectors, c_emb = self.embedding(ids)", "vectors, c_emb = self.embedding(idz)",
     "your code raised NameError: name 'idz' is not defined (exercises/rnn_variants/"
     "lstm_lm.py, line {line}, in forward); `grade rnn_variants` checks it piece by piece"),
    ("b, t_steps = ids.shape", "b, t_steps = ids.shape)",
     "your code raised SyntaxError: unmatched ')' (exercises/rnn_variants/lstm_lm.py, "
     "line {line}, in <module>)"),
])
def test_an_error_in_the_students_code_names_their_file_and_line(corpus, tmp_path, old, new,
                                                                 says):
    """Not "a bug in nlpdojo" (exit 3): one error line at their own file and line, exit 2."""
    course = _course(tmp_path)
    model = course / "rnn_variants" / "lstm_lm.py"
    text = model.read_text()
    line = text[:text.index(old)].count("\n") + 1  # the line changed
    model.write_text(text.replace(old, new, 1))
    result = dojo("train", "lm", "--model", "lstm", "--code", str(course), "--output",
                  str(tmp_path / "l.npz"), *SMALL)
    assert result.exit_code == 2, result.output
    said = says.format(line=line)
    assert said in result.output and "internal error" not in result.output, result.output


def test_an_error_in_the_reference_stays_an_internal_error(corpus, tmp_path, monkeypatch):
    from nlpdojo_solutions.rnn_variants import lstm_lm

    def broken(*args, **kwargs):
        raise ValueError("the reference broke")

    monkeypatch.setattr(lstm_lm, "train_gated_lm", broken)
    result = dojo("train", "lm", "--solutions", "--model", "lstm", "--output",
                  str(tmp_path / "l.npz"), *SMALL)
    assert result.exit_code == 3, result.output
    assert "internal error" in result.output and "the reference broke" in result.output


def test_from_inside_another_topic_folder_the_models_topic_is_found_beside_it(
        corpus, tmp_path, monkeypatch):
    """Run from exercises/language_models, --model lstm trains exercises/rnn_variants (not the
    reference); dojo sample --code . from exercises/rnn_variants finds the sampler beside it."""
    course = _course(tmp_path)
    monkeypatch.chdir(course / "language_models")
    trained = dojo("train", "lm", "--model", "lstm", "--output", str(tmp_path / "l.npz"),
                   *SMALL)
    assert trained.exit_code == 0, trained.output
    assert "your code in" in trained.output and "reference" not in trained.output
    monkeypatch.chdir(course / "rnn_variants")
    sampled = dojo("sample", str(tmp_path / "l.npz"), "--code", ".", "--sentences", "2")
    assert sampled.exit_code == 0, sampled.output
    assert "the sampler: your code in" in sampled.output


@pytest.mark.parametrize(("args", "says"), [
    (["--lr", "0"], "--lr must be above 0 (got 0)"),
    (["--batch-size", "1000"], "no training step was taken on 800 training tokens"),
])
def test_settings_that_cannot_train_are_one_error_line(corpus, tmp_path, args, says):
    result = dojo("train", "lm", "--solutions", "--model", "lstm", "--output",
                  str(tmp_path / "l.npz"), *SMALL, *args)
    assert result.exit_code == 2, result.output
    assert says in result.output and not (tmp_path / "l.npz").exists()


def test_a_held_out_split_too_short_to_score_is_an_error_not_nan(tmp_path, monkeypatch):
    from nlpdojo_autograder.training import TokenStreams, neural_lm
    from nlpdojo_autograder.training import commands as kit_commands

    rng = np.random.default_rng(0)
    words = tuple(f"w{i}" for i in range(19)) + ("</s>", "<UNK>")
    short = TokenStreams(rng.integers(0, 21, 800), rng.integers(0, 21, 118), words)
    monkeypatch.setattr(kit_commands, "require_datasets", lambda names: None)
    monkeypatch.setattr(neural_lm, "lm_data", lambda *a, **k: short)
    result = dojo("train", "lm", "--solutions", "--model", "gru", "--corpus", "brown",
                  "--output", str(tmp_path / "g.npz"), *SMALL)
    assert result.exit_code == 2, result.output
    assert "no held-out token could be scored: brown's test split (118 tokens)" in result.output
    assert "nan" not in result.output


def test_the_help_lists_every_model_with_its_topic_and_defaults():
    text = " ".join(dojo("train", "lm", "--help").output.split())
    for expected in ("--model lstm: LSTM LM", "(its code: exercises/rnn_variants)",
                     "--model gru: GRU LM", "--model rnn: RNN LM", "--model ngram:",
                     "--lr 0.01, --optimizer adam", "--lr 0.7, --optimizer sgd"):
        assert expected in text, expected
