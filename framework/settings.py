"""Where each setting comes from: a flag, the environment, the instructor's course
configuration, or its default, in that order; each value keeps its source.

The **course configuration** is a TOML file of top-level keys (:data:`KEYS`) that an instructor
sets once for a course: the file ``grade --config FILE`` names, else the one
``NLPDOJO_CONFIG`` names, else ``config.toml`` in the user's configuration folder
(``~/.config/nlpdojo/config.toml`` on Linux, platformdirs' ``user_config_path``). None of
these lies in a submission's tree or in the folder a grading runs in, so a student cannot plant
one; a grading for credit reads settings from nowhere else (docs/security.md). Work outside
grading (``dojo train``, ``dojo backends``, notebooks) also reads the student's own project
file, ``dojo.toml`` or ``pyproject.toml [tool.nlpdojo]``, between the environment and the course
configuration (:mod:`nlpdojo.selection`).

The file is read only when a setting falls through to it: a process given every setting by flag
(a cohort's child) reads none.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlpdojo.errors import ConfigError

#: the environment variable that names the course configuration file
CONFIG_ENV = "NLPDOJO_CONFIG"
CONFIG_NAME = "config.toml"


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("a non-empty string")
    return value


def _number(value: Any) -> float:
    """``value`` as a float (a number or its text); NaN for anything else, "soon" included."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return float("nan")
    try:
        return float(value)
    except ValueError:
        return float("nan")


def _scale(value: Any) -> float:
    number = _number(value)
    if not number >= 0.01:
        raise ValueError("a number of at least 0.01")
    return number


def _megabytes(value: Any) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) and value >= 0 or (
            isinstance(value, str) and value.isdigit())):
        raise ValueError("a whole number of megabytes, 0 or more (0: no limit)")
    return int(value)


def _seconds(value: Any) -> float:
    number = _number(value)
    if not (number >= 1 and number < float("inf")):
        raise ValueError("a number of seconds, at least 1")
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false",
                                                    "no", "off"):
        return value.lower() in ("1", "true", "yes", "on")
    raise ValueError("true or false")


#: the keys a course configuration may hold, each with its parser (what it must be)
KEYS: dict[str, Callable[[Any], Any]] = {
    "backend": _text,
    "device": _text,
    "dtype": _text,
    "timeout_scale": _scale,
    "memory_mb": _megabytes,
    # grade --time-limit: seconds for the grading of one submission
    "time_limit": _seconds,
    "output": _text,
    # grade --submissions ranks every cohort on its held-out metrics (grade --leaderboard)
    "leaderboard": _flag,
}


@dataclass(frozen=True)
class Choice:
    """A resolved value and where it came from: ``flag``, ``env NAME``, ``config PATH`` (the
    course configuration), a project file's path (work outside grading), ``replay PATH``
    (``grade --replay``) or ``default``."""

    value: Any
    source: str

    def record(self) -> dict[str, Any]:
        """As a grading result records it (``{"value": ..., "source": ...}``)."""
        return {"value": self.value, "source": self.source}


def user_config_file() -> Path:
    """The course configuration's place where neither ``--config`` nor the environment names
    one."""
    # imported here, as tomllib below: every sandboxed worker imports this module (through
    # nlpdojo.selection), reads no configuration, and starts 7 ms sooner without them
    from platformdirs import user_config_path

    return user_config_path("nlpdojo", appauthor=False) / CONFIG_NAME


@dataclass
class CourseConfig:
    """The instructor's course configuration, read on first use. ``given``: the file
    ``--config`` named (it must exist, as must one ``NLPDOJO_CONFIG`` names); otherwise the
    user's configuration file, where there is one."""

    given: Path | None = None
    _loaded: tuple[dict[str, Any], str] | None = field(default=None, repr=False)

    def located(self) -> tuple[Path | None, str]:
        """``(path, what named it)``; ``(None, "")`` where there is no course configuration."""
        if self.given is not None:
            return self.given, "--config"
        named = os.environ.get(CONFIG_ENV)
        if named:
            return Path(named), f"env {CONFIG_ENV}"
        user = user_config_file()
        return (user, "") if user.is_file() else (None, "")

    def load(self) -> tuple[dict[str, Any], str]:
        """``(values, path)``: the file's settings, checked, and its path (``""``: none)."""
        if self._loaded is None:
            self._loaded = self._read()
        return self._loaded

    def _read(self) -> tuple[dict[str, Any], str]:
        path, named_by = self.located()
        if path is None:
            return {}, ""
        if not path.is_file():
            raise ConfigError(f"the course configuration {path} (from {named_by}) is not a "
                              "file: give the path of a TOML file, or leave it out")
        import tomllib

        try:
            with path.open("rb") as f:
                raw = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"the course configuration {path} cannot be read: {exc}") from exc
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:
            raise ConfigError(f"the course configuration {path} holds {', '.join(unknown)}, "
                              f"which nlpdojo does not know; it takes {', '.join(KEYS)}")
        values = {}
        for key, value in raw.items():
            try:
                values[key] = KEYS[key](value)
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"the course configuration {path}: '{key}' must be {exc}, "
                                  f"got {value!r}") from None
        return values, str(path)

    def get(self, key: str) -> Choice | None:
        """The value the file sets for ``key``, or None."""
        values, path = self.load()
        return Choice(values[key], f"config {path}") if key in values else None


def pick(key: str, flag: Any, env: str | None, default: Any, config: CourseConfig | None, *,
         project: Callable[[str], Choice | None] | None = None,
         parse: Callable[[Any], Any] | None = None) -> Choice:
    """``key``'s value by precedence: ``flag`` (not None), the environment variable ``env``
    (an empty one counts as unset), ``project`` (work outside grading: the student's project
    file), the course configuration, ``default``. ``parse`` checks an environment
    variable's text (default: the key's parser)."""
    if flag is not None:
        return Choice(flag, "flag")
    text = os.environ.get(env) if env else None
    if text:
        try:
            return Choice((parse or KEYS.get(key, _text))(text), f"env {env}")
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{env}={text!r} must be {exc}") from None
    for found in (project(key) if project else None,
                  config.get(key) if config is not None else None):
        if found is not None:
            return found
    return Choice(default, "default")
