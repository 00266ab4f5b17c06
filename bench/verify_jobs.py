"""`dojo verify TOPIC --strict --planted-bugs-only` with the planted bugs graded ``--jobs N`` at
a time, against the same verification grading one bug at a time (``--jobs 1``, the peer), the
two interleaved round by round in the same run. Each run is a `dojo` process of its own; its
wall clock and the CPU of it and every process it starts (a cgroup, bench/_cpu.py) are
reported, and the two runs' step lines must be the same (the verdicts do not depend on
``--jobs``). Lower is better; the ratio is jobs N over jobs 1, per round.

    python bench/verify_jobs.py cnn_text neural_networks [--jobs 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

from _cpu import cpu_of
from _machine import machine, ratios, spread

DOJO = Path(sys.executable).with_name("dojo")


def run(topic: str, jobs: int) -> tuple[float, float, str, list[str]]:
    """``(wall s, cpu s, how measured, step lines)`` of one verification."""
    argv = [str(DOJO), "verify", topic, "--strict", "--planted-bugs-only", "--jobs", str(jobs)]
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"verify-jobs-{os.getpid()}.txt"
    started = time.perf_counter()  # (its step lines go to `out`, read back to compare)
    cpu, _, how = cpu_of(["sh", "-c", f'exec "$@" > {out}', "sh", *argv], dict(os.environ))
    wall = time.perf_counter() - started
    lines = [re.sub(r"\s+", " ", line) for line in out.read_text().splitlines()
             if line.startswith(("ok", "FAIL"))]
    out.unlink()
    return wall, cpu, how, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="+")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for topic in args.topics:
        walls: dict[int, list[float]] = {1: [], args.jobs: []}
        cpus: dict[int, list[float]] = {1: [], args.jobs: []}
        for _ in range(args.rounds):
            steps = {}
            for jobs in (1, args.jobs):
                wall, cpu, how, steps[jobs] = run(topic, jobs)
                walls[jobs].append(wall)
                cpus[jobs].append(cpu)
            if steps[1] != steps[args.jobs]:
                differ = [f"  {a}\n  {b}" for a, b in zip(steps[1], steps[args.jobs],
                                                          strict=False) if a != b]
                raise SystemExit(f"{topic}: the steps differ between --jobs 1 and --jobs "
                                 f"{args.jobs} ({len(steps[1])} and {len(steps[args.jobs])} "
                                 "steps):\n" + "\n".join(differ[:5]))
        print(f"{topic}: {len(steps[1])} steps, the same with either; wall s and CPU s "
              f"({how}) per verification, {args.rounds} interleaved rounds")
        for jobs in (args.jobs, 1):
            label = f"--jobs {jobs}" + (" (peer)" if jobs == 1 else "")
            print(f"  {label:<16} wall {spread(walls[jobs], '{:.1f}')}  "
                  f"CPU {spread(cpus[jobs], '{:.1f}')}")
        for name, series in (("wall", walls), ("CPU", cpus)):
            per_round = ratios(series[args.jobs], series[1])
            print(f"  {name} --jobs {args.jobs} / --jobs 1, per round: "
                  f"{spread(per_round)}x")


if __name__ == "__main__":
    main()
