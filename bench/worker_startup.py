"""What every worker and reference process pays to start, before its first check: Python, the
worker's imports, the plugin registry and the NumPy backend. The grader starts one worker per
check that needs a fresh one and a reference process per grading, so this is paid tens of
times per graded topic (docs/benchmarks.md, "Start-up of a worker").

Two registries, interleaved round by round in fresh processes: the one a worker builds now
(``worker.LEFT_OUT_HOOKS``: no exercises, trainers, data sets or report formats, no modules a
course brings) against the peer, the registry without only exercises, trainers and brought
modules (what a worker built before data sets and report formats were left out). CPU seconds
of each process (user + system), median of rounds [min-max], and their ratio per round.

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
from nlpdojo import plugins
from nlpdojo.selection import load_backend
import nlpdojo_autograder.runtime.worker as worker
hooks = {hooks}
plugins.build_without(worker.LEFT_OUT_HOOKS if hooks is None else hooks)
load_backend("numpy", "cpu", "float64")
"""
#: the peer: what a worker left out before data sets and report formats were left out too
PEER_HOOKS = ["register_exercises", "register_trainers", "plugin_modules"]


def cpu_of(hooks: list[str] | None) -> float:
    """CPU seconds (user + system) of one fresh process starting as a worker does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", PROBE.format(hooks=repr(hooks))], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    cpu_of(None)  # warm the file cache: the first start reads every module from disk
    ours, peer = [], []
    for _ in range(args.rounds):
        ours.append(cpu_of(None))
        peer.append(cpu_of(PEER_HOOKS))
    ratios = [o / p for o, p in zip(ours, peer, strict=True)]
    print(f"worker start-up, CPU seconds per process, {args.rounds} interleaved rounds")
    print(f"machine: {machine()}")
    print(f"registry without LEFT_OUT_HOOKS (now)          {spread(ours, '{:.3f}')}")
    print(f"without exercises, trainers, brought (peer)    {spread(peer, '{:.3f}')}")
    print(f"ratio now / peer, per round                    {spread(ratios)}x "
          f"(median {statistics.median(ratios):.2f}x)")


if __name__ == "__main__":
    main()
