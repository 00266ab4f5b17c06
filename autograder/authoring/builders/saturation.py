"""Saturating inputs for every nonlinearity (issue 62 item 5): pre-activations pushed past
the overflow of ``exp`` on both sides, where a naive sigmoid or tanh gives NaN."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nlpdojo_autograder.authoring.builders.cases import LayerCase
from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.inputs import settings_rng

#: what a NaN or inf at saturated pre-activations says, by the nonlinearity that makes it
#: (:class:`Saturated`): the overflow and the formula that avoids it
SATURATION = {
    "sigmoid": "your sigmoid returns NaN for pre-activations above 709: exp overflows there "
               "(e^710 is inf, and e^a / (1 + e^a) is inf / inf); use σ(a) = 0.5 · (1 + "
               "tanh(a / 2)), or e^−|a| on each side (1 / (1 + e^−a) where a ≥ 0, e^a / (1 + "
               "e^a) where a < 0)",
    "tanh": "your tanh returns NaN for pre-activations beyond ±355: (e^2a − 1) / (e^2a + 1) "
            "overflows to inf / inf there; use xp.tanh (or e^−2|a| with the sign put back)",
}


#: the pre-activations of a saturated case, in absolute value: past where e^a overflows in
#: float64 (709.8), so that a naive sigmoid's e^a / (1 + e^a) is NaN there
SATURATED_RANGE = (750.0, 1000.0)


@dataclass(frozen=True)
class Saturated:
    """A layer's case whose pre-activations overflow a naive formula (:func:`layer_checks`'
    ``saturated``): a gate's sigmoid written ``e^a / (1 + e^a)`` is NaN beyond a = 709, a tanh
    written with e^2a beyond 355, where the reference's stays finite. Declared as data, it is
    the layer's own case with the parameter ``bias`` pushed out by :func:`saturating_offsets`
    in ``blocks`` gates of equal width (an LSTM's ``Saturated(bias="bias", blocks=4)``: each
    gate's pre-activations past the overflow on both sides); or ``case`` makes it, where
    another parameter or input must carry the overflow. ``nonlinearities`` name the layer's
    nonlinearities (keys of :data:`SATURATION`), whose overflow the message names."""

    case: Callable[[Context], LayerCase] | None = None
    nonlinearities: tuple[str, ...] = ("sigmoid", "tanh")
    bias: str | None = None
    blocks: int = 1

    def __post_init__(self) -> None:
        unknown = [n for n in self.nonlinearities if n not in SATURATION]
        if unknown or not self.nonlinearities:
            raise ValueError(f"Saturated(nonlinearities={self.nonlinearities!r}): name one or "
                             f"more of {sorted(SATURATION)}")
        if (self.case is None) == (self.bias is None):
            raise ValueError("Saturated: give the case (case=make) or the bias of the layer's "
                             "own case to push out (bias=\"bias\", blocks=gates), one of them")

    def of(self, make: Callable[[Context], LayerCase]) -> Callable[[Context], LayerCase]:
        """The saturated case of the layer whose checks' case is ``make``."""
        if self.case is not None:
            return self.case
        name, blocks = self.bias, self.blocks

        def case(ctx: Context) -> LayerCase:
            made = make(ctx)
            bias = np.asarray(made.params[name])  # (blocks · width,)
            pushed = bias + saturating_offsets(settings_rng(ctx), blocks, bias.size // blocks)
            return dataclasses.replace(made, params={**made.params, name: pushed})

        return case


def saturating_offsets(rng: np.random.Generator, blocks: int, width: int) -> np.ndarray:
    """Offsets (blocks · width,) to add to a bias of ``blocks`` gates of ``width`` units each
    (an LSTM's 4H): in each gate one unit pushed to +750..1000, one to −1000..−750, the others
    0, at units drawn per grading, so that every gate has pre-activations past the overflow on
    both sides and others where its values and gradients are not flat."""
    if width < 3:
        raise ValueError(f"saturating_offsets: width {width} leaves no unit unsaturated; "
                         "give every gate at least 3 units")
    offsets = np.zeros((blocks, width))
    for units in offsets:
        up, down = rng.choice(width, 2, replace=False)
        units[up], units[down] = rng.uniform(*SATURATED_RANGE), -rng.uniform(*SATURATED_RANGE)
    return offsets.reshape(-1)  # (blocks · width,)
