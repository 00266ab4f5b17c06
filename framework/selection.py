"""Which backend, device and dtype to use, each resolved on its own with where it came from.

For work outside grading (``dojo train``, ``dojo backends``, notebooks, ``load_backend()`` in
code), the first of:

1. ``--backend`` / ``--device`` / ``--dtype`` flags (passed in by the CLI);
2. ``NLPDOJO_BACKEND`` / ``NLPDOJO_DEVICE`` / ``NLPDOJO_DTYPE``;
3. the student's project file: ``[tool.nlpdojo]`` in the nearest ``pyproject.toml``, or a
   ``dojo.toml`` (top-level keys), searched from the working directory upwards; a
   ``dojo.toml`` wins over a ``pyproject.toml`` in the same folder;
4. the instructor's course configuration (:mod:`nlpdojo.settings`);
5. ``numpy`` on the backend's first device, at its default dtype.

A grading (``grade``) resolves with ``project=False``: it reads no file from the submission's
tree or the folder it runs in (a student's ``dojo.toml`` naming torch steered a grading, see
docs/security.md), only flag, environment, course configuration and default.

Backend and device are resolved independently, so ``NLPDOJO_DEVICE=cuda`` plus a config file
naming ``torch`` works. A device without a backend choice defaults to the backend's first device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nlpdojo.backend import Backend
from nlpdojo.errors import BackendUnavailableError, ConfigError
from nlpdojo.settings import Choice, CourseConfig, pick

__all__ = ["Choice", "Selection", "find_config", "load_backend", "make_backend", "resolve"]

BACKEND_ENV = "NLPDOJO_BACKEND"
DEVICE_ENV = "NLPDOJO_DEVICE"
DTYPE_ENV = "NLPDOJO_DTYPE"
DEFAULT_BACKEND = "numpy"
DTYPES = ("float32", "float64")
#: the keys a project file may set
PROJECT_KEYS = ("backend", "device", "dtype")


@dataclass(frozen=True)
class Selection:
    backend: Choice
    device: Choice
    dtype: Choice


def find_config(start: Path | None = None, *, max_bytes: int | None = None
                ) -> tuple[dict, str] | None:
    """The nlpdojo settings from the nearest config file above ``start``, and its path;
    ``max_bytes``: a larger file is passed over unread (``grade`` only looks, to say it does
    not follow it, and must not be slowed by a file a student made huge)."""
    here = (start or Path.cwd()).resolve()

    def usable(path: Path) -> bool:
        return path.is_file() and (max_bytes is None or path.stat().st_size <= max_bytes)

    for folder in (here, *here.parents):
        dojo = folder / "dojo.toml"
        if usable(dojo):
            return _read_toml(dojo), str(dojo)
        pyproject = folder / "pyproject.toml"
        if usable(pyproject):
            table = _read_toml(pyproject).get("tool", {}).get("nlpdojo")
            if table is not None:
                return table, str(pyproject)
    return None


def _read_toml(path: Path) -> dict:
    import tomllib  # here: every sandboxed worker imports this module, and reads no file

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
    project: bool = True,
    config: CourseConfig | None = None,
) -> Selection:
    """Resolve backend, device and dtype by the precedence in the module docstring.
    ``project=False``: no project file is read (a grading); ``config``: the course
    configuration (default: where ``NLPDOJO_CONFIG`` or the user's configuration folder puts
    it)."""
    course = config if config is not None else CourseConfig()
    found: tuple[dict, str] | None = None

    def from_project(key: str) -> Choice | None:
        nonlocal found
        if found is None:
            found = find_config(cwd) or ({}, "")
        table, path = found
        if key not in table:
            return None
        if not isinstance(table[key], str):
            raise ConfigError(f"{path}: '{key}' must be a string, got {table[key]!r}")
        return Choice(table[key], path)

    def choose(flag: str | None, env: str, key: str, default: str | None) -> Choice:
        return pick(key, flag or None, env, default, course,
                    project=from_project if project else None)

    chosen = Selection(
        backend=choose(backend, BACKEND_ENV, "backend", DEFAULT_BACKEND),
        device=choose(device, DEVICE_ENV, "device", None),
        dtype=choose(dtype, DTYPE_ENV, "dtype", None),
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
    project: bool = True,
) -> Backend:
    """The backend chosen by flags, environment and config, ready to use (``project=False``:
    without the project file, as a grading chooses).

    Raises :class:`~nlpdojo.errors.BackendUnavailableError` saying how to fix it when the
    backend's library or the device is missing, and
    :class:`~nlpdojo.errors.UnknownNameError` listing the registered backends for a bad name.
    """
    sel = resolve(backend, device, dtype, cwd=cwd, project=project)
    return make_backend(sel.backend.value, sel.device.value, sel.dtype.value,
                        device_source=sel.device.source)


def make_backend(backend: str, device: str | None, dtype: str | None, *,
                 device_source: str = "flag") -> Backend:
    """Exactly this backend on this device (None: its first) at this dtype (None: its
    default), resolving nothing: what a grading's processes use, on what the grader chose.
    Raises as :func:`load_backend`."""
    from nlpdojo.plugins import get_registry

    spec = get_registry().get("backend", backend)
    reason = spec.availability()
    if reason is not None:
        raise BackendUnavailableError(f"backend {spec.name!r} is not available: {reason}")
    devices = spec.devices()
    if not devices:
        raise BackendUnavailableError(f"backend {spec.name!r} reports no usable device here")
    dev = device or devices[0]
    # Exact match: "cuda:3" on a one-GPU machine is refused here, not deep inside a kernel.
    if dev not in devices:
        raise BackendUnavailableError(
            f"device {dev!r} (from {device_source}) is not available on backend "
            f"{spec.name!r}; available here: {', '.join(devices)}. Choose one with --device or "
            f"{DEVICE_ENV}."
        )
    return spec.factory(dev, dtype)
