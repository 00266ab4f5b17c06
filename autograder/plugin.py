"""The autograder's plugin: its ``dojo`` commands, the built-in exercise packs and their
training commands (``dojo train word2vec``, ``dojo train tagger``, ``dojo train lm``,
``dojo train neural-lm``, a deprecated alias of ``dojo train lm --model window|rnn``) and
``dojo sample``."""

from __future__ import annotations

from nlpdojo.hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    from nlpdojo_autograder.commands import add_commands
    from nlpdojo_autograder.grading_commands import add_grading_commands
    from nlpdojo_autograder.notebook_commands import add_notebook_commands

    add_commands(cli)
    add_grading_commands(cli)
    add_notebook_commands(cli)

    from nlpdojo_autograder.topics.language_models_sample import add_sample_command

    add_sample_command(cli)  # dojo sample: text from a checkpoint of dojo train lm


@hookimpl
def register_exercises(register):
    from nlpdojo_autograder.topics import language_models

    register(language_models.EXERCISE.name, language_models.EXERCISE)


@hookimpl
def register_trainers(register):
    from nlpdojo_autograder.topics import (
        language_models_neural_train,
        language_models_train,
    )

    register(language_models_train.TRAINER.name, language_models_train.TRAINER)
    register(language_models_neural_train.TRAINER.name, language_models_neural_train.TRAINER)


@hookimpl
def check_notebook(notebook, questions, runs, backend, device, cache, show):
    from nlpdojo_autograder.notebook_check import check_notebook as run

    return run(notebook, questions, runs, backend=backend, device=device, cache=cache,
               show=show)
