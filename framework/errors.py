"""Exceptions raised by the core. Every message says what failed and what to do next."""


class NlpdojoError(Exception):
    """Base class: the CLI prints these as a one-line error, never as a traceback."""


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
