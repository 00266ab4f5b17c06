"""Nothing of the course changes unnoticed: the registered exercises (questions, checks,
points, planted bugs, requirements, data sets, fixtures) and trainers equal the record in
catalogue.json (see catalogue.py for how to update it on purpose)."""

from __future__ import annotations

import json

from tests.grading.catalogue import RECORD, catalogue


def test_the_course_is_what_the_record_says():
    now = json.loads(json.dumps(catalogue()))
    record = json.loads(RECORD.read_text())
    for name in sorted(set(now["exercises"]) | set(record["exercises"])):
        got, want = now["exercises"].get(name), record["exercises"].get(name)
        assert got is not None and want is not None, (
            f"exercise {name}: registered {got is not None}, recorded {want is not None}")
        for key in sorted(set(got) | set(want)):
            assert got.get(key) == want.get(key), f"{name}.{key} differs from catalogue.json"
    assert now["trainers"] == record["trainers"]
    assert now["model_kinds"] == record["model_kinds"]
