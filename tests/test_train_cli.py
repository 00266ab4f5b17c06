"""``dojo train``: the trainers plugins register (listed, run, an unknown one refused), and
``dojo train word2vec``: which code trains (the student's folder wherever they run it, the
reference only when asked or when there is no folder), what ``--code`` accepts, and missing data
sets reported all at once before any work."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Annotated

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from nlpdojo import plugins
from nlpdojo.cli.app import build_app
from nlpdojo.data.cache import DATA_ENV
from nlpdojo.errors import NlpdojoError
from nlpdojo.hookspecs import hookimpl
from nlpdojo.trainers import Trainer
from nlpdojo_autograder.training import train as train_cli
from nlpdojo_course.word_vectors import trainer as w2v_cli
from nlpdojo_course.word_vectors.data import Corpus
from tests._cli import forget_student_packages  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises" / "word_vectors"
SOLUTIONS = ROOT / "solutions" / "word_vectors"
runner = CliRunner()
QUICK = ["--epochs", "1", "--dim", "8", "--no-evaluate"]


def train(*args: str):
    return runner.invoke(build_app(), ["train", *args])


def dojo(*args: str):
    return train("word2vec", *args)



@pytest.fixture
def corpus(monkeypatch):
    """A synthetic corpus instead of a data set: no cache needed, trains in well under 1 s."""
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 30, size=3000).astype(np.int64)
    words = [f"w{i}" for i in range(30)]
    fake = Corpus("fake", ids, np.bincount(ids, minlength=30), words)
    monkeypatch.setattr(w2v_cli, "require_datasets", lambda names: None)
    monkeypatch.setattr(w2v_cli, "_documents_corpus", lambda name: None)
    monkeypatch.setattr(w2v_cli, "prepare_corpus", lambda *a, **k: fake)
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
    monkeypatch.setattr(w2v_cli, "prepare_corpus", _no_work)
    monkeypatch.setattr(w2v_cli, "_documents_corpus", _no_work)
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


# -- dojo train: the registered trainers --------------------------------------------------------

def test_train_without_a_name_lists_every_trainer_with_topic_summary_and_plugin(monkeypatch):
    from nlpdojo.cli import common

    monkeypatch.setattr(common.console, "width", 200)  # no cell wraps (xdist: COLUMNS=80)
    for args in ((), ("--list",)):
        result = train(*args)
        assert result.exit_code == 0, result.output
        out = _flat(result.output)
        for text in ("word2vec", "word_vectors", "Skip-gram with negative sampling",
                     "course.word_vectors"):  # the plugin: the topic folder's own
            assert text in out, (args, text)


def test_an_unknown_trainer_is_one_error_line_listing_the_trainers():
    result = train("wrod2vec", "--epochs", "1")
    assert result.exit_code == 2, result.output
    line = _flat(result.stderr)
    assert line.startswith("error: unknown trainer 'wrod2vec'")
    assert "did you mean 'word2vec'?" in line and "available: " in line
    assert "word2vec (word_vectors)" in line and "lm (language_models)" in line
    assert "tagger (neural_networks)" in line
    assert "Traceback" not in result.output


def test_each_trainer_shows_its_own_options():
    result = train("word2vec", "--help")
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    for option in ("--corpus", "--negatives", "--solutions", "--code", "--output",
                   "--no-evaluate"):
        assert option in out, option


def echo(
    word: Annotated[str, typer.Option(help="What to say.")] = "hello",
    times: Annotated[int, typer.Option(min=1, help="How often.")] = 1,
) -> None:
    """Say a word, several times: a toy trainer."""
    if word == "fail":
        raise NlpdojoError("cannot say 'fail'; say something else")
    typer.echo(" ".join([word] * times))


class ToyTrainers:
    """A third-party plugin with a training command of its own topic."""

    @hookimpl
    def register_trainers(self, register):
        register("echo", Trainer("echo", "toy_topic", "Says a word.", echo))


def _with_plugin(monkeypatch, name: str, plugin: object) -> None:
    """``dojo`` loads the built-ins plus ``plugin`` (registered in-process as ``name``)."""
    pm = plugins.make_manager(extra_plugins={name: plugin})
    monkeypatch.setattr(plugins, "get_manager", lambda: pm)
    plugins.reset()


def test_a_third_party_trainer_is_listed_and_runs(monkeypatch):
    _with_plugin(monkeypatch, "toy", ToyTrainers())
    listing = _flat(train().output)
    assert "│ echo │ toy_topic │ Says a word. │ toy │" in listing and "word2vec" in listing
    result = train("echo", "--word", "hi", "--times", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "hi hi hi"
    assert "--times" in train("echo", "--help").output
    unknown = train("ecoh")
    assert unknown.exit_code == 2
    flat = _flat(unknown.stderr)
    assert "available: echo (toy_topic), lm (language_models)" in flat
    assert "word2vec (word_vectors)" in flat and "neural-lm (language_models)" in flat
    assert "tagger (neural_networks)" in flat


def test_a_trainers_error_is_one_line_with_exit_code_2(monkeypatch):
    _with_plugin(monkeypatch, "toy", ToyTrainers())
    result = train("echo", "--word", "fail")
    assert result.exit_code == 2, result.output
    assert _flat(result.stderr) == "error: cannot say 'fail'; say something else"


class NotATrainer:
    @hookimpl
    def register_trainers(self, register):
        register("bogus", print)


def test_a_plugin_registering_no_trainer_is_named(monkeypatch):
    _with_plugin(monkeypatch, "bogus_plugin", NotATrainer())
    for args in ((), ("word2vec", "--help")):
        result = train(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "plugin 'bogus_plugin' registered trainer 'bogus'" in _flat(result.stderr)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"summary": "two\nlines"}, "one non-empty line"),
    ({"topic": ""}, "topic must not be empty"),
    ({"command": "echo"}, "must be a function"),
])
def test_a_trainer_is_checked_when_made(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Trainer(**{"name": "echo", "topic": "toy", "summary": "Says.", "command": echo,
                   **kwargs})


# -- the core knows no topic --------------------------------------------------------------------

FRAMEWORK = ROOT / "framework"
NOT_CORE = ("nlpdojo_autograder", "nlpdojo_solutions", "nlpdojo_numpy", "nlpdojo_torch",
            "nlpdojo_datasets", "nlpdojo_reports")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_core_imports_no_plugin_topic_or_grader():
    bad = {str(p.relative_to(ROOT)): sorted(n for n in _imports(p) if n.split(".")[0] in NOT_CORE)
           for p in FRAMEWORK.rglob("*.py")}
    assert not {p: names for p, names in bad.items() if names}


def test_the_core_names_no_topic_or_trainer():
    """No topic's name in the core; no trainer's name in its CLI and plugin machinery (the
    text utilities may cite word2vec, the algorithm they follow)."""
    machinery = [*(FRAMEWORK / "cli").glob("*.py"), *(FRAMEWORK / n for n in (
        "hookspecs.py", "registry.py", "plugins.py", "trainers.py"))]
    for path in FRAMEWORK.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "word_vectors" not in text, path
        if path in machinery:
            assert "word2vec" not in text.lower(), path
