"""The grader grades a private, read-only snapshot of a submission, never the live folder.

Why: a submission that edits its own files while it is graded (or a second process of the
student's) would make the result and its replay differ; a topic folder that is a symbolic link
to another student's folder would be graded as theirs; a link to ``/etc`` or to the solutions
would be copied into the sandbox. So before grading, the submission's regular files are copied
into a folder of the grader's (read-only), links that leave the submission are refused, odd
files (pipes, devices, sockets) are refused, and sizes are capped. The snapshot's content hash
(sha256 over the sorted relative paths and bytes) goes into the result; ``grade --replay``
compares it with the files as they are at replay time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from nlpdojo.errors import NlpdojoError

MAX_FILE_BYTES = 5 * 2**20
MAX_TOTAL_BYTES = 50 * 2**20
MAX_FILES = 2000
_SKIPPED = {"__pycache__", ".git", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache",
            ".ruff_cache"}


class SubmissionError(NlpdojoError):
    """The submission cannot be graded as it is (a link out of it, a file too large...)."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    sha256: str
    files: int


def take_snapshot(source: Path, dest: Path, *, max_file_bytes: int = MAX_FILE_BYTES,
                  max_total_bytes: int = MAX_TOTAL_BYTES, max_files: int = MAX_FILES
                  ) -> Snapshot:
    """Copy the submission ``source`` (a folder, or one file) into the new folder ``dest``."""
    source = Path(source)
    if source.is_symlink():
        raise SubmissionError(f"{source} is a symbolic link (to {os.readlink(source)}); submit "
                              "the folder itself")
    root = source.resolve()
    dest.mkdir(parents=True)
    digest = hashlib.sha256()
    total = count = 0
    for path in _walk(root):
        rel = path.relative_to(root) if root.is_dir() else Path(root.name)
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            target = path.resolve()
            if not target.is_relative_to(root):
                raise SubmissionError(
                    f"{rel} is a symbolic link to {os.readlink(path)}, outside the submission; "
                    "submit your own files, not links to elsewhere")
            if target.is_dir():
                continue  # its files are copied where they really are
            info = target.stat()
            path = target
        if stat.S_ISDIR(info.st_mode):
            continue
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(f"{rel} is not a regular file (a pipe, socket or device); "
                                  "remove it from the submission")
        if info.st_size > max_file_bytes:
            raise SubmissionError(f"{rel} has {info.st_size:,} bytes; a submission's files may "
                                  f"have at most {max_file_bytes:,} (remove data or outputs)")
        total += info.st_size
        count += 1
        if total > max_total_bytes or count > max_files:
            raise SubmissionError(f"the submission is larger than {max_total_bytes:,} bytes or "
                                  f"{max_files:,} files; submit the exercise's files only")
        data = path.read_bytes()[:max_file_bytes + 1]
        digest.update(str(rel).encode() + b"\0" + len(data).to_bytes(8, "big") + data)
        target_file = dest / rel
        target_file.parent.mkdir(parents=True, exist_ok=True)
        target_file.write_bytes(data)
    _read_only(dest)
    return Snapshot(dest, digest.hexdigest(), count)


def content_hash(source: Path) -> str:
    """The hash :func:`take_snapshot` would record for ``source`` now (``--replay``)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="nlpdojo-hash-") as tmp:
        snap = take_snapshot(source, Path(tmp) / "s")
        _writable(snap.path)
        return snap.sha256


def _walk(root: Path) -> list[Path]:
    if not root.is_dir():
        return [root] if root.exists() else []
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED)
        here = Path(folder)
        found += [here / name for name in sorted(files)]
        found += [here / d for d in dirs if (here / d).is_symlink()]
    return sorted(found)


def _read_only(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        os.chmod(path, 0o555 if path.is_dir() else 0o444)
    os.chmod(folder, 0o555)


def _writable(folder: Path) -> None:
    os.chmod(folder, 0o755)
    for path in folder.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def remove(snapshot: Snapshot) -> None:
    """Delete a snapshot (its folders are read-only)."""
    if snapshot.path.exists():
        _writable(snapshot.path)
        shutil.rmtree(snapshot.path, ignore_errors=True)
