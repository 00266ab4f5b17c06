"""Which backend and device to use: flag, then environment, then config file, then NumPy.

1. ``--backend`` / ``--device`` flags (passed in by the CLI);
2. ``NLPDOJO_BACKEND`` / ``NLPDOJO_DEVICE``;
3. ``[tool.nlpdojo]`` in the nearest ``pyproject.toml``, or a ``dojo.toml`` (top-level keys),
   searched from the working directory upwards; a ``dojo.toml`` wins over a ``pyproject.toml``
   in the same folder;
4. ``numpy`` on ``cpu``.

Backend and device are resolved independently, so ``NLPDOJO_DEVICE=cuda`` plus a config file
naming ``torch`` works. A device without a backend choice defaults to the backend's first device.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from nlpdojo.backend import Backend
from nlpdojo.errors import BackendUnavailableError, ConfigError

BACKEND_ENV = "NLPDOJO_BACKEND"
DEVICE_ENV = "NLPDOJO_DEVICE"
DTYPE_ENV = "NLPDOJO_DTYPE"
DEFAULT_BACKEND = "numpy"
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Choice:
    """A resolved value and where it came from (``flag``, ``env``, a file path, ``default``)."""

    value: str | None
    source: str


@dataclass(frozen=True)
class Selection:
    backend: Choice
    device: Choice
    dtype: Choice


def find_config(start: Path | None = None) -> tuple[dict, str] | None:
    """The nlpdojo settings from the nearest config file above ``start``, and its path."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        dojo = folder / "dojo.toml"
        if dojo.is_file():
            return _read_toml(dojo), str(dojo)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            table = _read_toml(pyproject).get("tool", {}).get("nlpdojo")
            if table is not None:
                return table, str(pyproject)
    return None


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def resolve(
    backend: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    *,
    cwd: Path | None = None,
) -> Selection:
    """Resolve backend, device and dtype by the precedence in the module docstring."""
    found = find_config(cwd)
    config, config_path = found if found else ({}, "")

    def pick(flag: str | None, env: str, key: str, default: str | None) -> Choice:
        if flag:
            return Choice(flag, "flag")
        if os.environ.get(env):
            return Choice(os.environ[env], f"env {env}")
        if key in config:
            value = config[key]
            if not isinstance(value, str):
                raise ConfigError(f"{config_path}: '{key}' must be a string, got {value!r}")
            return Choice(value, config_path)
        return Choice(default, "default")

    chosen = Selection(
        backend=pick(backend, BACKEND_ENV, "backend", DEFAULT_BACKEND),
        device=pick(device, DEVICE_ENV, "device", None),
        dtype=pick(dtype, DTYPE_ENV, "dtype", None),
    )
    if chosen.dtype.value is not None and chosen.dtype.value not in DTYPES:
        raise ConfigError(
            f"dtype {chosen.dtype.value!r} (from {chosen.dtype.source}) is not one of {DTYPES}"
        )
    return chosen


def load_backend(
    backend: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    *,
    cwd: Path | None = None,
) -> Backend:
    """The backend chosen by flags, environment and config, ready to use.

    Raises :class:`~nlpdojo.errors.BackendUnavailableError` saying how to fix it when the
    backend's library or the device is missing, and
    :class:`~nlpdojo.errors.UnknownNameError` listing the registered backends for a bad name.
    """
    from nlpdojo.plugins import get_registry

    sel = resolve(backend, device, dtype, cwd=cwd)
    spec = get_registry().get("backend", sel.backend.value)
    reason = spec.availability()
    if reason is not None:
        raise BackendUnavailableError(f"backend {spec.name!r} is not available: {reason}")
    devices = spec.devices()
    if not devices:
        raise BackendUnavailableError(f"backend {spec.name!r} reports no usable device here")
    dev = sel.device.value or devices[0]
    # Exact match: "cuda:3" on a one-GPU machine is refused here, not deep inside a kernel.
    if dev not in devices:
        raise BackendUnavailableError(
            f"device {dev!r} (from {sel.device.source}) is not available on backend "
            f"{spec.name!r}; available here: {', '.join(devices)}. Choose one with --device or "
            f"{DEVICE_ENV}."
        )
    return spec.factory(dev, sel.dtype.value)
