"""What a grading ran on: the versions of Python, the platform, the packages and the
third-party plugins a result records (``GradingResult.versions``), and that the incremental
cache's grader fingerprint includes (:mod:`.gradecache`)."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, entry_points, version

from nlpdojo.plugins import BUILTIN_DISTRIBUTION, ENTRY_POINT_GROUP, get_manager


def versions(backend: str) -> dict[str, str]:
    found = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("nlpdojo", "numpy", "scipy", "array-api-compat", "pluggy"):
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            pass
    if backend == "torch":
        try:
            found["torch"] = version("torch")
        except PackageNotFoundError:
            pass
    found.update(plugin_versions())
    return found


def plugin_versions() -> dict[str, str]:
    """``{distribution: version}`` of every loaded third-party plugin (an exercise pack, a
    report format...), so that a result says which pack it was graded with."""
    manager = get_manager()
    found: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        if dist is None or manager.get_plugin(ep.name) is None:
            continue
        name = dist.metadata["Name"]
        if name and name.lower() != BUILTIN_DISTRIBUTION:
            found.setdefault(name, dist.version)
    return found
