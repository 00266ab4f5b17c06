"""Code under test starts no process: a seccomp filter (seccomp(2), Linux) on the worker.

Why: the grader measures the work of the code under test in its worker (lines run, for the
vectorization and chain-rule checks; time and memory, for the runs at scale). Work done in
another process is seen by none of these: an attacker's n-gram counter forked a child that ran
its loops over the tokens and sent the counts back through a pipe (9 of 9 points where the
same loops in the worker got 3), and a loss whose backward took central differences in a
forked child kept its gradient points. Graded code has no reason to start a process, so the
worker forbids it, in the kernel, before any code under test runs:

- ``fork``, ``vfork``, ``execve``, ``execveat`` and ``clone`` without ``CLONE_THREAD`` fail
  with EPERM (``os.fork``, ``subprocess``, ``multiprocessing``, ``os.system``, ``pty``, and
  the same through ``ctypes`` or ``_posixsubprocess``: every way ends in these calls);
- ``clone3`` fails with ENOSYS, so that the C library starts threads with ``clone``, whose
  flags a filter can read (threads stay allowed: BLAS and torch use them; the line counter
  traces the submission's, :mod:`.probes`);
- on x86-64 the x32 system calls (numbers from 2**30) fail, so that no other number of
  ``fork`` gets past the filter.

The filter is installed on every thread of the worker at once (``SECCOMP_FILTER_FLAG_TSYNC``)
and is inherited and permanent: no code in the process can lift it. A Python audit hook
(:pep:`578`, also permanent) turns the attempts the interpreter reports (``os.fork``,
``subprocess.Popen``, ...) into a ``PermissionError`` that says why, before the kernel's EPERM.
Where seccomp is not available (not Linux, another architecture, a kernel without it),
:func:`forbid_new_processes` returns False and only the audit hook stands
(``docs/security.md``).
"""

from __future__ import annotations

import ctypes
import platform
import struct
import sys
from typing import Any

#: seccomp(2) and prctl(2)
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38
CLONE_THREAD = 0x00010000
X32_SYSCALL_BIT = 0x40000000

#: classic BPF opcodes (linux/filter.h)
LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
RET_K = 0x06  # BPF_RET | BPF_K

#: offsets in struct seccomp_data: the call's number, the architecture, the first argument's
#: low 32 bits (little-endian)
NR, ARCH, ARG0 = 0, 4, 16

#: per machine: the audit architecture, the seccomp(2) number, and the numbers of fork, vfork,
#: execve, execveat, clone and clone3 (None: the architecture has no such call)
SYSCALLS = {
    "x86_64": dict(arch=0xC000003E, seccomp=317, fork=57, vfork=58, execve=59, execveat=322,
                   clone=56, clone3=435, x32=True),
    "aarch64": dict(arch=0xC00000B7, seccomp=277, fork=None, vfork=None, execve=221,
                    execveat=281, clone=220, clone3=435, x32=False),
}

#: the interpreter's audit events of a process being started (PEP 578's table)
PROCESS_EVENTS = frozenset({"os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec",
                            "os.system", "subprocess.Popen", "pty.spawn"})
REFUSAL = ("graded code may not start processes: the grader measures the work of your code in "
           "the process it runs in (the lines it runs, its time and memory), so do the work "
           "here, with the array namespace of your inputs (xp) as the course does")


def filter_program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter for ``machine`` as (code, jt, jf, k) instructions."""
    calls = SYSCALLS[machine]
    deny, enosys, allow = "deny", "enosys", "allow"
    # (code, jump if true, jump if false, k) with jumps named by label, resolved below
    body: list[tuple[Any, ...]] = [
        (LD_W_ABS, 0, 0, ARCH),
        (JEQ_K, None, deny, calls["arch"]),
        (LD_W_ABS, 0, 0, NR),
    ]
    if calls["x32"]:
        body.append((JGE_K, deny, None, X32_SYSCALL_BIT))
    for name in ("fork", "vfork", "execve", "execveat"):
        if calls[name] is not None:
            body.append((JEQ_K, deny, None, calls[name]))
    body += [(JEQ_K, enosys, None, calls["clone3"]),
             (JEQ_K, "clone", None, calls["clone"]),
             (RET_K, 0, 0, SECCOMP_RET_ALLOW),
             "clone", (LD_W_ABS, 0, 0, ARG0),
             (JSET_K, allow, deny, CLONE_THREAD),
             allow, (RET_K, 0, 0, SECCOMP_RET_ALLOW),
             deny, (RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM),
             enosys, (RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS)]
    labels, program = {}, []
    for item in body:
        if isinstance(item, str):
            labels[item] = len(program)
        else:
            program.append(item)

    def offset(target: Any, at: int) -> int:
        return 0 if target is None else (target if isinstance(target, int)
                                         else labels[target] - at - 1)

    return [(code, offset(jt, i), offset(jf, i), k)
            for i, (code, jt, jf, k) in enumerate(program)]


def _refuse_process_events(event: str, args: Any) -> None:
    if event in PROCESS_EVENTS:
        raise PermissionError(REFUSAL)


def forbid_new_processes() -> bool:
    """Install the filter on every thread of this process, and the audit hook; True where the
    kernel took the filter. Needs ``no_new_privs`` (:func:`.lifetime.no_new_privileges`) or
    CAP_SYS_ADMIN."""
    sys.addaudithook(_refuse_process_events)
    machine = platform.machine()
    if sys.platform != "linux" or machine not in SYSCALLS:
        return False
    program = filter_program(machine)
    raw = b"".join(struct.pack("<HBBI", code, jt, jf, k) for code, jt, jf, k in program)
    filters = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(program), ctypes.cast(filters, ctypes.c_void_p))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        done = libc.syscall(ctypes.c_long(SYSCALLS[machine]["seccomp"]),
                            ctypes.c_uint(SECCOMP_SET_MODE_FILTER),
                            ctypes.c_uint(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog))
    except (OSError, AttributeError):
        return False
    return done == 0
