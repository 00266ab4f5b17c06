"""Registers the autograder's ``dojo`` commands (release, verify) and built-in exercise packs."""

from __future__ import annotations

from nlpdojo.hookspecs import hookimpl


@hookimpl
def register_commands(cli):
    from nlpdojo_autograder.commands import add_commands

    add_commands(cli)
