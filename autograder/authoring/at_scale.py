"""A layer's backward at a size where only backpropagation finishes.

The layer checks compare a backward with central differences at sizes of a few dozen numbers,
where a backward that *differentiates the forward numerically* gives the same gradients: one
coordinate at a time (the line counter of :func:`~.builders._require_derived_backward` fails
it), or all of them at once, a forward written to run over a stack of K perturbed copies of
every parameter (complex-step derivatives are exact to rounding; an attacker's generic 30-line
helper took the LSTM cell, the GRU cell and the highway connection, 10 points, this way).
The stacked forward costs K times the forward, in time and in memory, with K the number of
parameters: at a few dozen that is nothing, at a few hundred thousand it is hundreds of
gigabytes or an hour, while the chain rule's backward costs about two forwards there too.

So a layer question may name a case *at scale* (``layer_checks(..., at_scale=...)``): once per
grading the grader builds the layer at that size, runs one forward and backward of the code
under test (the check's time and memory limits apply, measured outside the worker, where no
code under test can reach them) and compares the output and every gradient with the reference
run by the grader on the same numbers. The run is measured too, against the reference's on
the same call: its lines of Python (a loop over groups of coordinates) and its CPU time (such
groups stacked into a few large forwards, a forward per group), read from outside the
worker (:class:`_Work`). Every check of the layer requires this run to agree
(:func:`gate`): a check that fails on its own says why as before (a wrong forward is named),
and where it earns nothing on its own the run is not made; one that would pass fails with
what went wrong at scale. The run's verdict is kept for the grading's other checks.

Where there is no reference (a student release) nothing is compared: a release is practice,
and only a grading with the reference counts (docs/security.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.checks import (
    Check,
    CheckFailure,
    Payload,
    Verdict,
    split_payload,
)
from nlpdojo_autograder.authoring.context import Context, outgoing
from nlpdojo_autograder.authoring.reference_runs import Run
from nlpdojo_autograder.runtime.calls import StudentError
from nlpdojo_autograder.runtime.channel import Token

#: how closely the run at scale must agree with the reference's, relative to each array's norm
#: (float64 code under test; float32 backends get float32's precision)
AT_SCALE_RTOL = {True: 1e-7, False: 1e-3}
#: at scale the forward and backward of the code under test may run this many times the
#: reference's lines of Python on the same call, and this many more (honest code runs as many
#: lines at any size, a few times the reference's at most; a backward that differences the
#: forward loops over coordinates, or over groups of them that reach separate outputs: an
#: attacker's, over a row's coordinates and the parameters' rows, block by block, passed the
#: LSTM and GRU cells and the 1-D convolution at scale in 6-13 s)
AT_SCALE_LINES_RATIO, AT_SCALE_LINES_SLACK = 8, 60
#: at scale the code under test may use this many times the reference's CPU time on the same
#: call, and never less than the floor (seconds): the course's honest runs take 0.01-0.6 s
#: there (1-7 times the reference's, the QRNN's 8,192 steps the most); a backward that
#: differences the forward in groups of coordinates stacked into a few large forwards (few
#: lines: an attacker's kept the LSTM and GRU cells and the 1-D convolution) runs a forward
#: per group, 3-17 s, hundreds of times the reference's. CPU time, every thread's, read by the
#: grader from outside the worker (``/proc``), is not wall time: a busy machine slows
#: neither side much. The ratio has teeth only where the reference's time is its arithmetic,
#: not the fixed cost of a call (~10 ms): a case at scale takes a batch that makes it so
#: (a Linear's forwards on bumps took 0.39 s at 16 rows, under the floor; 13 s at 512)
AT_SCALE_CPU_RATIO, AT_SCALE_CPU_FLOOR_S = 50, 1.0
#: a case at scale must have at least this many numbers to differentiate, parameters and
#: differentiable inputs together (what makes K stacked copies infeasible)
MIN_AT_SCALE_NUMBERS = 100_000


#: the payload key under which a gated check's collect keeps what went wrong at scale
PROBLEM_KEY = "at scale|problem"


#: what a check gated by the run at scale judges itself (:func:`gate`'s ``judges``): values
#: wrong at scale in nothing it judges are the value checks' to charge, not its own
EVERYTHING, PARAMETER_GRADIENTS = "everything", "parameter gradients"
#: the name :func:`_pairs` gives an input's gradient
INPUT_GRADIENT = "gradient of the input"


def gate(check: Check, require: Callable[[Context], None] | None, *,
         judges: str = EVERYTHING) -> Check:
    """``check``, earned only where ``require(ctx)`` (:func:`require_at_scale`, run after the
    check's own collect) also passes. The check's own verdict comes first: where it fails, its
    message is the feedback (the mistake it names), and where the reference's payload is
    known it is judged first, the integrity rules' runs (:attr:`Context.deferred`) and the
    run at scale skipped (:func:`earns_nothing`); where it passes, or earns a part, and the
    run at scale failed, it earns nothing and says why. ``require`` None: ``check`` itself.
    ``judges``: what the check judges itself, :data:`PARAMETER_GRADIENTS` (their
    accumulation): values wrong at scale in nothing it judges
    (:meth:`ValuesAtScale.judged_by`: the input's gradient alone) are the value checks' to
    charge, and cost it nothing (a student trial: an input gradient wrong cost the
    accumulation check too, told as a size written in); work too much there, or values it
    judges, still do (an answer pasted from the fixtures is wrong at scale in its output: it
    earns nothing anywhere). An eval-mode check has a run at scale of its own, in eval mode
    (``builders.layer``)."""
    if require is None:
        return check
    own_collect, own_judge = check.collect, check.judge

    def collect(ctx: Context) -> Payload:
        ctx.deferred = []  # the integrity rules' runs, held back until the verdict is known
        try:
            payload = own_collect(ctx)
        finally:
            deferred, ctx.deferred = ctx.deferred, None
        if earns_nothing(own_judge, payload, ctx.known):
            return payload  # the judge below reads nothing of the rules or the run at scale
        for rule in deferred:
            rule()
        try:
            require(ctx)
        except ValuesAtScale as exc:
            return {**payload, PROBLEM_KEY: str(exc)} if exc.judged_by(judges) else payload
        except CheckFailure as exc:
            if str(exc).startswith("internal:"):
                raise  # the declaration's error, not the code's: said as it is
            return {**payload, PROBLEM_KEY: str(exc)}
        return payload

    def judge(actual: Payload, expected: Payload | None) -> Verdict:
        problem = actual.get(PROBLEM_KEY)
        verdict = own_judge({k: v for k, v in actual.items() if k != PROBLEM_KEY}, expected)
        if not problem or not (verdict.passed or verdict.fraction):
            return verdict
        return Verdict(False, str(problem) if verdict.passed else
                       f"{verdict.message} {problem}", fraction=0.0, details=verdict.details)

    return dataclasses.replace(check, collect=collect, judge=judge)


def earns_nothing(judge: Callable[[Payload, Payload | None], Verdict], payload: Payload,
                   known: Payload) -> bool:
    """Whether ``payload`` earns nothing by ``judge``, against the reference's (``known``:
    :attr:`Context.known`, where the grading has it), judged as the grading will judge it (the
    payload as an outcome keeps it). What could only trade one failure for another is then
    skipped: :func:`gate`'s integrity rules and run at scale (a wrong layer costs one run of
    its small case, not also a forward and backward at 100,000 numbers), the runner's strict
    pass. In any doubt (no reference payload, a judge that raises) False: they go ahead."""
    if not known:
        return False
    try:
        arrays, scalars = split_payload(payload)
        verdict = judge({**scalars, **arrays}, known)
    except Exception:  # noqa: BLE001 - the grading judges it again and says what went wrong
        return False
    return not verdict.passed and not verdict.fraction


def require_at_scale(ctx: Context, module: str, cls: str, case: Any,
                     run_layer: Callable[..., Any]) -> None:
    """Fail unless ``module.cls`` at the size of ``case(ctx)`` (a :class:`~.builders.LayerCase`)
    gives the reference's output and gradients; run once per grading, its verdict shared by
    every check of the layer (``ctx.cache``). ``run_layer(probe, case, inputs, grads)`` runs
    ``probe("layer_run", *args, **kwargs)`` on host ``inputs`` and upstream ``grads`` and returns
    its result (``grads`` None: the output's shape, from ``probe("output_shape", ...)``)."""
    if case is None or reference_subject(ctx) is None:
        return
    made = case(ctx)
    built = ", ".join([*(repr(_plain(a)) for a in made.args[1:]),
                       *(f"{k}={_plain(v)!r}" for k, v in made.kwargs.items())])
    what = (module, cls, configuration(made))
    _once(ctx, what, cls, "one forward and backward",
          lambda reference: _problem(ctx, reference, cls, made, run_layer,
                                     kept=(case, ("layer", *what))),
          sizes=f"{cls}({built})")


def configuration(case: Any) -> str:
    """What tells a layer's cases at scale apart (the verdict of one is kept for every check
    that names the same): how the layer is built (its arguments other than the backend, its
    keyword arguments, training or eval mode, the stand-in cells) and the shapes of its
    parameters. Cases that build the layer otherwise (a stride of 2, a projection shortcut,
    mean pooling, a state (h, c)) are each run: code that takes another path for them is
    measured there too."""
    shapes = sorted((name, tuple(np.shape(v))) for name, v in case.params.items())
    return repr((_plain(case.args), _plain(case.kwargs), case.train, _plain(case.cells),
                 shapes))


def built_with(kwargs: dict[str, Any], sizes: frozenset[str] = frozenset()) -> str:
    """The keyword arguments that say how a layer is built, all but ``sizes`` (which a case at
    scale sets otherwise), as :func:`configuration` writes them: a kernel width of 2 is not
    one of 3."""
    return repr(_plain({k: v for k, v in kwargs.items() if k not in sizes}))


def _plain(value: Any) -> Any:
    """A layer's settings as comparable plain data: sequences as tuples, a dict as its sorted
    items, any other object (the backend) by its type's name."""
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _plain(v)) for k, v in value.items()))
    return type(value).__name__  # (the backend)


def require_function_at_scale(ctx: Context, module: str, name: str,
                              draw: Callable[[Context], dict[str, Any]] | None,
                              outputs: Sequence[str], send: Callable[[Any], Any],
                              numbers: Sequence[str] = ()) -> None:
    """As :func:`require_at_scale`, for a function that returns a value and its gradients
    (``loss, grad_a, ... = name(a, ...)``, :func:`~.builders.function_checks`): the arguments
    ``draw(ctx)`` gives (by name, in call order; ``send`` turns each into what is sent), every
    output against the reference's on the same arguments (``numbers``: the outputs the
    contract returns as Python numbers, :mod:`.returned`)."""
    if draw is None or reference_subject(ctx) is None:
        return
    args = draw(ctx)
    shapes = repr(sorted((k, np.shape(v), str(getattr(v, "dtype", type(v).__name__)))
                         for k, v in args.items()))
    _once(ctx, (module, name, shapes), f"{name}()", "its value and gradients",
          lambda reference: _function_problem(ctx, reference, module, name, args, outputs,
                                              send, numbers,
                                              kept=(draw, ("function", module, name, shapes))),
          sizes=f"arguments of shapes {', '.join(f'{k} {np.shape(v)}' for k, v in args.items())}")


def reference_subject(ctx: Context) -> Any:
    """The reference the code under test is measured against (its results at scale, its
    lines of Python); None where nothing is measured: the reference itself is the code under
    test, or there is none (a student release)."""
    if ctx.expected_only or getattr(ctx.subject, "isolation", "") == "trusted":
        return None
    return ctx.trusted()


def on_reference(reference: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Probe ``name`` of :mod:`~nlpdojo_autograder.runtime.probes` run by ``reference`` (the
    tokens in ``args`` name the reference's own functions and classes)."""
    reply = reference.call(Token("function", ("probe", "", name)), outgoing(args),
                           outgoing(kwargs))
    if "error" in reply:
        raise CheckFailure(f"internal: the reference failed in probe {name}: "
                           f"{reply['error'].get('message', '')}")
    return reply["value"]


class ValuesAtScale(CheckFailure):
    """The code under test's values at scale are not the reference's (``parts``: which of
    the output, the input's gradient and the parameters' differ; a wrong shape or an error
    raised there counts as the output), its work within bounds."""

    def __init__(self, message: str, parts: frozenset[str] = frozenset({"output"})) -> None:
        super().__init__(message)
        self.parts = parts

    def judged_by(self, judges: str) -> bool:
        """Whether a check that judges ``judges`` is charged for these values: one of the
        parameters' gradients (their accumulation) not where only the input's differs; a
        pasted answer, wrong at scale in its output, is charged everywhere."""
        if judges == PARAMETER_GRADIENTS:
            return not self.parts <= {INPUT_GRADIENT}
        return True


class _Values(str):
    """A problem at scale that is one of values alone (:class:`ValuesAtScale`), as
    :func:`_problem` and :func:`_once` keep it: ``parts``, what differs."""

    parts: frozenset[str] = frozenset({"output"})


def _values_only(message: str, parts: frozenset[str] = frozenset({"output"}),
                 work: _Work | None = None, what: str = "") -> str:
    """``message`` marked as a values problem of ``parts``, unless ``work`` (measured while
    the values were made) was also too much: then it stays a problem for every check."""
    if work is not None and work.problem(what):
        return message
    marked = _Values(message)
    marked.parts = parts
    return marked


def _once(ctx: Context, what: tuple[str, ...], label: str, work: str,
          problem: Callable[[Any], str], *, sizes: str) -> None:
    """``problem(reference)`` once per grading (the verdict kept in ``ctx.cache`` for the
    other checks), raised as a :class:`CheckFailure` when it is not empty. ``sizes``: what the
    run at scale was (a layer's constructor call), said where the code raised there."""
    reference = reference_subject(ctx)
    if reference is None:
        return
    key = ("at scale", *what)
    if key not in ctx.cache:
        try:
            ctx.cache[key] = problem(reference)
        except StudentError as exc:
            said = (exc.message if exc.type and exc.message.startswith(exc.type)
                    else f"{exc.type or 'an error'}: {exc.message}").strip().rstrip(":.?!")
            # an error (not memory) at scale alone is a size the small cases cannot tell
            # from a number written in (a SentenceLSTM that ignored hidden_size was sent to
            # read about numerical differentiation)
            out_of_memory = exc.type == "MemoryError" or "memory" in said.lower()
            why = _WHY if out_of_memory else _RAISED.format(sizes=sizes)
            raised = f"{label} at scale raised {said}. {why}"
            ctx.cache[key] = raised if out_of_memory else _values_only(raised)
        except BaseException:  # the worker stopped (time or memory): this check says so
            ctx.cache[key] = (f"{label} did not finish {work} at scale within the limits of "
                              f"an earlier check. {_WHY}")
            raise
    if ctx.cache[key]:
        found = ctx.cache[key]
        if isinstance(found, _Values):
            raise ValuesAtScale(str(found), found.parts)
        raise CheckFailure(str(found))


_WHY = ("At this size gradients derived with the chain rule cost about two forward passes; "
        "gradients found by differentiating the forward numerically (central differences or "
        "complex steps, a coordinate at a time, a group of them at a time or all of them "
        "stacked) cost a forward pass per coordinate or group, far beyond the check's time, "
        "memory and lines of Python. Derive them with the chain rule, as the lecture does (a "
        "layer's backward from what its forward cached).")


#: a gradient at scale that is not the true one, where the check's own case matched (the run
#: at scale is held back until then): the commonest cause is a backward right only at the
#: case's sizes and settings (a student trial: a convolution's backward that assigned where
#: overlapping windows add up was told only of numerical differentiation)
_WRONG_BACKWARD = ("The check's own case matched: a backward right only at its sizes and "
                   "settings differs here (a size or a setting written in; gradients of "
                   "windows that overlap only at another stride, which add up, assigned "
                   "instead; a mask or a bound the small case never reaches). Or: " + _WHY)


_RAISED = ("The run at scale, {sizes}, has other sizes than the check's own case: an error "
           "there and none in the small case most often means a size written in, or a "
           "constructor argument left unused (another taken in its place).")


def _problem(ctx: Context, reference: Any, cls: str, case: Any,
             run_layer: Callable[..., Any], kept: tuple[Any, tuple[Any, ...]] | None = None
             ) -> str:
    """What is wrong with the code under test at ``case``'s size ("" where nothing is).
    ``kept``: the case's declaration and what tells its run apart, under which the
    reference's run is kept for the next grading at this draw (:func:`_reference_run`)."""
    rng = ctx.rng(0xA75)
    inputs = tuple(np.asarray(a) if not isinstance(a, (tuple, list)) else a
                   for a in case.inputs(rng))
    parameters = sum(int(np.size(v)) for v in case.params.values())
    count = parameters + sum(int(np.size(leaf)) for i in case.differentiable
                             for leaf in leaves(inputs[i]))
    if count < MIN_AT_SCALE_NUMBERS:
        raise CheckFailure(f"internal: {cls}'s case at scale has {count:,} numbers to "
                           f"differentiate, under {MIN_AT_SCALE_NUMBERS:,}")

    work = _Work(ctx, reference)

    def counted(whose: str, name: str, *args: Any, **kwargs: Any) -> Any:
        if name != "layer_run":
            return work.probe(whose, name, *args, **kwargs)
        # args[0]: the token of the layer's class, whose files are counted
        return work.measured(whose, Token("function", ("probe", "", name)), list(args), kwargs,
                             root_of=args[0] if args else None)

    def on_student(name: str, *args: Any, **kwargs: Any) -> Any:
        return counted("yours", name, *args, **kwargs)

    def on_true(name: str, *args: Any, **kwargs: Any) -> Any:
        return counted("true", name, *args, **kwargs)

    sizes = (f"{parameters:,} parameters" if parameters * 2 >= count
             else f"{count:,} numbers to differentiate")
    # the reference draws the upstream gradient at its output's shape in the same run (no
    # forward of its own apart, only for the shape); the code under test is given it
    drawn = DrawnGradients(int(rng.integers(2**63)))
    true = _reference_run(ctx, work, kept,
                          lambda: run_layer(on_true, case, inputs, drawn))
    grads = true["grad_outputs"][0]
    try:
        yours = run_layer(on_student, case, inputs, grads)
    except _OverCpu:
        return work.stopped(f"At scale ({sizes}) {cls}'s forward and backward")
    except StudentError:
        # an output of another shape fails the backward on the reference's upstream
        # gradient: that is the forward's mistake, not the backward's
        shape = run_layer(on_student, case, inputs, None)
        true_shape = (tuple(np.shape(g) for g in grads) if isinstance(grads, (tuple, list))
                      else np.shape(grads))
        if _plain(shape) != _plain(true_shape):
            return _values_only(f"At scale ({sizes}) {cls}'s output has shape "
                                f"{_plain(shape)}, not {_plain(true_shape)}. " + _WRONG_FORWARD)
        raise
    tol = _tolerance(ctx)
    ran = f"At scale ({sizes}) {cls}'s forward and backward"
    # every part that differs (what a check that judges less is charged for: ValuesAtScale)
    differing: list[tuple[str, str]] = []
    for what, mine, theirs in _pairs(yours, true):
        try:
            problem = _differs(ctx, mine, theirs, tol)
        except CheckFailure as exc:  # a part that cannot be read, after one that differs:
            if not differing:        # it differs too (the first is said, as before)
                raise
            problem = str(exc)
        if problem:
            differing.append((what, problem))
    if differing:
        what, problem = differing[0]
        return _values_only(
            f"At scale ({sizes}; the checks' cases have a few dozen numbers) "
            f"{cls}'s {what} {problem}. "
            + (_WRONG_FORWARD if what == "output" else _WRONG_BACKWARD),
            frozenset(w for w, _ in differing), work, ran)
    return work.problem(ran)


def _reference_run(ctx: Context, work: _Work, kept: tuple[Any, tuple[Any, ...]] | None,
                   run: Callable[[], Any]) -> Any:
    """The reference's result at scale: ``run()`` (counted and timed into ``work``), or the
    one kept from an earlier grading at this draw (:mod:`.reference_runs`: its lines and CPU
    time put in ``work`` as measured then). ``kept``: ``(declaration, what)``, its key beside
    the grading's draw and the seed of the check that drew the case; None, or a grading that
    keeps nothing (``ctx.reference_runs`` None): run."""
    runs = getattr(ctx, "reference_runs", None)
    if runs is None or kept is None:
        return run()
    declared, what = kept
    what = (*what, ctx.seed, ctx.backend.name, ctx.backend.dtype,
            getattr(ctx.backend, "device", None))
    found = runs.get(declared, what)
    if found is None:
        result = run()
        runs.put(declared, what, Run(result, work.lines.get("true", 0), work.cpu.get("true")))
        return result
    work.lines["true"] = found.lines
    if found.cpu is not None:
        work.cpu["true"] = found.cpu
    return found.result


class _Work:
    """The lines of Python and the CPU time of the runs at scale, the code under test's
    (``yours``) and the reference's (``true``): the run compared is the run counted and timed
    (probe ``python_lines_and_result``, with the native thread pools at one thread on both
    sides)."""

    def __init__(self, ctx: Context, reference: Any) -> None:
        #: whose run -> the subject that runs it (its CPU time is read from it)
        self.subjects = {"yours": ctx.subject, "true": reference}
        self.ctx, self.reference = ctx, reference
        self.lines: dict[str, int] = {}
        self.cpu: dict[str, float] = {}
        #: the line the code under test ran most often, where its count noted one
        self.hottest = ""
        #: whether the code under test's run was stopped at :meth:`cap`
        self.capped = False

    def probe(self, whose: str, name: str, *args: Any, **kwargs: Any) -> Any:
        """Probe ``name`` run by the code under test (``yours``) or the reference (``true``)."""
        if whose == "yours":
            return self.ctx.probe(name)(*args, **kwargs)
        return on_reference(self.reference, name, *args, **kwargs)

    def measured(self, whose: str, target: Any, args: list[Any], kwargs: dict[str, Any],
                 root_of: Any = None) -> Any:
        """``target(*args, **kwargs)``'s result, run by ``whose`` side, counted and timed.
        The code under test's run is stopped past :meth:`cap` (:class:`_OverCpu`)."""
        cap = self.cap() if whose == "yours" else None
        with _cpu_time(self.subjects[whose], self.cpu, whose):
            result = self.probe(whose, "python_lines_and_result", target, args, kwargs,
                                root_of=root_of, one_thread=True,
                                **({"cpu_cap": cap} if cap is not None else {}))
        if not isinstance(result, dict) or not {"lines", "result"} <= set(result):
            raise CheckFailure(f"internal: the line count at scale came back as "
                               f"{type(result)}")
        self.lines[whose] = int(result["lines"])
        if whose == "yours":
            self.hottest = _hottest(result.get("hottest"))
            if cap is not None and result.get("cpu_capped") is True:
                self.capped = True
                raise _OverCpu
        return result["result"]

    def cap(self) -> float | None:
        """The CPU seconds past which the code under test's run at scale is stopped: a quarter
        more than :meth:`problem` allows, so that a run stopped there is one it fails on the
        CPU time the grader reads (more, from outside the worker, than the worker's own
        timer counted). None before the reference's run is timed (or where it cannot be)."""
        if "true" not in self.cpu:
            return None
        return 1.25 * self.allowed()

    def allowed(self) -> float:
        """The CPU seconds the code under test may use at scale: :data:`AT_SCALE_CPU_RATIO`
        times the reference's, and never less than :data:`AT_SCALE_CPU_FLOOR_S`."""
        return max(AT_SCALE_CPU_FLOOR_S, AT_SCALE_CPU_RATIO * self.cpu["true"])

    def stopped(self, what: str) -> str:
        """Why a run stopped at :meth:`cap` fails: :meth:`problem`'s reason, or, where the
        CPU time read from outside does not bear out the worker's word that it was stopped,
        that the run gave no result (never a pass: nothing was compared)."""
        return self.problem(what) or (
            f"{what} gave no result (the process running your code said it was stopped for "
            f"its CPU time, which the grader did not measure). {_WHY}")

    def problem(self, what: str) -> str:
        """Why the code under test did too much work at scale ("" where it did not): more
        lines of Python than :data:`AT_SCALE_LINES_RATIO` times the reference's and
        :data:`AT_SCALE_LINES_SLACK` more, or more CPU time than :data:`AT_SCALE_CPU_RATIO`
        times the reference's and :data:`AT_SCALE_CPU_FLOOR_S`."""
        lines, cpu = self.lines, self.cpu
        if lines.get("yours", 0) > AT_SCALE_LINES_RATIO * lines.get("true", 0) + \
                AT_SCALE_LINES_SLACK:
            return (f"{what} ran {lines['yours']:,} lines of Python where the reference's ran "
                    f"{lines['true']:,}{self.hottest}: a Python loop whose turns grow with the "
                    "sizes. " + _LOOPED)
        if "yours" not in cpu or "true" not in cpu:
            return ""  # not measured (no /proc): the lines, values and limits still stand
        allowed = self.allowed()
        if cpu["yours"] <= allowed:
            return ""
        took = (f"was stopped after {cpu['yours']:.2f} s of CPU time" if self.capped
                else f"took {cpu['yours']:.2f} s of CPU time")
        return (f"{what} {took} where the reference's took {cpu['true']:.3f} s on the same "
                f"numbers (at most {allowed:.2f} s is allowed here). " + _TOO_SLOW)


class _OverCpu(Exception):
    """The code under test's run at scale was stopped at :meth:`_Work.cap`."""


@contextlib.contextmanager
def _cpu_time(subject: Any, into: dict[str, float], whose: str) -> Iterator[None]:
    """``into[whose]``: the CPU seconds ``subject``'s process used in the ``with`` block
    (``subject.cpu_seconds()``: the worker's read from ``/proc``, the reference's own
    process's), where both readings can be taken."""
    reading = getattr(subject, "cpu_seconds", None)
    before = reading() if reading is not None else None
    yield
    after = reading() if reading is not None else None
    if before is not None and after is not None:
        into[whose] = max(0.0, after - before)


def _hottest(noted: Any) -> str:
    """The line the worker's count noted most often, as the message says it ("" where it
    noted none, or sent something else: the worker is not trusted, this is only a hint)."""
    if not (isinstance(noted, list) and len(noted) == 2 and isinstance(noted[0], str)
            and type(noted[1]) is int):
        return ""
    file, line = noted
    return f" (most of them at line {line} of {file[:200]})"


#: where the run at scale ran far more lines of Python than the reference's: a loop over the
#: data (a list built element by element over the vocabulary: a student's finding, told it
#: differentiated numerically) or over coordinates (numerical differentiation)
_LOOPED = ("Replace it with operations on whole arrays (no loop over the vocabulary, the "
           "batch, the positions or the coordinates: a one-hot vector, for instance, is "
           "xp.zeros then one assignment, not a list of V numbers). Where the loop is over "
           "the coordinates of a gradient, it differentiates numerically. " + _WHY)


#: where the run at scale took far more CPU time than the reference's
_TOO_SLOW = ("At this size that much work means gradients differentiated numerically (a "
             "forward pass for each coordinate or each group of coordinates, however they are "
             "stacked) or a Jacobian built in full where the chain rule only multiplies by it "
             "(a softmax's (N, C, C) Jacobian where p - y is its product with the upstream "
             "gradient). Derive the backward with the chain rule, as the lecture does, from "
             "what the forward cached, and multiply by each Jacobian without building it.")


#: where the output itself differs at scale, the forward is wrong (no derivative is involved)
_WRONG_FORWARD = ("The forward pass is wrong at this size: where the checks' own cases "
                  "fail too, their messages say how; where they pass, it depends on the "
                  "size (a size written in, such as H = 5, instead of read from the layer's "
                  "arguments or the input's shape).")


def _function_problem(ctx: Context, reference: Any, module: str, name: str,
                      args: dict[str, Any], outputs: Sequence[str],
                      send: Callable[[Any], Any], numbers: Sequence[str] = (),
                      kept: tuple[Any, tuple[Any, ...]] | None = None) -> str:
    """What is wrong with ``name``'s outputs at scale ("" where nothing is); ``kept`` as
    :func:`_problem`'s."""
    count = sum(int(np.size(a)) for a in args.values()
                if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating))
    if count < MIN_AT_SCALE_NUMBERS:
        raise CheckFailure(f"internal: {name}'s arguments at scale have {count:,} numbers to "
                           f"differentiate, under {MIN_AT_SCALE_NUMBERS:,}")
    sent = [send(a) for a in args.values()]
    target, work = ctx.function(module, name), _Work(ctx, reference)
    true = _reference_run(ctx, work, kept, lambda: work.measured("true", target, sent, {}))
    try:
        yours = work.measured("yours", target, sent, {})
    except _OverCpu:
        return work.stopped(f"At scale ({count:,} numbers to differentiate) {name}()")
    if not isinstance(yours, (tuple, list)) or len(yours) != len(outputs):
        return (f"At scale ({count:,} numbers to differentiate) {name}() did not return "
                f"({', '.join(outputs)}). {_WHY}")
    for what, mine, theirs in zip(outputs, yours, true, strict=True):
        problem = _differs(ctx, mine, theirs, _tolerance(ctx), number=what in numbers)
        if problem:
            return (f"At scale ({count:,} numbers to differentiate; the checks' cases have a "
                    f"few dozen) {name}()'s {what} {problem}. {_WHY}")
    return work.problem(f"At scale ({count:,} numbers to differentiate) {name}()")


def _tolerance(ctx: Context) -> float:
    return AT_SCALE_RTOL[ctx.backend.dtype == "float64" or (
        ctx.backend.dtype is None and ctx.backend.name in ("numpy", "strict"))]


def leaves(tree: Any) -> list[Any]:
    """The arrays of a tree of tuples and lists, in order (a layer's inputs, outputs, states)."""
    return [leaf for item in tree for leaf in leaves(item)] if isinstance(
        tree, (tuple, list)) else [tree]


@dataclasses.dataclass(frozen=True)
class DrawnGradients:
    """What a layer's run at scale is given in place of upstream gradients: the seed the run
    draws them from at its outputs' shapes (probe ``layer_run``'s ``grad_seed``), returning
    them as ``grad_outputs``."""

    seed: int


def _pairs(yours: dict[str, Any], true: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(what, yours, true) for the output, each input's gradient and each parameter's."""
    pairs = [("output", yours["outputs"][0], true["outputs"][0]),
             (INPUT_GRADIENT, yours["input_grads"][0], true["input_grads"][0])]
    mine = yours.get("param_grads") or {}
    for name, value in sorted((true.get("param_grads") or {}).items()):
        pairs.append((f"gradient of {name}", mine.get(name), value))
    return pairs


def _differs(ctx: Context, mine: Any, theirs: Any, tol: float, *, number: bool = False) -> str:
    """Why ``mine`` is not ``theirs`` (arrays, or tuples of them) to ``tol`` ("" if it is);
    ``number``: ``mine`` may be a Python number (:meth:`.context.Context.to_numpy`)."""
    if isinstance(theirs, (tuple, list)):
        if not isinstance(mine, (tuple, list)) or len(mine) != len(theirs):
            return "does not have the reference's structure"
        found = (_differs(ctx, m, t, tol) for m, t in zip(mine, theirs, strict=True))
        return next((p for p in found if p), "")
    if theirs is None:
        return "" if mine is None else "is not None (the input takes no gradient)"
    if mine is None:
        return "did not come back"
    mine = ctx.to_numpy(mine, "a result at scale", number=number)
    theirs = np.asarray(theirs, dtype=np.float64)
    if mine.shape != theirs.shape:
        return f"has shape {mine.shape}, not {theirs.shape}"
    if not np.all(np.isfinite(mine)):
        return "holds NaN or inf"
    scale = float(np.linalg.norm(theirs))
    gap = float(np.linalg.norm(mine - theirs))
    if not gap <= tol * scale + 1e-12 * math.sqrt(max(theirs.size, 1)):
        return f"differs from the true one by {gap / max(scale, 1e-300):.2g} (relative)"
    return ""
