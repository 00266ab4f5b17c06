"""Errors of the data layer. Each says which data set, which source or file, and what to do."""

from __future__ import annotations

from nlpdojo.errors import NlpdojoError


class SourceError(NlpdojoError):
    """One source could not deliver (unreachable, client missing, bad archive, wrong checksum).

    The installer catches it and tries the next source; the message becomes one line of the
    final :class:`FetchError` when every source fails.
    """


class ChecksumError(SourceError):
    """A download or an extracted file does not have the pinned sha256 (or size)."""


class FetchError(NlpdojoError):
    """Every source of a data set failed; the message lists each source and why."""
