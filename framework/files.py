"""Writing files so that a reader never sees half of one, with ordinary permissions.

Used by report writing, ``dojo release`` (exercises and fixtures) and the student bundle: one
place for the temporary-file-and-rename dance and for the umask, which ``mkstemp`` (0600) and
``mkdtemp`` (0700) ignore.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

#: temporary files are ``.<first characters of the name>.<random>.tmp``: never longer than the
#: file system allows when the final name fits
TMP_NAME_CHARS = 32


def umask() -> int:
    """The process umask, read without changing it where the system allows (threads write
    reports concurrently in a cohort)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def ordinary_mode(*, folder: bool = False) -> int:
    """What ``open`` (0666) or ``mkdir`` (0777) would give, less the umask."""
    return (0o777 if folder else 0o666) & ~umask()


def atomic_write(path: Path, data: bytes | str, *, keep_mode: bool = False) -> None:
    """Write ``data`` (``str``: UTF-8) to ``path`` through a temporary file in the same folder,
    flushed to disk, and :func:`os.replace`.

    The file gets :func:`ordinary_mode`; with ``keep_mode``, a file it replaces keeps its own
    permissions instead. A failure leaves any earlier ``path`` untouched and no temporary file.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    mode = None
    if keep_mode:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:TMP_NAME_CHARS]}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, ordinary_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
