"""Exceptions raised by the core. Every message says what failed and what to do next."""

import os
import traceback
from pathlib import Path


class NlpdojoError(Exception):
    """Base class: the CLI prints these as a one-line error, never as a traceback."""


class StopRequested(SystemExit):
    """SIGTERM to a command (a CI job's limit, a cohort stopping its children), raised by its
    signal handler so that the command unwinds as from an exit (its workers are stopped, its
    temporary folders removed): never taken for the exit of the code it interrupted, such as
    the reference solutions the grader runs in its own process (runtime/calls.py), which took
    a CI job's SIGTERM for the reference calling sys.exit(143) and graded on."""


class InterruptRequested(KeyboardInterrupt):
    """Ctrl-C to a command, raised by its SIGINT handler; as :class:`StopRequested`, never
    taken for the interrupted code's own ``KeyboardInterrupt``."""


class PluginError(NlpdojoError):
    """A plugin failed to load or registered something invalid."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same (kind, name, backend)."""


class UnknownNameError(NlpdojoError, KeyError):
    """A look-up asked for a name nobody registered."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class NativeRefusedError(NlpdojoError):
    """A native implementation was asked for where natives are refused (graded code)."""


class BackendUnavailableError(NlpdojoError):
    """A backend is registered but cannot run here (library missing, device absent)."""


class ConfigError(NlpdojoError):
    """A configuration value (flag, environment variable, config file) is invalid."""


def failure_site(exc: BaseException, *, within: Path | None = None) -> str:
    """Where ``exc`` was raised, as `` (at FILE:LINE)``: a syntax error's own place, else the
    innermost frame of the traceback outside the import machinery (with ``within``, the
    innermost frame in a file under that folder, where there is one: a topic's declaration
    that a builder refused is told by the declaration's line, not the builder's, and a builder
    that its ``Question`` completed, by the builder call's ``declared_at``); "" where
    there is none. An import that fails in a plugin's module is told by its file and line,
    not only by its exception's text."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" (at {exc.filename}:{exc.lineno})"
    declared = getattr(exc, "declared_at", None)  # a builder completed by its Question later
    if (isinstance(declared, tuple) and len(declared) == 2 and (within is None or str(
            Path(declared[0]).resolve()).startswith(str(Path(within).resolve()) + os.sep))):
        return f" (at {declared[0]}:{declared[1]})"
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "importlib" not in f.filename and not f.filename.startswith("<frozen")]
    if within is not None:
        root = str(Path(within).resolve()) + os.sep
        frames = [f for f in frames if str(Path(f.filename).resolve()).startswith(root)] or frames
    return f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
