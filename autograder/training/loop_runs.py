"""A student's training loop checked by the losses it gives, the usual mistakes named against an
oracle of the loop (CS224n lectures 6-7: truncated BPTT; the oracle is :mod:`.bptt_oracle`'s).

A language model's loop is run a few windows on a random stream, once with SGD and once with
Adam (whose moments and step count must live across windows: with SGD, which keeps none, an
optimizer made anew every window trains the same). Each run's losses are compared first with
the oracle's own variants of the loop, each a known mistake switched on (the state not carried,
the targets not shifted, the gradient not clipped...): where the student's losses are exactly
one of them, the check fails naming it
(:func:`~nlpdojo_autograder.authoring.compare.name_the_mistake`); then the check's outputs,
every run's losses and what else the run returns, are compared with the reference's as any
value check's are.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.compare import name_the_mistake
from nlpdojo_autograder.authoring.context import Context

#: the mistakes of a loop asked for Adam, told by its losses (switches of the oracle on top of
#: the run's own settings, which ask for Adam)
OPTIMIZER_STATE_MISTAKES = {
    "a new optimizer made for every window, which throws Adam's moments and step count away "
    "each time (SGD keeps no state, so it trains the same): step the one optimizer made before "
    "the loop (`opt`)": {"fresh": True},
    "plain SGD though the loop was asked for Adam: update the parameters through the optimizer "
    "made from the `optimizer` argument (`opt.step()`), not by hand or with an SGD of your own":
        {"optimizer": "sgd"},
}

#: an oracle of the loop: ``oracle(train, init, **settings)``, the losses of every window
Oracle = Callable[..., np.ndarray]


def name_the_loop_mistake(ctx: Context, name: str, losses: np.ndarray, oracle: Oracle,
                          train: np.ndarray, init: dict[str, np.ndarray],
                          mistakes: dict[str, dict[str, Any]], *, cell: str, what: str,
                          **settings: Any) -> dict[str, Any]:
    """Fail naming the first of ``mistakes`` (what it is: its switches of ``oracle``) whose
    losses on ``train`` from ``init`` are exactly ``losses``, never one that trains like the
    right loop on these inputs (it cannot be told from it in this draw). ``settings``: the
    run's own options of ``oracle``; ``what`` starts the message ("train_rnn_lm: your
    training losses"). The oracle's losses are the check's oracle ``name``, computed once per
    draw; returns what goes beside the check's outputs (:func:`name_the_mistake`)."""
    return name_the_mistake(
        losses, lambda: oracle(train, init, **settings),
        {mistake: functools.partial(oracle, train, init, **{**settings, **switches})
         for mistake, switches in mistakes.items()},
        what=what,
        oracle=(ctx, name, {"cell": cell, "train": train, "init": init, "settings": settings,
                            "mistakes": mistakes}))


@dataclass(frozen=True)
class LoopRun:
    """One run of a checked loop: its oracle's ``name`` (``"sgd"``), the ``settings`` the
    student's loop and the oracle are run with, the ``mistakes`` to name (what each is: its
    switches of the oracle), and the ``label`` its outputs are named with (``"Adam"``: ``"Adam:
    training losses"``; the first run's go without one)."""

    name: str
    settings: dict[str, Any]
    mistakes: dict[str, dict[str, Any]]
    label: str = ""


def checked_runs(ctx: Context, run: Callable[..., dict[str, np.ndarray]], oracle: Oracle, *,
                 cell: str, train: np.ndarray, init: dict[str, np.ndarray], what: str,
                 runs: list[LoopRun]) -> dict[str, np.ndarray]:
    """The outputs of a value check of a training loop: ``run(**settings)`` once per entry of
    ``runs``, in order, each run's ``"training losses"`` checked for its mistakes first
    (:func:`name_the_loop_mistake`); a run's outputs named as ``run`` names them, after its
    label; what the mistakes' oracle puts beside them first."""
    beside: dict[str, Any] = {}
    outputs: dict[str, np.ndarray] = {}
    for loop in runs:
        out = run(**loop.settings)
        beside.update(name_the_loop_mistake(
            ctx, loop.name, out["training losses"], oracle, train, init, loop.mistakes,
            cell=cell, what=what, **loop.settings))
        outputs.update({f"{loop.label}: {key}" if loop.label else key: value
                        for key, value in out.items()})
    return {**beside, **outputs}
