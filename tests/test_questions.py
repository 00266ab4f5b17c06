"""Question ids across topics and dependencies (nlpdojo_autograder.authoring.questions)."""

from __future__ import annotations

import pytest

from nlpdojo_autograder.authoring.checks import Exercise
from nlpdojo_autograder.authoring.kinds import value_check
from nlpdojo_autograder.authoring.questions import (
    QuestionError,
    closure,
    narrowed,
    qualify,
    resolve,
    swap_in,
)


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


def test_a_passed_requirement_leaves_the_swap_unless_a_swapped_one_needs_it():
    """``narrowed``: a question the submission passed runs as its own code, except where a
    question still swapped in requires it (the reference's code runs with the reference's)."""
    lib = _exercise("nn", ["affine", "mlp"], {"mlp": ("affine",)})
    lm = _exercise("lm", ["rnn", "model"], {"rnn": ("nn.mlp",), "model": ("rnn",)})
    find = {"nn": lib, "lm": lm}.__getitem__
    swapped = swap_in(lm, lm.check("model.values"), find)  # lm.rnn, nn.affine, nn.mlp
    assert narrowed(lm, swapped, set(), find) == swapped
    assert narrowed(lm, swapped, {"lm.rnn", "nn.mlp", "nn.affine"}, find) == ()
    # rnn passed, the library failed: the library's reference stands in under the own rnn
    assert narrowed(lm, swapped, {"lm.rnn"}, find) == ("nn.affine", "nn.mlp")
    # the library passed, rnn failed: rnn's reference runs, and with it the library's
    assert narrowed(lm, swapped, {"nn.mlp", "nn.affine"}, find) == swapped
    # mlp failed, affine passed: mlp's reference needs affine's
    assert narrowed(lm, swapped, {"lm.rnn", "nn.affine"}, find) == ("nn.affine", "nn.mlp")
    # what a check does not swap in is never added
    assert narrowed(lm, ("lm.rnn",), set(), find) == ("lm.rnn",)


def test_a_swapped_question_keeps_what_its_own_checks_swap_in():
    """naive_softmax's checks swap softmax in without requiring it: where naive_softmax stays
    swapped in (it failed), its reference needs the reference's softmax, passed or not."""
    checks = [value_check("values", "softmax", 1.0, lambda ctx: {}, question="softmax"),
              value_check("values", "naive", 1.0, lambda ctx: {}, question="naive",
                          swap_in=("softmax",)),
              value_check("values", "skipgram", 1.0, lambda ctx: {}, question="skipgram",
                          swap_in=("naive", "softmax"))]
    wv = Exercise(name="wv", title="wv", checks=checks,
                  questions={"softmax": "s", "naive": "n", "skipgram": "k"})
    find = {"wv": wv}.__getitem__
    swapped = ("wv.naive", "wv.softmax")
    assert narrowed(wv, swapped, {"wv.softmax"}, find) == swapped
    assert narrowed(wv, swapped, {"wv.naive"}, find) == ("wv.softmax",)
    assert narrowed(wv, swapped, {"wv.naive", "wv.softmax"}, find) == ()
