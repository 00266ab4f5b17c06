"""The topics ``rnn_variants`` and ``cnn_text`` through the real grader: full marks for the
solutions on NumPy and torch, zero for the released stubs, and every planted bug caught on its
own question (``dojo verify --strict``), in the sandboxed worker where bubblewrap is present.
(The earlier topics have files of their own, with their topic-specific tests beside these.)

Full marks on NumPy are the planted-bug test's first step: its baseline grades the solutions as
a submission, through the worker, and fails unless every check passes (``BASELINE_STEP``); a
trusted grading of them on NumPy besides (``grade --solutions``, 35 s of the suite) graded the
same checks again. The trusted path is the torch test's, and the earlier topics' NumPy tests'."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading.grade import grade
from nlpdojo_autograder.release.verify import BASELINE_STEP, verify
from tests.grading.courses import edited_course, run_options

#: the course's own topics: the reference's expected outcomes are shared (tests/conftest.py)
pytestmark = pytest.mark.shared_expected

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"
TOPICS = ("rnn_variants", "cnn_text")


def _grade(topic, submission, **options):
    result = grade([topic], submission=submission, options=run_options(**options),
                   replay_options={})
    return {c.id: c for _, c in result.checks()}, result


@pytest.mark.torch
@pytest.mark.parametrize("topic", TOPICS)
def test_solutions_full_marks_torch(topic):
    pytest.importorskip("torch")
    checks, result = _grade(topic, None, backend="torch")
    assert result.score == result.max_score > 0, [
        f"{k}: {c.message}" for k, c in checks.items() if not c.passed]


@pytest.mark.torch
def test_the_reference_as_a_submission_earns_full_marks_on_torch_through_the_worker(tmp_path):
    """The reference copied as a submission, graded on torch in the student's worker (not
    trusted like ``--solutions``): the residual block's BatchNorm1d swapped in as the reference
    sends its running statistics, torch tensors, across the process boundary and back. They
    were refused ("a Tensor, which cannot be sent to the grader"), on the CPU and on CUDA
    alike; a whole-course grade of the reference this way on torch is ``bench/gpu.sh grade``
    (docs/benchmarks.md)."""
    pytest.importorskip("torch")
    submission = edited_course(tmp_path, ("library", "cnn_text"))
    checks, result = _grade("cnn_text", submission, backend="torch",
                            questions=frozenset({"cnn_text.residual_block"}))
    assert result.score == result.max_score > 0, [
        f"{k}: {c.message}" for k, c in checks.items() if not c.passed]


@pytest.mark.parametrize("topic", TOPICS)
def test_released_stubs_score_zero_and_say_not_implemented(topic):
    checks, result = _grade(topic, EXERCISES)
    assert result.score == 0
    assert {c.status for c in checks.values()} == {"not_implemented"}


@pytest.mark.long
@pytest.mark.seeded
# rnn_variants: 1,027 s on the fresh-clone CI run (2 cores, xdist); cnn_text: about 2 min
@pytest.mark.timeout(2700)
@pytest.mark.parametrize("topic", TOPICS)
def test_every_planted_bug_is_caught_on_its_question_alone(topic):
    exercise = get_registry().get("exercise", topic)
    steps = verify([exercise], backends=[], stubs=False, strict=True)
    failed = [f"{s.name}: {s.detail}" for s in steps if not s.ok]
    assert not failed
    assert BASELINE_STEP in [s.name for s in steps]  # the solutions' full marks on NumPy
    assert len([s for s in steps if s.name.startswith("planted bug")]) == len(exercise.planted_bugs)
