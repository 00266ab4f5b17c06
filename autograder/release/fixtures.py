"""Fixtures: the reference's outputs for the public checks, shipped with a student release.

``dojo release`` runs the solutions it releases (the ``--solutions`` folder, imported from that
folder, never an installed copy) through every public check that needs expected values (seed 0,
the quick budget, NumPy float64) and stores each outcome as ``<check id>.json`` and
``<check id>.npz`` (arrays, no pickle) in the exercise's fixtures folder
(``Exercise.fixtures``), where the grader finds them when the solutions are absent. The
solutions are judged on the way by every check but the training runs (:func:`compute`): a
reference that fails one writes nothing.

Fixtures are deterministic: the JSON holds the status and the scalars only (no timings), and a
fixture whose stored values equal the new ones (within the tolerance ``--check`` uses) is not
rewritten, so a release that changes nothing leaves the fixtures folder byte for byte as it was.

Fixtures are computed again only when something they depend on changed: each folder records
(:data:`FINGERPRINT`) a digest of what they were computed from, the reference (the topic's
solutions and the course library's files it reads, :func:`library_files`), the grader that
computed them (the core, the engine, the plugins whose registrations a grading picks up,
:func:`sources`: a course's other topics, another exercise pack or a reporter are not read)
and the versions they ran on, then a digest of the fixtures stored, then the same sources read as
code (:func:`code_of`: without comments, docstrings and layout). A release whose fingerprint
matches, with every fixture present and as stored, reuses them: a release with nothing changed
takes seconds, not a minute per topic, and so does ``--check`` and a student bundle's check. One
whose sources differ only in comments, docstrings or layout keeps them and records them again
(:func:`state`).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.errors import NlpdojoError
from nlpdojo.files import atomic_write
from nlpdojo.plugins import bringing_plugins, get_manager, get_registry
from nlpdojo_autograder.authoring.checks import Exercise
from nlpdojo_autograder.authoring.compare import MISTAKE_KEY
from nlpdojo_autograder.authoring.questions import QuestionError, closure
from nlpdojo_autograder.authoring.topic import WITHHELD as TOPIC_WITHHELD
from nlpdojo_autograder.grading.given import GIVEN, given_digests
from nlpdojo_autograder.grading.grade import GradeOptions, exercise_names, get_exercise, judge
from nlpdojo_autograder.grading.runner import Outcome, read_outcome, run_checks
from nlpdojo_autograder.grading.versions import versions
from nlpdojo_autograder.release.blind_judges import blind_judges, oracle_keys
from nlpdojo_autograder.release.notebooks import (
    LIBRARY_PREFIX,
    NotebookError,
    library_closure,
)
from nlpdojo_autograder.runtime.loader import LIBRARY, load_reference_dir, reference_available


class FixtureError(NlpdojoError):
    """Fixtures cannot be generated or written (the reference fails, they would land in the
    wrong place)."""


@dataclass(frozen=True)
class FixturePlan:
    """Where one exercise's fixtures come from (``source``: its topic folder in the solutions
    being released) and go (``dest``: the exercise's registered fixtures folder)."""

    exercise: Exercise
    source: Path
    dest: Path


@dataclass
class FixtureReport:
    """What :func:`store` did in ``dest``: file names, sorted."""

    dest: Path
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


#: the file in a fixtures folder that records what its fixtures were computed from
FINGERPRINT = "FINGERPRINT"

#: a topic's planted bugs (``Topic(withheld=...)``, a package of this name,
#: :data:`~nlpdojo_autograder.authoring.topic.WITHHELD`): no check reads them, so they are not
#: in the fingerprint (a bug edited computes no fixture again); no student wheel holds them
#: (:mod:`.bundle`)
WITHHELD = TOPIC_WITHHELD

#: the source files a fingerprint reads (data files of the packages included); not a topic's
#: prose (README.md): no check reads it, and an edit there cost a whole release of the topic
_SOURCE_SUFFIXES = (".py", ".json", ".toml", ".txt", ".npz")


def sources(exercise: Exercise, source: Path) -> list[Path]:
    """The folders an exercise's fixtures depend on: its reference (``source``, its topic
    folder; the course library's files apart, :func:`library_files`), the core, the engine
    and the package of every plugin whose registrations a grading can pick up (backends,
    modules, losses, optimizers, and the data sets the exercise reads: not a plugin of other
    exercises, trainers or reporters; a plugin that brings modules, such as the course, by the
    folder of the module that registered this exercise only). Fixtures folders are left out
    of each."""
    folders = [source]
    bringing = {m.__name__.rpartition(".")[0] for m in bringing_plugins()}
    registered = get_registry().by_plugin()
    tops = {"nlpdojo", "nlpdojo_autograder"} | {
        ep.value.split(":")[0].split(".")[0].strip() for ep in entry_points(group="nlpdojo")
        if _read_by(registered.get(ep.name, []), exercise)}
    for top in sorted(tops - bringing):
        spec = importlib.util.find_spec(top)
        if spec is not None and spec.submodule_search_locations:
            folders += [Path(p) for p in spec.submodule_search_locations]
    entry = next((e for e in get_registry().entries("exercise") if e.name == exercise.name),
                 None)
    module = get_manager().get_plugin(entry.plugin) if entry is not None else None
    if module is not None and getattr(module, "__path__", None):  # a topic folder
        folders += [Path(p) for p in module.__path__]
    elif module is not None and getattr(module, "__file__", None):
        folders.append(Path(module.__file__).parent)
    return folders


#: what a plugin registers that a grading picks up whatever the exercise (its data sets are
#: read only by the exercises that name them)
_GRADING_KINDS = ("backend", "module", "loss", "optimizer")


def _read_by(entries: Sequence[Any], exercise: Exercise) -> bool:
    """Whether what a plugin registered (``entries``, the registry's of its entry point) can
    change ``exercise``'s fixtures: a backend, a module, a loss or an optimizer, a data set
    the exercise reads, or nothing known (a plugin whose registrations the registry cannot
    tell is read)."""
    if not entries:
        return True
    wanted = {d for names in exercise.datasets.values() for d in names}
    return any(e.kind in _GRADING_KINDS or (e.kind == "dataset" and e.name in wanted)
               for e in entries)


def library_files(exercise: Exercise, source: Path) -> list[Path]:
    """The files of the course library beside ``source`` that ``exercise``'s fixtures can
    depend on: its ``__init__``, and the modules its reference imports (``from ..library
    import Linear`` is ``library/layers.py``, by each module's ``__all__``), those its
    questions' code and the code of every question they require are in (what its checks run),
    and what those import in turn. Where the imports cannot be read so (an absolute or
    dynamic import, a subfolder, a file that does not parse), every file of the library: a
    fixture is never left computed from a file it no longer matches."""
    folder = source.parent / LIBRARY
    if not (folder / "__init__.py").is_file() or source.name == LIBRARY:
        return []
    everything = [p for p in sorted(folder.rglob("*")) if _fingerprinted(p, folder)]
    try:
        reached = _library_reached(exercise, source, folder)
    except (NotebookError, SyntaxError, ValueError, OSError, QuestionError):
        return everything
    if reached is None:
        return everything
    return [folder / "__init__.py", *(folder / f"{m}.py" for m in sorted(reached))]


def _library_reached(exercise: Exercise, source: Path, folder: Path) -> set[str] | None:
    """The library modules (``layers``) of :func:`library_files`; None where the imports
    cannot be read statically."""
    if any(p.is_dir() and p.name != "__pycache__" for p in folder.iterdir()):
        return None
    library = {p.stem: p.read_text(encoding="utf-8") for p in folder.glob("*.py")
               if p.stem != "__init__"}
    topic: dict[str, str] = {}
    for path in source.rglob("*.py"):
        if len(path.relative_to(source).parts) > 1 or "__pycache__" in path.parts:
            return None
        topic[path.stem] = path.read_text(encoding="utf-8")
    if any(_imports_otherwise(text) for text in (*topic.values(), *library.values())):
        return None
    start: set[str] = set()
    questions = {f"{exercise.name}.{q}" for q in exercise.questions}
    for question in list(questions):
        questions |= closure(question)
    for question in questions:
        topic_name, name = question.split(".", 1)
        other = exercise if topic_name == exercise.name else get_exercise(topic_name)
        start |= {LIBRARY_PREFIX + code.split("/", 1)[1]
                  for code in other.code.get(name, ()) if code.startswith(f"{LIBRARY}/")}
    start |= {LIBRARY_PREFIX + c.module[len(f"..{LIBRARY}."):] for c in exercise.checks
              if (c.module or "").startswith(f"..{LIBRARY}.")}
    try:
        reached = library_closure(topic, library, start=sorted(start))
    except KeyError:
        return None  # a module the library does not hold: read it all
    return {m[len(LIBRARY_PREFIX):] for m in reached}


def _imports_otherwise(source: str) -> bool:
    """Whether a module reaches code otherwise than by relative imports at its top: an
    absolute import of the solutions, ``importlib``, ``__import__``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(
                a.name.split(".")[0] in ("nlpdojo_solutions", "importlib") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(
                ".")[0] in ("nlpdojo_solutions", "importlib"):
            return True
        if isinstance(node, ast.Name) and node.id == "__import__":
            return True
    return False


def _fingerprinted(path: Path, folder: Path) -> bool:
    rel = path.relative_to(folder)
    return (path.is_file() and path.suffix in _SOURCE_SUFFIXES
            and "__pycache__" not in rel.parts and "fixtures" not in rel.parts
            and not _withheld(folder, rel))


def withheld_package(folder: Path) -> bool:
    """Whether ``folder`` is a topic's planted bugs: a package named :data:`WITHHELD`."""
    return folder.name == WITHHELD and (folder / "__init__.py").is_file()


def _withheld(folder: Path, rel: Path) -> bool:
    """Whether ``rel`` lies in a :func:`withheld_package` below ``folder``."""
    return any(withheld_package(folder.joinpath(*rel.parts[:i + 1]))
               for i in range(len(rel.parts) - 1))


def fingerprint(exercise: Exercise, source: Path, *, code: bool = False) -> str:
    """A digest of every file of :func:`sources` (their fixtures folders left out), of the
    course library's files the exercise reads (:func:`library_files`) and of the versions the
    fixtures are computed on: the files' bytes, or with ``code`` what of them a value can
    depend on (:func:`code_of`: a module's comments, docstrings and layout apart)."""
    read = code_of if code else Path.read_bytes
    ran_on = {k: v for k, v in versions("numpy").items() if k != "platform"}
    digest = hashlib.sha256(json.dumps(ran_on, sort_keys=True).encode())
    library = library_files(exercise, source)
    if library:
        digest.update(b"\0folder\0" + LIBRARY.encode())
        for path in library:
            rel = path.relative_to(source.parent / LIBRARY)
            digest.update(rel.as_posix().encode() + b"\0" + read(path) + b"\0")
    for folder in sources(exercise, source):
        digest.update(b"\0folder\0" + folder.name.encode())
        for path in sorted(folder.rglob("*")):
            if _fingerprinted(path, folder):
                rel = path.relative_to(folder)
                digest.update(rel.as_posix().encode() + b"\0" + read(path) + b"\0")
    return digest.hexdigest()


def code_of(path: Path) -> bytes:
    """What a fixture can depend on of the file ``path``: a Python module's syntax tree
    without its docstrings and without positions (so not its comments, docstrings, blank
    lines or line breaks: no check's value reads them), any other file's bytes (and a module
    that does not parse: its bytes). Kept per process by the bytes' digest: the grader's
    modules are read once for every topic a release fingerprints."""
    data = path.read_bytes()
    if path.suffix != ".py":
        return data
    return _code_digest(data)


@functools.lru_cache(maxsize=4096)
def _code_digest(data: bytes) -> bytes:
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return data
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:]
    return b"code\0" + hashlib.sha256(
        ast.dump(tree, include_attributes=False).encode()).digest()


def stored_digest(dest: Path) -> str:
    """A digest of every file in the fixtures folder ``dest`` but :data:`FINGERPRINT`: what
    was stored, byte for byte."""
    digest = hashlib.sha256()
    for path in sorted(dest.iterdir()):
        if path.is_file() and path.name != FINGERPRINT:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


#: what :func:`state` finds of a fixtures folder
CURRENT, RECORD_AGAIN, STALE = "current", "record again", "stale"


def state(plan: FixturePlan) -> str:
    """Whether ``plan.dest``'s fixtures stand, read from its :data:`FINGERPRINT` (the sources'
    bytes, the digest of what was stored, the sources' code: :func:`record`):

    * :data:`CURRENT`: every fixture and no other, as stored (a fixture edited by hand, or
      written by another release, is computed again), computed from these very sources, and
      the given modules' digests (:data:`GIVEN`) those of the given modules now;
    * :data:`RECORD_AGAIN`: the fixtures stand, since the sources differ only where no value
      can (a comment, a docstring, the layout: :func:`code_of`), but what is recorded must
      be written again (:func:`record`): the sources' bytes, and :data:`GIVEN` where a given
      module changed so (a student's untouched copy must match the released one);
    * :data:`STALE`: the fixtures are computed again.
    """
    recorded = plan.dest / FINGERPRINT
    if not recorded.is_file():
        return STALE
    ids = {c.id for c in fixture_checks(plan.exercise)}
    stored = {p.stem for p in plan.dest.iterdir() if p.suffix in (".json", ".npz")}
    lines = recorded.read_text().split()
    if not (stored <= ids and all((plan.dest / f"{check_id}.json").is_file() for check_id in ids)
            and (plan.dest / GIVEN).is_file() and len(lines) >= 2
            and lines[1] == stored_digest(plan.dest)):
        return STALE
    same_bytes = lines[0] == fingerprint(plan.exercise, plan.source)
    if not same_bytes and not (
            len(lines) > 2 and lines[2] == fingerprint(plan.exercise, plan.source, code=True)):
        return STALE
    return CURRENT if same_bytes and not given_stale(plan) else RECORD_AGAIN


def up_to_date(plan: FixturePlan) -> bool:
    """Whether ``plan.dest`` stands as it is, nothing to compute or record (:data:`CURRENT`)."""
    return state(plan) == CURRENT


def given_stale(plan: FixturePlan) -> bool:
    """Whether the given modules' digests recorded in ``plan.dest`` (:data:`GIVEN`) are not
    those of the given modules in ``plan.source`` now."""
    return _recorded_given(plan) != given_digests(plan.exercise, plan.source)


def _recorded_given(plan: FixturePlan) -> dict[str, str] | None:
    try:
        return json.loads((plan.dest / GIVEN).read_text())
    except (OSError, ValueError):
        return None


def record(plan: FixturePlan) -> None:
    """Write the digests of the given modules (:data:`GIVEN`), then the fingerprint of the
    fixtures just stored in ``plan.dest`` (:data:`FINGERPRINT`: the sources' bytes, the digest
    of what is stored there, the sources' code)."""
    given = (json.dumps(given_digests(plan.exercise, plan.source), indent=1, sort_keys=True)
             + "\n").encode()
    if not (plan.dest / GIVEN).is_file() or (plan.dest / GIVEN).read_bytes() != given:
        atomic_write(plan.dest / GIVEN, given)
    atomic_write(plan.dest / FINGERPRINT,
                 f"{fingerprint(plan.exercise, plan.source)}\n{stored_digest(plan.dest)}\n"
                 f"{fingerprint(plan.exercise, plan.source, code=True)}\n".encode())


def fixture_checks(exercise: Exercise) -> list:
    return [c for c in exercise.checks
            if c.needs_expected and c.release_expected and not c.hidden]


def plan(topics: list[str], solutions_dir: Path) -> list[FixturePlan]:
    """The fixtures a release of ``topics`` from ``solutions_dir`` regenerates: one per topic
    that is a registered exercise with a fixtures folder and public checks needing expected
    values. Raises :class:`FixtureError` when a fixtures folder belongs to another copy of the
    solutions than ``solutions_dir`` (an installed, non-editable pack; another checkout):
    writing there would change a copy that is not the one being released."""
    plans: list[FixturePlan] = []
    problems: list[str] = []
    registered = set(exercise_names())
    for name in topics:
        if name not in registered:
            continue
        exercise = get_exercise(name)
        if exercise.fixtures is None or not fixture_checks(exercise):
            continue
        source = (solutions_dir / name).resolve()
        package = exercise.reference_package
        installed = (load_reference_dir(package).resolve()
                     if reference_available(package) else None)
        if installed != source:
            where = (f"is installed from {installed}" if installed is not None
                     else "is not importable")
            problems.append(
                f"exercise {name!r}: its reference {package} {where}, not from {source}, so "
                f"its fixtures folder {exercise.fixtures} belongs to another copy than the one "
                "being released; install the package that registers it editable "
                "(pip install -e <its project folder>) so that both are the same, "
                "or pass --no-fixtures")
        else:
            plans.append(FixturePlan(exercise, source, Path(exercise.fixtures)))
    if problems:
        raise FixtureError("cannot release fixtures: " + "; ".join(problems))
    return plans


def own_checks(exercise: Exercise) -> list:
    """The checks the solutions are judged by when their fixtures are computed: every check
    but the integrative questions' (training runs: ``dojo verify`` grades those)."""
    return [c for c in exercise.checks if c.question not in exercise.integrative]


def compute(exercise: Exercise, source: Path, into: Path) -> list[str]:
    """Run the solutions in ``source`` (a topic folder) through the fixture checks and write
    each outcome, in its stored form, into the new folder ``into``. Returns the check ids.

    The solutions are judged on the way, by every check but the training runs
    (:func:`own_checks`; each against its own outcome, so what fails is what a check judges
    by itself: a gradient against central differences, a torch oracle, a property, a line
    count). Raises :class:`FixtureError`, writing nothing, when they fail one, or when a
    check's own code fails on them (an error is never an expected outcome): fixtures from a
    wrong reference would pass the same mistake in a student's code."""
    checks = fixture_checks(exercise)
    judged = own_checks(exercise)
    into.mkdir(parents=True)
    # The solutions are imported from their folder (trusted, in this process); no swap-in is
    # needed (they are the reference), so no installed copy is ever consulted.
    outcomes = run_checks(exercise, [*checks, *(c for c in judged if c not in checks)],
                          topic_folder=None, trusted_folder=source, backend="numpy",
                          device="cpu", seed=0, question_functions={})
    failed = [judge(c, outcomes[c.id], outcomes[c.id], GradeOptions()) for c in judged]
    failed = [f"{r.id}: {r.status} {r.message}" for r in failed if r.score < r.max_score]
    # a check whose own code failed on the reference stores no expected outcome, judged or not
    # (a training run's metric checks are not judged here, and once stored an error as theirs)
    failed += [f"{c.id}: {outcomes[c.id].status} {outcomes[c.id].message}" for c in checks
               if outcomes[c.id].status != "ok" and c not in judged]
    if failed:
        lines = "; ".join(failed)
        raise FixtureError(
            f"the solutions in {source} fail their own checks, so no fixture is written: "
            f"{lines}. Fix the solutions (or the check, where the check is wrong: its torch "
            "oracle, its property); `grade --solutions` shows each failure in full")
    blind = blind_judges(judged, outcomes)
    if blind:
        raise FixtureError(f"{exercise.name}: no fixture is written: " + "; ".join(blind))
    for check in checks:
        outcome = outcomes[check.id]
        # what the judge needs as expected (``stored``) and every independent oracle's values
        # with their digest (torch autograd's gradient, a torch layer's outputs, the outputs
        # of named mistakes written in torch: the release's grading at the fixtures' seed
        # takes them instead of importing torch to compute the same function of the same
        # numbers again, :meth:`Context.oracle`; at another seed the digest differs and the
        # grader computes its own; ``oracle_keys`` holds each oracle's digest key too). A
        # named mistake's outputs outside an oracle (no digest: they were computed from what
        # the code under test returned) are never kept.
        stored = check.stored or (lambda key: True)
        of_oracle = oracle_keys(outcome)

        def keep(key: str, stored: Callable[[str], bool] = stored,
                 of_oracle: Callable[[str], bool] = of_oracle) -> bool:
            return of_oracle(key) or (not key.startswith(MISTAKE_KEY) and stored(key))

        outcome = Outcome(status=outcome.status, message=outcome.message,
                          arrays={k: v for k, v in outcome.arrays.items() if keep(k)},
                          scalars={k: v for k, v in outcome.scalars.items() if keep(k)})
        (into / f"{check.id}.json").write_bytes(_json_bytes(outcome))
        if outcome.arrays:
            with open(into / f"{check.id}.npz", "wb") as f:
                np.savez(f, **outcome.arrays)
    return [c.id for c in checks]


def _json_bytes(outcome: Outcome) -> bytes:
    """The stored form of an outcome's JSON: status and scalars only, keys sorted (no
    duration or other run-dependent field, so the same values give the same bytes)."""
    data = {"status": outcome.status, "scalars": outcome.scalars}
    return (json.dumps(data, sort_keys=True, default=str) + "\n").encode("utf-8")


def _rtol(exercise: Exercise, check_id: str) -> float:
    # Training (metric checks) may differ in the last bits between CPUs: compare loosely.
    return 1e-3 if exercise.check(check_id).kind == "metric" else 1e-9


def _equivalent(fresh: Path, stored: Path, check_id: str, rtol: float) -> bool:
    """Whether the stored fixture of ``check_id`` holds the same outcome as the fresh one."""
    old_json = stored / f"{check_id}.json"
    if not old_json.is_file():
        return False
    new, old = read_outcome(fresh / f"{check_id}.json"), read_outcome(old_json)
    return new.status == old.status and set(new.payload) == set(old.payload) and all(
        _same(new.payload[k], old.payload[k], rtol) for k in new.payload)


def store(exercise: Exercise, fresh: Path, dest: Path) -> FixtureReport:
    """Bring ``dest`` in line with the fixtures computed into ``fresh``: a fixture whose values
    did not change is left alone, changed ones are written atomically, fixtures of checks that
    no longer exist are removed."""
    report = FixtureReport(dest)
    ids = [c.id for c in fixture_checks(exercise)]
    dest.mkdir(parents=True, exist_ok=True)
    for check_id in ids:
        names = [f"{check_id}.json", f"{check_id}.npz"]
        if _equivalent(fresh, dest, check_id, _rtol(exercise, check_id)):
            # the same values: keep them (even where the new run differs in the last bits);
            # only a JSON stored in an older form (with a duration) is rewritten, values kept
            stored = (dest / names[0]).read_bytes()
            canonical = _json_bytes(read_outcome(dest / names[0]))
            if stored != canonical:
                atomic_write(dest / names[0], canonical)
                report.written.append(names[0])
            else:
                report.unchanged.append(names[0])
            report.unchanged += [n for n in names[1:] if (dest / n).exists()]
            continue
        for name in names:
            if (fresh / name).exists():
                atomic_write(dest / name, (fresh / name).read_bytes())
                report.written.append(name)
            elif (dest / name).exists():
                (dest / name).unlink()
                report.removed.append(name)
    for stale in sorted(p for p in dest.iterdir() if p.suffix in (".json", ".npz")
                        and p.stem not in ids):
        stale.unlink()
        report.removed.append(stale.name)
    return report


def compare(exercise: Exercise, fresh: Path, stored: Path) -> list[str]:
    """What differs between the fixtures computed into ``fresh`` and those in ``stored``:
    ``<check id>: missing | values differ | stale fixture``."""
    ids = [c.id for c in fixture_checks(exercise)]
    problems = []
    for check_id in ids:
        if not (stored / f"{check_id}.json").exists():
            problems.append(f"{check_id}: missing")
        elif not _equivalent(fresh, stored, check_id, _rtol(exercise, check_id)):
            problems.append(f"{check_id}: values differ")
    extra = {p.stem for p in stored.glob("*.json")} - set(ids) if stored.is_dir() else set()
    problems += [f"{cid}: stale fixture" for cid in sorted(extra)]
    return problems


def _source(exercise: Exercise, source: Path | None) -> Path:
    return source if source is not None else load_reference_dir(exercise.reference_package)


def generate(exercise: Exercise, dest: Path, source: Path | None = None) -> list[str]:
    """Compute the fixtures from ``source`` (a topic folder of solutions; default: the
    installed reference) and store them in ``dest``. Returns the check ids."""
    with tempfile.TemporaryDirectory(prefix="nlpdojo-fixtures-") as tmp:
        fresh = Path(tmp) / "fresh"
        ids = compute(exercise, _source(exercise, source), fresh)
        store(exercise, fresh, dest)
    return ids


def differences(exercise: Exercise, stored: Path, source: Path | None = None) -> list[str]:
    """Check ids whose stored fixture differs from what the solutions produce now."""
    with tempfile.TemporaryDirectory(prefix="nlpdojo-fixtures-") as tmp:
        fresh = Path(tmp) / "fresh"
        compute(exercise, _source(exercise, source), fresh)
        return compare(exercise, fresh, stored)


def _same(a: object, b: object, rtol: float) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and bool(
            np.allclose(a, b, rtol=rtol, atol=1e-12, equal_nan=True)
            if np.issubdtype(a.dtype, np.floating) else np.array_equal(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b) or (
            math.isfinite(b) and abs(a - b) <= rtol * max(1.0, abs(b)))
    return a == b
