"""NumPy backend: ``array_api_compat.numpy`` as the namespace, PCG64 random streams.

**BLAS threads.** Creating a NumPy backend sets the BLAS library's thread count once per
process (``threadpoolctl``; never at import), by the first of:

1. ``NLPDOJO_NUMPY_THREADS`` (a positive integer);
2. ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS``, which the BLAS read at
   start-up: kept as it is (not the one thread ``grade`` and ``dojo`` start OpenBLAS with where
   the user set none: :mod:`nlpdojo.startup`);
3. the policy: one thread, as the torch backend's (its docstring). The course's products are
   small, and OpenBLAS's threads spin-wait for each other: on this 2-core machine with two
   busy processes beside it, a tagger's training took 10.5 s with OpenBLAS's default of 2
   threads and 0.4 s with one (0.3 s each when quiet); a (20, 256) x (256, 256) product took
   2.7 ms instead of 0.025 ms. A (700, 256) x (256, 17,003) product, the largest of the course,
   gains 2x from a second idle core, which ``NLPDOJO_NUMPY_THREADS=2`` gives back.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from nlpdojo.arrays import import_deferring, is_torch, numpy_namespace, to_numpy
from nlpdojo.backend import Array, Backend, Random, Shape
from nlpdojo.startup import NUMPY_THREADS_ENV, blas_threads_preset

#: scatter_add sums into a dense (V, D) block when V <= this x N values, else over the distinct
#: indices only (measured crossover on word2vec-sized updates, bench/scatter_add.py); only where
#: the in-place product below cannot run (a target that is not contiguous, mixed dtypes)
DENSE_ROWS_PER_VALUE = 4


#: the extension module that holds SciPy's sparse kernels
_SPARSETOOLS = "scipy.sparse._sparsetools"


@functools.cache
def _sparse() -> ModuleType:
    """``scipy.sparse``, imported at the first scatter that cannot run in place
    (:func:`_scatter_in_place`): its import is ~0.1 CPU-s and 176 modules."""
    return import_deferring("scipy.sparse")


@functools.cache
def _csc_matvecs() -> Any:
    """SciPy's compiled kernel behind ``csc_matrix @ dense`` (Y += A @ X, in place), or None in
    a SciPy that moved it (the public product is used then).

    Where ``scipy.sparse`` is not imported yet, the kernel's extension module is loaded from
    its file alone (its initialisation imports NumPy only) and kept here, not in
    ``sys.modules``: a later ``import scipy.sparse`` loads the package as it would have. The
    package's import is what every grader worker and reference process that scatters once
    paid (~0.1 CPU-s; the kernel alone ~1 ms), and most of their scatters run in place."""
    module = sys.modules.get(_SPARSETOOLS) or _extension_alone(_SPARSETOOLS)
    if module is None:
        try:
            module = importlib.import_module(_SPARSETOOLS)
        except ImportError:  # pragma: no cover - a SciPy that moved it
            return None
    return getattr(module, "csc_matvecs", None)


def _extension_alone(name: str) -> ModuleType | None:
    """The compiled module ``name`` loaded from its file without importing the packages
    above it (nor registered in ``sys.modules``); None where it is not found or does not
    load."""
    top, _, leaf = name.partition(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)), *leaf.split(".")[:-1])
    stem = leaf.rpartition(".")[2]
    path = next((folder / f"{stem}{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES
                 if (folder / f"{stem}{suffix}").is_file()), None)
    if path is None:
        return None
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return None
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception:  # noqa: BLE001 - the package's own import is tried instead
        return None
    finally:
        # a single-phase extension registers itself; the package's import loads it again
        # (from the interpreter's copy of its first initialisation)
        sys.modules.pop(name, None)
    return module


def _scatter_in_place(flat: np.ndarray, index: np.ndarray, data: np.ndarray,
                      rows: np.ndarray, per_row: int) -> bool:
    """``flat[index[j]] += data[j] * rows[j // per_row]`` for every j, in place, in one
    compiled pass; ``False`` (nothing done) where it cannot run exactly.

    It is SciPy's ``csc_matrix @ dense`` kernel called with the target as its accumulator:
    the public product allocates and zeroes a (V, D) result, which the caller then adds to the
    target, three passes over the whole matrix per call where only the touched rows change
    (for word2vec's 1024 x 6 updates of an (11,269, 100) matrix, 0.34 ms against 0.08 ms).
    The kernel checks no bounds: the callers pass indices through :func:`_rows_in_range`.

    :param flat: (V, D) C-contiguous float32 or float64 target.
    :param index: (N,) integer row of each value.
    :param data: (N,) weight of each value.
    :param rows: (N / per_row, D) the vectors the weights scale.
    """
    csc_matvecs = _csc_matvecs()
    if (csc_matvecs is None or not flat.flags.c_contiguous or flat.dtype not in _FLOATS
            or rows.dtype != flat.dtype):
        return False
    n = index.shape[0]
    V, D = flat.shape
    csc_matvecs(V, n // per_row, D, np.arange(0, n + 1, per_row, dtype=np.int64),
                 index.astype(np.int64, copy=False), data.astype(flat.dtype, copy=False),
                 np.ascontiguousarray(rows).reshape(-1), flat.reshape(-1))
    return True


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _rows_in_range(index: np.ndarray, rows: int) -> np.ndarray:
    """``index`` with negative entries counted from the end (NumPy's rule), or ``IndexError``
    for an entry outside ``[-rows, rows)``: SciPy's sparse kernels check no bounds, and an index
    past the end wrote outside the target (a corrupted heap, not an error)."""
    if not np.issubdtype(index.dtype, np.integer):
        raise IndexError(f"scatter-add indices must be integers, got {index.dtype}")
    low, high = int(index.min()), int(index.max())
    if low < -rows or high >= rows:
        bad = low if low < -rows else high
        raise IndexError(f"index {bad} is out of bounds for axis 0 with size {rows}")
    return index + rows * (index < 0) if low < 0 else index


class NumpyRandom(Random):
    def __init__(self, seed: int, default_dtype: Any) -> None:
        self._gen = np.random.Generator(np.random.PCG64(seed))
        self._dtype = default_dtype

    def normal(self, shape: Shape, *, std: float = 1.0, dtype: Any = None) -> Array:
        return (self._gen.standard_normal(tuple(shape)) * std).astype(dtype or self._dtype)

    def uniform(self, shape: Shape, *, low: float = 0.0, high: float = 1.0,
                dtype: Any = None) -> Array:
        return self._gen.uniform(low, high, tuple(shape)).astype(dtype or self._dtype)

    def integers(self, low: int, high: int, shape: Shape) -> Array:
        return self._gen.integers(low, high, tuple(shape), dtype=np.int64)

    def permutation(self, n: int) -> Array:
        return self._gen.permutation(n).astype(np.int64)


#: the environment variable that sets the BLAS thread count of the NumPy backend
THREADS_ENV = NUMPY_THREADS_ENV
_blas_choice: dict[str, Any] | None = None


def blas_threads() -> dict[str, Any]:
    """Choose the BLAS thread count once per process (the module's docstring says how):
    ``{"threads", "source", "blas_had"}``."""
    global _blas_choice
    if _blas_choice is None:
        from threadpoolctl import threadpool_info, threadpool_limits

        had = max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"),
                  default=None)
        raw = os.environ.get(THREADS_ENV, "").strip()
        preset = blas_threads_preset()  # not the one thread `grade` and `dojo` start with
        if raw:
            if not raw.isdigit() or int(raw) < 1:
                from nlpdojo.errors import ConfigError

                raise ConfigError(f"{THREADS_ENV}={raw!r}: give a positive number of threads")
            threads, source = int(raw), THREADS_ENV
        elif preset is not None:
            threads, source = had, preset
        else:
            threads, source = 1, "policy"
        if threads is not None and threads != had:
            threadpool_limits(limits=threads, user_api="blas")  # process-wide, kept
        _blas_choice = {"threads": threads, "source": source, "blas_had": had}
    return _blas_choice


#: glibc's mallopt parameters and the values set: arrays up to 32 MB come from the heap, and
#: the heap keeps up to 64 MB of freed memory at its top (glibc's own rule when it raises the
#: first: twice it); a heap trimmed at the default 128 kB gave the pages back after every
#: free, and word2vec's trainer ran at 0.57x gensim instead of 1.07x
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
HEAP_ARRAYS_UP_TO, HEAP_KEEPS = 32 * 1024 * 1024, 64 * 1024 * 1024
_heap_kept: bool | None = None  # None: not tried yet in this process


def keep_arrays_on_the_heap() -> bool:
    """Once per process, on glibc: serve allocations up to 32 MB from the heap rather than
    from fresh ``mmap`` pages, and keep up to 64 MB freed at the heap's top
    (``mallopt(M_MMAP_THRESHOLD)`` and ``mallopt(M_TRIM_THRESHOLD)``, as the environment
    variables ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` would).

    Above glibc's default threshold of 128 kB every array is mapped on allocation and unmapped
    when freed, so a training step that allocates a few such arrays pays their page faults
    again at every step: the graded-size RNN LM step (bench/rnn_lm_step.py, V=2,000) took 5.7
    or 10.5 ms per step from one round to the next, and a steady 5.2-5.5 ms with the
    thresholds set. The trim threshold must go with it: with the mmap threshold alone the heap
    gave its top back after every free, and word2vec's trainer fell to 0.57x gensim's speed.
    ``False`` where they cannot be set (not glibc)."""
    global _heap_kept
    if _heap_kept is None:
        try:
            import ctypes

            libc = ctypes.CDLL("libc.so.6")
            _heap_kept = bool(libc.mallopt(M_TRIM_THRESHOLD, HEAP_KEEPS)
                              and libc.mallopt(M_MMAP_THRESHOLD, HEAP_ARRAYS_UP_TO))
        except (OSError, AttributeError):  # not glibc: its allocator, as it is
            _heap_kept = False
    return _heap_kept


class NumpyBackend(Backend):
    name = "numpy"
    xp = numpy_namespace()

    def __init__(self, device: str = "cpu", dtype: str | None = None) -> None:
        if device != "cpu":
            raise ValueError(f"the numpy backend runs on 'cpu' only, not {device!r}")
        self.device = "cpu"
        self.default_dtype = np.dtype(dtype or "float64").type
        blas_threads()
        keep_arrays_on_the_heap()

    def rng(self, seed: int) -> Random:
        return NumpyRandom(seed, self.default_dtype)

    def asarray(self, obj: Any, *, dtype: Any = None) -> Array:
        if is_torch(obj):  # a torch tensor handed across backends
            obj = to_numpy(obj, copy=False)
        return np.asarray(obj, dtype=dtype)

    def to_numpy(self, x: Array) -> np.ndarray:
        return np.asarray(x)

    def scatter_add(self, target: Array, index: Array, values: Array, *,
                    alpha: float = 1.0) -> Array:
        # A sparse (rows x N) matrix of ones times the (N, D) values sums the values of equal
        # indices in compiled code; np.add.at is an unbuffered per-element loop (~25x slower
        # here, see bench/scatter_add.py).
        index = np.asarray(index).reshape(-1)  # (N,)
        n = index.shape[0]
        if n == 0:
            return target
        rows = target.shape[0]
        index = _rows_in_range(index, rows)
        flat = target.reshape(rows, -1)  # (V, D): a view when target is contiguous
        if not np.shares_memory(flat, target):
            np.add.at(target, index, alpha * values.reshape(n, *target.shape[1:]))
            return target
        values = values.reshape(n, -1)  # (N, D)
        weights = np.full(n, alpha, dtype=np.result_type(target.dtype, values.dtype))
        if _scatter_in_place(flat, index, weights, values, 1):
            return target
        if rows <= DENSE_ROWS_PER_VALUE * n:
            # Few rows: one column per value, no sort; the product is a dense (V, D) block.
            sums = _sparse().csc_matrix((weights, index, np.arange(n + 1)),
                                        shape=(rows, n)) @ values
            flat += sums
        else:
            # Many rows: sort the indices once and sum over the distinct ones only, (U, D).
            order = np.argsort(index)  # (N,)
            sorted_index = index[order]
            starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])  # (U,)
            sums = _sparse().csr_matrix((weights, order, np.r_[starts, n]),
                                        shape=(starts.shape[0], n)) @ values  # (U, D)
            flat[sorted_index[starts]] += sums
        return target

    def scatter_add_weighted(self, target: Array, index: Array, weights: Array, rows: Array,
                             *, alpha: float = 1.0) -> Array:
        index = np.asarray(index)
        B, M = index.shape  # (B, M)
        flat = target.reshape(target.shape[0], -1)  # (V, D)
        if B == 0 or M == 0:
            return target
        index = _rows_in_range(index, flat.shape[0])
        if not np.shares_memory(flat, target):
            products = weights[:, :, None] * rows.reshape(B, 1, -1)  # (B, M, D)
            np.add.at(target, index.reshape(-1),  # not into flat: here it is a copy
                      alpha * products.reshape(B * M, *target.shape[1:]))
            return target
        data = (np.asarray(weights) * alpha).astype(
            np.result_type(target.dtype, rows.dtype), copy=False).reshape(-1)  # (B M,)
        if _scatter_in_place(flat, index.reshape(-1), data, rows.reshape(B, -1), M):
            return target
        # Column b of the sparse (V, B) matrix holds weights[b, :] at rows index[b, :].
        S = _sparse().csc_matrix((data, index.reshape(-1), np.arange(0, B * M + 1, M)),
                                 shape=(flat.shape[0], B))
        if flat.shape[0] <= DENSE_ROWS_PER_VALUE * B * M:
            flat += S @ rows.reshape(B, -1)  # (V, D)
        else:
            S = S.tocsr()
            touched = np.flatnonzero(np.diff(S.indptr))  # (U,) rows with a contribution
            flat[touched] += S[touched] @ rows.reshape(B, -1)  # (U, D)
        return target

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "version": np.__version__}
