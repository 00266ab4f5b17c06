"""The course as the grader sees it, as data: every registered exercise's questions, checks
(points, kinds, limits, swap-ins), planted bugs, requirements, data sets and fixtures (by
content hash), every trainer and the models topics add to other topics' trainers.
``catalogue.json`` beside this file is the record; test_catalogue.py fails on any difference,
so a change of layout (a topic moved into a folder of its own, an engine split into layers) is
proved to change none of it, and a deliberate change of the course is one reviewed diff:
``python -m tests.grading.catalogue --write``."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

RECORD = Path(__file__).with_name("catalogue.json")
BUILT_IN = ("word_vectors", "neural_networks", "language_models", "rnn_variants", "cnn_text")


def _check(check: Any) -> dict[str, Any]:
    return {"id": check.id, "title": check.title, "points": check.points, "kind": check.kind,
            "hidden": check.hidden, "needs_expected": check.needs_expected,
            "swap_in": list(check.swap_in), "own_code": list(check.own_code),
            "timeout_s": check.timeout_s, "budget": check.budget, "dtype": check.dtype,
            "shares": check.shares, "release_expected": check.release_expected,
            "stores_all": check.stored is None}


def _fixtures(folder: Path | None) -> dict[str, str]:
    if folder is None or not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            for p in sorted(folder.rglob("*")) if p.suffix in (".json", ".npz")}


def catalogue() -> dict[str, Any]:
    """The built-in exercises and every trainer, as JSON-able data."""
    from nlpdojo.plugins import get_registry
    from nlpdojo_autograder.grading.grade import exercise_names

    registry = get_registry()
    assert [n for n in exercise_names() if n in BUILT_IN] == list(BUILT_IN), exercise_names()
    exercises = {}
    for name in BUILT_IN:
        exercise = registry.get("exercise", name)
        exercises[name] = {
            "title": exercise.title,
            "reference": exercise.reference_package,
            "questions": dict(exercise.questions),
            # by id and name: the order of checks and bugs is presentation (reports list the
            # checks question by question), not what is graded
            "checks": sorted((_check(c) for c in exercise.checks), key=lambda c: c["id"]),
            "planted_bugs": sorted(({"name": b.name, "module": b.module, "find": b.find,
                                     "replace": b.replace, "question": b.question,
                                     "also": list(b.also)} for b in exercise.planted_bugs),
                                   key=lambda b: b["name"]),
            "given_modules": list(exercise.given_modules),
            "requires": {q: list(r) for q, r in sorted(exercise.requires.items())},
            "datasets": {q: list(d) for q, d in sorted(exercise.datasets.items())},
            "integrative": list(exercise.integrative),
            "fixtures": _fixtures(exercise.fixtures),
        }
    trainers = sorted(e.name for e in registry.entries("trainer"))
    # the models topics add to other topics' commands: "trainer --model name (plugin)"
    kinds = sorted(f"{e.meta.get('trainer')} --model {e.name} ({e.plugin})"
                   for e in registry.entries("model_kind"))
    return {"exercises": exercises, "trainers": trainers, "model_kinds": kinds}


if __name__ == "__main__":
    text = json.dumps(catalogue(), indent=1, sort_keys=True) + "\n"
    if "--write" in sys.argv:
        RECORD.write_text(text)
        print(f"wrote {RECORD}")
    else:
        sys.stdout.write(text)
