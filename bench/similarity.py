"""``dojo similarity`` at a cohort's size: synthetic word_vectors cohorts of 50, 100 and 300
(issue 64).

Each synthetic submission is the released topic with the reference's answers written in, every
name of the answers renamed at random, some questions left as stubs (a quarter), and a few
statements of its own added to each answer: every pair shares code on most questions, the
worst case for the comparison (a pair that shares nothing costs nothing: pairs are found
through an index of fingerprints). Each size runs in a fresh process, so that its peak memory
(``ru_maxrss``) is its own. Prints, per size: submissions, questions compared, pairs sharing
code, pairs flagged, the wall and CPU time of reading + fingerprinting + comparing
(``compare_cohort``), the time of making the JSON and HTML, and the peak resident memory.

    python bench/similarity.py [--sizes 50 100 300] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine  # bench/ is on sys.path when a bench runs

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
STUBS = ROOT / "exercises" / "word_vectors"
NAME = re.compile(r"\b([a-z_][a-z0-9_]*)\s*=(?!=)")


def _student(text: str, stub: str, rng: random.Random) -> str:
    """``text`` (a solution module) with its assigned names renamed and a statement added after
    some assignments; a quarter of the time the released ``stub`` instead."""
    if rng.random() < 0.25:
        return stub
    names = sorted({m.group(1) for m in NAME.finditer(text)} - {"self"})
    for name in names:
        if rng.random() < 0.7:
            text = re.sub(rf"\b{name}\b", f"{name}_{rng.randrange(1000)}", text)
    lines = []
    for line in text.splitlines():
        lines.append(line)
        indent = line[:len(line) - len(line.lstrip())]
        if "=" in line and line.rstrip().endswith(")") and indent and rng.random() < 0.2:
            lines.append(f"{indent}_check_{rng.randrange(100)} = {rng.randrange(10**6)}")
    return "\n".join(lines) + "\n"


def make_cohort(root: Path, size: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    modules = [p.name for p in (SOLUTIONS / "word_vectors").glob("*.py")
               if p.name != "__init__.py"]
    for i in range(size):
        topic = root / f"student{i:03d}" / "word_vectors"
        shutil.copytree(STUBS, topic, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
        for module in modules:
            solution = (SOLUTIONS / "word_vectors" / module).read_text()
            (topic / module).write_text(_student(solution, (STUBS / module).read_text(), rng))


def one(size: int, keep: Path | None) -> dict:
    from nlpdojo_autograder.release.similarity import compare_cohort
    from nlpdojo_reports.similarity import render_similarity, report_data

    work = Path(tempfile.mkdtemp(prefix="similarity-bench-"))
    try:
        root = (keep or work) / f"cohort{size}"
        if not root.exists():
            make_cohort(root, size)
        began, cpu = time.perf_counter(), time.process_time()
        report = compare_cohort(root, SOLUTIONS, ["word_vectors"])
        compared, compared_cpu = time.perf_counter() - began, time.process_time() - cpu
        began = time.perf_counter()
        json.dumps(report_data(report))
        render_similarity(report)
        written = time.perf_counter() - began
        return {"size": size, "questions": sum(report.questions.values()),
                "pairs": report.compared_pairs,
                "flagged": sum(bool(p.flagged) for p in report.pairs),
                "compare_s": round(compared, 2), "compare_cpu_s": round(compared_cpu, 2),
                "report_s": round(written, 2),
                "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 300])
    parser.add_argument("--keep", type=Path, help="make (or reuse) the cohorts here")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.keep)))
        return
    print(machine())
    print(f"{'cohort':>6} {'pieces':>7} {'pairs':>7} {'flagged':>7} {'compare s':>9} "
          f"{'CPU s':>7} {'report s':>8} {'peak MB':>7}")
    for size in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(size)]
        cmd += ["--keep", str(args.keep)] if args.keep else []
        row = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True)
                         .stdout.splitlines()[-1])
        print(f"{row['size']:>6} {row['questions']:>7} {row['pairs']:>7} {row['flagged']:>7} "
              f"{row['compare_s']:>9} {row['compare_cpu_s']:>7} {row['report_s']:>8} "
              f"{row['peak_mb']:>7}")


if __name__ == "__main__":
    main()
