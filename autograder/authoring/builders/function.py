"""Plain functions, checked: :func:`function_check` (outputs against the reference),
:func:`calls_check` (several calls, :func:`call`, chained or not) and :func:`function_checks`
(a function returning a loss and its gradients, checked by central differences of its own
loss)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.at_scale import gate, require_function_at_scale
from nlpdojo_autograder.authoring.builders.cases import (
    BATCH_FACTOR,
    NOT_GIVEN,
    _at_scale_of,
    _batch,
    _varied,
)
from nlpdojo_autograder.authoring.builders.points import with_hint
from nlpdojo_autograder.authoring.builders.vectorization import counted_lines
from nlpdojo_autograder.authoring.builders.wire import send_argument, stable_call
from nlpdojo_autograder.authoring.checks import Check, CheckFailure, DeclarationError, Payload
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.authoring.inputs import Inspect
from nlpdojo_autograder.authoring.kinds import (
    GradientProblem,
    gradient_check,
    mistaken_outputs,
    value_check,
)

# -- plain functions ---------------------------------------------------------------------------
#: how a check sends arrays to the code under test: ``"backend"`` (``ctx.asarray``: floats in
#: the check's dtype, integers as int64) for code written against the backend, ``"numpy"`` (as
#: they are) for code written in NumPy (evaluation, plots, SciPy counts)
ARRAYS = ("backend", "numpy")


def _sent(ctx: Context, value: Any, arrays: str) -> Any:
    if arrays not in ARRAYS:
        raise ValueError(f"arrays={arrays!r}: one of {ARRAYS}")
    return send_argument(ctx, value) if arrays == "backend" else value


@question_builder
def function_check(name: str,
                   make: Callable[[Context], tuple[tuple, dict[str, Any]] | dict[str, Any]], *,
                   question: str | None = None, module: str | None = None, title: str,
                   points: float, outputs: Sequence[str] = ("output",), rtol: float = 1e-6,
                   check: str = "values", in_place: str | None = None, hint: str = "",
                   arrays: str = "backend", inspect: Inspect | None = None,
                   array_outputs: Sequence[str] = (), stable: bool = False,
                   mistakes_of_inputs: dict[str, Callable[[dict[str, Any]], Payload]] | None = None,
                   case: str = "", numbers: Sequence[str] = (), batched: Sequence[str] = (),
                   **options: Any) -> Check:
    """``module.name(*args, **kwargs)``'s outputs (named ``outputs``, a tuple when several)
    against the reference's on the inputs ``make(ctx)`` draws; the check is
    ``<question>.<check>``. ``make`` returns ``(args, kwargs)`` (arrays: ``ctx.asarray``) or
    the arguments by name in call order (:func:`~.inputs.inputs`), sent as
    ``arrays`` says (:data:`ARRAYS`). ``inspect(outputs, inputs)`` may fail the check first
    with a message naming a likely mistake (:mod:`.inputs`).

    ``in_place``: the parameter the function is documented to update in place and return (a
    sparse SGD step: a copy per step would cost more than the step); a result that is a copy,
    or an argument left unchanged, fails with that said (and ``hint``: how to do it); without
    ``in_place``, ``hint`` is added to every failure of the check (:func:`.points.with_hint`).
    ``array_outputs``: the outputs the contract asks to be arrays (:func:`function_checks`);
    ``numbers``: those it returns as Python numbers (:func:`function_checks`).
    ``stable``: the function promises numerical stability, so it runs with floating-point
    overflow raised (:func:`stable_call`). ``mistakes_of_inputs``: known wrong versions
    that need the check's inputs, ``{"what the student did (the fix)": f(inputs)}``, ``f``
    given a copy of the arguments ``make`` drew by name (as NumPy arrays) and returning the
    outputs that mistake gives; the grader computes them beside the outputs, and outputs equal
    to one's are told which mistake it is (:func:`~.kinds.value_check`'s
    ``computed_mistakes``). ``case``: what the inputs are, where ``make`` draws particular
    ones (``"on scores around 1000"``): the messages name an output ``softmax on scores around
    1000`` (``softmax's <output> on ...`` for one of several), not by its key. ``batched``:
    the arguments (``make`` drawing them by name) whose first axis is a batch of independent
    rows; the function must then be vectorized over it (:func:`function_checks`' rule).
    """
    if batched and in_place is not None and in_place in batched:
        raise ValueError(f"function_check({name!r}): the argument updated in place "
                         f"({in_place!r}) cannot be batched")
    positions = _array_positions(outputs, array_outputs)
    computed = tuple(mistakes_of_inputs or ())
    labels = {o: (f"{name} {case}" if len(outputs) == 1 else f"{name}'s {o} {case}")
              for o in outputs} if case else {}

    def run(ctx: Context) -> Payload:
        made = make(ctx)
        mistaken: Payload = {}
        if isinstance(made, dict) and computed and not ctx.expected_only:
            # before the call: an in-place update of the code under test changes no copy
            for i, wrong in enumerate((mistakes_of_inputs or {}).values()):
                theirs = wrong({k: np.copy(v) if isinstance(v, np.ndarray) else v
                                for k, v in made.items()})
                mistaken.update(mistaken_outputs(i, theirs))
        if isinstance(made, dict):
            drawn, args, kwargs = made, [_sent(ctx, a, arrays) for a in made.values()], {}
        else:
            (args, kwargs), drawn = made, {}
        func = ctx.function(module, name)
        if stable:
            result = stable_call(ctx, func, args, kwargs)
        elif in_place is None:
            result = func(*args, **kwargs)
        else:
            result, updated = func.call(args, kwargs, mutable=(in_place,))
            _require_in_place(ctx, name, in_place, updated, result, hint)
        ctx.require_arrays(name, positions)
        values = ctx.unpack(result, list(outputs), name) if len(outputs) > 1 else [result]
        out = {o: ctx.to_numpy(v, labels.get(o, f"{name}'s {o}"), number=o in numbers)
               for o, v in zip(outputs, values, strict=True)}
        if inspect is not None:
            inspect(out, drawn)
        if batched:
            if not drawn:
                raise DeclarationError(f"function_check({name!r}, batched=...): make draws "
                                       "the arguments by name (inputs(...)), which the rule "
                                       "batches")
            _require_function_vectorized(ctx, module, name, drawn, batched,
                                         () if in_place is None else (in_place,))
        return {**out, **mistaken}

    made = value_check(check, title, points, run, question=question, rtol=rtol,
                       computed_mistakes=computed, labels=labels, **options)
    # the hint of an in-place update is said with that failure; any other, with every failure
    # (it was dropped without a word where in_place was not given)
    return with_hint(made, hint) if hint and in_place is None else made


@dataclass(frozen=True)
class Call:
    """One call of a :func:`calls_check`; made by :func:`call`."""

    name: str
    args: tuple
    kwargs: dict[str, Any]
    out: tuple[str, ...]
    each: str | None = None
    inspect: Inspect | None = None
    writes: str | None = None
    compare: bool = True
    numbers: tuple[str, ...] = ()


def call(name: str, *args: Any, out: str | Sequence[str], each: str | None = None,
         inspect: Inspect | None = None, writes: str | None = None, compare: bool = True,
         numbers: Sequence[str] = (), **kwargs: Any) -> Call:
    """``name(*args, **kwargs)``, a function of the check's module, in a :func:`calls_check`.

    A ``str`` argument names an input (or an output of an earlier call, to chain calls); wrap
    a string meant as it is in :func:`literal`; any other value is passed as it is. ``out``
    names the result (a tuple of names: the function returns that many values). ``each``
    names an argument holding a list: the function is called once per element, each call
    returning a number, and the numbers form one output (a schedule at several steps).
    ``inspect(outputs so far, inputs)`` runs right after the call (so a wrong result is blamed
    on this function, not on a later one that uses it). ``writes``: the name of a
    :func:`~.inputs.scratch` file the call must write, its kind told by its
    suffix (:data:`FILE_KINDS`). ``compare=False``: the outputs are inspected or passed on,
    not compared with the reference's. ``numbers``: the outputs (of ``out``) the contract
    returns as Python numbers; any other is judged an array (:mod:`.returned`).
    """
    if each is not None and each not in args:
        raise ValueError(f"call({name!r}): each={each!r} names none of its arguments {args}")
    outs = (out,) if isinstance(out, str) else tuple(out)
    if set(numbers) - set(outs):
        raise ValueError(f"call({name!r}): numbers={tuple(numbers)} names none of out={outs}")
    return Call(name, args, kwargs, outs, each, inspect, writes, compare, tuple(numbers))


@dataclass(frozen=True)
class literal:  # noqa: N801 - reads as a marker in a call's arguments
    """A string argument of a :func:`call` passed as it is, not the name of an input."""

    value: Any


#: what a file a call must write starts with, by suffix: (what it is, magic bytes, least size)
FILE_KINDS = {".png": ("a PNG image", b"\x89PNG\r\n\x1a\n", 1000)}


@question_builder
def calls_check(check: str, title: str, points: float, make: Callable[[Context], dict[str, Any]],
                calls: Sequence[Call], *, question: str | None = None, module: str | None = None,
                arrays: str = "backend", inspect: Inspect | None = None,
                after: Callable[[Context], None] | None = None, **options: Any) -> Check:
    """The values of several calls of functions of ``module`` (:func:`call`) on the inputs
    ``make(ctx)`` draws (:func:`~.inputs.inputs`), in order, against the
    reference's: one function on several inputs (a softmax of a matrix, of a vector, of large
    scores), several functions on one input (cosines, neighbours and a correlation of the same
    vectors), a call whose result the next one takes (fit, then apply). Arrays are sent as
    ``arrays`` says (:data:`ARRAYS`); ``inspect(outputs, inputs)`` runs after the last call;
    ``options`` go to :func:`~.kinds.value_check` (``rtol``, ``up_to_sign``,
    ``mistakes``, ``hidden``, ``swap_in``...). Two calls may not name one output the same
    (the first's would be compared as the second's: never). ``after(ctx)``: a rule run once
    the calls are judged (:func:`~.vectorization.require_vectorized`, say).
    """
    named = [o for c in calls for o in c.out]
    twice = sorted({o for o in named if named.count(o) > 1})
    if twice:
        raise ValueError(f"calls_check({check!r}): the calls name their outputs "
                         f"{', '.join(map(repr, twice))} more than once; only the last would be "
                         "compared: give each call's outputs names of their own")
    def arg(space: dict[str, Any], a: Any) -> Any:
        if isinstance(a, literal):
            return a.value
        if isinstance(a, str):
            if a not in space:
                raise ValueError(f"calls_check({question}.{check}): no input or output {a!r}")
            return space[a]
        return a

    def one(ctx: Context, c: Call, space: dict[str, Any]) -> list[Any]:
        func = ctx.function(module, c.name)
        args = [_sent(ctx, arg(space, a), arrays) for a in c.args]
        kwargs = {k: _sent(ctx, arg(space, v), arrays) for k, v in c.kwargs.items()}
        if c.each is None:
            result = func(*args, **kwargs)
            return ctx.unpack(result, list(c.out), c.name) if len(c.out) > 1 else [result]
        at, numbers = c.args.index(c.each), []
        for x in space[c.each]:
            value = ctx.to_numpy(func(*args[:at], _sent(ctx, x, arrays), *args[at + 1:],
                                      **kwargs), f"{c.name}({x!r}, ...)")
            if value.size != 1:
                raise CheckFailure(f"{c.name}({x!r}, ...) should return a number; it returned "
                                   f"an array of shape {value.shape}")
            numbers.append(float(value.reshape(())))
        return [np.array(numbers)]

    def run(ctx: Context) -> Payload:
        drawn = make(ctx)
        space, payload, seen = dict(drawn), {}, {}
        for c in calls:
            values = one(ctx, c, space)
            space.update(zip(c.out, values, strict=True))
            seen.update({o: ctx.to_numpy(v, c.name if len(c.out) == 1 else f"{c.name}'s {o}",
                                         number=o in c.numbers)
                         for o, v in zip(c.out, values, strict=True)})
            if c.inspect is not None:
                c.inspect(seen, drawn)
            if c.writes is not None:
                _require_file(ctx, c.name, c.writes)
            if c.compare:
                payload.update({o: seen[o] for o in c.out})
        if inspect is not None:
            inspect(seen, drawn)
        if after is not None:
            after(ctx)
        return payload

    return value_check(check, title, points, run, question=question, **options)


def _require_file(ctx: Context, function: str, name: str) -> None:
    """The scratch file ``name`` must have been written, and be of the kind its suffix says."""
    what, magic, least = FILE_KINDS[PurePath(name).suffix.lower()]
    data = ctx.read_scratch_file(name) or b""
    if data[:len(magic)] != magic or len(data) < least:
        raise CheckFailure(f"{function} did not save {what} at the given path")


def _require_in_place(ctx: Context, name: str, argument: str, updated: dict[str, Any],
                      returned: Any, hint: str) -> None:
    """``updated`` holds ``argument`` after the call when the call changed it: it must have
    changed and be what the call returned."""
    if returned is None:
        return  # the comparison of the result says "returned None"
    if argument not in updated or not np.array_equal(
            ctx.to_numpy(updated[argument], name), ctx.to_numpy(returned, name)):
        raise CheckFailure(f"{name} must update `{argument}` in place and return it; the "
                           f"{argument} passed in is unchanged or differs from the one returned "
                           f"(a copy?). {hint}".rstrip())


#: a gradient of a function's argument: the name of the output holding it, or a function of
#: ``(outputs, args)`` (NumPy) that rebuilds it (from multiples of a vector, say)
GradientOf = str | Callable[[dict[str, np.ndarray], dict[str, Any]], np.ndarray]


@question_builder
def function_checks(name: str, make: Callable[[Context], dict[str, Any]], *,
                    question: str | None = None, module: str | None = None, outputs: Sequence[str],
                    points: dict[str, float], title: str,
                    gradients: dict[str, GradientOf] | None = None,
                    torch: Callable[..., Any] | None = None, inspect: Inspect | None = None,
                    titles: dict[str, str] | None = None,
                    cases: dict[str, tuple[Callable[[Context], dict[str, Any]],
                                           Callable[..., None] | None]] | None = None,
                    rtol: float = 1e-6, sampling: dict[str, int] | None = None,
                    array_outputs: Sequence[str] = (), stable: Sequence[str] = (),
                    at_scale: Callable[[Context], dict[str, Any]] | None = NOT_GIVEN,
                    numbers: Sequence[str] = (), batched: Sequence[str] = (),
                    **options: Any) -> list[Check]:
    """The checks of a function that returns a value and gradients (a loss and its gradients,
    as CS224n's assignment 2 asks: ``loss, grad_a, grad_b = f(a, ..., b)``).

    ``make(ctx)`` draws the arguments, by parameter name in call order (float arrays are sent
    in the check's dtype, integer arrays as int64, anything else, such as another function's
    token, as it is). ``points`` names the checks and their points:

    * ``values``: every output (named ``outputs``, the first the loss) against the reference;
    * ``hidden``: the same on another seed, only where the reference is installed;
    * ``gradient``: for each argument of ``gradients`` (default: ``grad_<arg>`` for each
      output of that form), the returned gradient against central differences of the
      function's own loss, that loss against the true one, the gradient against the
      reference's and, where torch is installed, against autograd of ``torch(**arguments)``,
      the true loss written in torch (a second oracle), called with every argument by name: those
      differentiated as float64 tensors, the others as ``make`` drew them.

    ``inspect(outputs, args)`` may raise a :class:`CheckFailure` that names a likely mistake
    (a wrong shape, say) before the comparison (:func:`~.inputs.require`,
    ``require_finite``, ``require_shapes``). ``titles`` overrides the checks' titles.
    ``cases`` adds value checks on inputs of their own: ``{name: (make, inspect)}`` (scores
    around 1000, say, with an ``inspect`` that requires a finite loss), named in ``points``.
    ``sampling`` sets the gradient check's ``max_full``, ``n_samples`` and ``n_directions``
    (:func:`~.kinds.gradient_check`): sampled coordinates and random
    directions where one loss evaluation is expensive (a window of calls, say).
    ``array_outputs``: the outputs the contract asks to be arrays (a loss as a 0-d array): a
    Python number returned there fails every check, saying so (:meth:`~.context.Context.
    require_arrays`). ``numbers``: the outputs the contract returns as Python numbers
    (CS224n's ``float(loss)``); every other output of a call given the backend's arrays must
    be an array of their namespace, device and dtype (:mod:`.returned`).
    ``stable``: the checks (of ``points``) that run the function with
    floating-point overflow raised (:func:`stable_call`): a case of large scores.
    ``at_scale``: arguments (as ``make`` draws them) at a size where gradients found by
    differentiating the function numerically cannot be computed in the check's time and
    memory (at least :data:`~.at_scale.MIN_AT_SCALE_NUMBERS` float numbers); every check then
    requires the reference's outputs there too (:func:`~.at_scale.require_function_at_scale`).
    ``batched``: the arguments whose first axis is a batch of independent examples; the
    ``values`` check then requires the function vectorized over it (as many lines of Python
    on :data:`~.cases.BATCH_FACTOR` times the batch: :func:`_require_function_vectorized`).
    """
    titles = {"values": f"{title}: against the reference", "hidden": f"{title}: another seed",
              "gradient": f"{title}: gradients by central differences", **(titles or {})}
    grads = gradients if gradients is not None else {
        o[len("grad_"):]: o for o in outputs if o.startswith("grad_")}
    if "gradient" in points and not grads:  # it passed checking nothing ("match ()")
        raise ValueError(f"function_checks({name!r}): a gradient check, but no output is named "
                         f"grad_<argument> ({', '.join(outputs)}) and no gradients= says which "
                         "output is the gradient of which argument")

    def call(ctx: Context, args: dict[str, Any], strict: bool = False) -> dict[str, Any]:
        func, sent = ctx.function(module, name), [send_argument(ctx, a) for a in args.values()]
        result = stable_call(ctx, func, sent) if strict else func(*sent)
        ctx.require_arrays(name, _array_positions(outputs, array_outputs))
        return dict(zip(outputs, ctx.unpack(result, list(outputs), name), strict=True))

    def numpy_outputs(ctx: Context, args: dict[str, Any], inspect: Callable[..., None] | None
                      = inspect, strict: bool = False) -> dict[str, np.ndarray]:
        out = {o: ctx.to_numpy(v, f"{name}'s {o}", number=o in numbers)
               for o, v in call(ctx, args, strict).items()}
        if inspect is not None:
            inspect(out, args)
        return out

    def values(ctx: Context) -> Payload:
        args = make(ctx)
        out = numpy_outputs(ctx, args)
        if batched:
            _require_function_vectorized(ctx, module, name, args, batched)
        return out

    def case(draw: Callable[[Context], dict[str, Any]], check: Callable[..., None] | None,
             strict: bool) -> Callable[[Context], Payload]:
        return lambda ctx: numpy_outputs(ctx, draw(ctx), check, strict)

    def gradient(ctx: Context) -> GradientProblem:
        args = make(ctx)
        out = numpy_outputs(ctx, args)
        analytic = {a: out[g] if isinstance(g, str) else g(out, args) for a, g in grads.items()}

        def loss(p: dict[str, np.ndarray]) -> float:
            return float(call(ctx, {**args, **p})[outputs[0]])

        true = None
        if torch is not None:
            def true(p: dict[str, Any]) -> Any:
                return torch(**{**args, **p})
        return GradientProblem(loss=loss, point={a: np.asarray(args[a], np.float64)
                                                 for a in grads},
                               analytic=analytic, autograd_loss=true,
                               autograd_inputs={"args": args})

    unknown = set(stable) - set(cases or {})
    if unknown:
        raise ValueError(f"function_checks({question!r}): stable names no case: "
                         f"{sorted(unknown)}")
    made = {"values": lambda p: value_check("values", titles["values"], p, values,
                                            question=question,
                                            rtol=rtol, **options),
            "hidden": lambda p: value_check("hidden", titles["hidden"], p, values,
                                            question=question,
                                            rtol=rtol, hidden=True, **options),
            "gradient": lambda p: gradient_check("gradient", titles["gradient"], p,
                                                 gradient,
                                                     question=question,
                                                     **(sampling or {}), **options)}
    for cname, (draw, check) in (cases or {}).items():
        made[cname] = lambda p, cname=cname, draw=draw, check=check: value_check(
            cname, titles.get(cname, f"{title}: {cname}"), p,
            case(draw, check, cname in stable), question=question, rtol=rtol, **options)
    unknown = set(points) - set(made)
    if unknown:
        raise ValueError(f"function_checks({question!r}): unknown checks {sorted(unknown)}")
    at_scale = _at_scale_of("function_checks", question, name, at_scale)
    scaled = None if at_scale is None else (lambda ctx: require_function_at_scale(
        ctx, module, name, at_scale, outputs, lambda a: send_argument(ctx, a), numbers))
    return [gate(made[c](p), scaled) for c, p in points.items()]


def _require_function_vectorized(ctx: Context, module: str | None, name: str,
                                 args: dict[str, Any], batched: Sequence[str],
                                 mutable: Sequence[str] = ()) -> None:
    """Fail unless one call of the function runs as many lines of the submission's Python on
    :data:`~.cases.BATCH_FACTOR` times the batch (the ``batched`` arguments each drawn that
    many times over, varied, along axis 0) as on the batch itself, as the layers' rule
    (:func:`~.vectorization._require_batch_vectorized`). A minibatched loss written as a
    Python loop over its pairs earned full marks, hidden checks and training included, where
    its README says "no loops" (a newcomer's trial). ``mutable``: the parameters it updates
    in place by contract."""
    func = ctx.function(module, name)

    def at(factor: int) -> Callable[[], list[Any]]:
        drawn = {k: _batch(ctx, factor, lambda r, v=v: _varied(v, r)) if k in batched else v
                 for k, v in args.items()}
        return lambda: [send_argument(ctx, a) for a in drawn.values()]

    lines = [counted_lines(ctx, f"{name}()", func, at(factor), mutable=mutable)
             for factor in (1, BATCH_FACTOR)]
    rows = len(args[batched[0]])
    if lines[1] - lines[0] >= (BATCH_FACTOR - 1) * rows:
        raise CheckFailure(
            f"{name}(), one call, runs {lines[0]:,} lines of Python for a batch of {rows} and "
            f"{lines[1]:,} for a batch of {BATCH_FACTOR * rows}: a Python loop over the batch "
            "(a for loop, a comprehension). It is vectorized over the batch: whole-array "
            "operations of the namespace on the (B, ...) arrays (xp.vecdot, xp.matmul, "
            "broadcasting, xp.sum(..., axis=...), backend.scatter_add for rows that repeat), "
            "no loop over its rows")


def _array_positions(outputs: Sequence[str], arrays: Sequence[str]) -> dict[str, str]:
    """For :meth:`~.context.Context.require_arrays`: the positions in a result of ``outputs``
    (the result itself for one output) of those named in ``arrays``, with their names."""
    unknown = set(arrays) - set(outputs)
    if unknown:
        raise ValueError(f"array_outputs {sorted(unknown)} are not outputs {list(outputs)}")
    if len(outputs) == 1:
        return {"*": f"its {outputs[0]}"} if arrays else {}
    return {str(i): f"its {o}" for i, o in enumerate(outputs) if o in arrays}
