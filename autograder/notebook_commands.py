"""``dojo notebook [TOPIC]``: open a topic's notebook (or all of ``exercises/``) in JupyterLab.

JupyterLab is an optional extra (``pip install "nlpdojo[notebook]"``): without it the command
says so and which command installs it, and exits 2. The notebook found for ``TOPIC``:
``exercises/<topic>/<topic>.ipynb`` from the folder that holds ``exercises/``, or
``<topic>/<topic>.ipynb`` from inside it, or ``<topic>.ipynb`` from inside the topic's folder.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from nlpdojo.cli.common import console, report_errors
from nlpdojo.errors import NlpdojoError

INSTALL_HINT = ('pip install "nlpdojo[notebook]" (or: pip install jupyterlab), in the '
                "environment where nlpdojo is installed")


class NotebookCommandError(NlpdojoError):
    """``dojo notebook`` cannot open what was asked."""


def find_target(topic: str | None, here: Path) -> Path:
    """The notebook of ``topic``, or the folder of all notebooks (``exercises/``) without one."""
    if topic is None:
        for folder in (here / "exercises", here):
            if any(folder.glob("*/*.ipynb")) or any(folder.glob("*.ipynb")):
                return folder
        raise NotebookCommandError(f"no exercises/ folder with notebooks in {here}: run `dojo "
                                   "notebook` from the folder that holds exercises/, or name a "
                                   "topic: dojo notebook word_vectors")
    name = f"{topic}.ipynb"
    for path in (here / "exercises" / topic / name, here / topic / name, here / name):
        if path.is_file():
            return path
    found = sorted(p.stem for p in (here / "exercises").glob("*/*.ipynb"))
    known = f" (notebooks here: {', '.join(found)})" if found else ""
    raise NotebookCommandError(f"no notebook for topic {topic!r} in {here / 'exercises'}"
                               f"{known}; run `dojo notebook` from the folder that holds "
                               "exercises/")


def jupyterlab_installed() -> bool:
    return importlib.util.find_spec("jupyterlab") is not None


@report_errors
def notebook_command(
    topic: Annotated[str | None, typer.Argument(
        help="The topic whose notebook to open (word_vectors); default: all of exercises/.")]
        = None,
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="Start JupyterLab without opening a browser (it prints the URL).")]
        = False,
) -> None:
    """Open a topic's notebook in JupyterLab (an optional extra: pip install
    "nlpdojo\\[notebook]"). In the notebook, check("softmax") grades a question and shows the
    feedback below the cell."""
    target = find_target(topic, Path.cwd())
    if not jupyterlab_installed():
        raise NotebookCommandError(f"JupyterLab is not installed; install it with: "
                                   f"{INSTALL_HINT}. Then run this command again.")
    folder = target if target.is_dir() else target.parent
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder.resolve()}"]
    argv += [target.name] if target.is_file() else []
    argv += ["--no-browser"] if no_browser else []
    argv += ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # containers
    console.print(f"opening {target} in JupyterLab (Ctrl-C to stop it); in the notebook, "
                  'check("<question>") grades a question', highlight=False)
    raise typer.Exit(subprocess.call(argv, cwd=folder))


def add_notebook_commands(cli: typer.Typer) -> None:
    cli.command("notebook")(notebook_command)
