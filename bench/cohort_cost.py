"""CPU per submission of a cohort's grading, against a student release's grading of the same code.

Per topic, the reference solutions copied as ``--cohort`` submissions, graded three ways, NumPy:

* **cohort** (CI mode): ``grade TOPIC --submissions DIR -j 2``, the reference present: the
  cohort's process computes the expected values once and its children judge by them
  (``grading/expected.py``); its CPU divided by the submissions;
* **single** (CI mode): ``grade TOPIC --submission ONE --no-cache``, the reference present, as
  each child of a cohort graded before the expected values were shared: the reference runs
  on every check first;
* **release**: ``grade TOPIC --submission ONE --no-cache --as-student``, what a student release
  grades (fixtures, public checks only): the peer every CI figure is a ratio to.

CPU is every process of the command, read from a cgroup of its own (v1's ``cpuacct.usage``
or v2's ``cpu.stat``: the sandboxed workers and the reference's process included, whoever
reaps them); where no cgroup can be made (not root, neither tree mounted) the command's
reaped children's rusage, which misses the sandboxed workers (said in the output). The cohort
runs once per topic (its figure is already a mean over ``--cohort`` gradings); the single and
release gradings ``--repeat`` times each, interleaved, and their medians are the figures: one
release grading varies by about 10 % from run to run on these shared machines (rnn_variants'
measured once above its own cohort's children), more than the ratios' margins.

    python bench/cohort_cost.py                               # every topic, cohorts of 30
    python bench/cohort_cost.py --topics neural_networks --cohort 6 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _cpu import cpu_of  # bench/ is on sys.path when a bench runs
from _machine import machine

REPO = Path(__file__).resolve().parents[1]
TOPICS = ("word_vectors", "neural_networks", "language_models", "rnn_variants", "cnn_text")


def submission(topic: str, dest: Path) -> Path:
    """The reference's topic and the course library, laid out as a submission."""
    shutil.copytree(REPO / "solutions" / topic, dest / topic,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "solutions" / "library", dest / "library",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", default=",".join(TOPICS))
    parser.add_argument("--cohort", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the single and release gradings (their medians)")
    args = parser.parse_args()
    if args.repeat < 1 or args.cohort < 1:
        parser.error("--repeat and --cohort take 1 or more")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    grade = [sys.executable, "-m", "nlpdojo_autograder.cli.grade"]
    rows, how = [], set()
    with tempfile.TemporaryDirectory(prefix="nlpdojo-cohort-cost-") as tmp:
        work = Path(tmp)
        # every process its own expected-values store, empty: nothing carried between runs
        env["NLPDOJO_EXPECTED_CACHE"] = str(work / "expected")
        for topic in args.topics.split(","):
            one = submission(topic, work / topic / "one")
            cohort = work / topic / "cohort"
            for i in range(args.cohort):
                shutil.copytree(one, cohort / f"s{i:03d}")
            out = work / topic / "out"
            cpu_cohort, wall_cohort, m1 = cpu_of(
                [*grade, topic, "--submissions", str(cohort), "-j", str(args.jobs), "-f",
                 "json", "-o", str(out)], env, REPO)
            scores = {json.loads((out / f"s{i:03d}" / "result.json").read_text())["score"]
                      for i in range(args.cohort)}
            singles, releases = [], []
            for _ in range(args.repeat):
                shutil.rmtree(work / "expected", ignore_errors=True)
                cpu, _, m2 = cpu_of([*grade, topic, "--submission", str(one), "--no-cache",
                                     "-f", "json", "-o", str(work / topic / "single")],
                                    env, REPO)
                singles.append(cpu)
                shutil.rmtree(work / "expected", ignore_errors=True)
                cpu, _, m3 = cpu_of([*grade, topic, "--submission", str(one), "--no-cache",
                                     "--as-student", "-f", "json", "-o",
                                     str(work / topic / "release")], env, REPO)
                releases.append(cpu)
                how |= {m1, m2, m3}
            cpu_single, cpu_release = statistics.median(singles), statistics.median(releases)
            per = cpu_cohort / args.cohort
            rows.append((topic, per, cpu_single, cpu_release, wall_cohort, scores,
                         (min(releases), max(releases))))
            print(f"  {topic}: cohort {per:.1f} s per submission, single {cpu_single:.1f} "
                  f"({', '.join(f'{s:.1f}' for s in singles)}), release {cpu_release:.1f} "
                  f"({', '.join(f'{s:.1f}' for s in releases)})", file=sys.stderr)
    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loaded, so that machine() names it
    print(f"CPU seconds per grading, NumPy, cohorts of {args.cohort} copies of the reference "
          f"(-j {args.jobs}), single and release gradings the medians of {args.repeat} runs, "
          f"measured by {', '.join(sorted(how))}; "
          f"{time.strftime('%Y-%m-%d')}\nmachine: {machine()}\n")
    print("| topic | cohort, per submission | single CI grading | student release (range) | "
          "cohort / release | single / release | cohort wall s | scores |\n"
          "|---|---|---|---|---|---|---|---|")
    for topic, per, single, release, wall, scores, (low, high) in rows:
        print(f"| {topic} | {per:.1f} | {single:.1f} | {release:.1f} ({low:.1f}-{high:.1f}) | "
              f"{per / release:.2f} | {single / release:.2f} | {wall:.0f} | "
              f"{', '.join(map(str, sorted(scores)))} |")


if __name__ == "__main__":
    main()
