"""``make test``'s two lanes (tests/lanes.py): the tests marked ``waits`` run beside the
workers, and none is lost between the two: the workers deselect only what the lane was given."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.lanes import LANE_FILES_ENV, ROOT, lane_files, summary

TIME_LIMIT = "tests/grading/test_time_limit.py"


def test_the_lane_holds_the_files_that_mark_a_test_waits():
    assert {TIME_LIMIT, "tests/grading/test_hostile.py",
            "tests/grading/test_word_vectors_grading.py"} <= set(lane_files())
    assert "tests/grading/test_isolation.py" not in lane_files()


def _collected(lane: str, path: str = TIME_LIMIT) -> list[str]:
    """The ids of test_time_limit.py's tests a worker collects, given the lane's files."""
    env = {**os.environ, LANE_FILES_ENV: lane}
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", "-p", "no:hypothesispytest", path],
                          cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_workers_leave_to_the_lane_only_what_it_runs():
    alone = _collected("")
    waiting = ["test_the_time_limit_stops_a_grading_and_its_report_is_written",
               "test_the_time_limit_bounds_a_module_whose_import_never_ends"]
    assert all(any(name in test for test in alone) for name in waiting)
    beside = _collected(TIME_LIMIT)
    assert not any(name in test for test in beside for name in waiting), beside
    assert len(beside) == len(alone) - len(waiting)
    # a file the lane was not given keeps its marked tests with the workers
    assert _collected("tests/grading/test_hostile.py") == alone


def test_a_checkout_reached_through_a_link_leaves_the_same_tests_to_the_lane(tmp_path):
    link = tmp_path / "checkout"
    link.symlink_to(ROOT, target_is_directory=True)
    beside = _collected(TIME_LIMIT, str(link / TIME_LIMIT))
    assert beside and not any("never_ends" in test or "stops_a_grading" in test
                              for test in beside), beside


def test_the_summary_is_pytests_last_line_of_counts():
    report = ("....x [100%]\n== 3 passed, 1 xfailed in 2.50s ==\n"
              "nlpdojo: the workers: 3 passed in 2.50s; beside them, the tests that wait: "
              "1 failed in 9.00s\n")
    assert summary(report).endswith("1 failed in 9.00s")
    assert summary("== 3 passed, 1 xfailed in 2.50s ==\n") == "3 passed, 1 xfailed in 2.50s"
    assert summary("7 deselected in 1.20s\n") == "7 deselected in 1.20s"  # (none selected)
    assert summary("INTERNALERROR> boom\n") == "no pytest summary"
