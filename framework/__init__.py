"""nlpdojo core: interfaces, plugin registry and backend selection.

The core knows no concrete model, dataset or backend: those arrive through pluggy plugins
registered in the ``nlpdojo`` entry-point group (see ``docs/plugins.md``).
"""

__all__ = ["__version__", "check"]


def __getattr__(name: str):
    """``nlpdojo.__version__``, read from the installed metadata when first asked for (importing
    ``importlib.metadata`` costs 28 ms, which every grader worker would pay at start-up), and
    ``from nlpdojo import check``: grading inside a notebook (:mod:`nlpdojo.notebook`),
    imported on first use only."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("nlpdojo")
        except PackageNotFoundError:  # running from a source tree that was never installed
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    if name == "check":
        from nlpdojo.notebook import check

        return check
    raise AttributeError(f"module 'nlpdojo' has no attribute {name!r}")
