"""pytest integration: question ids are pytest markers, and checks run as tests.

Loaded in every pytest run of the environment (entry point ``pytest11``). It registers a
marker per question id of every registered exercise, and the session fixture
``nlpdojo_grade``, which grades a topic folder once and returns its results by check id. The
test module ``dojo release`` writes next to the topics (``exercises/test_<topic>.py``) turns
each check into a test marked with its question, so that, like minitorch's tasks::

    pytest exercises -m softmax          # the checks of one question
    pytest exercises/test_word_vectors.py  # a whole topic (the same verdicts as `grade`)

Only the selected questions are graded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _exercises() -> dict[str, Any]:
    from nlpdojo.plugins import get_registry

    return {e.name: e.obj for e in get_registry().entries("exercise")}


def pytest_configure(config: pytest.Config) -> None:
    try:
        exercises = _exercises()
    except Exception:  # noqa: BLE001 - a broken plugin must not break unrelated test runs
        return
    for marker, (topic, question) in _markers(exercises).items():
        config.addinivalue_line(
            "markers", f"{marker}: the checks of question {topic}.{question}")


def _markers(exercises: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Marker name -> (topic, question): the full id ``topic.question`` always, the bare id
    too where no other topic has a question of that name."""
    owners: dict[str, list[str]] = {}
    for exercise in exercises.values():
        for question in {c.question for c in exercise.checks}:
            owners.setdefault(question, []).append(exercise.name)
    markers = {}
    for question, topics in sorted(owners.items()):
        for topic in topics:
            markers[f"{topic}.{question}"] = (topic, question)
        if len(topics) == 1:
            markers[question] = (topics[0], question)
    return markers


def check_params(topic: str) -> list[Any]:
    """One ``pytest.param`` per check of ``topic``, marked with its question's full id (and its
    bare id where no other topic shares it)."""
    exercises = _exercises()
    markers = _markers(exercises)
    params = []
    for check in exercises[topic].checks:
        names = [f"{topic}.{check.question}"]
        if markers.get(check.question) == (topic, check.question):
            names.append(check.question)
        params.append(pytest.param(check.id, marks=[getattr(pytest.mark, n) for n in names],
                                   id=check.id))
    return params


@pytest.fixture(scope="session")
def nlpdojo_grade(request: pytest.FixtureRequest):
    """``grade(topic, folder) -> {check id: CheckResult}``, graded once per session, for the
    questions of the selected tests only."""
    from nlpdojo_autograder.grading import GradeOptions, get_exercise, grade_exercise

    cache: dict[tuple[str, Path], dict[str, Any]] = {}

    def run(topic: str, folder: Path) -> dict[str, Any]:
        key = (topic, Path(folder).resolve())
        if key not in cache:
            exercise = get_exercise(topic)
            owner = {c.id: c.question for c in exercise.checks}
            selected = {owner[item.callspec.id] for item in request.session.items
                        if getattr(item, "callspec", None) is not None
                        and item.callspec.id in owner}
            options = GradeOptions(questions=frozenset(f"{topic}.{q}" for q in selected)
                                   or None)
            result = grade_exercise(exercise, key[1], options)
            cache[key] = {c.id: c for c in result.checks}
        return cache[key]

    return run


def run_check(grade: Any, topic: str, folder: Path, check_id: str) -> None:
    """Fail (without a traceback into the grader) unless the check passed."""
    result = grade(topic, folder).get(check_id)
    if result is None:
        pytest.skip(f"{check_id} is hidden: it runs only where the solutions are installed")
    if result.status != "passed":
        pytest.fail(f"{result.status}: {result.message}", pytrace=False)
