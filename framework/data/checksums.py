"""Pinned files and sha256 verification.

Every file a data set keeps is pinned by name, sha256 and size; every archive a source
downloads is pinned by sha256. Verification streams the file in 1 MiB blocks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from nlpdojo.data.errors import ChecksumError

_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileSpec:
    """A file a data set keeps: its path relative to the data set folder, sha256 and size."""

    name: str
    sha256: str
    size: int

    def check(self, folder: Path) -> str | None:
        """``None`` when ``folder/name`` matches the pin, else a short reason."""
        path = folder / self.name
        if not path.is_file():
            return f"{self.name} is missing"
        size = path.stat().st_size
        if size != self.size:
            return f"{self.name} has {size:,} bytes, expected {self.size:,}"
        digest = sha256_file(path)
        if digest != self.sha256:
            return f"{self.name} has sha256 {digest[:12]}…, expected {self.sha256[:12]}…"
        return None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def verify_download(path: Path, sha256: str | None, what: str) -> None:
    """Raise :class:`ChecksumError` when ``path`` does not hash to ``sha256`` (skip if None)."""
    if sha256 is None:
        return
    digest = sha256_file(path)
    if digest != sha256:
        raise ChecksumError(
            f"{what}: sha256 {digest} does not match the pinned {sha256} "
            "(the file changed upstream or the download was tampered with)"
        )


def verify_files(folder: Path, files: Iterable[FileSpec]) -> list[str]:
    """Reasons why ``folder`` does not hold exactly the pinned files (empty list: all good)."""
    return [reason for spec in files if (reason := spec.check(folder)) is not None]


def manifest(folder: Path, names: Iterable[str]) -> tuple[FileSpec, ...]:
    """Compute pins for files in ``folder`` (how the pins in the plugins were made)."""
    return tuple(
        FileSpec(name, sha256_file(folder / name), (folder / name).stat().st_size)
        for name in sorted(names)
    )


def specs_from_mapping(pins: Mapping[str, Mapping[str, object]]) -> tuple[FileSpec, ...]:
    """``{"a.txt": {"sha256": ..., "size": ...}}`` -> file specs, sorted by name."""
    return tuple(
        FileSpec(name, str(pin["sha256"]), int(pin["size"]))  # type: ignore[call-overload]
        for name, pin in sorted(pins.items())
    )


def load_pins(package: str, resource: str) -> tuple[FileSpec, ...]:
    """Read a JSON pin file shipped as package data (for data sets with many files)."""
    text = resources.files(package).joinpath(resource).read_text(encoding="utf-8")
    return specs_from_mapping(json.loads(text))
