"""How much of a planted-bug sweep's CPU goes to starting processes: the measure a fork server
for the sandboxed workers would be judged by (issue 66: ``make test`` is CPU-bound, and its
planted-bug and hostile tests start about 1,650 workers and reference processes).

One topic's sweep exactly as ``tests/grading/test_topics_through_the_grader.py`` runs it
(``verify([topic], backends=[], stubs=False, strict=True)``), in a cgroup of its own for the
total (``bench/_cpu.py``), while every process it starts is followed through ``/proc`` (each
one's user + system time, polled every 20 ms until it exits) and sorted by role: the grader
(the sweep's own process), the sandboxed workers and reference processes (``python -m
nlpdojo_autograder.runtime.worker``), the rest (bubblewrap). In the same run, the CPU of one
sandboxed start to the end of the worker's imports (``bench/worker_startup.py``'s launches,
less the launcher's own start): multiplied by the processes started, the share of the sweep
that a fork server could take back at most.

    python bench/process_starts.py [--topic neural_networks] [--starts 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _cpu import cpu_of  # bench/ is on sys.path when a bench runs
from _machine import machine
from worker_startup import LAUNCHES

#: the sweep as the test calls it
SWEEP = """
import sys
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.release.verify import verify
steps = verify([get_registry().get("exercise", sys.argv[1])], backends=[], stubs=False,
               strict=True)
failed = [s for s in steps if not s.ok]
print(len(steps), "steps,", len(failed), "failed")
sys.exit(1 if failed else 0)
"""
#: what names a worker or reference process on its command line
WORKER = "nlpdojo_autograder.runtime.worker"
#: ... or the fork server's (its forked workers keep its command line)
FORK_SERVER = "nlpdojo_autograder.runtime.forkserver"
TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process now: ``{pid: (parent, command line, CPU seconds so far)}``."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:  # gone meanwhile
            continue
        found[int(entry)] = (int(stat[1]), command.decode(errors="replace"),
                             (int(stat[11]) + int(stat[12])) / TICK)
    return found


def follow(root: int, done: threading.Event) -> dict[int, tuple[str, float]]:
    """The last CPU figure and command line of ``root`` and every process under it, polled
    until ``done`` is set (a zombie's command line is empty: its last live reading stays)."""
    seen: dict[int, tuple[str, float]] = {}
    while not done.is_set():
        now = _processes()
        for pid, (_parent, command, cpu) in now.items():
            ancestor = pid
            while ancestor not in (root, 0, 1) and ancestor in now:
                ancestor = now[ancestor][0]
            if ancestor == root and command:
                seen[pid] = (command, cpu)
        time.sleep(0.02)
    return seen


def role(pid: int, root: int, command: str) -> str:
    if pid == root:
        return "grader (the sweep's process)"
    program = Path(command.split(" ", 1)[0]).name
    if (WORKER in command or FORK_SERVER in command) and program != "bwrap":
        return "workers and reference processes"  # (bwrap's own arguments name them too)
    return "other (bubblewrap)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="neural_networks")
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds of the sweep without and with the fork server")
    args = parser.parse_args()
    env = {**os.environ, "NLPDOJO_FORK_SERVER": "off"}  # every start followed as it was
    base, _, _ = cpu_of([sys.executable, "-c", "import nlpdojo_autograder.runtime.sandbox"], env)
    launches, _, _ = cpu_of([sys.executable, "-c", LAUNCHES, str(args.starts)], env)
    per_start = (launches - base) / args.starts

    done, seen = threading.Event(), {}
    sweep = subprocess.Popen([sys.executable, "-c", SWEEP, args.topic], env=env,
                             stdout=subprocess.PIPE, text=True)
    watcher = threading.Thread(target=lambda: seen.update(follow(sweep.pid, done)))
    watcher.start()
    started = time.perf_counter()
    out, _ = sweep.communicate()
    wall = time.perf_counter() - started
    done.set()
    watcher.join()
    # the total again in a cgroup of its own (the polling misses what ran between two polls)
    total, total_wall, how = cpu_of([sys.executable, "-c", SWEEP, args.topic], env)

    by_role: dict[str, list[float]] = {}
    for pid, (command, cpu) in seen.items():
        by_role.setdefault(role(pid, sweep.pid, command), []).append(cpu)
    workers = by_role.get("workers and reference processes", [])
    print(f"`verify([{args.topic}], backends=[], stubs=False, strict=True)`: {out.strip()}; "
          f"{time.strftime('%Y-%m-%d')}\nmachine: {machine()}\n")
    print("| processes | count | CPU s | median CPU s each |\n|---|---:|---:|---:|")
    for name, cpus in sorted(by_role.items()):
        print(f"| {name} | {len(cpus)} | {sum(cpus):.1f} | {statistics.median(cpus):.3f} |")
    print(f"| all, followed through /proc (wall {wall:.1f} s) | {len(seen)} | "
          f"{sum(sum(c) for c in by_role.values()):.1f} | |")
    print(f"| all, a second run in a cgroup ({how}; wall {total_wall:.1f} s) | | {total:.1f} | |")
    share = len(workers) * per_start / total if total else float("nan")
    print(f"\none sandboxed start to the end of the worker's imports: {per_start:.3f} CPU s "
          f"({args.starts} starts, {how}); x {len(workers)} starts = "
          f"{len(workers) * per_start:.1f} CPU s, **{share:.0%}** of the sweep's CPU")

    fork_server_rounds(args.topic, args.rounds)


def fork_server_rounds(topic: str, rounds: int) -> None:
    """The sweep's CPU (cgroup) without and with the fork server, rounds interleaved."""
    if os.getuid() != 0:
        print("\nthe fork server runs only where the grader is root: not compared here")
        return
    per: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(rounds):
        for mode in per:
            env = {**os.environ, "NLPDOJO_FORK_SERVER": "off" if mode == "off" else ""}
            per[mode].append(cpu_of([sys.executable, "-c", SWEEP, topic], env)[0])
    print(f"\nthe sweep's CPU s (cgroup), {rounds} interleaved rounds: without the fork server "
          f"{statistics.median(per['off']):.1f} {per['off']}, with it "
          f"{statistics.median(per['on']):.1f} {per['on']}: ratio "
          f"{statistics.median(per['on']) / statistics.median(per['off']):.2f}x")


if __name__ == "__main__":
    main()
