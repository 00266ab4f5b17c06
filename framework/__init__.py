"""nlpdojo core: interfaces, plugin registry and backend selection.

The core knows no concrete model, dataset or backend: those arrive through pluggy plugins
registered in the ``nlpdojo`` entry-point group (see ``docs/plugins.md``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nlpdojo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__", "check"]


def __getattr__(name: str):
    """``from nlpdojo import check``: grading inside a notebook (:mod:`nlpdojo.notebook`),
    imported on first use only."""
    if name == "check":
        from nlpdojo.notebook import check

        return check
    raise AttributeError(f"module 'nlpdojo' has no attribute {name!r}")
