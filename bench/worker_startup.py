"""What every worker and reference process pays to start, before its first check: Python, the
worker's imports, the plugin registry and the NumPy backend. The grader starts one worker per
check that needs a fresh one and a reference process per grading, so this is paid tens of
times per graded topic (docs/benchmarks.md, "Start-up of a worker").

The start-up as a worker does it now, against two peers, interleaved round by round in fresh
processes: the registry without only exercises, trainers and brought modules (what a worker
built before data sets and report formats were left out, ``worker.LEFT_OUT_HOOKS``), and the
start-up with ``scipy.sparse`` imported as the NumPy backend imported it before it deferred
SciPy to its first scatter. CPU seconds of each process (user + system), median of rounds
[min-max], and the ratios per round.

    python bench/worker_startup.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys

from _machine import machine, spread  # bench/ is on sys.path when a bench runs

#: the worker's start-up, its registry built without ``hooks`` (a Python list literal)
PROBE = """
{prelude}
from nlpdojo import plugins
from nlpdojo.selection import load_backend
import nlpdojo_autograder.runtime.worker as worker
hooks = {hooks}
plugins.build_without(worker.LEFT_OUT_HOOKS if hooks is None else hooks)
load_backend("numpy", "cpu", "float64")
"""
#: the peer: what a worker left out before data sets and report formats were left out too
PEER_HOOKS = ["register_exercises", "register_trainers", "plugin_modules"]
#: the other peer: SciPy's sparse module imported with the backend, as it was
EAGER_SCIPY = "import scipy.sparse"


def cpu_of(hooks: list[str] | None, prelude: str = "") -> float:
    """CPU seconds (user + system) of one fresh process starting as a worker does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", PROBE.format(hooks=repr(hooks), prelude=prelude)],
                   check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    cpu_of(None)  # warm the file cache: the first start reads every module from disk
    cpu_of(None, EAGER_SCIPY)
    ours, peer, eager = [], [], []
    for _ in range(args.rounds):
        ours.append(cpu_of(None))
        peer.append(cpu_of(PEER_HOOKS))
        eager.append(cpu_of(None, EAGER_SCIPY))
    print(f"worker start-up, CPU seconds per process, {args.rounds} interleaved rounds")
    print(f"machine: {machine()}")
    print(f"now                                            {spread(ours, '{:.3f}')}")
    print(f"without exercises, trainers, brought (peer)    {spread(peer, '{:.3f}')}")
    print(f"scipy.sparse imported with the backend (peer)  {spread(eager, '{:.3f}')}")
    for name, theirs in (("registry peer", peer), ("scipy peer", eager)):
        ratios = [o / p for o, p in zip(ours, theirs, strict=True)]
        label = f"ratio now / {name}, per round"
        print(f"{label:<47}{spread(ratios)}x "
              f"(median {statistics.median(ratios):.2f}x)")

if __name__ == "__main__":
    main()
