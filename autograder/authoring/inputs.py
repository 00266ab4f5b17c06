"""Check inputs drawn by spec, and requirements on outputs, for the check builders.

A check's inputs are usually a few seeded random arrays of given shapes; written as data they
need no function of their own::

    PAIR = inputs(center_vec=normal(D), outside_idx=integers(V),
                  outside_vectors=normal(V, D))          # PAIR(ctx) -> {"center_vec": ...}

Each :class:`Draw` is drawn in the order given from the check's generator ``ctx.rng()`` (so a
fresh seed asks a fresh question); any other value is an input as it is (a copy per draw).

The requirements (:func:`require`, :func:`require_finite`, :func:`require_shapes`) are the
``inspect`` functions of :func:`~.builders.function_checks` and
:func:`~.builders.calls_check`: run on the outputs (NumPy) before they are
compared with the reference, each raises a :class:`CheckFailure` whose message names the
likely mistake ("the loss is inf for scores around 1000: ...").
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.checks import CheckFailure
from nlpdojo_autograder.authoring.context import Context

#: an ``inspect``: ``(outputs, inputs) -> None``, raising :class:`CheckFailure`
Inspect = Callable[[dict[str, np.ndarray], dict[str, Any]], None]


@dataclass(frozen=True)
class Draw:
    """How :func:`inputs` makes one input: ``make(ctx, rng, drawn)``, ``drawn`` the inputs made
    before it."""

    make: Callable[[Context, np.random.Generator, dict[str, Any]], Any]

    def __call__(self, rng: np.random.Generator) -> Any:
        """Drawn from ``rng`` alone (a layer case's ``inputs(rng)``): for the draws that need
        neither the check's context nor other inputs (:func:`normal`, :func:`integers`...)."""
        return self.make(None, rng, {})  # type: ignore[arg-type]


#: added to a check's seed for the generator of settings drawn per grading
#: (:attr:`OptimizerCase.vary`, a layer's or loss's settings): the inputs drawn stay the same
SETTINGS_OFFSET = 7_919


def settings_rng(ctx: Context) -> np.random.Generator:
    """The generator a check draws its settings from (a layer's slope, a loss's margin, an
    optimizer's learning rate: :attr:`OptimizerCase.vary`), fresh per grading as its inputs
    are and apart from them, so that code ignoring the settings it is given fails::

        def _leaky(ctx):
            slope = float(settings_rng(ctx).uniform(0.05, 0.3))
            return LayerCase(args=(ctx.backend,), kwargs={"negative_slope": slope},
                             torch_kwargs={"slope": slope}, ...)
    """
    return ctx.rng(SETTINGS_OFFSET)


def drawn_setting(ctx: Context, low: float, high: float, which: int = 0) -> float:
    """A setting between ``low`` and ``high`` (three significant digits, a Python float),
    drawn per grading from :func:`settings_rng`: a dropout rate, a clip, a decay that the
    code under test takes as an argument and must use (one written in fails). ``which`` tells
    a check's settings apart (each its own draw)."""
    return float(f"{settings_rng(ctx).uniform(low, high, which + 1)[which]:.3g}")


def setting(low: float, high: float, which: int = 0) -> Draw:
    """A constructor's setting drawn per grading (:func:`drawn_setting`), as a layer case
    declared as data takes it: ``layer_case(..., kwargs={"dropout": setting(0.3, 0.6)})``."""
    return per_grading(lambda ctx: drawn_setting(ctx, low, high, which))


def per_grading(make: Callable[[Context], Any]) -> Draw:
    """A value of the check's context, per grading, as a layer case declared as data takes it
    in ``args``, ``kwargs`` and ``torch_kwargs``: a setting of a distribution of its own
    (``per_grading(_drop_rate)``), the seed a layer draws its masks from
    (``per_grading(lambda ctx: ctx.seed % 1000)``)."""
    return Draw(lambda ctx, rng, drawn: make(ctx))


def settled(ctx: Context, value: Any) -> Any:
    """``value`` as this grading has it: a :class:`Draw` of the context (:func:`setting`,
    :func:`per_grading`) drawn, anything else as given."""
    return value.make(ctx, None, {}) if isinstance(value, Draw) else value


def normal(*shape: int, loc: float | np.ndarray = 0.0, scale: float | np.ndarray = 1.0) -> Draw:
    """Floats of ``shape``, normal with mean ``loc`` and standard deviation ``scale`` (either
    may be an array broadcast against ``shape``: a gate's bias shifted, the later steps of a
    sequence scaled)."""
    return Draw(lambda ctx, rng, drawn: loc + scale * rng.standard_normal(shape))


def fan_in_normal(*shape: int) -> Draw:
    """Weights of ``shape`` at the scale that keeps a layer's outputs near unit variance:
    standard normal floats divided by √fan-in, the product of every axis but the last (a
    linear layer's (D_in, D_out): D_in; a convolution's (K, D, F): K·D)."""
    fan_in = math.prod(shape[:-1])
    return Draw(lambda ctx, rng, drawn: rng.standard_normal(shape) / np.sqrt(fan_in))


def states(*shape: int) -> Draw:
    """Hidden states as a tanh cell makes them, inside (−1, 1): ``tanh`` of standard normal
    floats of ``shape``."""
    return Draw(lambda ctx, rng, drawn: np.tanh(rng.standard_normal(shape)))


def uniform(low: float, high: float, *shape: int) -> Draw:
    """Floats of ``shape`` uniform in ``[low, high)``; without a shape a Python float."""
    if not shape:
        return Draw(lambda ctx, rng, drawn: float(rng.uniform(low, high)))
    return Draw(lambda ctx, rng, drawn: rng.uniform(low, high, shape))


def integers(high: int, *shape: int, low: int = 0, repeated: bool = False) -> Draw:
    """Integers of ``shape`` in ``[low, high)`` (ids, indices); without a shape a Python int.
    ``repeated``: the last entry equals the first, an id used twice (a repeated word, a
    repeated negative), whose gradient contributions must add up."""
    def make(ctx: Context, rng: np.random.Generator, drawn: dict[str, Any]) -> Any:
        if not shape:
            return int(rng.integers(low, high))
        ids = rng.integers(low, high, shape)
        if repeated:
            ids.flat[-1] = ids.flat[0]
        return ids

    return Draw(make)


def padded_sentences(vocab: int, batch: int, length: int, *, low: int = 0,
                     repeated: bool = False, lone_word: int | None = None) -> Draw:
    """``(ids, lengths)``: ``batch`` sentences of word ids in ``[low, vocab)``, padded with id
    0 to ``length`` (ids ``(B, T)``, lengths ``(B,)``). Row 0 is full, row 1 a single word (an
    encoder's final state is its first; a filter wider than one word has no window in it
    without padding), the others in between (a plain flip of the rows puts padding first in
    them). ``repeated``: row 0's last word is its first (the word's gradients must add up);
    ``lone_word``: the id of row 1's word."""
    def make(ctx: Context, rng: np.random.Generator, drawn: dict[str, Any]) -> Any:
        lengths = np.array([length, 1, *(int(rng.integers(2, length))
                                         for _ in range(batch - 2))])  # (B,)
        ids = rng.integers(low, vocab, (batch, length))  # (B, T)
        if repeated:
            ids[0, -1] = ids[0, 0]
        if lone_word is not None:
            ids[1, 0] = lone_word
        ids[np.arange(length)[None, :] >= lengths[:, None]] = 0  # padding
        return ids, lengths

    return Draw(make)


def draw(make: Callable[[np.random.Generator, dict[str, Any]], Any]) -> Draw:
    """An input of its own making: ``make(rng, drawn)`` (scores around 1000, word pairs...)."""
    return Draw(lambda ctx, rng, drawn: make(rng, drawn))


def derived(make: Callable[[dict[str, Any]], Any]) -> Draw:
    """An input computed from the inputs drawn before it: ``make(drawn)``."""
    return Draw(lambda ctx, rng, drawn: make(drawn))


def student(module: str, name: str) -> Draw:
    """A function of the code under test as an argument (the pair loss a window sums)."""
    return Draw(lambda ctx, rng, drawn: ctx.function(module, name))


def scratch(name: str) -> Draw:
    """A path in the scratch folder of the code under test (a file it must write)."""
    return Draw(lambda ctx, rng, drawn: ctx.scratch_file(name))


#: the backend the check runs on, as an argument
BACKEND = Draw(lambda ctx, rng, drawn: ctx.backend)


def inputs(**specs: Any) -> Callable[[Context], dict[str, Any]]:
    """A function of ``ctx`` that makes the named inputs, in the order given: each
    :class:`Draw` from ``ctx.rng()``, every other value copied as it is. At least one is
    drawn: inputs fixed for good ask the same question at every grading, and a student
    release's fixtures hold its answer (an author's trial returned them, full marks at fresh
    seeds)."""
    if specs and not any(isinstance(spec, Draw) for spec in specs.values()):
        raise ValueError(
            f"inputs({', '.join(specs)}) draws nothing: every grading would ask the same "
            "question, and its expected output ships in a student release's fixtures; draw "
            "at least one from the check's seed (normal(...), integers(...), draw(f) with f "
            "of the generator it is given)")

    def make(ctx: Context) -> dict[str, Any]:
        rng, drawn = ctx.rng(), {}
        for name, spec in specs.items():
            drawn[name] = (spec.make(ctx, rng, drawn) if isinstance(spec, Draw)
                           else copy.deepcopy(spec))
        return drawn

    return make


# -- requirements on outputs -------------------------------------------------------------------
def require(output: str, test: Callable[[np.ndarray], bool], message: str) -> Inspect:
    """Fail with ``message`` unless ``test(outputs[output])``; ``message`` may name the
    ``{value}`` (a number, or a list) and its ``{shape}``."""
    def inspect(outputs: dict[str, np.ndarray], args: dict[str, Any]) -> None:
        value = np.asarray(outputs[output])
        if not test(value):
            raise CheckFailure(message.format(
                value=value.item() if value.ndim == 0 else value.tolist(), shape=value.shape))

    return inspect


def require_finite(output: str, message: str) -> Inspect:
    """Fail with ``message`` (see :func:`require`) when ``output`` holds a NaN or an inf."""
    return require(output, lambda v: bool(np.all(np.isfinite(v))), message)


def require_shapes(**shapes: tuple[int, ...]) -> Inspect:
    """Fail unless each named output has its shape, saying every wrong one at once."""
    def inspect(outputs: dict[str, np.ndarray], args: dict[str, Any]) -> None:
        wrong = [f"{name} should have shape {tuple(shape)}; got {np.shape(outputs[name])}"
                 for name, shape in shapes.items() if np.shape(outputs[name]) != tuple(shape)]
        if wrong:
            raise CheckFailure("; ".join(wrong))

    return inspect


def require_rows_sum_to_one(output: str, what: str) -> Inspect:
    """Name the usual mistake of a function whose rows are distributions (a softmax): on a 2-D
    output, columns that sum to 1 where the rows do not are normalised over the wrong axis."""
    def wrong_axis(p: np.ndarray) -> bool:
        return (p.ndim == 2 and p.shape[0] != p.shape[1] and bool(np.all(np.isfinite(p)))
                and not np.allclose(p.sum(axis=1), 1.0) and np.allclose(p.sum(axis=0), 1.0))

    return require(output, lambda p: not wrong_axis(p), f"{what} of a {{shape}} matrix: your "
                   "columns sum to 1, not your rows; normalise over the last axis (axis=-1): "
                   "each row is one distribution")
