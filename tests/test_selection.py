"""Backend selection precedence: flag > NLPDOJO_* environment > config file > NumPy, each value
reported with where it came from; bad configuration is an error naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlpdojo.errors import ConfigError
from nlpdojo.selection import Choice, find_config, load_backend, resolve


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project folder as the working directory."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_default_is_numpy(project):
    sel = resolve()
    assert (sel.backend.value, sel.backend.source) == ("numpy", "default")
    assert (sel.device.value, sel.device.source) == (None, "default")
    assert (sel.dtype.value, sel.dtype.source) == (None, "default")
    backend = load_backend()
    assert (backend.name, backend.device) == ("numpy", "cpu")


def test_dojo_toml_beats_default(project):
    path = write(project / "dojo.toml", 'backend = "torch"\ndevice = "cpu"\ndtype = "float64"\n')
    sel = resolve()
    assert (sel.backend.value, sel.backend.source) == ("torch", str(path))
    assert (sel.device.value, sel.device.source) == ("cpu", str(path))
    assert (sel.dtype.value, sel.dtype.source) == ("float64", str(path))


def test_pyproject_table_found_from_a_subfolder(project, monkeypatch):
    path = write(project / "pyproject.toml",
                 '[project]\nname = "x"\n\n[tool.nlpdojo]\ndtype = "float32"\n')
    deep = project / "exercises" / "word_vectors"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    sel = resolve()
    assert (sel.dtype.value, sel.dtype.source) == ("float32", str(path))
    assert sel.backend.source == "default"  # keys the file does not set fall through
    assert load_backend().default_dtype == np.float32


def test_pyproject_without_the_table_is_passed_over(project, monkeypatch):
    path = write(project / "dojo.toml", 'backend = "torch"\n')
    inner = project / "pkg"
    write(inner / "pyproject.toml", '[project]\nname = "inner"\n')
    monkeypatch.chdir(inner)
    assert resolve().backend.source == str(path)


def test_nearest_config_wins(project, monkeypatch):
    write(project / "pyproject.toml", '[tool.nlpdojo]\nbackend = "torch"\n')
    near = write(project / "a" / "dojo.toml", 'backend = "numpy"\n')
    (project / "a" / "b").mkdir()
    monkeypatch.chdir(project / "a" / "b")
    assert resolve().backend == Choice("numpy", str(near))


def test_dojo_toml_wins_over_pyproject_in_the_same_folder(project):
    write(project / "pyproject.toml", '[tool.nlpdojo]\nbackend = "numpy"\n')
    dojo = write(project / "dojo.toml", 'backend = "torch"\n')
    assert resolve().backend.source == str(dojo)
    assert find_config() == ({"backend": "torch"}, str(dojo))


def test_environment_beats_config(project, monkeypatch):
    write(project / "dojo.toml", 'backend = "torch"\ndevice = "cpu"\n')
    monkeypatch.setenv("NLPDOJO_BACKEND", "numpy")
    sel = resolve()
    assert (sel.backend.value, sel.backend.source) == ("numpy", "env NLPDOJO_BACKEND")
    assert sel.device.source.endswith("dojo.toml")  # resolved independently


def test_flag_beats_environment(project, monkeypatch):
    write(project / "dojo.toml", 'backend = "numpy"\n')
    monkeypatch.setenv("NLPDOJO_BACKEND", "numpy")
    monkeypatch.setenv("NLPDOJO_DEVICE", "cpu")
    sel = resolve(backend="torch", device="cuda", dtype="float64")
    assert (sel.backend.value, sel.backend.source) == ("torch", "flag")
    assert (sel.device.value, sel.device.source) == ("cuda", "flag")
    assert (sel.dtype.value, sel.dtype.source) == ("float64", "flag")


def test_empty_environment_variable_counts_as_unset(project, monkeypatch):
    monkeypatch.setenv("NLPDOJO_BACKEND", "")
    assert resolve().backend.source == "default"


def test_device_from_environment_with_backend_from_config(project, monkeypatch):
    write(project / "dojo.toml", 'backend = "torch"\n')
    monkeypatch.setenv("NLPDOJO_DEVICE", "cpu")
    sel = resolve()
    assert sel.backend.value == "torch"
    assert (sel.device.value, sel.device.source) == ("cpu", "env NLPDOJO_DEVICE")


def test_invalid_toml_names_the_file(project):
    path = write(project / "dojo.toml", 'backend = "torch\n')
    with pytest.raises(ConfigError, match=rf"{path} is not valid TOML"):
        resolve()


def test_invalid_pyproject_names_the_file(project):
    path = write(project / "pyproject.toml", "[tool.nlpdojo\n")
    with pytest.raises(ConfigError, match=rf"{path} is not valid TOML"):
        resolve()


def test_invalid_dtype_in_config_names_the_file(project):
    path = write(project / "dojo.toml", 'dtype = "float16"\n')
    with pytest.raises(ConfigError) as info:
        resolve()
    assert "'float16'" in str(info.value) and str(path) in str(info.value)
    assert "float32" in str(info.value) and "float64" in str(info.value)


def test_invalid_dtype_in_environment_names_the_variable(project, monkeypatch):
    monkeypatch.setenv("NLPDOJO_DTYPE", "half")
    with pytest.raises(ConfigError, match=r"'half' \(from env NLPDOJO_DTYPE\)"):
        load_backend()


def test_non_string_value_names_the_file(project):
    path = write(project / "pyproject.toml", "[tool.nlpdojo]\nbackend = 3\n")
    with pytest.raises(ConfigError, match=rf"{path}: 'backend' must be a string, got 3"):
        resolve()
