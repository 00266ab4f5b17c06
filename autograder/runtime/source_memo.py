"""Analyses of source files kept on disk, under the files' content, between the grader's
processes.

Every ``grade`` reads source files before any check runs: which functions hold which question
(the reference's solution markers, :func:`~nlpdojo_autograder.authoring.markers.questions_in`)
and which of the submission's modules break the code rules
(:func:`~.code_rules.refused_modules`). Both are pure functions of the files' bytes, about a
third of a second of parsing and walking trees for a topic and the course library, paid again
by every ``grade`` process: a student's next run (most files unchanged), each submission of a
cohort (the reference's markers), the test suite's hundreds of ``grade`` commands. Within a
process the callers keep their answers in memory; this store keeps them between processes.

An entry is one JSON file, ``<root>/<kind>/<key>.json``, whose key holds everything the answer
depends on: the caller's own key (the files' names and SHA-256 digests, the options), the
Python version (``ast`` reads another grammar), and the source of the modules that compute it
(an edit of the rules is a new key). A value is what ``json`` round-trips: lists come back for
tuples, and callers rebuild theirs.

What a student can do with it: nothing more than with the grader's other caches. The store is
the grader's (written and read by the grading process, never by the worker that runs a
submission: the sandbox shows a worker none of the user's cache folder). Under process
isolation a submission runs as the user and could write here, as it could write the incremental
cache or the installed reference: a grading that counts requires the sandbox
(docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from platformdirs import user_cache_path

#: bump when the meaning of an entry changes
FORMAT = 1
#: the store's folder instead of the user's cache folder (tests); ``off``: no store
ROOT_ENV = "NLPDOJO_ANALYSIS_CACHE"
#: entries kept per kind, the least recently written dropped first (a student's edits make a
#: new entry each; a course's reference, one per release)
KEEP_PER_KIND = 512

T = TypeVar("T")


def store_root(variable: str, name: str) -> Path | None:
    """The folder of one of the grader's on-disk stores (this one, the reference's expected
    outcomes): ``$variable`` (``off``: no store), else ``~/.cache/nlpdojo/<name>``."""
    value = os.environ.get(variable)
    if value == "off":
        return None
    if value:
        return Path(value)
    return user_cache_path("nlpdojo", appauthor=False) / name


def default_root() -> Path | None:
    """``$NLPDOJO_ANALYSIS_CACHE`` (``off``: no store), else ``~/.cache/nlpdojo/analyses``."""
    return store_root(ROOT_ENV, "analyses")


def folder_contents(folders: Iterable[Path], pattern: str = "*.py") -> list[tuple[str, str]]:
    """``(folder/name, SHA-256)`` of each file of ``folders`` matching ``pattern`` (not
    recursive), in order: the part of a key that says which files were read."""
    return [(f"{folder.name}/{path.name}", hashlib.sha256(path.read_bytes()).hexdigest())
            for folder in folders for path in sorted(Path(folder).glob(pattern))
            if path.is_file()]


def _code_digest(code: Iterable[ModuleType]) -> str:
    digest = hashlib.sha256()
    for module in code:
        digest.update(Path(module.__file__ or "").read_bytes() + b"\0")
    return digest.hexdigest()


def remembered(kind: str, key: Any, compute: Callable[[], T], *,
               code: Iterable[ModuleType]) -> T:
    """``compute()``, or the answer stored for ``key`` by an earlier process. ``kind`` names
    the analysis (a folder of the store); ``key``, JSON, everything the answer depends on but
    the code; ``code``, the modules whose source computes it. A store that cannot be read or
    written is skipped, as a cache is."""
    root = default_root()
    if root is None:
        return compute()
    name = hashlib.sha256(json.dumps(
        [FORMAT, kind, list(sys.version_info[:2]), _code_digest(code), key],
        sort_keys=True).encode()).hexdigest()[:40]
    entry = root / kind / f"{name}.json"
    try:
        return json.loads(entry.read_text(encoding="utf-8"))["value"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    value = compute()
    _save(entry, value)
    return value


def _save(entry: Path, value: Any) -> None:
    """Write ``entry`` atomically (a reader sees none or the whole), then trim its kind."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, staging = tempfile.mkstemp(dir=entry.parent, prefix=".new-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"value": value}, f)
            os.replace(staging, entry)
        finally:
            if os.path.exists(staging):
                os.unlink(staging)
        _trim(entry.parent)
    except (OSError, TypeError, ValueError):
        pass


def _trim(folder: Path) -> None:
    entries = [e for e in os.scandir(folder) if e.name.endswith(".json")]
    if len(entries) <= KEEP_PER_KIND:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for old in entries[:len(entries) - KEEP_PER_KIND]:
        try:
            os.unlink(old.path)
        except OSError:
            pass
