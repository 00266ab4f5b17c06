"""Run a command as a child subreaper and report what it left behind.

``python reaper.py REPORT SECONDS -- COMMAND...``: runs COMMAND (killed, with its process
group, after SECONDS), waits for it, then looks for processes that outlived it. Every orphan
in COMMAND's process tree (a daemon that double-forked and called ``setsid``, whatever changed
its name or folder) is re-parented to this process, since it is a child subreaper (Linux
``PR_SET_CHILD_SUBREAPER``); a process in another PID namespace dies with that namespace and
never comes here. The survivors are written to REPORT (JSON: ``{"returncode", "timed_out",
"left": [{"pid", "cmdline", "cwd"}]}``), then killed and reaped, so that a failing test leaves
nothing running either. Exits with COMMAND's return code.

Used by tests/grading/test_hostile.py; Linux only.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def _describe(pid: int) -> dict | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state in ("Z", "X"):  # a zombie is dead: only its exit status is left to reap
            return None
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = "?"
    except (OSError, IndexError):
        return None
    return {"pid": pid, "cmdline": cmdline[:500], "cwd": cwd}


def main() -> int:
    report, seconds = sys.argv[1], float(sys.argv[2])
    command = sys.argv[sys.argv.index("--") + 1:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit("prctl(PR_SET_CHILD_SUBREAPER) failed")
    proc = subprocess.Popen(command, start_new_session=True)
    timed_out = False
    try:
        returncode = proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        returncode = proc.wait()
    # what outlived COMMAND by half a second: every process of its tree that is still alive
    # is this process's child by now, or a descendant of one (an orphan is re-parented here
    # when its parent dies), so none left now means none later; one that is ending is given
    # the half second to go
    deadline = time.monotonic() + 0.5
    while True:
        left = [d for pid in _children(os.getpid()) if (d := _describe(pid)) is not None]
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    with open(report, "w") as f:
        json.dump({"returncode": returncode, "timed_out": timed_out, "left": left}, f)
    for _ in range(20):  # kill what is left (and what it starts meanwhile), reap everything
        pids = _children(os.getpid())
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    break
            except ChildProcessError:
                break
    return returncode


if __name__ == "__main__":
    sys.exit(main())
