"""Optimizers and learning-rate schedules (CS224n lecture 3, notes part III; Kingma & Ba 2015):
SGD, momentum, Adagrad, RMSProp and Adam as optimizers of the course library, each trajectory
against the reference and against ``torch.optim`` with the same settings, and against the
trajectories of each optimizer's usual mistakes, computed here (a velocity or moment not kept
between steps, ε inside the square root, Adam's bias correction left out or a step ahead):
a trajectory that follows one is told which. Then the step, exponential and 1/t schedules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nlpdojo_autograder.authoring import (
    OptimizerCase,
    Question,
    call,
    calls_check,
    optimizer_checks,
)
from nlpdojo_autograder.authoring.inputs import derived, draw, inputs, integers, uniform


def _adam_without_bias_correction(lr: float, betas: tuple[float, float], eps: float):
    """Adam's step with m and v used as they are, not divided by 1 − βᵗ (Kingma & Ba 2015,
    algorithm 1 without its bias correction): early steps are far too large (too small
    m, far smaller v: about (1 − β₁)/√(1 − β₂) times lr at the first step)."""
    def step(params, grads, state, k):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            m = state[("m", i)] = betas[0] * state.get(("m", i), 0.0) + (1 - betas[0]) * g
            v = state[("v", i)] = betas[1] * state.get(("v", i), 0.0) + (1 - betas[1]) * g * g
            p -= lr * m / (np.sqrt(v) + eps)
    return step


def _eps_inside(kind: str, lr: float, eps: float, alpha: float = 0.9,
                betas: tuple[float, float] = (0.9, 0.999)):
    """``kind`` ("adagrad", "rmsprop", "adam") with ε inside the square root, √(G + ε) instead
    of √G + ε: the same step wherever G ≫ ε, a far smaller one where the gradients are tiny."""
    def step(params, grads, state, k):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if kind == "adagrad":
                s = state[i] = state.get(i, 0.0) + g * g
                p -= lr * g / np.sqrt(s + eps)
            elif kind == "rmsprop":
                s = state[i] = alpha * state.get(i, 0.0) + (1 - alpha) * g * g
                p -= lr * g / np.sqrt(s + eps)
            else:
                m = state[("m", i)] = betas[0] * state.get(("m", i), 0.0) + (1 - betas[0]) * g
                v = state[("v", i)] = betas[1] * state.get(("v", i), 0.0) \
                    + (1 - betas[1]) * g * g
                p -= lr * (m / (1 - betas[0] ** k)) / np.sqrt(v / (1 - betas[1] ** k) + eps)
    return step


EPS_INSIDE = ("{name} with ε inside the square root: the update divides by √{of} + ε (ε added "
              "after the square root, as torch.optim does), not √({of} + ε), which differs "
              "wherever the gradients are tiny")


# -- the usual mistakes of each optimizer, as grader-side NumPy steps (float64): a trajectory
# that follows one is told which (OptimizerCase.mistakes); the realistic ones are planted bugs
def _momentum_mistake(kind: str, lr: float, mu: float):
    """Momentum with the velocity not kept ("none": plain SGD), the raw gradient kept in its
    place ("gradient": v = μ g_prev + g), or kept as an average ("average": v ← μv + (1 − μ)g,
    v = g at the first step)."""
    def step(params, grads, state, k):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if kind == "none" or i not in state:
                v = g
            elif kind == "gradient":
                v = mu * state[i] + g
            else:
                v = mu * state[i] + (1 - mu) * g
            state[i] = g if kind == "gradient" else v
            p -= lr * v
    return step


def _adagrad_without_root(lr: float, eps: float):
    """Adagrad dividing by G + ε, the sum of squares itself, not its square root."""
    def step(params, grads, state, k):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            s = state[i] = state.get(i, 0.0) + g * g
            p -= lr * g / (s + eps)
    return step


def _rmsprop_mistake(kind: str, lr: float, alpha: float, eps: float):
    """RMSProp whose average is not kept ("reset": r = (1 − α)g² at every step), weighs the
    new gradient by α ("swapped": r ← (1 − α)r + αg²) or by 1 ("unweighted": r ← αr + g²)."""
    def step(params, grads, state, k):
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            old = 0.0 if kind == "reset" else state.get(i, 0.0)
            weight = {"swapped": alpha, "unweighted": 1.0}.get(kind, 1 - alpha)
            r = state[i] = (1 - alpha if kind == "swapped" else alpha) * old + weight * g * g
            p -= lr * g / (np.sqrt(r) + eps)
    return step


def _adam_mistake(kind: str, lr: float, betas: tuple[float, float], eps: float):
    """Adam whose moments are not kept ("reset": m = (1 − β₁)g, v = (1 − β₂)g² at every
    step, then corrected) or whose bias correction is one step ahead ("ahead": 1 − βᵗ⁺¹)."""
    def step(params, grads, state, k):
        t = k + 1 if kind == "ahead" else k
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            m0, v0 = (0.0, 0.0) if kind == "reset" else state.get(i, (0.0, 0.0))
            m, v = betas[0] * m0 + (1 - betas[0]) * g, betas[1] * v0 + (1 - betas[1]) * g * g
            state[i] = (m, v)
            p -= lr * (m / (1 - betas[0] ** t)) / (np.sqrt(v / (1 - betas[1] ** t)) + eps)
    return step


#: what Adam's parameters turning NaN or inf means (OptimizerCase.nonfinite): its only
#: division that can be by zero is the bias correction's
ADAM_NONFINITE = ("in Adam that is the bias correction: m / (1 − β₁ᵗ) and v / (1 − β₂ᵗ) "
                  "divide by 0 when t = 0; t is the step number counted from 1 (t = "
                  "self.steps + 1 before the update, and self.steps = t after it); or the "
                  "square root of a negative v: m and v one array (state['m'] = state['v'] = "
                  "zeros: the update of one is the other's, and v goes negative; make each "
                  "its own array)")
ADAM_RESET = ("Adam whose moments are not kept between steps: m and v are running averages, "
              "m ← β₁m + (1 − β₁)g and v ← β₂v + (1 − β₂)g², kept in self.state[i] from step "
              "to step")
ADAM_AHEAD = ("Adam with the bias correction one step ahead, 1 − βᵗ⁺¹: t is the number of the "
              "step being taken, from 1 (1 − β₁¹ = 1 − β₁ at the first step)")
def _about(value: float, rng: np.random.Generator, spread: float = 2.0) -> float:
    """``value`` times or divided by a factor drawn between 1.2 and ``spread``, to three
    significant digits: a setting drawn per grading (OptimizerCase.vary), never ``value``
    itself nor within 20 % of it, where numbers written in would pass."""
    factor = np.exp(rng.uniform(np.log(1.2), np.log(spread))) ** rng.choice((-1, 1))
    return float(f"{value * factor:.3g}")


# the settings of each optimizer: the constructor's, drawn afresh per grading around these
# (an optimizer that ignores its constructor and steps with numbers written in fails); the
# mistakes are made for the settings drawn
SGD_SETTINGS = {"lr": 0.1}
MOMENTUM_SETTINGS = {"lr": 0.1, "momentum": 0.9}
MOMENTUM_MISTAKES = {
    "momentum whose velocity is not kept between steps (your steps are plain SGD's): keep v "
    "in self.state[i] and use it at the next step, v ← μv + g":
    lambda s: _momentum_mistake("none", s["lr"], s["momentum"]),
    "momentum that keeps the gradient instead of the velocity: store the new v in "
    "state[\"velocity\"], so that v ← μv + g sums every past gradient":
    lambda s: _momentum_mistake("gradient", s["lr"], s["momentum"]),
    "momentum with the velocity as an average, v ← μv + (1 − μ)g: torch.optim.SGD's "
    "momentum (and the docstring) adds the whole gradient, v ← μv + g":
    lambda s: _momentum_mistake("average", s["lr"], s["momentum"]),
}
ADAGRAD_SETTINGS = {"lr": 0.1, "eps": 1e-10}
ADAGRAD_MISTAKES = {
    "Adagrad that forgets past gradients: G is the sum of every squared gradient so far "
    "(G ← G + g², kept in self.state[i]), not this step's g² alone":
    lambda s: _rmsprop_mistake("reset", s["lr"], 0.0, s["eps"]),  # α = 0: r = g², one step's G
    "Adagrad without the square root: the step divides by √G + ε, not by G + ε":
    lambda s: _adagrad_without_root(s["lr"], s["eps"]),
    EPS_INSIDE.format(name="Adagrad", of="G"): lambda s: _eps_inside("adagrad", s["lr"], s["eps"]),
}
RMSPROP_SETTINGS = {"lr": 0.01, "alpha": 0.9, "eps": 1e-8}
RMSPROP_MISTAKES = {
    "RMSProp whose average is not kept between steps: r ← αr + (1 − α)g² needs the r of "
    "the step before (keep it in self.state[i])":
    lambda s: _rmsprop_mistake("reset", s["lr"], s["alpha"], s["eps"]),
    "RMSProp with α and 1 − α swapped: the old average keeps the weight α (the decay), the "
    "new squared gradient gets 1 − α":
    lambda s: _rmsprop_mistake("swapped", s["lr"], s["alpha"], s["eps"]),
    "RMSProp whose average is not leaky, r ← αr + g²: the new squared gradient is weighed by "
    "1 − α, r ← αr + (1 − α)g²":
    lambda s: _rmsprop_mistake("unweighted", s["lr"], s["alpha"], s["eps"]),
    EPS_INSIDE.format(name="RMSProp", of="r"):
    lambda s: _eps_inside("rmsprop", s["lr"], s["eps"], alpha=s["alpha"]),
}


def _vary(settings: dict) -> Callable[[np.random.Generator], dict]:
    """Every setting of ``settings`` drawn around its value (a decay between it and 1 stays
    below 1: 1 − (1 − β)·factor), per grading."""
    def draw(rng: np.random.Generator) -> dict:
        out = {}
        for name, value in settings.items():
            if name in ("momentum", "alpha"):
                out[name] = 1.0 - _about(1.0 - value, rng, 1.5)
            elif name == "betas":
                out[name] = tuple(1.0 - _about(1.0 - b, rng, 1.5) for b in value)
            else:
                out[name] = _about(value, rng)
        return out
    return draw


SGD = Question(
    "sgd", "SGD", code="library/optim",
    checks=optimizer_checks("SGD", OptimizerCase(SGD_SETTINGS, torch="SGD",
                                                 vary=_vary(SGD_SETTINGS)),
                            title="SGD", points=1.0))

MOMENTUM = Question(
    "momentum", "SGD with momentum", code="library/optim",
    checks=optimizer_checks("Momentum", OptimizerCase(
        MOMENTUM_SETTINGS, torch="SGD", vary=_vary(MOMENTUM_SETTINGS),
        mistakes=MOMENTUM_MISTAKES), title="Momentum", points=1.5))

ADAGRAD = Question(
    "adagrad", "Adagrad", code="library/optim",
    checks=optimizer_checks("Adagrad", OptimizerCase(
        ADAGRAD_SETTINGS, torch="Adagrad", vary=_vary(ADAGRAD_SETTINGS),
        mistakes=ADAGRAD_MISTAKES), title="Adagrad", points=1.5))

RMSPROP = Question(
    "rmsprop", "RMSProp", code="library/optim",
    checks=optimizer_checks("RMSProp", OptimizerCase(
        RMSPROP_SETTINGS, torch="RMSprop", vary=_vary(RMSPROP_SETTINGS),
        mistakes=RMSPROP_MISTAKES), title="RMSProp", points=1.5))

ADAM_SETTINGS = {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8}

ADAM = Question(
    "adam", "Adam with bias correction", code="library/optim",
    checks=optimizer_checks("Adam", OptimizerCase(
        ADAM_SETTINGS, torch="Adam", vary=_vary(ADAM_SETTINGS), mistakes={
            "Adam without bias correction: divide the moments by 1 − β₁ᵗ and 1 − β₂ᵗ (t the "
            "step count, from 1) before the update": lambda s: _adam_without_bias_correction(
                **s),
            EPS_INSIDE.format(name="Adam", of="v̂"): lambda s: _eps_inside(
                "adam", s["lr"], s["eps"], betas=s["betas"]),
            ADAM_RESET: lambda s: _adam_mistake("reset", **s),
            ADAM_AHEAD: lambda s: _adam_mistake("ahead", **s)}, nonfinite=ADAM_NONFINITE),
        title="Adam", points=2.0))


# -- schedules ---------------------------------------------------------------------------------
#: steps every grading asks: the start, a few early ones, one far on
STEPS = (0, 1, 5, 100)
#: each schedule's settings, by the input that holds them: drawn per grading (with α₀), so
#: that numbers written in for the constructor's fail
SCHEDULE_SETTINGS = {"step_decay": ("drop", "every"), "exponential_decay": ("k",),
                     "inverse_decay": ("tau",)}
#: the ranges of the integer settings, ``every`` and ``tau`` (low, high exclusive)
EVERY, TAU = (3, 16), (3, 40)


def _other(low: int, high: int, name: str) -> Any:
    """A second integer setting in ``[low, high)`` other than the drawn ``name``: each schedule
    is asked at two settings, so that one written in matches at most one of them (a τ of 10
    written in passed every grading that drew τ = 10)."""
    return draw(lambda rng, drawn: low + (drawn[name] - low + int(rng.integers(1, high - low)))
                % (high - low))


def _steps_of_the_draw(drawn: dict) -> list[int]:
    """:data:`STEPS` and the steps around each drawn period and τ, where an off-by-one shows:
    one before, at and after ``every`` and ``2 · every`` (a step decay ``(t + 1) // every``
    drops a step early, at ``t = every − 1``; fixed steps caught it only where the draw put a
    period next to one of them, about 62 % of gradings), and around ``tau`` (where the 1/t
    schedule starts to decrease)."""
    near = {k * drawn[e] + d for e in ("every", "every_2") for k in (1, 2) for d in (-1, 0, 1)}
    near |= {drawn[t] + d for t in ("tau", "tau_2") for d in (-1, 0, 1)}
    return sorted(set(STEPS) | near)


def _schedule_calls() -> list:
    """Each schedule at every step, at the first settings drawn and at the second."""
    return [call(name, "steps", "lr0", each="steps", out=f"{name}{suffix}",
                 **{s: f"{s}{suffix}" for s in settings})
            for name, settings in SCHEDULE_SETTINGS.items() for suffix in ("", "_2")]


SCHEDULES = Question(
    "schedules", "Learning-rate schedules", code="library/schedules",
    checks=[calls_check(
        "values", "the three schedules at steps 0, 1, 5, 100 and around the drawn "
        "periods and τ, at two settings each", 1.0,
        inputs(lr0=uniform(0.1, 1.0), drop=uniform(0.2, 0.8), drop_2=uniform(0.2, 0.8),
               every=integers(EVERY[1], low=EVERY[0]), every_2=_other(*EVERY, "every"),
               k=uniform(0.01, 0.2), k_2=uniform(0.01, 0.2),
               tau=integers(TAU[1], low=TAU[0]), tau_2=_other(*TAU, "tau"),
               steps=derived(_steps_of_the_draw)),
        _schedule_calls())])

QUESTIONS = [SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM, SCHEDULES]
