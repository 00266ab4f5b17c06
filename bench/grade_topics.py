"""How long ``grade`` takes per topic, and its CPU as CI grades against a student release's: the
reference solutions graded as a submission, every check run (``--no-cache``), in the sandboxed
worker where bubblewrap is present, NumPy.

Per topic: the number of checks, the sum of the value, gradient and custom checks' durations
(what a student waits for on every ``grade`` of a question), the sum of the metric checks'
(training on real data under a small budget, by the integrative questions), the whole
``grade`` on the wall clock, and the score, as CI grades (the reference present: it runs first
at the grading's fresh draw, no expected values kept between gradings); then the CPU seconds
of every process of that grading (bench/_cpu.py: the sandboxed workers and the reference
process included) beside those of a student release's grading of the same code
(``--as-student``: fixtures, public checks only), and their ratio; then the CPU of a CI
grading that takes a draw prepared before it (``dojo draws prepare TOPIC``, whose own CPU is
given too: the reference's run, paid before the grading) and its ratio to the release's. The
topics run interleaved, ``--repeat`` rounds, each round a CI grading, a release's, a draw's
preparation and a grading taking it, of every topic; the table gives medians over rounds
[min-max]. The peer of each topic is the other topics in the same run, and of each CI figure
the release's.

    python bench/grade_topics.py                         # every topic, 3 rounds
    python bench/grade_topics.py --topics rnn_variants,language_models --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np  # noqa: F401 - loaded, so that machine() names its BLAS
from _cpu import cpu_of  # bench/ is on sys.path when a bench runs
from _machine import machine

ROOT = Path(__file__).resolve().parents[1]

TOPICS = ("word_vectors", "neural_networks", "language_models", "rnn_variants", "cnn_text")


def prepared_grading(topic: str, env: dict[str, str]) -> tuple[float, dict[str, float], str]:
    """One draw prepared for ``topic`` in a store of its own (``dojo draws prepare``), then a
    CI grading that takes it: the preparation's CPU, the grading's figures, how measured."""
    with tempfile.TemporaryDirectory() as store:
        env = {**env, "NLPDOJO_EXPECTED_CACHE": store}
        prepare, _, _ = cpu_of([sys.executable, "-m", "nlpdojo", "draws", "prepare", topic],
                               env, ROOT)
        sums, how = grading(topic, env)
        if (Path(store) / "prepared").exists() and any((Path(store) / "prepared").iterdir()):
            raise SystemExit(f"grade {topic} took no prepared draw")
    return prepare, sums, how


def grading(topic: str, env: dict[str, str], *extra: str) -> tuple[dict[str, float], str]:
    """One ``grade TOPIC --submission solutions --no-cache [extra]``: durations by kind, wall
    clock, CPU of all its processes, checks, questions and score (from its JSON report); and
    how the CPU was measured."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cpu, wall, how = cpu_of([sys.executable, "-m", "nlpdojo_autograder.cli.grade", topic,
                                 "--submission", str(ROOT / "solutions"), "--no-cache",
                                 "--format", "json", "--output", str(out), *extra], env, ROOT)
        if not out.exists():
            raise SystemExit(f"grade {topic} {' '.join(extra)} wrote no report")
        result = json.loads(out.read_text())
    sums = {"wall": wall, "cpu": cpu, "checks": 0.0, "value+gradient+custom": 0.0,
            "metric": 0.0, "score": 0.0, "max_score": 0.0}
    questions: set[str] = set()
    for exercise in result["exercises"]:
        if exercise["name"] != topic:
            continue
        sums["score"] += float(exercise["score"])
        sums["max_score"] += float(exercise["max_score"])
        for check in exercise["checks"]:
            if float(check["score"]) < float(check["max_score"]):
                print(f"  {topic}: {check['id']} lost points ({check['status']}): "
                      f"{check.get('message', '')[:300]}", file=sys.stderr)
            kind = "metric" if check["kind"] == "metric" else "value+gradient+custom"
            sums[kind] += float(check["duration_s"])
            sums["checks"] += 1
            questions.add(check["question"])
    sums["questions"] = float(len(questions))
    return sums, how


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", default=",".join(TOPICS))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    topics = args.topics.split(",")
    # no expected values kept between gradings: each CI grading runs the reference, as one
    # submission graded alone does
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "NLPDOJO_EXPECTED_CACHE": "off"}
    runs: dict[str, list[dict[str, float]]] = {t: [] for t in topics}
    releases: dict[str, list[dict[str, float]]] = {t: [] for t in topics}
    prepared: dict[str, list[dict[str, float]]] = {t: [] for t in topics}
    preparing: dict[str, list[float]] = {t: [] for t in topics}
    measured: set[str] = set()
    for r in range(args.repeat):
        for topic in topics if r % 2 == 0 else topics[::-1]:
            ci, how = grading(topic, env)
            release, how_release = grading(topic, env, "--as-student")
            prepare, taking, how_taking = prepared_grading(topic, env)
            runs[topic].append(ci)
            releases[topic].append(release)
            prepared[topic].append(taking)
            preparing[topic].append(prepare)
            measured |= {how, how_release, how_taking}
            print(f"  round {r + 1}: {topic} {ci['wall']:.1f} s, CPU {ci['cpu']:.1f} s "
                  f"(release {release['cpu']:.1f} s; a prepared draw {taking['cpu']:.1f} s, "
                  f"preparing it {prepare:.1f} s)", file=sys.stderr)
    print(f"`grade TOPIC --submission solutions --no-cache`, NumPy, {args.repeat} interleaved "
          f"rounds, medians [min-max], seconds; CPU of all processes by "
          f"{', '.join(sorted(measured))}; {time.strftime('%Y-%m-%d')}\n"
          f"machine: {machine()}\n")
    print("| topic | questions | checks | value, gradient, custom checks (sum) | per question "
          "| metric checks (sum) | whole grade, wall | CPU, CI | CPU, release | CI / release "
          "| CPU, CI on a prepared draw | prepared / release | CPU, preparing the draw | score |"
          "\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

    def cell(values: list[float], form: str = "{:.1f}") -> str:
        return (f"{form.format(statistics.median(values))} "
                f"[{form.format(min(values))}-{form.format(max(values))}]")

    for topic, results in runs.items():
        fast = [r["value+gradient+custom"] for r in results]
        per_question = [f / r["questions"] for f, r in zip(fast, results, strict=True)]
        ratios = [c["cpu"] / r["cpu"] for c, r in zip(results, releases[topic], strict=True)]
        taking = [p["cpu"] for p in prepared[topic]]
        taking_ratios = [p / r["cpu"] for p, r in zip(taking, releases[topic], strict=True)]
        score = results[-1]
        print(f"| {topic} | {score['questions']:.0f} | {score['checks']:.0f} | {cell(fast)} | "
              f"{cell(per_question)} | {cell([r['metric'] for r in results])} | "
              f"{cell([r['wall'] for r in results])} | {cell([r['cpu'] for r in results])} | "
              f"{cell([r['cpu'] for r in releases[topic]])} | {cell(ratios, '{:.2f}')} | "
              f"{cell(taking)} | {cell(taking_ratios, '{:.2f}')} | {cell(preparing[topic])} | "
              f"{score['score']:g}/{score['max_score']:g} |")


if __name__ == "__main__":
    main()
