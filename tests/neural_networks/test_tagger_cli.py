"""``dojo train tagger``: training with a checkpoint per epoch, resuming it exactly, evaluating
a saved one, comparing the library's optimizers with a plot of their losses, and the clear
errors a user meets (an unknown optimizer, a missing or foreign checkpoint, --plot alone).

A small synthetic tagging task is monkeypatched in (the tag is a function of the center
word): each run trains in well under a second and needs no data set."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.training import options as training_options
from nlpdojo_autograder.training import read_checkpoint
from nlpdojo_course.neural_networks import trainer as cli
from nlpdojo_course.neural_networks.data import TaggingData
from tests._cli import forget_student_packages  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
QUICK = ["--dim", "8", "--hidden", "16", "--batch-size", "32"]


def dojo(*args: str):
    return runner.invoke(build_app(), ["train", "tagger", *args])


def _flat(output: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(output.split())


def _synthetic(n_train: int = 600, n_test: int = 200) -> TaggingData:
    rng = np.random.default_rng(0)
    words = ("<pad>", "<unk>", *(f"w{i}" for i in range(28)))
    tags = tuple(f"T{i}" for i in range(4))

    def split(n):
        windows = rng.integers(2, len(words), size=(n, 5))  # (N, 5)
        return windows, (windows[:, 2] % 4).astype(np.int64)  # the center word's tag

    tr, te = split(n_train), split(n_test)
    return TaggingData(tr[0], tr[1], te[0], te[1], words, tags)


@pytest.fixture
def data(monkeypatch):
    fake = _synthetic()
    monkeypatch.setattr(cli, "load_data", lambda settings: fake)
    return fake



def test_an_unknown_optimizer_is_refused_with_the_choices(data, tmp_path):
    result = dojo("--solutions", "--optimizer", "adamw", "--output", str(tmp_path / "t.npz"))
    assert result.exit_code == 2, result.output
    out = _flat(result.output)
    assert "unknown optimizer 'adamw'" in out
    assert "sgd, momentum, adagrad, rmsprop, adam" in out
    assert "Traceback" not in result.output and not (tmp_path / "t.npz").exists()


def test_trains_saves_a_checkpoint_and_reports_the_baseline(data, tmp_path):
    out = tmp_path / "t.npz"
    result = dojo("--solutions", *QUICK, "--epochs", "2", "--lr", "0.01", "--output", str(out))
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    assert "training the reference solutions" in text
    assert "epoch 2/2" in text and f"checkpoint -> {out}" in text
    assert "most-frequent-tag baseline" in text
    saved = read_checkpoint(out, cli.FILES)
    meta, state, optim = saved.meta, saved.params, saved.optimizer
    assert meta["epochs_done"] == 2 and meta["optimizer"] == "adam"
    assert set(state) == {"embedding.weight", "hidden.weight", "hidden.bias", "output.weight",
                          "output.bias"}
    assert optim["steps"] == 2 * -(-len(data.train_tags) // 32)
    accuracy = float(text.split("held-out accuracy ")[-1].split()[0])
    assert accuracy > 0.9  # the tag is the center word's: learnable exactly


def test_resuming_continues_exactly_as_the_uninterrupted_run(data, tmp_path):
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    args = ["--solutions", *QUICK, "--optimizer", "momentum", "--dropout", "0.3"]
    assert dojo(*args, "--epochs", "2", "--output", str(whole)).exit_code == 0
    assert dojo(*args, "--epochs", "1", "--output", str(part)).exit_code == 0
    resumed = dojo("--solutions", "--resume", "--epochs", "2", "--output", str(part))
    assert resumed.exit_code == 0, resumed.output
    assert "resumed" in _flat(resumed.output) and "momentum" in _flat(resumed.output)
    first, second = read_checkpoint(whole, cli.FILES), read_checkpoint(part, cli.FILES)
    assert second.meta["epochs_done"] == 2
    assert first.optimizer["steps"] == second.optimizer["steps"]
    for name in first.params:
        np.testing.assert_allclose(second.params[name], first.params[name], rtol=1e-5,
                                   atol=1e-6)

    again = dojo("--solutions", "--resume", "--epochs", "2", "--output", str(part))
    assert again.exit_code == 2 and "--epochs 3" in _flat(again.output)


def test_evaluate_loads_a_checkpoint_and_reports_its_accuracy(data, tmp_path):
    out = tmp_path / "t.npz"
    trained = dojo("--solutions", *QUICK, "--lr", "0.01", "--output", str(out))
    assert trained.exit_code == 0, trained.output
    last = _flat(trained.output).split("held-out accuracy ")[-1].split()[0]
    result = dojo("--solutions", "--evaluate", str(out))
    assert result.exit_code == 0, result.output
    assert f"held-out accuracy {last}" in _flat(result.output)  # the same model, eval mode


@pytest.mark.parametrize(("make", "phrase"), [
    (lambda tmp: tmp / "missing.npz", "no checkpoint"),
    (lambda tmp: (tmp / "x.npz").write_bytes(b"not a zip") and tmp / "x.npz",
     "is not a tagger checkpoint"),
])
def test_a_missing_or_foreign_checkpoint_is_a_clear_error(make, phrase, data, tmp_path):
    result = dojo("--solutions", "--evaluate", str(make(tmp_path)))
    assert result.exit_code == 2, result.output
    assert phrase in _flat(result.output) and "Traceback" not in result.output


def test_plot_needs_compare_and_options_that_exclude_each_other_are_refused(data, tmp_path):
    alone = dojo("--solutions", "--plot", str(tmp_path / "p.png"))
    assert alone.exit_code == 2 and "--compare-optimizers" in _flat(alone.output)
    both = dojo("--solutions", "--resume", "--compare-optimizers")
    assert both.exit_code == 2 and "choose one" in _flat(both.output)
    nowhere = dojo("--solutions", "--output", str(tmp_path / "no" / "t.npz"))
    assert nowhere.exit_code == 2, nowhere.output


def test_compare_optimizers_plots_one_labelled_curve_per_optimizer(data, tmp_path,
                                                                  monkeypatch):
    from nlpdojo_solutions.neural_networks import plots

    figures = []
    original = plots.plot_losses
    monkeypatch.setattr(plots, "plot_losses",
                        lambda curves, path, **kw: figures.append(original(curves, path, **kw))
                        or figures[-1])
    png = tmp_path / "losses.png"
    result = dojo("--solutions", *QUICK, "--epochs", "1", "--compare-optimizers",
                  "--plot", str(png))
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    for name in cli.OPTIMIZER_NAMES:
        assert name in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = figures
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [label.split()[0] for label in labels] == list(cli.OPTIMIZER_NAMES)
    assert len(ax.get_lines()) == len(cli.OPTIMIZER_NAMES)
    assert all(len(line.get_xdata()) == -(-len(data.train_tags) // 32)
               for line in ax.get_lines())


def test_the_students_stubs_say_what_is_left(data, tmp_path, monkeypatch):
    course = tmp_path / "exercises"
    for name in ("library", "neural_networks"):
        shutil.copytree(ROOT / "exercises" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    result = dojo(*QUICK, "--output", str(tmp_path / "t.npz"))
    assert result.exit_code == 2, result.output
    text = _flat(result.output)
    assert "training your code in exercises/neural_networks" in text
    assert "not implemented yet" in text and "grade neural_networks" in text


def test_moving_average_keeps_the_steps_and_averages_what_there_is():
    from nlpdojo_solutions.neural_networks.plots import moving_average

    np.testing.assert_allclose(moving_average([1, 3, 5, 7], 2), [1, 2, 4, 6])
    np.testing.assert_allclose(moving_average([1, 3, 5], 10), [1, 2, 3])


@pytest.mark.parametrize("flag", ["--progress", "--no-progress"])
def test_the_progress_bar_can_be_turned_off(data, tmp_path, capfd, monkeypatch, flag):
    # as on a terminal: piped (as under the test runner) no bar is drawn either way
    monkeypatch.setattr(training_options, "shown", lambda progress: progress)
    result = dojo("--solutions", *QUICK, "--epochs", "1", "--lr", "0.01", flag, "--output",
                  str(tmp_path / "t.npz"))
    assert result.exit_code == 0, result.output
    shown = result.output + "".join(capfd.readouterr())
    assert ("step/s" in shown or "s/step" in shown) == (flag == "--progress"), shown[-400:]


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if "__pycache__" not in p.parts}


def test_run_from_exercises_it_writes_nothing_there_and_reads_its_checkpoint_back(
        data, tmp_path, monkeypatch):
    """Issue 26: `dojo train tagger` run from `exercises/` wrote its 8.5 MB checkpoint there,
    and every `grade` then refused the folder. The checkpoint goes to the outputs folder (the
    path printed), and `--evaluate tagger.npz` and `--resume` find it there."""
    course = tmp_path / "exercises"
    for name in ("library", "neural_networks"):  # a student's finished work
        shutil.copytree(ROOT / "solutions" / name, course / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    # a long folder name: a path cut by the console's line wrapping would not be found below
    outputs = tmp_path / ("outputs-" + "x" * 100)
    monkeypatch.setenv("NLPDOJO_OUTPUTS", str(outputs))
    monkeypatch.chdir(course)
    before = _tree(course)
    trained = dojo(*QUICK, "--lr", "0.01", "--epochs", "1")
    assert trained.exit_code == 0, trained.output
    text = _flat(trained.output)
    assert "training your code in neural_networks" in text
    assert f"checkpoint -> {outputs / 'tagger.npz'}" in text
    assert _tree(course) == before  # nothing new where grade looks
    assert read_checkpoint(outputs / "tagger.npz", cli.FILES).meta["epochs_done"] == 1
    evaluated = dojo("--evaluate", "tagger.npz")
    assert evaluated.exit_code == 0, evaluated.output
    assert "held-out accuracy" in _flat(evaluated.output)
    resumed = dojo("--resume", "--epochs", "2")
    assert resumed.exit_code == 0, resumed.output
    assert read_checkpoint(outputs / "tagger.npz", cli.FILES).meta["epochs_done"] == 2
    # a path with a folder is the user's choice, written as given
    here = dojo(*QUICK, "--epochs", "1", "--output", "./mine.npz")
    assert here.exit_code == 0, here.output
    assert (course / "mine.npz").is_file() and not (outputs / "mine.npz").exists()


def test_the_help_says_where_outputs_go():
    result = runner.invoke(build_app(), ["train", "tagger", "--help"], env={"COLUMNS": "200"})
    text = _flat(result.output)
    assert "outputs folder" in text and "NLPDOJO_OUTPUTS" in text and "grading never looks" in text
