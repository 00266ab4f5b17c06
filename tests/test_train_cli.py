"""``dojo train word2vec``: which code trains (the student's folder wherever they run it, the
reference only when asked or when there is no folder), what ``--code`` accepts, and missing data
sets reported all at once before any work."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from nlpdojo.data.cache import DATA_ENV
from nlpdojo_autograder import train as train_cli

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises" / "word_vectors"
SOLUTIONS = ROOT / "solutions" / "word_vectors"
runner = CliRunner()
QUICK = ["--epochs", "1", "--dim", "8", "--no-evaluate"]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a group, so `train word2vec` is addressed by name
    train_cli.add_train_commands(app)
    return app


def dojo(*args: str):
    return runner.invoke(_app(), ["train", "word2vec", *args])


@pytest.fixture(autouse=True)
def _fresh_student_package():
    """Each `dojo train` is a process of its own: forget the student's package between tests."""
    yield
    for name in [m for m in sys.modules if m.startswith("nlpdojo_submission_cli")]:
        del sys.modules[name]


@pytest.fixture
def corpus(monkeypatch):
    """A synthetic corpus instead of a data set: no cache needed, trains in well under 1 s."""
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 30, size=3000).astype(np.int64)
    words = [f"w{i}" for i in range(30)]
    fake = train_cli.Corpus("fake", ids, np.bincount(ids, minlength=30), words)
    monkeypatch.setattr(train_cli, "require_datasets", lambda names: None)
    monkeypatch.setattr(train_cli, "_documents_corpus", lambda name: None)
    monkeypatch.setattr(train_cli, "prepare_corpus", lambda *a, **k: fake)
    return fake


@pytest.fixture
def exercises(tmp_path) -> Path:
    """A student's copy: ``<tmp>/exercises/word_vectors`` with the released stubs."""
    topic = tmp_path / "exercises" / "word_vectors"
    shutil.copytree(EXERCISES, topic, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    return topic.parent


def _filled(topic: Path) -> None:
    for path in SOLUTIONS.glob("*.py"):
        shutil.copyfile(path, topic / path.name)


@pytest.mark.parametrize("where", ["root", "exercises", "topic"])
def test_default_code_is_the_students_folder_wherever_they_run(where, exercises, corpus,
                                                              monkeypatch, tmp_path):
    cwd = {"root": exercises.parent, "exercises": exercises,
           "topic": exercises / "word_vectors"}[where]
    monkeypatch.chdir(cwd)
    result = dojo(*QUICK, "--output", str(tmp_path / "v.txt"))
    assert result.exit_code == 2, result.output
    assert "training your code in" in _flat(result.output)
    assert "reference" not in _flat(result.output)
    assert "sgd: not implemented yet" in _flat(result.output)  # the student's stubs ran


@pytest.mark.parametrize("code", ["exercises", "exercises/word_vectors"])
def test_code_accepts_the_topic_folder_or_its_parent(code, exercises, corpus, monkeypatch,
                                                     tmp_path):
    _filled(exercises / "word_vectors")
    monkeypatch.chdir(exercises.parent)
    out = tmp_path / "v.txt"
    result = dojo("--code", code, *QUICK, "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "training your code in exercises/word_vectors" in _flat(result.output)
    assert out.read_text().splitlines()[0] == f"{len(corpus.words)} 8"


@pytest.mark.parametrize(("make", "phrase"), [
    (lambda tmp: tmp / "nowhere", "no such folder"),
    (lambda tmp: tmp, "is not a word_vectors folder"),
    (lambda tmp: (tmp / "f.txt").write_text("x") and tmp / "f.txt", "is a file"),
])
def test_code_that_is_no_topic_folder_says_what_code_expects(make, phrase, corpus, tmp_path):
    result = dojo("--code", str(make(tmp_path)), *QUICK)
    assert result.exit_code == 2, result.output
    assert phrase in _flat(result.output) and "exercises/word_vectors" in _flat(result.output)
    assert "internal error" not in _flat(result.output)


def test_solutions_flag_trains_the_reference(exercises, corpus, monkeypatch, tmp_path):
    monkeypatch.chdir(exercises.parent)  # a student folder is here, but --solutions wins
    result = dojo("--solutions", *QUICK, "--output", str(tmp_path / "v.txt"))
    assert result.exit_code == 0, result.output
    assert "training the reference solutions" in _flat(result.output)
    both = dojo("--solutions", "--code", "exercises", *QUICK)
    assert both.exit_code == 2 and "choose one" in _flat(both.output)


def test_no_student_folder_says_the_reference_trains(corpus, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = dojo(*QUICK, "--output", str(tmp_path / "v.txt"))
    assert result.exit_code == 0, result.output
    assert "training the reference solutions" in _flat(result.output)
    assert "--code" in _flat(result.output)  # how to train one's own code instead


def _no_work(*args, **kwargs):
    raise AssertionError("work started before the data sets were checked")


def test_every_missing_data_set_is_reported_at_once_before_any_work(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(train_cli, "prepare_corpus", _no_work)
    monkeypatch.setattr(train_cli, "_documents_corpus", _no_work)
    result = dojo("--solutions", "--epochs", "1")
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "dojo data fetch sotu wordsim353 simlex999 google-analogies" in out
    only_corpus = dojo("--solutions", "--no-evaluate")
    assert "dojo data fetch sotu" in _flat(only_corpus.output)
    assert "wordsim353" not in _flat(only_corpus.output)


def test_a_corrupt_data_set_is_named_too(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "cache"))
    (tmp_path / "cache" / "sotu").mkdir(parents=True)  # there, but without its files
    with pytest.raises(Exception, match=r"corrupt \(fetch again\): sotu.*not fetched yet|"
                                        r"not fetched yet: wordsim353.*corrupt") as info:
        train_cli.require_datasets(["sotu", "wordsim353"])
    assert str(info.value).endswith("Run: dojo data fetch sotu wordsim353")


def _flat(output: str) -> str:
    """The output with rich's line wrapping (at the terminal width) undone."""
    return " ".join(output.split())
