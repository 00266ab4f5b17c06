"""The Lion optimizer as an nlpdojo plugin (an example of a third-party plugin package)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nlpdojo-lion")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0"
