"""Registers the NumPy backend. The worked example of a backend plugin in docs/plugins.md."""

from __future__ import annotations

from nlpdojo.backend import BackendSpec
from nlpdojo.hookspecs import hookimpl


def _make(device: str, dtype: str | None):
    from nlpdojo_numpy.backend import NumpyBackend

    return NumpyBackend(device, dtype)


def _version() -> str:
    import numpy

    return numpy.__version__


def _make_strict(device: str, dtype: str | None):
    from nlpdojo_numpy.strict import StrictBackend

    return StrictBackend(device, dtype)


def _strict_availability() -> str | None:
    try:
        import array_api_strict  # noqa: F401
    except ImportError:
        return "array-api-strict is not installed (pip install array-api-strict)"
    return None


def _strict_version() -> str | None:
    try:
        import array_api_strict
    except ImportError:
        return None
    return array_api_strict.__version__


@hookimpl
def register_backends(register):
    register(
        "numpy",
        BackendSpec(
            name="numpy",
            factory=_make,
            availability=lambda: None,
            devices=lambda: ["cpu"],
            version=_version,
            description="NumPy reference backend (CPU, float64 by default)",
        ),
    )
    register(
        "strict",
        BackendSpec(
            name="strict",
            factory=_make_strict,
            availability=_strict_availability,
            devices=lambda: ["cpu"] if _strict_availability() is None else [],
            version=_strict_version,
            description="NumPy under array_api_strict arrays: the grader's check that code "
                        "stays in the array namespace (not for training)",
            extras={"checks_only": True},
        ),
    )
