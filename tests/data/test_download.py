"""HTTP download against a real server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo.data.download import download
from nlpdojo.data.errors import SourceError


def test_downloads_bytes(server, tmp_path: Path) -> None:
    data = b"abc" * 100_000
    (server.root / "f.bin").write_bytes(data)
    out = download(server.url("f.bin"), tmp_path / "f.bin", progress=False)
    assert out.read_bytes() == data


def test_progress_bar_does_not_break(server, tmp_path: Path, capsys) -> None:
    (server.root / "f.bin").write_bytes(b"z" * 200_000)
    download(server.url("f.bin"), tmp_path / "f.bin", progress=True)
    assert (tmp_path / "f.bin").stat().st_size == 200_000
    # stderr captured is not a terminal (a pipe, a CI log): the bar draws no frame there
    assert capsys.readouterr().err == ""


def test_http_404_is_a_source_error(server, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="HTTP 404"):
        download(server.url("missing"), tmp_path / "x", progress=False)


def test_server_down_is_a_source_error(dead_url: str, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot connect"):
        download(dead_url, tmp_path / "x", progress=False, timeout=5)


def test_interrupt_propagates(server, tmp_path: Path) -> None:
    (server.root / "big").write_bytes(b"q" * 500_000)

    def boom(_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download(server.url("big"), tmp_path / "big", progress=False, on_block=boom)


def test_malformed_url_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="unknown url type"):
        download("nowhere/file.txt", tmp_path / "x", progress=False)
