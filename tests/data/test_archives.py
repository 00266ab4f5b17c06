"""Members out of zip and tar archives, nested ones too, and the failure messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo.data.archives import extract_members
from nlpdojo.data.errors import SourceError

from .conftest import make_tar_gz, make_zip


def test_zip_and_tar(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(make_zip({"pkg/x.txt": b"X", "pkg/y.txt": b"Y"}))
    (tmp_path / "a.tgz").write_bytes(make_tar_gz({"pkg/x.txt": b"X2"}))
    dest = tmp_path / "out"
    dest.mkdir()
    extract_members(tmp_path / "a.zip", {"x.txt": "pkg/x.txt", "sub/y.txt": "pkg/y.txt"}, dest)
    extract_members(tmp_path / "a.tgz", {"x2.txt": "pkg/x.txt"}, dest)
    assert (dest / "x.txt").read_bytes() == b"X"
    assert (dest / "sub" / "y.txt").read_bytes() == b"Y"
    assert (dest / "x2.txt").read_bytes() == b"X2"


def test_nested_archive(tmp_path: Path) -> None:
    inner = make_tar_gz({"d/deep.txt": b"deep", "d/other.txt": b"o"})
    (tmp_path / "outer.zip").write_bytes(make_zip({"res/inner.tar.gz": inner}))
    dest = tmp_path / "out"
    dest.mkdir()
    extract_members(tmp_path / "outer.zip", {"deep.txt": "res/inner.tar.gz!d/deep.txt",
                                             "other.txt": "res/inner.tar.gz!d/other.txt"}, dest)
    assert (dest / "deep.txt").read_bytes() == b"deep"
    assert sorted(p.name for p in dest.iterdir()) == ["deep.txt", "other.txt"]  # no scratch left


def test_missing_member_named(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(make_zip({"x": b"1"}))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(SourceError, match="no member nope"):
        extract_members(tmp_path / "a.zip", {"k": "nope"}, dest)


def test_damaged_archive(tmp_path: Path) -> None:
    data = make_tar_gz({"x": b"1" * 100_000})
    (tmp_path / "a.tar.gz").write_bytes(data[: len(data) // 2])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(SourceError, match="damaged|no member"):
        extract_members(tmp_path / "a.tar.gz", {"x": "x"}, dest)
    (tmp_path / "junk").write_bytes(b"not an archive at all")
    with pytest.raises(SourceError, match="neither a zip nor a tar"):
        extract_members(tmp_path / "junk", {"x": "x"}, dest)


def test_refuses_to_write_outside(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(make_zip({"x": b"1"}))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(SourceError, match="outside"):
        extract_members(tmp_path / "a.zip", {"../evil": "x"}, dest)
    assert not (tmp_path / "evil").exists()
