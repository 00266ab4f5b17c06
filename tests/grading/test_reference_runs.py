"""The reference's runs at scale kept between gradings at one draw
(``autograder/authoring/reference_runs.py``): in the grading process's memory, and in a cohort's
store for its children; the code under test is still run and judged every time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.authoring import at_scale, reference_runs
from nlpdojo_autograder.authoring.at_scale import require_at_scale
from nlpdojo_autograder.authoring.checks import CheckFailure
from nlpdojo_autograder.authoring.reference_runs import ReferenceRuns, Run
from nlpdojo_autograder.cli import grade as grade_cli
from tests.grading.courses import edited_course
from tests.grading.test_at_scale import TRUE, _case, _ctx, _Reference, _run

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _empty_memory():
    reference_runs.clear_memory()
    yield
    reference_runs.clear_memory()


class _Counting(_Reference):
    """The reference, counting the runs at scale it is asked for."""

    def __init__(self, outputs):
        super().__init__(outputs)
        self.runs = 0

    def call(self, target, args, kwargs):
        self.runs += target.args[2] == "python_lines_and_result"
        return super().call(target, args, kwargs)


def _grading(student, reference, runs, seed=7):
    """A grading's context (its own cache) that keeps the reference's runs in ``runs``."""
    ctx = _ctx(student, reference)
    ctx.seed, ctx.reference_runs = seed, runs
    return ctx


def test_a_second_grading_at_the_draw_takes_the_reference_run_and_still_judges_the_code():
    reference, case = _Counting({**TRUE, "lines": 40}), _case()
    runs = ReferenceRuns(lambda: "topic, seeds, sources")
    require_at_scale(_grading(TRUE, reference, runs), "m", "Layer", case, _run)
    assert reference.runs == 1
    require_at_scale(_grading(TRUE, reference, runs), "m", "Layer", case, _run)
    assert reference.runs == 1  # kept: the reference did not run again
    wrong = {**TRUE, "layer_run": {**TRUE["layer_run"],
                                   "param_grads": {"weight": np.arange(5.0) + 1e-3}}}
    with pytest.raises(CheckFailure, match="gradient of weight differs from the true one"):
        require_at_scale(_grading(wrong, reference, runs), "m", "Layer", case, _run)
    with pytest.raises(CheckFailure, match="ran 381 lines of Python where the reference's "
                                           "ran 40"):  # the kept run's lines judge it
        require_at_scale(_grading({**TRUE, "lines": 381}, reference, runs), "m", "Layer",
                         case, _run)
    assert reference.runs == 1


def test_another_draw_seed_declaration_or_source_is_another_run():
    reference, case = _Counting(TRUE), _case()
    runs = ReferenceRuns(lambda: "draw 1")
    require_at_scale(_grading(TRUE, reference, runs), "m", "Layer", case, _run)
    require_at_scale(_grading(TRUE, reference, runs, seed=8), "m", "Layer", case, _run)
    assert reference.runs == 2  # another check's seed drew the case
    require_at_scale(_grading(TRUE, reference, ReferenceRuns(lambda: "draw 2")), "m", "Layer",
                     case, _run)
    assert reference.runs == 3  # another draw, or another reference or grader source
    require_at_scale(_grading(TRUE, reference, runs), "m", "Layer", _case(), _run)
    assert reference.runs == 4  # a case declared anew (a test's topic of the same name)
    require_at_scale(_grading(TRUE, reference, runs), "m", "Layer", _case(stride=2), _run)
    assert reference.runs == 5  # another configuration


def test_a_run_comes_back_from_the_store_exactly_and_read_only(tmp_path, monkeypatch):
    monkeypatch.setenv(reference_runs.STORE_ENV, str(tmp_path / "store"))
    result = {"outputs": [(np.arange(6.0).reshape(2, 3), np.ones(2, np.float32))],
              "input_grads": [(np.zeros(3), None)], "param_grads": {"w": np.eye(2)},
              "grad_outputs": [[np.full(2, 0.5)]], "n": 3}
    declared = _case()
    ReferenceRuns(lambda: "draw").put(declared, ("layer", "m"), Run(result, 40, 0.25))
    reference_runs.clear_memory()  # as a fresh process finds it
    found = ReferenceRuns(lambda: "draw").get(_case(), ("layer", "m"))
    assert found is not None and found.lines == 40 and found.cpu == 0.25
    out, state = found.result["outputs"][0]
    assert isinstance(found.result["outputs"][0], tuple) and state.dtype == np.float32
    np.testing.assert_array_equal(out, result["outputs"][0][0])
    assert found.result["input_grads"] == [(found.result["input_grads"][0][0], None)]
    np.testing.assert_array_equal(found.result["param_grads"]["w"], np.eye(2))
    assert found.result["n"] == 3 and isinstance(found.result["grad_outputs"][0], list)
    assert not out.flags.writeable
    assert ReferenceRuns(lambda: "another draw").get(declared, ("layer", "m")) is None


def test_a_half_written_or_unreadable_entry_is_a_miss(tmp_path, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setenv(reference_runs.STORE_ENV, str(store))
    runs = ReferenceRuns(lambda: "draw")
    runs.put(_case(), ("x",), Run({"a": np.ones(3)}, 1, None))
    key = runs.key(("x",))
    reference_runs.clear_memory()
    (store / f"{key}.npz").write_bytes(b"not an npz")
    assert runs.get(_case(), ("x",)) is None
    (store / f"{key}.npz").unlink()
    assert runs.get(_case(), ("x",)) is None
    # a result that is not plain arrays and data is kept in memory only
    runs.put(_case(), ("y",), Run({"a": np.array([object()])}, 1, None))
    assert not (store / f"{runs.key(('y',))}.json").exists()


def test_memory_keeps_the_most_recent_runs_within_its_bound():
    memory, declared = reference_runs._Memory(limit=3 * 800), _case()
    for name in "abcd":
        memory.put(declared, name, Run({"a": np.zeros(100)}, 1, None))  # 800 bytes each
    assert memory.get(declared, "a") is None
    assert all(memory.get(declared, k) is not None for k in "bcd")


def _grade_layer(submission, question):
    from nlpdojo.plugins import get_registry
    from nlpdojo_autograder.grading.grade import GradeOptions, grade_exercise
    exercise = get_registry().get("exercise", "neural_networks")
    options = GradeOptions(input_seed=5, questions=frozenset({question}))
    return grade_exercise(exercise, submission, options)


def test_a_process_grades_a_layer_twice_running_the_reference_at_scale_once(
        tmp_path, monkeypatch):
    """The course's Linear layer graded twice at one draw: the reference's run at scale once,
    every verdict the same; a third grading of a Linear whose weight gradient is scaled at
    scale only (a size written in) still fails there."""
    asked = []
    real = at_scale._Work.measured

    def measured(self, whose, *args, **kwargs):
        asked.append(whose)
        return real(self, whose, *args, **kwargs)

    monkeypatch.setattr(at_scale._Work, "measured", measured)
    submission = edited_course(tmp_path / "right", ("library", "neural_networks"))
    first = _grade_layer(submission / "neural_networks", "neural_networks.affine")
    second = _grade_layer(submission / "neural_networks", "neural_networks.affine")
    assert asked.count("true") == 1 and asked.count("yours") == 2, asked
    assert [(c.id, c.score, c.message) for c in first.checks] == [
        (c.id, c.score, c.message) for c in second.checks]
    assert first.score == first.max_score > 0

    wrong = edited_course(tmp_path / "wrong", ("library", "neural_networks"), {
        "library/layers.py": ("self.weight.grad += xp.matmul(",
                              "self.weight.grad += (1.0 if x.shape[0] < 100 else 1.01) * "
                              "xp.matmul(")})
    third = _grade_layer(wrong / "neural_networks", "neural_networks.affine")
    assert asked.count("true") == 1, asked
    failed = [c for c in third.checks if c.score < c.max_score]
    assert failed and all("At scale" in c.message for c in failed), [
        (c.id, c.message) for c in third.checks]


def test_a_cohorts_children_keep_the_reference_runs_in_the_cohorts_store(tmp_path,
                                                                         monkeypatch):
    """The cohort's grader names a store beside its expected values; its children write the
    reference's runs at scale there (the first to make each), and it is removed with the
    cohort."""
    root = tmp_path / "cohort"
    for name in ("alice", "ben"):
        edited_course(root / name, ("library", "neural_networks"))
    seen: dict[str, list[str]] = {}
    real = shutil.rmtree

    def rmtree(path, *args, **kwargs):
        store = Path(path) / "at-scale"
        if Path(path).name.startswith("nlpdojo-expected-"):
            seen[str(path)] = sorted(p.suffix for p in store.iterdir()) if store.is_dir() \
                else []
        return real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", rmtree)
    out = tmp_path / "out"
    ran = CliRunner().invoke(grade_cli.app, ["neural_networks.affine", "--submissions",
                                             str(root), "-j", "1", "-f", "json", "-o", str(out)])
    assert ran.exit_code == 0, ran.output
    (suffixes,) = seen.values()
    assert suffixes and set(suffixes) == {".json", ".npz"}, suffixes
    for name in ("alice", "ben"):
        result = json.loads((out / name / "result.json").read_text())
        assert result["score"] == result["max_score"] > 0


def test_a_fresh_process_reads_the_run_a_first_one_stored(tmp_path):
    """What a cohort's second child does: the store, not memory, gives it the run."""
    store = tmp_path / "store"
    script = (
        "from nlpdojo_autograder.authoring import reference_runs as r\n"
        "from nlpdojo_autograder.authoring.reference_runs import ReferenceRuns, Run\n"
        "import numpy as np, sys\n"
        "declared = type('Case', (), {})()\n"
        "runs = ReferenceRuns(lambda: 'draw')\n"
        "if sys.argv[1] == 'put':\n"
        "    runs.put(declared, ('x',), Run({'a': np.arange(3.0)}, 7, 0.5))\n"
        "else:\n"
        "    found = runs.get(declared, ('x',))\n"
        "    print(found.lines, found.cpu, found.result['a'].tolist())\n")
    env = {"PATH": "/usr/bin:/bin", reference_runs.STORE_ENV: str(store)}
    for step in ("put", "get"):
        done = subprocess.run([sys.executable, "-c", script, step], env=env, text=True,
                              capture_output=True, check=True, cwd=REPO)
    assert done.stdout.split("\n")[0] == "7 0.5 [0.0, 1.0, 2.0]", done.stderr
