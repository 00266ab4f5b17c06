"""Data sets: sources, checksums, an atomic fetch into a cache, and the cache's location.

The pieces, one module each: :mod:`~nlpdojo.data.cache` (where), :mod:`~nlpdojo.data.checksums`
(pins), :mod:`~nlpdojo.data.download` (HTTP with progress), :mod:`~nlpdojo.data.archives`
(members of zip/tar), :mod:`~nlpdojo.data.sources` (URL, pip, npm, bundled),
:mod:`~nlpdojo.data.install` (atomic fetch with fall-through), :mod:`~nlpdojo.data.splits`
(deterministic folds) and :mod:`~nlpdojo.data.records` (what loaders return). The contract a
data set plugin implements is :class:`nlpdojo.dataset.Dataset`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nlpdojo.data.cache import DATA_ENV, data_root
from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.errors import ChecksumError, FetchError, SourceError
from nlpdojo.data.sources import Bundled, NpmPackage, PipPackage, Source, Url

if TYPE_CHECKING:
    from nlpdojo.dataset import Dataset

__all__ = [
    "DATA_ENV",
    "Bundled",
    "ChecksumError",
    "FetchError",
    "FileSpec",
    "NpmPackage",
    "PipPackage",
    "Source",
    "SourceError",
    "Url",
    "data_root",
    "get_dataset",
    "load",
]


def get_dataset(name: str) -> Dataset:
    """The registered data set ``name`` (an unknown name lists the known ones)."""
    from nlpdojo.plugins import get_registry

    return get_registry().get("dataset", name)  # type: ignore[no-any-return]


def load(name: str, split: str | None = None) -> Any:
    """Load split ``split`` of the registered data set ``name`` from the cache."""
    return get_dataset(name).load(split)
