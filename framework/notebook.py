"""``check("softmax")`` inside a notebook: grade the notebook's code and show the feedback there.

The generated notebooks start with a set-up cell::

    from nlpdojo import check

    check.watch()

``check("softmax")`` then grades one question, ``check()`` every question of the notebook,
through the same grader as ``grade --submission <notebook>.ipynb``: in processes of its own,
sandboxed, never in the kernel (whatever the kernel's namespace holds cannot change a verdict).
The code graded is **the code of the tagged cells as last run in this kernel**, what the
namespace you experiment with holds; a tagged cell not run since the kernel started is graded as
saved on disk. The report above the table says which cells were graded which way.

How a run is tied to its cell: JupyterLab (and Notebook 7) send each cell's id with its code,
and :meth:`Checker.watch` records it; code run without an id (older front-ends, ``nbclient``,
or cells run before ``watch()``) is matched, from the kernel's input history, to the tagged
cell whose functions and classes it defines.

How the notebook is found: ``check(notebook="TOPIC.ipynb")`` when given; else the path
Jupyter gives the kernel (``__session__``, ``$JPY_SESSION_NAME``; VS Code's
``__vsc_ipynb_file__``); else the only notebook made by ``dojo release`` in the kernel's
working folder (Jupyter starts a kernel in its notebook's folder).

The core only finds the notebook and collects the runs; the grading and the report come from
the plugin implementing the ``check_notebook`` hook (the autograder).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nlpdojo.errors import NlpdojoError

#: a run of code in the kernel: (execution count, the front-end's cell id or None, source)
Run = tuple[int | None, str | None, str]


class NotebookCheckError(NlpdojoError):
    """``check()`` cannot run: no notebook found, no grader installed..."""


def _shell() -> Any:
    """The running IPython shell, or ``None`` outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _is_course_notebook(path: Path) -> bool:
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return False
    return isinstance(meta, dict) and isinstance(meta.get("nlpdojo"), dict)


def find_notebook(given: str | os.PathLike[str] | None = None, shell: Any = None) -> Path:
    """The notebook file this kernel runs (see the module's docstring for the order)."""
    if given is not None:
        path = Path(given).expanduser()
        if not path.is_file():
            raise NotebookCheckError(f"there is no notebook {path} (from the folder "
                                     f"{Path.cwd()}); give its path, e.g. "
                                     "check(notebook=\"TOPIC.ipynb\")")
        return path
    namespace = getattr(shell, "user_ns", None) or {}
    hints = [namespace.get("__session__"), os.environ.get("JPY_SESSION_NAME"),
             namespace.get("__vsc_ipynb_file__")]
    for hint in hints:
        if not (isinstance(hint, str) and hint.endswith(".ipynb")):
            continue
        for path in (Path(hint).expanduser(), Path.cwd() / Path(hint).name):
            if path.is_file() and _is_course_notebook(path):
                return path
    here = sorted(p for p in Path.cwd().glob("*.ipynb") if _is_course_notebook(p))
    if len(here) == 1:
        return here[0]
    if not here:
        raise NotebookCheckError(
            f"cannot tell which notebook this kernel runs: none made by `dojo release` is in "
            f"{Path.cwd()}. Save the notebook, or name it: check(\"softmax\", "
            "notebook=\"path/to/TOPIC.ipynb\")")
    names = ", ".join(p.name for p in here)
    raise NotebookCheckError(f"several course notebooks are in {Path.cwd()} ({names}); say "
                             f"which one to grade: check(notebook=\"{here[0].name}\")")


class Checker:
    """``check`` (one per kernel): call it to grade, :meth:`watch` to record cell ids."""

    def __init__(self) -> None:
        self._runs: list[Run] = []
        self._watched: Any = None

    def watch(self) -> None:
        """Record, for every cell run from now on, the cell it came from (once per kernel;
        outside IPython nothing to do)."""
        shell = _shell()
        if shell is None or self._watched is shell:
            return
        shell.events.register("post_run_cell", self._record)
        self._watched = shell

    def _record(self, result: Any) -> None:
        info = getattr(result, "info", None)
        source = getattr(info, "raw_cell", None)
        if isinstance(source, str):
            self._runs.append((getattr(result, "execution_count", None),
                               getattr(info, "cell_id", None) or None, source))

    def runs(self, shell: Any = None) -> list[Run]:
        """Every run of this kernel, oldest first: recorded with their cell ids since
        :meth:`watch`, from the input history without (before it, or from front-ends that
        send none)."""
        recorded = {count for count, _, _ in self._runs if count is not None}
        found: list[Run] = []
        history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
        for count, source in enumerate(history or []):
            if count and source and count not in recorded:
                found.append((count, None, source))
        found += self._runs
        return sorted(found, key=lambda run: run[0] or 0)

    def __call__(self, *questions: str, notebook: str | os.PathLike[str] | None = None,
                 backend: str | None = None, device: str | None = None,
                 cache: bool = True) -> None:
        """Grade ``questions`` (question ids such as ``"softmax"``; none: the whole notebook)
        of this notebook and show the feedback below the cell. ``backend``/``device`` as for
        ``grade``; ``cache=False`` runs every check again."""
        shell = _shell()
        self.watch()
        handle = _show(_Text(f"grading {', '.join(questions) or 'every question'} of this "
                             "notebook in the grader's sandbox…"), None)
        try:
            path = find_notebook(notebook, shell)
            from nlpdojo.plugins import get_manager

            report = get_manager().hook.check_notebook(
                notebook=path.resolve(), questions=list(questions), runs=self.runs(shell),
                backend=backend, device=device, cache=cache,
                show=lambda progress: _show(progress, handle))
            if report is None:
                raise NotebookCheckError("no installed plugin grades notebooks (the autograder,"
                                         " nlpdojo_autograder, is part of nlpdojo: reinstall it)")
        except NlpdojoError as exc:
            report = _Text(f"check: {exc}", error=True)
        _show(report, handle)


class _Text:
    """A line of text for a notebook (HTML) and for a terminal."""

    def __init__(self, text: str, *, error: bool = False) -> None:
        self.text, self.error = text, error

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html

        style = "color:#b00020;font-weight:bold" if self.error else "color:#555"
        return f'<pre style="{style};white-space:pre-wrap">{html.escape(self.text)}</pre>'


def _show(obj: Any, handle: Any) -> Any:
    """Display ``obj`` (replacing what ``handle`` shows); plain ``print`` outside IPython."""
    if _shell() is None:
        print(repr(obj))
        return None
    from IPython.display import display

    if handle is None:
        return display(obj, display_id=True)
    handle.update(obj)
    return handle


check = Checker()

__all__ = ["Checker", "NotebookCheckError", "check", "find_notebook"]
