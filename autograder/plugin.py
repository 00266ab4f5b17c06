"""The autograder's plugin: its ``dojo`` commands, the built-in exercise packs and their
training commands (``dojo train word2vec``)."""

from __future__ import annotations

from nlpdojo.hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    from nlpdojo_autograder.commands import add_commands
    from nlpdojo_autograder.grading_commands import add_grading_commands

    add_commands(cli)
    add_grading_commands(cli)


@hookimpl
def register_exercises(register):
    from nlpdojo_autograder.topics import language_models, neural_networks, word_vectors

    register(word_vectors.EXERCISE.name, word_vectors.EXERCISE)
    register(neural_networks.EXERCISE.name, neural_networks.EXERCISE)
    register(language_models.EXERCISE.name, language_models.EXERCISE)


@hookimpl
def register_trainers(register):
    from nlpdojo_autograder.topics.word_vectors_train import TRAINER

    register(TRAINER.name, TRAINER)
