"""Checks: what the grader verifies, split so student code can never judge itself.

A :class:`Check` has two halves, both run by the grader, never by the student's process:

* ``collect(ctx) -> Payload`` chooses seeded inputs, calls the student's (or the reference's)
  functions through ``ctx.function(...)`` (a sandboxed worker runs the student's and returns
  their outputs as data) and returns plain data: NumPy arrays, numbers, strings;
* ``judge(actual, expected) -> Verdict`` decides on that data.

``expected`` is the payload the reference produced for the same check and seed: computed live
when the solutions are installed, read from the fixtures shipped with the exercise otherwise
(a student release). Gradient checks ask the student's code for its analytic gradient and for
its loss at the points the grader chooses, compute the central differences in the grader and
compare them (see :mod:`nlpdojo.gradcheck`); their expected payload (the reference's loss and
gradient at the check's point) makes sure the loss differentiated is the true one.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

Payload = dict[str, Any]
CHECK_KINDS = ("value", "gradient", "metric", "property", "custom")
#: the kinds whose inputs are drawn from the run's input seed (fresh in CI); a custom check
#: judged against the reference's payload is too (:attr:`Check.fresh_inputs`)
FRESH_KINDS = ("value", "gradient")


def split_payload(payload: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and JSON scalars of a payload (as an outcome keeps it: its ``payload`` is
    ``{**scalars, **arrays}``); anything else is a grader bug."""
    if not isinstance(payload, dict):
        raise TypeError(f"internal: check returned {type(payload).__name__}, not a dict")
    arrays, scalars = {}, {}
    for key, value in payload.items():
        if isinstance(value, (bool, int, float, str)) or value is None:
            scalars[key] = value
        elif isinstance(value, np.ndarray) and value.dtype != object:
            arrays[key] = value
        elif isinstance(value, np.generic):
            scalars[key] = value.item()
        else:
            raise TypeError(f"internal: payload {key!r} has type {type(value).__name__}")
    return arrays, scalars


#: ``CheckResult.details[NAMED_MISTAKE]``: the known mistake a failed check found the outputs
#: to be exactly those of (a builder's ``mistakes=``, :func:`.compare.name_the_mistake`), as
#: the check names it; a cohort's failures are grouped by it
NAMED_MISTAKE = "mistake"


class CheckFailure(Exception):
    """Raised by check code when the student's output cannot even be judged:
    wrong number of return values, not an array... The message is shown to the student;
    ``mistake``, where the check knows the mistake made, goes to the result's
    ``details[NAMED_MISTAKE]``."""

    def __init__(self, message: str, *, mistake: str | None = None) -> None:
        super().__init__(message)
        self.mistake = mistake


class DeclarationError(ValueError):
    """A check's own code is declared wrongly (a ``ctx.function`` naming no module where its
    question has several): the author's mistake, said as such in every grading, never as the
    student's (:mod:`~nlpdojo_autograder.grading.runner`)."""


class NotAsReturned(CheckFailure):
    """A returned value is not what its call should return, as it was returned (a Python
    float, another namespace, device or dtype: :mod:`.returned`), whatever its numbers."""


@dataclass
class Verdict:
    """A judge's decision: the fraction of the points earned and why."""

    passed: bool
    message: str
    fraction: float | None = None  # defaults to 1.0 when passed, else 0.0
    value: float | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.fraction is None:
            self.fraction = 1.0 if self.passed else 0.0
        self.fraction = float(min(1.0, max(0.0, self.fraction)))


@dataclass(frozen=True)
class Check:
    """One graded check. ``id`` (``<question>.<name>``) keys it in reports and fixtures."""

    question: str
    name: str
    title: str
    points: float
    kind: str
    #: given the check's :class:`~.context.Context` (which imports this module)
    collect: Callable[..., Payload]
    judge: Callable[[Payload, Payload | None], Verdict]
    #: hidden checks run only where the solutions are installed (instructor, CI)
    hidden: bool = False
    #: whether ``judge`` needs the reference's payload
    needs_expected: bool = True
    #: a check judged without the reference's payload (``needs_expected=False``) that carries
    #: points: what the grader compares the outputs with instead, computed on its own side (the
    #: exact tempered distribution, the argmax, the true gradient of a function it drew). A
    #: trivial answer (a uniform distribution, a step that does nothing, a constant) satisfies
    #: many properties, so release requires this for every such check, and a planted bug
    #: caught by it (``PlantedBug.by``) proves a wrong answer fails it (docs/authoring.md)
    oracle: str = ""
    #: questions whose reference implementation replaces the student's during this check (their
    #: ids; declared, a topic's own are given as their ``Question``\ s, which the topic names)
    swap_in: tuple[str, ...] = ()
    #: ``(module, function)`` of the swapped-in questions that stay the student's own: those
    #: the reference of the question under test never reaches (set by the grader,
    #: :func:`~nlpdojo_autograder.authoring.reach.withheld`; never declared)
    withheld: tuple[tuple[str, str], ...] = ()
    #: required questions whose *student* code this check runs as it is, not swapped for the
    #: reference: a long training run, where a swapped layer would send its parameters across
    #: processes at every step (a metric check's hint then names those questions; as
    #: ``swap_in``, declarations of the topic's own until the topic names them)
    own_code: tuple[str, ...] = ()
    #: wall-clock limit in the child, seconds
    timeout_s: float = 30.0
    #: metric checks: the fixed training budget, stated in reports
    budget: str = ""
    #: "float64" for value and gradient checks; None trains in the backend's default dtype
    dtype: str | None = "float64"
    #: checks with the same non-empty key measure one piece of work (one training run): when
    #: one of them is stopped for time, the others get the same outcome instead of paying the
    #: time limit again each
    shares: str = ""
    #: which keys of the reference's payload ``judge`` needs as ``expected``: the fixtures
    #: store only those (``None``: all of them)
    stored: Callable[[str], bool] | None = None
    #: False: no fixture stores the reference's payload (a trained model's metric and
    #: parameters ship nowhere a student can read them); without the reference, ``judge``
    #: gets ``None`` as ``expected`` and judges what it can without it
    release_expected: bool = True
    #: the module of its question's one ``code`` (``"..library.gated"``), set by the
    #: ``Question``: where ``ctx.function(name)`` finds a function without a module named
    module: str = ""
    #: metric checks: the payload key of what untrained artefacts reach (``chance=``), which
    #: the metric must beat; without one, release asks a planted bug that proves the metric
    #: can fail (``by=`` its name, or ``also=`` its integrative question)
    floor: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"check {self.question}.{self.name}: a check's name is lowercase "
                             "letters, digits and underscores, starting with a letter (it names "
                             "the check's fixture files and its id in every report)")
        if self.kind not in CHECK_KINDS:
            raise ValueError(f"check {self.id}: kind {self.kind!r} is not one of {CHECK_KINDS}")
        if not (isinstance(self.points, int | float) and math.isfinite(self.points)
                and self.points >= 0):
            raise ValueError(f"check {self.id}: points={self.points!r}: a check's points are a "
                             "number, 0 or more (NaN made every total NaN, 0/nan)")

    @property
    def id(self) -> str:
        return f"{self.question}.{self.name}"

    @property
    def fresh_inputs(self) -> bool:
        """Whether the check draws its inputs from the run's input seed (fresh in CI, 0 in a
        student release) rather than the base seed: value and gradient checks, and any other
        check judged against the reference's payload or an oracle of the grader's. With inputs
        fixed, a check whose expected values ship as a fixture could be passed by pasting the
        fixture's numbers in, and one judged against an oracle by answering its one question
        (the gradients of two functions that never changed).
        (Metric checks draw from the input seed too, through the context: their held-out
        sample, and the training run's initial parameters and seed, so that no trajectory can
        be computed before the grading.)"""
        return self.kind in FRESH_KINDS or (self.kind in ("custom", "property")
                                            and (self.needs_expected or bool(self.oracle)))

    def seed(self, base: int) -> int:
        """The check's own seed: stable across runs and machines, distinct per check.

        Base 0 is a student release's, whose inputs are public (the fixtures hold them): its
        seeds are the id's CRC-32. Any other base (a fresh input seed in CI) is mixed with the
        id by a hash, so that one check's seed, which code under test may see (a sampler is
        handed one), tells nothing of another check's inputs or of the run's seed; the seeds
        were ``base + crc32(id)``, from which one gave them all."""
        if base == 0:
            return zlib.crc32(self.id.encode()) % (2**31)
        digest = hashlib.blake2b(f"{base}:{self.id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") % (2**31)


@dataclass(frozen=True)
class PlantedBug:
    """A deliberate bug for ``dojo verify``: replacing ``find`` (which must occur exactly once;
    see :mod:`.planted`) by ``replace`` in ``module`` of the solutions must
    cost points on ``question`` (and, ideally, on nothing else: ``dojo verify --strict``).
    ``also``: integrative questions the bug must cost points on too (a training run's metric
    checks, proved able to fail by a bug in a step they train with). ``says``: words a
    message of ``question`` must hold when the bug is caught (the cause its checks name, "the
    velocity is not kept"): ``dojo verify`` proves the hint as well as the loss of points.
    ``by``: checks of ``question`` that must each catch it. Made by
    :func:`~.topic.bug`, ``module`` and ``question`` are ``None`` until the topic places the
    bug (:meth:`~.topic.Topic.planted_bugs`: the question whose solution block its ``find``
    lies in) or the question it is declared in fills them in (:class:`~.topic.Question`).
    ``unplaced``: why a topic could not place it (then ``question`` and ``module`` are
    empty: ``dojo verify`` and the release checks report it; grading never reads bugs).
    ``site``: the file and line of its ``bug(...)`` call."""

    name: str
    module: str
    find: str
    replace: str
    question: str
    also: tuple[str, ...] = ()
    says: str = ""
    #: checks of ``question`` (by name) that must each lose points with the bug planted: the
    #: proof that a check judged without the reference (``Check.oracle``) can fail
    by: tuple[str, ...] = ()
    unplaced: str = field(default="", compare=False)
    site: tuple[str, int] = field(default=("", 0), compare=False, repr=False)
    #: written with its changes in place, ``«old → new»`` (:func:`~.topic.bug`): its messages
    #: name the text and the change's new side, not ``find`` and ``replace``
    in_place: bool = field(default=False, compare=False, repr=False)

    @property
    def where(self) -> str:
        """``file:line`` of its ``bug(...)`` call, else ``planted bug '<name>'``."""
        return f"{self.site[0]}:{self.site[1]}" if self.site[0] else f"planted bug {self.name!r}"


@dataclass
class Exercise:
    """A topic's checks, as registered through ``register_exercises``."""

    name: str
    title: str
    checks: list[Check]
    #: expected payloads of the public checks, generated from the solutions by ``dojo release``
    fixtures: Path | None = None
    #: question id -> title, in the order the instructions present them
    questions: dict[str, str] = field(default_factory=dict)
    #: import name of the reference solutions (default ``nlpdojo_solutions.<name>``); a pack
    #: shipped by a plugin names its own
    reference: str | None = None
    #: deliberate bugs that ``dojo verify`` plants to prove the checks catch them (a topic's are
    #: placed the first time they are read: :class:`~.topic.PlacedOnUse`)
    planted_bugs: Sequence[PlantedBug] = field(default_factory=list)
    #: modules of given code (no question markers) that checks run from the reference where it
    #: is installed, never from the submission (``Context.given_module``): a training loop whose
    #: budget the metric checks rely on must not be the student's to change
    given_modules: tuple[str, ...] = ()
    #: question id -> the questions it requires (bare: this topic's; ``topic.question``:
    #: another topic's, in the course library). Its checks swap the reference in for all of
    #: them, transitively (:mod:`.questions`)
    requires: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: question id -> the data sets its checks need (verified before grading starts: missing
    #: data is the grader's set-up problem, exit 2, never points lost)
    datasets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: questions whose checks train the student's whole pipeline on real data on purpose (a
    #: tagger trained with the student's layers, loss and optimizer, as CS224n's assignments
    #: do): nothing is swapped in there (a reference layer called back per step would cost
    #: minutes), so a bug in an earlier question may cost points here too, and their metric
    #: checks' hints say which questions to fix first. ``dojo verify --strict`` does not count
    #: points lost on these questions against a bug planted elsewhere; each must still be
    #: caught on its own question.
    integrative: tuple[str, ...] = ()
    #: where the topic comes in the course (its lecture): topics are listed in this order,
    #: then by name
    order: int = 100
    #: question id -> the modules holding its solution blocks (``"softmax"`` in the topic,
    #: ``"library/layers"`` in the course library), where the topic declares them: release
    #: checks that the blocks are there and nowhere else
    code: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def reference_package(self) -> str:
        return self.reference or f"nlpdojo_solutions.{self.name}"

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for check in self.checks:
            if check.id in seen:
                raise ValueError(f"exercise {self.name}: check id {check.id!r} is declared twice")
            seen.add(check.id)
            if self.questions and check.question not in self.questions:
                raise ValueError(
                    f"exercise {self.name}: check {check.id!r} names unknown question "
                    f"{check.question!r}; questions: {', '.join(self.questions)}"
                )

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)
