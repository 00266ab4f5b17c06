"""The reference's expected outcomes, kept on disk and shared by the processes that grade.

Where the reference solutions are installed, every grading of a submission first runs the
reference on each check for its expected values (:class:`~.grade.ExpectedCache`): about as
much work as grading the submission itself, and a metric check trains twice. Within one
process they are computed once per topic and draw; this store keeps them between processes:

* a cohort (``grade --submissions``) computes them once in the grading process, before any
  submission's grading starts, into a folder of its own that its children read
  (:data:`ROOT_ENV`); 30 submissions pay for one reference run, not 30;
* ``dojo verify``, the planted-bug and hostile tests and any grading repeated at one input seed
  (``grade --seed N``) read them from the user's cache folder (``~/.cache/nlpdojo/expected``).

An entry is one topic's outcomes at one draw, under a key of everything they depend on: the
topic, the base seed, the input seed, the budget (``--full``), the reference's source (topic
and course library, :func:`~.gradecache.reference_fingerprint`) and the grader's (its source
files and the versions it runs on, :func:`~.gradecache.grader_fingerprint`), so an edit to
either is a new key. Only outcomes the reference completed (status ``ok``) are kept: a time-out
on a busy machine is computed again next time. Arrays are stored without pickle: their bytes
one after another in one file, each named in the JSON beside it by its dtype, shape and offset
(an ``.npz`` of a topic's 2,000-odd small arrays took 0.2 s to read, most of it parsing each
array's header; this takes a hundredth of that), scalars as JSON.

What a student can do with it: nothing more than with the reference. The store is the grader's
(written and read by the grading process, never by the worker that runs a submission): the
sandbox shows a worker none of the user's cache folder or a cohort's folder. Under process
isolation a submission runs as the user, and could write here as it could overwrite the
installed reference: a grading that counts requires the sandbox (docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo_autograder.grading.gradecache import grader_fingerprint, reference_fingerprint
from nlpdojo_autograder.grading.runner import Outcome
from nlpdojo_autograder.runtime.source_memo import store_root

#: bump when the meaning of an entry changes (2: each check lists the arrays it stored; 3: the
#: arrays' bytes in :data:`ARRAYS_FILE`, each check's listed with dtype, shape and offset)
FORMAT = 3
#: the file of an entry's arrays (:meth:`ExpectedStore.save`)
ARRAYS_FILE = "arrays.bin"
#: the dtypes an entry may hold (booleans, numbers, fixed-width strings: never objects)
ARRAY_KINDS = frozenset("biufcSU")
#: each array starts at a multiple of this many bytes
ALIGN = 16
#: the folder of the store (a cohort's children are given their parent's); ``off``: none
ROOT_ENV = "NLPDOJO_EXPECTED_CACHE"
#: entries kept per topic, the least recently used dropped first (a fresh input seed per
#: grading makes a new entry each time, never read again)
KEEP_PER_TOPIC = 12
#: the statuses worth keeping: what the reference completed
KEPT_STATUS = "ok"


def default_root() -> Path | None:
    """``$NLPDOJO_EXPECTED_CACHE`` (``off``: no store), else ``~/.cache/nlpdojo/expected``."""
    return store_root(ROOT_ENV, "expected")


def draw_key(exercise: Any, backend: str, seed: int, inputs: int, full: bool) -> str:
    """The key of one topic's expected outcomes at one draw (see the module's docstring)."""
    parts = [FORMAT, exercise.name, seed, inputs, full, grader_fingerprint(backend),
             reference_fingerprint(exercise, True)]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:40]


class ExpectedStore:
    """Expected outcomes under ``root``: ``root/<topic>/<key>/`` holds ``outcomes.json`` (per
    check: its scalars, and its arrays' dtype, shape and offset) and :data:`ARRAYS_FILE` (the
    arrays' bytes)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _folder(self, topic: str, key: str) -> Path:
        return self.root / topic / key

    def load(self, topic: str, key: str) -> dict[str, Outcome]:
        """The outcomes stored for ``key`` (empty where none, or unreadable: a cache)."""
        folder = self._folder(topic, key)
        try:
            data = json.loads((folder / "outcomes.json").read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                return {}
            listed = {check_id: entry["arrays"] for check_id, entry in data["checks"].items()}
            buffer = bytearray()
            if any(listed.values()):
                # an entry whose arrays file was deleted or cut short (by hand, a copy between
                # volumes) is a miss: judged without its arrays, a right answer would fail
                with open(folder / ARRAYS_FILE, "rb") as f:
                    buffer = bytearray(f.read())
            found = {check_id: Outcome(status=KEPT_STATUS, scalars=dict(entry["scalars"]),
                                       arrays={name: _array(buffer, *where) for name, where
                                               in listed[check_id].items()})
                     for check_id, entry in data["checks"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}
        try:
            os.utime(folder)  # recently used: the last to be dropped
        except OSError:
            pass
        return found

    def save(self, topic: str, key: str, outcomes: dict[str, Outcome]) -> None:
        """Add ``outcomes`` (those the reference completed) to the entry of ``key``, atomically
        (a reader sees the old entry or the new one); a store that cannot be written is
        skipped, as a cache is."""
        kept = {cid: o for cid, o in outcomes.items() if o.status == KEPT_STATUS}
        if not kept:
            return
        merged = {**self.load(topic, key), **kept}
        try:
            topic_folder = self.root / topic
            topic_folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            staging = Path(tempfile.mkdtemp(dir=topic_folder, prefix=".new-"))
            try:
                chunks: list[bytes] = []
                listed = {cid: {name: _place(value, chunks) for name, value
                                in sorted(o.arrays.items())} for cid, o in merged.items()}
                if chunks:
                    (staging / ARRAYS_FILE).write_bytes(b"".join(chunks))
                (staging / "outcomes.json").write_text(json.dumps({
                    "format": FORMAT,
                    "checks": {cid: {"scalars": o.scalars, "arrays": listed[cid]}
                               for cid, o in merged.items()},
                }), encoding="utf-8")
                target = self._folder(topic, key)
                old = None
                if target.exists():
                    old = Path(tempfile.mkdtemp(dir=topic_folder, prefix=".old-"))
                    os.replace(target, old / "entry")
                os.replace(staging, target)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            self._trim(topic_folder)
        except (OSError, TypeError, ValueError):
            pass

    @staticmethod
    def _trim(topic_folder: Path) -> None:
        entries = sorted((p for p in topic_folder.iterdir()
                          if p.is_dir() and not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in entries[KEEP_PER_TOPIC:]:
            shutil.rmtree(stale, ignore_errors=True)


def _place(value: np.ndarray, chunks: list[bytes]) -> list[Any]:
    """Append ``value``'s bytes to ``chunks`` (aligned) and say where: ``[dtype, shape,
    offset]``. An array of objects is refused (ValueError: the entry is not kept)."""
    array = np.asarray(value, order="C")  # (ascontiguousarray makes a 0-d array 1-d)
    if array.dtype.kind not in ARRAY_KINDS:
        raise ValueError(f"an expected outcome of dtype {array.dtype} is not kept")
    offset = sum(map(len, chunks))
    pad = -offset % ALIGN
    if pad:
        chunks.append(bytes(pad))
    chunks.append(array.tobytes())
    return [array.dtype.str, list(array.shape), offset + pad]


def _array(buffer: bytearray, dtype: str, shape: list[int], offset: int) -> np.ndarray:
    """The array :func:`_place` put at ``offset`` of ``buffer`` (writable, sharing it); a
    place outside the buffer or a dtype not kept raises ValueError."""
    kind = np.dtype(dtype)
    if kind.kind not in ARRAY_KINDS or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError("not an array this store writes")
    count = math.prod(shape)
    if not isinstance(offset, int) or offset < 0 or offset + count * kind.itemsize > len(buffer):
        raise ValueError("an array past the end of the arrays file")
    if count == 0:
        return np.empty(tuple(shape), kind)
    return np.frombuffer(buffer, kind, count, offset).reshape(tuple(shape))
