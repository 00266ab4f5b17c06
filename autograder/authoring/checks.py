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
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.returned import Returned
from nlpdojo_autograder.runtime import probes
from nlpdojo_autograder.runtime.calls import StudentError
from nlpdojo_autograder.runtime.channel import Opaque, Sparse, Token, map_tree

Payload = dict[str, Any]
CHECK_KINDS = ("value", "gradient", "metric", "property", "custom")
#: the kinds whose inputs are drawn from the run's input seed (fresh in CI); a custom check
#: judged against the reference's payload is too (:attr:`Check.fresh_inputs`)
FRESH_KINDS = ("value", "gradient")


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
    collect: Callable[[Context], Payload]
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
    #: questions whose reference implementation replaces the student's during this check
    swap_in: tuple[str, ...] = ()
    #: required questions whose *student* code this check runs as it is, not swapped for the
    #: reference: a long training run, where a swapped layer would send its parameters across
    #: processes at every step (a metric check's hint then names those questions)
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

    def __post_init__(self) -> None:
        if self.kind not in CHECK_KINDS:
            raise ValueError(f"check {self.id}: kind {self.kind!r} is not one of {CHECK_KINDS}")
        if self.points < 0:
            raise ValueError(f"check {self.id}: negative points")

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
    #: deliberate bugs that ``dojo verify`` plants to prove the checks catch them
    planted_bugs: list[PlantedBug] = field(default_factory=list)
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


class BackendRef:
    """The backend a check runs on, as the check sees it: its name, device and dtype. Passed
    to the code under test it becomes that process's backend object."""

    def __init__(self, name: str, device: str | None, dtype: str | None) -> None:
        self.name, self.device, self.dtype = name, device or "cpu", dtype

    def __repr__(self) -> str:
        return f"<backend {self.name} on {self.device}>"


def _mutator(function: Any, args: Sequence[Any]) -> str:
    """Who changed an argument: the function called, or, for a grader's probe (which builds a
    layer or loss and runs it), the class under test, which is what the student wrote."""
    first = args[0] if args else None
    first = getattr(first, "token", first)  # a RemoteFunction sent as an argument
    if function.token.args[0] == "probe" and isinstance(first, Token) and \
            first.kind == "function":
        return f"{first.args[-1]}.forward or .backward"
    return f"{function.label}()"


class RemoteFunction:
    """A function of the code under test, called from the grader.

    Calling it sends the arguments to the process that runs the code (NumPy arrays stay NumPy
    arrays there, ``ctx.asarray(x)`` becomes a backend array, ``ctx.backend`` the backend) and
    returns the result as data: NumPy arrays (the backend's dtype kept), numbers, tuples,
    records for dataclasses. An exception in the code under test ends the check with its
    message. A function that changes an array argument in place fails the check, unless the
    check named that argument in ``call(..., mutable=...)``.
    """

    def __init__(self, ctx: Context, token: Token, label: str) -> None:
        self._ctx, self.token, self.label = ctx, token, label

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(args, kwargs)[0]

    def call(self, args: Sequence[Any], kwargs: dict[str, Any] | None = None, *,
             mutable: Sequence[str] = ()) -> tuple[Any, dict[str, Any]]:
        """``(result, updated)``: ``updated`` maps each argument named in ``mutable`` (by
        parameter name or position) that the call changed to its new value."""
        ctx = self._ctx
        request = (self.token, outgoing(tuple(args)), outgoing(kwargs or {}),
                   tuple(str(m) for m in mutable))
        if ctx._recording is not None:  # see Context.batch: note the call, run it later
            ctx._recording.append(request)
            raise _Recorded
        if ctx._replies:
            reply = ctx._replies.pop(0)
        else:
            reply = ctx.subject.call(*request, deadline=ctx.deadline)
        if "error" in reply:
            raise StudentError(reply["error"])
        names = dict((str(k), str(label)) for k, label in reply.get("mutated", []))
        wanted = {str(m) for m in mutable}
        changed = [label for key, label in names.items()
                   if key not in wanted and label not in wanted]
        if changed:
            raise CheckFailure(
                f"{_mutator(self, args)} changed its argument `{changed[0]}` in place; a "
                "function must "
                "not modify its inputs (the caller still needs them): compute a new array "
                "instead (`x = x - m`, not `x -= m`; no `out=` into an argument)")
        updated = {names.get(k, k): v for k, v in reply.get("updated", {}).items()}
        ctx.returned.note(request[1], request[2], reply)
        return reply["value"], updated

    def lazy(self, *args: Any, **kwargs: Any) -> Token:
        """The call, made in the worker when it is passed as an argument (an object of the
        code under test that cannot cross, e.g. a dataclass of the student's functions)."""
        return Token("call", (self.token, outgoing(args), outgoing(kwargs)))


class _Recorded(Exception):
    """Raised at the first remote call of a function run by :meth:`Context.batch` to record
    it; never seen by check code."""


def outgoing(value: Any) -> Any:
    """Arguments as they are sent: the backend and functions as the tokens that name them,
    NumPy scalars as Python numbers."""
    def leaf(x: Any) -> Any:
        if isinstance(x, BackendRef):
            return Token("backend")
        if isinstance(x, np.generic):  # a setting computed with NumPy (np.float64(0.42))
            # goes as the Python number a caller passes: a NumPy scalar is an array of NumPy's
            # namespace, which the strict backend's arrays refuse to mix with
            return x.item()
        return x.token if isinstance(x, RemoteFunction) else x

    return map_tree(value, leaf)


def list_of_arrays(x: Any, what: str) -> str | None:
    """A message when ``x`` is a Python list or tuple of arrays where one array is expected
    (rows or columns returned one by one): NumPy would stack it, so its values could match,
    but code that is given the result (a training loop, the next layer) gets a list and fails
    there. A list of plain numbers is left alone (some functions return one)."""
    if not isinstance(x, (list, tuple)) or not any(
            isinstance(v, np.ndarray) and v.ndim >= 1 for v in x):
        return None
    return (f"{what} is a Python {type(x).__name__} of {len(x)} arrays, not one array: return "
            "a single array of the namespace (xp.stack joins arrays along a new axis, "
            "xp.concat along an existing one)")


#: the backend of a check's second pass on ``array_api_strict`` arrays (the grader's
#: ``runner._strict_pass``), which runs only after a first pass that passed
STRICT_BACKEND = "strict"
#: the suffix of the payload key that holds the digest of an oracle's inputs
#: (:meth:`Context.oracle`)
ORACLE_DIGEST = "@digest"


def digest_of(tree: Any) -> str:
    """A digest of nested dicts, lists and tuples of arrays and plain values: equal for equal
    dtypes, shapes and bytes (and keys, order of dict keys aside); anything else by its type and
    ``repr`` (an object whose ``repr`` names its address never matches another; an array of
    objects digests their addresses, and never matches either)."""
    digest = hashlib.sha256()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            digest.update(b"{")
            for key in sorted(node, key=repr):
                digest.update(repr(key).encode() + b":")
                visit(node[key])
            digest.update(b"}")
        elif isinstance(node, (list, tuple)):
            digest.update(f"{type(node).__name__}[".encode())
            for item in node:
                visit(item)
            digest.update(b"]")
        elif isinstance(node, (np.ndarray, np.generic)) or hasattr(node, "__array__"):
            # a tensor's repr shows only some of its numbers: its bytes are digested
            array = np.ascontiguousarray(np.asarray(
                node.detach().cpu() if hasattr(node, "detach") else node))
            digest.update(f"a{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        else:
            digest.update(f"{type(node).__qualname__}={node!r};".encode())

    visit(tree)
    return digest.hexdigest()[:32]


class Context:
    """What a check's ``collect`` sees. It runs in the grader's process; the code under test
    runs elsewhere (a sandboxed worker for a student, this process for the reference) and is
    reached through :meth:`function`, whose results come back as data.
    """

    def __init__(
        self,
        *,
        subject: Any,
        backend: BackendRef,
        seed: int,
        workdir: Path,
        full: bool = False,
        base_seed: int = 0,
        deadline: float | None = None,
        cache: dict[Any, Any] | None = None,
        touched: set[str] | None = None,
        expected_only: bool = False,
        input_seed: int = 0,
        trusted: Callable[[], Any] | None = None,
        module: str = "",
        known: Payload | None = None,
    ) -> None:
        self.subject = subject
        #: the module of the check's question (:attr:`Check.module`): :meth:`function`'s
        #: default (not ``self.module``: that is :meth:`module`)
        self.code_module = module
        self.backend = backend
        self.seed = seed
        #: the run's base seed (``grade --seed``), shared by all checks: a training budget
        #: several metric checks measure is trained once per run with it
        self.base_seed = base_seed
        #: a folder of the grader's for this check's own files
        self.workdir = workdir
        #: ``grade --full``: metric checks train with their full budget
        self.full = full
        #: ``time.monotonic()`` by which the check must be done
        self.deadline = deadline
        #: shared by the checks of one run (a training run measured by several checks)
        self.cache = cache if cache is not None else {}
        #: the modules of the code under test this check reached (``grade``'s incremental
        #: cache keys the check on their files; a probe, grader code, reaches only what it is
        #: handed: functions and modules recorded here); ``"*"``: possibly any of them
        self.touched = touched if touched is not None else set()
        #: the reference runs to give a submission's checks their expected values: a check may
        #: gather only what its judge reads as expected (a gradient check: the loss and the
        #: gradient at its point, not the central differences)
        self.expected_only = expected_only
        #: the run's input seed (fresh in CI where the reference is installed): held-out
        #: samples are drawn from it, so that each grading scores a different one
        self.input_seed = input_seed
        #: the reference's payload for this check at this draw, where the grading has it (a
        #: submission's): :meth:`oracle` takes an independent oracle's value from it instead
        #: of computing it again
        self.known: Payload = known or {}
        self._trusted = trusted
        self._recording: list | None = None
        self._replies: list[dict] = []
        #: what the last calls returned, as returned (:mod:`.returned`): judged by
        #: :meth:`to_numpy`, and read by :meth:`require_arrays`
        self.returned = Returned()

    def oracle(self, key: str, on: Any, compute: Callable[[], Any]) -> Payload:
        """An independent oracle's value (torch autograd's gradient of the true loss, say) as
        payload entries: ``{key: value, key + ORACLE_DIGEST: digest_of(on)}``. ``on`` is
        everything the value is a function of (the point, the other inputs the true loss
        reads); where the reference's payload (:attr:`known`) holds the value computed on equal
        inputs, it is taken from there instead of being computed again: the oracle runs in the
        grader either way, never in the code under test, and is the same function of the same
        numbers. ``compute`` is called otherwise (and always for the reference's own run)."""
        digest = digest_of(on)
        if self.known.get(key + ORACLE_DIGEST) == digest and key in self.known:
            return {key: self.known[key], key + ORACLE_DIGEST: digest}
        return {key: compute(), key + ORACLE_DIGEST: digest}

    def oracles(self, prefix: str, on: Any, compute: Callable[[], Payload | None]) -> Payload:
        """:meth:`oracle` for an oracle of several values (a torch forward's outputs and
        gradients, a ``torch.optim`` trajectory): ``compute()`` gives payload entries (or None
        where the oracle cannot run: nothing then), each key starting with ``prefix`` (which
        ends with ``|``), returned with ``prefix + ORACLE_DIGEST`` beside them; taken from
        :attr:`known` where its digest there is ``digest_of(on)``."""
        if not prefix.endswith("|"):
            raise ValueError(f"internal: an oracle's prefix ends with '|', not {prefix!r}")
        digest, mark = digest_of(on), prefix + ORACLE_DIGEST
        if self.known.get(mark) == digest:
            return {k: v for k, v in self.known.items() if k.startswith(prefix)}
        found = dict(compute() or {})
        stray = [k for k in found if not k.startswith(prefix)]
        if stray:
            raise ValueError(f"internal: oracle entries {stray} lie outside {prefix!r}")
        return {**found, mark: digest} if found else {}

    def require_arrays(self, func: str, where: dict[str, str]) -> None:
        """Fail where the last call of ``func`` returned a Python number where its contract
        asks for an array: ``where`` maps a position of the result (``"*"``: the result
        itself; ``"0"``, ``"1"``: in a returned tuple; a key of a returned dict) to how the
        message names it (``{"0": "the penalty"}``). A Python float from ``float(...)`` or
        ``.item()`` copies the value to the host: on a GPU that waits for the device every
        step."""
        for key in self.returned.top_numbers:
            if key in where:
                raise CheckFailure(
                    f"{func} returned {where[key]} as a Python number; the contract asks for an "
                    "array (a 0-d array for a single number: `xp.sum(...)`, not `float(...)` or "
                    "`.item()`, which copy it to the host and on a GPU wait for the device "
                    "every step): keep it an array of the namespace")

    def batch(self, func: Callable[[Any], Any], inputs: Sequence[Any]) -> list[Any]:
        """``[func(x) for x in inputs]``, with the remote calls sent as one request.

        ``func`` must be deterministic. Each ``func(x)`` is run once to record its first remote
        call (the run stops there), the recorded calls go to the code under test together,
        then each ``func(x)`` runs again and its first call returns the reply that came back
        (any later call is made as usual). Gradient checks evaluate the student's loss at
        dozens of points this way.
        """
        requests = []
        for x in inputs:
            self._recording = []
            try:
                func(x)
            except _Recorded:
                pass
            finally:
                recorded, self._recording = self._recording, None
            if len(recorded) != 1:  # no remote call, or more than one: nothing to batch
                return [func(x) for x in inputs]
            requests.append(recorded[0])
        call_many = getattr(self.subject, "call_many", None)
        if call_many is None:
            return [func(x) for x in inputs]
        replies = call_many(requests, deadline=self.deadline)
        results = []
        for x, reply in zip(inputs, replies, strict=True):
            self._replies = [reply]
            try:
                results.append(func(x))
            finally:
                self._replies = []
        return results

    def trusted(self) -> Any:
        """The reference solutions, run by the grader itself on data the check chose (a
        subject like :attr:`subject`), or None where they are not installed (a student
        release). Metric checks score trained parameters with it (:mod:`.trained`)."""
        return self._trusted() if self._trusted is not None else None

    def function(self, module: str, name: str | None = None) -> RemoteFunction:
        """A function (or ``Class.method``) of the code under test: ``function("lstm_bias")``
        in the module of the check's question (:attr:`Check.module`), ``function(module,
        name)`` in another."""
        if name is None:
            if not self.code_module:
                raise ValueError(f"ctx.function({module!r}): this check's question names no "
                                 "one module (its code): say which, ctx.function(module, "
                                 f"{module!r})")
            module, name = self.code_module, module
        self.touched.add(module)
        return RemoteFunction(self, Token("function", ("student", module, name)), name)

    def probe(self, name: str) -> RemoteFunction:
        """A procedure of :mod:`nlpdojo_autograder.runtime.probes` (build a layer, run forward and
        backward...), run where the code under test runs."""
        if not callable(getattr(probes, name, None)) or name.startswith("_"):
            raise ValueError(f"no probe {name!r}")
        return RemoteFunction(self, Token("function", ("probe", "", name)), name)

    def given_function(self, module: str, name: str) -> RemoteFunction:
        """A function of given code (one of the exercise's ``given_modules``): the
        instructor's copy, sent to the worker, never the submission's."""
        self.touched.add(module)
        return RemoteFunction(self, Token("function", ("given", module, name)), name)

    def module(self, name: str) -> Token:
        """The module of the code under test, as an argument of a call."""
        self.touched.add(name)
        return Token("module", (name,))

    def scratch_file(self, name: str) -> Token:
        """A path in the scratch folder of the process under test, as an argument."""
        return Token("path", (Path(name).name,))

    def read_scratch_file(self, name: str, max_bytes: int = 50 * 2**20) -> bytes | None:
        """What the code under test wrote to :meth:`scratch_file` ``name`` (None: nothing)."""
        return self.subject.read_file(name, max_bytes)

    def rng(self, offset: int = 0) -> np.random.Generator:
        """A NumPy generator for inputs: the same on every backend, so results compare."""
        return np.random.default_rng(self.seed + offset)

    def asarray(self, x: Any, dtype: Any = None) -> Token:
        """A host array to be passed as a backend array (floats in the backend's dtype)."""
        arr = np.asarray(x)
        return Token("array", (arr, None if dtype is None else np.dtype(dtype).name))

    def to_numpy(self, x: Any, what: str = "the result", *, number: bool = False
                 ) -> np.ndarray:
        """A returned array, number or nested list of numbers as a NumPy array (floats as
        float64); a list of arrays is refused (:func:`list_of_arrays`). A value a call of the
        code under test returned is judged first as it was returned (:mod:`.returned`): of
        the namespace, device and floating dtype of the arrays the call was given, and an
        array, not a Python number, where the call was given the backend's arrays, unless
        ``number`` (the contract returns a Python number: CS224n's ``float(loss)``)."""
        problem = self.returned.problem(x, what, number=number)
        if problem is not None:
            raise NotAsReturned(problem)
        if x is None:
            raise CheckFailure(f"{what}: the function returned None; did you forget `return`?")
        pieces = list_of_arrays(x, what)
        if pieces:
            raise CheckFailure(pieces)
        if isinstance(x, Opaque):
            raise CheckFailure(f"{what} is not an array or a number ({x.type_name})")
        if isinstance(x, Sparse) or type(x).__module__.startswith("scipy.sparse"):
            x = x.todense()  # the worker's sparse reply, or the reference's SciPy matrix
        try:
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
            got = (f"a {type(result).__name__} of {len(result)}"
                   if isinstance(result, (tuple, list)) else type(result).__name__)
            raise CheckFailure(f"{func} should return ({', '.join(names)}); it returned {got}")
        return list(result)
