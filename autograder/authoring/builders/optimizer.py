"""An optimizer, checked (:func:`optimizer_checks`): the parameter trajectory over several
steps against the reference and ``torch.optim`` with identical settings, tiny gradients, and a
``state_dict`` round trip that must resume the trajectory exactly."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring.builders.points import _share
from nlpdojo_autograder.authoring.checks import NAMED_MISTAKE, Check, Payload, Verdict
from nlpdojo_autograder.authoring.compare import compare_payloads
from nlpdojo_autograder.authoring.context import ORACLE_DIGEST, Context
from nlpdojo_autograder.authoring.deferred import question_builder
from nlpdojo_autograder.authoring.inputs import settings_rng
from nlpdojo_autograder.authoring.kinds import custom_check, without_guesses


# -- optimizers --------------------------------------------------------------------------------
@dataclass
class OptimizerCase:
    """``kwargs`` build the optimizer (its settings); the grader draws the starting parameters
    (``shapes``) and one gradient per parameter and step; ``torch``, where given, is the
    ``torch.optim`` class and settings with identical behaviour."""

    kwargs: dict[str, Any]
    shapes: tuple[tuple[int, ...], ...] = ((3, 4), (4,))
    steps: int = 6
    #: the ``torch.optim`` class by name, run with the optimizer's settings (``kwargs`` and
    #: what ``vary`` drew); or ``(name, settings)``, torch's own names for them, each one that
    #: ``vary`` draws taking the value drawn
    torch: str | tuple[str, dict[str, Any]] | None = None
    #: known wrong variants, ``{"what the student did (the fix)": step}``: ``step(params,
    #: grads, state, k)`` updates NumPy ``params`` in place at step ``k`` (from 1), keeping
    #: what it needs in the dict ``state``; where ``vary`` draws the settings, a function of
    #: them that makes the step (``lambda s: momentum_without_velocity(s["lr"])``). A
    #: trajectory that misses the right one but matches a mistake's is told which mistake it is.
    mistakes: dict[str, Callable[..., Any]] = field(default_factory=dict)
    #: ``vary(rng) -> {setting: value}``: settings drawn per grading over ``kwargs`` (every
    #: check of the optimizer, the torch oracle and the mistakes use the same), so that an
    #: optimizer which ignores its constructor and uses the values written in fails
    vary: Callable[[np.random.Generator], dict[str, Any]] | None = None
    #: add :data:`TINY_PARAMETER`, a parameter whose gradients are fixed and tiny (1e-7 to
    #: 1e-3), after the drawn ones: where an ε matters (inside or outside a square root) the
    #: trajectories differ by far more than any tolerance, whatever the draw
    tiny: bool = True
    #: what parameters turning NaN or inf means for this optimizer (Adam: a bias correction
    #: dividing by 1 − β⁰ = 0), said after :data:`OPTIMIZER_NONFINITE`'s general causes
    nonfinite: str = ""


#: ``(start, gradient at step k = base * (1 + k / 4))`` of the parameter every optimizer check
#: adds (:attr:`OptimizerCase.tiny`): fixed, so that the check's power does not depend on the
#: draw. Gradients of 1e-7 make Σg² about 1e-14, far below an ε of 1e-10 or 1e-8, so
#: √(G + ε) and √G + ε are orders of magnitude apart there; 1e-3 keeps a normal coordinate.
TINY_PARAMETER = (np.array([0.5, -0.3, 0.2, 1.0]), np.array([1e-7, -3e-6, 2e-5, -1e-3]))


def _tiny_gradients(steps: int) -> tuple[np.ndarray, list[np.ndarray]]:
    start, base = TINY_PARAMETER
    return start.copy(), [base * (1.0 + k / 4.0) for k in range(steps)]


OPTIMIZER_SHARES = {"trajectory": 0.5, "torch": 0.3, "state": 0.2}
#: the payload keys of the ``torch.optim`` trajectory beside the optimizer's own
TORCH_PREFIX = "torch|"


#: what parameters turning NaN or inf in an optimizer's steps come from (gradients here are
#: finite and of moderate size: no overflow)
OPTIMIZER_NONFINITE = ("the update divides by zero (a denominator that is 0 at that step), or "
                       "a NaN of an earlier step is carried on")


def _first_nonfinite_step(trajectory: Payload) -> int | None:
    """The first step after which a parameter of ``trajectory`` (``"step k p{i}"`` keys) holds
    NaN or inf, or None."""
    steps = [int(key.split()[-2]) for key, value in trajectory.items()
             if key.startswith(("step ", "straight step ", "resumed step "))
             and not np.all(np.isfinite(np.asarray(value, np.float64)))]
    return min(steps) if steps else None


@question_builder
def optimizer_checks(cls: str, case: OptimizerCase, *, question: str | None = None,
                     module: str | None = None, title: str, points: float, rtol: float = 1e-7,
                     **options: Any) -> list[Check]:
    """The checks of an optimizer ``module.cls``: the parameters after each of ``steps`` steps
    against the reference; against ``torch.optim`` (the grader runs torch itself, where it is
    installed; without it that check compares with the reference instead); and a state_dict
    saved half-way and loaded into a new optimizer that must continue the same trajectory."""
    def settings(ctx: Context) -> dict[str, Any]:
        """The optimizer's settings in this grading: ``kwargs`` and what ``vary`` draws (from
        a generator of its own: the parameters and gradients drawn stay the same)."""
        return {**case.kwargs, **(case.vary(settings_rng(ctx)) if case.vary else {})}

    def draw(ctx: Context) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
        rng = ctx.rng()
        start = [rng.standard_normal(s) for s in case.shapes]
        grads = [[rng.standard_normal(s) for s in case.shapes] for _ in range(case.steps)]
        if case.tiny:  # a fixed parameter, the same on every draw (TINY_PARAMETER)
            tiny_start, tiny_grads = _tiny_gradients(case.steps)
            start.append(tiny_start)
            for step, g in zip(grads, tiny_grads, strict=True):
                step.append(g)
        return start, grads

    def run(ctx: Context, resume_at: int | None = None) -> dict[str, Any]:
        start, grads = draw(ctx)
        return ctx.probe("optimizer_run")(
            ctx.function(module, cls), settings(ctx), ctx.backend,
            [ctx.asarray(p) for p in start], [[ctx.asarray(g) for g in gs] for gs in grads],
            resume_at=resume_at)

    def path(ctx: Context, trajectory: Any) -> Payload:
        return {f"step {k + 1} p{i}": ctx.to_numpy(p, f"parameter {i} after step {k + 1}")
                for k, ps in enumerate(trajectory) for i, p in enumerate(ps)}

    def trajectory(ctx: Context) -> Payload:
        return path(ctx, run(ctx)["trajectory"])

    def with_mistakes(ctx: Context) -> Payload:
        """The trajectory and, beside it (not stored in fixtures), the known mistakes'."""
        payload = trajectory(ctx)
        if not ctx.expected_only:
            drawn = settings(ctx)
            for i, make in enumerate(case.mistakes.values()):  # computed here, in the grader
                payload.update({f"mistake {i}|{k}": v for k, v in _mistake_trajectory(
                    _mistake_step(make, drawn), *draw(ctx)).items()})
        return payload

    def nonfinite(mine: Payload) -> str | None:
        """What NaN or inf in ``mine`` means here: from which step, and why it may be."""
        k = _first_nonfinite_step(mine)
        if k is None:
            return None
        return (f"the parameters hold NaN or inf from step {k} on: {OPTIMIZER_NONFINITE}"
                + (f"; {case.nonfinite}" if case.nonfinite else ""))

    def judge_trajectory(actual: Payload, expected: Payload | None) -> Verdict:
        assert expected is not None
        mine = {k: v for k, v in actual.items() if "|" not in k}
        verdict = compare_payloads(mine, {k: v for k, v in expected.items() if "|" not in k},
                                   rtol=rtol, atol=1e-10, nonfinite=nonfinite(mine))
        return named_first(verdict, mine, actual)

    def against_torch(ctx: Context) -> Payload:
        payload = with_mistakes(ctx)
        torch = _torch_optimizer(case, settings(ctx))
        if torch is not None:  # the reference's run computes it too: a submission's reuses it
            start, grads = draw(ctx)
            payload.update(ctx.oracles(TORCH_PREFIX, {"optimizer": torch, "start": start,
                                                      "grads": grads},
                                       lambda: _torch_trajectory(*torch, start, grads)))
        return payload

    def mistaken(mine: Payload, actual: Payload) -> str | None:
        """The known mistake whose trajectory ``mine`` follows, or ``None``."""
        for i, what in enumerate(case.mistakes):
            theirs = {k.split("|", 1)[1]: v for k, v in actual.items()
                      if k.startswith(f"mistake {i}|")}
            if theirs and compare_payloads(mine, theirs, rtol=1e-6, atol=1e-10).passed:
                return what
        return None

    def named_first(verdict: Verdict, mine: Payload, actual: Payload) -> Verdict:
        """A failed verdict led by the known mistake ``mine`` follows, if one (a long
        message is cut at its end)."""
        named = None if verdict.passed else mistaken(mine, actual)
        if named:
            verdict.message = (f"Your trajectory is exactly that of {named}. "
                               f"{without_guesses(verdict.message)}")
            verdict.details[NAMED_MISTAKE] = named
        return verdict

    def judge_torch(actual: Payload, expected: Payload | None) -> Verdict:
        oracle = {k[len(TORCH_PREFIX):]: v for k, v in actual.items()
                  if k.startswith(TORCH_PREFIX) and not k.endswith(ORACLE_DIGEST)}
        mine = {k: v for k, v in actual.items() if "|" not in k}
        if oracle:
            verdict = compare_payloads(mine, oracle, rtol=rtol, atol=1e-10,
                                       nonfinite=nonfinite(mine))
            torch = _torch_optimizer(case, {})
            name = torch[0] if torch is not None else "torch"
            verdict.message = (f"same trajectory as {name} with identical settings"
                               if verdict.passed else f"differs from {name} with identical "
                               f"settings: {verdict.message}")
        else:
            assert expected is not None
            verdict = compare_payloads(mine, {k: v for k, v in expected.items() if "|" not in k},
                                       rtol=rtol, atol=1e-10, nonfinite=nonfinite(mine))
        return named_first(verdict, mine, actual)

    def state(ctx: Context) -> Payload:
        result = run(ctx, resume_at=case.steps // 2)
        straight = path(ctx, result["trajectory"][case.steps // 2:])
        resumed = path(ctx, result["resumed"])
        return {**{f"straight {k}": v for k, v in straight.items()},
                **{f"resumed {k}": v for k, v in resumed.items()}}

    def judge_state(actual: Payload, expected: Payload | None) -> Verdict:
        broken = _first_nonfinite_step({k: v for k, v in actual.items()
                                        if k.startswith("straight ")})
        if broken is not None:  # not a state problem: the steps themselves are broken
            return Verdict(False, "the parameters hold NaN or inf after step "
                           f"{broken + case.steps // 2} even without a resume, so whether "
                           "state_dict() resumes the trajectory cannot be judged: the steps "
                           "themselves are wrong (the trajectory check says from which step, "
                           "and why); fix them first")
        for key, value in actual.items():
            if key.startswith("straight "):
                other = actual.get("resumed " + key[len("straight "):])
                if other is None or not np.allclose(value, other, rtol=1e-12, atol=1e-14):
                    return Verdict(False, "an optimizer loaded from state_dict() half-way does "
                                   "not continue the same trajectory: everything step() "
                                   "carries from step to step must be in what the given "
                                   "state_dict saves: each parameter's moments in "
                                   "self.state[i], the step count in self.steps (an attribute "
                                   "of your own, such as self.t, is not saved)")
        return Verdict(True, "resumes exactly from its state_dict")

    # a value check whose payload also holds the known mistakes' trajectories (the grader's,
    # never stored in fixtures): a trajectory that follows one is told which
    checks = [Check(question, "trajectory", f"{title}: {case.steps} steps", 0.0, "value",
                    collect=with_mistakes, judge=judge_trajectory,
                    stored=lambda key: "|" not in key, **options),
              custom_check("torch", f"{title}: against torch.optim", 0.0,
                           against_torch, judge_torch, question=question, needs_expected=True,
                           stored=lambda key: "|" not in key, **options),
              # earned on a right trajectory only: two runs of a step that does nothing
              # resume each other exactly
              custom_check("state", f"{title}: state_dict round trip", 0.0, state,
                           judge_state, question=question, right=(rtol, 1e-10), **options)]
    return _share(checks, points, OPTIMIZER_SHARES)


def _mistake_step(make: Callable[..., Any], settings: dict[str, Any]) -> Callable[..., None]:
    """A mistake's step (:attr:`OptimizerCase.mistakes`): the step itself (four parameters:
    params, grads, state, k), or what ``make(settings)`` makes of the settings drawn."""
    try:
        takes = len(inspect.signature(make).parameters)
    except (TypeError, ValueError):  # a builtin or a callable without a signature: a maker
        takes = 1
    return make if takes == 4 else make(settings)


def _torch_optimizer(case: OptimizerCase, settings: dict[str, Any]
                     ) -> tuple[str, dict[str, Any]] | None:
    """``(torch.optim class name, its settings)`` for the settings drawn, or None."""
    if case.torch is None:
        return None
    if isinstance(case.torch, str):
        return case.torch, settings
    name, fixed = case.torch
    return name, {**fixed, **{k: v for k, v in settings.items() if k in fixed}}


def _mistake_trajectory(step: Callable[..., None], start: list[np.ndarray],
                        grads: list[list[np.ndarray]]) -> dict[str, np.ndarray]:
    """The trajectory of a known wrong variant (:attr:`OptimizerCase.mistakes`), float64."""
    params = [np.array(p, dtype=np.float64) for p in start]
    state: dict[str, Any] = {}
    out = {}
    for k, step_grads in enumerate(grads, start=1):
        with np.errstate(all="ignore"):  # a mistake may divide by zero: that is its trajectory
            step(params, [np.asarray(g, np.float64) for g in step_grads], state, k)
        out.update({f"step {k} p{i}": p.copy() for i, p in enumerate(params)})
    return out


def _torch_trajectory(name: str, settings: dict[str, Any], start: list[np.ndarray],
                      grads: list[list[np.ndarray]]) -> dict[str, np.ndarray] | None:
    """The trajectory under ``torch.optim.<name>(**settings)`` (float64), in the grader; None
    without torch."""
    try:
        import torch
    except ImportError:
        return None
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in start]
    opt = getattr(torch.optim, name)(params, **settings)
    out = {}
    for k, step_grads in enumerate(grads):
        for p, g in zip(params, step_grads, strict=True):
            p.grad = torch.as_tensor(g, dtype=torch.float64)
        opt.step()
        for i, p in enumerate(params):
            out[f"{TORCH_PREFIX}step {k + 1} p{i}"] = p.detach().numpy().copy()
    return out
