"""Question ids across topics and dependencies (nlpdojo_autograder.authoring.questions)."""

from __future__ import annotations

import pytest

from nlpdojo_autograder.authoring.checks import Exercise
from nlpdojo_autograder.authoring.kinds import value_check
from nlpdojo_autograder.authoring.questions import QuestionError, closure, qualify, resolve, swap_in


def _exercise(name: str, questions: list[str], requires=None) -> Exercise:
    checks = [value_check("values", q, 1.0, lambda ctx: {}, question=q) for q in questions]
    return Exercise(name=name, title=name, checks=checks,
                    questions={q: q for q in questions}, requires=requires or {})


def test_a_bare_id_two_topics_share_is_an_error_listing_both():
    one, two = _exercise("word_vectors", ["softmax"]), _exercise("language_models", ["softmax"])
    with pytest.raises(QuestionError) as err:
        resolve("softmax", [one, two])
    assert "word_vectors.softmax" in str(err.value) and "language_models.softmax" in str(err.value)
    assert resolve("language_models.softmax", [one, two]) == "language_models.softmax"


def test_unique_bare_ids_resolve_and_unknown_ones_are_errors():
    one = _exercise("word_vectors", ["softmax", "sgd"])
    assert resolve("sgd", [one]) == "word_vectors.sgd"
    with pytest.raises(QuestionError, match="unknown"):
        resolve("adam", [one])
    assert qualify("t", "q") == "t.q" and qualify("t", "u.q") == "u.q"


def test_requirements_are_transitive_and_cycles_are_errors():
    lib = _exercise("nn", ["affine", "mlp"], {"mlp": ("affine",)})
    lm = _exercise("lm", ["rnn", "model"], {"rnn": ("nn.mlp",), "model": ("rnn",)})
    find = {"nn": lib, "lm": lm}.__getitem__
    assert closure("lm.model", find) == {"lm.rnn", "nn.mlp", "nn.affine"}
    assert swap_in(lm, lm.check("model.values"), find) == ("lm.rnn", "nn.affine", "nn.mlp")
    assert swap_in(lib, lib.check("affine.values"), find) == ()
    looped = _exercise("x", ["a", "b"], {"a": ("b",), "b": ("a",)})
    with pytest.raises(QuestionError, match="cycle"):
        closure("x.a", {"x": looped}.__getitem__)
