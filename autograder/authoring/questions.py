"""Question ids across topics, and what a check swaps in: computed from declared dependencies.

A question's full id is ``topic.question`` (``topic.softmax``): the key of reports, of
pytest markers and of ``grade`` arguments. Inside one topic's check module the bare id is
enough (``softmax``); a question of another topic is always written in full. On the command
line a bare id is accepted when exactly one topic has it; when two share it, the error lists
both full ids.

A question declares the questions it *requires* (``Exercise.requires``): a window classifier
requires the affine layer and softmax cross-entropy; a language model requires the LSTM cell.
A check swaps the reference in for everything its question requires, transitively, except
the question under test, so that one bug costs points once ("no double charge"), with the
check's own ``swap_in`` added (an extra, for a helper a check calls directly). Where the
student's code of a required question passed every one of its checks earlier in the same
grading, there is no mistake of it to keep out: the check runs the student's own code of it
(:func:`narrowed`), as a student release does, and calls no reference back for it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from nlpdojo.errors import NlpdojoError
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.authoring.checks import Check, Exercise


class QuestionError(NlpdojoError):
    """An unknown or ambiguous question id, or a dependency cycle (the message lists the
    candidates)."""


def qualify(topic: str, question: str) -> str:
    """``softmax`` of topic ``topic`` -> ``topic.softmax``; full ids unchanged."""
    return question if "." in question else f"{topic}.{question}"


def split(question: str) -> tuple[str, str]:
    """``topic.softmax`` -> ``("topic", "softmax")``."""
    topic, _, name = question.partition(".")
    if not name:
        raise QuestionError(f"{question!r} is not a full question id (topic.question)")
    return topic, name


def selected(question: str, selection: Collection[str]) -> bool:
    """Whether ``selection`` (topics and full question ids: ``grade``'s arguments, an
    assignment's targets) selects the full id ``question``: it is named, or its topic is."""
    return question in selection or question.split(".", 1)[0] in selection


def _registry_exercise(name: str) -> Exercise:
    return get_registry().get("exercise", name)


def requires(question: str, find: Callable[[str], Exercise] = _registry_exercise
             ) -> tuple[str, ...]:
    """The full ids ``question`` (a full id) declares it requires."""
    topic, name = split(question)
    try:
        exercise = find(topic)
    except Exception as exc:  # noqa: BLE001 - an unknown topic, said in the error
        raise QuestionError(f"{question} names topic {topic!r}, which is not registered") \
            from exc
    return tuple(qualify(topic, q) for q in exercise.requires.get(name, ()))


def closure(question: str, find: Callable[[str], Exercise] = _registry_exercise) -> set[str]:
    """Every question ``question`` requires, directly or not (a cycle is an error)."""
    seen: set[str] = set()
    path: list[str] = []

    def visit(q: str) -> None:
        if q in path:
            raise QuestionError("questions require each other in a cycle: "
                                + " -> ".join([*path[path.index(q):], q]))
        if q in seen:
            return
        path.append(q)
        for dep in requires(q, find):
            visit(dep)
        path.pop()
        seen.add(q)

    visit(question)
    seen.discard(question)
    return seen


def swap_in(exercise: Exercise, check: Check,
            find: Callable[[str], Exercise] | None = None) -> tuple[str, ...]:
    """The full ids whose reference replaces the student's during ``check``: what its question
    requires, transitively, plus the check's own ``swap_in``, minus the question under test
    and the check's ``own_code``."""
    def lookup(name: str) -> Exercise:
        if name == exercise.name:
            return exercise
        return (find or _registry_exercise)(name)

    under_test = qualify(exercise.name, check.question)
    wanted = closure(under_test, lookup) | {qualify(exercise.name, q) for q in check.swap_in}
    own = {qualify(exercise.name, q) for q in check.own_code}
    return tuple(sorted(wanted - own - {under_test}))


def narrowed(exercise: Exercise, swapped: Iterable[str], passed: Collection[str],
             find: Callable[[str], Exercise] | None = None) -> tuple[str, ...]:
    """``swapped`` (a check's :func:`swap_in`) less the questions in ``passed`` (full ids the
    student's code passed every check of, earlier in this grading), except those a question
    still swapped in needs, transitively (what it requires, and what its own checks swap in):
    the reference of a question that stays runs with the reference of what it calls, as it
    does in every grading (its process refuses code no check swaps in). A passed question
    that stays is run as the reference's; one left out runs as the student's own, which its
    checks found right."""
    def lookup(name: str) -> Exercise:
        if name == exercise.name:
            return exercise
        return (find or _registry_exercise)(name)

    def needs(question: str) -> set[str]:
        """What ``question``'s reference calls: what it requires and what its own checks swap
        in (``naive_softmax``'s checks swap ``softmax`` in without requiring it)."""
        topic, name = split(question)
        owner = lookup(topic)
        found = set(requires(question, lookup))
        for check in owner.checks:
            if check.question == name:
                found |= {qualify(topic, q) for q in check.swap_in}
        return found

    swapped = set(swapped)
    kept = {q for q in swapped if q not in passed}
    waiting = list(kept)
    while waiting:
        for needed in needs(waiting.pop()) & swapped:
            if needed not in kept:
                kept.add(needed)
                waiting.append(needed)
    return tuple(sorted(kept))


def resolve(argument: str, exercises: Iterable[Exercise]) -> str:
    """A question named on the command line as a full id; a bare id must be unambiguous."""
    owners = {e.name: e for e in exercises}
    if "." in argument:
        topic, name = split(argument)
        if topic in owners and name in _question_ids(owners[topic]):
            return argument
        raise QuestionError(f"unknown question {argument!r}")
    having = sorted(f"{t}.{argument}" for t, e in owners.items()
                    if argument in _question_ids(e))
    if len(having) == 1:
        return having[0]
    if len(having) > 1:
        raise QuestionError(f"question id {argument!r} is ambiguous: " + ", ".join(having)
                            + "; name one in full (topic.question)")
    raise QuestionError(f"unknown question {argument!r}")


def _question_ids(exercise: Exercise) -> set[str]:
    return set(exercise.questions) | {c.question for c in exercise.checks}
