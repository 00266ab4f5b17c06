"""Each topic's README says which earlier topics' questions it builds on (issue 62, item 11).

A topic whose checks require questions of other topics (its language model trains on
``neural_networks``' layers) runs the student's own copies of them; a README that does not say
so sends a student into a topic whose training checks fail for want of work they were never
told to finish (rnn_variants' did not; cnn_text's did). The READMEs are written by hand in
``solutions/<topic>/README.md`` and released as they are, so the rule is read from the
questions' requirements and checked against the text."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo_autograder.authoring.questions import closure, qualify, split
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise

ROOT = Path(__file__).resolve().parents[1]


def builds_on(topic: str) -> dict[str, set[str]]:
    """``{other topic: its questions}`` that ``topic``'s questions require, directly or not."""
    found: dict[str, set[str]] = {}
    for name in get_exercise(topic).questions:
        for required in closure(qualify(topic, name)):
            other, question = split(required)
            if other != topic:
                found.setdefault(other, set()).add(question)
    return found


@pytest.mark.parametrize("topic", [t for t in exercise_names()
                                   if (ROOT / "solutions" / t / "README.md").is_file()])
def test_a_readme_names_the_earlier_questions_its_topic_builds_on(topic):
    text = (ROOT / "solutions" / topic / "README.md").read_text()
    def named(word: str) -> bool:
        return f"`{word}`" in text or f"`{word}:" in text

    for other, questions in sorted(builds_on(topic).items()):
        assert named(other) or f"grade {other}" in text, (topic, other)
        missing = sorted(q for q in questions if not named(q) and not named(f"{other}.{q}"))
        assert not missing, f"{topic}/README.md does not name {other}'s {missing}"


def test_the_released_readme_is_the_solutions_one():
    """What the rule reads is what students get (``dojo release`` copies it)."""
    for topic in ("rnn_variants", "cnn_text", "language_models"):
        assert ((ROOT / "exercises" / topic / "README.md").read_text()
                == (ROOT / "solutions" / topic / "README.md").read_text())
