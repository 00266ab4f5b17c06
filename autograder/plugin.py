"""The autograder's plugin: its ``dojo`` commands and the notebook check. It names no topic:
the built-in course's topics, their training commands and ``dojo sample`` are the plugins of
their own folders (``course/<topic>/``, brought by the course plugin, :mod:`nlpdojo_course`)."""

from __future__ import annotations

from nlpdojo.hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    from nlpdojo_autograder.cli.commands import add_commands
    from nlpdojo_autograder.cli.draws_command import add_draws_command
    from nlpdojo_autograder.cli.grading_commands import add_grading_commands
    from nlpdojo_autograder.cli.notebook_commands import add_notebook_commands
    from nlpdojo_autograder.cli.similarity_command import add_similarity_command
    from nlpdojo_autograder.course.cli import add_course_commands

    add_commands(cli)
    add_grading_commands(cli)
    add_notebook_commands(cli)
    add_course_commands(cli)
    add_similarity_command(cli)
    add_draws_command(cli)


@hookimpl
def check_notebook(notebook, questions, runs, backend, device, cache, show):
    from nlpdojo_autograder.release.notebook_check import check_notebook as run

    return run(notebook, questions, runs, backend=backend, device=device, cache=cache,
               show=show)
