"""Project-wide test set-up: no stray third-party plugins, a fresh registry per test."""

from __future__ import annotations

import gc
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlpdojo import plugins
from nlpdojo_autograder.authoring import reference_runs
from nlpdojo_autograder.grading import grade
from nlpdojo_autograder.grading.grade import INPUT_SEED_ENV
from nlpdojo_autograder.runtime import source_memo
from tests.lanes import LANE_FILES_ENV, ROOT, SHARED_ENV

#: the input seed of every grading the tests start where the seeded run (``make test-seeds``,
#: tests/seeds.py) sets none: ``grade`` would otherwise draw a fresh one per grading, and a
#: test's verdict must never depend on a random draw (the seeded run is what varies it: this
#: is its first seed). One seed also lets the gradings of a topic share the reference's
#: expected outcomes (``shared_expected`` below).
TEST_INPUT_SEED = "1"


@pytest.fixture(autouse=True)
def _pinned_input_seed(monkeypatch):
    """``$NLPDOJO_INPUT_SEED`` is the seeded run's, else :data:`TEST_INPUT_SEED`, in this
    process and every process a test starts (a test of the fresh draw removes it)."""
    monkeypatch.setenv(INPUT_SEED_ENV, os.environ.get(INPUT_SEED_ENV) or TEST_INPUT_SEED)


@pytest.fixture(autouse=True)
def _private_grade_cache(monkeypatch, tmp_path_factory):
    """``grade``'s incremental cache in a folder of this test's, never the user's; and in use
    where the tests run in a CI job (``$CI``, which turns it off: the tests that want it off
    set it)."""
    monkeypatch.setenv("NLPDOJO_GRADE_CACHE", str(tmp_path_factory.mktemp("grade-cache")))
    monkeypatch.delenv("CI", raising=False)


@pytest.fixture(autouse=True)
def _private_expected_outcomes(request, monkeypatch, tmp_path_factory):
    """The reference's expected outcomes kept on disk (``grading/expected.py``) in a folder of
    this test's, never the user's: no test reads what another computed. Except the tests
    marked ``shared_expected`` (they grade the course's own topics, whose reference and
    grader no test edits in place): they share one folder for the whole run, across the
    parallel workers, so that the reference runs once per topic and draw, as it does for a
    cohort. An entry's key holds the reference's and the grader's source (edited copies are
    other keys), and only outcomes the reference completed are kept."""
    if request.node.get_closest_marker("shared_expected"):
        root = _run_folder(tmp_path_factory, "expected")
    else:
        root = tmp_path_factory.mktemp("expected")
    monkeypatch.setenv("NLPDOJO_EXPECTED_CACHE", str(root))


@pytest.fixture(autouse=True)
def _shared_source_analyses(monkeypatch, tmp_path_factory):
    """The analyses of source files a ``grade`` reads before its checks
    (``runtime/source_memo.py``: code rules, solution markers) kept in one folder for the
    whole run, across the parallel workers, never the user's: an entry's key is the files'
    content and the analysing code's source, so what one test computed is what any other
    would (a test of the store itself sets its own)."""
    monkeypatch.setenv(source_memo.ROOT_ENV, str(_run_folder(tmp_path_factory, "analyses")))


def _run_folder(tmp_path_factory, name: str):
    """A folder every test process of this run shares: in the folder ``make test``'s two
    lanes share (tests/lanes.py), else in the run's base folder (pytest-xdist: each worker's
    base folder lies in the run's)."""
    shared = os.environ.get(SHARED_ENV)
    if shared:
        base = Path(shared)
    else:
        base = tmp_path_factory.getbasetemp()
        base = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    (base / name).mkdir(exist_ok=True)
    return base / name


#: the present as every test's gradebook reads it: after every due date the tests' courses
#: set (2027), so an assignment is missing, not "open", whatever the day the tests run on
COURSE_NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned_course_clock(monkeypatch):
    """The course record's "now" (``policy.current_time``) is :data:`COURSE_NOW` in every
    test run in this process (a test of an open assignment sets its own)."""
    from nlpdojo_autograder.course import policy

    monkeypatch.setattr(policy, "current_time", lambda: COURSE_NOW)


@pytest.fixture(autouse=True)
def _no_store_of_runs_at_scale(monkeypatch):
    """No folder of the reference's runs at scale (a cohort's grader makes one for its
    children, ``authoring/reference_runs.py``) unless a test sets it; those kept in memory are
    keyed by their case's declaration and the reference's and grader's source, so the tests
    that grade the course's topics share them as a process's gradings do."""
    monkeypatch.delenv(reference_runs.STORE_ENV, raising=False)


@pytest.fixture(autouse=True)
def _fresh_expected_in_memory(monkeypatch):
    """The reference's expected outcomes a process keeps in memory (``grade.EXPECTED``) are
    this test's alone: its key is the topic and the draw, not the reference's source, and
    tests define topics of one name differently (those marked ``shared_expected`` share the
    store on disk instead, keyed by the source)."""
    monkeypatch.setattr(grade, "EXPECTED", grade.ExpectedCache())


@pytest.fixture(autouse=True)
def _private_outputs(monkeypatch, tmp_path_factory):
    """What ``dojo train`` and ``dojo sample`` write by default (the outputs folder) goes to a
    folder of this test's, never the user's."""
    monkeypatch.setenv("NLPDOJO_OUTPUTS", str(tmp_path_factory.mktemp("outputs")))


@pytest.fixture(autouse=True)
def _no_course_configuration(monkeypatch, tmp_path_factory):
    """No instructor's course configuration (nlpdojo.settings) but an empty one of this
    test's: the user's own ``~/.config/nlpdojo/config.toml`` is never read, here or in the
    processes a test starts; none of the grading settings' environment variables is set."""
    empty = tmp_path_factory.mktemp("course-config") / "config.toml"
    empty.write_text("")
    monkeypatch.setenv("NLPDOJO_CONFIG", str(empty))
    for var in ("NLPDOJO_TIMEOUT_SCALE", "NLPDOJO_MEMORY_MB", "NLPDOJO_TIME_LIMIT",
                "NLPDOJO_GRADE_OUTPUT"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def _only_builtin_plugins(monkeypatch):
    """Block third-party entry points (an instructor's machine may have some installed) and
    start every test with a freshly loaded registry. Tests that need a third-party plugin set
    NLPDOJO_PLUGINS themselves and call ``plugins.reset()``."""
    monkeypatch.setenv(plugins.RESTRICT_ENV, "")
    for var in ("NLPDOJO_BACKEND", "NLPDOJO_DEVICE", "NLPDOJO_DTYPE"):
        monkeypatch.delenv(var, raising=False)
    plugins.reset()
    yield
    plugins.reset()


def pytest_collection_modifyitems(config, items):
    """The tests marked ``long`` (minutes each: the planted-bug verifications, the reference
    time-outs) run first: pytest-xdist hands tests out in collection order, and a long test
    started last keeps one worker busy after the other has finished. In ``make test``'s
    workers, the tests marked ``waits`` that its other lane runs are deselected here
    (tests/lanes.py): only those of the files that lane was given, so none is lost."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
    lane = {ROOT / name for name in os.environ.get(LANE_FILES_ENV, "").split(os.pathsep)
            if name}
    if lane:  # (paths resolved: the checkout may be reached through a link)
        elsewhere = {item for item in items if item.get_closest_marker("waits")
                     and item.path.resolve() in lane}
        if elsewhere:
            config.hook.pytest_deselected(items=[i for i in items if i in elsewhere])
            items[:] = [item for item in items if item not in elsewhere]


#: the youngest generation's collection threshold in a test process (CPython's default: 700)
TEST_GC_THRESHOLD = (50_000, 20, 100)


def pytest_collection_finish(session):
    """A test process holds what collection imported (the engine, NumPy, torch, ~250 test
    modules) for the whole run, and the grader runs in it for the in-process gradings: with
    CPython's thresholds, a tenth to a sixth of its CPU went to collections that traversed that
    heap and found little (perf, a run of four grading suites). What collection made is frozen
    out of later collections (as ``grade`` freezes its imports: nlpdojo.startup), and the
    youngest generation is collected every 50,000 allocations instead of 700: the pytest
    process of test_mistakes_that_passed and test_hints_that_mislead, 31.4 -> 28.5 CPU-s. Only
    the test processes: the grader's own processes keep CPython's thresholds."""
    gc.freeze()
    gc.set_threshold(*TEST_GC_THRESHOLD)
