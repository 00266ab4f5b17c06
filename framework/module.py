"""Modules with explicit forward and backward (CS224n lecture 3-4: backpropagation by hand).

The contract, written once (CS231n ``layers.py``: ``affine_forward(x, w, b) -> (out, cache)``,
``affine_backward(dout, cache)``)::

    output, cache = module(*inputs)              # forward: the value and what backward needs
    grad_input = module.backward(grad_output, cache)

``forward`` keeps nothing on ``self``: what ``backward`` needs for *this call* goes into the
cache it returns, as micrograd's per-operation ``_backward`` closures and minitorch's
``ctx.save_for_backward`` keep it with the call rather than the object. A layer applied T times
(an RNN over time, one layer shared by two branches) returns T caches; calling ``backward`` once
with each (in any order, usually reverse) gives the exact gradient (backpropagation through
time).

``backward`` turns dL/d(output) into dL/d(input) and *adds* dL/d(parameter) into each
parameter's ``grad`` (:meth:`Parameter.accumulate`), so the gradients of several uses of one
parameter sum, as the multivariate chain rule says they must.

Dtypes: a :class:`Parameter` never changes dtype, shape or device; whatever is assigned to it is
cast (so a float32 model stays float32 under float64 gradients). Inputs are not cast: a float64
input to a float32 model computes in float64 (the array API's type promotion, through
``backend.xp`` on NumPy and torch alike), so its output and input gradient are float64 and it
runs at float64 cost, while the parameter gradients are cast back to float32 as they are
accumulated: the model stays float32. Convert inputs with
``backend.asarray(x, dtype=backend.default_dtype)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from nlpdojo.backend import Array, Backend

#: What ``forward`` returns for ``backward``: nested tuples, lists and dicts of arrays, numbers,
#: strings and None. Plain data, so it can be checked, stored and sent to another process.
Cache = Any


#: attribute names a newcomer reaches for, and the one they mean (``data`` or ``grad``)
_MEANT = {**dict.fromkeys(("value", "values", "val", "weight", "weights", "array", "tensor",
                           "param", "parameter", "w", "W", "x", "v"), "data"),
          **dict.fromkeys(("gradient", "gradients", "grads", "g", "dw", "dW", "d",
                           "derivative"), "grad")}


def _no_attribute(name: str) -> str:
    """Why a :class:`Parameter` has no attribute ``name``, and what it has."""
    meant = _MEANT.get(name)
    hint = f"did you mean p.{meant}? " if meant else ""
    return (f"Parameter has no attribute {name!r}: {hint}a parameter's array is p.data (read "
            "it, or assign a new array of the same shape: p.data = p.data - lr * p.grad) and "
            "its gradient is p.grad; it also has p.shape, p.dtype, p.name, p.zero_grad() and "
            "p.accumulate(g)")


class Parameter:
    """A trainable array and the gradient accumulated for it: ``p.data`` is its value (read it,
    or assign a new array), ``p.grad`` the gradient ``backward`` accumulated.

    The parameter keeps the dtype, shape and device it was created with: assigning ``p.data``
    or ``p.grad`` casts the value to that dtype and device (a NumPy value into a torch
    parameter too) and raises ``ValueError`` naming the parameter when the shape differs.
    No broadcasting: a ``(N, D)`` bias gradient is an error, not a silent sum. Any other
    attribute (``p.value``, ``p.weight``) is an ``AttributeError`` that names ``p.data`` and
    ``p.grad``.
    """

    __slots__ = ("_data", "_grad", "_xp", "name")
    _SETTABLE = frozenset({*__slots__, "data", "grad"})

    def __getattr__(self, name: str) -> Any:  # only for names the class does not have
        if name.startswith("__"):  # protocols probed by copy, pickle, numpy...
            raise AttributeError(name, name=name, obj=self)
        raise AttributeError(_no_attribute(name), name=name, obj=self)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in Parameter._SETTABLE:
            raise AttributeError(_no_attribute(name), name=name, obj=self)
        object.__setattr__(self, name, value)

    def __init__(self, data: Array, name: str = "") -> None:
        self.name = name
        self.replace(data)

    # -- the arrays ---------------------------------------------------------------------
    @property
    def data(self) -> Array:
        return self._data

    @data.setter
    def data(self, value: Array) -> None:
        self._data = self._coerce(value, "data")

    @property
    def grad(self) -> Array:
        return self._grad

    @grad.setter
    def grad(self, value: Array) -> None:
        self._grad = self._coerce(value, "grad")

    def accumulate(self, g: Array) -> None:
        """``grad += g`` (cast to the parameter's dtype and device; the shape must match)."""
        self._grad = self._grad + self._coerce(g, "gradient")

    def zero_grad(self) -> None:
        # zeros_like, not grad * 0: NaN * 0 is NaN, and one diverged step must not stick.
        self._grad = self._xp.zeros_like(self._data)

    def replace(self, data: Array, grad: Array | None = None) -> None:
        """Swap in ``data`` *with* its dtype, shape and device (grad: zeros unless given).

        The one way to change what the parameter is; gradient checks use it to run a float32
        model in float64 and to hand it back afterwards. Training code assigns ``data``.
        """
        from array_api_compat import array_namespace, is_array_api_obj

        if not is_array_api_obj(data):
            import numpy as np

            data = np.asarray(data)
        self._xp = array_namespace(data)
        self._data = data
        self._grad = self._xp.zeros_like(data) if grad is None else grad

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._data.shape)

    @property
    def dtype(self) -> Any:
        return self._data.dtype

    def _coerce(self, value: Any, what: str) -> Array:
        """``value`` as an array of this parameter's library, dtype and device; shape checked."""
        from array_api_compat import device

        from nlpdojo.arrays import is_torch, to_numpy

        ref = self._data
        shape = tuple(getattr(value, "shape", ()))
        if shape != tuple(ref.shape):
            hint = ""
            if len(shape) == 2 and shape == tuple(ref.shape)[::-1]:
                hint = " (the transposed shape: a matrix_transpose missing or extra?)"
            raise ValueError(
                f"parameter {self.name or '?'}: {what} of shape {shape} does not match the "
                f"parameter's shape {tuple(ref.shape)}{hint}"
            )
        if getattr(value, "dtype", None) == ref.dtype and type(value) is type(ref) \
                and device(value) == device(ref):
            return value
        if is_torch(value) and not is_torch(ref):  # torch into NumPy
            value = to_numpy(value, copy=False)
        return self._xp.asarray(value, dtype=ref.dtype, device=device(ref))

    def __repr__(self) -> str:
        return f"Parameter({self.name or '?'}, shape={self.shape}, dtype={self.dtype})"


class Module:
    """Base class for layers and models.

    Subclasses set parameters and sub-modules as attributes, directly or inside lists, tuples
    and dicts (all found by :meth:`named_parameters`), and implement :meth:`forward` and
    :meth:`backward` side by side.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.xp = backend.xp
        self.training = True

    def __getattr__(self, name: str) -> Any:
        # only reached when normal look-up fails: say what is missing, not just its name
        if name in ("backend", "xp", "training"):
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}: its __init__ must call "
                "super().__init__(backend) before anything else (that sets self.backend, "
                "self.xp and self.training)")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- the two methods every layer writes -------------------------------------------
    def forward(self, *inputs: Array) -> tuple[Any, Cache]:
        """``(output, cache)``.

        ``cache`` is everything :meth:`backward` needs for *this call* and nothing else is
        stored: nested tuples, lists and dicts of arrays, numbers, strings and None (no
        modules, no Parameters, no closures), so it is plain data that can be sent to another
        process (:func:`cache_problem` says where it is not).
        """
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad_output: Array, cache: Cache) -> Any:
        """dL/d(inputs) from dL/d(output) and this call's ``cache``.

        Returns one array for one input, a tuple (one entry per input) for several, None for
        an input that has no gradient (integer token ids). *Adds* dL/d(parameter) into each
        parameter's ``grad`` with :meth:`Parameter.accumulate`.
        """
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def __call__(self, *inputs: Array) -> tuple[Any, Cache]:
        """``forward(*inputs)``: the pair ``(output, cache)``."""
        result = self.forward(*inputs)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(
                f"{type(self).__name__}.forward must return the pair (output, cache), got "
                f"{type(result).__name__}: return the output together with what backward needs"
            )
        return result

    # -- parameters and sub-modules, recursively ----------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` for this module and everything it holds, in attribute
        order: attributes, list/tuple entries (``layers.0.weight``) and dict entries
        (``heads.tag.bias``), recursively. Each parameter once, under the first name found, so
        a tied weight is listed (and stepped by an optimizer) once."""
        seen: set[int] = set()
        for name, value in _walk(vars(self), prefix, set()):
            if isinstance(value, Parameter) and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module it holds (containers included), each once."""
        yield self
        seen = {id(self)}
        for _, value in _walk(vars(self), "", set()):
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield value

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
        """Parameter values as host NumPy arrays, keyed by dotted name (a tied one once)."""
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


def _walk(items: dict[Any, Any], prefix: str, visiting: set[int]) -> Iterator[tuple[str, Any]]:
    """``(dotted name, value)`` for every Parameter and Module under ``items``, depth first.

    Descends into Modules and into lists, tuples and dicts; ``visiting`` guards against cycles
    (a module holding its parent), so the walk ends on any object graph.
    """
    for key, value in items.items():
        name = f"{prefix}{key}"
        if isinstance(value, Parameter):
            yield name, value
        elif isinstance(value, (Module, list, tuple, dict)):
            if id(value) in visiting:
                continue
            visiting.add(id(value))
            if isinstance(value, Module):
                yield name, value
                yield from _walk(vars(value), name + ".", visiting)
            elif isinstance(value, dict):
                yield from _walk(value, name + ".", visiting)
            else:
                yield from _walk(dict(enumerate(value)), name + ".", visiting)
            visiting.discard(id(value))


_SCALARS = (bool, int, float, complex, str, bytes, type(None))


def cache_problem(cache: Cache, path: str = "cache") -> str | None:
    """Where ``cache`` is not plain data (a message naming the first offending entry), or None.

    Plain data: arrays (NumPy, torch, any array API array), numbers, strings, None, and tuples,
    lists and dicts (string or integer keys) of these.
    """
    from array_api_compat import is_array_api_obj

    if isinstance(cache, _SCALARS) or is_array_api_obj(cache):
        return None
    if isinstance(cache, (tuple, list)):
        for i, item in enumerate(cache):
            if (problem := cache_problem(item, f"{path}[{i}]")) is not None:
                return problem
        return None
    if isinstance(cache, dict):
        for key, item in cache.items():
            if not isinstance(key, (str, int)):
                return f"{path} has a key of type {type(key).__name__} (use str or int keys)"
            if (problem := cache_problem(item, f"{path}[{key!r}]")) is not None:
                return problem
        return None
    kind = ("a Parameter (cache its .data array, or nothing: backward can read the parameter)"
            if isinstance(cache, Parameter) else
            "a Module (backward is a method: it already has self)" if isinstance(cache, Module)
            else "a function (cache the arrays it closes over instead)" if callable(cache)
            else f"a {type(cache).__name__}")
    return (f"{path} is {kind}; a cache holds only arrays, numbers, strings, None and "
            "tuples/lists/dicts of them")
