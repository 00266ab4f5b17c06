"""``bench/_cpu.py``: the CPU of a command counts every process it starts, including those
reaped outside its tree (a grading's sandboxed workers are reaped by bubblewrap's init)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from tests._bench import bench_script

#: a command whose grandchild, orphaned at once (reaped by init, not by the command), burns
#: 0.3 CPU-s by its own clock and then writes ``done``; the command waits for the file
ORPHAN = textwrap.dedent("""
    import os, sys, time
    done = sys.argv[1]
    if os.fork() == 0:
        if os.fork() == 0:
            start = time.process_time()
            while time.process_time() - start < 0.3:
                pass
            open(done, "w").close()
        os._exit(0)
    os.wait()
    while not os.path.exists(done):
        time.sleep(0.01)
""")


def test_a_commands_cpu_counts_the_processes_reaped_outside_its_tree(tmp_path: Path):
    with bench_script("_cpu") as cpu:
        probe = cpu._cgroup()
        if probe is None:
            pytest.skip("no cgroup can be made here (not root, or no cgroup tree mounted): "
                        "the figure falls back to rusage, which misses such processes")
        probe[0].rmdir()  # the probe's own group, empty: not left behind
        seconds, wall, how = cpu.cpu_of([sys.executable, "-c", ORPHAN, str(tmp_path / "done")],
                                        dict(os.environ))
    assert how == "cgroup"
    assert seconds >= 0.3  # the orphan's 0.3 CPU-s, which the command's rusage never sees
    assert wall > 0
