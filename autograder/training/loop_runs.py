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
value check's are. :func:`loop_check` is that value check declared in a question: the topic's
given training function, the model's cell and the runs (:func:`sgd_then_adam`); the stream and
the initial parameters are drawn here (:func:`loop_draws`), the oracle is
:func:`~.bptt_oracle.truncated_bptt_losses`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring import Check, CheckFailure, Context, value_check
from nlpdojo_autograder.authoring.compare import name_the_mistake
from nlpdojo_autograder.authoring.inputs import settled
from nlpdojo_autograder.training.bptt_oracle import truncated_bptt_losses
from nlpdojo_autograder.training.lm_cases import lm_shapes

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
    student's loop and the oracle are run with (in a :func:`loop_check`, a setting may be
    drawn per grading: ``setting(0.35, 0.7)``), the ``mistakes`` to name (what each is: its
    switches of the oracle), and the ``label`` its outputs are named with (``"Adam"``: ``"Adam:
    training losses"``; the first run's go without one)."""

    name: str
    settings: dict[str, Any]
    mistakes: dict[str, dict[str, Any]]
    label: str = ""


def sgd_then_adam(sgd: dict[str, Any], adam: dict[str, Any],
                  mistakes: dict[str, dict[str, Any]]) -> list[LoopRun]:
    """The two runs of a loop check, as the course's take them: SGD at the settings ``sgd``,
    the loop's own ``mistakes`` named (the state not carried, the gradient not clipped...);
    then Adam at the settings ``adam`` (its outputs labelled "Adam"), which keeps moments and
    a step count across windows where SGD keeps nothing, the mistakes of a loop asked for Adam
    named (:data:`OPTIMIZER_STATE_MISTAKES`). A setting may be drawn per grading
    (``setting(0.35, 0.7)``)."""
    return [LoopRun("sgd", sgd, mistakes=mistakes),
            LoopRun("adam", {"optimizer": "adam", **adam}, mistakes=OPTIMIZER_STATE_MISTAKES,
                    label="Adam")]


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


#: the loop check's model and stream: a vocabulary of 9, embeddings of 3, a state of 4; 3
#: streams of :data:`STREAM` tokens in windows of 4 (6 a stream), two epochs; :data:`HELD_OUT`
#: held-out tokens for a loop that scores them
SIZES = {"vocab": 9, "dim": 3, "hidden": 4}
LOOP = {"batch_size": 3, "bptt": 4, "epochs": 2}
STREAM, HELD_OUT = 25, 160


def loop_draws(rng: np.random.Generator, cell: str, *, held_out: bool = False
               ) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray]]:
    """A loop check's training stream, its held-out tokens (None unless ``held_out``) and the
    initial parameters of its model over ``cell`` (:func:`~.lm_cases.lm_shapes`: weights
    0.5·N(0, 1), zero biases), drawn in that order from ``rng``: the same on every backend."""
    train = rng.integers(0, SIZES["vocab"], LOOP["batch_size"] * STREAM)
    test = rng.integers(0, SIZES["vocab"], HELD_OUT) if held_out else None
    init = {name: np.zeros(shape) if len(shape) == 1 else 0.5 * rng.standard_normal(shape)
            for name, shape in lm_shapes(cell, **SIZES).items()}
    return train, test, init


def loop_check(check: str, title: str, points: float, *, loop: str, given: str, cell: str,
               runs: list[LoopRun], options: dict[str, Any] | None = None,
               held_out: bool = False, **check_options: Any) -> Check:
    """A value check of the student's training loop ``loop`` (``"train_rnn_lm"``: how its
    messages name it) through the topic's given ``lm_training.<given>``, which trains a model
    over ``cell`` with it: :func:`checked_runs` on :func:`loop_draws`' stream and parameters,
    each of ``runs`` at :data:`LOOP`'s settings and its own, its mistakes named against
    :func:`~.bptt_oracle.truncated_bptt_losses`. The given function is called as
    ``given(backend, train[, test], vocab_size=, seed=0, dim=, hidden=, init=, **options,
    batch_size=, bptt=, epochs=, optimizer="sgd", **settings)`` and returns the ``"losses"``
    of every window and, with ``held_out``, the ``"log_probs"`` of the held-out tokens, else
    the trained ``"parameters"``; they are the check's outputs. ``check_options`` go to
    :func:`~nlpdojo_autograder.authoring.value_check` (``rtol``, ``timeout_s``)."""
    wanted = "log_probs" if held_out else "parameters"

    def collect(ctx: Context) -> dict[str, np.ndarray]:
        train, test, init = loop_draws(ctx.rng(), cell, held_out=held_out)

        def run(**settings: Any) -> dict[str, np.ndarray]:
            result = ctx.given_function("lm_training", given)(
                ctx.backend, train, *([test] if held_out else []), vocab_size=SIZES["vocab"],
                seed=0, dim=SIZES["dim"], hidden=SIZES["hidden"], init=init, **(options or {}),
                **{"optimizer": "sgd", **settings})
            if not isinstance(result, dict) or not {wanted, "losses"} <= set(result):
                raise CheckFailure(f"internal: {given} returned no {wanted} and losses")
            losses = ctx.to_numpy(result["losses"], "the training losses", number=True)
            if held_out:
                return {"training losses": losses, "held-out log-probabilities": ctx.to_numpy(
                    result["log_probs"], "the held-out log-probabilities")}
            return {"training losses": losses,
                    **{f"trained {name}": ctx.to_numpy(value, f"the trained {name}")
                       for name, value in sorted(result["parameters"].items())}}

        return checked_runs(
            ctx, run, functools.partial(truncated_bptt_losses, cell=cell), cell=cell,
            train=train, init=init, what=f"{loop}: your training losses", runs=[
                dataclasses.replace(one, settings={
                    **LOOP, **{k: settled(ctx, v) for k, v in one.settings.items()}})
                for one in runs])

    return value_check(check, title, points, collect, **check_options)
