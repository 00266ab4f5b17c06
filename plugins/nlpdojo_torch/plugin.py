"""Registers the PyTorch backend. Registration never imports torch: availability is asked
lazily, so everything on NumPy works where torch is not installed."""

from __future__ import annotations

import importlib.util

from nlpdojo.backend import BackendSpec
from nlpdojo.hookspecs import hookimpl

#: right in a student release (a wheel and constraints.txt) and in a checkout alike:
#: constraints.txt pins torch (nlpdojo is not on PyPI, so 'nlpdojo[torch]' is no command)
INSTALL_HINT = (
    "PyTorch is not installed. Install it with: pip install -c constraints.txt torch, in the "
    "environment where nlpdojo is installed, from the folder that holds constraints.txt (your "
    "student release, or the nlpdojo checkout): it pins the torch version nlpdojo is tested with"
)


def _installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def _availability() -> str | None:
    return None if _installed() else INSTALL_HINT


def _devices() -> list[str]:
    if not _installed():
        return []
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        devices += ["cuda"] + [f"cuda:{i}" for i in range(n)]
    return devices


def _version() -> str | None:
    if not _installed():
        return None
    from importlib.metadata import version

    return version("torch")


def _make(device: str, dtype: str | None):
    from nlpdojo_torch.backend import TorchBackend

    return TorchBackend(device, dtype)


@hookimpl
def register_backends(register):
    register(
        "torch",
        BackendSpec(
            name="torch",
            factory=_make,
            availability=_availability,
            devices=_devices,
            version=_version,
            description="PyTorch backend (CPU or CUDA, float32 by default)",
            # torch's symbolic shapes load sympy (and mpmath) on demand
            packages=("torch", "functorch", "sympy", "mpmath"),
        ),
    )


@hookimpl
def register_modules(register):
    """``torch.nn.LSTM`` and ``torch.nn.GRU`` as natives of the library's ``lstm`` and ``gru``
    (used only on request: :mod:`nlpdojo_torch.natives`). Importing them needs no torch."""
    from nlpdojo_torch.natives import NativeGRU, NativeLSTM

    register("lstm", NativeLSTM, backend="torch")
    register("gru", NativeGRU, backend="torch")
