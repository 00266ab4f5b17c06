"""``dojo notebook [TOPIC]``: open a topic's notebook (or all of ``exercises/``) in JupyterLab;
``dojo notebook TOPIC --save-library``: copy the notebook's course-library cells into
``library/``.

JupyterLab is an optional extra (``pip install -c constraints.txt jupyterlab``, as the student
release's README says; in a checkout ``-e '.[notebook]'`` does the same): without it the command
says so and which command installs it, and exits 2. The notebook found for ``TOPIC``:
``exercises/<topic>/<topic>.ipynb`` from the folder that holds ``exercises/``, or
``<topic>/<topic>.ipynb`` from inside it, or ``<topic>.ipynb`` from inside the topic's folder.

Library cells (tagged ``nlpdojo:library.<module>``) hold the student's answers to questions of
the course library, which later topics import from the files of ``library/``: until they are
copied there, a later topic runs on the stubs. ``--save-library`` copies them, keeping every
file it replaces under ``library/.backup/``, and never replaces a file that answers more of
its questions than the cell does (work done in the file itself).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from nlpdojo.cli.common import console, report_errors
from nlpdojo.errors import NlpdojoError
from nlpdojo.notebook_library import STUB
from nlpdojo_autograder.release.notebooks import LIBRARY_PREFIX, read_notebook

#: right in a student release (a wheel and constraints.txt) and in a checkout alike
INSTALL_HINT = ("pip install -c constraints.txt jupyterlab, in the environment where nlpdojo is "
                "installed, from the folder that holds constraints.txt (your student release, "
                "or the nlpdojo checkout)")


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
                                   "topic: dojo notebook <topic>")
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


def save_library(notebook: Path) -> list[tuple[str, str]]:
    """Copy the library cells of ``notebook`` into the ``library/`` folder beside its topic
    folder: ``[(file, what happened)]``, one per library cell. A replaced file is kept as
    ``library/.backup/<module>.<UTC time>.py``; a file with fewer unanswered questions than
    its cell is left as it is (the work is in the file), as is one equal to its cell."""
    _, sources = read_notebook(notebook)  # strict: a cell with a syntax error stops it here
    cells = {m[len(LIBRARY_PREFIX):]: src for m, src in sources.items()
             if m.startswith(LIBRARY_PREFIX)}
    if not cells:
        raise NotebookCommandError(f"{notebook} has no course library cells (tagged "
                                   "nlpdojo:library.<module>): nothing to save")
    library = notebook.resolve().parent.parent / "library"
    if not (library / "__init__.py").is_file():
        raise NotebookCommandError(f"no course library at {library} (no __init__.py): the "
                                   "notebook must sit in its topic folder, beside library/")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    done = []
    for module, source in sorted(cells.items()):
        path = library / f"{module}.py"
        old = path.read_text(encoding="utf-8") if path.exists() else None
        shown = f"library/{module}.py"
        if old == source:
            done.append((shown, "unchanged (the file already holds the cell)"))
            continue
        left_in_cell, left_in_file = len(STUB.findall(source)), len(STUB.findall(old or ""))
        if old is not None and left_in_file < left_in_cell:
            done.append((shown, f"kept: the file answers more questions ({left_in_file} "
                         f"unanswered) than the notebook's cell ({left_in_cell} unanswered)"))
            continue
        if old is not None:
            backup = library / ".backup" / f"{module}.{stamp}.py"
            backup.parent.mkdir(exist_ok=True)
            backup.write_text(old, encoding="utf-8")
        path.write_text(source, encoding="utf-8")
        what = f"saved, {left_in_cell} question(s) still unanswered" if left_in_cell else "saved"
        done.append((shown, what + (f" (the old file is in library/.backup/{backup.name})"
                                    if old is not None else "")))
    return done


@report_errors
def notebook_command(
    topic: Annotated[str | None, typer.Argument(
        help="The topic whose notebook to open (a topic's name); default: all of exercises/.")]
        = None,
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="Start JupyterLab without opening a browser (it prints the URL).")]
        = False,
    save_library_cells: Annotated[bool, typer.Option(
        "--save-library", help="Do not open the notebook: copy its course library cells "
        "(nlpdojo:library.<module>) into library/<module>.py, where later topics import "
        "them from; a replaced file is kept in library/.backup/.")] = False,
) -> None:
    """Open a topic's notebook in JupyterLab (install it once: pip install -c constraints.txt
    jupyterlab). In the notebook, check("softmax") grades a question and shows the
    feedback below the cell. With --save-library, copy the notebook's library cells into
    library/ instead."""
    target = find_target(topic, Path.cwd())
    if save_library_cells:
        if target.is_dir():
            raise NotebookCommandError("--save-library needs a topic: dojo notebook "
                                       "<topic> --save-library")
        for shown, what in save_library(target):
            console.print(f"{shown}: {what}", highlight=False, soft_wrap=True)  # one line each
        return
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
