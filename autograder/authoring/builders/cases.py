"""What a layer check is run on: :class:`LayerCase` (a layer's constructor arguments,
parameters, inputs and what is differentiable), the batches and sequences a vectorization rule
re-runs it on, the names of its gradients and outputs, its sizes and at-scale twin, and the
settings a check draws per grading (:func:`settings_rng`, :func:`drawn_setting`)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.at_scale import (
    MIN_AT_SCALE_NUMBERS,
    DrawnGradients,
    built_with,
    require_at_scale,
)
from nlpdojo_autograder.authoring.at_scale import leaves as _leaves
from nlpdojo_autograder.authoring.builders.wire import _send
from nlpdojo_autograder.authoring.checks import CheckFailure, Payload
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.inputs import settled
from nlpdojo_autograder.runtime.channel import MAX_NDIM


class _FirstInput(tuple):
    """:attr:`LayerCase.differentiable` left to its default, the first input: told apart
    from a ``(0,)`` written (:func:`require_declared_differentiable`)."""


#: the default of :attr:`LayerCase.differentiable`
FIRST_INPUT = _FirstInput((0,))


def require_declared_differentiable(case: LayerCase, inputs: tuple[Any, ...], cls: str) -> None:
    """A case that draws several float inputs says which get a gradient: left to the default,
    only the first input's was checked, and a backward returning ``0 * grad_k`` for the
    others earned full marks (found by an author's trial)."""
    if not isinstance(case.differentiable, _FirstInput):
        return
    floats = [i for i, x in enumerate(inputs)
              if any(np.issubdtype(np.asarray(leaf).dtype, np.floating) for leaf in _leaves(x))]
    if len(floats) > 1:
        raise CheckFailure(
            f"internal: the case of {cls} draws float inputs at positions "
            f"{', '.join(map(str, floats))} but does not say which get a gradient, so only "
            "input 0's would be checked: declare differentiable= in its layer_case (or "
            f"LayerCase): differentiable=({', '.join(map(str, floats))},) for every input "
            "whose gradient the layer returns, differentiable=(0,) where the others are not "
            "differentiated")


@dataclass
class LayerCase:
    """One case of a layer check, drawn by the check from ``ctx.rng()``.

    ``args``/``kwargs`` build the layer (``ctx.backend`` stands for the backend);
    ``params`` sets every parameter by dotted name (so the student's and the reference's
    layers compute with the same values); ``inputs(rng)`` draws the inputs of one application
    (float arrays are sent in the check's dtype, integer arrays as int64; an input may be a
    tuple of arrays, a state ``(h, c)``); ``differentiable`` names the positions of the inputs
    that get a gradient.

    ``names`` names the inputs in feedback and payloads (``("x", "h_prev")``: "dL/dh_prev";
    a tuple input gets a tuple of names, ``("x", ("h_prev", "c_prev"))``); without them an
    input is "input 0". ``outputs`` names the arrays of an output that is a tuple
    (``("h", "c")``). ``cells``: ``{dotted path: stand_in_cell(kind, D, H)}``, the sub-modules a
    sequence check replaces with the grader's stand-in cells (:func:`sequence_checks`).
    """

    args: tuple
    params: dict[str, np.ndarray]
    inputs: Callable[[np.random.Generator], tuple[Any, ...]]
    kwargs: dict[str, Any] = field(default_factory=dict)
    differentiable: tuple[int, ...] = FIRST_INPUT
    train: bool = True
    names: tuple[Any, ...] | None = None
    outputs: tuple[str, ...] | None = None
    cells: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    #: axis 0 of every input, output and gradient is the batch: the values check also runs
    #: forward and backward on a batch :data:`BATCH_FACTOR` times as large (``inputs`` drawn
    #: that many times), and fails a layer whose Python grows with the batch
    #: (:func:`_require_batch_vectorized`)
    batched: bool = True
    #: keyword arguments of the question's ``torch`` forward: the settings drawn for this
    #: case (a leaky ReLU's slope), which the torch forward needs as the layer does
    torch_kwargs: dict[str, Any] = field(default_factory=dict)
    #: for a layer vectorized over time too (a convolution, a pooling over time; not a recurrence):
    #: ``longer(rng, factor)`` gives the inputs and upstream gradient of one application whose time
    #: axis (axis 1 of the first input) is ``factor`` times the case's (the gradient None: drawn by
    #: the check at the true output's shape, :func:`layer_case`'s ``over_time``); the values check
    #: then fails a layer whose Python grows with the length (:func:`_require_time_vectorized`)
    longer: Callable[[np.random.Generator, int], tuple[tuple[Any, ...], Any]] | None = None
    #: the keyword arguments that are sizes (a CNN's ``filters``), which its case at scale may
    #: set otherwise; every other keyword argument is how the layer is built and must be the
    #: same there (:func:`_same_configuration`)
    sizes: frozenset[str] = frozenset()
    #: sizes equal by construction, by where :func:`_sizes` says them (``"argument 1"``, a
    #: keyword's name): a residual block's identity shortcut has as many channels out as in.
    #: Every other two sizes must differ in the case or the case at scale
    #: (:func:`_sizes_told_apart`); another check of the question tells these apart
    tied: frozenset[str] = frozenset()


#: how many times the values check of a layer repeats its batch to look for Python loops
BATCH_FACTOR = 3


#: the most numbers a layer check's output may hold (all its outputs together): the cases'
#: outputs hold at most a few hundred, and the grader allocates upstream gradients of the
#: shape the code under test reports
MAX_LAYER_OUTPUT = 1 << 20


#: the offset of the generators of the batch rule's other draws (apart from the check's own)
BATCH_OFFSET = 0xBA7C


def layer_case(*args: Any, params: dict[str, Callable[[np.random.Generator], Any]] | None = None,
               inputs: Any = (), over_time: Callable[[int], Any] | None = None,
               **fields: Any) -> Callable[[Context], LayerCase]:
    """A layer check's case declared as data, for the cases whose every parameter and input
    is a seeded draw of a shape: the layer built as ``cls(backend, *args)`` (an argument drawn
    per grading given as a ``Draw`` of the context:
    :func:`~nlpdojo_autograder.authoring.inputs.per_grading`); ``params``
    (``{"weight": normal(D, H, scale=0.7)}``) drawn in order from ``ctx.rng()``; ``inputs``
    (``(normal(B, D), (states(B, H), normal(B, H)))``: a tuple for a state ``(h, c)``; or one
    draw of them all, ``padded_sentences(...)``'s ids and lengths) drawn in order from the
    generator of each application; ``fields``: the rest of the :class:`LayerCase`
    (``differentiable``, ``names``, ``outputs``...), a constructor's setting drawn per grading
    given as ``kwargs={"dropout": setting(0.3, 0.6)}``
    (:func:`~nlpdojo_autograder.authoring.inputs.setting`), and any field, ``kwargs`` whole
    among them, given as a ``per_grading`` draw (a ``longer`` whose lengths depend on the
    settings drawn). ``over_time``: for a layer vectorized over time, the inputs of sentences
    ``factor`` times as long, declared as ``inputs`` is (``lambda factor: (normal(B, T *
    factor, D),)``): the :attr:`LayerCase.longer` whose upstream gradient the check draws at
    the true output's shape. The draws are those of :mod:`~nlpdojo_autograder.authoring.inputs`
    (``normal``, ``states``, ``integers``) or any ``draw(rng)``. A case whose inputs need a
    distribution of their own is a function of ``ctx`` returning a ``LayerCase``."""
    def drawn(spec: Any, rng: np.random.Generator) -> Any:
        return tuple(drawn(s, rng) for s in spec) if isinstance(spec, tuple) else spec(rng)

    def case(ctx: Context) -> LayerCase:
        rng = ctx.rng() if params else None  # no parameters: no generator needed
        values = {name: draw(rng) for name, draw in (params or {}).items()}
        given = {name: settled(ctx, value) for name, value in fields.items()}
        for name in ("kwargs", "torch_kwargs"):
            if name in given:
                given[name] = {k: settled(ctx, v) for k, v in given[name].items()}
        if over_time is not None:
            given["longer"] = lambda r, factor: (drawn(over_time(factor), r), None)
        return LayerCase(args=(ctx.backend, *(settled(ctx, a) for a in args)), params=values,
                         inputs=lambda r: drawn(inputs, r), **given)

    return case


def unroll_case(sizes: tuple[int, int, int, int] | dict[str, tuple[int, int, int, int]],
                *cells: str, names: tuple[str, str] = ("xs", "state0")
                ) -> Callable[[Context, str], LayerCase]:
    """The case of an unroll over the grader's stand-in cells, as :func:`sequence_checks`
    takes it (``make(ctx, kind)``): ``cls(backend, D, H)`` on inputs (B, T, D) and an initial
    state of ``kind`` (:func:`state_of`), both differentiated, with a stand-in cell of
    ``kind`` at each dotted path of ``cells`` (``"cell"``; a bidirectional wrapper's
    ``"forward_rnn.cell", "backward_rnn.cell"``). ``sizes``: (B, T, D, H), or one per kind
    (every size varying between a question's checks, none can be taken as fixed)."""
    def make(ctx: Context, kind: str) -> LayerCase:
        b, t, d, h = sizes[kind] if isinstance(sizes, dict) else sizes
        return LayerCase(args=(ctx.backend, d, h), params={}, names=names,
                         inputs=lambda r: (r.standard_normal((b, t, d)),
                                           state_of(kind, r, (b, h))),
                         differentiable=(0, 1),
                         cells={path: stand_in_cell(kind, d, h) for path in cells})

    return make


def _joined(parts: list[Any]) -> Any:
    """The draws ``parts`` (each an array, or a tuple or list of them, of one structure)
    joined along axis 0, array by array (a 0-d array, a setting, is the first's)."""
    first = parts[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_joined([p[i] for p in parts]) for i in range(len(first)))
    arrays = [np.asarray(p) for p in parts]
    if not arrays[0].ndim:
        return arrays[0]
    if any(a.shape[1:] != arrays[0].shape[1:] or a.dtype != arrays[0].dtype for a in arrays):
        raise CheckFailure("internal: the case's inputs(rng) drew arrays of other shapes or "
                           "dtypes on another generator; the batch rule joins draws of one "
                           "shape along axis 0")
    return np.concatenate(arrays, axis=0)


def _varied(x: Any, rng: np.random.Generator) -> Any:
    """``x`` with each float number scaled by its own factor in [1, 1.01] (signs and zeros
    kept; integers as they are)."""
    if isinstance(x, (tuple, list)):
        return type(x)(_varied(a, rng) for a in x)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        return x
    return x * (1.0 + 0.01 * rng.random(x.shape))


def _batch(ctx: Context, factor: int, draw: Callable[[np.random.Generator], Any]) -> Any:
    """The batch rule's batch ``factor`` times the case's: ``factor`` draws joined along axis
    0, each on a generator of its own, none shared with the other size's batch nor with any
    input the code under test was given before. Not the case's batch repeated, nor holding
    it: a loop over the distinct rows (``np.unique(x, axis=0)``), or one that kept the rows it
    saw in an earlier call, ran no more on the larger batch than on the smaller (found by an
    attacker: affine 3 of 3 with a loop over the rows, each way)."""
    start = 0 if factor == 1 else 1
    return _joined([draw(ctx.rng(BATCH_OFFSET + start + k)) for k in range(factor)])


#: how many times the values check lengthens a layer's sentences to look for loops over time
TIME_FACTOR = 3


#: the offset of the generator of those longer inputs (apart from the check's other draws)
TIME_OFFSET = 0x7135


def _grad_outputs(ctx: Context, shape: Any, applications: int) -> list[Any]:
    """One upstream gradient per application, of the output's shape (a tuple for a tuple)."""
    rng = ctx.rng(2)

    def draw(s: Any) -> Any:  # a shape (ints), or a tuple of shapes for a tuple output
        if s and isinstance(s[0], tuple):
            return tuple(draw(x) for x in s)
        return rng.standard_normal(s)

    return [draw(shape) for _ in range(applications)]


def _input_names(case: LayerCase, inputs: tuple[Any, ...]) -> list[tuple[int, str]]:
    """``(position, name)`` of every array of the differentiable inputs, in order: the
    case's ``names``, or "input i" ("input i.j" inside a tuple input)."""
    out = []
    for i in case.differentiable:
        given = case.names[i] if case.names is not None else None
        if isinstance(inputs[i], (tuple, list)):
            if isinstance(given, str):  # one name for the whole state: state0[0], state0[1][0]
                out += [(i, name) for name in _leaf_paths(inputs[i], given)]
            else:
                out += [(i, given[j] if given else f"input {i}.{j}")
                        for j in range(len(_leaves(inputs[i])))]
        else:
            out.append((i, given or f"input {i}"))
    return out


def _leaf_paths(tree: Any, prefix: str) -> list[str]:
    """The names of a nested state's arrays by their index: ``state0[1][0]``."""
    if isinstance(tree, (tuple, list)):
        return [path for k, item in enumerate(tree) for path in _leaf_paths(item,
                                                                             f"{prefix}[{k}]")]
    return [prefix]


def nesting(tree: Any) -> str:
    """A nested state's containers as written: ``tuple(array, array)``, ``list(tuple(array,
    array), tuple(array, array))``. The course library tells them apart by their type (a
    tuple is one layer's ``(h, c)``, a list one state per stacked layer), so a gradient or a
    state that is the right arrays in the other container is wrong (a student trial: an LSTM
    cell's state gradient as a list kept full marks, and the sequence layer above it then
    took the list for a stack's). :func:`nesting_codes` read back, one description of both."""
    return nesting_of_codes(nesting_codes(tree))


#: the payload's key of a state's nesting (:func:`nesting` as codes, :func:`nesting_codes`)
NESTING = "nesting"


def nesting_codes(tree: Any) -> np.ndarray:
    """:func:`nesting` as numbers, a payload entry (the expected store keeps arrays): each
    container in pre-order, 1 a tuple and 2 a list, followed by its length, and 0 an
    array."""
    if isinstance(tree, (tuple, list)):
        codes = [1 if isinstance(tree, tuple) else 2, len(tree)]
        for item in tree:
            codes.extend(nesting_codes(item).tolist())
        return np.asarray(codes, dtype=np.int64)
    return np.zeros(1, dtype=np.int64)


def nesting_of_codes(codes: Any) -> str:
    """:func:`nesting` again from :func:`nesting_codes`' numbers."""
    flat = [int(c) for c in np.asarray(codes).reshape(-1)]

    def read(at: int) -> tuple[str, int]:
        if at >= len(flat) or flat[at] == 0:
            return "array", at + 1
        kind, count, at = ("tuple" if flat[at] == 1 else "list"), flat[at + 1], at + 2
        items = []
        for _ in range(count):
            item, at = read(at)
            items.append(item)
        return f"{kind}({', '.join(items)})", at

    return read(0)[0]


def _grad_key(case: LayerCase, name: str) -> str:
    """The payload key of dL/d(input): "dL/dh_prev" for a named input, "grad input 0"."""
    return f"dL/d{name}" if case.names is not None else f"grad {name}"


#: the payload's name of a forward's output that is one array
SINGLE_OUTPUT = "output"


def _output_names(case: LayerCase, count: int) -> tuple[str, ...]:
    """The payload's names of a forward's output that is a tuple of ``count`` arrays: the
    case's ``outputs``, else ``output 0``, ``output 1``, ..."""
    return case.outputs or tuple(f"{SINGLE_OUTPUT} {k}" for k in range(count))


def _output_payload(ctx: Context, cls: str, case: LayerCase, output: Any) -> Payload:
    """The forward's output by name: :data:`SINGLE_OUTPUT`, or one entry per array of a
    tuple (:func:`_output_names`)."""
    if not isinstance(output, (tuple, list)):
        return {SINGLE_OUTPUT: ctx.to_numpy(output, f"{cls}.forward's output")}
    names = _output_names(case, len(output))
    if len(names) != len(output):
        raise CheckFailure(f"{cls}.forward's output holds {len(output)} arrays; it should hold "
                           f"{len(names)}: {', '.join(names)}")
    return {n: ctx.to_numpy(o, f"{cls}.forward's {n}") for n, o in zip(names, output,
                                                                      strict=True)}


def _known_output_shapes(known: Payload, case: LayerCase) -> list[tuple[int, ...]] | None:
    """The shapes of the forward's outputs in a values check's expected payload (the names
    :func:`_output_payload` gives them); None where it holds none of them."""
    if SINGLE_OUTPUT in known:
        return [tuple(np.shape(known[SINGLE_OUTPUT]))]
    names = _output_names(case, len(known))  # numbered: as many as the payload could hold
    present = list(itertools.takewhile(lambda name: name in known, names))
    if not present or (case.outputs and len(present) < len(names)):
        return None
    return [tuple(np.shape(known[name])) for name in present]


def stand_in_cell(kind: str, input_size: int, hidden_size: int) -> tuple[str, int, int]:
    """The spec of a grader stand-in cell (:data:`nlpdojo_autograder.runtime.probes.
    STAND_IN_CELLS`) for :attr:`LayerCase.cells`: ``"array"`` (state h) or ``"pair"`` (state
    (h, c))."""
    if kind not in ("array", "pair"):
        raise ValueError(f"stand-in cell kind {kind!r}: choose 'array' (state h) or 'pair' "
                         "(state (h, c))")
    return (kind, int(input_size), int(hidden_size))


def _with_cells(ctx: Context, case: LayerCase) -> LayerCase:
    """``case`` with the parameters of its stand-in cells drawn (the same for the student's run
    and the reference's: from the check's seed)."""
    if not case.cells:
        return case
    rng, params = ctx.rng(3), dict(case.params)
    for path, (_, d, h) in sorted(case.cells.items()):
        params[f"{path}.weight_x"] = rng.standard_normal((d, h)) / np.sqrt(d)
        params[f"{path}.weight_h"] = rng.standard_normal((h, h)) / np.sqrt(h)
        params[f"{path}.bias"] = 0.5 * rng.standard_normal(h)
    return dataclasses.replace(case, params=params)


class _NotGiven:
    """``at_scale`` left out (:data:`NOT_GIVEN`)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


#: the default of every builder's ``at_scale``: a layer with parameters, an unroll and a
#: function that returns its gradients must name their case at scale, or say ``None`` in the
#: open (:func:`_at_scale_of`)
NOT_GIVEN: Any = _NotGiven()


def _at_scale_of(builder: str, question: str, name: str, at_scale: Any,
                 parameters: bool = True) -> Any:
    """``at_scale`` as given; left out, None for code without parameters, else an error that
    says what to write (a backward computed by numerical differentiation of the forward, one
    run over K perturbed copies, is only stopped by the run at scale)."""
    if at_scale is not NOT_GIVEN:
        return at_scale
    if not parameters:
        return None
    raise ValueError(
        f"{builder}({question!r}, ..., {name!r}) names no case at scale: give at_scale=, the "
        "question's case at a size of at least "
        f"{MIN_AT_SCALE_NUMBERS:,} parameters and inputs (its case factory at other sizes, "
        "weights scaled by 1/sqrt(fan-in)), where a backward that differentiates the forward "
        "numerically cannot finish; or at_scale=None to say in the open that it has none "
        + ("(a layer without parameters, an activation or a pooling, says parameters=False "
           "and needs none) " if builder == "layer_checks" else "")
        + "(docs/authoring.md, 'What every check of a kind requires')")


def _same_configuration(cls: str, case: LayerCase, scaled: LayerCase) -> None:
    """An internal failure (every submission's, the reference's first) where a check's case
    builds the layer otherwise than its case at scale: another keyword argument (a pooling, a
    shortcut, a kernel width, a drop rate; not those the case names as ``sizes``) or other
    stand-in cells. Code could take another path in the check's configuration, never run at
    scale (an encoder's max and final pooling, gated by its mean pooling's case: found by an
    attacker; a QRNN of width 2 gated by a case of width 3, a CNN with dropout by one without,
    found by another)."""
    def modes(c: LayerCase) -> tuple:
        # the kinds of cell, not how many: a stack has another count of layers at scale
        kinds = sorted({spec[0] for spec in (c.cells or {}).values()})
        return (built_with(c.kwargs, case.sizes | scaled.sizes), kinds)

    if modes(case) != modes(scaled):
        raise CheckFailure(
            f"internal: the case at scale builds {cls} with {modes(scaled)}, this check's case "
            f"with {modes(case)}: give each configuration a case at scale of its own "
            "(at_scale=), or name the keyword arguments that are sizes (LayerCase.sizes)")


def _sizes(case: LayerCase) -> dict[str, int]:
    """The whole-number sizes a case builds its layer with: its positional arguments after
    the backend (``Linear(backend, D_in, D_out)``) and the keyword arguments it names as
    ``sizes``, by where they are said ("argument 2", "filters")."""
    found = {f"argument {i}": v for i, v in enumerate(case.args) if i > 0
             and isinstance(v, int) and not isinstance(v, bool)}
    found.update({k: v for k, v in case.kwargs.items() if k in case.sizes
                  and isinstance(v, int) and not isinstance(v, bool)})
    return found


def _sizes_told_apart(cls: str, case: LayerCase, scaled: LayerCase) -> None:
    """An internal failure (every submission's, the reference's first) where the checks
    cannot tell a size of the layer from a number written in or from another of its sizes:
    a size the same in the case and the case at scale (a residual block's kernel width 3 in
    both: ``kernel_size = 3`` written in kept full marks), or two sizes equal to each other in
    both (a sentence CNN with as many filters as embedding dimensions in both: filters taken
    from ``embedding_dim`` kept full marks). Found by an attacker; every size must differ in
    the case at scale, and no two sizes may be equal in both cases."""
    small, large = _sizes(case), _sizes(scaled)
    common = [k for k in small if k in large]
    same = [k for k in common if small[k] == large[k]]
    if same:
        raise CheckFailure(
            f"internal: {cls}'s {', '.join(f'{k} ({small[k]})' for k in same)} is the same in "
            "the case and the case at scale, so code with that number written in passes: "
            "give the case at scale another")
    for i, a in enumerate(common):
        for b in common[i + 1:]:
            if small[a] == small[b] and large[a] == large[b] and not {a, b} <= case.tied:
                raise CheckFailure(
                    f"internal: {cls}'s {a} and {b} are equal in the case ({small[a]}) and in "
                    f"the case at scale ({large[a]}), so code that takes one for the other "
                    "passes: make them differ in one case")


def _params(ctx: Context, case: LayerCase) -> dict[str, Any]:
    return {n: ctx.asarray(v) for n, v in case.params.items()}


def _output_shape(ctx: Context, cls_token: Any, case: LayerCase,
                  inputs: tuple[Any, ...]) -> Any:
    """The shape of one application's output (a tuple of shapes for a tuple output), from a
    forward pass of the code under test."""
    shape = ctx.probe("output_shape")(cls_token, tuple(case.args), case.kwargs,
                                      _params(ctx, case), [_send(ctx, a) for a in inputs],
                                      train=case.train, cells=case.cells or None,
                                      names=case.names)

    def valid(s: Any) -> Any:
        if isinstance(s, tuple) and s and all(isinstance(x, (tuple, list)) for x in s):
            return tuple(valid(x) for x in s)
        if isinstance(s, (list, tuple)) and all(isinstance(x, int) for x in s):
            return tuple(s)
        raise CheckFailure("the layer's output is not an array")

    def elements(s: Any) -> int:
        if s and isinstance(s[0], tuple):
            return sum(elements(x) for x in s)
        if len(s) > MAX_NDIM or any(x < 0 for x in s):
            raise CheckFailure(f"the layer's output has the shape {s}: not an array's")
        return math.prod(s)

    # the grader draws upstream gradients of this shape in its own process: the shape the
    # code under test reports is capped before anything is allocated
    shape = valid(shape)
    if elements(shape) > MAX_LAYER_OUTPUT:
        raise CheckFailure(f"the layer's output has the shape {shape}: over "
                           f"{MAX_LAYER_OUTPUT:,} numbers for a check whose inputs are a few "
                           "dozen; check what forward returns")
    return shape


def _gradient_shape_problem(cls: str, name: str, shape: tuple, true: tuple,
                            result: dict[str, Any], application: int) -> str:
    """What a backward's input gradient of the wrong ``shape`` (``true``: the input's) says.
    The upstream gradient had the shape of the student's own output: where that output is
    short along the same axis as the gradient (a forward that drops its last step, whose
    backward then follows it), the forward is the mistake, said even where no reference or
    torch gives the true output's shape (a student release)."""
    axes = [k for k in range(len(shape)) if len(shape) == len(true) and shape[k] != true[k]]
    outputs = (result.get("outputs") or [None] * (application + 1))[application]
    if len(axes) == 1 and axes[0] > 0:
        k = axes[0]
        for out in _leaves(outputs if isinstance(outputs, (tuple, list)) else (outputs,)):
            if np.ndim(out) > k and np.shape(out)[k] == shape[k]:
                return (f"your forward returned {shape[k]} step{'s' if shape[k] != 1 else ''} "
                        f"for {true[k]} inputs (axis {k}: its output has shape "
                        f"{np.shape(out)}, {name} {true}), and {cls}.backward followed it (its "
                        f"gradient of {name} has shape {shape}): fix the forward first")
    return f"{cls}.backward's gradient of {name} has shape {shape}; {name} has shape {true}"


def _same_output_shapes(true: list, yours: list, inputs: Sequence[Any] = ()) -> None:
    """The upstream gradients are drawn at the shapes of the student's outputs: where the true
    forward's differ, say so (a forward's shape is wrong), not torch's broadcasting error, the
    backward's, or the reference's where it runs on them. ``inputs``: the forward's, to say
    a length along time as steps for inputs (:func:`_steps_for_inputs`)."""
    if len(true) != len(yours):
        raise CheckFailure(f"your forward returned {len(yours)} arrays; the true forward "
                           f"returns {len(true)}")
    for k, (t, y) in enumerate(zip(true, yours, strict=True)):
        if tuple(t) != tuple(y):
            which = "the output" if len(true) == 1 else f"output {k}"
            steps = _steps_for_inputs(tuple(y), tuple(t), inputs)
            raise CheckFailure(
                (f"your forward returned {steps}: " if steps else "")
                + f"{which} of your forward has shape {tuple(y)}; on the same inputs the true "
                f"forward's has shape {tuple(t)}: fix the forward's output shape first")


def _steps_for_inputs(yours: tuple, true: tuple, inputs: Sequence[Any]) -> str:
    """"4 steps for 5 inputs" where ``yours`` differs from ``true`` on one axis after the
    batch's alone, along which an input of the forward has the true length (a loop over time
    that stops a step early); "" otherwise."""
    if len(yours) != len(true):
        return ""
    axes = [k for k, (y, t) in enumerate(zip(yours, true, strict=True)) if y != t]
    if len(axes) != 1 or axes[0] == 0:
        return ""
    k = axes[0]
    if not any(np.ndim(x) > k and np.shape(x)[k] == true[k] for x in _leaves(tuple(inputs))):
        return ""
    return f"{yours[k]} step{'s' if yours[k] != 1 else ''} for {true[k]} inputs (axis {k})"


# -- sequences: an unroll over any cell ----------------------------------------------------------
def state_of(kind: str, rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    """An initial state for a stand-in cell of ``kind``: h, or (h, c), each of ``shape``, inside
    (−1, 1) as a tanh RNN makes them."""
    h = np.tanh(rng.standard_normal(shape))
    return h if kind == "array" else (h, np.tanh(rng.standard_normal(shape)))


class Parity:
    """A layer's check against a torch forward alone (:func:`layer_checks`' ``parity``,
    ``<question>.torch``), on a case of its own (other sizes, another kernel width, vectors
    where the other checks take sequences): ``make`` the case, ``title`` and ``points`` the
    check's. It shares the layer's ``torch`` forward, named mistakes, case at scale and
    tolerances, unless ``options`` say otherwise (``torch=``, ``forward_mistakes=``,
    ``at_scale=``...: a layer built with another argument, whose forward differs); where torch
    is not installed in the grader, it compares with the reference instead
    (:func:`torch_check`). Without a ``title``, it is "<layer> against <the torch forward's
    label>" (``Parity(case, points=1.0)``: "LSTMCell against torch.nn.LSTMCell" for a
    :func:`~.torch_oracle.torch_twin`)."""

    def __init__(self, make: Callable[[Context], LayerCase], title: str = "",
                 points: float | None = None, **options: Any) -> None:
        if points is None:
            raise ValueError(f"Parity({title!r}): give its points (points=1.0)")
        self.make, self.title, self.points, self.options = make, title, points, options

    def title_of(self, cls: str, torch: Callable[..., Any] | None) -> str:
        """The check's title: its own, or the layer ``cls`` against its torch forward."""
        label = getattr(self.options.get("torch", torch), "label", "")
        if not self.title and not label:
            raise ValueError(f"Parity of {cls}: give a title (its torch forward has no label)")
        return self.title or f"{cls} against {label}"

    def __repr__(self) -> str:
        return f"Parity({self.title!r}, points={self.points})"


class Variant:
    """One more configuration of a layer that its question checks too (:func:`layer_checks`'
    ``variants``: a kernel's stride or dilation, a pooling, a shortcut, a second cell): its
    case ``make``, its checks' ``title`` and ``points``, and every other argument of
    :func:`layer_checks` it sets otherwise than the question's (``torch=``, ``at_scale=``,
    ``parity=``, ``hidden=``...). ``only`` keeps some of its checks (``("values",)``: a second
    cell's outputs alone), which then share its points. Its checks are named
    ``<check>_<variant>`` (``values_strided``, ``torch_strided``), or as ``names`` says
    (``{"values": "dropout", "eval": "dropout_eval"}``: ids a question had before)."""

    def __init__(self, make: Callable[[Context], LayerCase], title: str, points: float, *,
                 only: tuple[str, ...] | None = None, names: dict[str, str] | None = None,
                 **options: Any) -> None:
        self.make, self.title, self.points, self.only = make, title, points, only
        self.options, self.names = options, dict(names or {})
        if only is not None and set(self.names) - set(only):
            raise ValueError(f"Variant({title!r}): names={self.names} renames checks {only=} omits")

    def named(self, check: str, variant: str) -> str:
        """What this variant's check ``check`` is named, the variant named ``variant``."""
        return self.names.get(check, f"{check}_{variant}")

    def __repr__(self) -> str:
        return f"Variant({self.title!r}, points={self.points})"


def only_the_case_parameters(cls: str, case: LayerCase, grads: dict[str, Any]) -> None:
    """A failure where the layer has a parameter its case does not set (every case sets
    each of the reference's): its values are no one's to check, and an optimizer steps every
    parameter, so a table that must stay as it is (a multichannel CNN's static channel) made a
    ``Parameter`` is trained, whatever its gradient is, where the values of everything else
    match."""
    extra = sorted(set(grads) - set(case.params))
    if extra:
        raise CheckFailure(
            f"{cls} has parameters the released code does not: {', '.join(extra)} (its "
            f"parameters are {', '.join(sorted(case.params)) or 'none'}). An optimizer steps "
            "every Parameter: an array that must never be trained (a frozen table) is a plain "
            "attribute, not a Parameter; otherwise keep the released code's parameters")


def layer_probe(ctx: Context, module: str, cls: str) -> Callable[..., Any]:
    """``run(probe, case, inputs, grads)`` for :func:`~.at_scale.require_at_scale`: one
    application of a new ``module.cls`` of ``case`` to host ``inputs``, backpropagating host
    ``grads`` (probe ``layer_run``), or gradients the run draws itself (``grads`` a
    :class:`~.at_scale.DrawnGradients`: the reference's run), or the output's shape where
    ``grads`` is None (probe ``output_shape``), through ``probe(name, *args, **kwargs)``."""
    token = ctx.function(module, cls)

    def run(probe: Callable[..., Any], case: LayerCase, inputs: tuple[Any, ...],
            grads: Any) -> Any:
        head = (token, tuple(case.args), case.kwargs, _params(ctx, case))
        sent = [_send(ctx, a) for a in inputs]
        options = {"train": case.train, "cells": case.cells or None, "names": case.names}
        if grads is None:
            return probe("output_shape", *head, sent, **options)
        if isinstance(grads, DrawnGradients):
            return probe("layer_run", *head, [sent], None, grad_seed=grads.seed, **options)
        return probe("layer_run", *head, [sent], [_send(ctx, grads)], **options)

    return run


def _layer_at_scale(module: str, cls: str, at_scale: Callable[[Context], LayerCase] | None,
                    make: Callable[[Context], LayerCase] | None = None
                    ) -> Callable[[Context], None] | None:
    """What a layer's checks require at scale (:func:`~.at_scale.gate`), None without a case.
    With the checks' own case ``make``, the case at scale must build the layer the same way
    (:func:`_same_configuration`)."""
    if at_scale is None:
        return None

    def require(ctx: Context) -> None:
        if make is not None:
            case, scaled = make(ctx), at_scale(ctx)
            _same_configuration(cls, case, scaled)
            _sizes_told_apart(cls, case, scaled)
        require_at_scale(ctx, module, cls, at_scale, layer_probe(ctx, module, cls))

    return require
