"""Modules with explicit forward and backward (CS224n lecture 3-4: backpropagation by hand).

A module caches what its backward pass needs during ``forward`` and, in ``backward``, turns the
upstream gradient dL/d(output) into dL/d(input), *adding* dL/d(parameter) into each
parameter's ``grad`` (so gradients from several uses of one parameter accumulate, as the
multivariate chain rule says they must).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from nlpdojo.backend import Array, Backend


class Parameter:
    """A trainable array and the gradient accumulated for it."""

    __slots__ = ("data", "grad", "name")

    def __init__(self, data: Array, name: str = "") -> None:
        self.data = data
        self.grad = data * 0  # same shape, dtype and device as data
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def zero_grad(self) -> None:
        self.grad = self.grad * 0

    def __repr__(self) -> str:
        return f"Parameter({self.name or '?'}, shape={self.shape})"


class Module:
    """Base class for layers and models.

    Subclasses set parameters and sub-modules as attributes (they are found by
    :meth:`named_parameters`) and implement :meth:`forward` and :meth:`backward` side by side.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.xp = backend.xp
        self.training = True

    # -- the two methods every layer writes -------------------------------------------
    def forward(self, *inputs: Array) -> Array:
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad_output: Array) -> Any:
        """dL/d(inputs) from dL/d(output); accumulates into each ``Parameter.grad``."""
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def __call__(self, *inputs: Array) -> Array:
        return self.forward(*inputs)

    # -- parameters, recursively -------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` for this module and its sub-modules, in attribute order."""
        for attr, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + attr, value
            elif isinstance(value, Module):
                yield from value.named_parameters(prefix + attr + ".")
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield from item.named_parameters(f"{prefix}{attr}.{i}.")

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def modules(self) -> Iterator[Module]:
        yield self
        for value in vars(self).values():
            children = value if isinstance(value, (list, tuple)) else [value]
            for child in children:
                if isinstance(child, Module):
                    yield from child.modules()

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    # -- train / eval mode (dropout, batch norm) ---------------------------------------
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    # -- checkpoints -------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Parameter values as host NumPy arrays, keyed by dotted name."""
        return {name: self.backend.to_numpy(p.data).copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise KeyError(f"state_dict mismatch: missing {missing}, unexpected {unexpected}")
        for name, p in params.items():
            value = self.backend.asarray(state[name], dtype=p.data.dtype)
            if tuple(value.shape) != p.shape:
                raise ValueError(f"{name}: shape {tuple(value.shape)} does not match {p.shape}")
            p.data = value
