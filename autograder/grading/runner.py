"""Running an exercise's checks: the grader drives, the code under test only answers calls.

Each check's ``collect`` runs here, in the grader's process, on inputs it chooses. The
student's functions run in a sandboxed worker (:mod:`nlpdojo_autograder.runtime.remote`,
:mod:`nlpdojo_autograder.runtime.sandbox`) that returns their outputs; the reference solutions
run in this process. Time limits are the grader's own clock; when a check hangs, floods its output,
exceeds its memory or kills its worker, that check alone gets zero with a message saying
which, and the next check starts a fresh worker. Nothing the worker writes is read beyond the
validated replies to the grader's requests (and, for a check that asks, a capped file from
its scratch folder).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib.util
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.dataset import DataMissingError
from nlpdojo.errors import failure_site
from nlpdojo.plugins import get_registry
from nlpdojo.selection import make_backend
from nlpdojo_autograder.authoring.at_scale import PROBLEM_KEY as AT_SCALE_PROBLEM
from nlpdojo_autograder.authoring.at_scale import earns_nothing
from nlpdojo_autograder.authoring.checks import (
    Check,
    CheckFailure,
    DeclarationError,
    Exercise,
    NotAsReturned,
    split_payload,
)
from nlpdojo_autograder.authoring.compare import compare_payloads
from nlpdojo_autograder.authoring.context import STRICT_BACKEND, BackendRef, Context
from nlpdojo_autograder.authoring.questions import narrowed
from nlpdojo_autograder.authoring.questions import swap_in as swap_in_of
from nlpdojo_autograder.authoring.reference_runs import ReferenceRuns
from nlpdojo_autograder.grading.gradecache import grader_fingerprint, reference_tree_fingerprint
from nlpdojo_autograder.grading.results import printed_output
from nlpdojo_autograder.grading.withholding import (
    HarnessReference,
    still_withheld,
    withholding,
)
from nlpdojo_autograder.runtime import sandbox
from nlpdojo_autograder.runtime.calls import LEFT_NAMESPACE, StudentError
from nlpdojo_autograder.runtime.loader import (
    REFERENCE_PACKAGE,
    load_reference_dir,
    reference_available,
)
from nlpdojo_autograder.runtime.remote import (
    LocalSubject,
    RemoteSubject,
    WorkerGone,
    WorkerSettings,
)
from nlpdojo_autograder.runtime.subject import DIFFERENTIATION_ENGINES, ReferenceCode
from nlpdojo_numpy.strict import TORCH_REFUSES


@dataclass
class Limits:
    """Per-check wall clock (scaled), memory above the worker's own, output bytes."""

    timeout_scale: float = 1.0
    memory_mb: int = 4096
    #: how ``memory_mb`` is enforced: "address-space" (RLIMIT_AS: a clean MemoryError in the
    #: student's code), "resident" (the grader watches the worker's resident memory and stops
    #: it), or "auto": resident on CUDA, whose driver reserves tens of GB of address space that
    #: an address-space cap would refuse, else address-space
    memory_mode: str = "auto"
    output_bytes: int = 1_000_000
    startup_s: float = 60.0
    #: isolation level: "auto" (the OS sandbox where it works), "sandbox" (required),
    #: "process" (no OS sandbox, for debugging)
    isolation: str = "auto"
    #: ``grade --time-limit``: wall-clock seconds for the grading of one submission (None:
    #: only the checks' own limits), and the ``time.monotonic()`` at which it runs out, set
    #: when that grading starts (:func:`~nlpdojo_autograder.grading.grade.grade`). A
    #: submission's check running then is stopped and the later ones are not run (status
    #: ``timeout``, :data:`TIME_LIMIT_NOTE` in their message): a CI job's own limit, set above
    #: it, then never kills a grading before its report is written
    time_limit_s: float | None = None
    stop_at: float | None = None


#: the words every check stopped or left out by ``--time-limit`` has in its message
TIME_LIMIT_NOTE = "the grading's time limit"


def _time_limit_text(limits: Limits) -> str:
    return f"{TIME_LIMIT_NOTE} (--time-limit {limits.time_limit_s:g} s)"


@dataclass
class Outcome:
    """What one check's ``collect`` produced, before any judgement."""

    status: str  # ok | not_implemented | failed | error | timeout
    message: str = ""
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    output: str = ""
    traceback: str = ""
    #: where ``output`` was cut: the lines and bytes printed in all (see ``printed_output``)
    printed: dict[str, int] = field(default_factory=dict)
    #: calls the student's code made into swapped-in reference code (0 where none, or where
    #: the subject is the reference itself): ``dojo verify`` holds the check's limit to them
    call_backs: int = 0
    #: the known mistake a failed check named (:class:`~.checks.CheckFailure`'s ``mistake``)
    mistake: str | None = None
    #: the check ran again on the strict backend's arrays and gave the same values
    #: (:func:`_strict_pass`)
    strict_pass: bool = False
    #: required questions the check ran as the student's own code, not the reference's: they
    #: passed every check of theirs earlier in the grading (``run_checks``'s ``passed``)
    own_required: tuple[str, ...] = ()
    #: withheld functions (``module.function``) the student's code called in the check: its
    #: own, as the reference of the question under test does not reach them
    own_withheld: tuple[str, ...] = ()

    @property
    def payload(self) -> dict[str, Any]:
        return {**self.scalars, **self.arrays}


def read_outcome(json_path: Path) -> Outcome:
    """Load an outcome stored as a fixture; arrays without pickle."""
    data = json.loads(json_path.read_text())
    arrays: dict[str, np.ndarray] = {}
    npz = json_path.with_suffix(".npz")
    if npz.exists():
        with np.load(npz, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    status = data.get("status", "error")
    return Outcome(status=status, message=data.get("message", ""), arrays=arrays,
                   scalars=data.get("scalars", {}), duration_s=float(data.get("duration_s", 0)),
                   traceback=data.get("traceback", ""))


def write_outcome(outcome: Outcome, json_path: Path) -> None:
    """The stored form of ``outcome`` (see :mod:`nlpdojo_autograder.release.fixtures`)."""
    if outcome.arrays:
        with open(json_path.with_suffix(".npz"), "wb") as f:
            np.savez(f, **outcome.arrays)
    json_path.write_text(json.dumps({"status": outcome.status, "message": outcome.message,
                                     "scalars": outcome.scalars}, default=str))


@dataclass
class RunInfo:
    """How a run was isolated (recorded in results)."""

    isolation: str = "trusted"


def run_checks(
    exercise: Exercise,
    checks: list[Check],
    *,
    topic_folder: Path | None,
    backend: str,
    device: str | None,
    seed: int,
    full: bool = False,
    limits: Limits | None = None,
    question_functions: dict[str, list[tuple[str, str | None]]] | None = None,
    on_done: Callable[[Check], None] | None = None,
    trusted_folder: Path | None = None,
    info: RunInfo | None = None,
    input_seed: int | None = None,
    touched: dict[str, set[str]] | None = None,
    on_start: Callable[[Check], None] | None = None,
    on_outcome: Callable[[Check, Outcome], bool | None] | None = None,
    expected_only: bool = False,
    skip: Callable[[Check], bool] | None = None,
    executed: dict[str, frozenset[tuple[str, str]] | None] | None = None,
    known: dict[str, Any] | None = None,
    use_reference: bool = True,
    passed: Collection[str] | None = None,
) -> dict[str, Outcome]:
    """Run ``checks`` against a student's folder, or (``topic_folder`` None) the reference:
    the installed one, or the solutions in ``trusted_folder`` (``dojo release``).
    ``use_reference=False`` grades a student's folder as a student release does, where no
    reference is installed (``grade --as-student``): nothing swapped in, nothing measured
    against the reference's run (the run at scale), even where it is installed here.
    ``expected_only``: the reference runs for a submission's expected values
    (:attr:`Context.expected_only`).

    ``on_start(check)`` is called as each check starts, ``on_outcome(check, outcome)`` and
    ``on_done(check)`` as its outcome is known (live progress); where the outcome ran the
    student's own code of questions the check requires (``passed``) and ``on_outcome``
    returns true, the check runs again at once with the reference standing in for all of
    them, and ``on_outcome`` hears that outcome, which stands; ``info``
    receives the isolation level used. ``input_seed`` (default ``seed``) seeds the inputs of
    checks that draw fresh inputs (value and gradient checks), ``seed`` the training runs.
    ``touched``, when given, receives per check id the modules of the code under test the
    check reached (see :class:`TrackedCache`). ``skip(check)``, asked as each check's turn
    comes: true leaves it out (no outcome). ``executed``, when given (``dojo verify``, on
    the solutions only), receives per check id the units of the submission's code it ran,
    and those of the checks whose results in the run's shared cache it read (None where not
    known: :mod:`nlpdojo_autograder.runtime.executed`). ``known``: per check id, the
    reference's outcome at this draw where the caller has it (a submission's expected ones),
    from which an oracle the check computes on equal inputs is taken
    (:meth:`Context.oracle`). ``passed``, when given, holds the full ids of the questions
    the student's code passed every check of so far in this grading (the caller adds to it as
    verdicts come): a check runs the student's own code of those it requires rather than
    swapping the reference in (:func:`~nlpdojo_autograder.authoring.questions.narrowed`;
    the outcome's ``own_required`` names them). Returns an :class:`Outcome` per check id run.
    """
    limits = limits or Limits()
    qf = question_functions or {}
    reference = (_reference(exercise, trusted_folder)
                 if use_reference or topic_folder is None else None)
    # what each check swaps in: its question's requirements, transitively (full ids), less
    # the functions of them its question's reference never reaches (withheld)
    withheld_of = withholding(exercise, reference if topic_folder is not None else None, qf)
    checks = [dataclasses.replace(c, swap_in=s, withheld=withheld_of(c, s))
              for c, s in ((c, swap_in_of(exercise, c)) for c in checks)]
    if topic_folder is None:
        subject: Any = LocalSubject(reference or ReferenceCode(exercise.reference_package),
                                    _backends(backend, device))
    else:
        settings = _settings(exercise, topic_folder, backend, device, limits, qf, reference,
                             checks, executed=executed is not None)
        subject = RemoteSubject(settings, reference)
    if info is not None:
        info.isolation = subject.isolation
    scorer = TrustedScorer(reference) if topic_folder is not None and reference else None
    harness = (HarnessReference(reference, backend, device)
               if topic_folder is not None and reference else None)
    trusted = (lambda: subject) if topic_folder is None else (scorer.get if scorer else None)
    kept_runs = None if scorer is None else ReferenceRuns(functools.partial(
        _draw_scope, exercise, reference, backend, seed,
        seed if input_seed is None else input_seed, full))
    outcomes: dict[str, Outcome] = {}
    cache = TrackedCache()
    timed_out_shares: dict[str, tuple[Check, str]] = {}
    workroot = Path(tempfile.mkdtemp(prefix="nlpdojo-checks-"))
    cut_while = ""  # where --time-limit ran out before the first check, if it is known
    try:
        if isinstance(subject, RemoteSubject) and checks:
            try:  # before the first check's clock starts (and by --time-limit's end)
                subject.load(min(c.timeout_s for c in checks) * limits.timeout_scale,
                             call_backs={q for c in checks for q in c.swap_in},
                             until=limits.stop_at)
            except WorkerGone:
                pass  # the first check starts it again and reports why it cannot
            hanging = sorted(subject.settings.hanging_modules)
            if hanging and limits.stop_at is not None:
                cut_while = (f" (importing {', '.join(hanging)} took the time: a loop at the top "
                             "level of a module?)")
        rerun_cache: TrackedCache | None = None  # (one, shared by the checks run again)

        def attempt(check: Check, index: int, ran: Check, cache: TrackedCache) -> Outcome:
            """``check`` run as ``ran`` (what it swaps in), its outcome recorded."""
            reached = cache.begin(check.id)
            recording = executed is not None and isinstance(subject, RemoteSubject)
            if recording:
                subject.executed = set()
            outcome = _run_one(
                ran, index, subject, limits, cache, workroot, seed=seed, full=full,
                input_seed=seed if input_seed is None else input_seed,
                backend=BackendRef(backend, device, check.dtype), touched=reached,
                expected_only=expected_only, trusted=trusted,
                known=_payload_of((known or {}).get(check.id)), reference_runs=kept_runs,
                harness=harness)
            outcome.own_required = tuple(q for q in check.swap_in if q not in ran.swap_in)
            if touched is not None:
                touched[check.id] = reached
            if recording:
                executed[check.id] = _with_read(subject.executed, cache.read_from, executed)
            return outcome

        for index, check in enumerate(checks):
            if skip is not None and skip(check):
                continue
            if on_start is not None:
                on_start(check)
            if (limits.stop_at is not None and isinstance(subject, RemoteSubject)
                    and time.monotonic() >= limits.stop_at):
                outcomes[check.id] = Outcome(
                    status="timeout", message=f"not run: {_time_limit_text(limits)} ran out "
                    f"before this check{cut_while}")
            elif check.shares and check.shares in timed_out_shares:
                first, where = timed_out_shares[check.shares]
                limit = first.timeout_s * limits.timeout_scale
                outcomes[check.id] = Outcome(
                    status="timeout", message=f"not run: it measures the same {check.shares} as "
                    f"{first.id}, which took longer than {limit:g} s and was stopped{where}")
            else:
                ran = check
                if passed and check.swap_in and isinstance(subject, RemoteSubject):
                    kept = narrowed(exercise, check.swap_in, passed)
                    ran = dataclasses.replace(check, swap_in=kept, withheld=still_withheld(
                        check.withheld, kept, qf))
                outcomes[check.id] = attempt(check, index, ran, cache)
                if (on_outcome is not None and outcomes[check.id].own_required
                        and on_outcome(check, outcomes[check.id])):
                    # the caller's judge wants it again, the reference standing in for every
                    # question it requires (it lost points on the student's own code of some):
                    # at once, so that its verdict comes in the topic's order (``skip``
                    # settles its question, ``--time-limit`` cuts the checks after it), in a
                    # cache of the checks run again (nothing the first run computed is read)
                    if rerun_cache is None:
                        rerun_cache = TrackedCache()
                    if on_start is not None:
                        on_start(check)
                    if limits.stop_at is not None and time.monotonic() >= limits.stop_at:
                        outcomes[check.id] = Outcome(
                            status="timeout", message=f"not run again: "
                            f"{_time_limit_text(limits)} ran out before it could be")
                    else:
                        outcomes[check.id] = attempt(check, len(checks) + index, check,
                                                     rerun_cache)
                if (outcomes[check.id].status == "timeout" and check.shares
                        and isinstance(subject, RemoteSubject)):
                    timed_out_shares[check.shares] = (check, _where_of(outcomes[check.id]))
                if on_outcome is not None and outcomes[check.id].own_required:
                    if on_done is not None:
                        on_done(check)
                    continue  # (heard of above)
            if on_outcome is not None:
                on_outcome(check, outcomes[check.id])
            if on_done is not None:
                on_done(check)
    finally:
        subject.close()
        if scorer is not None:
            scorer.close()
        if harness is not None:
            harness.close()
        shutil.rmtree(workroot, ignore_errors=True)
    return outcomes


def _draw_scope(exercise: Exercise, reference: ReferenceCode, backend: str, seed: int,
                input_seed: int, full: bool) -> str:
    """What the reference's runs at scale of a grading depend on besides the run itself
    (:class:`~nlpdojo_autograder.authoring.reference_runs.ReferenceRuns`): the topic, the
    seeds, the budget, the grader's source and the reference's."""
    topic = (Path(reference.code_dir) if reference.code_dir
             else load_reference_dir(exercise.reference_package))  # (a namespace package)
    return json.dumps([exercise.name, seed, input_seed, full, grader_fingerprint(backend),
                       reference_tree_fingerprint(topic)])


class TrustedScorer:
    """The reference solutions in the grader's process, on NumPy in float64, for the metric
    checks' scoring of a student's trained parameters (:mod:`nlpdojo_autograder.training.trained`):
    trusted code on arrays the check validated. Made on first use, once per run."""

    def __init__(self, reference: ReferenceCode) -> None:
        self.reference = reference
        self.subject: LocalSubject | None = None

    def get(self) -> LocalSubject:
        if self.subject is None:
            self.subject = LocalSubject(self.reference, _backends("numpy", "cpu"))
            self.subject.begin(dtype="float64", swap_in=(), workdir="scoring")
        return self.subject

    def close(self) -> None:
        if self.subject is not None:  # the reference's modules stay: the run goes on
            shutil.rmtree(self.subject.scratch, ignore_errors=True)


class TrackedCache(dict):
    """The run's shared ``ctx.cache`` (a training run measured by several checks), which
    remembers which modules the check that filled an entry reached, and which check that was:
    a later check reading the entry depends on them too, although it made no call itself
    (``read_from``: the checks whose entries the current check read)."""

    def __init__(self) -> None:
        super().__init__()
        self._by_key: dict[Any, tuple[set[str], str]] = {}
        self._current: set[str] = set()
        self._check = ""
        self.read_from: set[str] = set()

    def begin(self, check_id: str = "") -> set[str]:
        """A fresh set of reached modules for the next check."""
        self._current = set()
        self._check = check_id
        self.read_from = set()
        return self._current

    def _read(self, key: object) -> None:
        if key in self._by_key:
            modules, check_id = self._by_key[key]
            self._current.update(modules)
            if check_id != self._check:
                self.read_from.add(check_id)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._by_key[key] = (self._current, self._check)
        super().__setitem__(key, value)

    def __getitem__(self, key: Any) -> Any:
        self._read(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._read(key)
        return super().__contains__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._read(key)
        return super().get(key, default)


def _with_read(ran: set[tuple[str, str]] | None, read_from: set[str],
               executed: dict[str, frozenset[tuple[str, str]] | None]
               ) -> frozenset[tuple[str, str]] | None:
    """The units a check depends on: those it ran, and those of the checks whose results
    it read from the shared cache (None if any of them is not known)."""
    if ran is None:
        return None
    found = set(ran)
    for check_id in read_from:
        theirs = executed.get(check_id)
        if theirs is None:
            return None
        found |= theirs
    return frozenset(found)


def _payload_of(outcome: Any) -> dict[str, Any]:
    """The payload of a completed outcome (an expected one may be a string saying why there is
    none, or an outcome the reference did not complete: nothing is known then)."""
    return outcome.payload if isinstance(outcome, Outcome) and outcome.status == "ok" else {}


def _where_of(outcome: Outcome) -> str:
    marker = " and was stopped"
    message = outcome.message
    if marker in message:
        rest = message.split(marker, 1)[1]
        return rest.split(";", 1)[0]
    return ""


def _run_one(check: Check, index: int, subject: Any, limits: Limits, cache: dict,
             workroot: Path, *, seed: int, full: bool, input_seed: int,
             backend: BackendRef, touched: set[str] | None = None,
             expected_only: bool = False, trusted: Callable[[], Any] | None = None,
             known: dict[str, Any] | None = None,
             reference_runs: ReferenceRuns | None = None,
             harness: HarnessReference | None = None) -> Outcome:
    """One check, run again once when its worker was stopped importing a module that hangs
    (the next worker fails that import at once: a top-level loop costs one time limit)."""
    for _attempt in range(2):
        limit = check.timeout_s * limits.timeout_scale
        # the grading's own limit, where it is the nearer: the check stops when it runs out
        left = (limits.stop_at - time.monotonic()
                if limits.stop_at is not None and isinstance(subject, RemoteSubject) else None)
        by_time_limit = left is not None and left < limit
        if by_time_limit:
            limit = max(left, 0.1)
        started = time.perf_counter()
        deadline = time.monotonic() + limit if isinstance(subject, RemoteSubject) else None
        workdir = workroot / f"work{index}"
        workdir.mkdir(exist_ok=True)
        check_seed = check.seed(input_seed if check.fresh_inputs else seed)
        ctx = Context(subject=subject, backend=backend, seed=check_seed, workdir=workdir,
                      full=full, base_seed=seed, deadline=deadline, cache=cache,
                      touched=touched, expected_only=expected_only, input_seed=input_seed,
                      trusted=trusted, module=check.module, known=known,
                      reference_runs=reference_runs, withheld=check.withheld,
                      harness=_harness_for(harness, check.dtype))
        output, printed = "", {}
        # a strict pass may follow the first (where this check's first pass earns something)
        strict_may_follow = (check.kind in STRICT_KINDS and isinstance(subject, RemoteSubject)
                             and STRICT in subject.settings.extra_backends)
        try:
            if isinstance(subject, RemoteSubject):
                subject.begin(dtype=check.dtype, swap_in=check.swap_in, workdir=f"work{index}",
                              deadline=deadline, index=index, replayed=strict_may_follow,
                              withheld=check.withheld)
            else:
                subject.begin(dtype=check.dtype, swap_in=check.swap_in, workdir=f"work{index}")
            payload = check.collect(ctx)
            arrays, scalars = split_payload(payload)
            outcome = Outcome(status="ok", arrays=arrays, scalars=scalars)
            if (strict_may_follow
                    and not earns_nothing(check.judge, {  # (its run at scale apart)
                        k: v for k, v in outcome.payload.items() if k != AT_SCALE_PROBLEM},
                        ctx.known)):
                subject.end()
                outcome = _strict_pass(check, index, subject, ctx, outcome, deadline)
        except WorkerGone as gone:
            if (gone.reason == "timeout" and gone.importing and _attempt == 0
                    and not by_time_limit and isinstance(subject, RemoteSubject)):
                subject.settings.hanging_modules[gone.importing] = limit
                continue
            outcome = (Outcome(status="timeout", duration_s=limit, message=(
                f"stopped after {limit:.3g} s{gone.where}: {_time_limit_text(limits)} ran "
                "out during this check")) if gone.reason == "timeout" and by_time_limit
                else _gone_outcome(gone, limit, limits))
        except StudentError as exc:
            outcome = _student_outcome(exc)
        except CheckFailure as exc:
            outcome = Outcome(status="failed", message=str(exc), mistake=exc.mistake)
        except NotImplementedError as exc:  # check code of a pack that is not written yet
            outcome = Outcome(status="error", message=f"the check is not implemented: {exc}")
        except DeclarationError as exc:  # the check's author's, in any grading
            outcome = Outcome(status="error", message=f"the check is declared wrongly: {exc} "
                              "(a bug of the check, not of the code graded)")
        except DataMissingError as exc:  # a data set its question does not declare: said as
            # a declared one is (before grading), not as a bug of the check's
            outcome = Outcome(status="error", message=f"{exc} (its question does not declare "
                              "it: Question(datasets=...) says so before grading)")
        except Exception as exc:  # noqa: BLE001 - what the returned values made the check do
            outcome = Outcome(status="error", message=_unusable(exc) if isinstance(
                subject, RemoteSubject) else _check_broke(exc))
        finally:
            if isinstance(subject, RemoteSubject):
                subject.end()
                output, printed = printed_output(subject.tail(index), *subject.printed(index))
        outcome.duration_s = time.perf_counter() - started
        outcome.output, outcome.printed = output, printed
        if isinstance(subject, RemoteSubject):  # counted once end() has answered the last
            outcome.call_backs = subject.call_backs[index]
            withheld = set(check.withheld)
            outcome.own_withheld = tuple(sorted(
                f"{module}.{name}" for module, name in subject.withheld_called.pop(index, ())
                if (module, name) in withheld))
        return outcome
    raise AssertionError("unreachable")


STRICT = STRICT_BACKEND
#: the kinds of check run again on the strict backend's arrays, which live on a second device
#: (:func:`_strict_pass`): what a property check judges is returned as a value check's is, so a
#: value on the wrong device (norms put back on the default one) fails there too, not only on a
#: GPU (issue 62 item 4)
STRICT_KINDS = frozenset({"value", "property", "gradient"})
#: what a gradient check's strict pass gathers and compares: the loss at the check's point and
#: the analytic gradients (its central differences are the first pass's alone: they judge the
#: student's own loss, which the strict pass's equal values show is the same function)
_STRICT_GRADIENT_KEYS = ("|analytic", "|loss")
_STRICT_HINT = ("use the array namespace of your inputs (`self.xp` in a layer, "
                "`xp = array_namespace(x)` in a function), and only "
                "its functions (xp.exp(x), xp.max(x, axis=-1, keepdims=True), xp.sum(x)), not "
                "NumPy's (np.exp) or array methods outside the standard (x.sum(), x.max())")


def _strict_pass(check: Check, index: int, subject: RemoteSubject, ctx: Context,
                 first: Outcome, deadline: float | None) -> Outcome:
    """:func:`_strict_run`'s outcome; where it fails and the first pass also found the code
    failing at scale, the message says both (neither hides the other)."""
    outcome = _strict_run(check, index, subject, ctx, first, deadline)
    problem = first.payload.get(AT_SCALE_PROBLEM)
    if outcome is not first and problem:
        outcome.message = f"{outcome.message} {problem}"
    return outcome


def _strict_run(check: Check, index: int, subject: RemoteSubject, ctx: Context,
                first: Outcome, deadline: float | None) -> Outcome:
    """A value (or property: :data:`STRICT_KINDS`) check passed on NumPy arrays: run it again
    on ``array_api_strict`` arrays (the same inputs). Code that stays in the array namespace
    gives the same values; code that calls NumPy on its inputs fails here, on every backend,
    with a hint to use ``xp``. A gradient check runs once more only as far as the loss at its
    point and the analytic gradients (:data:`_STRICT_GRADIENT_KEYS`), so that a gradient made
    on the default device or returned as Python numbers loses the gradient check too. It
    shares the run's cache: an integrity rule the first pass counted keeps its verdict
    (:meth:`Context.rule`), not counted again on the strict arrays."""
    gradient = check.kind == "gradient"
    strict = Context(subject=subject, backend=BackendRef(STRICT, "cpu", "float64"),
                     seed=ctx.seed, workdir=ctx.workdir, full=ctx.full,
                     base_seed=ctx.base_seed, deadline=deadline, cache=ctx.cache,
                     expected_only=gradient, module=ctx.code_module, known=ctx.known,
                     withheld=ctx.withheld, harness=ctx.harness)
    subject.begin(dtype="float64", swap_in=check.swap_in, workdir=f"work{index}",
                  deadline=deadline, index=index, backend=STRICT, withheld=check.withheld)
    try:
        payload = check.collect(strict)
        arrays, scalars = split_payload(payload)
    except StudentError as exc:
        if exc.type == "IndexError" and TORCH_REFUSES in exc.message:
            return Outcome(status="failed", traceback=exc.traceback, message=(
                "works on NumPy arrays but would fail on the torch backend, where the same "
                f"code must run (on the CPU and on GPUs): {exc.message}"))
        if _handed_to_numpy(exc):
            return Outcome(status="failed", traceback=exc.traceback, message=(
                "works on NumPy arrays but not on arrays of the strict array API namespace, "
                "which live on another device than the default one, as every array does on a "
                f"GPU: NumPy was handed one of your inputs ({exc.message}). Hint: "
                f"{_STRICT_HINT}; {_DEVICE_HINT}"))
        if _mixed_devices(exc):
            return Outcome(status="failed", traceback=exc.traceback, message=(
                "works on NumPy arrays but not on arrays that live on another device than the "
                f"default one, as every array does on a GPU: {exc.message}. Hint: "
                f"{_DEVICE_HINT}"))
        if not _left_namespace(exc):
            return first  # the standard's own pedantries (partial indexing...) are not graded
        return Outcome(status="failed", traceback=exc.traceback, message=(
            "works on NumPy arrays but not on arrays of the strict array API namespace, "
            f"which every backend (torch, GPUs) relies on: {exc.message}. Hint: {_STRICT_HINT}"))
    except NotAsReturned as exc:  # on the second device: what the check says is all
        return Outcome(status="failed", message=(
            "works on NumPy arrays but not on arrays that live on another device than the "
            f"default one, as every array does on a GPU: {exc}"))
    except CheckFailure as exc:
        return Outcome(status="failed", message=f"on arrays of the strict array API namespace: "
                                                f"{exc}. Hint: {_STRICT_HINT}")
    # (what went wrong at scale is the first pass's alone: the strict pass has no reference)
    own = {k: v for k, v in first.payload.items() if k != AT_SCALE_PROBLEM}
    again = {**scalars, **arrays}
    if gradient:
        again = {k: v for k, v in again.items() if k.endswith(_STRICT_GRADIENT_KEYS)}
        own = {k: v for k, v in own.items() if k in again}
    verdict = compare_payloads(again, own, rtol=1e-9, atol=1e-12)
    if not verdict.passed:
        return Outcome(status="failed", message=(
            "gives other values on arrays of the strict array API namespace than on NumPy "
            f"arrays ({verdict.message}). Hint: {_STRICT_HINT}"))
    first.strict_pass = True
    return first


_DEVICE_HINT = ("create new arrays on the device of your inputs: in a layer "
                "`xp.zeros(n, device=self.backend.device)`, in a function "
                "`xp.zeros(n, device=device(x))` (`from array_api_compat import device`); and "
                "do not turn your inputs into NumPy arrays (`np.asarray(x)`).")


def _mixed_devices(exc: StudentError) -> bool:
    """Whether an error of the strict pass says the code mixed devices: the strict backend's
    arrays live on a second device (``nlpdojo_numpy.strict``), so an array created without
    ``device=`` fails here as it would beside CUDA inputs on a GPU."""
    text = exc.message
    # array_api_strict says it in several ways: "Arrays from two different devices ... can not
    # be combined", "concat inputs must all be on the same device", "Inputs to `where` must
    # all use the same device" (that one passed: a backward's zeros without device=), and
    # "mismatched devices" on a setitem
    return exc.type == "ValueError" and any(phrase in text for phrase in (
        "can not be combined", "same device", "mismatched devices"))


def _handed_to_numpy(exc: StudentError) -> bool:
    """Whether an error of the strict pass says an input was handed to NumPy (``np.asarray(x)``,
    ``np.matmul(x, w)``): NumPy cannot convert an array of the second device, as it cannot a
    CUDA tensor. Both hints apply: stay in ``xp``, and on the inputs' device."""
    return exc.type == "RuntimeError" and "Can't convert array on the" in exc.message


def _left_namespace(exc: StudentError) -> bool:
    """Whether an error of the strict pass says the code left the array namespace: it gave
    back NumPy arrays, called an array method the standard lacks (``x.sum()``), or mixed NumPy
    arrays into array-API functions."""
    text = exc.message
    return (LEFT_NAMESPACE in text
            or (exc.type == "AttributeError" and "'Array' object has no attribute" in text)
            or (exc.type == "TypeError" and ("ndarray" in text or "Array objects" in text)))


def _exception_text(exc: Exception) -> str:
    """``Type: message``, the message cut at 1,000 characters."""
    text = str(exc)
    return f"{type(exc).__name__}: {text if len(text) <= 1000 else text[:1000] + ' …'}"


def _unusable(exc: Exception) -> str:
    return f"the values your code returned could not be used by the check ({_exception_text(exc)})"


def _check_broke(exc: Exception) -> str:
    """The reference's run (trusted, in this process) broke the check's own code: a bug of
    the check's author, said so, and where (not the student's returned values)."""
    return (f"the check's own code failed on the reference's run ({_exception_text(exc)})"
            f"{failure_site(exc)}: a bug in the check's declaration or its collect")


def _student_outcome(exc: StudentError) -> Outcome:
    if exc.kind == "not_implemented":
        return Outcome(status="not_implemented", message=exc.message)
    if exc.kind == "missing":
        return Outcome(status="failed", message=exc.message)
    if exc.kind == "memory":
        return Outcome(status="error", message=exc.message)
    message = exc.message
    if exc.type == "AttributeError" and _A_LIST_AS_ARRAY.search(message):
        message += (" (a Python list or tuple where an array was expected: a function of yours "
                    "returns or builds one, perhaps another than this line's; return an array, "
                    "np.asarray(...) or the array operation's result)")
    elif exc.type == "IndexError" and _PAST_THE_END.search(message):
        message += (" (an index past the end of that axis: a length worked out otherwise than "
                    "the array holds, such as an output length, a padding not added, or a "
                    "window's end; print the shapes at that line)")
    return Outcome(status="error", message=message, traceback=exc.traceback)


#: an array's attribute asked of a list or tuple: a student trial's ``ngram_windows`` returned
#: a list, and the message pointed at ``ngram_keys``, which read ``windows.shape``
_A_LIST_AS_ARRAY = re.compile(r"'(list|tuple)' object has no attribute '(shape|ndim|dtype|T|"
                              r"astype|reshape|size|sum|mean|max|min|argmax|copy|item)'")


#: NumPy's (and array_api_strict's) words for an index past an axis's end: a student trial's
#: convolution without its padding read "index 7 is out of bounds for axis 1 with size 7"
_PAST_THE_END = re.compile(r"out of bounds for axis \d+ with size \d+")


def _gone_outcome(gone: WorkerGone, limit: float, limits: Limits) -> Outcome:
    if gone.reason == "timeout":
        return Outcome(status="timeout", duration_s=limit,
                       message=f"took longer than {limit:g} s and was stopped{gone.where}; an "
                               "infinite loop, or a Python loop where a vectorized operation is "
                               "expected?")
    if gone.reason == "flood":
        return Outcome(status="error",
                       message=f"printed more than {limits.output_bytes:,} bytes and was "
                               "stopped; remove debugging prints from loops")
    if gone.reason == "memory":
        return Outcome(status="error",
                       message=f"used more than {limits.memory_mb:,} MB of memory above the "
                               "grader's own and was stopped; is an array far too large?")
    if gone.reason == "died":
        if gone.code is not None and gone.code >= 0:  # (a signal: negative)
            return Outcome(status="error",
                           message=f"the process running your code exited with code "
                                   f"{gone.code} during this check (os._exit()?); return "
                                   "values instead of exiting")
        return Outcome(status="error",
                       message="the process running your code was killed during this check "
                               "(a crash, a signal, or the memory limit)")
    return Outcome(status="error", message=str(gone))


def _memory_mode(mode: str, device: str | None) -> str:
    if mode == "auto":
        return "resident" if (device or "").startswith("cuda") else "address-space"
    if mode not in ("address-space", "resident"):
        raise ValueError(f"memory_mode must be auto, address-space or resident, not {mode!r}")
    return mode


def _harness_for(harness: HarnessReference | None,
                 dtype: str | None) -> Callable[[], Any] | None:
    """The reference in the grader for a check's own calls of withheld functions, on the
    check's dtype (:mod:`.withholding`); None where there is none (no reference)."""
    return None if harness is None else functools.partial(harness.get, dtype)


def _backends(backend: str, device: str | None) -> dict[str | None, Any]:
    """The grader's backends: exactly the grading's, at float64 and at the backend's default
    dtype (no setting from the environment or a file changes them: the workers' are these)."""
    return {dtype: make_backend(backend, device, dtype) for dtype in ("float64", None)}


def _reference(exercise: Exercise, trusted_folder: Path | None) -> ReferenceCode | None:
    if trusted_folder is not None:
        return ReferenceCode(exercise.reference_package, trusted_folder, exercise.name)
    if reference_available(exercise.reference_package):
        return ReferenceCode(exercise.reference_package)
    return None


def _settings(exercise: Exercise, folder: Path, backend: str, device: str | None,
              limits: Limits, qf: dict[str, list[tuple[str, str | None]]],
              reference: ReferenceCode | None, checks: list[Check], *,
              executed: bool = False) -> WorkerSettings:
    isolation = {"auto": None, "sandbox": sandbox.SANDBOX, "process": sandbox.PROCESS}.get(
        limits.isolation, "?")
    if isolation == "?":
        raise ValueError(f"isolation must be auto, sandbox or process, not {limits.isolation!r}")
    if isolation is None or isolation == sandbox.SANDBOX:
        isolation = sandbox.level(require=isolation == sandbox.SANDBOX)
    total = sum(c.timeout_s for c in checks) * limits.timeout_scale
    engines = hidden_engines(backend)
    return WorkerSettings(
        topic=exercise.name, folder=Path(folder).resolve(), backend=backend, device=device,
        isolation=isolation, memory_mb=limits.memory_mb,
        memory_mode=_memory_mode(limits.memory_mode, device), output_bytes=limits.output_bytes,
        startup_s=limits.startup_s, cpu_s=int(60 + 4 * total * 2),
        question_functions=qf, reference_names=_reference_names(reference, qf),
        given_sources=_given_sources(exercise, reference),
        given_modules=tuple(exercise.given_modules),
        reference_package=exercise.reference_package,
        hidden=hidden_folders() + [p for _, p in engines if p is not None],
        blocked_packages=tuple(sorted({_top(exercise.reference_package),
                                       *(name for name, _ in engines)})),
        extra_backends=(STRICT,) if backend == "numpy" and strict_available() else (),
        executed=executed)


def strict_available() -> bool:
    """Whether the strict backend (``array_api_strict``) is registered and installed: gradings
    on NumPy then run their value, property and gradient checks again on it."""
    try:
        return get_registry().get("backend", STRICT).availability() is None
    except Exception:  # noqa: BLE001 - not registered (a restricted plugin set)
        return False


def _top(package: str) -> str:
    return REFERENCE_PACKAGE if package.startswith(REFERENCE_PACKAGE + ".") else package


def _reference_names(reference: ReferenceCode | None,
                     qf: dict[str, list[tuple[str, str | None]]]) -> dict[str, list[str]]:
    """The public functions of each reference module that holds a question: what a stand-in
    module offers (as proxies) when the student's module does not import. Read from the
    module's source (:func:`public_functions`), not by importing it in the grader."""
    if reference is None:
        return {}
    names: dict[str, list[str]] = {}
    for module_name in sorted({m for pairs in qf.values() for m, _ in pairs}):
        path = reference.source_path(module_name)
        if path is None:
            continue  # no such module: it shows up in its own checks
        try:
            names[module_name] = public_functions(path.read_text())
        except (OSError, SyntaxError, ValueError):
            continue  # a broken module: it shows up in its own checks too
    return names


def public_functions(source: str) -> list[str]:
    """The public functions a module's source defines at its top level (in ``if``, ``try``
    and ``with`` blocks too; not in classes or functions), sorted: the names that
    ``vars(module)`` holds as functions defined there, without running the module."""
    return list(_public_functions(source))


@functools.lru_cache(maxsize=1024)
def _public_functions(source: str) -> tuple[str, ...]:
    """:func:`public_functions`, read once per content (every grading reads the same modules)."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.add(node.name)
            elif isinstance(node, ast.Try | ast.If | ast.With):
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(ast.parse(source).body)
    return tuple(sorted(n for n in found if not n.startswith("_")))


def given_sources(exercise: Exercise) -> dict[str, str]:
    """The instructor's copy of each given module that a grading runs in place of the
    submission's (``{}``: the reference is not installed, and the submission's own runs)."""
    return _given_sources(exercise, _reference(exercise, None))


def _given_sources(exercise: Exercise, reference: ReferenceCode | None) -> dict[str, str]:
    """The instructor's copy of each given module, where the reference is installed; in a
    student release the submission's own copy is used (changing it fools only its author)."""
    if reference is None:
        return {}
    sources = {}
    for name in exercise.given_modules:
        path = reference.source_path(name)
        if path is not None and path.is_file():  # else no such given module in the reference
            sources[name] = path.read_text()
    return sources


def hidden_engines(backend: str) -> list[tuple[str, Path | None]]:
    """The differentiation engines graded code on ``backend`` must not reach (every one of
    :data:`~.subject.DIFFERENTIATION_ENGINES` but the packages the backend runs on), each
    with its installed folder (None where it is not installed: refused all the same)."""
    try:
        keep = set(get_registry().get("backend", backend).packages)
    except Exception:  # noqa: BLE001 - an unknown backend fails where it is loaded
        keep = set()
    out: list[tuple[str, Path | None]] = []
    for name in DIFFERENTIATION_ENGINES:
        if name.split(".")[0] in keep:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        locations = spec.submodule_search_locations if spec is not None else None
        folders = [Path(p).resolve() for p in locations or ()]
        out += [(name, f) for f in folders] or [(name, None)]
    return out


def hidden_folders() -> list[Path]:
    """What the sandbox hides: every exercise's reference solutions and fixtures, and the
    built-in solutions package (for an installed, non-editable copy)."""

    found: set[Path] = set()
    packages = {REFERENCE_PACKAGE}
    for entry in get_registry().entries("exercise"):
        exercise = entry.obj
        packages.add(exercise.reference_package)
        if exercise.fixtures is not None:
            found.add(Path(exercise.fixtures).resolve())
    for package in packages:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            found.update(Path(p).resolve() for p in spec.submodule_search_locations)
    return sorted(found)
