"""Where a student release's grading spends its CPU: the submission's training runs, its other
calls, the worker's machinery, the grader's process.

Each topic's reference is graded as a student release (``grade TOPIC --submission solutions
--no-cache --as-student``, NumPy, sandboxed) twice: once under ``py-spy record --subprocesses``
(sampling every process of the grading, the sandboxed worker included), whose samples split the
grading into four parts by their stacks, and once alone, whose CPU (cgroup,
``bench/_cpu.py``) the shares are applied to (the profiler's own CPU is not the grading's).
The parts:

* **training runs**: the instructor's trainers (``train_lm``, ``train_polarity``...), which run
  the submission's model, loop and library under the graded budgets;
* **other calls of the submission**: every other call into the submission's code (the value,
  gradient and at-scale checks' forwards and backwards, a release's scoring of the held-out
  sample);
* **worker machinery**: the worker's own work around those calls (decoding, encoding, the
  integrity rules' bookkeeping, imports);
* **grader process**: the ``grade`` process (imports, inputs, comparisons, the report).

Waiting (the channel's ``poll``, and a write blocked on a full pipe) is left out of the
samples. The first two parts are the
submission's own arithmetic: what a grader that cost nothing would still pay, so a topic whose
submission alone takes more than a budget of CPU cannot be graded within it by any change to
the grader (issue 66's 10 CPU-s a topic). Needs ``py-spy`` (``pip install py-spy``, or
``--py-spy PATH``) and the rights to sample other processes (root here).

    .venv/bin/python bench/grading_profile.py --topics rnn_variants,cnn_text
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cpu import cpu_of  # noqa: E402
from _machine import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ("word_vectors", "neural_networks", "language_models", "rnn_variants", "cnn_text")
#: the given trainers of the trained-model checks (course/*: ``train=(module, function)``)
TRAINERS = ("train_lm", "train_polarity", "train_classifier", "train_sgns",
            "train_char_tagger", "train_tagger_parameters", "train_scorer_parameters")
PARTS = ("training runs", "other calls of the submission", "worker machinery",
         "grader process")
#: the channel's functions whose own samples are a wait in a system call (py-spy does not tell
#: a sandboxed process's sleeping threads from running ones): the poll for a reply, and a write
#: blocked on a full pipe until the other side reads
WAITING = ("_arrived (", "send_frame (")
#: samples per second
RATE = 100


def part_of(frames: list[str]) -> str | None:
    """Which part a sample's stack (py-spy's raw frames, the process first) belongs to; None
    for waiting."""
    leaf = frames[-1]
    if leaf.startswith(WAITING) and "runtime/channel.py" in leaf or "poll" in leaf:
        return None
    if not any("worker_main" in f for f in frames[:4]):
        return "grader process"
    if any(f.startswith(f"{name} (") for f in frames for name in TRAINERS):
        return "training runs"
    if any("runtime/signatures.py" in f for f in frames):
        return "other calls of the submission"
    return "worker machinery"


def shares(raw: Path) -> dict[str, float]:
    """Each part's share of the samples of a py-spy ``--format raw`` profile."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        part = part_of(stack.split(";"))
        if part is not None:
            counts[part] += int(n)
    total = sum(counts.values()) or 1
    return {part: counts[part] / total for part in PARTS}


def grading(topic: str) -> list[str]:
    return [sys.executable, "-m", "nlpdojo_autograder.cli.grade", topic, "--submission",
            str(ROOT / "solutions"), "--no-cache", "--as-student", "-q"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", default=",".join(TOPICS))
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    args = parser.parse_args()
    if not (shutil.which(args.py_spy) or Path(args.py_spy).is_file()):
        raise SystemExit("py-spy not found: pip install py-spy, or --py-spy PATH")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "NLPDOJO_EXPECTED_CACHE": "off"}
    print(machine())
    print(f"| topic | CPU s, release | {' | '.join(PARTS)} | the submission's own |")
    print("|---|---:|" + "---:|" * (len(PARTS) + 1))
    for topic in args.topics.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "profile.raw"
            subprocess.run([args.py_spy, "record", "--subprocesses", "-r", str(RATE), "-f",
                            "raw", "-o", str(raw), "--", *grading(topic)],
                           env=env, cwd=ROOT, check=False, capture_output=True)
            if not raw.exists():
                raise SystemExit(f"py-spy wrote no profile of grade {topic}")
            share = shares(raw)
        cpu, _, how = cpu_of(grading(topic), env, ROOT)
        own = share["training runs"] + share["other calls of the submission"]
        cells = " | ".join(f"{cpu * share[p]:.1f} ({share[p]:.0%})" for p in PARTS)
        print(f"| {topic} | {cpu:.1f} ({how}) | {cells} | {cpu * own:.1f} ({own:.0%}) |")


if __name__ == "__main__":
    main()
