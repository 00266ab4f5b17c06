"""The backend contract: an array namespace, a device, a dtype policy, seeded randomness, and
the few operations the Python array API standard lacks.

Reference layers are written once against ``backend.xp`` (the array API namespace through
``array-api-compat``, so NumPy and PyTorch look the same) and run unchanged on every backend.

Dtype policy: gradient checks always run in ``float64`` (float32 central differences reach
relative errors above 1, see ``docs/gradient-checking.md``); training uses
``backend.default_dtype`` (float64 on NumPy, float32 on torch unless overridden).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Array = Any  # an array of the backend's library (numpy.ndarray, torch.Tensor)
Shape = Sequence[int]


class Random(abc.ABC):
    """A seeded random generator living on the backend's device.

    Two generators made with the same seed produce the same stream on the same backend. Streams
    differ across backends; code that must agree across backends draws on NumPy and converts.
    """

    @abc.abstractmethod
    def normal(self, shape: Shape, *, std: float = 1.0, dtype: Any = None) -> Array:
        """Samples from N(0, std^2)."""

    @abc.abstractmethod
    def uniform(self, shape: Shape, *, low: float = 0.0, high: float = 1.0,
                dtype: Any = None) -> Array:
        """Samples from U[low, high)."""

    @abc.abstractmethod
    def integers(self, low: int, high: int, shape: Shape) -> Array:
        """Integers in [low, high), int64."""

    @abc.abstractmethod
    def permutation(self, n: int) -> Array:
        """A random permutation of range(n), int64."""


class Backend(abc.ABC):
    """One array library on one device. Instances are cheap; make them with :func:`load_backend`."""

    #: registry name ("numpy", "torch")
    name: str
    #: device string ("cpu", "cuda", "cuda:1")
    device: str
    #: the array API namespace (``array_api_compat.numpy``, ``array_api_compat.torch``)
    xp: Any
    #: default float dtype for parameters and training
    default_dtype: Any

    @property
    def float64(self) -> Any:
        """The float64 dtype of this backend (used by gradient checks)."""
        return self.xp.float64

    @property
    def float32(self) -> Any:
        return self.xp.float32

    @abc.abstractmethod
    def rng(self, seed: int) -> Random:
        """A new seeded generator on this backend's device."""

    @abc.abstractmethod
    def asarray(self, obj: Any, *, dtype: Any = None) -> Array:
        """``obj`` (a list, a NumPy array, a backend array) as an array on this device."""

    @abc.abstractmethod
    def to_numpy(self, x: Array) -> Any:
        """``x`` as a NumPy array on the host (a copy where the device is not the CPU)."""

    @abc.abstractmethod
    def scatter_add(self, target: Array, index: Array, values: Array, *,
                    alpha: float = 1.0) -> Array:
        """Row scatter-add, in place: ``target[index[i]] += alpha * values[i]``, repeats summed.

        ``target`` (V, D), ``index`` (N,) int, ``values`` (N, D). The gradient of an embedding
        look-up, and with ``alpha = -lr`` a sparse SGD step without a scaled copy of
        ``values``. NumPy's ``np.add.at`` is ~25x slower than the sparse product used instead
        (``bench/scatter_add.py``). Returns ``target``.
        """

    @abc.abstractmethod
    def scatter_add_weighted(self, target: Array, index: Array, weights: Array, rows: Array,
                             *, alpha: float = 1.0) -> Array:
        """Weighted row scatter-add, in place, for gradients that are outer products:
        ``target[index[b, m]] += alpha * weights[b, m] * rows[b]`` for every ``b, m``.

        ``target`` (V, D), ``index`` (B, M) int, ``weights`` (B, M), ``rows`` (B, D). In
        skip-gram with negative sampling the gradient of every outside and negative vector
        is a multiple of the center vector (dJ/du = σ'·v_c), so the (B, M, D) block of
        gradients never needs to exist: this is ``target += alpha * S @ rows`` with a sparse
        (V, B) matrix ``S``. Returns ``target``.
        """

    def is_floating(self, x: Array) -> bool:
        return self.xp.isdtype(x.dtype, "real floating")

    # a no-op default on purpose (CPU backends need nothing), not a missing abstractmethod
    def synchronize(self) -> None:  # noqa: B027
        """Wait for queued device work (a no-op on the CPU); benchmarks call this before timing."""

    def initialize_device(self, memory_bytes: int | None = None) -> None:  # noqa: B027
        """Create the device's context now and cap the device memory this process may use at
        ``memory_bytes`` (the grader's worker, before student code runs). A no-op on the CPU."""

    def describe(self) -> dict[str, Any]:
        """Name, device, dtype and library version, recorded in every grading result."""
        return {"backend": self.name, "device": self.device, "dtype": str(self.default_dtype)}

    def __repr__(self) -> str:
        return f"<Backend {self.name} device={self.device} dtype={self.default_dtype}>"


@dataclass(frozen=True)
class BackendSpec:
    """What a backend plugin registers. Importing the spec must not import the library.

    :param name: registry name.
    :param factory: ``factory(device, dtype) -> Backend``; ``dtype`` is ``None`` (the default),
        ``"float32"`` or ``"float64"``.
    :param availability: ``() -> str | None``: ``None`` when usable here, else why not and how
        to fix it ("PyTorch is not installed. Install it with: pip install -c constraints.txt
        torch, ...").
    :param devices: ``() -> list[str]``: devices usable here (empty when unavailable).
    :param version: ``() -> str | None``: the library's version, if installed.
    :param packages: the top-level packages the backend runs on, which graded code can reach
        through its arrays; the grader keeps them visible to graded code on this backend and
        hides every other differentiation engine (torch on NumPy, for one): a backward pass
        is the student's to write (docs/security.md).
    """

    name: str
    factory: Callable[[str, str | None], Backend]
    availability: Callable[[], str | None]
    devices: Callable[[], list[str]]
    version: Callable[[], str | None]
    description: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    packages: tuple[str, ...] = ()
