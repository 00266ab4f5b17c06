"""The Dataset contract: status, load never downloads, clear errors when missing or corrupt."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.sources import Bundled
from nlpdojo.dataset import DataMissingError, Dataset, Status
from nlpdojo.errors import UnknownNameError

from .conftest import sha256

TINY = resources.files("nlpdojo_datasets.tiny").joinpath("tiny.txt")
TINY_BYTES = TINY.read_bytes()


class Lines(Dataset):
    name = "lines"
    splits = ("first",)
    files = (FileSpec("tiny.txt", sha256(TINY_BYTES), len(TINY_BYTES)),)
    sources = (Bundled("nlpdojo_datasets.tiny", {"tiny.txt": "tiny.txt"}),)

    def parse(self, folder: Path, split: str | None) -> list[str]:
        lines = (folder / "tiny.txt").read_text(encoding="utf-8").splitlines()
        return lines[:1] if split == "first" else lines


def test_missing_then_fetched(cache: Path) -> None:
    ds = Lines()
    assert ds.status() is Status.MISSING and not ds.is_cached()
    with pytest.raises(DataMissingError, match=r"not fetched yet\. Run: dojo data fetch lines"):
        ds.load()
    assert not cache.exists() or not (cache / "lines").exists()  # load never fetched
    assert ds.fetch(progress=False) == cache / "lines"
    assert ds.status() is Status.CACHED
    assert len(ds.load()) == 400 and len(ds.load("first")) == 1
    assert ds.size() == len(TINY_BYTES)


def test_corrupt_is_detected_and_untouched_by_load(cache: Path) -> None:
    ds = Lines()
    ds.fetch(progress=False)
    ds.load()  # verified once, memoized
    target = cache / "lines" / "tiny.txt"
    target.write_bytes(target.read_bytes()[:-10])
    assert ds.status() is Status.CORRUPT
    with pytest.raises(DataMissingError,
                       match=r"is corrupt \(tiny\.txt has .* bytes.*dojo data fetch lines"):
        ds.load()
    assert target.stat().st_size == len(TINY_BYTES) - 10  # load does not repair or delete
    ds.fetch(progress=False)  # fetch does
    assert ds.status() is Status.CACHED and len(ds.load()) == 400


def test_unknown_split(cache: Path) -> None:
    with pytest.raises(UnknownNameError, match="no split 'dev'; its splits are: first"):
        Lines().load("dev")


def test_explicit_root(tmp_path: Path) -> None:
    ds = Lines()
    ds.fetch(tmp_path, progress=False)
    assert ds.status(tmp_path) is Status.CACHED
    assert ds.path(tmp_path) == tmp_path / "lines"
    assert len(ds.load(root=tmp_path)) == 400
