"""A layer's settings drawn per grading from a few values each (a convolution's stride,
padding and dilation): :func:`choices`, as a layer case declared as data takes it in
``kwargs`` and ``torch_kwargs``, and :func:`choices_text`, how a check's title states them.
Code that ignores a setting it is given, or decides one from another (the padding and the
dilation from the kernel and the stride), fails on the gradings that draw other values;
drawing each setting on its own, and each check's apart (``which``), keeps one written-in
combination from passing them all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.authoring.inputs import Draw, per_grading, settings_rng


def drawn_choices(ctx: Context, options: dict[str, Sequence[Any]], which: int = 0
                  ) -> dict[str, Any]:
    """One value of each entry of ``options`` (a setting's name: the values a grading draws
    from), in their order, as Python numbers: drawn per grading from a generator of its own,
    seeded by :func:`~nlpdojo_autograder.authoring.inputs.settings_rng` and ``which`` (the
    checks of one question tell their settings apart by it: each its own draws)."""
    rng = np.random.default_rng([int(settings_rng(ctx).integers(2**32)), which])
    return {name: rng.choice(values).item() for name, values in options.items()}


def choices(options: dict[str, Sequence[Any]], which: int = 0) -> Draw:
    """The settings :func:`drawn_choices` draws, as a layer case declared as data takes them:
    ``layer_case(..., kwargs=choices({"stride": (2, 3)}, 1), torch_kwargs=...)`` (the case
    and its case at scale draw the same)."""
    return per_grading(lambda ctx: drawn_choices(ctx, options, which))


def choices_text(options: dict[str, Sequence[Any]]) -> str:
    """``options`` as a title states them: ``"stride 2 or 3 (drawn), padding 1"`` (a setting
    with one value is that value)."""
    return ", ".join(f"{name} {values[0]}" if len(values) == 1
                     else f"{name} {' or '.join(map(str, values))} (drawn)"
                     for name, values in options.items())
