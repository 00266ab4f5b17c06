r"""The context a check's ``collect`` runs in (:class:`Context`): the code under test reached
as :class:`RemoteFunction`\ s whose results come back as data, the check's seeded generators,
its backend (:class:`BackendRef`), its oracles computed once and reused on equal inputs
(:meth:`Context.oracle`, :func:`digest_of`), and how arguments go out (:func:`outgoing`).
The checks themselves, and what they return, are :mod:`.checks`'.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.checks import (
    CheckFailure,
    DeclarationError,
    NotAsReturned,
    Payload,
)
from nlpdojo_autograder.authoring.returned import Returned
from nlpdojo_autograder.runtime import probes
from nlpdojo_autograder.runtime.calls import StudentError
from nlpdojo_autograder.runtime.channel import Opaque, Sparse, Token, map_tree


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

    def __init__(self, ctx: Context, token: Token, label: str,
                 local: Callable[[], Any] | None = None) -> None:
        self._ctx, self.token, self.label = ctx, token, label
        #: a subject in the grader's process that answers the call instead (a withheld
        #: function of a swapped-in question the check calls itself: :meth:`Context.function`)
        self._local = local

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(args, kwargs)[0]

    def call(self, args: Sequence[Any], kwargs: dict[str, Any] | None = None, *,
             mutable: Sequence[str] = ()) -> tuple[Any, dict[str, Any]]:
        """``(result, updated)``: ``updated`` maps each argument named in ``mutable`` (by
        parameter name or position) that the call changed to its new value."""
        ctx = self._ctx
        request = (self.token, outgoing(tuple(args)), outgoing(kwargs or {}),
                   tuple(str(m) for m in mutable))
        if self._local is not None:  # the grader's reference, now (never recorded)
            reply = self._local().call(*request, deadline=ctx.deadline)
        elif ctx._recording is not None:  # see Context.batch: note the call, run it later
            ctx._recording.append(request)
            raise _Recorded
        elif ctx._replies:
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
        if isinstance(x, RemoteFunction):
            if x._local is not None:
                raise DeclarationError(
                    f"the check hands {x.label}() to the code under test, a function of a "
                    "question it requires that the reference of its own question never "
                    "calls, so the student's own code of it would run: name that question in "
                    "the check's swap_in (the reference is then swapped in for it whole)")
            return x.token
        return x

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
        reference_runs: Any = None,
        withheld: Collection[tuple[str, str]] = (),
        harness: Callable[[], Any] | None = None,
    ) -> None:
        self.subject = subject
        #: the swapped-in questions' functions that stay the student's own in this check
        #: (:attr:`Check.withheld`); the check's own calls of them (:meth:`function`) are
        #: answered by the reference in the grader, ``harness()``, a subject like
        #: :attr:`subject` on the check's backend and dtype
        self.withheld = frozenset(tuple(pair) for pair in withheld)
        self.harness = harness
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
        #: the reference's runs at scale kept between gradings at this draw
        #: (:class:`~.reference_runs.ReferenceRuns`); None: each grading runs its own
        self.reference_runs = reference_runs
        self._recording: list | None = None
        self._replies: list[dict] = []
        #: what the last calls returned, as returned (:mod:`.returned`): judged by
        #: :meth:`to_numpy`, and read by :meth:`require_arrays`
        self.returned = Returned()
        #: the integrity rules' runs (lines counted at other sizes, a backward traced) that
        #: the check's gate holds back until its own verdict is known
        #: (:func:`~.at_scale.gate`); None: each runs where it is asked (:meth:`rule`)
        self.deferred: list[Callable[[], Any]] | None = None

    def rule(self, run: Callable[[], Any], key: tuple[Any, ...] | None = None) -> None:
        """An integrity rule's ``run`` (it raises :class:`CheckFailure` where broken): now, or,
        where the check's gate defers them (:attr:`deferred`), once the check's own verdict
        is known to earn something. ``key``: what the rule's verdict depends on (the checks
        that may share it, how the layer is built, the shapes it runs at); the verdict is
        kept in :attr:`cache` and the run's other checks with that key take it instead of
        running the rule again (a layer's hidden case and the strict passes count the same
        lines as its values check: the lines counted once per question, issue 66). None where
        the reference runs for its expected values: no judge reads a rule's verdict of the
        reference."""
        if self.expected_only:
            return
        if key is not None:
            run = self._kept_verdict(run, ("integrity rule", *key))
        if self.deferred is None:
            run()
        else:
            self.deferred.append(run)

    def _kept_verdict(self, run: Callable[[], Any], key: tuple[Any, ...]
                      ) -> Callable[[], None]:
        """``run`` with its verdict (passed, or the :class:`CheckFailure` it raised) kept under
        ``key`` in :attr:`cache`; anything else it raises (the code stopped, or broke) is not
        kept: a later check runs it again."""
        def kept() -> None:
            if key in self.cache:
                failure = self.cache[key]
                if failure is not None:
                    raise failure
                return
            try:
                run()
            except CheckFailure as exc:
                self.cache[key] = exc
                raise
            self.cache[key] = None
        return kept

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
                raise DeclarationError(
                    f"ctx.function({module!r}): this check's question names no one module (its "
                    f"code): say which, ctx.function(module, {module!r})")
            module, name = self.code_module, module
        self.touched.add(module)
        token = Token("function", ("student", module, name))
        if (module, name) in self.withheld and self.harness is not None:
            # a required question's function this check swaps in, but the reference of the
            # question under test never reaches: the student's code keeps its own, and the
            # check's call of it, on the check's data, is the reference's (no double charge)
            return RemoteFunction(self, token, name, local=self.harness)
        return RemoteFunction(self, token, name)

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

    @staticmethod
    def is_sparse(x: Any) -> bool:
        """Whether a value the code under test returned is a sparse matrix (SciPy's, as the
        worker sends it), not a dense array: a contract that returns one can say so."""
        return isinstance(x, Sparse) or type(x).__module__.startswith("scipy.sparse")

    def unpack(self, result: Any, names: Sequence[str], func: str) -> list[Any]:
        """Check that ``func`` returned a tuple of ``len(names)`` values and return them."""
        if result is None:
            raise CheckFailure(f"{func} returned None; did you forget `return`?")
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            got = (f"a {type(result).__name__} of {len(result)}"
                   if isinstance(result, (tuple, list)) else type(result).__name__)
            raise CheckFailure(f"{func} should return ({', '.join(names)}); it returned {got}")
        return list(result)
