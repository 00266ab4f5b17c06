"""``dojo train tagger --model char``: the character-aware tagger cnn_text adds to
neural_networks' tagging command (``register_model_kinds``), trained through the topic's given
``char_tagger`` on the first OANC sentences, scored on the whole held-out split; its report
says the accuracy on every word and on the words without a vector, each beside its baseline,
and the options only the window tagger has, an unknown model and an untouched stub are one
error line (exit code 2)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.training import read_checkpoint, save_checkpoint
from nlpdojo_course.cnn_text.char_tagger_kind import FILES
from tests import _cli
from tests._cli import forget_student_packages  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--train-sentences", "300", "--epochs", "3", "--hidden", "80"]


def dojo(*args: str):
    """``dojo train tagger ARGS...``: its result (exit code, output)."""
    return _cli.dojo("train", "tagger", *args)


def _flat(output: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(output.split())


def test_the_character_aware_tagger_trains_reports_both_accuracies_and_saves(tmp_path):
    out = tmp_path / "char.npz"
    result = dojo("--model", "char", "--solutions", *QUICK, "--output", str(out))
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    assert "training the char tagger" in text and "the reference solutions" in text
    line = re.search(r"held-out accuracy ([\d.]+) on [\d,]+ tokens; most-frequent-tag "
                     r"baseline ([\d.]+) \([+-][\d.]+ points\); on the [\d,]+ words seen "
                     r"fewer than twice in training ([\d.]+), their most frequent tag "
                     r"([\d.]+)", text)
    assert line, text
    accuracy, baseline, unknown, unknown_baseline = map(float, line.groups())
    assert accuracy > baseline, line
    # the words without a vector: only their characters tell them apart
    assert unknown > unknown_baseline + 0.1, line
    saved = read_checkpoint(out, FILES)
    assert saved.meta["model"] == "char" and saved.meta["train_sentences"] == 300
    assert saved.meta["epochs"] == 3 and saved.meta["lr"] == 0.01  # the graded budget's lr
    assert abs(saved.meta["accuracy"] - accuracy) < 1e-4
    assert saved.params["embedding.weight"].shape[1] == 50  # the graded tagger's, unset
    assert saved.params["hidden.weight"].shape[1] == 80
    assert saved.params["chars.conv.weight"].shape == (3, 16, 50)  # the graded CNN's sizes
    assert np.isfinite(saved.params["output.weight"]).all()

    # --evaluate reads the model from the checkpoint and scores it again: the same figures
    evaluated = dojo("--solutions", "--evaluate", str(out))
    assert evaluated.exit_code == 0, evaluated.output
    again = _flat(evaluated.output)
    assert f"{out}: --model char, 3 epoch(s) on oanc-pos; evaluated with the reference" in again
    assert line.group(0) in again
    # it does not resume (the window tagger's checkpoints do)
    resumed = dojo("--solutions", "--resume", "--output", str(out))
    assert resumed.exit_code == 2, resumed.output
    assert f"{out} is a checkpoint of --model char, which does not resume" in _flat(
        resumed.output)


@pytest.mark.parametrize(("meta", "message"), [
    ({"dataset": "oanc-pos", "epochs_done": 1}, "is a checkpoint of the window tagger: "
                                                "--evaluate it without --model char"),
    ({"model": "transformer"}, "is a checkpoint of --model transformer, which no installed "
                               "topic adds here (available: window, char)"),
])
def test_a_checkpoint_of_another_tagger_is_named_not_misread(tmp_path, meta, message):
    path = tmp_path / "other.npz"
    save_checkpoint(path, meta, params={"embedding.weight": np.zeros((3, 2))})
    result = dojo("--model", "char", "--solutions", "--evaluate", str(path))
    assert result.exit_code == 2, result.output
    assert message in _flat(result.output) and "Traceback" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "transformer"], "unknown model 'transformer'; available: window, char"),
    (["--model", "char", "--optimizer", "sgd"], "--optimizer is for --model window only"),
    (["--model", "char", "--resume", "--compare-optimizers"],
     "--resume and --compare-optimizers are for --model window only"),
    (["--model", "char", "--lr", "0"], "--lr must be above 0"),
    # a corpus of other records (MR's labelled sentences) is refused before any work, by
    # either tagger (the window one failed with an internal error)
    (["--model", "char", "--dataset", "mr"], "corpus 'mr' is not a tagger corpus: it holds "
                                             "LabeledSentences, not TaggedSentences; choose "
                                             "one of oanc-pos"),
    (["--dataset", "mr"], "corpus 'mr' is not a tagged corpus: it holds LabeledSentences"),
])
def test_what_the_char_tagger_does_not_take_is_one_error_line(tmp_path, args, message):
    result = dojo("--solutions", "--output", str(tmp_path / "x.npz"), *args)
    assert result.exit_code == 2, result.output
    assert message in _flat(result.output)
    assert "Traceback" not in result.output and not (tmp_path / "x.npz").exists()


def test_the_help_names_the_char_tagger_and_its_topic():
    result = _cli.runner.invoke(build_app(), ["train", "tagger", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = _flat(result.output)
    assert "--model char: the window tagger whose words are their vector and your " \
           "CharCNNEmbedding of their characters (its code: exercises/cnn_text)" in text


@pytest.mark.parametrize("cnn_text", ["solutions", "exercises"])
def test_a_students_folder_trains_and_an_untouched_stub_names_its_topic(tmp_path, cnn_text):
    """The student's own cnn_text (on their course library) trains; with the character CNN
    still a stub, one error line sends them to `grade cnn_text`."""
    course = tmp_path / "exercises"
    for name, source in (("library", "solutions"), ("neural_networks", "solutions"),
                         ("cnn_text", cnn_text)):
        shutil.copytree(ROOT / source / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    result = dojo("--model", "char", "--code", str(course / "cnn_text"), "--train-sentences",
                  "100", "--output", str(tmp_path / "c.npz"))
    if cnn_text == "solutions":
        assert result.exit_code == 0, result.output
        assert f"your code in {course / 'cnn_text'}" in _flat(result.output)
    else:
        assert result.exit_code == 2, result.output
        assert "not implemented yet" in result.output and "`grade cnn_text`" in result.output
        assert "Traceback" not in result.output and not (tmp_path / "c.npz").exists()
