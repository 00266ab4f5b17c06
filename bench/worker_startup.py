"""What every worker and reference process pays to start, before its first check: Python, the
worker's imports, the plugin registry and the NumPy backend. The grader starts one worker per
grading (and again after a crash or a time-out) and a reference process per grading that
swaps one in, so this is paid about 1,500 times in a ``make test`` and at least twice per
graded submission (docs/benchmarks.md, "Start-up of a worker").

The start-up as a worker does it now, against a peer, interleaved round by round in fresh
processes: OpenBLAS left to its default thread count as NumPy imports (as the sandbox's
environment left it before it set ``OPENBLAS_NUM_THREADS=1``: the NumPy backend then sets one
thread anyway). CPU seconds of each process (user + system), median of rounds [min-max], and
the ratio per round.

    python bench/worker_startup.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _machine import machine, spread  # bench/ is on sys.path when a bench runs

from nlpdojo_autograder.runtime import sandbox

#: the worker's start-up
PROBE = """
from nlpdojo import plugins
from nlpdojo.selection import load_backend
import nlpdojo_autograder.runtime.worker as worker
plugins.build_without(worker.LEFT_OUT_HOOKS)
load_backend("numpy", "cpu", "float64")
"""
def cpu_of(blas_default: bool = False) -> float:
    """CPU seconds (user + system) of one fresh process starting as a worker does, in the
    environment the sandbox gives a worker (``sandbox._environment``); with ``blas_default``,
    without its OpenBLAS thread count."""
    env = sandbox._environment(Path(tempfile.gettempdir()))
    if blas_default:
        env.pop("OPENBLAS_NUM_THREADS", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-P", "-c", PROBE], check=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    cpu_of()  # warm the file cache: the first start reads every module from disk
    cpu_of(blas_default=True)
    ours, blas = [], []
    for _ in range(args.rounds):
        ours.append(cpu_of())
        blas.append(cpu_of(blas_default=True))
    print(f"worker start-up, CPU seconds per process, {args.rounds} interleaved rounds")
    print(f"machine: {machine()}")
    print(f"now                                                {spread(ours, '{:.3f}')}")
    print(f"OpenBLAS's default thread count (peer)             {spread(blas, '{:.3f}')}")
    ratios = [o / p for o, p in zip(ours, blas, strict=True)]
    label = "ratio now / BLAS-threads peer, per round"
    print(f"{label:<51}{spread(ratios)}x "
          f"(median {statistics.median(ratios):.2f}x)")


if __name__ == "__main__":
    main()
