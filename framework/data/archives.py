"""Pulling members out of archives (zip/wheel, tar, tar.gz/.tgz), also nested ones.

A *member path* names a file inside an archive; ``!`` steps into an archive inside it, e.g.
``vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz!hutto_ICWSM_2014/x.txt``.
Only the requested members are read (in one pass per archive), and nothing is written outside
the destination folder.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from nlpdojo.data.errors import SourceError

NESTED = "!"


def _copy_members(archive: Path, wanted: Mapping[str, Path]) -> None:
    """Copy each ``member -> output path`` of ``archive`` in a single pass."""
    found: set[str] = set()
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                names = set(zf.namelist())
                for member, out in wanted.items():
                    if member in names:
                        with zf.open(member) as src, open(out, "wb") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)
                        found.add(member)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                for info in tf:
                    if info.name in wanted and info.isfile():
                        src = tf.extractfile(info)
                        assert src is not None  # a regular file always has a body
                        with src, open(wanted[info.name], "wb") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)
                        found.add(info.name)
        else:
            raise SourceError(f"{archive.name} is neither a zip nor a tar archive")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise SourceError(f"{archive.name} is damaged: {exc}") from exc
    missing = sorted(set(wanted) - found)
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        raise SourceError(f"{archive.name} has no member {', '.join(missing[:3])}{more}")


def _inside(dest: Path, kept: str) -> Path:
    out = (dest / kept).resolve()
    if dest.resolve() not in out.parents:
        raise SourceError(f"refusing to write {kept!r} outside the data set folder")
    return out


def extract_members(archive: Path, members: Mapping[str, str], dest: Path) -> None:
    """Extract ``{kept name: member path}`` from ``archive`` into ``dest`` (a staging folder).

    Members sharing a nested archive are read from one extracted copy of it.
    """
    direct: dict[str, Path] = {}
    nested: dict[str, dict[str, str]] = {}
    for kept, member in members.items():
        head, _, rest = member.partition(NESTED)
        if rest:
            nested.setdefault(head, {})[kept] = rest
        else:
            out = _inside(dest, kept)
            out.parent.mkdir(parents=True, exist_ok=True)
            direct[head] = out
    scratch = Path(tempfile.mkdtemp(prefix=".scratch-", dir=dest)) if nested else dest
    inner = {head: scratch / f"{i}-{Path(head).name}" for i, head in enumerate(nested)}
    try:
        _copy_members(archive, {**direct, **inner})
        for head, sub in nested.items():
            extract_members(inner[head], sub, dest)
    finally:
        if nested:
            shutil.rmtree(scratch, ignore_errors=True)
