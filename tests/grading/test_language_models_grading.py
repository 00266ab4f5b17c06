"""The built-in topic ``language_models`` through the real grader: full marks for the
solutions (in the sandboxed worker), zero for the released stubs, every planted bug caught on
its question; the held-out check grades the whole pipeline on real text."""

from __future__ import annotations

import shutil
from pathlib import Path

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading import GradeOptions, grade
from nlpdojo_autograder.verify import verify

REPO = Path(__file__).resolve().parents[2]


def _grade(submission, **options):
    result = grade(["language_models"], submission=submission,
                   options=GradeOptions(**options), replay_options={})
    return {c.id: c for _, c in result.checks()}, result


def test_a_copy_of_the_solutions_gets_full_marks(tmp_path):
    folder = tmp_path / "language_models"
    shutil.copytree(REPO / "solutions" / "language_models", folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    checks, result = _grade(folder)
    assert result.score == result.max_score == 10, [
        f"{k}: {c.message}" for k, c in checks.items() if not c.passed]
    assert "heldout_perplexity.sotu" in checks


def test_released_stubs_score_zero(tmp_path):
    folder = tmp_path / "language_models"
    shutil.copytree(REPO / "exercises" / "language_models", folder)
    checks, result = _grade(folder)
    assert result.score == 0 and checks
    assert all(c.status == "not_implemented" for c in checks.values())


def test_a_loop_over_tokens_that_counts_cross_sentence_ngrams_fails_with_shapes(tmp_path):
    folder = tmp_path / "language_models"
    shutil.copytree(REPO / "solutions" / "language_models", folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / "ngrams.py"
    text = path.read_text()
    old = "return np.ascontiguousarray(windows[windows[:, -1] != bos], dtype=np.int64)"
    assert old in text
    path.write_text(text.replace(old, "return np.ascontiguousarray(windows, dtype=np.int64)"))
    checks, _ = _grade(folder)
    assert checks["ngram_counts.values"].score == 0
    assert "expected (" in checks["ngram_counts.values"].message
    assert checks["perplexity.values"].passed and checks["add_delta.values"].passed


def test_every_planted_bug_is_caught_on_its_question():
    exercise = get_registry().get("exercise", "language_models")
    steps = verify([exercise], backends=[("numpy", "cpu")])
    failed = [f"{s.name}: {s.detail}" for s in steps if not s.ok]
    assert not failed
    assert len([s for s in steps if s.name.startswith("planted bug")]) == len(
        exercise.planted_bugs)
