"""Grading: run an exercise's checks on a submission, obtain expected values, judge, report.

Expected values come from the reference solutions when they are installed (run in their own
worker, on NumPy in float64, so they do not depend on the backend being graded) and from the
fixtures shipped with the exercise otherwise (a student release). Hidden checks need the
reference and run only where it is present.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nlpdojo.errors import NlpdojoError
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.authoring import markers
from nlpdojo_autograder.authoring.checks import NAMED_MISTAKE, Check, Exercise, Verdict
from nlpdojo_autograder.authoring.kinds import NEEDS_TORCH, TORCH_NAMES_MISTAKES
from nlpdojo_autograder.authoring.markers import questions_in
from nlpdojo_autograder.authoring.questions import qualify, swap_in
from nlpdojo_autograder.grading import expected as expected_store
from nlpdojo_autograder.grading.deps import Course
from nlpdojo_autograder.grading.given import edited_given, edited_given_warning
from nlpdojo_autograder.grading.gradecache import check_context, reference_fingerprint
from nlpdojo_autograder.grading.results import (
    REFUSED,
    CheckResult,
    ExerciseResult,
    GradingResult,
)
from nlpdojo_autograder.grading.runner import (
    TIME_LIMIT_NOTE,
    Limits,
    Outcome,
    RunInfo,
    given_sources,
    read_outcome,
    run_checks,
)
from nlpdojo_autograder.grading.snapshot import inner_folders, take_snapshot, unwrapped
from nlpdojo_autograder.grading.snapshot import remove as remove_snapshot
from nlpdojo_autograder.grading.versions import versions
from nlpdojo_autograder.runtime import code_rules, sandbox, source_memo
from nlpdojo_autograder.runtime.loader import LIBRARY, load_reference_dir, reference_available
from nlpdojo_autograder.training.train import (
    fetch_command,
    require_datasets,
    unavailable_datasets,
)

REFERENCE_BACKEND = ("numpy", "cpu")


class GradingError(NlpdojoError):
    """Grading could not start (unknown topic, missing submission folder...)."""


#: the input seed a cohort's grader passes to the process grading each submission, and
#: ``make test-seeds`` to every ``grade`` and ``dojo verify`` of the seeded tests (used only
#: where the reference is present: without it, the fixtures' base seed is the only one)
INPUT_SEED_ENV = "NLPDOJO_INPUT_SEED"


def seed_from_environment() -> int | None:
    """The input seed :data:`INPUT_SEED_ENV` names, if any, else ``None``."""
    value = os.environ.get(INPUT_SEED_ENV, "")
    return int(value) if value.isdigit() else None


@dataclass
class GradeOptions:
    backend: str = "numpy"
    device: str | None = None
    seed: int = 0
    full: bool = False
    #: False grades as a student release would: no reference, fixtures and public checks only
    use_reference: bool = True
    #: only these questions, full ids (``topic.question``; a bare id selects that question in
    #: every topic graded); None: all
    questions: frozenset[str] | None = None
    limits: Limits = field(default_factory=Limits)
    #: seed of the inputs of value and gradient checks (None: ``seed``). ``grade`` draws a
    #: fresh one where the reference is present (or takes :data:`INPUT_SEED_ENV`'s), so
    #: answers memorised from the shipped fixtures earn nothing; training runs start from
    #: initial parameters and a seed drawn from it too, so that no trajectory computed
    #: before the grading (elsewhere, with another engine) can match the reference's
    input_seed: int | None = None
    #: ``grade``'s incremental cache of this submission (None: every check runs)
    cache: Any = None
    #: ``{question: text}``: grade such a question's checks only until one loses points with
    #: ``text`` in its message ("" for any message), and leave its later checks out of the
    #: result (``dojo verify`` asks whether a planted bug is caught, not by how many checks)
    until_lost: dict[str, str] | None = None
    #: ``{question: check ids}``: with ``until_lost``, such a question is settled only once
    #: these checks have their verdicts too (``dojo verify``: a bug's ``by``, each of which
    #: must catch it; put them first with ``order``)
    graded_first: dict[str, frozenset[str]] | None = None
    #: a sort key: the checks run in its order (stable: ties keep the topic's order; the
    #: result keeps the topic's). With ``until_lost`` a question is settled by the first check
    #: in this order that catches a mistake (checks share only what they memoise in
    #: ``ctx.cache``; the order also decides which required questions have all their verdicts
    #: before a check that requires them runs: ``own_passed``)
    order: Callable[[Check], Any] | None = None
    #: with the reference present, a check runs the student's own code of a question it
    #: requires where that code passed every check of the question earlier in this grading
    #: (this topic's, or an earlier topic's of the same grading), and the reference stands
    #: in only for those that fail or were not graded: the mistake that swapping keeps from
    #: costing points twice was not found, and the reference is not called back, step after
    #: step (:func:`~nlpdojo_autograder.authoring.questions.narrowed`). A check that loses
    #: points that way runs again with the reference standing in for all of them, and that
    #: verdict stands (never a point lost that the reference's code would have kept). False:
    #: the reference stands in for every required question (``dojo verify``'s baseline, which
    #: counts the call-backs of a submission whose earlier questions all fail)
    own_passed: bool = True
    #: with ``own_passed``: a check that loses points on the student's own code of a passed
    #: question runs again with the reference standing in, and that verdict stands. False
    #: (``dojo verify``'s planted bugs, whose passed questions are the solutions' own code:
    #: the same verdict twice, at twice the cost): the first verdict stands
    again_with_reference: bool = True
    #: ``dojo verify`` on a copy of the solutions: filled with per check id the units of the
    #: code it ran (``runner.run_checks``'s ``executed``); None: not recorded
    executed: dict[str, Any] | None = None
    #: what the result records of where each setting came from (``GradingResult.settings``)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def inputs(self) -> int:
        return self.seed if self.input_seed is None else self.input_seed


class ExpectedCache:
    """Reference outcomes per (topic, seed, input seed, full), computed once per process, and
    kept between processes by the on-disk store of :mod:`.expected` (:meth:`get`'s ``root``,
    else :func:`.expected.default_root`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[tuple[str, int, int, bool], dict[str, Outcome]] = {}
        #: checks whose outcomes came from the store, and those the reference ran (counts)
        self.loaded = self.computed = 0

    def get(self, exercise: Exercise, checks: list[Check], options: GradeOptions,
            question_functions: dict[str, list[tuple[str, str | None]]],
            on_start: Callable[[Check], None] | None = None,
            root: Path | None = None, compute: bool = True) -> dict[str, Outcome]:
        """The reference's outcomes of ``checks`` at ``options``' draw: from this process's
        memory, else the store (at ``root``, else :func:`.expected.default_root`), else run
        (not with ``compute`` false: then only those found). What the store lacks is written
        there (an explicit ``root``, a cohort's store, also gets those this process held
        already: an earlier grading in it computed them)."""
        key = (exercise.name, options.seed, options.inputs, options.full)
        with self._lock:
            have = self._data.setdefault(key, {})
            missing = [c for c in checks if c.id not in have]
            # given a store (a cohort's), it gets what this process holds and it lacks too
            told = root is not None
            root = root if told else expected_store.default_root()
            store, draw, stored = None, "", {}
            if (missing or told) and root is not None:
                store = expected_store.ExpectedStore(root)
                draw = expected_store.draw_key(exercise, REFERENCE_BACKEND[0], *key[1:])
                stored = store.load(exercise.name, draw)
                found = {c.id: stored[c.id] for c in missing if c.id in stored}
                have.update(found)
                self.loaded += len(found)
                missing = [c for c in missing if c.id not in found]
            if not compute:
                return {c.id: have[c.id] for c in checks if c.id in have}
            if missing:
                computed = run_checks(
                    exercise, missing, topic_folder=None, backend=REFERENCE_BACKEND[0],
                    device=REFERENCE_BACKEND[1], seed=options.seed, full=options.full,
                    limits=options.limits, question_functions=question_functions,
                    input_seed=options.inputs, on_start=on_start, expected_only=True)
                have.update(computed)
                self.computed += len(computed)
            if store is not None:
                lacking = {c.id: have[c.id] for c in checks if c.id not in stored}
                if lacking:
                    store.save(exercise.name, draw, lacking)
            return {c.id: have[c.id] for c in checks}


EXPECTED = ExpectedCache()


def store_expected(names: list[str], options: GradeOptions, root: Path,
                   on_topic: Callable[[str, int], None] | None = None,
                   cache: ExpectedCache | None = None) -> None:
    """Compute the reference's expected outcomes of every topic of ``names`` at ``options``'
    draw into the store at ``root``, for processes that grade later (a cohort's children
    read them there, :data:`.expected.ROOT_ENV`; a prepared draw's, :mod:`.draws`).
    ``on_topic(topic, checks)``: told as each topic starts. Topics without the reference, or
    graded without it, have none. ``cache``: the process's memory of outcomes to use (default
    :data:`EXPECTED`; a fresh one keeps none of them after)."""
    cache = EXPECTED if cache is None else cache
    for name in names:
        exercise = get_exercise(name)
        if not has_reference(exercise, options):
            continue
        needing = [c for c in select_checks(exercise, options, True) if c.needs_expected]
        if not needing:
            continue
        if on_topic is not None:
            on_topic(name, len(needing))
        cache.get(exercise, needing, options, question_functions(exercise), root=root)


def exercise_names() -> list[str]:
    """The registered topics in course order (:attr:`Exercise.order`, then name)."""
    registry = get_registry()
    return sorted(registry.names("exercise"),
                  key=lambda name: (registry.get("exercise", name).order, name))


def get_exercise(name: str) -> Exercise:
    return get_registry().get("exercise", name)


def select_checks(exercise: Exercise, options: GradeOptions, reference: bool) -> list[Check]:
    return [c for c in exercise.checks
            if (reference or not c.hidden)
            and (options.questions is None or qualify(exercise.name, c.question)
                 in options.questions or c.question in options.questions)]


def question_functions(exercise: Exercise) -> dict[str, list[tuple[str, str | None]]]:
    """Which functions hold which question (full ids), read from the solutions' markers: the
    topic's own modules (``softmax``) and the course library's (``..library.layers``)."""
    topic_dir = load_reference_dir(exercise.reference_package)
    library = topic_dir.parent / LIBRARY
    folders = [topic_dir, *([library] if library.is_dir() and library != topic_dir else [])]

    def read() -> dict[str, list[tuple[str, str | None]]]:
        found = {qualify(exercise.name, q): [tuple(p) for p in pairs]
                 for q, pairs in questions_in(topic_dir).items()}
        for q, pairs in (questions_in(library).items() if len(folders) > 1 else ()):
            found.setdefault(q, []).extend((f"..{LIBRARY}.{m}", name) for m, name in pairs)
        return found

    # the markers are read again by every grading process: kept on disk by the files' content
    stored = source_memo.remembered(
        "question_functions", [exercise.name, source_memo.folder_contents(folders)], read,
        code=(markers,))
    return {q: [(module, name) for module, name in pairs] for q, pairs in stored.items()}


def _with_own_withheld(message: str, names: tuple[str, ...], question: str,
                       qf: dict[str, list[tuple[str, str | None]]], topic: str) -> str:
    """The check's message, and that it ran the student's own ``names`` (withheld: the
    reference of ``question`` does not call them, so a mistake in them shows here too)."""
    owners = {f"{m}.{n}": q for q, pairs in qf.items() for m, n in pairs if n}
    questions = sorted({owners.get(n, "").removeprefix(f"{topic}.") for n in names} - {""})
    listed = ", ".join(f"{n.rsplit('.', 1)[-1]}()" for n in names)
    of = f" (question {', '.join(questions)})" if questions else ""
    it = "it" if len(names) == 1 else "them"
    where = " and ".join(questions) or "that question"
    return (f"{message.rstrip()} (this check ran your own {listed}{of}: the reference's "
            f"{question} does not use {it}, so {it} stayed yours here and a mistake in {it} "
            f"counts here too; where {where} passes its own checks, the difference is in "
            f"{question})")


def has_reference(exercise: Exercise, options: GradeOptions) -> bool:
    return options.use_reference and reference_available(exercise.reference_package)


class Listener:
    """Told about each check as grading goes (``grade``'s live progress). Every method is a
    no-op here; ``topic`` names the exercise."""

    def started(self, topic: str, check: Check, *, reference: bool = False) -> None:
        """``check`` starts: on the submission, or (``reference``) on the reference solutions
        to obtain its expected values."""

    def finished(self, topic: str, check: Check, result: CheckResult) -> None:
        """``check`` has its verdict (``result.cached``: reused from an earlier run)."""


def grade_exercise(exercise: Exercise, topic_folder: Path | None,
                   options: GradeOptions, listener: Listener | None = None,
                   passed_before: Iterable[str] = (),
                   presumed: Iterable[str] = (),
                   stub_lines: Callable[[Path, str | None], set[str]] | None = None,
                   ) -> ExerciseResult:
    """Grade one exercise: ``topic_folder`` is the student's folder, ``None`` the reference.

    A submission's checks are judged as each finishes (the expected values are obtained
    first), so that ``listener`` hears of every verdict as soon as it is known.
    ``passed_before``: full ids of questions of topics graded earlier in the same grading
    that the submission passed (:func:`passed_questions`; ``GradeOptions.own_passed``);
    ``presumed``: those of other topics not graded here that run as the student's own too
    (:func:`presumed_elsewhere`); ``stub_lines``: the grading's :class:`StubLines`."""
    started = time.perf_counter()
    listener = listener or Listener()
    reference = has_reference(exercise, options)
    if topic_folder is None and not reference:
        raise GradingError(f"the reference solutions for {exercise.name!r} are not installed")
    checks = select_checks(exercise, options, reference)
    skipped = ({} if reference or topic_folder is None
               else skipped_for_data(exercise, checks))
    for check in checks:
        if check.id in skipped:
            listener.finished(exercise.name, check, skipped[check.id])
    graded = [c for c in checks if c.id not in skipped]
    cache, course, contexts, hits = _cached(exercise, graded, topic_folder, options, reference)
    passing = (PassingQuestions(exercise.name, checks, passed_before, presumed)
               if reference and topic_folder is not None and options.own_passed else None)
    for check in checks:
        if passing is not None and check.id in skipped:
            passing.judged(check, skipped[check.id])
    for check in graded:
        if check.id in hits:
            listener.finished(exercise.name, check, hits[check.id])
            if passing is not None:
                passing.judged(check, hits[check.id])
    to_run = [c for c in graded if c.id not in hits]
    if options.order is not None:
        to_run.sort(key=options.order)
    elif passing is not None:
        # each question's checks together (its hidden ones are declared after the topic's
        # public ones), questions in the topic's order: a question has all its verdicts
        # before the later questions that require it run (``own_passed``); the result
        # keeps the topic's order
        place: dict[str, int] = {}
        for check in checks:
            place.setdefault(check.question, len(place))
        to_run.sort(key=lambda c: place[c.question])
    qf = question_functions(exercise) if reference else {}
    info = RunInfo(isolation=expected_isolation(options.limits) if hits else "trusted")
    touched: dict[str, set[str]] = {}
    fresh: dict[str, CheckResult] = {}
    expected: dict[str, Outcome | str] = {}
    deferred: set[str] = set()
    if topic_folder is not None:
        deferred = (deferred_expected(exercise, to_run, topic_folder, stub_lines)
                    if reference else set())
        expected = _expected(exercise, [c for c in to_run if c.id not in deferred], options,
                             reference, qf, None,
                             on_start=lambda c: listener.started(exercise.name, c,
                                                                 reference=True))
        if deferred:  # those known already (a cohort's store) are used as ever
            expected.update(_expected(exercise, [c for c in to_run if c.id in deferred],
                                      options, reference, qf, None, compute=False))

    until = options.until_lost or {}
    first = options.graded_first or {}
    settled: set[str] = set()  # questions of ``until`` whose checks need not run on
    caught: set[str] = set()  # those of them with a check that lost points saying ``until``

    def judged(check: Check, outcome: Outcome) -> bool:
        if check.id in deferred and outcome.status == "ok" and check.id not in expected:
            # a deferred check that completed after all: its question's expected outcomes now,
            # in one run of the reference (its checks share a training run, a cache)
            expected.update(_expected(
                exercise, [c for c in to_run if c.id in deferred and c.id not in expected
                           and c.question == check.question], options, reference, qf, None))
        result = judge(check, outcome, expected.get(check.id), options)
        doubted = (passing.presumed & set(outcome.own_required) if passing is not None
                   else set())
        if outcome.own_required and options.again_with_reference and \
                not full_marks(result) and (outcome.status != "timeout" or doubted):
            # it lost points running the student's own code of a passed question: run again
            # at once (``run_checks``), with the reference standing in for it, as every check
            # was before; this verdict is not heard of (an honest question whose checks allow
            # what costs this one, a loop its run at scale counts, costs nothing here). Not
            # a check stopped at its time limit on questions passed here (a loop in the code
            # under test would cost that limit twice), but one on another topic's question
            # not graded here (``presumed``): nothing found that code fast enough. Such a
            # question is presumed no longer: the checks after this one have the reference
            # standing in for it from the start (a slow, looping or wrong layer costs the
            # time of one check run twice, not of every check that calls it)
            if passing is not None:
                passing.doubted(doubted)
            return True
        if outcome.own_required:
            result.details["own_required"] = list(outcome.own_required)
        if outcome.own_withheld and not full_marks(result):
            result.details["own_withheld"] = list(outcome.own_withheld)
            result.message = _with_own_withheld(result.message, outcome.own_withheld,
                                                check.question, qf, exercise.name)
        fresh[check.id] = result
        if passing is not None:
            passing.judged(check, result)
        if check.question in until and result.score < result.max_score and \
                until[check.question] in result.message:
            caught.add(check.question)
        if check.question in caught and first.get(check.question, frozenset()) <= set(fresh):
            settled.add(check.question)
        listener.finished(exercise.name, check, result)
        return False

    outcomes = run_checks(
        exercise, to_run, topic_folder=topic_folder, backend=options.backend,
        device=options.device, seed=options.seed, full=options.full, limits=options.limits,
        question_functions=qf, info=info, input_seed=options.inputs, touched=touched,
        on_start=lambda c: listener.started(exercise.name, c),
        on_outcome=judged if topic_folder is not None else None,
        skip=(lambda c: c.question in settled) if until else None,
        executed=options.executed if topic_folder is not None else None, known=expected,
        use_reference=reference, passed=passing.ids if passing is not None else None,
    ) if to_run else {}
    if topic_folder is None:  # the reference itself: its own outcomes are the expected ones
        expected = _expected(exercise, to_run, options, reference, qf, outcomes)
        for check in to_run:
            judged(check, outcomes[check.id])
    if cache is not None:
        # inputs drawn from a fresh seed (the reference is here, no --seed) never recur
        reusable = {c.id for c in to_run if options.inputs == options.seed
                    or not c.fresh_inputs}
        cache.store(exercise.name, course, {
            cid: (contexts[cid], touched.get(cid, {"*"}), result)
            for cid, result in fresh.items() if cid in reusable})
    # a check left out by ``until_lost`` has no verdict and no place in the result
    results = [skipped.get(c.id) or hits.get(c.id) or fresh[c.id] for c in checks
               if c.id in skipped or c.id in hits or c.id in fresh]
    return ExerciseResult(name=exercise.name, title=exercise.title, checks=results,
                          duration_s=round(time.perf_counter() - started, 3),
                          isolation=info.isolation,
                          hidden_points=hidden_points(exercise, options, reference))


class PassingQuestions:
    """The questions a submission's code passed so far in a grading (``GradeOptions.own_passed``):
    full ids whose every check in this grading has its verdict, each passed with full marks
    (a check with no verdict, left out or not reached, keeps its question out). ``ids`` grows
    as :meth:`judged` hears of verdicts; ``run_checks`` reads it at each check's turn.

    ``before``: questions of topics graded earlier in the grading that passed; ``presumed``:
    those of other topics not graded in it, run as the student's own until a check loses
    points on them (:func:`presumed_elsewhere`, :meth:`doubted`)."""

    def __init__(self, topic: str, checks: Iterable[Check], before: Iterable[str] = (),
                 presumed: Iterable[str] = ()) -> None:
        self.topic = topic
        self.presumed: set[str] = set(presumed)
        self.ids: set[str] = {*before, *self.presumed}
        self._waiting: dict[str, set[str]] = {}
        self._lost: set[str] = set()
        for check in checks:
            self._waiting.setdefault(qualify(topic, check.question), set()).add(check.id)

    def doubted(self, questions: Iterable[str]) -> None:
        """``questions`` (of :attr:`presumed`) cost a check points: presumed no longer, the
        reference stands in for them from now on."""
        self.ids.difference_update(questions)
        self.presumed.difference_update(questions)

    def judged(self, check: Check, result: CheckResult) -> None:
        question = qualify(self.topic, check.question)
        if not full_marks(result):
            self._lost.add(question)
            self.ids.discard(question)
        waiting = self._waiting.get(question, set())
        waiting.discard(check.id)
        if not waiting and question not in self._lost:
            self.ids.add(question)


def passed_questions(results: Iterable[ExerciseResult]) -> set[str]:
    """Full ids of the questions whose every check in ``results`` passed with full marks."""
    lost: set[str] = set()
    seen: set[str] = set()
    for result in results:
        for check in result.checks:
            question = qualify(result.name, check.question)
            seen.add(question)
            if not full_marks(check):
                lost.add(question)
    return seen - lost


def presumed_elsewhere(exercise: Exercise, folder: Path, options: GradeOptions,
                       graded: Iterable[str],
                       stub_lines: Callable[[Path, str | None], set[str]] | None = None,
                       ) -> set[str]:
    """The questions of other topics that ``exercise``'s checks require, that this grading
    does not grade (``graded``: the topics graded before it), and whose code the submission
    holds past its stub (the course library's layers of an earlier topic, ``neural_networks.
    affine`` in a ``cnn_text`` grading): run as the student's own in ``exercise``'s checks
    without being graded first (``GradeOptions.own_passed``).

    Grading them first cost more than the call-backs it saves (their checks, strict pass, runs
    at scale and two more workers: a ``rnn_variants`` grading in a cohort of 10, 37.9 CPU-s
    against 29.2 this way, 2026-12-06). Nothing rests on it: a check that loses points on
    this code, stopped at its time limit included, runs again with the reference standing in,
    and that verdict stands. A question still holding its stub line, or whose code is in a
    topic folder the submission lacks, has the reference standing in from the start."""
    if not options.own_passed or not has_reference(exercise, options):
        return set()
    graded = set(graded)
    wanted = {q for check in select_checks(exercise, options, reference=True)
              for q in swap_in(exercise, check)
              if q.partition(".")[0] not in graded | {exercise.name}}
    read = stub_lines or stubs_left
    stubbed = read(folder.parent / LIBRARY, None)
    found: set[str] = set()
    for topic in {q.partition(".")[0] for q in wanted}:
        where = folder.parent / topic  # (a topic folder of the submission, if it has one)
        functions = question_functions(get_exercise(topic))
        left = stubbed | read(where, topic)
        for question in (q for q in wanted if q.partition(".")[0] == topic):
            modules = [module for module, _ in functions.get(question, [])]
            in_library = bool(modules) and all(m.startswith(f"..{LIBRARY}.") for m in modules)
            if (in_library or where.is_dir()) and question not in left:
                found.add(question)
    return found


def full_marks(result: CheckResult) -> bool:
    """A check passed with all its points: what makes a question count as passed."""
    return result.passed and result.score >= result.max_score


def deferred_expected(exercise: Exercise, checks: list[Check], topic_folder: Path,
                      stub_lines: Callable[[Path, str | None], set[str]] | None = None) -> set[str]:
    """The checks of a submission whose expected outcomes wait until it completes them: their
    question, or for an integrative one any of its topic's or an earlier topic's, still holds
    its released stub line (:func:`stubs_left`, the topic's files and the course library's),
    so the submission's run stops at ``NotImplementedError`` and nothing is compared; the
    reference need not run for them (a stubbed training question trained the reference for
    nothing). A guess that orders work, never a verdict: a deferred check that completes after
    all (the stub line kept in a comment) gets its expected outcome computed then."""
    read = stub_lines or stubs_left
    stubs = read(topic_folder, exercise.name) | read(topic_folder.parent / LIBRARY, None)
    if not stubs:
        return set()
    # an integrative question trains the submission's whole pipeline (nothing is swapped in,
    # and it declares no requirements): a stub of its topic or of an earlier one may stop it
    earlier = any(_topic_order(q.partition(".")[0]) <= exercise.order for q in stubs)
    return {check.id for check in checks if check.needs_expected and (
        (earlier and check.question in exercise.integrative)
        or qualify(exercise.name, check.question) in stubs)}


def _topic_order(name: str) -> float:
    """A registered topic's place in the course (an unknown one: after every topic)."""
    try:
        return get_exercise(name).order
    except Exception:  # noqa: BLE001 - a stub of a topic not installed here stops nothing
        return float("inf")


def hidden_points(exercise: Exercise, options: GradeOptions, reference: bool
                  ) -> dict[str, float]:
    """Per question, the points of its hidden checks that this grading leaves out (none where
    the reference is present: they run)."""
    if reference:
        return {}
    selected = {c.id for c in select_checks(exercise, options, True)}
    found: dict[str, float] = {}
    for check in exercise.checks:
        if check.hidden and check.id in selected:
            found[check.question] = round(found.get(check.question, 0.0) + check.points, 6)
    return found


def expected_isolation(limits: Limits) -> str:
    """The isolation a student's checks get with ``limits`` (recorded for cached ones)."""
    if limits.isolation == "process":
        return sandbox.PROCESS
    return sandbox.level(require=limits.isolation == "sandbox")


def _cached(exercise: Exercise, checks: list[Check], topic_folder: Path | None,
            options: GradeOptions, reference: bool) -> tuple[Any, Any, dict[str, str],
                                                              dict[str, CheckResult]]:
    """The incremental cache's part of grading a topic: the cache, the course folder, each
    check's context key and the verdicts that can be reused (all empty without a cache)."""
    cache = options.cache
    if cache is None or topic_folder is None:
        return None, None, {}, {}

    # given code runs from the reference where it is installed: its imports, not those of
    # the submission's copy, say what a check that runs it reaches
    course = Course(topic_folder, given_sources(exercise) if reference else None)
    isolation = expected_isolation(options.limits)
    source = reference_fingerprint(exercise, reference)
    contexts = {c.id: check_context(c, exercise.name, options, source, isolation)
                for c in checks}
    return cache, course, contexts, cache.lookup(exercise.name, course, contexts)


def _expected(exercise: Exercise, checks: list[Check], options: GradeOptions, reference: bool,
              qf: dict[str, list[tuple[str, str | None]]],
              own: dict[str, Outcome] | None,
              on_start: Callable[[Check], None] | None = None,
              compute: bool = True) -> dict[str, Outcome | str]:
    """Expected outcome per check that needs one, or a string saying why there is none
    (``on_start``: told of each check the reference runs for it; without ``compute``, only
    the reference's outcomes already known, in memory or in the store)."""
    needing = [c for c in checks if c.needs_expected]
    if not needing:
        return {}
    if reference:
        same_backend = (options.backend, options.device or "cpu") == REFERENCE_BACKEND
        if own is not None and same_backend:
            return dict(own)
        return dict(EXPECTED.get(exercise, needing, options, qf, on_start=on_start,
                                 compute=compute))
    found: dict[str, Outcome | str] = {}
    for check in needing:
        if not check.release_expected:
            continue  # judged without the reference's payload (none ships)
        path = _fixture(exercise, check)
        if path is None or not path.exists():
            found[check.id] = (f"no expected values for {check.id} in this release; the "
                               "instructor should run `dojo release`")
        elif options.seed != 0 or options.inputs != 0 or options.full:
            found[check.id] = ("fixtures are stored for seed 0 and the quick budget only; "
                               "grade with the default --seed and without --full")
        else:
            found[check.id] = read_outcome(path)
    return found


def _fixture(exercise: Exercise, check: Check) -> Path | None:
    return exercise.fixtures / f"{check.id}.json" if exercise.fixtures else None


def expected_problem(exercise: Exercise, options: GradeOptions) -> str | None:
    """Why ``exercise`` cannot be graded fairly with ``options`` (``None``: it can). Without the
    reference, expected values come from the fixtures: they must exist for every selected check
    that needs one, and they hold seed 0 and the quick budget only. These are problems of the
    grader's set-up, not of a submission: callers report them instead of scoring 0."""
    reference = has_reference(exercise, options)
    if reference:
        return None
    needing = [c for c in select_checks(exercise, options, reference)
               if c.needs_expected and c.release_expected]
    if not needing:
        return None
    missing = [c.id for c in needing if not ((path := _fixture(exercise, c)) and path.exists())]
    if missing:
        where = f" in {exercise.fixtures}" if exercise.fixtures else ""
        return (f"{exercise.name}: no expected values for {', '.join(missing)}{where}, and the "
                "reference solutions are not installed; the instructor should run `dojo "
                "release` (it stores them) or grade where the solutions are installed")
    if options.seed != 0 or options.full:
        return (f"{exercise.name}: grading without the reference solutions uses the fixtures "
                "shipped with the exercise, stored for seed 0 and the quick budget only; leave "
                "out --seed and --full")
    return None


def check_expected(topics: list[str], options: GradeOptions) -> None:
    """Raise :class:`GradingError` when :func:`expected_problem` finds a problem in a topic."""
    problems = [p for p in (expected_problem(get_exercise(t), options) for t in topics) if p]
    if problems:
        raise GradingError("; ".join(problems))
    require_data(topics, options)


def require_data(topics: list[str], options: GradeOptions) -> None:
    """Where the reference is installed (an instructor, a course's CI, Gradescope), every data
    set the selected checks need is fetched and intact; otherwise one error (exit 2) naming the
    command that fetches them all: a grader's set-up problem must never cost a student points.
    A student's grading (no reference) grades without them instead: the checks that need
    them are skipped, each saying so (:func:`skipped_for_data`)."""
    needed: list[str] = []
    for topic in topics:
        exercise = get_exercise(topic)
        reference = has_reference(exercise, options)
        if not reference:
            continue
        questions = {c.question for c in select_checks(exercise, options, reference)}
        for question in sorted(questions):
            needed += exercise.datasets.get(question, ())
    if needed:
        require_datasets(needed)


#: ``CheckResult.details["skipped"]`` of a check not run for want of data (status ``error``)
SKIPPED_NO_DATA = "data"


def skipped_for_data(exercise: Exercise, checks: list[Check]) -> dict[str, CheckResult]:
    """The checks of ``checks`` whose question needs a data set that is not fetched here (or
    is damaged), as results: status ``error``, 0 points of their ``max_score``,
    ``details["skipped"] == "data"``, ``details["datasets"]`` the sets missing, and a message
    with the command that fetches them. Only for a student's grading (see
    :func:`require_data`): the rest is graded as usual."""
    needed = sorted({n for c in checks for n in exercise.datasets.get(c.question, ())})
    if not needed:
        return {}
    missing, corrupt = unavailable_datasets(needed)
    absent = set(missing) | set(corrupt)
    found: dict[str, CheckResult] = {}
    for check in checks:
        names = [n for n in exercise.datasets.get(check.question, ()) if n in absent]
        if not names:
            continue
        what = "data set" if len(names) == 1 else "data sets"
        state = ("damaged here (fetch it again)" if set(names) <= set(corrupt)
                 else "not fetched here")
        found[check.id] = CheckResult(
            id=check.id, question=check.question, kind=check.kind, score=0.0,
            max_score=check.points, status="error", title=check.title, hidden=check.hidden,
            message=(f"not run: it needs the {what} {', '.join(names)}, {state}; run "
                     f"`{fetch_command(names)}` (or `dojo data fetch --all`) and grade again"),
            details={"skipped": SKIPPED_NO_DATA, "datasets": names})
    return found


def data_warning(results: list[ExerciseResult]) -> list[str]:
    """One line naming the questions :func:`skipped_for_data` left out and the command that
    fetches their data (``[]`` when none was)."""
    questions: list[str] = []
    names: list[str] = []
    for result in results:
        for c in result.checks:
            if c.details.get("skipped") == SKIPPED_NO_DATA:
                questions.append(f"{result.name}.{c.question}")
                names += c.details.get("datasets", [])
    if not questions:
        return []
    questions = list(dict.fromkeys(questions))
    return [f"skipped for want of data: {', '.join(questions)} (no points until then); run "
            f"`{fetch_command(names)}` (or `dojo data fetch --all`) and grade again"]


#: how :func:`waiting_warning` says which command shows what is left of ``{stub}`` (a notebook's
#: grading says it in the notebook's terms instead: ``release.notebook_feedback``)
WAITING_ADVICE = "(`grade {stub}` shows what is left)"


def waiting_warning(results: list[ExerciseResult]) -> list[str]:
    """One line per earlier question whose stub stopped checks of other questions (a topic
    started before the one it builds on): how many, and what to write first, said once after
    the report rather than only in each of its rows."""
    waiting: dict[str, list[str]] = {}
    for result in results:
        for c in result.checks:
            if c.details.get("waits_for"):
                waiting.setdefault(str(c.details["waits_for"]), []).append(
                    f"{result.name}.{c.question}")
    lines = []
    for stub, questions in waiting.items():
        shown = list(dict.fromkeys(questions))
        lines.append(f"{len(questions)} checks of {len(shown)} question"
                     f"{'s' if len(shown) > 1 else ''} ({', '.join(shown[:4])}"
                     f"{', ...' if len(shown) > 4 else ''}) wait for your {stub}, which is not "
                     f"implemented yet: write it first {WAITING_ADVICE.format(stub=stub)}")
    return lines


def torch_warning(results: list[ExerciseResult]) -> list[str]:
    """One line where failed checks could have named their mistake with torch installed in
    the grader (:data:`~nlpdojo_autograder.authoring.kinds.NEEDS_TORCH`): said once per
    grading, not in every such check's message."""
    failed = [f"{r.name}.{c.question}" for r in results for c in r.checks
              if c.details.get(NEEDS_TORCH) and c.score < c.max_score]
    if not failed:
        return []
    shown = list(dict.fromkeys(failed))
    return [f"{len(failed)} failed check{'s' if len(failed) > 1 else ''} ({', '.join(shown[:4])}"
            f"{', ...' if len(shown) > 4 else ''}): {TORCH_NAMES_MISTAKES}"]


def judge(check: Check, outcome: Outcome, expected: Outcome | str | None,
          options: GradeOptions) -> CheckResult:
    """The result of ``check`` from what its collect produced (``outcome``) and the
    reference's outcome (``expected``; a string: why there is none): the points, the status
    and the feedback. The reference judged against its own outcome passes every check it
    does not fail on its own (a gradient against central differences, a torch oracle, a
    property)."""
    base = dict(id=check.id, question=check.question, kind=check.kind, max_score=check.points,
                title=check.title, hidden=check.hidden, duration_s=round(outcome.duration_s, 3),
                output=outcome.output)
    fresh = check.fresh_inputs
    details: dict[str, Any] = {"seed": check.seed(options.inputs if fresh else options.seed)}
    if check.budget:
        details["budget"] = check.budget
    if outcome.call_backs:
        details["call_backs"] = outcome.call_backs
    if outcome.strict_pass:
        details["strict_pass"] = True
    if outcome.printed:
        details["printed"] = outcome.printed
    if outcome.status != "ok":
        if outcome.traceback:
            details["traceback"] = outcome.traceback
        if outcome.mistake:
            details[NAMED_MISTAKE] = outcome.mistake
        status = {"failed": "failed"}.get(outcome.status, outcome.status)
        message = outcome.message
        if status == "not_implemented" and "not implemented" not in message:
            message = f"not implemented yet ({message})"
        return CheckResult(score=0.0, status=status, message=message, details=details, **base)
    if check.needs_expected and not (expected is None and not check.release_expected):
        if isinstance(expected, str) or expected is None:
            return CheckResult(score=0.0, status="error", details=details, **base,
                               message=expected or "no expected values")
        if expected.status != "ok":
            return CheckResult(score=0.0, status="error", details=details, **base,
                               message=f"the reference failed this check ({expected.status}: "
                                       f"{expected.message}); please tell the instructor")
    try:
        verdict: Verdict = check.judge(outcome.payload,
                                       expected.payload if isinstance(expected, Outcome) else None)
    except Exception as exc:  # noqa: BLE001 - a grader bug must not lose the other checks
        return CheckResult(score=0.0, status="error", details=details, **base,
                           message=f"the grader could not judge this check ({type(exc).__name__}: "
                                   f"{exc}); please tell the instructor")
    details.update(verdict.details)
    return CheckResult(score=round(check.points * verdict.fraction, 6),
                       status="passed" if verdict.passed else "failed", message=verdict.message,
                       value=verdict.value, threshold=verdict.threshold, details=details, **base)


#: the attribute a ``KeyboardInterrupt`` or ``SystemExit`` that stopped a submission's grading
#: carries out of :func:`grade`: the result so far (:func:`stopped_result`), for ``grade`` (the
#: command) to write before it exits as the stop asks (130, 143)
PARTIAL = "nlpdojo_partial_result"


class _Heard(Listener):
    """Passes every event on to ``inner`` and keeps what a stopped grading's result says: each
    verdict (``results[topic][id]``), when the grading started, its snapshot's hash."""

    def __init__(self, inner: Listener) -> None:
        self.inner = inner
        self.results: dict[str, dict[str, CheckResult]] = {}
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.t0 = time.perf_counter()
        #: the graded snapshot's, once it is taken
        self.sha256 = ""

    def started(self, topic: str, check: Check, *, reference: bool = False) -> None:
        self.inner.started(topic, check, reference=reference)

    def finished(self, topic: str, check: Check, result: CheckResult) -> None:
        self.results.setdefault(topic, {})[check.id] = result
        self.inner.finished(topic, check, result)


def grade(topics: list[str], *, submission: Path | None, options: GradeOptions,
          replay_options: dict[str, Any],
          listener: Listener | None = None) -> GradingResult:
    """Grade ``topics`` of a submission folder laid out like ``exercises/`` (``None``: the
    reference solutions). Checks whose expected values are missing are ``error`` results here;
    ``grade`` (the command) refuses such a set-up beforehand with :func:`check_expected`.

    A submission's grading stopped by Ctrl-C or SIGTERM (``KeyboardInterrupt``, ``SystemExit``)
    goes on unwinding (its workers are stopped), carrying the verdicts reached before the stop
    as its :data:`PARTIAL` attribute."""
    heard = _Heard(listener or Listener())
    try:
        return _grade(topics, submission=submission, options=options,
                      replay_options=replay_options, heard=heard)
    except (KeyboardInterrupt, SystemExit) as stop:
        if submission is not None:
            setattr(stop, PARTIAL, stopped_result(
                topics, heard, stop, options=options, replay_options=replay_options,
                submission=str(Path(submission).absolute())))
        raise


def stopped_result(topics: list[str], heard: _Heard, stop: BaseException, *,
                   options: GradeOptions, replay_options: dict[str, Any],
                   submission: str) -> GradingResult:
    """The result of a grading stopped before its end: the verdicts ``heard`` as they were,
    every other selected check an ``error`` worth 0 saying why it has none (as
    :func:`error_result` makes them)."""
    how = ("interrupted (Ctrl-C)" if isinstance(stop, KeyboardInterrupt) else
           "terminated (SIGTERM)" if getattr(stop, "code", None) == 128 + signal.SIGTERM
           else "stopped")
    result = error_result(topics, f"not graded: the grading was {how} before this check's "
                          "verdict", options=options, replay_options=replay_options,
                          submission=submission)
    missing = total = 0
    for exercise in result.exercises:
        mine = heard.results.get(exercise.name, {})
        missing += sum(1 for c in exercise.checks if c.id not in mine)
        total += len(exercise.checks)
        exercise.checks = [mine.get(c.id, c) for c in exercise.checks]
        exercise.error = None  # (the checks say it, each)
    result.warnings = [f"the grading was {how} before it ended: {missing} of {total} checks "
                       "have no verdict and score 0 here; the verdicts reached before stand"]
    result.started_at, result.submission_sha256 = heard.started_at, heard.sha256
    result.duration_s = round(time.perf_counter() - heard.t0, 3)
    return result


def _grade(topics: list[str], *, submission: Path | None, options: GradeOptions,
           replay_options: dict[str, Any], heard: _Heard) -> GradingResult:
    started_at, t0, listener = heard.started_at, heard.t0, heard
    if options.limits.time_limit_s is not None:  # (its clock starts with this grading)
        options = dataclasses.replace(options, limits=dataclasses.replace(
            options.limits, stop_at=time.monotonic() + options.limits.time_limit_s))
    results = []
    given_warnings: list[str] = []
    stubs: set[str] = set()
    stub_lines = StubLines()  # (the snapshot's files, read once)
    snap = None
    # absolute: the library next to a topic folder is found from its parent, and `.`'s
    # parent is `.` (`grade --submission .` inside exercises/<topic> ran without its library)
    submission = Path(submission).absolute() if submission is not None else None
    with tempfile.TemporaryDirectory(prefix="nlpdojo-snapshot-") as tmp:
        try:
            if submission is not None:  # a private, read-only copy (see snapshot.py)
                snap = take_snapshot(submission, Path(tmp) / "submission")
                snap = _with_sibling_library(snap, submission, topics, Path(tmp))
                heard.sha256 = snap.sha256  # (what a stopped grading's result says)
            others = frozenset(exercise_names()) - set(topics)  # (folders not to take)
            root = (unwrapped(snap.path, topics, loose=len(topics) == 1, others=others)
                    if snap is not None else None)
            if root is not None and root != snap.path and len(topics) == 1 and \
                    _alike(root.name, topics[0]):
                given_warnings.append(  # (`hw/Word_Vectors/` beside `hw/library/`)
                    f"graded {root.name}/ as {topics[0]}/, the one folder in the submission: "
                    f"folder names are case-sensitive, and with another topic named it would "
                    f"not be found; name it {topics[0]}/")
            for topic in topics:
                exercise = get_exercise(topic)
                folder = None
                if root is not None:  # (a submission's snapshot)
                    folder = topic_folder(root, topic, single=len(topics) == 1,
                                          name=submission.name, others=others)
                    if folder is None:
                        results.append(_missing_folder(
                            exercise, submission / topic, options,
                            library=submission.name == LIBRARY,
                            near=_named_alike(root, topic),
                            other=_other_topics_folder(submission, root, others)))
                        continue
                    loose = _loose_beside(root, folder, len(topics) == 1)
                    if loose:
                        given_warnings.append(
                            f"graded {topic}/; the Python files beside it ({', '.join(loose)}) "
                            f"were not: a submission holds {topic}/ or its files, not both")
                    edited = [] if has_reference(exercise, options) else edited_given(
                        exercise, folder)  # the reference's copy runs where it is installed
                    if edited:
                        given_warnings.append(edited_given_warning(topic, edited))
                presumed = (presumed_elsewhere(exercise, folder, options,
                                               graded=(r.name for r in results),
                                               stub_lines=stub_lines)
                            if folder is not None else set())
                results.append(grade_exercise(exercise, folder, options, listener,
                                              passed_questions(results), presumed,
                                              stub_lines))
                if folder is not None:
                    stubs |= stub_lines(folder, topic)
            if snap is not None:
                stubs |= stub_lines(snap.path, None) | stub_lines(Path(tmp) / LIBRARY, None)
        finally:
            if snap is not None:
                remove_snapshot(snap)
                remove_snapshot(dataclasses.replace(snap, path=Path(tmp) / "library"))
    if submission is not None:
        name_blockers(results, options, stubs)
    return GradingResult(
        submission_sha256=snap.sha256 if snap is not None else "",
        warnings=[*(snap.skipped if snap is not None else ()), *data_warning(results),
                  *waiting_warning(results), *given_warnings, *code_rules_warning(results),
                  *torch_warning(results), *time_limit_warning(results, options)],
        exercises=results, backend=options.backend, device=options.device or "cpu",
        submission=str(replay_options.get("submission") or (
            submission.resolve() if submission else "reference solutions")),
        seeds=seeds_of(options), versions=versions(options.backend),
        isolation=weakest_isolation(results),
        options=replay_options, settings=dict(options.settings), started_at=started_at,
        solutions_present=any(has_reference(get_exercise(t), options) for t in topics),
        duration_s=round(time.perf_counter() - t0, 3))


def time_limit_warning(results: list[ExerciseResult], options: GradeOptions) -> list[str]:
    """A line for the report where ``--time-limit`` ran out: how many checks it stopped or
    left out (their points are lost; the report holds every verdict reached before)."""
    cut = [c for r in results for c in r.checks
           if c.status == "timeout" and TIME_LIMIT_NOTE in c.message]
    if not cut:
        return []
    return [f"{TIME_LIMIT_NOTE} of {options.limits.time_limit_s:g} s (--time-limit) ran out: "
            f"{len(cut)} check{'' if len(cut) == 1 else 's'} stopped or not run, and scored "
            "0; the other verdicts stand"]


#: how a result says it was graded without the code rules (``dojo course record`` refuses it)
WITHOUT_CODE_RULES = "graded without the code rules"
#: the option a replayed grading records (``grade --replay``): the result it replayed, whose
#: input seed its student was given (``dojo course record`` refuses it)
REPLAYED_FROM = "replayed_from"


def code_rules_warning(results: list[ExerciseResult]) -> list[str]:
    """A line for the report where a submission was graded without the code rules
    (``NLPDOJO_CODE_RULES=off``): its verdicts are not ones to count."""
    if code_rules.enabled() or all(r.isolation in ("", "trusted") for r in results):
        return []
    return [f"{WITHOUT_CODE_RULES} ({code_rules.ENV}=off: for testing the grader's "
            "defences behind them); do not count these points (docs/security.md)"]


#: the line a released stub raises: its question's id, bare in a topic's own files
STUB_LINE = re.compile(r"NotImplementedError\(\s*[\"']([\w.]+): not implemented yet")


class StubLines:
    """:func:`stubs_left` read once per folder in one grading: a snapshot's files do not
    change while it is graded, and a topic's grading asks of its folder and of the course
    library up to three times (:func:`presumed_elsewhere`, :func:`deferred_expected`, the
    names of stubs a report gives)."""

    def __init__(self) -> None:
        self._read: dict[tuple[Path, str | None], frozenset[str]] = {}

    def __call__(self, folder: Path, topic: str | None) -> set[str]:
        key = (Path(folder), topic)
        if key not in self._read:
            self._read[key] = frozenset(stubs_left(folder, topic))
        return set(self._read[key])


def stubs_left(folder: Path, topic: str | None) -> set[str]:
    """The questions whose released stub line is still in the ``.py`` files under ``folder``
    (a snapshot's): qualified ids anywhere, and with ``topic`` the bare ids of its own files."""
    found: set[str] = set()
    if not folder.is_dir():
        return found
    for path in folder.rglob("*.py"):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for qid in STUB_LINE.findall(text):
            if "." in qid:
                found.add(qid)
            elif topic is not None:
                found.add(f"{topic}.{qid}")
    return found


def name_blockers(results: list[ExerciseResult], options: GradeOptions,
                  stubs: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Where no reference stands in for the questions a check requires (a student release),
    a failing check runs the student's own code of those questions: its message says which of
    them fail their own checks in this run (they block it), or that it depends on them; a
    check stopped by a stub names every other required question still a stub (``stubs``, from
    the submission's files), so that they are not found one grading at a time."""
    failing = {f"{r.name}.{c.question}" for r in results for c in r.checks
               if c.score < c.max_score and not c.details.get("skipped")}
    graded = {f"{r.name}.{c.question}" for r in results for c in r.checks
              if not c.details.get("skipped")}
    for result in results:
        exercise = get_exercise(result.name)
        if has_reference(exercise, options):
            continue
        for c in result.checks:
            if c.score >= c.max_score or c.details.get("skipped"):
                continue
            try:
                needs = swap_in(exercise, exercise.check(c.id))
            except Exception:  # noqa: BLE001 - an unknown dependency: release validation's job
                continue
            if c.status == "not_implemented":
                _name_missing_requirement(c, result.name,
                                          sorted(q for q in needs if q in stubs),
                                          own=f"{result.name}.{c.question}" in stubs)
                continue
            blockers = [q for q in needs if q in failing]
            unknown = [q for q in needs if q not in graded]
            if blockers:
                c.message = (f"blocked by {', '.join(blockers)}, which fails its own checks "
                             "(no reference is installed here to stand in for it): fix that "
                             f"first. {c.message}")
            elif unknown:
                c.message = (f"{c.message} (this check runs your own {', '.join(unknown)}, "
                             "which this run did not grade: if it fails its own checks, fix "
                             "that first)")
            c.details["requires"] = list(needs)


def _name_missing_requirement(check: Any, topic: str, unwritten: list[str], *,
                              own: bool = False) -> None:
    """A check stopped by the stub of a question it requires (not its own): say so, and that
    its own question was not reached (a finished cell said only "<earlier topic>.xavier: not
    implemented yet", as if the cell were the unfinished one)."""
    found = re.search(r"(?:^|\()([\w.]+): not implemented yet", check.message)
    if not found:
        return
    stub = found.group(1)
    stub = stub if "." in stub else f"{topic}.{stub}"
    # reached, so needed: through a declared requirement, or deeper (a training run's model)
    if stub != f"{topic}.{check.question}":
        check.details["waits_for"] = stub
        others = [q for q in unwritten if q != stub]
        also = (f"; it needs these too, not written yet either: {', '.join(others)}"
                if others else "")
        also += f"; your {check.question} itself is not written yet" if own else ""
        check.message = (f"{check.question} needs your {stub}, which is not implemented yet: "
                         f"write it first (this check could not run your {check.question}"
                         f"{also}). {check.message}")


def seeds_of(options: GradeOptions) -> dict[str, int]:
    seeds = {"base": options.seed}
    if options.inputs != options.seed:
        seeds["inputs"] = options.inputs
    return seeds


#: weakest first
ISOLATION_LEVELS = ("process", "sandbox", "trusted")


def weakest_isolation(exercises: list[ExerciseResult]) -> str:
    levels = [e.isolation for e in exercises if e.isolation]
    return min(levels, key=lambda lv: ISOLATION_LEVELS.index(lv)
               if lv in ISOLATION_LEVELS else -1) if levels else ""


def _with_sibling_library(snap: Any, submission: Path, topics: list[str], tmp: Path) -> Any:
    """A topic folder submitted alone (``grade <topic> --submission
    exercises/<topic>``) runs on the course library next to it, as the student's own
    ``python`` does: snapshot that ``library/`` too, next to the topic's snapshot (the result's
    hash then covers both). The topic's files submitted with ``library/`` among them (as
    Gradescope's upload may be) run on that one, moved beside them in the snapshot.

    The library next to the folder is taken only for a topic's own folder (named as the
    topic, as in a checkout of ``exercises/``): a cohort's ``subs/alice`` holding the topic's
    files took ``subs/library``, another submission folder, as alice's library (3 of 3 on a
    library question she never submitted; stubs there cost her its points), as a notebook's
    did before (docs/security.md, 13f)."""
    submission = Path(submission)
    library = submission.parent / LIBRARY
    alone = (len(topics) == 1 and submission.is_dir() and not (submission / topics[0]).is_dir()
             and submission.name != LIBRARY)
    files = unwrapped(snap.path, topics, loose=True) if alone else snap.path  # hw1/*.py too
    inside = files / LIBRARY
    # (a folder holding the topic's folder and library/ is a checkout, as it should be: a
    # folder holding exercises/ made it the topic's files, its library moved away from them)
    if alone and inside.is_dir() and not (files / topics[0]).is_dir():
        # the topic's files with library/ among them (an upload to Gradescope): the library
        # goes beside the topic's folder, where the topic's `from ..library` finds it
        opened = [d for d in (files, files.parent) if d != tmp]  # the snapshot's: read-only
        for folder in opened:
            os.chmod(folder, 0o755)
        try:
            inside.rename(files.parent / LIBRARY)
        finally:
            for folder in opened:
                os.chmod(folder, 0o555)
        return snap
    own_folder = submission.absolute().name == topics[0] if topics else False
    if alone and library.is_dir() and _alike(submission.absolute().name, topics[0]):
        return dataclasses.replace(snap, skipped=(*snap.skipped, (
            f"{submission.name}/ was graded without the library/ beside it, which is taken "
            f"only for a folder named {topics[0]}/: folder names are case-sensitive; name it "
            f"{topics[0]}/")))
    if not alone or not own_folder or not library.is_dir():
        return snap
    lib = take_snapshot(library, tmp / LIBRARY, shown_as=LIBRARY)
    combined = hashlib.sha256(f"{snap.sha256}:{lib.sha256}".encode()).hexdigest()
    return dataclasses.replace(snap, sha256=combined, files=snap.files + lib.files,
                               skipped=(*snap.skipped, *lib.skipped))


def graded_content_sha256(submission: Path, topics: list[str]) -> str:
    """The content hash ``grade`` records for the folder ``submission`` graded on ``topics``
    (:attr:`GradingResult.submission_sha256`: its snapshot, with the library beside a topic's
    own folder): ``dojo course record`` holds a result to the folder it names."""
    with tempfile.TemporaryDirectory(prefix="nlpdojo-snapshot-") as tmp:
        snap = take_snapshot(Path(submission), Path(tmp) / "submission")
        return _with_sibling_library(snap, Path(submission).absolute(), topics,
                                     Path(tmp)).sha256


def topic_folder(submission: Path, topic: str, *, single: bool,
                 name: str = "", others: Collection[str] = ()) -> Path | None:
    """Where ``topic``'s modules are in a submission: ``<submission>/<topic>/``, or, when only
    one topic is graded, the submission folder itself if it holds Python files (a student who
    uploaded the files of the topic, as on Gradescope), unless the folder submitted (``name``:
    its own name, the snapshot's is not) is the course library's or another topic's
    (``others``: a question graded inside another topic's folder said "<module>.py is missing
    from the submission")."""
    if (submission / topic).is_dir():
        return submission / topic
    if single and name != LIBRARY and name not in others and any(submission.glob("*.py")):
        return submission
    return None


def _other_topics_folder(submission: Path, root: Path, others: Collection[str]) -> str | None:
    """The other topic whose folder was submitted for this one (the folder itself, or the one
    folder inside it), or None."""
    if submission.name in others:
        return submission.name
    inner = [p.name for p in inner_folders(root)] if root.is_dir() else []
    return inner[0] if len(inner) == 1 and inner[0] in others else None


def _alike(name: str, topic: str) -> bool:
    """``name`` is ``topic`` but for case (``Word_Vectors``)."""
    return name != topic and name.lower() == topic.lower()


def _named_alike(root: Path, topic: str) -> tuple[str, ...]:
    """Folders of ``root`` named as ``topic`` but for case (``Word_Vectors/``)."""
    try:
        return tuple(sorted(p.name for p in root.iterdir()
                            if p.is_dir() and _alike(p.name, topic)))
    except OSError:
        return ()


def _loose_beside(root: Path, folder: Path, single: bool) -> list[str]:
    """The Python files at the top of ``root`` named as modules of the topic ``folder`` graded
    instead (a stub folder uploaded beside the right files: graded 0, with no word of them)."""
    if not single or folder == root:
        return []  # (a checkout's own __init__.py beside its topic folders is no such file)
    return sorted(p.name for p in root.glob("*.py")
                  if not p.name.startswith("__") and (folder / p.name).is_file())


def _missing_folder(exercise: Exercise, folder: Path, options: GradeOptions, *,
                    library: bool = False, near: tuple[str, ...] = (),
                    other: str | None = None) -> ExerciseResult:
    """Every check an error worth 0: the submission has no folder of the topic (``library``:
    the folder given is the course library's, which a student may take for the topic's;
    ``near``: folders named as the topic but for case; ``other``: another topic's folder is
    what the submission holds)."""
    reference = has_reference(exercise, options)
    message = (f"no folder {folder}: the submission must contain {exercise.name}/ laid out "
               f"like exercises/{exercise.name}/")
    if near:
        message += (f" ({', '.join(n + '/' for n in near)} is there: folder names are "
                    f"case-sensitive; name it {exercise.name}/)")
    if other is not None:
        message += (f" ({other}/ is the folder of another topic, {other}: give the folder "
                    f"that holds {exercise.name}/, or {exercise.name}/ itself)")
    if library:
        message = (f"{folder.parent} is the course library's folder, not {exercise.name}'s: "
                   f"give the folder that holds both library/ and {exercise.name}/ (grade "
                   f"{exercise.name} --submission {folder.parent.parent}), or "
                   f"{exercise.name}/ itself")
    checks = [CheckResult(id=c.id, question=c.question, kind=c.kind, score=0.0,
                          max_score=c.points, status="error", title=c.title, hidden=c.hidden,
                          message=message)
              for c in select_checks(exercise, options, reference)]
    return ExerciseResult(name=exercise.name, title=exercise.title, checks=checks,
                          error=f"missing folder {folder}")


def error_result(topics: list[str], message: str, *, options: GradeOptions,
                 replay_options: dict[str, Any], submission: str,
                 refused: bool = False) -> GradingResult:
    """The result of a submission that could not be graded at all (an unreadable notebook, a
    grader failure): every selected check of ``topics`` is an ``error`` worth 0 with
    ``message``, so reports still show what was at stake and why nothing was earned. Without
    topics, one exercise named ``submission`` carries the message. ``refused``: the
    submission itself was refused (each check's ``details`` say so, :data:`REFUSED`), which a
    cohort counts as a grading of 0 points, not as a failure of its grader."""
    exercises = []
    for topic in topics:
        exercise = get_exercise(topic)
        checks = [CheckResult(id=c.id, question=c.question, kind=c.kind, score=0.0,
                              max_score=c.points, status="error", title=c.title,
                              hidden=c.hidden, message=message,
                              details={REFUSED: True} if refused else {})
                  for c in select_checks(exercise, options, has_reference(exercise, options))]
        exercises.append(ExerciseResult(name=exercise.name, title=exercise.title,
                                        checks=checks, error=message))
    if not exercises:
        exercises.append(ExerciseResult(name="submission", title="", checks=[], error=message))
    return GradingResult(
        exercises=exercises, backend=options.backend, device=options.device or "cpu",
        submission=submission, seeds=seeds_of(options), versions=versions(options.backend),
        options=replay_options, settings=dict(options.settings),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        solutions_present=any(has_reference(get_exercise(t), options) for t in topics))
