"""The strict backend: NumPy underneath, ``array_api_strict`` arrays on top.

It exists for grading, not for training: value checks on the NumPy backend run a second time
on it, so that code that leaves the array namespace (``np.exp(x)`` instead of ``xp.exp(x)``,
``x.sum()``, NumPy-only indexing) fails on every backend with a hint to use ``xp``, not only
when someone grades it on torch (the Python array API standard, https://data-apis.org).

Its arrays live on ``array_api_strict``'s second device, ``Device("device1")``, not the
default one: like a GPU tensor, such an array cannot be mixed with an array created without
``device=`` (``xp.arange(n)`` beside a CUDA input) nor turned into a NumPy array by
``np.asarray``, so code that would fail on a GPU fails here, on every machine.

And it refuses what NumPy accepts and torch does not (:func:`refuse_torchless`, installed
when a strict backend is made), so code that passed on NumPy and scored 0 on torch fails on
NumPy too: a slice with a negative step, read or written (``xs[:, ::-1, :]``, ``out[::-1] =
x``: torch's "step must be greater than zero"), and ``xp.take`` with an index of more than one
dimension (an embedding's ``xp.take(W, ids, axis=0)`` with ids (B, T): torch's "Index is
supposed to be a vector"; ``array_api_strict`` refuses it in words the grader did not tell from
the standard's pedantries).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlpdojo.backend import Array, Backend, Random, Shape
from nlpdojo_numpy.backend import NumpyBackend, NumpyRandom


def _xp() -> Any:
    import array_api_strict

    return array_api_strict


#: the device the strict backend's arrays live on: not the default one (see the module's doc)
DEVICE_NAME = "device1"

#: how an error of :func:`refuse_torchless` starts (the grader's strict pass tells it by this)
TORCH_REFUSES = "torch refuses this"


def _negative_step(key: Any) -> bool:
    """Whether an index holds a slice with a negative step."""
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(p, slice) and isinstance(p.step, int) and p.step < 0 for p in parts)


_NEGATIVE_STEP = (f"{TORCH_REFUSES}: a slice with a negative step (torch: \"step must be "
                  "greater than zero\"), which NumPy accepts; reverse an axis with "
                  "`xp.flip(x, axis=...)` instead")
_TAKE_INDEX = (f"{TORCH_REFUSES}: `xp.take` with an index of {{}} dimensions (torch: \"Index is "
               "supposed to be a vector\"), which NumPy accepts; take along a flat index and "
               "reshape: `xp.reshape(xp.take(x, xp.reshape(ids, (-1,)), axis=0), (*ids.shape, "
               "-1))`")


def refuse_torchless() -> None:
    """Make ``array_api_strict`` refuse, in this process, what torch refuses and NumPy
    accepts: a slice with a negative step, read or written, and ``take`` with an index of more
    than one dimension (an ``IndexError`` that starts with :data:`TORCH_REFUSES`). Idempotent;
    run by :class:`StrictBackend`, which exists to grade, so that the strict pass of a value
    check fails such code on NumPy too."""
    xp = _xp()
    array = type(xp.asarray(0.0))
    if getattr(array, "_nlpdojo_torchless", False):
        return
    take = xp.take

    def strict_take(x: Any, indices: Any, /, *args: Any, **kwargs: Any) -> Any:
        if getattr(indices, "ndim", 1) > 1:
            raise IndexError(_TAKE_INDEX.format(indices.ndim))
        return take(x, indices, *args, **kwargs)

    xp.take = strict_take
    getitem, setitem = array.__getitem__, array.__setitem__

    def __getitem__(self: Any, key: Any, /) -> Any:  # noqa: N807 - the method it replaces
        if _negative_step(key):
            raise IndexError(_NEGATIVE_STEP)
        return getitem(self, key)

    def __setitem__(self: Any, key: Any, value: Any, /) -> None:  # noqa: N807
        if _negative_step(key):
            raise IndexError(_NEGATIVE_STEP)
        setitem(self, key, value)

    array.__getitem__, array.__setitem__ = __getitem__, __setitem__
    array._nlpdojo_torchless = True


class StrictRandom(Random):
    def __init__(self, seed: int, default_dtype: Any) -> None:
        self._numpy = NumpyRandom(seed, np.float64)
        self._dtype = default_dtype
        self._device = _xp().Device(DEVICE_NAME)

    def _wrap(self, arr: np.ndarray, dtype: Any = None) -> Array:
        return _xp().asarray(arr, dtype=dtype or self._dtype, device=self._device)

    def normal(self, shape: Shape, *, std: float = 1.0, dtype: Any = None) -> Array:
        return self._wrap(self._numpy.normal(shape, std=std), dtype)

    def uniform(self, shape: Shape, *, low: float = 0.0, high: float = 1.0,
                dtype: Any = None) -> Array:
        return self._wrap(self._numpy.uniform(shape, low=low, high=high), dtype)

    def integers(self, low: int, high: int, shape: Shape) -> Array:
        return _xp().asarray(self._numpy.integers(low, high, shape), device=self._device)

    def permutation(self, n: int) -> Array:
        return _xp().asarray(self._numpy.permutation(n), device=self._device)


class StrictBackend(Backend):
    name = "strict"

    def __init__(self, device: str = "cpu", dtype: str | None = None) -> None:
        if device != "cpu":
            raise ValueError(f"the strict backend runs on 'cpu' only, not {device!r}")
        self.xp = _xp()
        refuse_torchless()
        self._array_type = type(self.xp.asarray(0.0))
        # array_api_strict's own device object, not the string "cpu": code that creates arrays
        # with `device=backend.device` (a layer's zero bias) must work here as on torch, or
        # the strict pass of every layer check stopped at its first line; the second device,
        # so that arrays created without `device=` cannot be mixed in (the module's doc)
        self.device = self.xp.Device(DEVICE_NAME)
        self.default_dtype = getattr(self.xp, dtype or "float64")
        self._numpy = NumpyBackend("cpu", dtype)

    def rng(self, seed: int) -> Random:
        return StrictRandom(seed, self.default_dtype)

    def asarray(self, obj: Any, *, dtype: Any = None) -> Array:
        if isinstance(dtype, type) and issubclass(dtype, np.generic):
            dtype = getattr(self.xp, np.dtype(dtype).name)
        if isinstance(obj, self._array_type):
            return self.xp.asarray(obj, dtype=dtype, device=self.device)
        return self.xp.asarray(np.asarray(obj), dtype=dtype, device=self.device)

    def to_numpy(self, x: Array) -> np.ndarray:
        if isinstance(x, self._array_type):
            # the NumPy array it wraps (array_api_strict's ``_array``): what ``np.from_dlpack``
            # returns too, without its 4 us of protocol (a call-back converts a dozen)
            wrapped = getattr(x, "_array", None)
            return wrapped if type(wrapped) is np.ndarray else np.from_dlpack(x)
        return np.asarray(x)

    def _host(self, x: Array, what: str, method: str) -> np.ndarray:
        """A NumPy copy of ``x``, an argument of ``method``: refused, as torch's
        ``index_add_`` refuses it on a GPU, unless it is an array of this namespace on this
        backend's device (the ones of a backward made without ``device=`` kept full marks,
        computed here in NumPy whatever their device)."""
        if not isinstance(x, self._array_type):
            raise TypeError(f"{method}'s {what} is a {type(x).__name__}, not one of the Array "
                            "objects of the backend's namespace (torch's index_add_ takes "
                            "tensors only): make it with `xp`")
        if x.device != self.device:
            raise ValueError(f"Arrays from two different devices ({x.device} and "
                             f"{self.device}) can not be combined: {method}'s {what} is on "
                             "the default device, the target on the backend's")
        return np.array(self.to_numpy(x), copy=True)

    def scatter_add(self, target: Array, index: Array, values: Array, *,
                    alpha: float = 1.0) -> Array:
        host = self._host(target, "target", "scatter_add")  # (V, D), copied back in place
        self._numpy.scatter_add(host, self._host(index, "index", "scatter_add"),
                                self._host(values, "values", "scatter_add"), alpha=alpha)
        target[...] = self.xp.asarray(host, device=self.device)
        return target

    def scatter_add_weighted(self, target: Array, index: Array, weights: Array, rows: Array,
                             *, alpha: float = 1.0) -> Array:
        method = "scatter_add_weighted"
        host = self._host(target, "target", method)
        self._numpy.scatter_add_weighted(
            host, self._host(index, "index", method), self._host(weights, "weights", method),
            self._host(rows, "rows", method), alpha=alpha)
        target[...] = self.xp.asarray(host, device=self.device)
        return target

    def describe(self) -> dict[str, Any]:
        import array_api_strict

        return {**super().describe(), "device": "cpu", "version": array_api_strict.__version__}
