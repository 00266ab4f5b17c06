"""The options every ``dojo train`` command shares (``nlpdojo_autograder.training.options``):
each registered training command offers them, with one help text, and ``--solutions`` is
listed exactly where the reference solutions are installed."""

from __future__ import annotations

import re

import pytest

from nlpdojo.cli.train import trainer_entries
from nlpdojo_autograder.training import options, solutions_installed
from tests._cli import dojo, forget_student_packages  # noqa: F401 - the fixture

TRAINERS = ("word2vec", "tagger", "lm", "neural-lm", "polarity")


def _help(trainer: str) -> str:
    result = dojo("train", trainer, "--help")
    assert result.exit_code == 0, result.output
    return re.sub(r"[│╭╮╰╯─\s]+", " ", result.output)  # the box and the wrapping gone


def test_every_trainer_of_the_course_is_covered():
    assert set(TRAINERS) <= {e.name for e in trainer_entries()}


@pytest.mark.parametrize("trainer", TRAINERS)
def test_every_training_command_offers_the_shared_options(trainer):
    shown = _help(trainer)
    for option in ("--seed", "--backend", "--device", "--code", "--output"):
        assert option in shown, f"dojo train {trainer} has no {option}"
    # --output's help says where a bare name goes (the kit's one rule)
    assert "a bare file name goes to the outputs folder" in shown
    assert ("--solutions" in shown) == solutions_installed()


def test_the_code_option_names_the_topics_folder():
    info = options.code("my_topic").__metadata__[0]
    assert "my_topic in ./exercises" in info.help
    assert options.code("my_topic", "Where it is.").__metadata__[0].help == "Where it is."
    assert options.output("The vectors").__metadata__[0].help.startswith("The vectors: a bare")


def test_solutions_is_hidden_unless_the_reference_is_installed():
    assert options.Solutions.__metadata__[0].hidden is (not solutions_installed())
