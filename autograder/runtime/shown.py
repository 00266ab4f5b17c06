"""The grader's modules a sandboxed worker sees, bound as one folder per package.

The sandbox shows a worker only its own modules of the grader's packages (and the ``__init__``
of the packages above them: :func:`~.sandbox._grader_package`); the rest of those packages,
the grader's side, is hidden. Bound a file at a time, that is an empty tmpfs per package and
a bind mount per module and per byte-compiled module: about 110 mounts, which cost bubblewrap
13 of the 26 ms of CPU it spends starting a worker (``bench/worker_startup.py``), at every
worker and reference process a grading starts.

Here the same files are copied once into a staged folder per package tree, laid out as the
package is (the modules, their ``__pycache__`` files with the sources' times, so that Python
still takes them as current), and the sandbox binds that folder, read-only, where the package
is: the worker sees the same files at the same paths, and nothing else of the package.

A staged folder lives in the user's cache (``~/.cache/nlpdojo/sandbox-shown``), named by a hash
of the package's path and every staged file's path, size and modification time, so that an
edited grader (an editable install) is staged again, and built beside its final name then
renamed, so that concurrent graders never see half of one; a process uses a stage only
after finding it holds exactly those files, byte for byte (the cache is the user's: a
submission graded without the sandbox could have written there), else makes it again. Stages
unused for a week are removed when another is made. The worker never sees the cache (the
sandbox binds only the stage, read-only). Where no stage can be made (no writable cache
folder), the files are bound one by one, as before.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from platformdirs import user_cache_path

#: ``$NLPDOJO_SHOWN_CACHE``, else this folder of the user's cache: the staged packages
CACHE_ENV = "NLPDOJO_SHOWN_CACHE"
#: a stage not used for this long is removed when another one is made
UNUSED_S = 7 * 24 * 3600


def cache_root() -> Path:
    """Where the stages are: ``$NLPDOJO_SHOWN_CACHE``, else the user's cache folder's."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return user_cache_path("nlpdojo", appauthor=False) / "sandbox-shown"


#: the stages this process found to hold what their sources hold (:func:`_matches`)
_CHECKED: set[Path] = set()


def staged(top: Path, members: list[tuple[Path, list[Path]]]) -> Path | None:
    """The staged folder of the package tree at ``top``: each ``(folder, files)`` of
    ``members`` (``folder`` is ``top`` or inside it; ``files`` with their byte-compiled files)
    copied to the same place under it. None where it cannot be made."""
    entries = []
    for folder, files in members:
        relative = folder.relative_to(top)
        entries.append((relative, None))
        for file in files:
            entries.append((relative / file.relative_to(folder), file))
    try:
        stamps = []
        for rel, src in entries:
            stat = os.stat(src) if src else None
            stamps.append((str(rel), stat.st_size, stat.st_mtime_ns) if stat else (str(rel),))
        key = hashlib.sha256(repr((str(top), sys.implementation.cache_tag, stamps))
                             .encode()).hexdigest()[:32]
        root = cache_root()
        stage = root / key
        if stage in _CHECKED or stage.is_dir() and _matches(stage, entries):
            os.utime(stage)  # in use: not removed as unused
            _CHECKED.add(stage)
            return stage
        shutil.rmtree(stage, ignore_errors=True)  # another's, or changed since: made again
        root.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
        try:
            _build(building, entries)
            os.chmod(building, 0o755)
            try:
                os.rename(building, stage)
            except OSError:  # another grader staged it first: used once it is checked
                if not stage.is_dir() or not _matches(stage, entries):
                    return None
        finally:
            shutil.rmtree(building, ignore_errors=True)
        _CHECKED.add(stage)
        _remove_unused(root, keep=stage)
        return stage
    except OSError:
        return None


def _matches(stage: Path, entries: list[tuple[Path, Path | None]]) -> bool:
    """Whether ``stage`` holds exactly the files of ``entries``, each byte for byte its
    source's: a stage is the user's file, which a submission graded without the sandbox (as
    the user) could have written; one that does not match is not used. Checked once per
    process (3 ms for the grader's ~110 files)."""
    wanted = {str(rel): src for rel, src in entries if src is not None}
    found = set()
    for folder, _, files in os.walk(stage):
        for name in files:
            found.add(os.path.relpath(os.path.join(folder, name), stage))
    if found != set(wanted):
        return False
    return all((stage / rel).read_bytes() == src.read_bytes() for rel, src in wanted.items())


def _build(building: Path, entries: list[tuple[Path, Path | None]]) -> None:
    """The folders (0755) and copies of the files (0644, their sources' times) of a stage:
    readable by a worker that dropped to a user of its own."""
    for relative, source in entries:
        target = building / relative
        if source is None:
            target.mkdir(mode=0o755, parents=True, exist_ok=True)
            os.chmod(target, 0o755)
            continue
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.chmod(target.parent, 0o755)
        shutil.copy2(source, target)
        os.chmod(target, 0o644)


def _remove_unused(root: Path, keep: Path) -> None:
    """Stages (and builds left by a killed grader) not used for :data:`UNUSED_S`."""
    cutoff = time.time() - UNUSED_S
    for entry in root.iterdir():
        try:
            if entry != keep and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue
