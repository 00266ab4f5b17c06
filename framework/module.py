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
        self.grad = _zeros_like(data)  # same shape, dtype and device as data
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def zero_grad(self) -> None:
        # zeros_like, not grad * 0: NaN * 0 is NaN, and one diverged step must not stick.
        self.grad = _zeros_like(self.grad)

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
        """Copy values from ``state`` (host or backend arrays) into the parameters.

        Values are converted to this module's backend, device and dtype, and copied: the
        module never shares memory with ``state``. Nothing is changed unless every name and
        shape matches.
        """
        params = dict(self.named_parameters())
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise KeyError(f"state_dict mismatch: missing {missing}, unexpected {unexpected}")
        loaded = {}
        for name, p in params.items():
            value = self.backend.asarray(state[name], dtype=p.data.dtype)
            if tuple(value.shape) != p.shape:
                raise ValueError(f"{name}: shape {tuple(value.shape)} does not match {p.shape}")
            loaded[name] = self.xp.asarray(value, copy=True)
        for name, p in params.items():
            p.data = loaded[name]


def _zeros_like(x: Array) -> Array:
    from array_api_compat import array_namespace

    return array_namespace(x).zeros_like(x)
