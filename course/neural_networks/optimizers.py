"""Optimizers and learning-rate schedules (CS224n lecture 3, notes part III; Kingma & Ba 2015):
SGD, momentum, Adagrad, RMSProp and Adam as optimizers of the course library, each trajectory
against the reference and against ``torch.optim`` with the same settings (Adam's also against
the known mistake of leaving out the bias correction), and the step, exponential and 1/t
schedules."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    OptimizerCase,
    Question,
    bug,
    call,
    calls_check,
    inputs,
    optimizer_checks,
)
from nlpdojo_course.neural_networks.common import LIB

OPTIM = f"{LIB}.optim"


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


def _optimizer(question: str, cls: str, kwargs: dict, torch_name: str, points: float,
               mistakes: dict | None = None):
    return optimizer_checks(question, OPTIM, cls,
                            OptimizerCase(kwargs=kwargs, torch=(torch_name, dict(kwargs)),
                                          mistakes=mistakes or {}),
                            title=cls, points=points)


SGD = Question(
    "sgd", "SGD", code="library/optim",
    checks=_optimizer("sgd", "SGD", {"lr": 0.1}, "SGD", 1.0),
    planted_bugs=[
        bug("SGD ascends", OPTIM, "p.data = p.data - self.lr * p.grad\n",
            "p.data = p.data + self.lr * p.grad\n", "sgd"),
    ])

MOMENTUM = Question(
    "momentum", "SGD with momentum", code="library/optim",
    checks=_optimizer("momentum", "Momentum", {"lr": 0.1, "momentum": 0.9}, "SGD", 1.5),
    planted_bugs=[
        bug("momentum keeps no velocity", OPTIM, 'state["velocity"] = v',
            'state["velocity"] = p.grad', "momentum"),
    ])

ADAGRAD = Question(
    "adagrad", "Adagrad", code="library/optim",
    checks=_optimizer("adagrad", "Adagrad", {"lr": 0.1, "eps": 1e-10}, "Adagrad", 1.5,
                      mistakes={EPS_INSIDE.format(name="Adagrad", of="G"):
                                _eps_inside("adagrad", 0.1, 1e-10)}),
    planted_bugs=[
        bug("Adagrad forgets past gradients", OPTIM,
            'total = state.get("sum", 0.0) + p.grad * p.grad', "total = p.grad * p.grad",
            "adagrad"),
        bug("Adagrad with eps inside the square root", OPTIM,
            "p.data = p.data - self.lr * p.grad / (xp.sqrt(total) + self.eps)",
            "p.data = p.data - self.lr * p.grad / xp.sqrt(total + self.eps)", "adagrad"),
    ])

RMSPROP = Question(
    "rmsprop", "RMSProp", code="library/optim",
    checks=_optimizer("rmsprop", "RMSProp", {"lr": 0.01, "alpha": 0.9, "eps": 1e-8},
                      "RMSprop", 1.5, mistakes={EPS_INSIDE.format(name="RMSProp", of="r"):
                                                _eps_inside("rmsprop", 0.01, 1e-8)}),
    planted_bugs=[
        bug("RMSProp average not leaky", OPTIM, "+ (1.0 - self.alpha) * p.grad * p.grad",
            "+ p.grad * p.grad", "rmsprop"),
    ])

ADAM_SETTINGS = {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-8}

ADAM = Question(
    "adam", "Adam with bias correction", code="library/optim",
    checks=_optimizer("adam", "Adam", ADAM_SETTINGS, "Adam", 2.0, mistakes={
        "Adam without bias correction: divide the moments by 1 − β₁ᵗ and 1 − β₂ᵗ (t the "
        "step count, from 1) before the update": _adam_without_bias_correction(**ADAM_SETTINGS),
        EPS_INSIDE.format(name="Adam", of="v̂"): _eps_inside(
            "adam", ADAM_SETTINGS["lr"], ADAM_SETTINGS["eps"], betas=ADAM_SETTINGS["betas"])}),
    planted_bugs=[
        bug("Adam without bias correction", OPTIM,
            "m_hat = m / (1.0 - self.beta1 ** t)  # (same shape as p)\n"
            "            v_hat = v / (1.0 - self.beta2 ** t)",
            "m_hat = m\n            v_hat = v", "adam"),
    ])


# -- schedules ---------------------------------------------------------------------------------
STEPS = (0, 1, 5, 9, 10, 11, 25, 100)
SCHEDULE_SETTINGS = {"step_decay": {"drop": 0.5, "every": 10},
                     "exponential_decay": {"k": 0.05}, "inverse_decay": {"tau": 10}}

SCHEDULES = Question(
    "schedules", "Learning-rate schedules", code="library/schedules",
    checks=[calls_check(
        "schedules", "values", "the three schedules at steps " + ", ".join(map(str, STEPS)),
        1.0, f"{LIB}.schedules", inputs(steps=list(STEPS)),
        [call(name, "steps", 0.5, each="steps", out=name, **settings)
         for name, settings in SCHEDULE_SETTINGS.items()])],
    planted_bugs=[
        bug("1/t schedule from step 1", f"{LIB}.schedules", "return lr0 * tau / max(t, tau)",
            "return lr0 * tau / max(t, 1)", "schedules"),
    ])

QUESTIONS = [SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM, SCHEDULES]
