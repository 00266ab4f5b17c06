"""pytest integration: question ids are pytest markers, and checks run as tests.

Loaded in every pytest run of the environment (entry point ``pytest11``). It registers a
marker per question id of every registered exercise, and the session fixture
``nlpdojo_grade``, which grades a topic folder once and returns its results by check id. The
test module ``dojo release`` writes next to the topics (``exercises/test_<topic>.py``) turns
each check into a test marked with its question, so that, like minitorch's tasks::

    pytest exercises -m softmax          # the checks of one question
    pytest exercises/test_word_vectors.py  # a whole topic (the same verdicts as `grade`)

Only the selected questions are graded. pytest comes in through the same door as ``grade``
(:func:`nlpdojo_autograder.grading.grade.grade`): the topic folder (and the ``library/`` beside it)
is graded from a private snapshot, so a link out of it, a pipe or a device is refused before
anything is read, and with the same seeds policy, fresh input seeds wherever the reference is
installed (:func:`.grade_options.default_input_seed`), on the backend ``grade`` picks
(``NLPDOJO_BACKEND``, the config, numpy). The terminal summary says what was graded, with which
seeds, and what was left out.
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


#: what the session graded, for its terminal summary: one line per topic folder
_GRADED = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def nlpdojo_grade(request: pytest.FixtureRequest):
    """``grade(topic, folder) -> {check id: CheckResult}``, graded once per session, for the
    questions of the selected tests only, through ``grade``'s door: a snapshot of ``folder``
    (never the live folder), the input seed ``grade`` would draw. A submission the snapshot
    refuses fails every test of the topic with the reason."""
    cache: dict[tuple[str, Path], dict[str, Any] | str] = {}
    graded = request.config.stash.setdefault(_GRADED, [])

    def run(topic: str, folder: Path) -> dict[str, Any]:
        key = (topic, Path(folder).absolute())
        if key not in cache:
            cache[key] = _grade(topic, Path(folder), _selected(request, topic), graded)
        found = cache[key]
        if isinstance(found, str):
            pytest.fail(found, pytrace=False)
        return found

    return run


def _selected(request: pytest.FixtureRequest, topic: str) -> frozenset[str] | None:
    """The full ids of the questions whose tests this session runs (``None``: all)."""
    from nlpdojo_autograder.grading.grade import get_exercise

    owner = {c.id: c.question for c in get_exercise(topic).checks}
    selected = {owner[item.callspec.id] for item in request.session.items
                if getattr(item, "callspec", None) is not None and item.callspec.id in owner}
    return frozenset(f"{topic}.{q}" for q in selected) or None


def _grade(topic: str, folder: Path, questions: frozenset[str] | None, graded: list[str]
           ) -> dict[str, Any] | str:
    """``{check id: CheckResult}`` of ``folder`` graded as ``grade TOPIC --submission FOLDER``
    grades it, or the one-line reason it could not be graded. ``folder`` is passed as given,
    never resolved: a topic folder that is a link must meet the snapshot's refusal."""
    from nlpdojo.errors import NlpdojoError
    from nlpdojo_autograder.cli.grade import resolve_backend
    from nlpdojo_autograder.cli.grade_options import default_input_seed
    from nlpdojo_autograder.grading.grade import GradeOptions, grade

    try:
        backend, device = resolve_backend(None, None)
        options = GradeOptions(backend=backend, device=device, questions=questions,
                               input_seed=default_input_seed([topic]))
        result = grade([topic], submission=folder, options=options,
                       replay_options={"submission": str(folder)})
    except (NlpdojoError, OSError) as exc:
        graded.append(f"{folder}: not graded: {exc}")
        return f"not graded: {exc}"
    seeds = ", ".join(f"{k}={v}" for k, v in sorted(result.seeds.items()))
    fresh = " (fresh inputs: the reference is installed)" if "inputs" in result.seeds else ""
    graded.append(f"{folder}: graded from a private snapshot (sha256 "
                  f"{result.submission_sha256[:12]}), seeds {seeds}{fresh}, backend "
                  f"{result.backend}, isolation {result.isolation or '-'}")
    graded += [f"{folder}: warning: {w}" for w in result.warnings]
    return {c.id: c for e in result.exercises for c in e.checks}


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config
                            ) -> None:
    """Say what the nlpdojo tests graded and how (only in sessions that graded something)."""
    lines = config.stash.get(_GRADED, [])
    if not lines:
        return
    terminalreporter.section("nlpdojo: graded as `grade` grades (snapshot, seeds)")
    for line in lines:
        terminalreporter.write_line(line)


def run_check(grade: Any, topic: str, folder: Path, check_id: str) -> None:
    """Fail (without a traceback into the grader) unless the check passed."""
    result = grade(topic, folder).get(check_id)
    if result is None:
        pytest.skip(f"{check_id} is hidden: it runs only where the solutions are installed")
    if result.details.get("skipped"):  # not run: its data set is not fetched here
        pytest.skip(f"{check_id}: {result.message}")
    if result.status != "passed":
        pytest.fail(f"{result.status}: {result.message}", pytrace=False)
