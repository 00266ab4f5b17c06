"""The reference's runs at scale, kept for the next grading at the same draw.

Every grading with the reference present runs it once per layer configuration at scale
(:mod:`.at_scale`: a forward and backward at >= 100,000 numbers, its lines of Python counted and
its CPU time read): 30 runs and about 1.8 CPU-s a cnn_text grading, paid again by every
submission of a cohort, every planted bug of ``dojo verify`` and every test that grades a layer.
What the reference computes there depends only on the draw: the topic, the grading's seeds, the
check whose seed drew the case (``ctx.seed``), the layer's configuration, the reference's source
and the grader's. So a run is kept under a key of all of them (:class:`ReferenceRuns`):

* in the grading process's memory (at most :data:`MEMORY_BYTES`, the least recently used
  dropped first), for the next grading there (``dojo verify``, a test run's workers), and only
  for the case declaration that made it (a topic a test declares anew is never served another's
  runs, whatever its name);
* on disk, in the folder :data:`STORE_ENV` names, which a cohort's grader makes for its
  children (``grade --submissions``, beside the expected values of :mod:`..grading.expected`):
  30 submissions pay for one run of the reference per configuration, not 30. The arrays are
  large (cnn_text's runs hold 124 MB at one draw), so nothing else is kept on disk.

What a kept run changes: the reference's CPU time at scale, against which the code under test's
is judged (``AT_SCALE_CPU_RATIO`` times it, at least ``AT_SCALE_CPU_FLOOR_S``), was measured in
another grading, perhaps under another load; the lines it ran and every array are the same as a
run now would give. The store is the grader's: a worker never sees the folder (the sandbox shows
it none of the grader's files), and entries are read without pickle (docs/security.md).
"""

from __future__ import annotations

import collections
import hashlib
import io
import json
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.files import atomic_write

#: bump when the meaning of an entry changes
FORMAT = 1
#: the folder of a cohort's kept runs (set by the cohort's grader for its children); unset: none
#: on disk
STORE_ENV = "NLPDOJO_AT_SCALE_STORE"
#: the most a process keeps in memory (cnn_text's runs at one draw: 124 MB)
MEMORY_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Run:
    """What the reference's run at scale gave: its result (the probe's, arrays read-only),
    the lines of Python it ran and its CPU seconds (None where they could not be read)."""

    result: Any
    lines: int
    cpu: float | None


class ReferenceRuns:
    """One grading's view of the kept runs: ``scope()`` is the key of its draw (topic, seeds,
    the reference's and the grader's source), computed on first use."""

    def __init__(self, scope: Callable[[], str]) -> None:
        self._scope_of = scope
        self._scope: str | None = None

    def key(self, what: tuple[Any, ...]) -> str:
        """The key of the run ``what`` (layer, configuration, the drawing check's seed...)."""
        if self._scope is None:
            self._scope = self._scope_of()
        text = json.dumps([FORMAT, self._scope, repr(what)])
        return hashlib.sha256(text.encode()).hexdigest()[:40]

    def get(self, declared: object, what: tuple[Any, ...]) -> Run | None:
        """The run kept for ``what`` of the case ``declared`` (memory, then the cohort's
        store), or None."""
        key = self.key(what)
        found = _MEMORY.get(declared, key)
        if found is None:
            found = _load(_store(), key)
            if found is not None:
                _MEMORY.put(declared, key, found)
        return found

    def put(self, declared: object, what: tuple[Any, ...], run: Run) -> Run:
        """Keep ``run`` (its arrays made read-only); returns it as kept."""
        key = self.key(what)
        kept = Run(_frozen(run.result), int(run.lines), run.cpu)
        _MEMORY.put(declared, key, kept)
        _save(_store(), key, kept)
        return kept


class _Memory:
    """Runs by (the declaring case's token, key), least recently used dropped first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._runs: collections.OrderedDict[tuple[int, str], tuple[Run, int]] = \
            collections.OrderedDict()
        self._bytes = 0
        self._tokens: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._next = 0

    def _token(self, declared: object) -> int | None:
        try:
            token = self._tokens.get(declared)
            if token is None:
                self._next += 1
                token = self._tokens[declared] = self._next
            return token
        except TypeError:  # no weak reference to it: nothing kept in memory
            return None

    def get(self, declared: object, key: str) -> Run | None:
        with self._lock:
            token = self._token(declared)
            if token is None or (token, key) not in self._runs:
                return None
            self._runs.move_to_end((token, key))
            return self._runs[token, key][0]

    def put(self, declared: object, key: str, run: Run) -> None:
        size = sum(a.nbytes for a in _arrays(run.result))
        with self._lock:
            token = self._token(declared)
            if token is None or size > self.limit or (token, key) in self._runs:
                return
            self._runs[token, key] = (run, size)
            self._bytes += size
            while self._bytes > self.limit:
                _, (_, dropped) = self._runs.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()
            self._bytes = 0


_MEMORY = _Memory(MEMORY_BYTES)


def clear_memory() -> None:
    """Forget the runs this process keeps (tests)."""
    _MEMORY.clear()


def _store() -> Path | None:
    value = os.environ.get(STORE_ENV)
    return Path(value) if value else None


def _frozen(tree: Any) -> Any:
    for array in _arrays(tree):
        array.setflags(write=False)
    return tree


def _arrays(tree: Any) -> list[np.ndarray]:
    if isinstance(tree, np.ndarray):
        return [tree]
    if isinstance(tree, dict):
        return [a for v in tree.values() for a in _arrays(v)]
    if isinstance(tree, (list, tuple)):
        return [a for v in tree for a in _arrays(v)]
    return []


class _NotStorable(Exception):
    pass


def _skeleton(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``tree`` as JSON, its arrays moved to ``arrays`` (by number) and its tuples marked."""
    if isinstance(tree, np.ndarray):
        if tree.dtype.hasobject:
            raise _NotStorable
        name = f"a{len(arrays)}"
        arrays[name] = tree
        return {"array": name}
    if isinstance(tree, dict):
        if not all(isinstance(k, str) for k in tree):
            raise _NotStorable
        return {"dict": {k: _skeleton(v, arrays) for k, v in tree.items()}}
    if isinstance(tree, (list, tuple)):
        items = [_skeleton(v, arrays) for v in tree]
        return {"tuple": items} if isinstance(tree, tuple) else items
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise _NotStorable


def _rebuilt(skeleton: Any, arrays: Any) -> Any:
    if isinstance(skeleton, list):
        return [_rebuilt(v, arrays) for v in skeleton]
    if isinstance(skeleton, dict):
        if "array" in skeleton:
            return arrays[skeleton["array"]]
        if "tuple" in skeleton:
            return tuple(_rebuilt(v, arrays) for v in skeleton["tuple"])
        return {k: _rebuilt(v, arrays) for k, v in skeleton["dict"].items()}
    return skeleton


def _save(root: Path | None, key: str, run: Run) -> None:
    """``run`` under ``root/key.{npz,json}``, the JSON written last (a reader needs both), each
    by :func:`~nlpdojo.files.atomic_write`, so a concurrent reader never sees half of one. A
    result that is not plain arrays and data is not stored; a full disk only loses the entry."""
    if root is None:
        return
    arrays: dict[str, np.ndarray] = {}
    try:
        skeleton = _skeleton(run.result, arrays)
    except _NotStorable:
        return
    packed = io.BytesIO()
    np.savez(packed, **arrays)
    try:
        root.mkdir(parents=True, exist_ok=True)
        atomic_write(root / f"{key}.npz", packed.getvalue())
        atomic_write(root / f"{key}.json", json.dumps(
            {"result": skeleton, "lines": run.lines, "cpu": run.cpu}))
    except OSError:
        return


def _load(root: Path | None, key: str) -> Run | None:
    """The run stored under ``key``, or None (absent, half-written or unreadable: a miss)."""
    if root is None:
        return None
    try:
        meta = json.loads((root / f"{key}.json").read_text())
        with np.load(root / f"{key}.npz", allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        return Run(_frozen(_rebuilt(meta["result"], arrays)), int(meta["lines"]),
                   None if meta["cpu"] is None else float(meta["cpu"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
