"""Where the cache lives: $NLPDOJO_DATA, else the XDG user cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo.data.cache import DATA_ENV, data_root, downloads_dir, ensure_root, folder_size


def test_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "here"))
    assert data_root() == tmp_path / "here"
    assert not (tmp_path / "here").exists()  # looking does not create
    assert ensure_root() == tmp_path / "here" and (tmp_path / "here").is_dir()
    assert downloads_dir() == tmp_path / "here" / ".downloads"


def test_default_is_xdg_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_root() == tmp_path / "xdg" / "nlpdojo" / "data"


def test_empty_env_means_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DATA_ENV, "  ")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data_root() == tmp_path / "nlpdojo" / "data"


def test_folder_size(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"12345")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"123")
    assert folder_size(tmp_path) == 8
    assert folder_size(tmp_path / "nope") == 0
