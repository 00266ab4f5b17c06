"""Processes that end with their parent: Linux's ``PR_SET_PDEATHSIG`` (prctl(2)).

A sandboxed worker asks for SIGKILL when its grader goes away; a submission's ``grade``
process in a cohort asks for SIGTERM when the pool or Dask worker that waits for it dies, so
that it cleans up and stops instead of grading on as an orphan.
"""

from __future__ import annotations

import ctypes

#: prctl(2) options
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        return False


def on_parent_death(signal: int) -> bool:
    """Ask for ``signal`` when the thread that started this process ends; False where the
    system cannot (not Linux): the parent's own clean-up has to do."""
    return _prctl(PR_SET_PDEATHSIG, int(signal))


def no_new_privileges() -> bool:
    """No exec from here on gains privileges (set-user-id programs, file capabilities)."""
    return _prctl(PR_SET_NO_NEW_PRIVS, 1)
