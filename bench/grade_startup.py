"""What one `grade` costs before and around its checks: ``grade softmax`` (3 checks of 0.03 s
each) on a copy of the reference (the topic's folder and the course library, as a student's
checkout holds them), NumPy, in the OS sandbox where there is one. Per run: the
wall clock, the grader process's own CPU time (its imports, the registry, the snapshot, the
report), and the checks' summed durations; the worker and the reference process are other
processes (their start is in the wall clock). Interleaved with the same grader without its
store of source analyses (``$NLPDOJO_ANALYSIS_CACHE=off``: the code rules and the solution
markers read again, as every process did before ``runtime/source_memo.py``; the store's own
row is warm, one run before the rounds), without the console script's one-BLAS-thread start
(``nlpdojo.startup``: OpenBLAS starting a spinning thread per core as NumPy loads), with the
garbage collector on during the imports and the registry's build (``nlpdojo.startup``'s
``imports_without_collection`` a no-op: nothing frozen), and with a baseline grader when
``--baseline-python``
names the interpreter of another install (see docs/benchmarks.md, "Start-up of a grade");
medians [min-max] over ``--repeat`` runs, and the ratios.

    python bench/grade_startup.py [--repeat 7] [--baseline-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine  # bench/ is on sys.path when a bench runs

ROOT = Path(__file__).resolve().parents[1]
#: runs ``grade`` in-process and prints the grader's own CPU seconds (self, not children)
PROBE = """
import atexit, contextlib, os, resource, runpy, sys
def said():
    r = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write(f"GRADER_CPU {r.ru_utime + r.ru_stime:.3f}\\n")
atexit.register(said)
sys.argv = ["grade", "softmax", "--submission", sys.argv[1], "--no-cache", "-f", "json",
            "-o", sys.argv[2]]
if os.environ.get("BENCH_BLAS_DEFAULT") or os.environ.get("BENCH_COLLECTING"):
    from nlpdojo import startup  # patched before the launcher binds its names
    if os.environ.get("BENCH_BLAS_DEFAULT"):  # OpenBLAS starting a thread per core
        startup.one_blas_thread_at_start = lambda: None
    if os.environ.get("BENCH_COLLECTING"):  # the imports with the garbage collector on
        startup.imports_without_collection = contextlib.nullcontext
try:  # the console script's function; an older install's `grade` ran the module's main
    from nlpdojo_autograder.cli.launch import grade
except ImportError:
    runpy.run_module("nlpdojo_autograder.cli.grade", run_name="__main__")
else:
    grade()
"""


def one(python: str, submission: Path, out: Path, env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run([python, "-c", PROBE, str(submission), str(out)],
                          capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - started
    cpu = [float(line.split()[1]) for line in done.stderr.splitlines()
           if line.startswith("GRADER_CPU")]
    report = json.loads(out.read_text())
    if not cpu or report["score"] != report["max_score"]:
        raise SystemExit(f"{python}: grade did not give full marks: {done.stderr[-2000:]}")
    checks = sum(c["duration_s"] for e in report["exercises"] for c in e["checks"])
    return {"wall": wall, "grader_cpu": cpu[-1], "checks": checks}


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--baseline-python", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = {**os.environ, "NLPDOJO_ANALYSIS_CACHE": str(Path(tmp) / "analyses")}
        graders = {"this tree": (sys.executable, store),
                   "this tree, analyses off (peer)": (sys.executable,
                                                      {**store, "NLPDOJO_ANALYSIS_CACHE": "off"}),
                   "this tree, OpenBLAS at its default start (peer)": (
                       sys.executable, {**store, "BENCH_BLAS_DEFAULT": "1"}),
                   "this tree, imports with garbage collection (peer)": (
                       sys.executable, {**store, "BENCH_COLLECTING": "1"})}
        if args.baseline_python:
            graders["baseline"] = (args.baseline_python, store)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in graders}
        submission = Path(tmp) / "sub"
        for folder in ("word_vectors", "library"):  # a student's folder and the course library
            shutil.copytree(ROOT / "solutions" / folder, submission / folder,
                            ignore=shutil.ignore_patterns("__pycache__"))
        one(sys.executable, submission, Path(tmp) / "out.json", store)  # the store, warm
        for _ in range(args.repeat):
            for name, (python, env) in graders.items():
                runs[name].append(one(python, submission, Path(tmp) / "out.json", env))
    print(f"`grade softmax` on a copy of the reference, NumPy, {args.repeat} interleaved runs, "
          "medians [min-max], seconds")
    print(f"machine: {machine()}\n")
    print("| grader | wall clock | grader process CPU | checks |")
    print("|---|---|---|---|")
    for name, rows in runs.items():
        print(f"| {name} | {summary([r['wall'] for r in rows])} | "
              f"{summary([r['grader_cpu'] for r in rows])} | "
              f"{summary([r['checks'] for r in rows])} |")
    for peer in [name for name in runs if name != "this tree"]:
        for key in ("wall", "grader_cpu"):
            ratios = [new[key] / old[key] for new, old in zip(runs["this tree"], runs[peer],
                                                             strict=True)]
            print(f"\nratio this tree / {peer}, {key}, per round: {summary(ratios)}x "
                  f"(median {statistics.median(ratios):.2f}x)")


if __name__ == "__main__":
    main()
