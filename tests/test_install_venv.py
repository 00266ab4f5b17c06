"""tools/install_venv.py: ``make venv`` installs with uv from the sources pip is configured
with, and with pip where uv fails."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "install_venv.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("install_venv", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pips_sources_and_constraints_reach_uv(tool, tmp_path, monkeypatch):
    wheels, cap = tmp_path / "wheels", tmp_path / "cap.txt"
    wheels.mkdir()
    cap.write_text("torch<=2.14.1\n")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nconstraint = {cap}\ncert = /etc/ssl/certs/ca.crt\n"
                      f"extra-index-url = file://{tmp_path}/missing/simple "
                      "https://mirror.example/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("PIP_CERT", raising=False)
    settings = tool.pip_settings(Path(sys.executable))
    assert settings["find-links"] == [str(wheels)]
    assert settings["extra-index-url"] == [f"file://{tmp_path}/missing/simple",
                                           "https://mirror.example/simple"]
    argv, env = tool.uv_command(tmp_path / "venv", ["-e", ".[dev]"], settings)
    assert argv[:3] == [str(tmp_path / "venv" / "bin" / "uv"), "pip", "install"]
    assert argv[argv.index("--python") + 1] == str(tmp_path / "venv" / "bin" / "python")
    assert argv[argv.index("--index-strategy") + 1] == "unsafe-best-match"  # as pip chooses
    assert "--compile-bytecode" in argv  # as pip does: workers never write bytecode
    assert argv[argv.index("--find-links") + 1] == str(wheels)
    # the missing local index is left out, as pip skips it; the mirror kept
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--extra-index-url"] == [
        "https://mirror.example/simple"]
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-c"] == [tool.CONSTRAINTS,
                                                                      str(cap)]
    assert argv[-3:] == [tool.PIP, "-e", ".[dev]"]
    assert env["SSL_CERT_FILE"] == "/etc/ssl/certs/ca.crt"


def test_a_failing_uv_falls_back_to_pip_and_says_so(tool, tmp_path, monkeypatch, capsys):
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        failed = argv[0].endswith("/uv") or argv[:2] == ["git", "x"]
        return subprocess.CompletedProcess(argv, 1 if failed else 0, stdout="", stderr="")

    monkeypatch.setattr(tool.subprocess, "run", run)
    assert tool.main([str(tmp_path / "venv"), "-e", ".[dev]"]) == 0
    python = str(tmp_path / "venv" / "bin" / "python")
    assert calls[0][:4] == [python, "-m", "pip", "install"] and calls[0][-1] == "uv"
    assert calls[2][0].endswith("/uv")  # after pip's settings were read
    assert calls[-2][-2:] == ["--upgrade", tool.PIP]
    assert calls[-1][:3] == [python, "-m", "pip"] and calls[-1][-2:] == ["-e", ".[dev]"]
    assert "installing with pip instead" in capsys.readouterr().err


def test_without_arguments_it_says_how_to_run_it(tool, capsys):
    assert tool.main([]) == 2
    assert "install_venv.py VENV REQUIREMENT" in capsys.readouterr().err
