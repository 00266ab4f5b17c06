"""The reference solutions at many input seeds: a correct answer must never lose points by chance.

Where the reference is present, ``grade`` draws the inputs of value and gradient checks (and of
custom checks judged against the reference) afresh for every grading. A check whose inputs can
come out degenerate (a near-singular matrix, a tie, a vanishing variance) then fails the
reference, and a student whose code is right, at some rate nobody sees in a test that grades at
one seed. This grades the reference (trusted, in process: no worker, no training) on every
question whose checks draw inputs, at many input seeds in a row, and lists every check that
failed with its seed; the rate of a failure is its count over the seeds.

    python bench/reference_seeds.py --seeds 200                 # seeds 1..200, NumPy
    python bench/reference_seeds.py --seeds 50 --backend torch  # float32 on torch
    python bench/reference_seeds.py --seeds 200 --out bench/results/reference_seeds.json

Exit code 1 when a check failed at any seed. ``grade TOPIC --solutions --seed N`` reproduces one
(``--seed`` fixes the inputs).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading.grade import GradeOptions, grade


def drawn_questions(topic: str) -> list[str]:
    """``topic.question`` for every question with a check whose inputs are drawn per grading,
    except the integrative ones (they train on real data: minutes each)."""
    exercise = get_registry().get("exercise", topic)
    return sorted({f"{topic}.{c.question}" for c in exercise.checks if c.fresh_inputs}
                  - {f"{topic}.{q}" for q in exercise.integrative})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--start", type=int, default=1, help="the first input seed")
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--topics", default="", help="comma-separated (default: every topic)")
    parser.add_argument("--out", type=Path, help="write the failures and counts as JSON here")
    args = parser.parse_args()
    topics = [t for t in args.topics.split(",") if t] or get_registry().names("exercise")
    questions = frozenset(q for t in topics for q in drawn_questions(t))
    print(f"{len(questions)} questions of {len(topics)} topics, input seeds {args.start}.."
          f"{args.start + args.seeds - 1}, backend {args.backend}", flush=True)
    failures: dict[str, list[dict]] = defaultdict(list)
    checks = 0
    started = time.perf_counter()
    for seed in range(args.start, args.start + args.seeds):
        options = GradeOptions(backend=args.backend, questions=questions, input_seed=seed)
        result = grade(topics, submission=None, options=options, replay_options={})
        graded = [c for _, c in result.checks()]
        checks = len(graded)
        for c in graded:
            if not c.passed:
                failures[c.id].append({"seed": seed, "message": c.message[:300]})
                print(f"seed {seed}: {c.id} {c.status}: {c.message[:200]}", flush=True)
        print(f"seed {seed}: {result.score}/{result.max_score} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    print(f"\n{checks} checks a seed, {args.seeds} seeds: "
          + (", ".join(f"{k} failed {len(v)}x" for k, v in sorted(failures.items()))
             or "the reference passed every check at every seed"))
    if args.out:
        args.out.write_text(json.dumps({
            "backend": args.backend, "seeds": [args.start, args.start + args.seeds - 1],
            "questions": sorted(questions), "checks_per_seed": checks,
            "failures": failures}, indent=1) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
