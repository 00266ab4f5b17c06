"""The grader grades a private, read-only snapshot of a submission, never the live folder.

Why: a submission that edits its own files while it is graded (or a second process of the
student's) would make the result and its replay differ; a topic folder that is a symbolic link
to another student's folder would be graded as theirs; a link to ``/etc`` or to the solutions
would be copied into the sandbox. So before grading, the submission's regular files are copied
into a folder of the grader's (read-only), links that leave the submission are refused, odd
files (pipes, devices, sockets) are refused, and sizes are capped. The snapshot's content hash
(sha256 over the sorted relative paths and bytes) goes into the result; ``grade --replay``
compares it with the files as they are at replay time.

It is the one door: every way a submission comes in (a folder, a notebook, ``pytest``, a
cohort, a Dask cluster's task, Gradescope's ``run_autograder``) is snapshotted here before
anything of it is copied, read or materialised, so the refusals are the same everywhere. A file
whose name is not UTF-8 cannot be named in a result, a hash or a report: it is left out of the
snapshot and said so (``Snapshot.skipped``), never a crash. A file of a submission folder larger
than ``max_file_bytes`` (a checkpoint or a data set left in ``exercises/``: no module is that
large) is left out the same way, the warning naming it and its size, so a stray output never
costs a grading; a submission that *is* one such file (a notebook) is refused. The caps on the
total (bytes and files) refuse the submission: they bound what the grader copies.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from nlpdojo.errors import NlpdojoError
from nlpdojo_autograder.runtime.loader import LIBRARY

MAX_FILE_BYTES = 5 * 2**20
MAX_TOTAL_BYTES = 50 * 2**20
MAX_FILES = 2000
_SKIPPED = {"__pycache__", ".git", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache",
            ".ruff_cache"}


class SubmissionError(NlpdojoError):
    """The submission cannot be graded as it is (a link out of it, a file too large...)."""


#: the warning for a file left out because its name is not UTF-8 (the escaped name follows)
NOT_UTF8 = "skipped: a file whose name is not UTF-8"
#: the warning for a file of a submission folder left out for its size (its name and size follow)
TOO_LARGE = "skipped: a file too large to grade"
#: the warning for a folder nested too deep (its name follows)
TOO_DEEP = "skipped: a folder nested too deep"
#: how deep a submission's folders may nest (``exercises/<topic>/library`` is 3)
MAX_DEPTH = 32


@dataclass(frozen=True)
class Snapshot:
    path: Path
    sha256: str
    files: int
    #: what was left out of the submission and why (names that are not UTF-8, files too
    #: large), one line each
    skipped: tuple[str, ...] = ()


def take_snapshot(source: Path, dest: Path, *, max_file_bytes: int = MAX_FILE_BYTES,
                  max_total_bytes: int = MAX_TOTAL_BYTES, max_files: int = MAX_FILES,
                  shown_as: str = "") -> Snapshot:
    """Copy the submission ``source`` (a folder, or one file) into the new folder ``dest``.

    Raises :class:`SubmissionError` for a link out of the submission, a pipe, socket or device,
    a total too large, or a ``source`` that is itself a file too large; a name that is not
    UTF-8 and a file of the folder larger than ``max_file_bytes`` are left out and listed in
    ``skipped``. Each file is read through a descriptor opened without following links or
    blocking and checked again there, so nothing swapped in after the walk is read.
    ``shown_as``: the folder the messages name the files in (``library``), if not the root."""
    source = Path(source)
    if source.is_symlink():
        raise SubmissionError(f"{_shown(source)} is a symbolic link (to "
                              f"{_shown(os.readlink(source))}); submit the file or folder itself")
    root = source.resolve()
    if not root.is_dir() and not _utf8(root.name):
        raise SubmissionError(f"the name of {_shown(source)} is not UTF-8: rename it (letters, "
                              "digits, '_' and '.') and submit it again")
    dest.mkdir(parents=True)
    digest = hashlib.sha256()
    total = count = 0
    paths, skipped = _walk(root, Path(shown_as))
    for path in paths:
        rel = path.relative_to(root) if root.is_dir() else Path(root.name)
        real = _regular_file(path, Path(shown_as) / rel, root)
        if real is None:
            continue  # a link to a folder inside: its files are copied where they really are
        data = _read_capped(real, Path(shown_as) / rel, max_file_bytes)
        if isinstance(data, int):
            if not root.is_dir():  # the submission is this one file: nothing would be graded
                raise SubmissionError(f"{_shown(Path(shown_as) / rel)} has {data:,} bytes; a "
                                      f"submission's files may have at most {max_file_bytes:,} "
                                      "(a notebook: clear its outputs and save it)")
            skipped.append(too_large(Path(shown_as) / rel, data, max_file_bytes))
            continue
        total += len(data)
        count += 1
        if total > max_total_bytes or count > max_files:
            raise SubmissionError(f"the submission is larger than {max_total_bytes:,} bytes or "
                                  f"{max_files:,} files; submit the exercise's files only")
        digest.update(str(rel).encode() + b"\0" + len(data).to_bytes(8, "big") + data)
        target_file = dest / rel
        target_file.parent.mkdir(parents=True, exist_ok=True)
        target_file.write_bytes(data)
    _read_only(dest)
    return Snapshot(dest, digest.hexdigest(), count, tuple(sorted(skipped)))


def too_large(rel: Path, size: int, max_file_bytes: int) -> str:
    """The warning for ``rel``, left out of a snapshot for its ``size``: what and why, and where
    such files belong."""
    return (f"{TOO_LARGE} ({_shown(rel)}: {size:,} bytes, more than the {max_file_bytes:,} a "
            "file may have); keep data, checkpoints and other outputs out of the exercises "
            "(`dojo train` writes its own to its outputs folder: `dojo train NAME --help`, "
            "--output)")


def _regular_file(path: Path, rel: Path, root: Path) -> Path | None:
    """The regular file ``path`` stands for (itself, or the target of a link inside the
    submission); ``None`` for a link to a folder inside it. Refuses links out, links that lead
    nowhere, pipes, sockets and devices: reading them would hand the grader's files
    (``/proc/self/environ``), block (a FIFO) or never end (``/dev/zero``)."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            raise SubmissionError(f"{_shown(rel)} is a symbolic link to "
                                  f"{_shown(os.readlink(path))}, which leads nowhere; remove "
                                  "it from the submission") from None
        if not target.is_relative_to(root):
            raise SubmissionError(
                f"{_shown(rel)} is a symbolic link to {_shown(os.readlink(path))}, outside the "
                "submission; submit your own files, not links to elsewhere")
        if target.is_dir():
            return None
        info, path = target.lstat(), target
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionError(f"{_shown(rel)} is not a regular file (a pipe, socket or device); "
                              "remove it from the submission")
    return path


def _read_capped(path: Path, rel: Path, max_file_bytes: int) -> bytes | int:
    """The bytes of the regular file ``path``, or its size when it has more than
    ``max_file_bytes`` (it is then not read); opened without following a link or blocking and
    checked on the open descriptor (a file swapped for a FIFO, a device or a link after the
    walk is refused, never read)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise SubmissionError(f"{_shown(rel)} cannot be read ({exc.strerror}); remove it from "
                              "the submission") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(f"{_shown(rel)} is not a regular file (a pipe, socket or "
                                  "device); remove it from the submission")
        if info.st_size > max_file_bytes:
            return info.st_size
        data = fh.read(max_file_bytes + 1)
    if len(data) > max_file_bytes:  # it grew after the check
        return len(data)
    return data


def content_hash(source: Path) -> str:
    """The hash :func:`take_snapshot` would record for ``source`` now (``--replay``)."""
    with tempfile.TemporaryDirectory(prefix="nlpdojo-hash-") as tmp:
        snap = take_snapshot(source, Path(tmp) / "s")
        _writable(snap.path)
        return snap.sha256


def _utf8(name: str) -> bool:
    """Whether a file name (as Python decodes it: undecodable bytes become surrogates) is
    UTF-8 on disk."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(path: str | os.PathLike[str]) -> str:
    """A path as a message can hold it: bytes that are not UTF-8 escaped (``\\xff``)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _walk(root: Path, shown_as: Path, folders: list[Path] | None = None
          ) -> tuple[list[Path], list[str]]:
    """``(paths, skipped)``: the files and links below ``root`` (or ``root``, a file), sorted,
    without caches; names that are not UTF-8 (files, or folders with all they hold) and
    folders nested deeper than :data:`MAX_DEPTH` are left out, each with a line in
    ``skipped``. ``folders``: where to put the folders walked into (below ``root``).
    Iterative (``os.walk`` recurses: a submission of a thousand nested folders raised
    RecursionError)."""
    if not root.is_dir():
        return ([root] if root.exists() else []), []
    found: list[Path] = []
    skipped: list[str] = []
    todo = [(root, 0)]
    while todo:
        here, depth = todo.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue  # unreadable: nothing of it is copied (the caps and checks see no file)
        for entry in entries:
            name = entry.name
            if not _utf8(name):
                shown = shown_as / (here / name).relative_to(root)
                skipped.append(f"{NOT_UTF8} ({_shown(shown)}); rename it to grade it")
                continue
            path = here / name
            if entry.is_dir(follow_symlinks=False):
                if name in _SKIPPED:
                    continue
                if depth + 1 > MAX_DEPTH:
                    skipped.append(f"{TOO_DEEP} ({_shown(shown_as / path.relative_to(root))}, "
                                   f"below {MAX_DEPTH} folders); move its files up to grade "
                                   "them")
                    continue
                todo.append((path, depth + 1))
                if folders is not None:
                    folders.append(path)
            else:
                found.append(path)  # a file, or a link (to a folder too: checked as a link)
    return sorted(found), sorted(skipped)


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def inner_folders(root: Path) -> list[Path]:
    """The folders of ``root`` a submission's code may be in: not links, not hidden, not those
    a zip tool adds (``__MACOSX``), not the course library's (a library/ beside a folder is
    where the folder's code finds it)."""
    return [p for p in root.iterdir() if _real_dir(p) and p.name != LIBRARY
            and not p.name.startswith((".", "__"))]


def unwrapped(root: Path, topics: list[str], *, loose: bool = False,
              others: Collection[str] = ()) -> Path:
    """Where a submission's topic folders are: ``root``, or the one folder inside it that holds
    one where ``root`` holds neither a topic folder nor a Python file (a zip of the checkout's
    folder, ``hw1/word_vectors/...``, as students upload to Gradescope: every check said
    "missing folder"); with ``loose`` (one topic graded, whose files may be loose) also the one
    folder that holds Python files (``hw1/softmax.py``...), unless it is named as one of
    ``others`` (another topic's folder: its files are not this topic's). The course library's
    folder is never taken, nor counted.
    Hidden folders and those a zip tool adds (``__MACOSX``) are not counted; links are not
    followed."""
    if not _real_dir(root) or any(_real_dir(root / t) for t in topics) or any(root.glob("*.py")):
        return root
    inner = inner_folders(root)
    if len(inner) == 1 and (any(_real_dir(inner[0] / t) for t in topics)
                            or loose and inner[0].name not in others
                            and any(inner[0].glob("*.py"))):
        return inner[0]
    return root


def cohort_output(root: Path) -> Path:
    """Where a cohort's reports go by default: ``DIR-results`` beside the submissions folder
    ``root``, named from its full path (``grade --submissions .`` wrote ``./-results``, inside
    the folder, which the next grading took for a submission)."""
    folder = root.resolve()
    return folder.parent / f"{folder.name}-results"


def submission_files(root: Path) -> list[Path]:
    """The files of the submission folder ``root`` as a snapshot of it holds them (:func:`_walk`:
    no caches, no names that are not UTF-8, nothing too deep), sorted; ``[root]`` for a file.
    A link to a regular file inside the submission is one (the snapshot copies its target
    under the link's name, and the grader grades it); any other link is not (the grading
    refuses it). The course record keeps and dates these, so that what it reads is what the
    grader reads: it kept no linked module, and a regrade of the kept sources lost its points."""
    paths, _ = _walk(root, Path(""))
    inside = root.resolve() if root.is_dir() else None
    return [p for p in paths if _kept_file(p, inside)]


def submission_folders(root: Path) -> list[Path]:
    """The folders below the submission folder ``root`` that a snapshot of it holds (empty
    ones too), sorted: where :func:`unwrapped` looks for its code, so the course record keeps
    them (restored without a folder that held no kept file, a submission was unwrapped into
    another folder than the one graded)."""
    folders: list[Path] = []
    if root.is_dir() and not root.is_symlink():
        _walk(root, Path(""), folders)
    return sorted(folders)


def _kept_file(path: Path, root: Path | None) -> bool:
    """Whether ``path`` is a regular file, or a link to one inside ``root``."""
    if not path.is_symlink():
        return stat.S_ISREG(path.lstat().st_mode)
    return root is not None and linked_file_inside(path, root) is not None


def linked_file_inside(link: Path, root: Path) -> Path | None:
    """The regular file the link ``link`` leads to, where it lies inside the submission
    ``root`` (as a snapshot copies it under the link's name); None for a link out of it, to
    nowhere, or to anything but a regular file."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return target if target.is_relative_to(root.resolve()) and target.is_file() else None


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
    discard(snapshot.path)


def discard(folder: Path) -> None:
    """Delete ``folder``, a snapshot or a :func:`working_copy` (read-only or not)."""
    if folder.is_symlink():
        folder.unlink()
    elif folder.exists():
        _writable(folder)
        shutil.rmtree(folder, ignore_errors=True)


def working_copy(source: Path, dest: Path, *, shown_as: str = "") -> Snapshot:
    """A snapshot of ``source`` at ``dest`` that its owner may write into (the folder a
    notebook's ``check()`` prepares for ``grade``): the same refusals, only not read-only."""
    snap = take_snapshot(source, dest, shown_as=shown_as)
    _writable(snap.path)
    return snap
