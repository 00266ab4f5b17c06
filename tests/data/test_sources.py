"""Each kind of source on its own: URL (file and archive), bundled, pip and npm clients."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nlpdojo.data.errors import ChecksumError, SourceError
from nlpdojo.data.sources import Bundled, NpmPackage, PipPackage, Url

from .conftest import make_tar_gz, sha256


def test_url_single_file(server, tmp_path: Path) -> None:
    (server.root / "words.txt").write_bytes(b"a b c")
    src = Url(server.url("words.txt"), keep_as="w.txt")
    src.install_into(tmp_path, tmp_path / "dl", progress=False)
    assert (tmp_path / "w.txt").read_bytes() == b"a b c"


def test_url_archive_is_kept_in_downloads_and_reused(server, tmp_path: Path) -> None:
    data = make_tar_gz({"p/x.txt": b"hello"})
    (server.root / "p.tar.gz").write_bytes(data)
    src = Url(server.url("p.tar.gz"), sha256=sha256(data), members={"x.txt": "p/x.txt"})
    downloads = tmp_path / "dl"
    (tmp_path / "a").mkdir()
    src.install_into(tmp_path / "a", downloads, progress=False)
    assert (tmp_path / "a" / "x.txt").read_bytes() == b"hello"
    assert [p.name for p in downloads.iterdir()] == [f"{sha256(data)[:16]}-p.tar.gz"]
    (server.root / "p.tar.gz").unlink()  # the second install must not need the server
    (tmp_path / "b").mkdir()
    src.install_into(tmp_path / "b", downloads, progress=False)
    assert (tmp_path / "b" / "x.txt").read_bytes() == b"hello"


def test_url_archive_checksum_mismatch(server, tmp_path: Path) -> None:
    (server.root / "p.tar.gz").write_bytes(make_tar_gz({"x": b"tampered"}))
    src = Url(server.url("p.tar.gz"), sha256="0" * 64, members={"x": "x"})
    with pytest.raises(ChecksumError, match="does not match the pinned"):
        src.install_into(tmp_path, tmp_path / "dl", progress=False)
    assert list((tmp_path / "dl").iterdir()) == []  # nothing unverified is kept


def test_url_needs_exactly_one_mode() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Url("http://x/y")
    with pytest.raises(ValueError, match="sha256"):
        Url("http://x/y.tgz", members={"a": "b"})


def test_bundled_copies_package_data(tmp_path: Path) -> None:
    Bundled("nlpdojo_datasets.tiny", {"t.txt": "tiny.txt"}).install_into(
        tmp_path, tmp_path / "dl", progress=False)
    assert (tmp_path / "t.txt").read_text(encoding="utf-8").count("\n") == 400
    with pytest.raises(SourceError, match="not in the package"):
        Bundled("nlpdojo_datasets.tiny", {"x": "nope.txt"}).install_into(
            tmp_path, tmp_path / "dl", progress=False)
    with pytest.raises(SourceError, match="not importable"):
        Bundled("no_such_pkg_xyz", {"x": "y"}).install_into(tmp_path, tmp_path, progress=False)


def test_pip_command_pins_the_exact_file() -> None:
    sdist = PipPackage(filename="p-1.tar.gz", sha256="0" * 64, requirement="p==1")
    cmd = sdist.command(Path("/d"))
    assert cmd[:3] == [sys.executable, "-m", "pip"]
    assert ["--no-binary", ":all:"] == cmd[cmd.index("--no-binary"):cmd.index("--no-binary") + 2]
    assert cmd[-1] == "p==1" and "--no-deps" in cmd
    wheel = PipPackage(filename="w.whl", sha256="0" * 64, requirement="w==1",
                       wheel_tags={"platform": "manylinux_2_28_x86_64", "python_version": "3.11"})
    cmd = wheel.command(Path("/d"))
    assert "--only-binary" in cmd and "--platform" in cmd and "--python-version" in cmd
    assert "pip w==1 (wheel w.whl)" == wheel.describe()


def test_npm_missing_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    src = NpmPackage(filename="x.tgz", sha256="0" * 64, members={"a": "package/a"}, spec="x@1")
    with pytest.raises(SourceError, match="npm is not installed"):
        src.install_into(tmp_path, tmp_path / "dl", progress=False)


def test_client_failure_reports_its_last_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "npm").write_text("#!/bin/sh\necho 'npm error 404 Not Found - x@1' >&2\nexit 1\n")
    (fake / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", str(fake))
    src = NpmPackage(filename="x.tgz", sha256="0" * 64, members={"a": "package/a"}, spec="x@1")
    with pytest.raises(SourceError, match="npm x@1 .*404 Not Found"):
        src.install_into(tmp_path, tmp_path / "dl", progress=False)
