"""Grading a cohort on a Dask distributed cluster: ``grade --submissions DIR --cluster ADDRESS``.

Each submission is one task. The grader packs the submission's snapshot (taken as on every way
in: links out, pipes and devices refused, see :mod:`.snapshot`; a tar archive in memory,
size-capped) into the task, so the workers need no shared file system; a worker unpacks it in
a temporary folder and grades it exactly as the local ``--jobs`` pool does, in a ``grade``
process of its own (:func:`nlpdojo_autograder.cli.grade.grade_child_argv`, the same command
line, the same input seed), and returns the JSON result. The cohort's grader then puts the
submission's own path back into the result and writes every report itself, so the results and
the summary are the ones the local pool writes.

A worker lost mid-grading (its machine gone, the process killed) costs nothing: Dask's scheduler
reschedules the tasks it was running on another worker (up to
``distributed.scheduler.allowed-failures`` losses per task, 3 by default), and each task is also
retried on an exception (``RETRIES``). ``--cluster local`` starts a ``LocalCluster`` of
``--jobs`` worker processes (default: the CPU count), one thread each, for the run.

Dask is optional: ``pip install 'nlpdojo[cluster]'``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpdojo.errors import NlpdojoError
from nlpdojo_autograder.grading.child import run_child
from nlpdojo_autograder.grading.results import GradingResult
from nlpdojo_autograder.grading.snapshot import remove, take_snapshot

#: a submission larger than this (packed) is refused rather than sent to the cluster
MAX_SUBMISSION_BYTES = 64 * 2**20
#: how often a task that raised is run again (a lost worker is rescheduled by Dask itself)
RETRIES = 2
LOCAL = "local"
#: how long to wait for a scheduler that does not answer
CONNECT_TIMEOUT = "30s"


class ClusterError(NlpdojoError):
    """The cluster cannot be used (Dask missing, an address that does not answer)."""


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ClusterError("--cluster needs Dask distributed: pip install 'nlpdojo[cluster]' "
                           "(pinned in constraints.txt)") from exc
    return distributed


def pack(folder: Path) -> bytes:
    """The snapshot of ``folder`` as a gzip'd tar archive (see :func:`pack_snapshot`)."""
    return pack_snapshot(folder)[0]


def pack_snapshot(folder: Path) -> tuple[bytes, tuple[str, ...]]:
    """``(archive, skipped)``: the submission's snapshot (:mod:`.snapshot`:
    a link out of it, a pipe or a device, an oversize file refused; caches and names that are
    not UTF-8 left out, ``skipped`` says which), as a gzip'd tar archive of regular files and
    folders. Nothing of ``folder`` is read but through the snapshot, as on every way in."""
    with tempfile.TemporaryDirectory(prefix="nlpdojo-pack-") as tmp:
        snap = take_snapshot(folder, Path(tmp) / "snapshot")
        try:
            return _tar(snap.path, folder), snap.skipped
        finally:
            remove(snap)


def _tar(root: Path, folder: Path) -> bytes:
    """The files and folders of the snapshot ``root`` as a gzip'd tar archive, size-capped."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(root.rglob("*")):
            info = tar.gettarinfo(path, arcname=str(path.relative_to(root)))
            if info.isfile():
                info.mode = 0o644  # the snapshot is read-only; the worker's copy need not be
                with open(path, "rb") as data:
                    tar.addfile(info, data)
            else:
                info.mode = 0o755
                tar.addfile(info)
            if buffer.tell() > MAX_SUBMISSION_BYTES:  # early: gzip writes in blocks
                raise _too_large(folder)
    if buffer.tell() > MAX_SUBMISSION_BYTES:
        raise _too_large(folder)
    return buffer.getvalue()


def _too_large(folder: Path) -> ClusterError:
    return ClusterError(f"submission {folder.name} is larger than "
                        f"{MAX_SUBMISSION_BYTES / 2**20:g} MB packed; it was not sent to the "
                        "cluster")


def unpack(data: bytes, dest: Path) -> None:
    """Extract :func:`pack`'s archive into ``dest``: regular files and folders only, inside it."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            target = (dest / member.name).resolve()
            if not (member.isfile() or member.isdir()) or not target.is_relative_to(
                    dest.resolve()):
                raise ClusterError(f"the submission's archive holds {member.name!r}, which "
                                   "is not a file inside its folder")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
            tar.extractall(dest, members=members, filter="data")
        else:
            tar.extractall(dest, members=members)


def grade_task(name: str, archive: bytes, argv: list[str], env: dict[str, str],
               deadline_s: float) -> str:
    """Run on a worker: unpack the submission and grade it in a ``grade`` process of its own;
    returns the JSON result (a :class:`~.results.GradingResult` dict)."""
    with tempfile.TemporaryDirectory(prefix="nlpdojo-task-") as tmp:
        folder = Path(tmp) / name
        folder.mkdir()
        unpack(archive, folder)
        return json.dumps(run_child(folder, argv, env, deadline_s).to_dict())


@contextmanager
def connect(address: str, workers: int | None) -> Iterator[Any]:
    """A Dask client for ``address`` (``local``: a LocalCluster of ``workers`` processes,
    closed afterwards)."""
    distributed = _distributed()
    if address == LOCAL:
        n = workers or os.cpu_count() or 1
        # a free port for its HTTP server (":0"): two clusters on one machine never clash.
        # Its workers log only what is critical: a heartbeat that misses the scheduler while
        # the cluster shuts down on a loaded machine printed a traceback (grading's own
        # failures come back through the futures, with their messages)
        with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                      dashboard_address=":0",
                                      silence_logs=logging.CRITICAL) as cluster, \
                distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        yield client
    finally:
        client.close()


@dataclass(frozen=True)
class Task:
    """A submission sent to the cluster: its future, and what its snapshot left out (the
    worker grades the unpacked snapshot, which no longer holds those files)."""

    future: Any
    skipped: tuple[str, ...] = ()


def submit_all(client: Any, folders: list[Path], argv_for: Callable[[Path], list[str]],
               env: dict[str, str], deadline_s: float) -> dict[str, Any]:
    """One task per submission; returns ``{folder name: Task}``, or for a submission that
    cannot be sent (refused by the snapshot, too large, unreadable) the error saying why, which
    :func:`result_of` raises: that submission gets an error result and the others go on."""
    futures: dict[str, Any] = {}
    for folder in folders:
        try:
            archive, skipped = pack_snapshot(folder)
        except (NlpdojoError, OSError) as exc:
            futures[folder.name] = (exc if isinstance(exc, NlpdojoError) else
                                    ClusterError(f"cannot read {folder}: {exc}"))
            continue
        futures[folder.name] = Task(client.submit(
            grade_task, folder.name, archive, argv_for(folder), env, deadline_s,
            key=f"grade-{folder.name}-{id(folders):x}", pure=False, retries=RETRIES), skipped)
    return futures


def result_of(task: Any, folder: Path) -> Any:
    """The task's result as a GradingResult whose ``submission`` is the folder graded (not the
    worker's temporary copy); a failed task raises :class:`ClusterError`. No time limit here:
    a task may wait long in the queue of a large class; once running, its ``grade`` process
    has the cohort's deadline, and a lost worker's tasks are rescheduled by Dask."""
    if isinstance(task, NlpdojoError):
        raise task
    try:
        text = task.future.result()
    except NlpdojoError:
        raise
    except Exception as exc:  # noqa: BLE001 - KilledWorker, a timeout, a worker's error
        raise ClusterError(f"the cluster could not grade it: {type(exc).__name__}: "
                           f"{exc}") from exc
    result = GradingResult.from_dict(json.loads(text))
    result.submission = str(folder.resolve())
    result.options["submission"] = str(folder.resolve())
    result.warnings = [*task.skipped, *result.warnings]
    return result
