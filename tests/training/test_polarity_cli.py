"""``dojo train polarity --model rnn|bilstm|cnn``: one command owned by language_models, with
the sentence classifiers rnn_variants and cnn_text add through ``register_model_kinds``; each
trains through its topic's given ``train_polarity``, is scored on the whole test split by the
kit (accuracy beside the majority class) and saved; options of another model, an unknown
model and an untouched stub are one error line (exit code 2). A synthetic labelled set is
patched in (words 2-9 lean positive, 10-17 negative), so each run takes about a second."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.training import SentenceData
from nlpdojo_autograder.training import commands as kit_commands
from nlpdojo_autograder.training import polarity as kit_polarity
from nlpdojo_course.language_models.polarity import MODELS
from tests._cli import dojo, forget_student_packages  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
#: the topic whose folder each model's code is in
TOPICS = {"rnn": "language_models", "bilstm": "rnn_variants", "cnn": "cnn_text"}
SMALL = {"rnn": ["--dim", "6", "--hidden", "5"], "bilstm": ["--dim", "6", "--hidden", "5"],
         "cnn": ["--dim", "6", "--filters", "3"]}



def _split(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = rng.integers(0, 2, n)  # (N,)
    lengths = rng.integers(3, 9, n)  # (N,)
    lean = np.where(labels[:, None] == 1, rng.integers(2, 10, (n, 8)), rng.integers(10, 18, (n, 8)))
    ids = np.where(np.arange(8)[None, :] < lengths[:, None], lean, 0)  # (N, 8), 0 = <pad>
    return ids, lengths, labels


@pytest.fixture
def sentences(monkeypatch) -> SentenceData:
    rng = np.random.default_rng(0)
    train, test = _split(rng, 120), _split(rng, 40)
    fake = SentenceData(*train, *test, vocab_size=18)
    monkeypatch.setattr(kit_commands, "require_datasets", lambda names: None)
    monkeypatch.setattr(kit_polarity, "polarity_data", lambda *a, **k: fake)
    return fake


@pytest.mark.parametrize("model", ["rnn", "bilstm", "cnn"])
def test_each_classifier_trains_reports_accuracy_and_saves(model, sentences, tmp_path):
    out = tmp_path / f"{model}.npz"
    result = dojo("train", "polarity", "--solutions", "--model", model, "--epochs", "3",
                  "--lr", "0.05", "--output", str(out), *SMALL[model])
    assert result.exit_code == 0, result.output
    assert f"training the {model} sentence classifier" in result.output
    assert "mr: 120 training and 40 test sentences, 18 words" in result.output
    line = next(s for s in result.output.splitlines() if s.startswith("test accuracy"))
    accuracy = float(line.split()[2])
    majority = float(np.mean(sentences.test_labels == np.bincount(
        sentences.test_labels).argmax()))
    assert f"majority class {majority:.4f}" in line
    assert accuracy > majority + 0.2, line  # the words say the label: it must learn that
    assert "trained (9 steps" in result.output  # 3 epochs of 120 sentences in batches of 50
    meta = MODELS.read_meta(out)
    assert meta["model"] == model and meta["epochs"] == 3 and meta["lr"] == 0.05
    assert meta["dim"] == 6 and abs(meta["test_accuracy"] - accuracy) < 1e-4
    params = dict(np.load(out))
    embedding = next(k for k in params if k.endswith("embedding.weight"))
    assert params[embedding].shape == (18, 6)


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "transformer"], "unknown model 'transformer'; available: bilstm, cnn, rnn"),
    (["--model", "cnn", "--hidden", "4"], "--hidden does not apply to --model cnn (it is for "
                                          "--model bilstm/rnn)"),
    (["--model", "rnn", "--filters", "4"], "--filters does not apply to --model rnn (it is "
                                           "for --model cnn)"),
])
def test_bad_options_are_one_error_line_and_exit_code_2(sentences, tmp_path, args, message):
    result = dojo("train", "polarity", "--solutions", "--output", str(tmp_path / "x.npz"),
                  *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.npz").exists()


def test_a_classifier_that_diverges_is_a_clear_error(sentences, tmp_path, monkeypatch):
    from nlpdojo_solutions.language_models import sentence_training

    trained = sentence_training.train_polarity

    def diverging(*args, **kwargs):
        result = trained(*args, **kwargs)
        return {**result, "losses": np.append(result["losses"], np.nan)}

    monkeypatch.setattr(sentence_training, "train_polarity", diverging)
    result = dojo("train", "polarity", "--solutions", "--model", "rnn", "--lr", "0.5",
                  "--output", str(tmp_path / "x.npz"), *SMALL["rnn"])
    assert result.exit_code == 2, result.output
    assert "the training loss became nan (lr 0.5): lower --lr" in result.output
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("model", ["bilstm", "cnn"])
def test_a_students_folder_of_the_models_topic_trains(model, sentences, tmp_path):
    topic = TOPICS[model]
    course = tmp_path / "exercises"
    for name in ("library", "neural_networks", topic):
        shutil.copytree(ROOT / "solutions" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    result = dojo("train", "polarity", "--model", model, "--code", str(course), "--output",
                  str(tmp_path / "p.npz"), "--epochs", "1", *SMALL[model])
    assert result.exit_code == 0, result.output
    assert f"your code in {course / topic}" in result.output


@pytest.mark.parametrize(("library", "topic"), [("exercises", "neural_networks"),
                                                  ("solutions", "cnn_text")])
def test_an_untouched_stub_names_the_topic_of_its_question(sentences, tmp_path, library,
                                                           topic):
    """A stub of the course library (Xavier's initializer, neural_networks) sends the student
    to that topic's questions; with the library written, the model's own stub to its topic."""
    course = tmp_path / "exercises"
    for name, source in (("library", library), ("neural_networks", library),
                         ("cnn_text", "exercises")):
        shutil.copytree(ROOT / source / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    result = dojo("train", "polarity", "--model", "cnn", "--code", str(course / "cnn_text"),
                  "--output", str(tmp_path / "p.npz"), *SMALL["cnn"])
    assert result.exit_code == 2, result.output
    assert "not implemented yet" in result.output and f"`grade {topic}`" in result.output
    assert ("your course library" in result.output) == (topic == "neural_networks")


def test_an_error_in_the_students_model_and_a_zero_rate_are_one_error_line(sentences,
                                                                           tmp_path):
    course = tmp_path / "exercises"
    for name in ("library", "neural_networks", "cnn_text"):
        shutil.copytree(ROOT / "solutions" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    model = course / "cnn_text" / "kim_cnn.py"
    model.write_text(model.read_text().replace(
        "xp.astype(real, vectors.dtype)[:, :, None]", "xp.astype(real, vectors.dtype)[:, None, :]"))
    result = dojo("train", "polarity", "--model", "cnn", "--code", str(course), "--output",
                  str(tmp_path / "p.npz"), *SMALL["cnn"])
    assert result.exit_code == 2, result.output
    assert "your code raised ValueError" in result.output
    assert "(exercises/cnn_text/kim_cnn.py, line 54, in forward); `grade cnn_text`" in \
        result.output
    zero = dojo("train", "polarity", "--solutions", "--model", "rnn", "--lr", "0", "--output",
                str(tmp_path / "z.npz"))
    assert zero.exit_code == 2 and "--lr must be above 0" in zero.output, zero.output
