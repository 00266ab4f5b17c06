"""Fixtures: the reference's outputs for the public checks, shipped with a student release.

``dojo release`` runs the reference through every public check that needs expected values
(seed 0, the quick budget, NumPy float64) and stores each outcome as ``<check id>.json`` and
``<check id>.npz`` (arrays, no pickle) in the exercise's fixtures folder, where the grader
finds them when the solutions are absent.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from nlpdojo_autograder.checks import Exercise
from nlpdojo_autograder.runner import read_outcome, run_checks


def fixture_checks(exercise: Exercise) -> list:
    return [c for c in exercise.checks if c.needs_expected and not c.hidden]


def generate(exercise: Exercise, dest: Path) -> list[str]:
    """Run the reference and write fixtures into ``dest`` (replacing its contents atomically).
    Returns the check ids written. Raises when the reference fails a check."""
    from nlpdojo_autograder.grading import question_functions

    checks = fixture_checks(exercise)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        outcomes = run_checks(exercise, checks, topic_folder=None, backend="numpy",
                              device="cpu", seed=0, keep_dir=staging,
                              question_functions=question_functions(exercise))
        broken = {cid: o for cid, o in outcomes.items() if o.status != "ok"}
        if broken:
            lines = "; ".join(f"{cid}: {o.status} {o.message}" for cid, o in broken.items())
            raise RuntimeError(f"the reference fails its own checks: {lines}")
        for stale in staging.glob("*.tmp"):
            stale.unlink()
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return [c.id for c in checks]


def differences(exercise: Exercise, stored: Path) -> list[str]:
    """Check ids whose stored fixture differs from what the reference produces now."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh"
        generate(exercise, fresh)
        problems = []
        for check in fixture_checks(exercise):
            new, old_path = read_outcome(fresh / f"{check.id}.json"), stored / f"{check.id}.json"
            if not old_path.exists():
                problems.append(f"{check.id}: missing")
                continue
            old = read_outcome(old_path)
            # Training (metric checks) may differ in the last bits between CPUs: compare loosely.
            rtol = 1e-3 if check.kind == "metric" else 1e-9
            if set(new.payload) != set(old.payload) or not all(
                    _same(new.payload[k], old.payload[k], rtol) for k in new.payload):
                problems.append(f"{check.id}: values differ")
        extra = {p.stem for p in stored.glob("*.json")} - {c.id for c in fixture_checks(exercise)}
        problems += [f"{cid}: stale fixture" for cid in sorted(extra)]
        return problems


def _same(a: object, b: object, rtol: float) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and bool(
            np.allclose(a, b, rtol=rtol, atol=1e-12, equal_nan=True)
            if np.issubdtype(a.dtype, np.floating) else np.array_equal(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= rtol * max(1.0, abs(b)) or (a != a and b != b)
    return a == b
