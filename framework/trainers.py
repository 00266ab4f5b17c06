"""Training commands: what a plugin registers so that ``dojo train NAME`` runs it.

A topic (or any plugin) owns its training code. It registers a :class:`Trainer` through the
``register_trainers`` hook, and the core's ``dojo train`` group (:mod:`nlpdojo.cli.train`)
lists the registered trainers and runs the one asked for. The core knows no trainer by name::

    from nlpdojo.hookspecs import hookimpl
    from nlpdojo.trainers import Trainer

    def train_tagger(epochs: Annotated[int, typer.Option(min=1, help="Passes.")] = 5) -> None:
        ...  # its parameters are the options, its docstring the help, of `dojo train tagger`

    @hookimpl
    def register_trainers(register):
        register("tagger", Trainer("tagger", "neural_networks", "Train the window tagger.",
                                   train_tagger))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Trainer:
    """One training command.

    :param name: what users type after ``dojo train`` (``"tagger"``); the name it is
        registered under.
    :param topic: the topic (exercise pack) whose code it trains (``"neural_networks"``).
    :param summary: one line for the ``dojo train`` listing.
    :param command: the command itself, a function typer turns into a CLI command: each
        parameter is an option (``Annotated[int, typer.Option(help=...)]``), its docstring the
        help of ``dojo train NAME --help``. It reports failure by raising
        :class:`nlpdojo.errors.NlpdojoError` (one ``error:`` line, exit code 2); the core adds
        that handling, the function need not. Keep heavy imports inside it: ``dojo`` start-up
        imports the module that defines it only when ``dojo train`` is used.
    :param models: optional, the kinds of model its ``--model`` chooses from (a registry of
        the training kit, ``nlpdojo_autograder.training.ModelRegistry``): ``dojo sample``
        finds a checkpoint's kind among them.
    """

    name: str
    topic: str
    summary: str
    command: Callable[..., Any]
    models: Any = None

    def __post_init__(self) -> None:
        if not self.topic or not self.topic.strip():
            raise ValueError(f"trainer {self.name!r}: topic must not be empty")
        if not self.summary.strip() or "\n" in self.summary.strip():
            raise ValueError(f"trainer {self.name!r}: summary must be one non-empty line, got "
                             f"{self.summary!r}")
        if not callable(self.command):
            raise TypeError(f"trainer {self.name!r}: command must be a function, got "
                            f"{type(self.command).__name__}")
