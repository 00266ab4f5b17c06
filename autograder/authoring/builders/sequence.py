"""An unroll over any cell (an RNN over time): :func:`sequence_checks` runs a layer check
of the unroll over the grader's stand-in cells, and :func:`final_state_check` the state it
hands on (or :class:`FinalState`, that check declared with the others); :func:`stack_case`,
the case of a stack of unrolls (the course library's ``Stacked`` and ``DenselyConnected``).
Lecture: CS224n lecture 6 (backpropagation through time), lecture 7 (multi-layer RNNs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.at_scale import leaves as _leaves
from nlpdojo_autograder.authoring.builders.cases import (
    NESTING,
    NOT_GIVEN,
    LayerCase,
    _at_scale_of,
    _leaf_paths,
    _params,
    _with_cells,
    nesting_codes,
    nesting_of_codes,
    stand_in_cell,
    state_of,
)
from nlpdojo_autograder.authoring.builders.layer import LAYER_SHARES, layer_checks
from nlpdojo_autograder.authoring.builders.points import _share, with_hint
from nlpdojo_autograder.authoring.builders.wire import _host, _send
from nlpdojo_autograder.authoring.checks import Check, Payload, Verdict
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.authoring.inputs import settings_rng
from nlpdojo_autograder.authoring.kinds import value_check

#: the points of the extra state kinds' checks of :func:`sequence_checks`, per kind
SEQUENCE_SHARES = {"values": 0.15, "gradients": 0.15}


@dataclass(frozen=True)
class FinalState:
    """The :func:`final_state_check` of an unroll, declared in its :func:`sequence_checks`
    (``final_state=FinalState(0.25)``): on the case of the last kind of ``states`` (the
    richest state: ``"pair"``'s (h, c), ``"layers"``' list of them), with the unroll's
    ``timeout_s``, worth ``points`` of its own beside the unroll's. ``title`` by default says
    the state after the last step in that kind's words (``"Stacked.final_state: every
    layer's (h, c) after the last step, a list"``); ``hint`` is added to its failure (the given
    code that reads the state: :func:`~.points.with_hint`)."""

    points: float
    title: str | None = None
    hint: str | None = None


STAND_IN_HINT = ("the cells in this check are the grader's stand-ins, made-up formulas whose "
                 "parameters (cell.weight_x, ...) are theirs, not your cell's: it checks your "
                 "{cls} alone. ")
#: how a step-by-step unroll works (a sequence check's default ``recipe``); a wrapper of
#: whole layers says its own (the Bidirectional and Stacked checks were told this one)
UNROLL_RECIPE = ("Forward calls each step's cell on (x_t, state) and keeps that step's cache; "
                 "backward walks the steps in reverse, adding the gradient that comes back "
                 "from step t + 1 to step t's output gradient before calling step t's "
                 "cell.backward with step t's cache (backpropagation through time)")


@question_builder
def sequence_checks(cls: str, make: Callable[[Context, str], LayerCase], *,
                    question: str | None = None, module: str | None = None, title: str,
                    points: float, states: Sequence[str] = ("array",),
                    shares: dict[str, float] | None = None,
                    at_scale: Callable[[Context, str], LayerCase] | None = NOT_GIVEN,
                    final_state: FinalState | None = None, recipe: str = UNROLL_RECIPE,
                    **options: Any) -> list[Check]:
    """The checks of an unroll ``module.cls``: an RNN over time, a bidirectional or stacked
    wrapper, any module that runs cells step by step (CS224n lectures 6-7).

    ``make(ctx, kind)`` returns the :class:`LayerCase` for stand-in cells of ``kind``: its
    ``cells`` name where the unroll keeps its cells (``{"cell": stand_in_cell(kind, D, H)}``;
    ``{"forward.cell": ..., "backward.cell": ...}``; ``{"layers.0.cell": ..., "layers.1.cell":
    ...}``) and its inputs include the initial state (:func:`state_of`). The grader puts its
    own stand-in cells there (:data:`nlpdojo_autograder.runtime.probes.STAND_IN_CELLS`: made-up
    formulas, state ``h`` or ``(h, c)``), so the unroll is checked on its own, whatever the
    student's cell does, with no call-back per step: it must work for any cell honouring
    ``forward(x, state) -> (state, cache)`` and ``backward(grad_state, cache) -> (grad_x,
    grad_state_prev)``, the step's output being the state's first array.

    The checks of :func:`layer_checks` with cells of the first kind of ``states``; each further
    kind (``"pair"``: an LSTM's state) adds ``<kind>_values`` and ``<kind>_gradients``
    (:data:`SEQUENCE_SHARES`). ``at_scale(ctx, kind)``: the case at scale for cells of
    ``kind`` (:func:`layer_checks`' ``at_scale``), each kind's checks gated by its own run,
    so that an unroll that takes another path for another state is measured on that path
    too. ``final_state``: a :func:`final_state_check` too (:class:`FinalState`), after the
    others. ``recipe``: how ``cls`` works, in a sentence or two, added to a failed values or
    gradients check after the stand-ins' note (default: a step-by-step unroll's,
    :data:`UNROLL_RECIPE`; a wrapper of whole layers says its own). ``options`` as for
    :func:`layer_checks`.
    """
    at_scale = _at_scale_of("sequence_checks", question, cls, at_scale)

    def scaled(kind: str) -> Callable[[Context], LayerCase] | None:
        return None if at_scale is None else lambda ctx: at_scale(ctx, kind)

    first, *others = states
    checks = layer_checks(cls, lambda ctx: make(ctx, first),
                          question=question, module=module, title=title,
                          points=1.0, shares=shares, at_scale=scaled(first), **options)
    extra_shares: dict[str, float] = {}
    for kind in others:
        made = layer_checks(cls, lambda ctx, kind=kind: make(ctx, kind),
                            question=question, module=module,
                            title=f"{title}, state {_STATE[kind]}", points=1.0, hidden=False,
                            at_scale=scaled(kind), **options)
        for check in made:
            if check.name in SEQUENCE_SHARES:
                renamed = f"{kind}_{check.name}"
                checks.append(dataclasses.replace(check, name=renamed))
                extra_shares[renamed] = SEQUENCE_SHARES[check.name]
    checks = [with_hint(c, STAND_IN_HINT.format(cls=cls) + recipe)
              if c.name.split("_")[-1] in ("values", "gradients") else c for c in checks]
    checks = _share(checks, points, LAYER_SHARES | extra_shares | dict(shares or {}),
                    named={"shares": shares})
    if final_state is None:
        return checks
    last = states[-1]
    if final_state.title is None and last not in _AFTER_LAST:
        raise ValueError(f"sequence_checks({cls!r}): a FinalState on a state of kind {last!r} "
                         "of your own needs its title")
    state = final_state_check(
        cls, lambda ctx: make(ctx, last), question=question, module=module,
        title=final_state.title or f"{cls}.final_state: {_AFTER_LAST[last]}",
        points=final_state.points,
        **{k: v for k, v in options.items() if k == "timeout_s"})
    return [*checks, with_hint(state, final_state.hint) if final_state.hint else state]


#: added to a failed values or gradients check of an unroll: what the check runs (feedback
#: named the stand-ins' parameters, ``cell.weight_x``, which a student's cell does not have)
#: and the commonest mistake, the gradient not carried back from step to step


_STATE = {"array": "h", "pair": "(h, c)", "layers": "one (h, c) per layer, a list"}
#: the default title of a :class:`FinalState`'s check, by the kind of the state
_AFTER_LAST = {"array": "h after the last step", "pair": "the (h, c) after the last step",
               "layers": "every layer's (h, c) after the last step, a list"}


def stack_case(sizes: tuple[int, int, int, int] | dict[str, tuple[int, int, int, int]], *,
               dense: bool = False, connections: dict[str, str] | None = None,
               depths: tuple[int, int] = (2, 3), dropout: tuple[float, float] = (0.2, 0.6),
               at_scale: bool = False) -> Callable[[Context, str], LayerCase]:
    """The case of a stack of unrolls over the grader's stand-in cells (CS224n lecture 7,
    "Multi-layer RNNs"), as :func:`sequence_checks` takes it (``make(ctx, kind)``): the
    course library's ``Stacked(backend, D, H, layers, dropout=, connection=)``, or with
    ``dense`` its ``DenselyConnected(backend, D, H, layers)`` (layer k's cell reading the
    inputs and every layer below, D + k·H; no dropout, no connection), a stand-in cell at each
    ``layers.<k>.cell``. ``sizes``: (B, T, D, H), or one per kind of state.

    Drawn per grading (:func:`settings_rng`): the number of layers in ``depths`` and the drop
    rate between the layers in ``dropout``, two decimals (the reference's Dropout, swapped
    in, draws the same masks in both runs; an attacker's stack that always built 2 layers with
    dropout 0.3 kept full marks where every check asked for exactly that); ``connections``:
    the connection around the layers for each kind (``{"array": "highway", ...}``: every
    connection asked for in every grading), a highway connection's parameters
    (``connections.<k>.weight`` (H, H), ``.bias`` (H,), k ≥ 1) drawn as a layer's are.
    The kind ``"layers"``: cells with a state (h, c) and an initial state of one (h, c) per
    layer, a list (what a stacked language model carries from window to window); the other
    kinds one state of that kind, which every layer starts from. ``at_scale``: the case at
    scale, with the other number of layers of ``depths`` (with the same, a number written in
    passed every grading that drew it) and the weights at 1/√H."""
    def make(ctx: Context, kind: str) -> LayerCase:
        rng = settings_rng(ctx)
        layers = int(rng.integers(depths[0], depths[1] + 1))
        rate = float(f"{rng.uniform(*dropout):.2f}")
        connection = (connections or {}).get(kind, "none")
        if at_scale:
            layers = sum(depths) - layers
        b, t, d, h = sizes[kind] if isinstance(sizes, dict) else sizes
        cell, std = "pair" if kind == "layers" else kind, h ** -0.5 if at_scale else 0.7
        params_rng, params = ctx.rng(), {}
        for k in range(1, layers) if connection == "highway" and not dense else ():
            params[f"connections.{k}.weight"] = std * params_rng.standard_normal((h, h))
            params[f"connections.{k}.bias"] = 0.5 * params_rng.standard_normal(h)

        def state0(r: np.random.Generator) -> Any:
            if kind == "layers":
                return [state_of("pair", r, (b, h)) for _ in range(layers)]
            return state_of(kind, r, (b, h))

        return LayerCase(args=(ctx.backend, d, h, layers), params=params, names=("xs", "state0"),
                         kwargs={} if dense else {"dropout": rate, "connection": connection},
                         inputs=lambda r: (r.standard_normal((b, t, d)), state0(r)),
                         differentiable=(0, 1),
                         cells={f"layers.{k}.cell": stand_in_cell(
                             cell, d + k * h if dense else h if k else d, h)
                             for k in range(layers)})

    return make


@question_builder
def final_state_check(cls: str, make: Callable[[Context], LayerCase], *,
                      question: str | None = None, module: str | None = None, title: str,
                      points: float, **options: Any) -> Check:
    """A value check of ``cls.final_state(cache)`` after one forward pass on the case's inputs
    (its stand-in cells in place): every array of the state it returns, named by its index
    (``final_state[1][0]``: layer 1's h), must equal the reference's. What a language model
    carries from one window to the next. ``options`` as for :func:`value_check`."""
    def run(ctx: Context) -> Payload:
        case = _with_cells(ctx, make(ctx))
        inputs = tuple(_host(a) for a in case.inputs(ctx.rng(1)))
        state = ctx.probe("final_state_run")(
            ctx.function(module, cls), tuple(case.args), case.kwargs, _params(ctx, case),
            [_send(ctx, a) for a in inputs], train=case.train, cells=case.cells or None)
        names = (_leaf_paths(state, "final_state") if isinstance(state, (tuple, list))
                 else ["final_state"])
        return {**{n: ctx.to_numpy(x, f"{cls}.final_state's {n}")
                   for n, x in zip(names, _leaves(state), strict=True)},
                NESTING: nesting_codes(state)}

    check = value_check("final_state", title, points, run, question=question, **options)
    compare = check.judge

    def judge(actual: Payload, expected: Payload | None) -> Verdict:
        arrays = {k: v for k, v in actual.items() if k != NESTING}
        if expected is not None:
            theirs = {k: v for k, v in expected.items() if k != NESTING}
            if set(arrays) != set(theirs):  # another nesting
                return Verdict(False, f"{cls}.final_state returned {_structure(arrays)}; "
                               f"expected {_structure(theirs)} (the state after the last step, "
                               "in the structure the next window starts from)", fraction=0.0)
            if NESTING in expected and not np.array_equal(
                    np.asarray(actual.get(NESTING, [])), np.asarray(expected[NESTING])):
                got, want = (nesting_of_codes(x.get(NESTING, [0])) for x in (actual, expected))
                return Verdict(False, f"{cls}.final_state returned {got}; the state the next "
                               f"window starts from is {want}: the same arrays in other "
                               "containers (the library tells a state (h, c), a tuple, from a "
                               "stack's list of per-layer states by its type)", fraction=0.0)
        return compare(arrays, None if expected is None else
                       {k: v for k, v in expected.items() if k != NESTING})

    return dataclasses.replace(check, judge=judge)


def _structure(payload: Payload) -> str:
    """What a state's arrays, named by :func:`_leaf_paths`, say of its nesting."""
    names = sorted(payload)
    if names == ["final_state"]:
        return "one array"
    outer = sorted({n.split("]")[0] + "]" for n in names})
    inner = [n for n in names if n.count("[") > 1]
    if not inner:
        return f"{len(names)} arrays side by side (a tuple like (h, c))"
    return (f"a sequence of {len(outer)} states of {len(inner) // len(outer)} arrays each "
            "(one per layer)")
