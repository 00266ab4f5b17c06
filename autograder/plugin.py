"""The autograder's plugin: its ``dojo`` commands and the built-in exercise packs."""

from __future__ import annotations

from nlpdojo.hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    from nlpdojo_autograder.commands import add_commands
    from nlpdojo_autograder.grading_commands import add_grading_commands
    from nlpdojo_autograder.train import add_train_commands

    add_commands(cli)
    add_grading_commands(cli)
    add_train_commands(cli)


@hookimpl
def register_exercises(register):
    from nlpdojo_autograder.topics.word_vectors import EXERCISE

    register(EXERCISE.name, EXERCISE)
