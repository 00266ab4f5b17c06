"""``make test`` in two lanes: the tests marked ``waits`` run in a pytest process of their own,
beside the parallel workers that run the rest.

A test marked ``waits`` spends most of its time waiting out a time limit: a function that
sleeps until the grader stops it at its deadline, a grading stopped by ``--time-limit``. In
the workers' queue each such test held a worker, half of the 2-core machine, idle for its
limit: 95 of the suite's 1,185 test-seconds for 25 CPU-s (2026-12-07, Intel Xeon, 2 cores;
docs/benchmarks.md, "A whole make test"). Beside the workers they cost only those
CPU-seconds. A test that spins until its limit (a loop burning its core) is no such test: it
is CPU, and stays in the workers' queue.

The lane's files are found by their text (``mark.waits``): a marked test in a file the scan
misses is not lost but runs with the workers (tests/conftest.py deselects there only what
the lane runs). The two lanes share the run's stores of expected outcomes and source analyses
(``$NLPDOJO_TEST_SHARED``, tests/conftest.py), as the parallel workers share them.

    python -m tests.lanes [WORKERS]

prints the workers' report, then the lane's, and exits with the workers' pytest exit code
where it is not 0, else the lane's (0 where it selected no test).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
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


def main(argv: list[str]) -> int:
    workers = int(argv[0]) if argv else WORKERS
    files = lane_files()
    shared = Path(tempfile.mkdtemp(prefix="nlpdojo-tests-"))
    lane_env = {**os.environ, SHARED_ENV: str(shared)}
    workers_env = {**lane_env, LANE_FILES_ENV: os.pathsep.join(files)}
    pytest = [sys.executable, "-m", "pytest", "-q"]
    lane = None
    with tempfile.TemporaryFile("w+", encoding="utf-8") as lane_log:
        try:
            if files:
                lane = subprocess.Popen([*pytest, "-m", "waits", "--durations=10", *files],
                                        cwd=ROOT, env=lane_env, stdout=lane_log,
                                        stderr=subprocess.STDOUT, text=True)
            main_rc = subprocess.call([*pytest, "-n", str(workers), "--dist", "worksteal",
                                       "--durations=25"], cwd=ROOT, env=workers_env)
            lane_rc = lane.wait() if lane is not None else NO_TESTS
        except KeyboardInterrupt:
            main_rc = lane_rc = 130
        finally:
            if lane is not None and lane.poll() is None:
                lane.terminate()
                lane.wait()
            shutil.rmtree(shared, ignore_errors=True)
        if lane is not None:
            lane_log.seek(0)
            print(f"\n---- the tests that wait out a time limit ({', '.join(files)}), run "
                  "beside the workers (tests/lanes.py) ----", flush=True)
            sys.stdout.write(lane_log.read())
    if lane_rc == NO_TESTS:
        lane_rc = 0
    return main_rc or lane_rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
