"""Where fetched data lives: the user's cache directory, or ``$NLPDOJO_DATA``.

Layout under the root::

    <root>/<dataset name>/...      one folder per data set, replaced atomically by a fetch
    <root>/.downloads/             verified archives, reused by later fetches (keyed by sha256)
    <root>/.tmp-*                  staging folders of fetches in progress (removed when done)

The default root is ``platformdirs.user_cache_path("nlpdojo") / "data"``, i.e.
``~/.cache/nlpdojo/data`` on Linux (``$XDG_CACHE_HOME`` is honoured).
"""

from __future__ import annotations

import os
from pathlib import Path

#: environment variable that overrides the cache root
DATA_ENV = "NLPDOJO_DATA"
DOWNLOADS = ".downloads"
STAGING_PREFIX = ".tmp-"


def data_root() -> Path:
    """The cache root: ``$NLPDOJO_DATA`` when set (and non-empty), else the user cache folder.

    Nothing is created here; :func:`ensure_root` does that when a fetch needs it.
    """
    override = os.environ.get(DATA_ENV, "").strip()
    if override:
        return Path(override).expanduser().absolute()
    from platformdirs import user_cache_path

    return user_cache_path("nlpdojo", appauthor=False) / "data"


def ensure_root(root: Path | None = None) -> Path:
    """Create (if needed) and return the cache root."""
    path = data_root() if root is None else root
    path.mkdir(parents=True, exist_ok=True)
    return path


def downloads_dir(root: Path | None = None) -> Path:
    """The folder of verified archives shared by every data set."""
    return (data_root() if root is None else root) / DOWNLOADS


def folder_size(path: Path) -> int:
    """Total bytes of the regular files under ``path`` (0 when it does not exist)."""
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
