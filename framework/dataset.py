"""The dataset contract: where a corpus comes from, how it is checked, cached and parsed.

A dataset plugin registers a :class:`Dataset`. ``fetch`` is explicit (``dojo data fetch NAME``)
and idempotent; ``load`` never downloads: when the data is missing it raises
:class:`DataMissingError` naming the command that fetches it.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any

from nlpdojo.errors import NlpdojoError


class DataMissingError(NlpdojoError):
    """The data set is not in the cache (or is corrupt); the message gives the fetch command."""


class Dataset(abc.ABC):
    """A real corpus: its sources, checksums, license, splits and parser."""

    #: registry name, also the folder name in the cache
    name: str
    #: one line for ``dojo data list``
    description: str = ""
    #: license or terms of use, shown by ``dojo data info``
    license: str = ""
    #: the split names ``load`` accepts
    splits: tuple[str, ...] = ()

    @abc.abstractmethod
    def is_cached(self, cache_dir: Path) -> bool:
        """Whether every file is present in ``cache_dir`` with the right checksum."""

    @abc.abstractmethod
    def fetch(self, cache_dir: Path, *, progress: bool = True) -> Path:
        """Obtain the files from the first source that works, verify, and move them into place
        atomically. A no-op when already cached. Returns the dataset's folder."""

    @abc.abstractmethod
    def load(self, cache_dir: Path, split: str | None = None) -> Any:
        """Parse the cached files (one split, or everything); never downloads."""

    def missing_error(self) -> DataMissingError:
        return DataMissingError(
            f"data set {self.name!r} is not fetched yet. Run: dojo data fetch {self.name}"
        )
