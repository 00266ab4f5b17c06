"""What a check withholds of the questions it swaps in: the required functions that the
reference of the question under test never reaches (autograder/authoring/reach.py), read from
the reference's source; the reference process refuses them too."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.authoring.questions import qualify, swap_in
from nlpdojo_autograder.authoring.reach import reference_reach, withheld
from nlpdojo_autograder.grading.grade import question_functions
from nlpdojo_autograder.runtime.callbacks import SwapScope

REPO = Path(__file__).resolve().parents[2]
TOPICS = ("word_vectors", "neural_networks", "language_models", "rnn_variants", "cnn_text")


def _course_withheld() -> dict[str, tuple[tuple[str, str], ...]]:
    """Every check of the course with what it withholds (those withholding anything)."""
    found = {}
    for topic in TOPICS:
        exercise = get_registry().get("exercise", topic)
        reach = reference_reach([(REPO / "solutions" / topic, ""),
                                 (REPO / "solutions" / "library", "..library.")])
        qf = question_functions(exercise)
        for check in exercise.checks:
            kept = withheld(reach, qf, qualify(topic, check.question), swap_in(exercise, check),
                            exercise.given_modules,
                            declared={qualify(topic, q) for q in check.swap_in})
            if kept:
                found[f"{topic}.{check.id}"] = kept
    return found


def test_the_course_withholds_only_what_no_reference_of_the_question_calls():
    """Kneser-Ney's checks withhold backoff's absolute discounting (the attack's way in) and
    the counts (the check makes them itself, through the reference in the grader); the
    layers' checks withhold nothing: a cell's constructor calls xavier_uniform, a class the
    question's module builds reaches it, the given modules reach the rest."""
    found = _course_withheld()
    kneser_ney = {k: v for k, v in found.items() if ".kneser_ney." in k}
    assert set(kneser_ney) == {f"language_models.kneser_ney.{n}" for n in
                               ("continuation", "values", "sums_to_one", "sotu")}
    for kept in kneser_ney.values():
        assert {("backoff", "absolute_discount_log_probs"),
                ("backoff", "everygram_counts")} <= set(kept)
        assert ("ngrams", "ngram_keys") not in kept  # the reference's Kneser-Ney calls it
    assert {k.split(".")[0] for k in found} == {"language_models"}
    assert all(".add_delta." in k or ".backoff." in k or ".kneser_ney." in k for k in found)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_reach_follows_imports_re_exports_and_class_bodies(tmp_path):
    topic, library = tmp_path / "topic", tmp_path / "library"
    _write(topic, {
        "__init__.py": "",
        "model.py": ("from ..library import Dense\nfrom . import helpers\n"
                     "from .helpers import ignored as renamed\n"
                     "def answer(x):\n    return helpers.scale(Dense(renamed(x)))\n"),
        "helpers.py": ("from ..library.ops import double\n"
                       "def scale(x):\n    return double(x)\n"
                       "def ignored(x):\n    return x\n"),
    })
    _write(library, {
        "__init__.py": "from nlpdojo.exports import reexport\n",
        "layers.py": ("from .init import glorot\n__all__ = ['Dense']\n"
                      "class Dense:\n    def __init__(self, x):\n        self.w = glorot(x)\n"),
        "init.py": "__all__ = ['glorot']\ndef glorot(x):\n    return x\n",
        "ops.py": ("__all__ = ['double', 'triple']\n"
                   "def double(x):\n    return 2 * x\ndef triple(x):\n    return 3 * x\n"),
    })
    reach = reference_reach([(topic, ""), (library, "..library.")])
    reached = reach.of_module("model")
    # a re-export of the library's __all__, a module imported from the package, an alias;
    # through the class's body (its constructor) and the helper's, transitively
    assert {("..library.layers", "Dense"), ("helpers", "scale"), ("..library.ops", "double"),
            ("..library.init", "glorot"), ("helpers", "ignored")} <= reached
    assert ("..library.ops", "triple") not in reached
    assert set(reach.definitions["..library.layers:Dense"]) == {
        ("..library.init", "glorot"), ("..library.layers", "Dense")}
    qf = {"t.answer": [("model", "answer")], "t.ops": [("..library.ops", "double"),
                                                       ("..library.ops", "triple")]}
    assert withheld(reach, qf, "t.answer", ("t.ops",)) == (("..library.ops", "triple"),)
    # named in the check's own swap_in: swapped in whole
    assert withheld(reach, qf, "t.answer", ("t.ops",), declared={"t.ops"}) == ()


def test_a_required_function_in_the_questions_own_file_is_reached_only_where_used(tmp_path):
    """A module that holds two questions is read without the other question's functions: what
    only they refer to is not reached (add_delta shares ngrams.py with the counts question)."""
    _write(tmp_path / "topic", {"ngrams.py": (
        "def keys(x):\n    return x\n"
        "def windows(x):\n    return keys(x)\n"
        "def counts(x):\n    return windows(x)\n"
        "def smoothed(x):\n    return keys(x)\n")})
    reach = reference_reach([(tmp_path / "topic", "")])
    qf = {"t.counts": [("ngrams", "keys"), ("ngrams", "windows"), ("ngrams", "counts")],
          "t.smoothed": [("ngrams", "smoothed")]}
    assert withheld(reach, qf, "t.smoothed", ("t.counts",)) == (
        ("ngrams", "counts"), ("ngrams", "windows"))


def test_the_reference_process_refuses_and_blocks_a_withheld_function():
    qf = {"lm.backoff": [("backoff", "everygram_counts"),
                         ("backoff", "absolute_discount_log_probs")],
          "lm.kneser_ney": [("kneser_ney", "kneser_ney_log_probs")]}
    scope = SwapScope.of(("lm.backoff",), qf, {"backoff": ["context_totals"]},
                         withheld=[("backoff", "absolute_discount_log_probs")])
    call = {"module": "backoff", "name": "absolute_discount_log_probs", "args": (),
            "kwargs": {}}
    assert "is not swapped in for this check" in scope.refusal(call)
    assert scope.refusal({**call, "name": "everygram_counts"}) is None
    assert ("backoff", "absolute_discount_log_probs", "lm.backoff") in scope.blocked
    assert ("backoff", "everygram_counts", "lm.backoff") not in scope.blocked


@pytest.mark.parametrize("name", ["model.py"])
def test_a_module_that_does_not_parse_reaches_nothing(tmp_path, name):
    _write(tmp_path / "topic", {name: "def broken(:\n"})
    reach = reference_reach([(tmp_path / "topic", "")])
    assert reach.rest == {} and reach.definitions == {}
