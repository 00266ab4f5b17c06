"""Checks: what the grader verifies, split so student code can never judge itself.

A :class:`Check` has two halves:

* ``collect(ctx) -> Payload`` runs in the isolated child process, calls the student's (or the
  reference's) code on seeded inputs and returns plain data: NumPy arrays, numbers, strings;
* ``judge(actual, expected) -> Verdict`` runs in the grader's own process on that data.

``expected`` is the payload the reference produced for the same check and seed: computed live
when the solutions are installed, read from the fixtures shipped with the exercise otherwise
(a student release). Gradient checks need no expected payload: the child returns the student's
analytic gradient and the central differences of the student's own loss, and the parent
compares them (see :mod:`nlpdojo.gradcheck`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from nlpdojo.backend import Backend

Payload = dict[str, Any]
CHECK_KINDS = ("value", "gradient", "metric", "custom")


class CheckFailure(Exception):
    """Raised by check code (in the child) when the student's output cannot even be judged:
    wrong number of return values, not an array... The message is shown to the student."""


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
    collect: Callable[[Context], Payload]
    judge: Callable[[Payload, Payload | None], Verdict]
    #: hidden checks run only where the solutions are installed (instructor, CI)
    hidden: bool = False
    #: whether ``judge`` needs the reference's payload
    needs_expected: bool = True
    #: questions whose reference implementation replaces the student's during this check
    swap_in: tuple[str, ...] = ()
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

    def __post_init__(self) -> None:
        if self.kind not in CHECK_KINDS:
            raise ValueError(f"check {self.id}: kind {self.kind!r} is not one of {CHECK_KINDS}")
        if self.points < 0:
            raise ValueError(f"check {self.id}: negative points")

    @property
    def id(self) -> str:
        return f"{self.question}.{self.name}"

    def seed(self, base: int) -> int:
        """The check's own seed: stable across runs and machines, distinct per check."""
        return (base + zlib.crc32(self.id.encode())) % (2**31)


@dataclass(frozen=True)
class PlantedBug:
    """A deliberate bug for ``dojo verify``: replacing ``find`` by ``replace`` in ``module``
    of the solutions must cost points on ``question`` (and, ideally, on nothing else)."""

    name: str
    module: str
    find: str
    replace: str
    question: str


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
    #: deliberate bugs that ``dojo verify`` plants to prove the checks catch them
    planted_bugs: list[PlantedBug] = field(default_factory=list)
    #: modules of given code (no question markers) that checks run from the reference where it
    #: is installed, never from the submission (``Context.given_module``): a training loop whose
    #: budget the metric checks rely on must not be the student's to change
    given_modules: tuple[str, ...] = ()

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


class Context:
    """What a check's ``collect`` sees in the child: the code under test, the backend, inputs.

    ``module(name)`` returns the student's module (or the reference's, when grading the
    solutions), with the reference swapped in for the check's ``swap_in`` questions.
    """

    def __init__(
        self,
        *,
        backend: Backend,
        seed: int,
        load_module: Callable[[str], ModuleType],
        workdir: Path,
        full: bool = False,
        base_seed: int = 0,
        load_given: Callable[[str], ModuleType | None] | None = None,
    ) -> None:
        self.backend = backend
        self._load_given = load_given
        self.seed = seed
        #: the run's base seed (``grade --seed``), shared by all checks: a training budget
        #: several metric checks measure is trained once per worker with it
        self.base_seed = base_seed
        self._load_module = load_module
        self.workdir = workdir
        #: ``grade --full``: metric checks train with their full budget
        self.full = full

    def module(self, name: str) -> ModuleType:
        return self._load_module(name)

    def given_module(self, name: str) -> ModuleType:
        """Given code (one of the exercise's ``given_modules``): the reference's copy where the
        solutions are installed (instructor, CI), else the submission's (a student's own run:
        changing it fools nobody but its author)."""
        given = self._load_given(name) if self._load_given is not None else None
        return given if given is not None else self.module(name)

    def function(self, module: str, name: str) -> Callable[..., Any]:
        """A function of the code under test; a missing one is a clear failure, not a crash."""
        mod = self.module(module)
        func = getattr(mod, name, None)
        if not callable(func):
            raise CheckFailure(f"{module}.py has no function {name}(); keep the names of the stubs")
        return func

    def rng(self, offset: int = 0) -> np.random.Generator:
        """A NumPy generator for inputs: the same on every backend, so results compare."""
        return np.random.default_rng(self.seed + offset)

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        """A host array as a backend array (float arrays in the backend's default dtype)."""
        arr = np.asarray(x)
        if dtype is None and np.issubdtype(arr.dtype, np.floating):
            dtype = self.backend.default_dtype
        return self.backend.asarray(arr, dtype=dtype)

    def to_numpy(self, x: Any, what: str = "the result") -> np.ndarray:
        """A backend array, number or nested list as a NumPy array (floats as float64)."""
        if x is None:
            raise CheckFailure(f"{what}: the function returned None; did you forget `return`?")
        try:
            if hasattr(x, "detach"):
                x = x.detach().cpu().numpy()
            arr = np.asarray(x)
        except Exception as exc:  # noqa: BLE001 - anything unconvertible is the student's output
            raise CheckFailure(f"{what} is not an array or a number ({type(x).__name__})") from exc
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise CheckFailure(f"{what} has dtype {arr.dtype}; expected numbers")
        return arr.astype(np.float64) if np.issubdtype(arr.dtype, np.floating) else arr

    def unpack(self, result: Any, names: Sequence[str], func: str) -> list[Any]:
        """Check that ``func`` returned a tuple of ``len(names)`` values and return them."""
        if result is None:
            raise CheckFailure(f"{func} returned None; did you forget `return`?")
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            got = f"a tuple of {len(result)}" if isinstance(result, (tuple, list)) else (
                type(result).__name__)
            raise CheckFailure(f"{func} should return ({', '.join(names)}); it returned {got}")
        return list(result)
