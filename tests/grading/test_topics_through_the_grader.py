"""The topics ``rnn_variants`` and ``cnn_text`` through the real grader: full marks for the
solutions on NumPy and torch (the costliest training runs on torch in the slow runs only), zero
for the released stubs, and every planted bug caught on its own question (``dojo verify
--strict``), in the sandboxed worker where bubblewrap is present.
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
from tests.grading.courses import edited_course, run_options, slow_only, trained_questions

#: the course's own topics: the reference's expected outcomes are shared (tests/conftest.py)
pytestmark = pytest.mark.shared_expected

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"
TOPICS = ("rnn_variants", "cnn_text")


def _grade(topic, submission, **options):
    result = grade([topic], submission=submission, options=run_options(**options),
                   replay_options={})
    return {c.id: c for _, c in result.checks()}, result


#: the trained questions whose run on torch costs most (on the CPU torch's small operations cost
#: 2-4x NumPy's: docs/benchmarks.md): graded on torch in the slow runs only (below), 93 of the
#: torch tests' 133 s in make test (2026-12-05, AMD EPYC). Each topic keeps one trained question
#: on torch in every run: cnn_text's char_tagging, rnn_variants' none (its two train the
#: LSTM; the sentence loop they share is cnn_text's Kim CNN's and char tagger's, and the
#: LSTM's torch forward and backward are tests/rnn_variants' parity tests)
SLOW_ON_TORCH = {"rnn_variants": ("bilstm_polarity", "lstm_lm_perplexity"),
                 "cnn_text": ("kim_polarity",)}


def _on_torch(topic: str, slow: bool) -> frozenset[str]:
    """The questions of ``topic`` graded on torch in every run (``slow`` False) or in the slow
    runs only (True)."""
    return trained_questions(topic, SLOW_ON_TORCH[topic], in_slow=slow)


@pytest.mark.torch
@pytest.mark.parametrize("topic", TOPICS)
def test_solutions_full_marks_torch(topic):
    """Every question on torch but :data:`SLOW_ON_TORCH`'s (the test below)."""
    pytest.importorskip("torch")
    checks, result = _grade(topic, None, backend="torch", questions=_on_torch(topic, False))
    assert result.score == result.max_score > 0, [
        f"{k}: {c.message}" for k, c in checks.items() if not c.passed]
    assert {c.question for c in checks.values()} == {
        q.split(".", 1)[1] for q in _on_torch(topic, False)}


@pytest.mark.torch
@pytest.mark.seeded  # the trained metrics' held-out draws
@pytest.mark.slow
@pytest.mark.timeout(1200)
@slow_only("a minute and a half")
@pytest.mark.parametrize("topic", TOPICS)
def test_the_costliest_training_runs_earn_full_marks_on_torch(topic):
    pytest.importorskip("torch")
    checks, result = _grade(topic, None, backend="torch", questions=_on_torch(topic, True))
    assert result.score == result.max_score > 0, [
        f"{k}: {c.message}" for k, c in checks.items() if not c.passed]
    assert {c.kind for c in checks.values()} >= {"metric"}


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
