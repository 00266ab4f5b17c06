"""The CLI's conventions (issue 64, item 3): ``--version`` on ``dojo`` and ``grade``, typer's
shell completion, ``python -m nlpdojo`` / ``python -m nlpdojo_autograder``, one ``--format``
(``--json`` kept as its alias) on every ``dojo`` command that prints data, and no progress
frames where stderr is not a terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import numpy as np
import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.cli.grade import app as grade_app
from nlpdojo_autograder.grading.gradecache import grader_fingerprint
from nlpdojo_course.word_vectors import trainer as w2v_cli
from nlpdojo_course.word_vectors.data import Corpus

runner = CliRunner()
VERSION = version("nlpdojo")


def test_dojo_version():
    result = runner.invoke(build_app(), ["--version"])
    assert result.exit_code == 0
    assert result.output == f"dojo (nlpdojo) {VERSION}\n"


def test_grade_version_says_the_grader_fingerprint():
    result = runner.invoke(grade_app, ["--version"])
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert first == f"grade (nlpdojo) {VERSION}"
    assert second == f"grader fingerprint {grader_fingerprint('numpy')} (numpy backend)"


@pytest.mark.parametrize("app", [build_app, lambda: grade_app], ids=["dojo", "grade"])
def test_completion_is_offered(app):
    # wide enough that rich does not cut grade's long option names ("--install-comple…")
    result = runner.invoke(app(), ["--help"], env={"COLUMNS": "200"})
    assert "--install-completion" in result.output and "--show-completion" in result.output


@pytest.mark.parametrize("module, command", [("nlpdojo", "dojo"),
                                             ("nlpdojo_autograder", "grade")])
def test_python_m_is_the_command(module, command, tmp_path):
    proc = subprocess.run([sys.executable, "-P", "-m", module, "--version"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == f"{command} (nlpdojo) {VERSION}"


@pytest.mark.parametrize("args, key", [
    (["plugins"], "plugins"), (["backends"], "backends"), (["data", "list"], "datasets"),
    (["train"], "trainers"), (["train", "--list"], "trainers"),
])
def test_one_format_option_and_the_json_alias(args, key):
    as_format = runner.invoke(build_app(), [*args, "--format", "json"])
    assert as_format.exit_code == 0, as_format.output
    data = json.loads(as_format.stdout)
    assert isinstance(data[key], list) and data[key]
    alias = runner.invoke(build_app(), [*args, "--json"])
    assert json.loads(alias.stdout) == data
    table = runner.invoke(build_app(), [*args, "-f", "table"])
    assert table.exit_code == 0 and not table.stdout.lstrip().startswith("{")


def test_a_bad_format_lists_the_choices():
    result = runner.invoke(build_app(), ["plugins", "--format", "yaml"])
    assert result.exit_code == 2
    assert "table" in result.output and "json" in result.output


def test_word2vec_piped_draws_no_bar(monkeypatch, tmp_path):
    """stderr here is not a terminal (as in a pipe or a CI log): no tqdm frame is written."""
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 30, size=3000).astype(np.int64)
    fake = Corpus("fake", ids, np.bincount(ids, minlength=30), [f"w{i}" for i in range(30)])
    monkeypatch.setattr(w2v_cli, "require_datasets", lambda names: None)
    monkeypatch.setattr(w2v_cli, "_documents_corpus", lambda name: None)
    monkeypatch.setattr(w2v_cli, "prepare_corpus", lambda *a, **k: fake)
    result = CliRunner().invoke(build_app(), [
        "train", "word2vec", "--solutions", "--epochs", "1", "--dim", "8", "--no-evaluate",
        "--output", str(tmp_path / "v.txt")])
    assert result.exit_code == 0, result.output + result.stderr
    assert "\r" not in result.stderr and "word/s" not in result.stderr
    assert "words/s" in result.output  # the report, not a bar


def test_progress_is_shown_only_on_a_terminal(monkeypatch):
    from nlpdojo_autograder.training.options import shown

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert shown(True) is False
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert shown(True) is True and shown(False) is False


def _commands(command, path):
    yield path
    if hasattr(command, "list_commands"):
        ctx = command.context_class(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from _commands(sub, [*path, name])


#: the classic terminal width: every help text fits it whole
NARROW = 80


def test_every_help_text_renders_whole():
    """At 80 columns no help text is cut short (rich's option tables cut names and words with
    an ellipsis there: "--install-comple…", "(tcp://host:878…") or runs past the edge: help is
    Click's plain layout, wrapped at the width; and no trainer offers its own completion."""
    import typer

    app = build_app()
    bad = set()

    def read(name: str, out: str) -> None:
        bad.update({(name, line) for line in out.splitlines()
                    if "…" in line or len(line) > NARROW})

    for path in _commands(typer.main.get_command(app), []):
        out = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(NARROW)}).output
        assert out.startswith("Usage: "), (path, out)
        read(" ".join(path) or "dojo", out)
        if path[:1] == ["train"] and len(path) == 2:
            assert "--install-completion" not in out, path
    out = runner.invoke(grade_app, ["--help"], env={"COLUMNS": str(NARROW)}).output
    assert "--install-completion" in out and "'nlpdojo[cluster]'" in out
    read("grade", out)
    assert not bad


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    """The TA's trial: ``dojo course history ... | head -3`` ended with ``error: [Errno 32]
    Broken pipe``. A closed stdout ends the command quietly, 141 as a shell's SIGPIPE."""
    import subprocess
    import sys

    # a command that writes more than a pipe holds, read by a reader that stops at once
    code = ("import sys; from nlpdojo.cli.common import report_errors, run_app; import typer\n"
            "app = typer.Typer()\n"
            "@app.command()\n"
            "@report_errors\n"
            "def lines():\n"
            "    for i in range(200_000):\n"
            "        print('a line of output', i)\n"
            "run_app(app)\n")
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    writer.stdout.readline()
    writer.stdout.close()  # the reader goes away
    err = writer.stderr.read().decode()
    assert writer.wait(timeout=60) == 141, err
    assert "Broken pipe" not in err and "Traceback" not in err, err
