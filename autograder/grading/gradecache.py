"""``grade``'s incremental cache: a check whose inputs did not change is not run again.

An entry holds one check's verdict and what it was computed from:

* the *context*: the check (id, kind, points), the grader's fingerprint (the content of the
  grader's, the framework's and the built-in plugins' source files and the versions of the
  packages it runs on), the reference's (its source files where it is installed, the
  exercise's fixtures otherwise), backend, device, the seeds the check uses, ``--full``, the
  limits and the isolation level;
* the *files*: the submission's modules the check reaches (:mod:`.deps`),
  and what every check depends on (:func:`shared_inputs`): the modules whose import could
  affect every check, and every file the worker receives that is not a module, with their
  content hashes.

Why data files count for every check rather than for the checks that read them: code reads a
file by means that no static analysis sees (``getattr(np, "loadtxt")(...)``, a helper of
another package handed a path), and a check's cached pass must never survive a change of
what its code computes. Recording what each check opens (an audit hook in the worker) would be
finer, but the worker is the untrusted side, and data that one check's call reads and keeps
in a module's globals serves later checks that open nothing. Modules keep their finer,
per-check dependencies: a module is reached by importing it, which the analysis sees (and
where code can import without a statement saying so, it widens to every file). Editing a
module reruns the checks that reach it; editing a data file reruns the topic. What is left: a
module's *source* read as data by a route no name reveals (``getattr(np, "loadtxt")`` of a
``.py`` file) or one missing from :data:`.deps.FILE_READING_PREFIXES` (an attacker's
``np.fromregex`` was, until it was added), which honest code has no reason to do; the cache
only ever serves the student's own runs, never a grading that counts (cohorts, ``--replay``,
``--solutions``, a grading recorded as a course attempt,
``--require-sandbox``).

A lookup recomputes both from the snapshot being graded and reuses the verdict only when
everything is equal. Only verdicts the student's code decides are stored (passed, failed, not
implemented); errors and timeouts, which may be the grader's or the machine's doing, are run
again. Entries live in the user's cache folder (``~/.cache/nlpdojo/grades``), one file per
submission folder and topic, outside anything the sandboxed student code can see; cohort
grading (``--submissions``), ``--replay``, ``--require-sandbox`` and a CI job (``$CI``) never
use it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any

from platformdirs import user_cache_path

from nlpdojo_autograder.grading.deps import Course, Dependencies, sha256_file
from nlpdojo_autograder.grading.results import CheckResult, json_default
from nlpdojo_autograder.grading.versions import versions
from nlpdojo_autograder.runtime.loader import LIBRARY, load_reference_dir

#: bump when the meaning of an entry changes (3: the shared inputs hold the data files)
FORMAT = 3
#: verdicts kept per check, one per context (the newest)
CONTEXTS_PER_CHECK = 4
#: verdicts the student's code decides: the only ones stored
CACHED_STATUSES = frozenset({"passed", "failed", "not_implemented"})
#: the packages whose source is the grader, besides every plugin's (:func:`grader_packages`)
GRADER_PACKAGES = ("nlpdojo", "nlpdojo_autograder")


def grader_packages() -> list[str]:
    """The top-level packages whose source is the grader: the core, the engine and every
    installed plugin's (backends, data sets, reports, the course's topics, exercise packs)."""
    tops = {ep.value.split(":")[0].split(".")[0].strip() for ep in entry_points(group="nlpdojo")}
    return sorted(set(GRADER_PACKAGES) | tops)


#: where the cache lives instead of the user's cache folder (tests, a shared lab machine)
ROOT_ENV = "NLPDOJO_GRADE_CACHE"


#: what the grader runs on besides what results record (:func:`.versions.versions`)
EXTRA_DISTRIBUTIONS = ("array-api-strict", "torch", "matplotlib", "platformdirs")


def default_root() -> Path:
    """``$NLPDOJO_GRADE_CACHE``, else ``~/.cache/nlpdojo/grades`` (``$XDG_CACHE_HOME``)."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV])

    return user_cache_path("nlpdojo", appauthor=False) / "grades"


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _tree_hash(folders: list[Path], suffixes: tuple[str, ...] | None = None) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if suffixes is not None and path.suffix not in suffixes:
                continue
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update((sha256_file(path) or "").encode() + b"\0")
    return digest.hexdigest()


def grader_fingerprint(backend: str) -> str:
    """The grader's version: its source files and the versions it runs on (a changed check,
    comparison or plugin, even in an editable install, invalidates every entry). Computed once
    per backend and import path: a plugin put on the path later (a test's site folder, a
    cohort's children started with it) is part of the grader from then on, as it is for a
    process that starts with it, so that a parent and its children agree."""
    return _grader_fingerprint(backend, tuple(sys.path))


@functools.lru_cache(maxsize=8)
def _grader_fingerprint(backend: str, path: tuple[str, ...]) -> str:
    folders = []
    for package in grader_packages():
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            folders += [Path(p) for p in spec.submodule_search_locations]
    extra = {}
    for dist in EXTRA_DISTRIBUTIONS:
        try:
            extra[dist] = version(dist)
        except PackageNotFoundError:
            extra[dist] = None
    return _digest(_tree_hash(folders, (".py", ".json", ".txt")), versions(backend), extra)


grader_fingerprint.cache_clear = _grader_fingerprint.cache_clear  # type: ignore[attr-defined]


def reference_fingerprint(exercise: Any, reference: bool) -> str:
    """Where expected values come from: the installed reference (topic and library) or the
    exercise's fixtures."""
    if reference:
        return reference_tree_fingerprint(load_reference_dir(exercise.reference_package))
    fixtures = Path(exercise.fixtures) if exercise.fixtures else None
    return "fixtures:" + (_tree_hash([fixtures]) if fixtures and fixtures.is_dir() else "")


def reference_tree_fingerprint(topic: Path) -> str:
    """The reference's source: its topic's folder and the course library beside it."""
    library = topic.parent / LIBRARY
    return "reference:" + _tree_hash([topic, *([library] if library.is_dir() else [])],
                                     (".py",))


def check_context(check: Any, topic: str, options: Any, reference: str,
                  isolation: str) -> str:
    """Everything but the submission's files that one check's verdict depends on
    (``reference``: :func:`reference_fingerprint`)."""
    fresh = check.fresh_inputs  # their inputs are drawn from the input seed
    return _digest(
        FORMAT, topic, check.id, check.kind, check.points, check.hidden,
        check.timeout_s, check.budget, grader_fingerprint(options.backend),
        reference, options.backend, options.device or "cpu",
        options.seed, options.inputs if fresh else None, options.full,
        options.limits.timeout_scale, options.limits.memory_mb, options.limits.memory_mode,
        options.limits.isolation, isolation)


def shared_inputs(course: Course) -> dict[str, str | None]:
    """What every check of the topic depends on, by content hash: the modules whose import
    could run code of the submission (``Course.import_effects``) and every file the worker
    receives that is not a module (``Course.received_data``)."""
    return {**course.import_effects(), **course.received_data()}


class GradeCache:
    """Verdicts of one submission's checks, per topic, under ``root``."""

    def __init__(self, submission: Path, root: Path | None = None) -> None:
        self.submission = str(Path(submission).resolve())
        self.folder = (root or default_root()) / _digest(self.submission)[:32]
        self.hits = 0
        self.stored = 0

    def _file(self, topic: str) -> Path:
        return self.folder / f"{topic}.json"

    def _read(self, topic: str) -> dict[str, Any]:
        try:
            data = json.loads(self._file(topic).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT or \
                data.get("submission") != self.submission:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def lookup(self, topic: str, course: Course, contexts: dict[str, str]
               ) -> dict[str, CheckResult]:
        """The stored verdicts still valid for the checks of ``contexts`` (id -> context)."""
        entries = self._read(topic)
        if not entries:
            return {}
        effects = shared_inputs(course)
        found: dict[str, CheckResult] = {}
        for check_id, context in contexts.items():
            slots = entries.get(check_id)
            entry = slots.get(context) if isinstance(slots, dict) else None
            if not isinstance(entry, dict):
                continue
            try:
                deps = Dependencies(files=dict(entry["files"]),
                                    everything=bool(entry["everything"]))
                if entry["effects"] != effects or not course.unchanged(deps):
                    continue
                result = CheckResult(**entry["result"])
            except (KeyError, TypeError, ValueError):
                continue
            if result.status not in CACHED_STATUSES:
                continue
            result.cached = True
            found[check_id] = result
        self.hits += len(found)
        return found

    def store(self, topic: str, course: Course, verdicts: dict[str, tuple[str, set[str],
                                                                          CheckResult]]) -> None:
        """Store ``verdicts`` (id -> (context, modules reached, result)) whose status the
        student's code decided; other entries of the topic are kept."""
        keep = {cid: v for cid, v in verdicts.items() if v[2].status in CACHED_STATUSES}
        if not keep:
            return
        entries = self._read(topic)
        effects = shared_inputs(course)
        for check_id, (context, touched, result) in keep.items():
            deps = course.dependencies(touched)
            if deps.everything:
                deps.files = course.all_files()
            data = asdict(result)
            data["cached"] = False
            slots = entries.get(check_id)
            slots = {k: v for k, v in slots.items() if k != context} \
                if isinstance(slots, dict) else {}
            slots[context] = {"files": deps.files, "everything": deps.everything,
                              "effects": effects, "result": data}
            # the newest few contexts per check (--as-student and the default view, two
            # backends...), the oldest dropped first
            entries[check_id] = dict(list(slots.items())[-CONTEXTS_PER_CHECK:])
        self.stored += len(keep)
        self._write(topic, {"format": FORMAT, "submission": self.submission,
                            "entries": entries})

    def _write(self, topic: str, data: dict[str, Any]) -> None:
        """Atomically, readable by the user only; a cache that cannot be written is skipped."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{topic}-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, default=json_default)
                os.replace(tmp, self._file(topic))
            finally:
                Path(tmp).unlink(missing_ok=True)
        except (OSError, TypeError, ValueError):
            pass

    def clear(self) -> None:
        for path in self.folder.glob("*.json"):
            path.unlink(missing_ok=True)
