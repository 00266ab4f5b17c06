"""The dataset contract: where a corpus comes from, how it is checked, cached and parsed.

A dataset plugin registers a :class:`Dataset` - a declaration: its sources in order of
preference, the files it keeps with their sha256 pins, its license, its splits and a parser.
``fetch`` is explicit (``dojo data fetch NAME``), atomic and idempotent (see
:mod:`nlpdojo.data.install`); ``load`` never downloads: when the data is missing or corrupt it
raises :class:`DataMissingError` naming the command that fetches it.
"""

from __future__ import annotations

import abc
import enum
from pathlib import Path
from typing import Any

from nlpdojo.data.cache import data_root
from nlpdojo.data.checksums import FileSpec, verify_files
from nlpdojo.data.install import install
from nlpdojo.data.sources import Source
from nlpdojo.errors import NlpdojoError, UnknownNameError


class DataMissingError(NlpdojoError):
    """The data set is not in the cache (or is corrupt); the message gives the fetch command."""


class Status(enum.StrEnum):
    """Where a data set stands in the cache."""

    CACHED = "cached"
    MISSING = "missing"
    CORRUPT = "corrupt"


class Dataset(abc.ABC):
    """A real corpus: its sources, pinned files, license, splits and parser.

    Subclasses set the class attributes and implement :meth:`parse`. ``root`` arguments default
    to :func:`nlpdojo.data.cache.data_root` (``$NLPDOJO_DATA`` or the user cache).
    """

    #: registry name, also the folder name in the cache
    name: str
    #: one line for ``dojo data list``
    description: str = ""
    #: license or terms of use, shown by ``dojo data info``
    license: str = ""
    #: where the data set is described (paper, project page)
    homepage: str = ""
    #: what to cite
    citation: str = ""
    #: the split names ``load`` accepts (``None`` loads everything)
    splits: tuple[str, ...] = ()
    #: how the splits were made, for ``dojo data info`` and the docs
    split_note: str = ""
    #: the files kept in the cache folder, pinned
    files: tuple[FileSpec, ...] = ()
    #: where the files come from, in order of preference
    sources: tuple[Source, ...] = ()
    #: the record type :meth:`load` returns (:mod:`nlpdojo.data.records`: ``Documents`` for
    #: running text, ``LabeledSentences``...): what a trainer asks of a corpus before fetching
    #: it (``dojo train lm`` trains on any data set of ``Documents``); ``None``: known once
    #: loaded
    records: type | None = None

    #: folder -> (size, mtime) of each file when it was last verified (per instance, lazily)
    _verified: dict[Path, tuple[tuple[int, int], ...]]

    def _memo(self) -> dict[Path, tuple[tuple[int, int], ...]]:
        if "_verified" not in self.__dict__:
            self._verified = {}
        return self._verified

    # -- cache ---------------------------------------------------------------------------------

    def folder(self, root: Path | None = None) -> Path:
        """The data set's folder in the cache (whether or not it exists)."""
        return (data_root() if root is None else root) / self.name

    def size(self) -> int:
        """Bytes of the kept files (from the pins)."""
        return sum(f.size for f in self.files)

    def problems(self, root: Path | None = None) -> list[str]:
        """Why the cached copy is not usable (empty: it is complete and verified)."""
        folder = self.folder(root)
        if not folder.is_dir():
            return ["not fetched"]
        return verify_files(folder, self.files)

    def status(self, root: Path | None = None) -> Status:
        """``cached``, ``missing`` (nothing there) or ``corrupt`` (there, but fails the pins)."""
        folder = self.folder(root)
        if not folder.is_dir():
            return Status.MISSING
        return Status.CORRUPT if self.problems(root) else Status.CACHED

    def is_cached(self, root: Path | None = None) -> bool:
        """Whether every file is present with the right checksum."""
        return self.status(root) is Status.CACHED

    def fetch(self, root: Path | None = None, *, progress: bool = True,
              force: bool = False) -> Path:
        """Obtain the files from the first source that works, verify, and move them into place
        atomically. A no-op when already cached (unless ``force``). Returns the folder."""
        folder = install(self.name, self.files, self.sources, root=root, progress=progress,
                         force=force)
        self._memo().pop(folder, None)
        return folder

    def path(self, root: Path | None = None) -> Path:
        """The verified folder, or :class:`DataMissingError` saying how to fetch it.

        Verification hashes every file once per process; later calls only compare sizes and
        modification times.
        """
        folder = self.folder(root)
        signature = self._signature(folder)
        if signature is not None and self._memo().get(folder) == signature:
            return folder
        problems = self.problems(root)
        if problems:
            raise self.missing_error(problems, root)
        if signature is not None:
            self._memo()[folder] = signature
        return folder

    def _signature(self, folder: Path) -> tuple[tuple[int, int], ...] | None:
        try:
            stats = [(folder / f.name).stat() for f in self.files]
        except OSError:
            return None
        return tuple((s.st_size, s.st_mtime_ns) for s in stats)

    # -- parsing -------------------------------------------------------------------------------

    def load(self, split: str | None = None, *, root: Path | None = None) -> Any:
        """Parse the cached files: one split, or everything (``split=None``); never downloads."""
        if split is not None and split not in self.splits:
            known = ", ".join(self.splits) or "none (load everything with split=None)"
            raise UnknownNameError(
                f"data set {self.name!r} has no split {split!r}; its splits are: {known}"
            )
        return self.parse(self.path(root), split)

    @abc.abstractmethod
    def parse(self, folder: Path, split: str | None) -> Any:
        """Read the verified files in ``folder`` and return one split (or all of it)."""

    def missing_error(
        self, problems: list[str] | None = None, root: Path | None = None
    ) -> DataMissingError:
        """The error ``load`` raises when the cache is not usable."""
        if not problems or problems == ["not fetched"]:
            return DataMissingError(
                f"data set {self.name!r} is not fetched yet. Run: dojo data fetch {self.name}"
            )
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        detail = "; ".join(problems[:3]) + more
        return DataMissingError(
            f"data set {self.name!r} in {self.folder(root)} is corrupt ({detail}). "
            f"Run: dojo data fetch {self.name}"
        )
