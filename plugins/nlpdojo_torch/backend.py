"""PyTorch backend: ``array_api_compat.torch`` as the namespace, one device, seeded generators.

Adds what only torch has: autograd as a second gradient oracle (``nlpdojo.gradcheck``) and
native fast paths, registered as variants of the reference names and used only on request
(``registry.get(..., native=True)``, ``docs/plugins.md``).

**Threads.** Creating a torch backend sets torch's intra-op thread count once per process
(never at import), by the first of:

1. ``NLPDOJO_TORCH_THREADS`` (a positive integer);
2. a count chosen before nlpdojo: ``torch.set_num_threads(n)`` called earlier, or
   ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS``, which torch reads at start-up: kept as it is;
3. the policy, :func:`policy_threads`: one thread. The course's work is many small operations
   (a word2vec step on a batch of 512 is ~1.4 ms of ops of tens of µs), and there a second
   thread costs more than it gives: 5-15x slower per step on a 2-core machine with a job
   beside it, while a large (4096, 512) x (512, 512) product gained at most 2x
   (``bench/torch_threads.py``, ``docs/benchmarks.md``).

What torch had, what was chosen and why are in :func:`thread_choice` and in ``describe()``.

**vecdot.** ``array_api_compat.torch.vecdot`` (1.16) computes ``x1 . x2`` as a batch of
(1, D) x (D, 1) matrix products: on the CPU 3-7x slower than ``torch.linalg.vecdot``, and the
largest cost of a word2vec step after the scatter-adds. Creating a torch backend replaces it
(once, never at import) with :func:`vecdot`, which calls ``torch.linalg.vecdot`` for real
tensors of one dtype and the original otherwise; the results agree to rounding
(``tests/test_parity.py``). Measured in ``docs/benchmarks.md``, "Torch on the CPU".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import array_api_compat.torch as atorch
import torch

from nlpdojo.backend import Array, Backend, Random, Shape
from nlpdojo.errors import ConfigError

_DTYPES = {"float32": torch.float32, "float64": torch.float64}

#: the environment variable that sets the intra-op thread count of the torch backend
THREADS_ENV = "NLPDOJO_TORCH_THREADS"
#: environment variables torch itself reads for its thread count at start-up
_TORCH_THREAD_ENVS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class ThreadChoice:
    """The intra-op thread count the backend runs with, and where it came from.

    :param threads: the count now in effect (``torch.get_num_threads()`` after the choice).
    :param source: ``"NLPDOJO_TORCH_THREADS"``, ``"torch.set_num_threads"`` (or the name of the
        variable torch read), or ``"policy"``.
    :param torch_had: torch's count before nlpdojo chose (its default, or the user's value).
    :param usable_cores: the cores this process may run on (``os.sched_getaffinity``).
    """

    threads: int
    source: str
    torch_had: int
    usable_cores: int


_thread_choice: ThreadChoice | None = None


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the OS reports one (a
    container or ``taskset`` may allow fewer than ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def policy_threads(cores: int) -> int:
    """The thread count nlpdojo picks when nobody chose one: one, on any number of cores.

    Per-operation work in the course is small; measured on 2 cores (``docs/benchmarks.md``,
    "Torch threads"), one thread ran a word2vec step 5-15x faster than two when another job
    shared the machine and no slower when the machine was otherwise idle, while two threads
    gave a large matrix product at most 2x. Set ``NLPDOJO_TORCH_THREADS`` for large-matrix
    work on an idle many-core machine.
    """
    return min(1, max(cores, 1))


def parse_threads(value: str) -> int:
    """``NLPDOJO_TORCH_THREADS``'s value as a thread count; ``ConfigError`` naming the variable."""
    try:
        n = int(value.strip())
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(
            f"{THREADS_ENV} must be a positive integer (the number of CPU threads torch may use "
            f"per operation), got {value!r}. Unset it to let nlpdojo choose "
            f"(one thread), e.g. {THREADS_ENV}=1 or {THREADS_ENV}={usable_cores()}."
        )
    return n


def _chosen_before() -> str | None:
    """Why torch's current thread count is the user's, or ``None`` if it is torch's default.

    Torch's default intra-op count and its default inter-op count come from the same core
    count; the inter-op one is read without starting its pool, and a user who changes the
    intra-op count rarely changes both to the same value.
    """
    for var in _TORCH_THREAD_ENVS:
        if os.environ.get(var, "").strip():
            return var
    if torch.get_num_threads() != torch.get_num_interop_threads():
        return "torch.set_num_threads"
    return None


def choose_threads() -> ThreadChoice:
    """Decide and apply torch's intra-op thread count (see the module docstring).

    Called by every :class:`TorchBackend`; the first call decides and later ones keep that
    decision, except that ``NLPDOJO_TORCH_THREADS``, when set, is applied on every call (an
    explicit setting wins).
    """
    global _thread_choice
    raw = os.environ.get(THREADS_ENV, "")
    if not raw.strip() and _thread_choice is not None:
        return _thread_choice
    had = torch.get_num_threads() if _thread_choice is None else _thread_choice.torch_had
    cores = usable_cores()
    if raw.strip():
        n, source = parse_threads(raw), THREADS_ENV
    elif (before := _chosen_before()) is not None:
        n, source = torch.get_num_threads(), before
    else:
        n, source = policy_threads(cores), "policy"
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    _thread_choice = ThreadChoice(threads=n, source=source, torch_had=had, usable_cores=cores)
    return _thread_choice


def thread_choice() -> ThreadChoice | None:
    """The thread choice in effect, or ``None`` before the first torch backend was created."""
    return _thread_choice


_compat_vecdot = atorch.vecdot


def vecdot(x1: Array, x2: Array, /, *, axis: int = -1) -> Array:
    """The array API's ``vecdot`` (``sum(conj(x1) * x2, axis)`` with broadcasting) through
    ``torch.linalg.vecdot`` where it applies: real tensors of the same dtype."""
    if (isinstance(x1, torch.Tensor) and isinstance(x2, torch.Tensor)
            and x1.dtype == x2.dtype and not x1.dtype.is_complex
            and x1.ndim > 0 and x2.ndim > 0):
        if x1.shape[axis] != x2.shape[axis]:
            raise ValueError("x1 and x2 must have the same size along the given axis")
        return torch.linalg.vecdot(x1, x2, dim=axis)
    return _compat_vecdot(x1, x2, axis=axis)


def install_vecdot() -> None:
    """Make ``array_api_compat.torch.vecdot`` the fast :func:`vecdot` (idempotent)."""
    if atorch.vecdot is not vecdot:
        atorch.vecdot = vecdot


class TorchRandom(Random):
    def __init__(self, seed: int, device: torch.device, default_dtype: torch.dtype) -> None:
        self._gen = torch.Generator(device=device)
        self._gen.manual_seed(seed)
        self._device = device
        self._dtype = default_dtype

    def normal(self, shape: Shape, *, std: float = 1.0, dtype: Any = None) -> Array:
        out = torch.randn(tuple(shape), generator=self._gen, device=self._device,
                          dtype=dtype or self._dtype)
        return out * std

    def uniform(self, shape: Shape, *, low: float = 0.0, high: float = 1.0,
                dtype: Any = None) -> Array:
        out = torch.rand(tuple(shape), generator=self._gen, device=self._device,
                         dtype=dtype or self._dtype)
        return out * (high - low) + low

    def integers(self, low: int, high: int, shape: Shape) -> Array:
        return torch.randint(low, high, tuple(shape), generator=self._gen, device=self._device)

    def permutation(self, n: int) -> Array:
        return torch.randperm(n, generator=self._gen, device=self._device)


class TorchBackend(Backend):
    name = "torch"
    xp = atorch

    def __init__(self, device: str = "cpu", dtype: str | None = None) -> None:
        self.torch_device = torch.device(device)
        self.device = str(self.torch_device)
        self.default_dtype = _DTYPES[dtype or "float32"]
        self.threads = choose_threads()
        install_vecdot()

    def rng(self, seed: int) -> Random:
        return TorchRandom(seed, self.torch_device, self.default_dtype)

    def asarray(self, obj: Any, *, dtype: Any = None) -> Array:
        if isinstance(obj, torch.Tensor):
            return obj.to(device=self.torch_device, dtype=dtype or obj.dtype)
        return torch.as_tensor(obj, dtype=dtype, device=self.torch_device)

    def to_numpy(self, x: Array) -> Any:
        return x.detach().cpu().numpy()

    def scatter_add(self, target: Array, index: Array, values: Array, *,
                    alpha: float = 1.0) -> Array:
        index = index.reshape(-1)
        values = values.to(target.dtype).reshape(index.shape[0], *target.shape[1:])
        if alpha != 1.0:  # CPU index_add_ with alpha != 1 is 2-4x slower than a scaled copy
            values = values * alpha  # (docs/benchmarks.md, "Torch on the CPU")
        return target.index_add_(0, index, values)  # NumPy's casting, too

    def scatter_add_weighted(self, target: Array, index: Array, weights: Array, rows: Array,
                             *, alpha: float = 1.0) -> Array:
        B, M = index.shape
        if alpha != 1.0:  # alpha in the (B, M) weights: index_add_'s alpha is slow on the CPU
            weights = weights * alpha
        products = (weights[:, :, None] * rows[:, None, :]).to(target.dtype)  # (B, M, D)
        return target.index_add_(0, index.reshape(-1),  # the block is cheap on a GPU
                                 products.reshape(B * M, *target.shape[1:]))

    def synchronize(self) -> None:
        if self.torch_device.type == "cuda":
            torch.cuda.synchronize(self.torch_device)

    def initialize_device(self, memory_bytes: int | None = None) -> None:
        if self.torch_device.type != "cuda":
            return
        torch.cuda.init()
        if memory_bytes:
            # the per-process cap wants an index: a bare "cuda" (the default) is the current
            # device; without one every sandboxed worker on a GPU failed to start
            index = (self.torch_device.index if self.torch_device.index is not None
                     else torch.cuda.current_device())
            total = torch.cuda.get_device_properties(index).total_memory
            torch.cuda.set_per_process_memory_fraction(min(1.0, memory_bytes / total), index)
        torch.zeros(1, device=self.torch_device)  # the context, before any limit is measured
        self.synchronize()

    def describe(self) -> dict[str, Any]:
        info = {**super().describe(), "version": torch.__version__,
                "threads": self.threads.threads, "threads_source": self.threads.source}
        if self.torch_device.type == "cuda":
            info["device_name"] = torch.cuda.get_device_name(self.torch_device)
        return info
