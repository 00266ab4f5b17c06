"""Atomic, idempotent installation of a data set into the cache.

``install`` tries each source in order. A source writes into a fresh staging folder
``<root>/.tmp-<name>-*`` next to the target; the pins are verified there; only then does
``os.replace`` move the folder into place (same file system, so the move is atomic). An
interruption at any point - a dropped connection, a wrong checksum, Ctrl-C - leaves the previous
cache exactly as it was and no half-written folder under the data set's name.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from nlpdojo.data.cache import STAGING_PREFIX, downloads_dir, ensure_root
from nlpdojo.data.checksums import FileSpec, verify_files
from nlpdojo.data.errors import ChecksumError, FetchError, SourceError
from nlpdojo.data.sources import Source

log = logging.getLogger(__name__)

#: staging folders older than this are left-overs of a killed process and are removed
STALE_AFTER_S = 24 * 3600


def install(
    name: str,
    files: Sequence[FileSpec],
    sources: Sequence[Source],
    *,
    root: Path | None = None,
    progress: bool = True,
    force: bool = False,
) -> Path:
    """Make ``<root>/<name>`` hold exactly the pinned ``files``; return that folder.

    A no-op when the folder already verifies (unless ``force``). Raises :class:`FetchError`
    listing every source and why it failed.
    """
    root = ensure_root(root)
    target = root / name
    if not force and target.is_dir() and not verify_files(target, files):
        return target
    _remove_stale_staging(root)
    failures: list[str] = []
    for i, source in enumerate(sources, 1):
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{name}-", dir=root))
        try:
            source.install_into(staging, downloads_dir(root), progress=progress)
            problems = verify_files(staging, files)
            if problems:
                more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
                raise ChecksumError("; ".join(problems[:3]) + more)
            _move_into_place(staging, target, files)
            log.info("installed %s from %s", name, source.describe())
            return target
        except (SourceError, OSError) as exc:
            log.info("%s: source %s failed (%s); trying the next", name, source.describe(), exc)
            failures.append(f"({i}) {source.describe()}: {exc}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if not sources:
        failures.append("no source is declared")
    raise FetchError(
        f"could not fetch data set {name!r}, every source failed: {' '.join(failures)}. "
        f"Connect to the internet (or install the client named above) and run "
        f"`dojo data fetch {name}` again."
    )


def _move_into_place(staging: Path, target: Path, files: Sequence[FileSpec]) -> None:
    """Swap the verified ``staging`` folder in for ``target`` (which may be absent or corrupt)."""
    staging.chmod(0o755)  # mkdtemp made it private; the cache is readable like any other
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}old-{target.name}-",
                                    dir=target.parent))
        os.replace(target, old / target.name)
    try:
        os.replace(staging, target)
    except OSError:
        # Another process installed it between our two renames: keep theirs if it verifies.
        if verify_files(target, files):
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _remove_stale_staging(root: Path) -> None:
    cutoff = time.time() - STALE_AFTER_S
    for path in root.glob(f"{STAGING_PREFIX}*"):
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
