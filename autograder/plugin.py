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
    from nlpdojo_autograder.topics import neural_networks, word_vectors

    register(word_vectors.EXERCISE.name, word_vectors.EXERCISE)
    register(neural_networks.EXERCISE.name, neural_networks.EXERCISE)
