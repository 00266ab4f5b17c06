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
