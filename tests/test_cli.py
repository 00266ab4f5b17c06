"""The ``dojo`` command line: ``backends`` and ``plugins`` through typer's CliRunner, errors as
one line with exit code 2, and the installed console script itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo.errors import UnknownNameError
from nlpdojo.selection import load_backend

BUILTINS = {"numpy", "torch", "datasets", "reports", "autograder", "course"}


def invoke(*args: str):
    return CliRunner().invoke(build_app(), list(args))


def backends_json() -> dict:
    result = invoke("backends", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# -- dojo backends ------------------------------------------------------------------------------

def test_backends_json_lists_numpy_and_torch():
    payload = backends_json()
    rows = {r["name"]: r for r in payload["backends"]}
    assert set(rows) == {"numpy", "strict", "torch"}  # strict: the grader's namespace check
    assert rows["numpy"]["available"] is True
    assert rows["numpy"]["devices"] == ["cpu"] and rows["numpy"]["version"] == np.__version__
    assert rows["numpy"]["plugin"] == "numpy"
    assert payload["selected"] == {"backend": "numpy", "backend_source": "default",
                                   "device": None, "device_source": "default", "registered": True}
    assert rows["numpy"]["selected"] is True and rows["torch"]["selected"] is False


@pytest.mark.torch
def test_backends_shows_torch_devices_and_version():
    torch = pytest.importorskip("torch")
    rows = {r["name"]: r for r in backends_json()["backends"]}
    assert rows["torch"]["available"] is True and rows["torch"]["reason"] is None
    assert rows["torch"]["version"] == version("torch")
    expected = ["cpu"]
    if torch.cuda.is_available():
        expected += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    assert rows["torch"]["devices"] == expected


def test_backends_without_torch_says_how_to_install(monkeypatch):
    import nlpdojo_torch.plugin as torch_plugin

    monkeypatch.setattr(torch_plugin, "_installed", lambda: False)
    rows = {r["name"]: r for r in backends_json()["backends"]}
    assert rows["torch"]["available"] is False and rows["torch"]["devices"] == []
    assert rows["torch"]["version"] is None
    assert "pip install" in rows["torch"]["reason"]
    table = invoke("backends")
    assert table.exit_code == 0 and "unavailable" in table.stdout


def test_backends_marks_the_selection_and_its_source(tmp_path, monkeypatch):
    monkeypatch.setenv("NLPDOJO_BACKEND", "torch")
    selected = backends_json()["selected"]
    assert (selected["backend"], selected["backend_source"]) == ("torch", "env NLPDOJO_BACKEND")

    monkeypatch.delenv("NLPDOJO_BACKEND")
    config = tmp_path / "dojo.toml"
    config.write_text('backend = "torch"\n')
    monkeypatch.chdir(tmp_path)
    payload = backends_json()
    assert payload["selected"]["backend_source"] == str(config)
    assert [r["name"] for r in payload["backends"] if r["selected"]] == ["torch"]


def test_backends_table(monkeypatch):
    result = invoke("backends")
    assert result.exit_code == 0, result.output
    assert "numpy *" in result.stdout and "torch" in result.stdout
    assert "selected: backend numpy (default)" in result.stdout


def test_backends_with_an_unknown_selection_fails_after_listing(monkeypatch):
    monkeypatch.setenv("NLPDOJO_BACKEND", "pytorch")
    result = invoke("backends")
    assert "numpy" in result.stdout  # the listing still helps
    line = one_line_error(result)
    assert ("'pytorch' (from env NLPDOJO_BACKEND) is not registered; available: numpy, strict, "
            "torch") in line


def test_bad_config_is_a_one_line_error(tmp_path, monkeypatch):
    (tmp_path / "dojo.toml").write_text('dtype = "float16"\n')
    monkeypatch.chdir(tmp_path)
    line = one_line_error(invoke("backends"))
    assert "'float16'" in line and str(tmp_path / "dojo.toml") in line


def test_load_backend_with_an_unknown_name_lists_the_backends(monkeypatch):
    """No ``dojo`` command loads a backend yet: ``grade`` and the training commands call this."""
    monkeypatch.setenv("NLPDOJO_BACKEND", "pytorch")
    with pytest.raises(UnknownNameError,
                       match=r"unknown backend 'pytorch'\. Available: numpy, strict, torch"):
        load_backend()


# -- dojo plugins -------------------------------------------------------------------------------

def test_plugins_json_lists_the_builtins_and_what_they_registered():
    result = invoke("plugins", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["plugins"]}
    assert {name for name in rows if "." not in name} == BUILTINS
    assert all(r["origin"] == "built-in" for r in rows.values())
    # each topic folder is a plugin the course brings, registering its own exercise
    assert rows["course.word_vectors"]["registered"] == {"exercise": ["word_vectors"],
                                                          "trainer": ["word2vec"]}
    assert rows["course.language_models"]["registered"] == {
        "exercise": ["language_models"], "trainer": ["lm", "neural-lm", "polarity"]}
    # later topics add their models to its commands (register_model_kinds), no command
    assert rows["course.rnn_variants"]["registered"] == {
        "exercise": ["rnn_variants"], "model_kind": ["lstm", "gru", "bilstm"]}
    assert rows["course.cnn_text"]["registered"] == {"exercise": ["cnn_text"],
                                                      "model_kind": ["cnn", "char"]}
    assert "register_commands" in rows["course.language_models"]["hooks"]  # dojo sample
    assert rows["course.neural_networks"]["registered"] == {"exercise": ["neural_networks"],
                                                             "trainer": ["tagger"]}
    assert rows["numpy"]["registered"] == {"backend": ["numpy", "strict"]}
    # torch's native LSTM and GRU, variants of the library's names used only on request
    assert rows["torch"]["registered"] == {"backend": ["torch"],
                                           "module": ["lstm [native: torch]",
                                                      "gru [native: torch]"]}
    # no built-in registers a generic layer, loss or optimizer: those are the course library's
    assert not any("native" not in name for r in rows.values()
                   for kind in ("module", "loss", "optimizer")
                   for name in r["registered"].get(kind, []))
    assert "register_commands" in rows["autograder"]["hooks"]
    # the engine names no topic: every exercise and trainer is a topic folder's
    assert not {"register_exercises", "register_trainers"} & set(rows["autograder"]["hooks"])


def test_plugins_table(monkeypatch):
    from nlpdojo.cli import common

    # wide enough that no cell wraps (pytest-xdist's workers set COLUMNS=80)
    monkeypatch.setattr(common.console, "width", 200)
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    for text in ("numpy", "torch", "autograder", "datasets", "reports", "built-in",
                 "backend: numpy", "trainer: word2vec"):
        assert text in result.stdout, text


def test_natives_are_marked_in_plugins_and_listed_by_backend(monkeypatch):
    from nlpdojo import plugins
    from nlpdojo.hookspecs import hookimpl

    class Fast:
        @staticmethod
        @hookimpl
        def register_modules(register):
            register("linear", object(), backend="torch")

    registry = plugins.build_registry(plugins.make_manager(extra_plugins={"fast": Fast()}))
    monkeypatch.setattr(plugins, "_registry", registry)
    monkeypatch.setattr(plugins, "_manager", plugins.make_manager(extra_plugins={"fast": Fast()}))
    rows = {r["name"]: r for r in json.loads(invoke("plugins", "--json").stdout)["plugins"]}
    assert rows["fast"]["registered"] == {"module": ["linear [native: torch]"]}
    backends = {r["name"]: r for r in backends_json()["backends"]}
    assert backends["torch"]["natives"] == ["module lstm", "module gru", "module linear"]
    assert backends["numpy"]["natives"] == []


# -- the installed console script ---------------------------------------------------------------

def _dojo(*args: str, **env: str) -> subprocess.CompletedProcess:
    script = Path(sysconfig.get_path("scripts")) / "dojo"
    assert script.exists(), f"the dojo console script is not installed at {script}: make venv"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env}, check=False)


def test_console_script_help():
    proc = _dojo("--help")
    assert proc.returncode == 0, proc.stderr
    assert "backends" in proc.stdout and "plugins" in proc.stdout


def test_console_script_error_is_one_line(tmp_path):
    proc = _dojo("backends", NLPDOJO_BACKEND="pytorch", NLPDOJO_PLUGINS="")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error: ") and len(proc.stderr.strip().splitlines()) == 1


def test_console_script_reports_a_broken_plugin_without_a_traceback(tmp_path):
    site = tmp_path / "site"
    info = site / "fake_broken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[nlpdojo]\nbroken = fake_broken_plugin\n")
    (site / "fake_broken_plugin.py").write_text("raise RuntimeError('half-written plugin')\n")
    proc = _dojo("plugins", PYTHONPATH=str(site), NLPDOJO_PLUGINS="broken")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "plugin 'broken'" in proc.stderr and "half-written plugin" in proc.stderr
    assert "NLPDOJO_PLUGINS=" in proc.stderr


#: every command with a --solutions option that runs the reference (grade, train, sample)
SOLUTIONS_COMMANDS = (["grade"], ["dojo", "train", "lm"], ["dojo", "train", "tagger"],
                      ["dojo", "train", "word2vec"], ["dojo", "sample"])
_HELP = """
import importlib.abc, sys
{block}
from typer.testing import CliRunner
from nlpdojo.cli.app import build_app
from nlpdojo_autograder.cli.grade import app as grade_app
for command in {commands!r}:
    app = grade_app if command[0] == "grade" else build_app()
    result = CliRunner().invoke(app, [*command[1:], "--help"], env={{"COLUMNS": "200"}})
    assert result.exit_code == 0, (command, result.output)
    print(command[-1], "--solutions" in result.output)
"""
_NO_SOLUTIONS = """
class NoSolutions(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "nlpdojo_solutions":
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NoSolutions())
"""


@pytest.mark.parametrize("student", [False, True], ids=["instructor", "student release"])
def test_solutions_options_show_only_where_the_solutions_are_installed(student):
    """A student release (no reference solutions) does not list --solutions, which could
    only fail there; an instructor's installation does."""
    script = _HELP.format(block=_NO_SOLUTIONS if student else "",
                          commands=[list(c) for c in SOLUTIONS_COMMANDS])
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    shown = dict(line.split() for line in out.stdout.splitlines())
    assert shown == {c[-1]: str(not student) for c in SOLUTIONS_COMMANDS}
