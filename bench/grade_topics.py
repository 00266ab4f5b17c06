"""How long ``grade`` takes per topic: the reference solutions graded as a submission, every
check run (``--no-cache``), in the sandboxed worker where bubblewrap is present, NumPy.

Per topic: the number of checks, the sum of the value, gradient and custom checks' durations
(what a student waits for on every ``grade`` of a question), the sum of the metric checks'
(training on real data under a small budget, by the integrative questions), the whole
``grade`` on the wall clock, and the score. The topics run interleaved, ``--repeat`` rounds;
the table gives medians over rounds [min-max]. The peer of each topic is the other topics in
the same run: rnn_variants' checks should cost about what the others' cost per question.

    python bench/grade_topics.py                         # every topic, 3 rounds
    python bench/grade_topics.py --topics rnn_variants,language_models --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np  # noqa: F401 - loaded, so that machine() names its BLAS
from _machine import machine  # bench/ is on sys.path when a bench runs
from grading_overhead import timed_grade

TOPICS = ("word_vectors", "neural_networks", "language_models", "rnn_variants", "cnn_text")


def grading(topic: str, env: dict[str, str]) -> dict[str, float]:
    """One ``grade TOPIC --submission solutions --no-cache``: durations by kind, wall clock,
    checks, questions and score, from its JSON report."""
    wall, result = timed_grade(sys.executable, topic, env, ["--no-cache"])
    sums = {"wall": wall, "checks": 0.0, "value+gradient+custom": 0.0, "metric": 0.0,
            "score": 0.0, "max_score": 0.0}
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
    return sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", default=",".join(TOPICS))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    topics = args.topics.split(",")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    runs: dict[str, list[dict[str, float]]] = {t: [] for t in topics}
    for r in range(args.repeat):
        for topic in topics if r % 2 == 0 else topics[::-1]:
            runs[topic].append(grading(topic, env))
            print(f"  round {r + 1}: {topic} {runs[topic][-1]['wall']:.1f} s", file=sys.stderr)
    print(f"`grade TOPIC --submission solutions --no-cache`, NumPy, {args.repeat} interleaved "
          f"rounds, medians [min-max], seconds; {time.strftime('%Y-%m-%d')}\n"
          f"machine: {machine()}\n")
    print("| topic | questions | checks | value, gradient, custom checks (sum) | per question "
          "| metric checks (sum) | whole grade, wall | score |\n|---|---|---|---|---|---|---|---|")

    def cell(values: list[float]) -> str:
        return (f"{statistics.median(values):.1f} [{min(values):.1f}-{max(values):.1f}]")

    for topic, results in runs.items():
        fast = [r["value+gradient+custom"] for r in results]
        per_question = [f / r["questions"] for f, r in zip(fast, results, strict=True)]
        score = results[-1]
        print(f"| {topic} | {score['questions']:.0f} | {score['checks']:.0f} | {cell(fast)} | "
              f"{cell(per_question)} | {cell([r['metric'] for r in results])} | "
              f"{cell([r['wall'] for r in results])} | "
              f"{score['score']:g}/{score['max_score']:g} |")


if __name__ == "__main__":
    main()
