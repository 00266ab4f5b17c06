"""Parity of a native implementation with the reference: same weights, same inputs, same numbers.

A native (torch's LSTM, a fused kernel) is registered as a variant of a reference name and used
only on request (``docs/plugins.md``); before it may stand in anywhere it must be proven equal to
the reference. needle's hw4 tests do this for its ``LSTM`` against ``torch.nn.LSTM``: copy the
weights across, run both on identical inputs, compare outputs and every gradient. This module is
that test, written once:

1. build the reference and the native with the same constructor arguments, each on its backend
   (``cls(backend, *args, **kwargs)``), and copy the reference's weights into the native;
2. run both forwards on the same float64 inputs and compare the outputs;
3. draw one seeded upstream gradient ``grad_output`` (the output's shape) and compare every
   gradient both return: inputs and parameters, by name.

Both sides are reached through a small interface, :class:`Differentiable` (``forward`` and
``grads``), not through :class:`~nlpdojo.module.Module`'s methods: an adapter of a few lines
wraps a module, a function or a ``torch.nn`` layer (its ``grads`` by autograd).

Everything is compared in float64 (load both backends with ``dtype="float64"``): a float32
comparison would have to allow errors large enough to hide a wrong index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from nlpdojo.arrays import to_numpy

Array = Any

#: default tolerances, float64: |native - reference| <= ATOL + RTOL * |reference| elementwise
RTOL = 1e-9
ATOL = 1e-12


class Differentiable(Protocol):
    """What a parity check calls on each side."""

    def forward(self, inputs: Mapping[str, Array]) -> Array:
        """The output for ``inputs`` (named arrays of this side's backend)."""

    def grads(self, inputs: Mapping[str, Array], grad_output: Array) -> dict[str, Array]:
        """Gradients of ``sum(output * grad_output)`` by name: every floating input and every
        parameter (names of parameters as the implementation calls them)."""


@dataclass(frozen=True)
class Comparison:
    """One compared quantity: ``output`` or ``grad <name>``."""

    name: str
    ok: bool
    max_abs_error: float
    max_rel_error: float
    message: str


@dataclass(frozen=True)
class ParityResult:
    """All comparisons of one parity check; ``ok`` when every one passed."""

    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)

    @property
    def failures(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.ok]

    def message(self) -> str:
        """One line per failed comparison (empty when all passed)."""
        return "\n".join(c.message for c in self.failures)


def compare(name: str, reference: Array, native: Array, *, rtol: float = RTOL,
            atol: float = ATOL) -> Comparison:
    """Compare one array of each side elementwise: shape, dtype float64, then values."""
    ref, nat = to_numpy(reference, copy=False), to_numpy(native, copy=False)
    if ref.shape != nat.shape:
        return Comparison(name, False, np.inf, np.inf,
                          f"{name}: the native's shape {nat.shape} differs from the reference's "
                          f"{ref.shape}.")
    low = [f"{side} is {a.dtype}" for side, a in (("reference", ref), ("native", nat))
           if a.dtype != np.float64]
    if low:
        return Comparison(name, False, np.inf, np.inf,
                          f"{name}: {' and '.join(low)}; parity is checked in float64 (load "
                          "both backends with dtype='float64').")
    # where the reference is ±inf or NaN only the same value matches (a bound would be inf)
    special = ~np.isfinite(ref)
    same = (nat == ref) | (np.isnan(nat) & np.isnan(ref))
    with np.errstate(invalid="ignore"):
        err = np.where(special & same, 0.0, np.abs(nat - ref))  # same shape as the output
    bound = atol + rtol * np.abs(ref)
    bad = np.where(special, ~same, ~(err <= bound))  # NaN counts as a failure
    max_abs = float(np.max(err, initial=0.0))
    with np.errstate(invalid="ignore"):  # (inf / inf where the reference is ±inf)
        max_rel = float(np.max(err / np.maximum(np.abs(ref), np.finfo(np.float64).tiny),
                               initial=0.0))
    if not bad.any():
        return Comparison(name, True, max_abs, max_rel, f"{name}: equal within tolerance.")
    worst = np.unravel_index(int(np.argmax(np.where(bad, err, -1.0))), ref.shape) \
        if ref.ndim else ()
    return Comparison(
        name, False, max_abs, max_rel,
        f"{name}: {int(bad.sum())} of {ref.size} entries differ; worst at index "
        f"{tuple(int(i) for i in worst)}: native {nat[worst]!r} vs reference {ref[worst]!r} "
        f"(abs error {max_abs:.3g}, tolerance {atol:g} + {rtol:g}·|reference|).",
    )


def check_parity(
    reference: Callable[..., Differentiable],
    native: Callable[..., Differentiable],
    copy_weights: Callable[[Differentiable, Differentiable], None],
    inputs: Mapping[str, Any],
    *,
    reference_backend: Any,
    native_backend: Any,
    args: tuple = (),
    kwargs: Mapping[str, Any] | None = None,
    seed: int = 0,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> ParityResult:
    """Check that ``native`` computes what ``reference`` does, forward and backward.

    :param reference: the reference class (or factory), called as
        ``reference(reference_backend, *args, **kwargs)``.
    :param native: the native class, called the same way with ``native_backend``.
    :param copy_weights: ``copy_weights(ref_obj, native_obj)`` sets the native's parameters to
        the reference's (a layout change such as torch's stacked LSTM gates belongs here).
    :param inputs: named host arrays (NumPy or lists); floating ones are converted to float64 on
        each backend, integer ones (token ids) keep their dtype.
    :param reference_backend: :class:`~nlpdojo.backend.Backend` for the reference
        (``load_backend("numpy", dtype="float64")``).
    :param native_backend: the native's backend (``load_backend("torch", device,
        dtype="float64")``).
    :param seed: seeds the upstream gradient ``grad_output`` (drawn on the host, float64).
    :returns: a :class:`ParityResult`: one :class:`Comparison` for the output and one per
        gradient name either side returned (a name only one side returns fails).
    """
    kwargs = dict(kwargs or {})
    ref = reference(reference_backend, *args, **kwargs)
    nat = native(native_backend, *args, **kwargs)
    copy_weights(ref, nat)

    def on(backend: Any) -> dict[str, Array]:
        out = {}
        for key, value in inputs.items():
            host = np.asarray(value)
            floating = np.issubdtype(host.dtype, np.floating)
            out[key] = backend.asarray(host, dtype=backend.float64 if floating else None)
        return out

    ref_in, nat_in = on(reference_backend), on(native_backend)
    ref_out, nat_out = ref.forward(ref_in), nat.forward(nat_in)
    comparisons = [compare("output", ref_out, nat_out, rtol=rtol, atol=atol)]

    shape = to_numpy(ref_out, copy=False).shape
    grad_output = np.random.default_rng(seed).standard_normal(shape)  # float64, output's shape
    ref_grads = ref.grads(ref_in, reference_backend.asarray(grad_output,
                                                            dtype=reference_backend.float64))
    nat_grads = nat.grads(nat_in, native_backend.asarray(grad_output,
                                                         dtype=native_backend.float64))
    for key in sorted(set(ref_grads) | set(nat_grads)):
        if key not in nat_grads or key not in ref_grads:
            has, missing = ("reference", "native") if key in ref_grads else ("native", "reference")
            comparisons.append(Comparison(
                f"grad {key!r}", False, np.inf, np.inf,
                f"grad {key!r}: the {has} returns it, the {missing} does not; both must return "
                f"the same names (reference: {sorted(ref_grads)}, native: {sorted(nat_grads)})."))
            continue
        comparisons.append(compare(f"grad {key!r}", ref_grads[key], nat_grads[key],
                                   rtol=rtol, atol=atol))
    return ParityResult(comparisons)


def assert_parity(*args: Any, **kwargs: Any) -> ParityResult:
    """:func:`check_parity`, raising ``AssertionError`` with every failed comparison."""
    result = check_parity(*args, **kwargs)
    if not result.ok:
        raise AssertionError("the native differs from the reference:\n" + result.message())
    return result


__all__ = ["ATOL", "RTOL", "Comparison", "Differentiable", "ParityResult", "assert_parity",
           "check_parity", "compare"]
