"""The options every ``dojo train`` command shares, written once as typer annotations: the seed,
the backend and device, whose code trains (``--code``, ``--solutions``), where the result goes
(``--output``) and the progress bar. A topic's command declares its own options beside them::

    from nlpdojo_autograder.training import options

    Code = options.code("my_topic")

    def train_it(dim: Annotated[int, typer.Option(min=1, help="Vector size.")] = 100,
                 seed: options.Seed = 0, backend: options.Backend = None,
                 device: options.Device = None, code: Code = None,
                 solutions: options.Solutions = False,
                 output: options.output("Where to write the vectors") = "vectors.txt"):
        ...

(Where the module says ``from __future__ import annotations``, give ``options.output(...)``
and ``options.code(...)`` a name at module level first, as ``Code`` above: typer reads the
annotations by name.) The defaults stay in the command's signature, where ``--help`` shows
them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from nlpdojo_autograder.training.train import OUTPUT_RULE, solutions_installed

Seed = Annotated[int, typer.Option(help="Random seed (initialisation and the order of the "
                                        "examples).")]
Backend = Annotated[str | None, typer.Option(help="numpy or torch.")]
Device = Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1...")]
Progress = Annotated[bool, typer.Option(help="Show a progress bar on a terminal (--no-progress: "
                                             "none; piped or in a CI log there is none either).")]


def shown(progress: bool) -> bool:
    """Whether a training loop draws its bar: asked for, and stderr a terminal (a bar piped to
    a file or a CI log is a frame per refresh, not progress)."""
    return progress and sys.stderr.isatty()
#: listed in ``--help`` only where the reference solutions are installed (an instructor's
#: installation): elsewhere it can only fail
Solutions = Annotated[bool, typer.Option(
    "--solutions", help="Train the reference solutions instead of your code.",
    hidden=not solutions_installed())]


def code(topic: str, help_text: str | None = None) -> Any:
    """``--code``: the student's folder of ``topic`` (the default help says where it is
    looked for when the option is not given)."""
    return Annotated[Path | None, typer.Option(help=help_text or (
        f"Your {topic} folder, or the folder holding it (default: {topic} in ./exercises, "
        f"else ./{topic}, else the working folder if it is one)."))]


def output(what: str, default: str | None = None) -> Any:
    """``--output``: ``what`` is written there (a bare name goes to the outputs folder).
    ``default`` says in ``--help`` what an unset option (``None``) writes, for a command whose
    default depends on other options (``lm-MODEL.npz``: one checkpoint per model)."""
    if default is None:
        return Annotated[str, typer.Option(help=f"{what}: {OUTPUT_RULE}.")]
    return Annotated[str | None, typer.Option(
        help=f"{what} (default: {default}): {OUTPUT_RULE}.")]
