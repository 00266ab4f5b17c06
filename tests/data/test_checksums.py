"""Pins: sha256 and size of kept files and downloads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from nlpdojo.data.checksums import (
    FileSpec,
    load_pins,
    manifest,
    sha256_file,
    verify_download,
    verify_files,
)
from nlpdojo.data.errors import ChecksumError


def test_sha256_streams_large_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * 20_000  # > 1 block
    (tmp_path / "f").write_bytes(data)
    assert sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_check_reports_missing_size_and_hash(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"hello")
    good = manifest(tmp_path, ["f"])[0]
    assert good == FileSpec("f", hashlib.sha256(b"hello").hexdigest(), 5)
    assert good.check(tmp_path) is None
    assert "missing" in FileSpec("g", good.sha256, 5).check(tmp_path)
    assert "has 5 bytes, expected 6" in FileSpec("f", good.sha256, 6).check(tmp_path)
    (tmp_path / "f").write_bytes(b"jello")  # same size, other bytes
    assert "sha256" in good.check(tmp_path)
    assert verify_files(tmp_path, [good]) == [good.check(tmp_path)]


def test_verify_download(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x")
    verify_download(tmp_path / "a", hashlib.sha256(b"x").hexdigest(), "a")
    verify_download(tmp_path / "a", None, "a")
    with pytest.raises(ChecksumError, match="does not match the pinned"):
        verify_download(tmp_path / "a", "0" * 64, "a")


def test_load_pins_from_package() -> None:
    pins = load_pins("nlpdojo_datasets", "sotu_pins.json")
    assert len(pins) == 233
    assert all(len(p.sha256) == 64 and p.size > 0 for p in pins)
    assert [p.name for p in pins] == sorted(p.name for p in pins)
