"""Question ids as pytest markers: `pytest exercises -m softmax` runs one question's checks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """A student's ``pytest`` in ``folder``; without hypothesis's plugin, which a student's
    environment lacks (here it imports hypothesis at every run's end: ~0.6 CPU-s)."""
    return subprocess.run([sys.executable, "-m", "pytest", str(folder), "-p", "no:cacheprovider",
                           "-p", "no:hypothesispytest", "-q", *args],
                          capture_output=True, text=True, cwd=folder, timeout=300)


def test_marker_selects_one_question_and_reports_verdicts(tmp_path):
    done = tmp_path / "done"
    shutil.copytree(REPO / "exercises", done)
    shutil.rmtree(done / "word_vectors")
    shutil.copytree(REPO / "solutions" / "word_vectors", done / "word_vectors")
    ok = _pytest(done, "-m", "softmax or word_vectors.sgd")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "6 passed" in ok.stdout  # softmax: values, stability, hidden; sgd: 3 checks

    stubs = tmp_path / "stubs"
    shutil.copytree(REPO / "exercises", stubs)
    failed = _pytest(stubs, "-m", "softmax")
    assert failed.returncode == 1
    assert "not_implemented: softmax: not implemented yet" in failed.stdout
    assert "Traceback" not in failed.stdout
