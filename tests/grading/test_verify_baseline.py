"""``dojo verify``'s baseline: a planted bug is graded again only where its change runs.

The parts: which units of code a bug changes (``release.changes``), which units a check ran
(``runtime.executed``, recorded by the worker for the solutions only), the checks that read
another check's result from the run's shared cache (``runner.TrackedCache``), and the reuse
itself, which must never hide a bug that costs points on another question."""

from __future__ import annotations

import importlib.util
import sys
import textwrap

import pytest

from nlpdojo_autograder.grading.runner import TrackedCache, _with_read
from nlpdojo_autograder.release.changes import changed_units
from nlpdojo_autograder.release.verify import BASELINE_STEP, verify
from nlpdojo_autograder.runtime.executed import ExecutedCode, unit_of
from nlpdojo_autograder.runtime.probes import python_lines

MODULE = textwrap.dedent('''\
    """A module."""
    import math

    SCALE = 2.0


    def double(x):
        return SCALE * x


    class Layer:
        size = 3

        def forward(self, x):
            return [double(v) for v in x]

        @property
        def width(self):
            return self.size

        @width.setter
        def width(self, value):
            self.size = value

        def backward(self, g):
            def inner(v):
                return 2 * v
            return [inner(v) for v in g]
    ''')


@pytest.mark.parametrize("find, replace, units", [
    ("return SCALE * x", "return SCALE + x", {"double"}),
    ("return [double(v) for v in x]", "return [double(v) + 1 for v in x]", {"Layer.forward"}),
    ("return 2 * v", "return 3 * v", {"Layer.backward"}),  # a nested function: its unit
    ("self.size = value", "self.size = value + 1", {"Layer.width"}),  # a property's setter
    ("return self.size", "return self.size + 1", {"Layer.width"}),  # ... and its getter
    ('"""A module."""', '"""Another docstring."""', None),  # module level
    ("SCALE = 2.0", "SCALE = 3.0", None),  # a constant: runs on import
    ("size = 3", "size = 4", None),  # a class attribute
    ("def double(x):", "def double(x, y=1):", None),  # a signature
    ("    @property\n", "    @staticmethod\n", None),  # a decorator
    ("import math", "import cmath", None),
    ("return [inner(v) for v in g]", "return [inner(v) for v in g", None),  # does not parse
])
def test_the_units_a_bug_changes(find, replace, units):
    assert find in MODULE
    changed = changed_units(MODULE, MODULE.replace(find, replace))
    if units is None:
        assert changed is None
    else:
        assert changed == units


def test_moving_code_changes_no_unit():
    assert changed_units(MODULE, "\n\n" + MODULE) == set()


@pytest.mark.parametrize("qualname, unit", [
    ("f", "f"), ("Layer.forward", "Layer.forward"),
    ("Layer.backward.<locals>.inner", "Layer.backward"),
    ("f.<locals>.<listcomp>", "f"), ("f.<locals>.g.<locals>.h", "f")])
def test_a_nested_code_object_counts_as_the_unit_that_defines_it(qualname, unit):
    assert unit_of(qualname) == unit


def _load(tmp_path, name="recorded"):
    folder = tmp_path / "course" / "topic"
    folder.mkdir(parents=True)
    path = folder / f"{name}.py"
    path.write_text(MODULE)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, tmp_path / "course"


#: the two recorders (runtime.executed): coverage's C tracer, sys.settrace's call events
RECORDERS = pytest.mark.parametrize("fast", [True, False], ids=["coverage", "settrace"])


@RECORDERS
def test_the_worker_records_the_units_a_check_runs_under_the_course_folder(tmp_path, fast):
    module, root = _load(tmp_path)
    record = ExecutedCode(str(root), fast=fast)
    layer = module.Layer()
    record.start()
    try:
        layer.forward([1.0, 2.0])
        layer.backward([1.0])
        textwrap.dedent("  outside the course folder: not recorded")
    finally:
        ran = record.stop()
    assert ran == [["topic/recorded.py", "Layer.backward"], ["topic/recorded.py", "Layer.forward"],
                   ["topic/recorded.py", "double"]]
    assert sys.gettrace() is None
    record.start()
    assert record.stop() == []  # each start begins a new record


@RECORDERS
def test_a_course_folder_reached_through_a_symbolic_link_is_named_the_same(tmp_path, fast):
    """The worker imports the code from the folder it was given, a link or not: a file's
    name as the code says it (call events) and as coverage says it (resolved) name the same
    file."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    module, root = _load(tmp_path / "link")
    record = ExecutedCode(str(root), fast=fast)
    record.start()
    try:
        module.double(1.0)
    finally:
        ran = record.stop()
    assert ran == [["topic/recorded.py", "double"]]


@RECORDERS
def test_a_line_count_inside_a_check_still_records_what_it_ran(tmp_path, fast):
    """The probes' line counter installs a tracer of its own for a while: the record goes
    on through it (a backward checked only under the counter is still recorded)."""
    module, root = _load(tmp_path, "counted")
    record = ExecutedCode(str(root), fast=fast)
    record.start()
    try:
        lines = python_lines(module.double, (2.0,), root_of=module.double)
        after, tracer = sys.gettrace(), record.tracer
        module.Layer().backward([1.0])  # under the record's own tracer again
    finally:
        ran = record.stop()
    assert lines == 1
    assert after is tracer is not None  # the record's tracer is back once the count ends
    assert ran == [["topic/counted.py", "Layer.backward"], ["topic/counted.py", "double"]]


def test_a_check_that_reads_another_checks_result_depends_on_what_that_one_ran():
    cache = TrackedCache()
    cache.begin("q.train")
    cache["model"] = "trained"
    cache.begin("q.accuracy")
    assert cache["model"] == "trained"
    assert cache.read_from == {"q.train"}
    executed = {"q.train": frozenset({("t/model.py", "train")})}
    assert _with_read({("t/score.py", "score")}, cache.read_from, executed) == {
        ("t/model.py", "train"), ("t/score.py", "score")}
    assert _with_read({("t/score.py", "score")}, {"q.unknown"}, {"q.unknown": None}) is None
    assert _with_read(None, set(), executed) is None
    cache.begin("q.other")
    assert "model" in cache and cache.read_from == {"q.train"}  # a membership test reads too


def test_a_bug_is_graded_again_only_where_its_change_runs(toy):
    """The toy's quadratic checks swap the reference's scale in: they never run the
    student's, so a bug in scale leaves their verdicts as they were in the baseline."""
    steps = {s.name: s for s in verify([toy], backends=[], strict=True)}
    baseline = steps[BASELINE_STEP]
    assert baseline.ok and "recorded for 6 of 6 checks" in baseline.detail, baseline.detail
    step = steps["planted bug scale adds"]
    assert step.ok, step.detail
    assert "(0 of 4 checks of other questions graded again" in step.detail


def test_a_check_that_runs_the_changed_code_is_graded_again_and_its_loss_reported(
        toy, monkeypatch):
    """Without the swap-in the quadratic checks run the student's scale: the baseline records
    it, the bug's grading runs them again, and --strict fails the bug (the reuse hides no
    point lost elsewhere)."""
    from dataclasses import replace
    monkeypatch.setattr(toy, "checks", [replace(c, swap_in=()) for c in toy.checks])
    steps = {s.name: s for s in verify([toy], backends=[], strict=True)}
    step = steps["planted bug scale adds"]
    assert not step.ok
    assert "but it also costs points on other questions: quadratic.values" in step.detail
    # the other bug, in quadratic, runs no code scale's checks run: they are not graded again
    other = steps["planted bug gradient doubled"]
    assert other.ok and "(0 of 2 checks of other questions graded again" in other.detail
