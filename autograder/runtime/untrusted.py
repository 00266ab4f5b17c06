"""Reading a file that untrusted code may have replaced: the grader reads the worker's stack dump
this way, and the worker reads a check's output file (a plot) this way before sending it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY


def read_untrusted(folder: Path, *names: str, max_bytes: int) -> bytes | None:
    """At most ``max_bytes`` of the regular file ``folder/names[0]/.../names[-1]``, where the
    worker may have replaced anything below ``folder``; None when it is not a regular file.

    Each folder is opened relative to the one above it, without following a link
    (``O_NOFOLLOW``), the file itself without blocking (``O_NONBLOCK``: a FIFO or a device
    would block ``open`` or ``read`` forever) and checked with ``fstat`` on the open file,
    so nothing can be swapped between the check and the read."""
    if not names or any(not n or n in (".", "..") or os.sep in n for n in names):
        return None
    fds: list[int] = []
    try:
        fds.append(os.open(folder, _DIR_FLAGS))
        for name in names[:-1]:
            fds.append(os.open(name, _DIR_FLAGS, dir_fd=fds[-1]))
        fds.append(os.open(names[-1], _FILE_FLAGS, dir_fd=fds[-1]))
        if not stat.S_ISREG(os.fstat(fds[-1]).st_mode):
            return None
        chunks, left = [], max_bytes
        while left > 0:
            chunk = os.read(fds[-1], min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        for fd in fds:
            os.close(fd)


__all__ = ["read_untrusted"]
