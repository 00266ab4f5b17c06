"""Optimizers: update parameters from their accumulated gradients (CS224n lecture 3).

``step()`` applies one update, ``zero_grad()`` clears gradients, and ``state_dict()`` /
``load_state_dict()`` carry the optimizer's own state (step count, moment estimates) in
checkpoints as host NumPy arrays, so a run resumes exactly.

Parameters are deduplicated by identity (a weight tied between two layers is stepped once, with
the gradient both uses accumulated into it), and an update keeps each parameter's dtype: it is
assigned through :class:`~nlpdojo.module.Parameter`, which casts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nlpdojo.arrays import like, to_numpy
from nlpdojo.module import Parameter


class Optimizer:
    """Base class. Subclasses implement :meth:`step` and keep per-parameter state in ``state``."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        unique: dict[int, Parameter] = {}
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizers take Parameters (model.parameters()), got "
                                f"{type(p).__name__}")
            unique.setdefault(id(p), p)  # the first occurrence keeps its position
        self.params = list(unique.values())
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.lr = float(lr)
        self.steps = 0
        #: per-parameter state, keyed by position in ``params``
        self.state: dict[int, dict[str, Any]] = {}

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__}.step")

    def zero_grad(self) -> None:
        for p in self.params:
            p.zero_grad()

    def state_dict(self) -> dict[str, Any]:
        def host(v: Any) -> Any:
            return v if isinstance(v, (int, float)) else to_numpy(v)

        return {
            "lr": self.lr,
            "steps": self.steps,
            "state": {i: {k: host(v) for k, v in s.items()} for i, s in self.state.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        loaded: dict[int, dict[str, Any]] = {}
        for i, entries in state["state"].items():
            if not 0 <= int(i) < len(self.params):
                # a key far past any position is an id(p) (a student trial was asked whether
                # the state came from another model)
                why = (": the keys of self.state are the parameters' positions in self.params "
                       "(0, 1, ...), not id(p), which another process or model does not share"
                       if abs(int(i)) >= 2**16 else ": was it saved for another model?")
                raise ValueError(
                    f"optimizer state has an entry for parameter {i}, but this optimizer has "
                    f"{len(self.params)} parameters{why}"
                )
            ref = self.params[int(i)].data
            loaded[int(i)] = {
                k: v if isinstance(v, (int, float)) else like(ref, v) for k, v in entries.items()
            }
        self.lr = float(state["lr"])
        self.steps = int(state["steps"])
        self.state = loaded

