"""The CPU of a command and every process it starts (bench/cohort_cost.py,
bench/grade_topics.py): a grading's sandboxed workers and reference process are reaped outside
its tree (bubblewrap's own init reaps them), so the rusage of its children misses about half.

A cgroup of the command's own counts them all: cgroup v1's ``cpuacct.usage`` (nanoseconds) or
the v2 unified tree's ``cpu.stat`` (``usage_usec``). Where none can be made (not root, neither
tree mounted) the reaped children's rusage, and the figure says so."""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup/cpuacct")
#: the cgroup v2 unified tree, where v1's cpuacct is not mounted
CGROUP2 = Path("/sys/fs/cgroup")
#: how a figure was measured where no cgroup could be made
RUSAGE = "rusage (sandboxed workers missed)"


def _cgroup() -> tuple[Path, Callable[[Path], float]] | None:
    """A fresh cgroup for one command and how to read its CPU seconds, or None."""
    if os.geteuid() != 0:
        return None
    if (CGROUP / "cgroup.procs").exists():
        return (Path(tempfile.mkdtemp(prefix="nlpdojo-bench-", dir=CGROUP)),
                lambda g: int((g / "cpuacct.usage").read_text()) / 1e9)
    if (CGROUP2 / "cgroup.controllers").exists():
        try:
            group = Path(tempfile.mkdtemp(prefix="nlpdojo-bench-", dir=CGROUP2))
        except OSError:
            return None

        def usage(g: Path) -> float:
            stat = dict(line.split() for line in (g / "cpu.stat").read_text().splitlines())
            return int(stat["usage_usec"]) / 1e6
        return group, usage
    return None


def cpu_of(argv: list[str], env: dict[str, str], cwd: Path | None = None
           ) -> tuple[float, float, str]:
    """``(cpu seconds, wall seconds, how measured)`` of running ``argv`` to its end: "cgroup",
    or :data:`RUSAGE`."""
    made = _cgroup()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    def join() -> None:  # in the child, before exec: it and every process it starts
        (made[0] / "cgroup.procs").write_text(str(os.getpid()))

    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=False, capture_output=True,
                   preexec_fn=join if made is not None else None)
    wall = time.perf_counter() - started
    if made is not None:
        group, usage = made
        cpu = usage(group)
        group.rmdir()
        return cpu, wall, "cgroup"
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall, RUSAGE)
