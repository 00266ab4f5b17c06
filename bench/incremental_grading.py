"""What `grade`'s incremental cache saves: a run after editing one file, against a full one.

A copy of the reference solutions of a topic (and the course library) is graded as a
submission, with ``grade`` run as a student runs it (a subprocess, NumPy, the OS sandbox where
there is one). Each round, for each view (the default one, where the reference is installed and
value/gradient checks draw fresh inputs, and ``--as-student``, graded against the fixtures):

* **full** — ``grade TOPIC --no-cache``: every check runs;
* **after editing FILE** — the cache filled by one run, then a comment appended to ``FILE`` (its
  content hash changes, its behaviour does not) and ``grade TOPIC`` again;
* **unchanged** — ``grade TOPIC`` once more, nothing edited.

Rounds interleave the settings, so a change in the machine's load hits all of them alike; the
table shows medians [min-max] and how many checks each run reran. The cache lives in a
temporary folder (``NLPDOJO_GRADE_CACHE``), never the user's.

    python bench/incremental_grading.py [--topic word_vectors] [--edit softmax.py] [--rounds 3]
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

REPO = Path(__file__).resolve().parents[1]
GRADE = [sys.executable, "-m", "nlpdojo_autograder.cli.grade"]


def run(topic: str, submission: Path, *extra: str, env: dict[str, str]) -> tuple[float, int, int]:
    """Seconds one ``grade`` took, checks rerun and checks in all."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        started = time.perf_counter()
        proc = subprocess.run([*GRADE, topic, "--submission", str(submission), *extra,
                               "--format", "json", "--output", str(out)],
                              capture_output=True, text=True, env=env)
        took = time.perf_counter() - started
        if proc.returncode not in (0, 1):
            raise SystemExit(f"grade failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        checks = [c for e in json.loads(out.read_text())["exercises"] for c in e["checks"]]
    return took, sum(not c["cached"] for c in checks), len(checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topic", default="word_vectors")
    parser.add_argument("--edit", default="softmax.py", help="the file of the topic edited")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nlpdojo-bench-") as tmp:
        submission = Path(tmp) / "submission"
        for folder in (args.topic, "library"):
            if (REPO / "solutions" / folder).is_dir():
                shutil.copytree(REPO / "solutions" / folder, submission / folder,
                                ignore=shutil.ignore_patterns("__pycache__"))
        env = {**os.environ, "NLPDOJO_GRADE_CACHE": str(Path(tmp) / "cache")}
        edited = submission / args.topic / args.edit
        views = {"default": (), "--as-student": ("--as-student",)}
        times: dict[tuple[str, str], list[float]] = {}
        reran: dict[tuple[str, str], str] = {}
        for round_ in range(args.rounds):
            for view, extra in views.items():
                results = {"full": run(args.topic, submission, *extra, "--no-cache", env=env)}
                run(args.topic, submission, *extra, env=env)  # fill the cache
                with edited.open("a") as f:
                    f.write(f"\n# edited in round {round_}\n")
                results[f"after editing {args.edit}"] = run(args.topic, submission, *extra,
                                                           env=env)
                results["unchanged"] = run(args.topic, submission, *extra, env=env)
                for what, (took, rerun, total) in results.items():
                    times.setdefault((view, what), []).append(took)
                    reran[(view, what)] = f"{rerun} of {total}"
                    print(f"round {round_ + 1} {view:<12} {what:<24} {took:6.2f} s  "
                          f"reran {rerun} of {total}", file=sys.stderr)
        print(f"\n| view | run | seconds, median [min-max] of {args.rounds} | checks run |")
        print("|---|---|---|---|")
        for (view, what), values in times.items():
            print(f"| {view} | {what} | {statistics.median(values):.2f} "
                  f"[{min(values):.2f}-{max(values):.2f}] | {reran[(view, what)]} |")


if __name__ == "__main__":
    main()
