"""What trusted evaluation costs: the channel's per-call overhead and word_vectors' grading time.

1. Per call: the reference ``softmax`` on a (4, 7) array called N times through a sandboxed
   worker (``RemoteSubject``: encode, pipe, decode, run, encode, pipe, decode, plus the copy
   that detects changed inputs) against the same function called directly (the peer) and
   through the grader's in-process path (``LocalSubject``). Medians of repeated batches.
2. Whole gradings: ``grade --submission solutions`` (every check of word_vectors, NumPy),
   run ``--repeat`` times, interleaved with a baseline grader when ``--baseline-python`` names
   the interpreter of another install (e.g. the commit before trusted evaluation, see
   docs/benchmarks.md); per-kind sums of the checks' durations, medians over the runs.

    python bench/grading_overhead.py [--calls 300] [--repeat 3] [--baseline-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _machine import machine  # bench/ is on sys.path when a bench runs

ROOT = Path(__file__).resolve().parents[1]


def per_call(calls: int, batches: int = 5) -> dict[str, float]:
    from nlpdojo.selection import load_backend
    from nlpdojo_autograder.grading.runner import hidden_folders
    from nlpdojo_autograder.runtime.channel import Token
    from nlpdojo_autograder.runtime.remote import LocalSubject, RemoteSubject, WorkerSettings
    from nlpdojo_autograder.runtime.sandbox import level
    from nlpdojo_autograder.runtime.subject import ReferenceCode
    from nlpdojo_solutions.word_vectors.softmax import softmax

    x = np.random.default_rng(0).standard_normal((4, 7))
    target = Token("function", ("student", "softmax", "softmax"))
    args = (Token("array", (x, None)),)
    backends = {d: load_backend("numpy", "cpu", d) for d in ("float64", None)}
    local = LocalSubject(ReferenceCode("nlpdojo_solutions.word_vectors"), backends)
    remote = RemoteSubject(WorkerSettings(
        topic="word_vectors", folder=ROOT / "solutions" / "word_vectors", backend="numpy",
        device=None, isolation=level(), memory_mb=4096, memory_mode="address-space",
        output_bytes=10**6, startup_s=60, cpu_s=3600, hidden=hidden_folders()), None)
    try:
        remote.begin(dtype="float64", swap_in=(), workdir="w", deadline=time.monotonic() + 60)
        local.begin(dtype="float64", swap_in=(), workdir="w")
        timings: dict[str, list[float]] = {"direct": [], "local": [], "remote": []}
        for _ in range(batches):
            for name, call in (("direct", lambda: softmax(x)),
                               ("local", lambda: local.call(target, args, {})),
                               ("remote", lambda: remote.call(target, args, {},
                                                              deadline=time.monotonic() + 60))):
                t0 = time.perf_counter()
                for _ in range(calls):
                    call()
                timings[name].append((time.perf_counter() - t0) / calls * 1e6)
        return {k: statistics.median(v) for k, v in timings.items()} | {
            "isolation": remote.isolation}
    finally:
        remote.close()
        local.close()


def timed_grade(python: str, topic: str, env: dict[str, str],
                extra: list[str]) -> tuple[float, dict]:
    """``grade TOPIC --submission solutions`` run by the interpreter ``python`` with ``extra``
    options: its wall-clock seconds and its JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        t0 = time.perf_counter()
        done = subprocess.run(
            [python, "-m", "nlpdojo_autograder.cli.grade", topic, "--submission",
             str(ROOT / "solutions"), "--format", "json", "--output", str(out), *extra],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        if not out.exists():
            raise SystemExit(f"grade {topic} wrote no report (exit {done.returncode}):\n"
                             f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return wall, json.loads(out.read_text())


def grading(python: str, env: dict[str, str], extra: list[str]) -> dict[str, float]:
    """One ``grade`` of the reference solutions of word_vectors (the other topics' checks
    are not counted: the baseline has none)."""
    wall, result = timed_grade(python, "word_vectors", env, extra)
    sums: dict[str, float] = {"wall": wall}
    for exercise in result["exercises"]:
        if exercise["name"] != "word_vectors":
            continue
        for check in exercise["checks"]:
            kind = "training" if check["kind"] == "metric" else "value+gradient+custom"
            sums[kind] = sums.get(kind, 0.0) + float(check["duration_s"])
    sums["score"] = sum(float(e["score"]) for e in result["exercises"]
                        if e["name"] == "word_vectors")
    return sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-python", default=None)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    calls = per_call(args.calls)
    print(f"per call (softmax on (4, 7), median of 5 batches of {args.calls}, "
          f"isolation {calls['isolation']}): direct {calls['direct']:.1f} us, grader in-process "
          f"{calls['local']:.1f} us, sandboxed worker {calls['remote']:.1f} us "
          f"(+{calls['remote'] - calls['direct']:.0f} us per call)")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs: dict[str, list[dict[str, float]]] = {"new": [], "baseline": []}
    for _ in range(args.repeat):
        # --no-cache: a full run every time (the incremental cache would reuse the checks)
        runs["new"].append(grading(sys.executable, env, ["--no-cache"]))
        if args.baseline_python:
            runs["baseline"].append(grading(args.baseline_python, env, []))
    for name, results in runs.items():
        if not results:
            continue
        keys = sorted({k for r in results for k in r})
        med = {k: statistics.median(r.get(k, float("nan")) for r in results) for k in keys}
        spread = {k: (min(r[k] for r in results), max(r[k] for r in results)) for k in keys}
        print(f"{name}: " + ", ".join(
            f"{k} {med[k]:.2f}" + (f" [{spread[k][0]:.2f}-{spread[k][1]:.2f}]"
                                   if k != "score" else "") for k in keys))
    if runs["baseline"]:
        for kind in ("value+gradient+custom", "training", "wall"):
            new = statistics.median(r[kind] for r in runs["new"])
            old = statistics.median(r[kind] for r in runs["baseline"])
            print(f"ratio new/baseline, {kind}: {new / old:.2f}x")


if __name__ == "__main__":
    main()
