"""``make test`` in two lanes: the tests marked ``waits`` run in a pytest process of their own,
beside the parallel workers that run the rest.

A test marked ``waits`` spends most of its time waiting out a time limit: a function that
sleeps until the grader stops it at its deadline, a grading stopped by ``--time-limit``. In
the workers' queue each such test held a worker, half of the 2-core machine, idle for its
limit: 95 of the suite's 1,185 test-seconds for 25 CPU-s (2026-12-07, Intel Xeon, 2 cores;
docs/benchmarks.md, "A whole make test"). Beside the workers they cost only those
CPU-seconds. A test that spins until its limit (a loop burning its core) is no such test: it
is CPU, and stays in the workers' queue; so does one that waits on its own processes (a
planted-bug sweep's grader, worker and reference): a third such chain beside the workers
lengthens every round trip of all three.

The lane's files are found by their text (``mark.waits``): a marked test in a file the scan
misses is not lost but runs with the workers (tests/conftest.py deselects there only what
the lane runs). The two lanes share the run's stores of expected outcomes and source analyses
(``$NLPDOJO_TEST_SHARED``, tests/conftest.py), as the parallel workers share them.

    python -m tests.lanes [-n WORKERS] [-m MARKEXPR]

``-m`` selects in both lanes (``make test-seeds``: ``-m seeded``). The workers' report comes
as it is made, the lane's after it, then one line with both summaries (the line
tests/seeds.py records). The exit code is the workers' pytest exit code where it is not 0,
else the lane's (0 where the lane selected no test).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: where the two lanes keep what the tests share for a run (conftest.py reads it)
SHARED_ENV = "NLPDOJO_TEST_SHARED"
#: the files whose ``waits`` tests the lane runs (os.pathsep-separated, relative to ROOT):
#: the workers deselect those tests, and only those
LANE_FILES_ENV = "NLPDOJO_WAITS_LANE_FILES"
MARKED = re.compile(r"\bmark\.waits\b")
#: pytest's exit code for "no tests collected"
NO_TESTS = 5

# Two workers, not three: a grading waits on its worker and reference processes about half
# the time, yet a third test made the grading tests slower (test_topics_through_the_grader and
# test_reference_worker: 5:20 with two, 6:21 with three, same clone, 2026-11-30, Intel Xeon):
# a call-back's round trips wait on the scheduler too, and a third process in the queue
# lengthens every one of them. A whole run with three (2026-12-04, AMD EPYC): 907 s and
# 1,573 CPU-s against 885 s and 1,452 with two (docs/benchmarks.md: the CPU is the bound).
# The tests marked `long` (minutes each) are collected first (tests/conftest.py) and
# --dist worksteal lets an idle worker take the other's waiting tests, so both finish together.
WORKERS = 2


def lane_files(tests: Path = ROOT / "tests") -> list[str]:
    """The test files that mark a test ``waits``, relative to the checkout, sorted."""
    return sorted(p.relative_to(ROOT).as_posix() for p in tests.rglob("test_*.py")
                  if MARKED.search(p.read_text(encoding="utf-8")))


def summary(output: str) -> str:
    """pytest's last line of counts ("3 passed, 1 skipped in 2.50s"), or what stands in."""
    lines = [ln.strip("= ") for ln in output.splitlines() if " in " in ln and (
        "passed" in ln or "failed" in ln or "error" in ln or "deselected" in ln)]
    return lines[-1] if lines else "no pytest summary"


def run_echoed(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a pytest command in the checkout, its report shown as it comes (the workers here,
    a seed in tests/seeds.py); its exit code and :func:`summary`."""
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    tail: deque[str] = deque(maxlen=50)  # (the summary is among the last lines)
    try:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            tail.append(line)
        return proc.wait(), summary("".join(tail))
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait()


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lanes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=WORKERS, dest="workers",
                        help=f"the parallel workers (default {WORKERS})")
    parser.add_argument("-m", dest="marks", help="a marker expression, for both lanes")
    options = parser.parse_args(args)
    files = lane_files()
    shared = Path(tempfile.mkdtemp(prefix="nlpdojo-tests-"))
    lane_env = {**os.environ, SHARED_ENV: str(shared)}
    workers_env = {**lane_env, LANE_FILES_ENV: os.pathsep.join(files)}
    pytest = [sys.executable, "-m", "pytest", "-q"]
    if sys.stdout.isatty():
        pytest.append("--color=yes")  # (the workers' report passes through a pipe)
    marks = ["-m", options.marks] if options.marks else []
    waiting = f"waits and ({options.marks})" if options.marks else "waits"
    lane = None
    with tempfile.TemporaryFile("w+", encoding="utf-8") as lane_log:
        try:
            if files:
                # (hypothesis's plugin left out: no test that waits draws with it, and at the
                # run's end it imports hypothesis, rewriting its asserts: ~0.6 CPU-s)
                lane = subprocess.Popen([*pytest, "-m", waiting, "--durations=10",
                                         "-p", "no:hypothesispytest", *files],
                                        cwd=ROOT, env=lane_env, stdout=lane_log,
                                        stderr=subprocess.STDOUT, text=True)
            main_rc, main_summary = run_echoed(
                [*pytest, "-n", str(options.workers), "--dist", "worksteal", "--durations=25",
                 *marks], workers_env)
            lane_rc = lane.wait() if lane is not None else NO_TESTS
        except KeyboardInterrupt:
            main_rc = lane_rc = 130
            main_summary = "interrupted"
        finally:
            if lane is not None and lane.poll() is None:
                lane.terminate()
                lane.wait()
            shutil.rmtree(shared, ignore_errors=True)
        lane_summary = "none selected"
        if lane is not None:
            lane_log.seek(0)
            said = lane_log.read()
            print(f"\n---- the tests that wait out a time limit ({', '.join(files)}), run "
                  "beside the workers (tests/lanes.py) ----", flush=True)
            sys.stdout.write(said)
            lane_summary = summary(said)
    print(f"\nnlpdojo: the workers: {main_summary}; beside them, the tests that wait: "
          f"{lane_summary}", flush=True)
    if lane_rc == NO_TESTS:
        lane_rc = 0
    return main_rc or lane_rc


if __name__ == "__main__":
    sys.exit(main())
