"""The autograder's side of ``check()`` in a notebook (:mod:`nlpdojo.notebook`).

Runs in the student's kernel, so it grades nothing itself: it writes the notebook as it stands
in the kernel (each tagged cell's code as last run there, see :func:`effective_notebook`) next
to a copy of the released topic folder, and runs ``grade <questions> --submission
<that notebook> --format json`` in a process of its own, whose checks run in the sandboxed
workers as ever. The JSON result comes back as a :class:`NotebookReport`: the same table
``grade`` prints, as HTML for the notebook and as text.

The copy lives in a folder of its own per notebook under the user's cache folder
(``notebook-checks/``, beside ``grade``'s cache), so that ``grade``'s incremental cache
recognises the submission from one ``check()`` to the next and reruns only what changed.
"""

from __future__ import annotations

import ast
import hashlib
import html
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from nlpdojo_autograder.grading.child import grade_command
from nlpdojo_autograder.grading.gradecache import default_root
from nlpdojo_autograder.grading.progress import EVENTS_ENV
from nlpdojo_autograder.grading.results import GradingResult
from nlpdojo_autograder.grading.snapshot import SubmissionError, discard, working_copy
from nlpdojo_autograder.release.notebooks import (
    HISTORY_KEY,
    META_KEY,
    NotebookError,
    _load,
    _tagged_cells,
    defined_names,
    dumps,
    notebook_topic,
)
from nlpdojo_autograder.runtime.loader import LIBRARY
from nlpdojo_reports.table import TableReporter

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: code run in the kernel kept in the graded notebook to say where a name came from
MAX_HISTORY = 200
#: the share of a tagged cell's top-level names that code run without a cell id must define to
#: be taken for that cell
MATCH_SHARE = 0.5
#: how often the progress shown in the notebook is refreshed while grading (seconds)
POLL_S = 0.5


def _functions(source: str) -> set[str]:
    """Top-level functions and classes of a cell (``%magic`` lines left out; none if it is not
    Python)."""
    kept = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())
    try:
        body = ast.parse(kept).body
    except (SyntaxError, ValueError):
        return set()
    return {n.name for n in body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def _match(source: str, cells: dict[str, tuple[set[str], set[str]]]) -> str | None:
    """The tagged cell (module) that code run without a cell id is a run of: the one whose
    top-level names it defines the largest share of, at least :data:`MATCH_SHARE` and at least
    one of its functions or classes (imports alone, shared by many cells, are not enough)."""
    names, functions = defined_names(source), _functions(source)
    if not functions:
        return None
    best, share = None, 0.0
    for module, (wanted, wanted_functions) in cells.items():
        if wanted and functions & wanted_functions:
            found = len(names & wanted) / len(wanted)
            if found > share:
                best, share = module, found
    return best if share >= MATCH_SHARE else None


def effective_notebook(nb: Any, path: Path, runs: list[tuple[Any, Any, str]]
                       ) -> tuple[Any, list[str]]:
    """``(notebook, notes)``: the saved notebook ``nb`` with each tagged cell's source replaced
    by its last run in the kernel (by cell id, else by the names it defines), the other runs
    recorded in the metadata (:data:`~.notebooks.HISTORY_KEY`), and notes
    saying which cells were graded as run and which as saved."""
    _, expected = notebook_topic(nb, path)
    cells = _tagged_cells(nb, path, expected)
    by_id = {cell.get("id"): module for module, (_, cell) in cells.items() if cell.get("id")}
    saved_names = {module: (defined_names(cell.source), _functions(cell.source))
                   for module, (_, cell) in cells.items()}
    last: dict[str, tuple[Any, str]] = {}
    other: list[dict[str, Any]] = []
    for count, cell_id, source in runs:
        module = by_id.get(cell_id) if cell_id else _match(source, saved_names)
        if module is not None:
            last[module] = (count, source)
        elif cell_id is None or cell_id not in by_id:
            other.append({"execution_count": count, "source": source})
    as_run: list[str] = []
    as_saved: list[str] = []
    for module, (number, cell) in sorted(cells.items(), key=lambda item: item[1][0]):
        if module in last:
            count, source = last[module]
            if source != cell.source:
                as_run.append(f"{number}" + (f" (In [{count}])" if count else ""))
            cell.source = source
        else:
            as_saved.append(str(number))
    saved_sources = {c.source for c in nb.cells if c.cell_type == "code"}
    history = [r for r in other if r["source"] not in saved_sources
               and defined_names(r["source"])][-MAX_HISTORY:]
    meta = nb.metadata.setdefault(META_KEY, {})
    meta[HISTORY_KEY] = history
    notes = []
    if as_run:
        notes.append(f"graded as last run in this kernel, which differs from the saved notebook:"
                     f" cell {', '.join(as_run)}")
    if as_saved:
        notes.append("graded as saved on disk (not run since the kernel started): cell "
                     + ", ".join(as_saved))
    return nb, notes


def work_folder(notebook: Path) -> Path:
    """This notebook's own folder for its checks (see the module's docstring)."""
    key = hashlib.sha256(str(notebook.resolve()).encode()).hexdigest()[:16]
    return default_root().parent / "notebook-checks" / key


def _prepare(notebook: Path, runs: list[tuple[Any, Any, str]]) -> tuple[Path, Path, list[str]]:
    """Write the notebook to grade (and the released topic folder beside it): its path, the
    folder to run ``grade`` in (this notebook's private work folder: never the student's, whose
    files must not steer the grading), and the notes."""
    nb = _load(notebook)
    topic, _ = notebook_topic(nb, notebook)
    nb, notes = effective_notebook(nb, notebook, runs)
    root = work_folder(notebook)
    target = root / topic
    released = notebook.parent
    # the topic folder and, for a topic built on the course library, the student's library/
    # beside it: the template where `grade` runs without the reference (a student release).
    # Copied through the snapshot (links out, pipes, devices refused), as on every way in
    for source, copy in ((released, target), (released.parent / LIBRARY, root / LIBRARY)):
        discard(copy)
        if (released / "__init__.py").is_file() and (source / "__init__.py").exists():
            working_copy(source, copy, shown_as=source.name)
    target.mkdir(parents=True, exist_ok=True)
    graded = target / notebook.name
    graded.write_text(dumps(nb), encoding="utf-8")
    return graded, root, notes


def check_notebook(notebook: Path, questions: list[str], runs: list[tuple[Any, Any, str]], *,
                   backend: str | None = None, device: str | None = None,
                   cache: bool = True, show: Callable[[Any], None] | None = None
                   ) -> NotebookReport:
    """Grade ``questions`` (none: the notebook's topic) of ``notebook`` as it stands in the
    kernel; never raises for what a student can cause: the report then says what to do.
    ``show``: told, while grading, what to display (each finished check, the running one)."""
    try:
        graded, cwd, notes = _prepare(Path(notebook), runs)
        topic, _ = notebook_topic(_load(graded), graded)
    except (NotebookError, SubmissionError) as exc:
        return NotebookReport(error=str(exc))
    out = graded.parent.parent / "result.json"
    events = graded.parent.parent / "events.jsonl"
    errors_at = graded.parent.parent / "stderr.txt"
    for path in (out, events):
        path.unlink(missing_ok=True)
    # -P: the working folder is not on the import path (nlpdojo_autograder.grading.child)
    argv = [*grade_command(), *(questions or [topic]),
            "--submission", str(graded), "--format", "json", "--output", str(out)]
    argv += ["--backend", backend] if backend else []
    argv += ["--device", device] if device else []
    argv += [] if cache else ["--no-cache"]
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env["NO_COLOR"] = "1"  # a kernel asks for colours; the error line is read as text
    env[EVENTS_ENV] = str(events)
    with open(errors_at, "wb") as stderr:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr,
                                start_new_session=True, env=env)
        try:
            shown = ""
            while True:
                try:
                    proc.wait(timeout=POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    progress = Progress(events, notes)
                    if show is not None and repr(progress) != shown:  # only what changed
                        show(progress)
                        shown = repr(progress)
        except BaseException:  # the student stopped the kernel's cell: stop the grading too
            _kill(proc)
            raise
    text = _ANSI.sub("", errors_at.read_bytes().decode(errors="replace"))
    errors = [line[len("error: "):] for line in text.splitlines() if line.startswith("error: ")]
    if proc.returncode not in (0, 1) or not out.is_file():
        why = errors[0] if errors else f"the grader exited with code {proc.returncode}"
        return NotebookReport(error=why, notes=notes)

    result = GradingResult.from_dict(json.loads(out.read_text(encoding="utf-8")))
    result.submission = str(notebook)
    return NotebookReport(result=result, notes=notes)


class Progress:
    """What ``check()`` shows while grading: a line per finished check, then the running one
    (read from ``grade``'s event log, :data:`~nlpdojo_autograder.grading.progress.EVENTS_ENV`)."""

    def __init__(self, events: Path, notes: list[str]) -> None:
        self.lines = list(notes)
        self._running: dict[str, Any] | None = None
        self._started = False
        try:
            records = [json.loads(line) for line in events.read_text("utf-8").splitlines()
                       if line.strip()]
        except (OSError, ValueError):
            records = []
        for record in records:
            if record.get("event") == "finished":
                mark = _MARKS.get(record.get("status"), "?")
                cached = "  (cached)" if record.get("cached") else ""
                points = (f"{round(record.get('score', 0), 3):g}/"
                          f"{round(record.get('max_score', 0), 3):g}")
                self.lines.append(f"{mark} {points:>7}  {record.get('id')}  "
                                  f"{record.get('status')}{cached}")
                self._running = None
            elif record.get("event") == "started":
                self._running = record
            self._started = True

    def __repr__(self) -> str:
        lines = list(self.lines)
        if self._running is not None:
            r = self._running
            what = f"training ({r['budget']})" if r.get("kind") == "metric" and r.get("budget") \
                else r.get("title", "")
            who = "the reference: " if r.get("reference") else ""
            elapsed = time.time() - float(r.get("at", time.time()))
            clock = f"{elapsed:.0f} s  " if elapsed >= 2 else ""
            lines.append(f"… {clock}{r.get('id')}  {who}{what}")
        else:
            lines.append("… grading" if self._started else "… starting the grader")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return ('<pre style="color:#555;white-space:pre-wrap">'
                f"{html.escape(repr(self))}</pre>")


_MARKS = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "not_implemented": "·"}


def _kill(proc: subprocess.Popen) -> None:
    """Stop ``grade`` and whatever it started (its own session, where there are sessions)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


class NotebookReport:
    """What ``check()`` shows: notes on what was graded, then ``grade``'s table (or the one
    error that stopped the grading)."""

    WIDTH = 110

    def __init__(self, result: Any = None, *, error: str | None = None,
                 notes: list[str] | None = None) -> None:
        self.result, self.error, self.notes = result, error, list(notes or [])

    @property
    def score(self) -> float:
        return self.result.score if self.result is not None else 0.0

    @property
    def max_score(self) -> float:
        return self.result.max_score if self.result is not None else 0.0

    def _render(self, *, html_out: bool) -> str:

        console = Console(file=StringIO(), width=self.WIDTH, record=True, highlight=False,
                          force_jupyter=False,  # in a kernel rich would display each print
                          force_terminal=html_out, color_system="truecolor" if html_out else None)
        if self.error is not None:
            console.print(Text(f"check could not grade: {self.error}", style="bold red"))
        for note in self.notes:
            console.print(Text(note, style="dim"))
        if self.result is not None:
            TableReporter().print_to(console, self.result)
        if html_out:
            return console.export_html(inline_styles=True, code_format=(
                '<pre style="font-family:Menlo,Consolas,monospace;font-size:12px;'
                'line-height:1.3;white-space:pre;overflow-x:auto">{code}</pre>'))
        return console.export_text()

    def __repr__(self) -> str:
        return self._render(html_out=False).rstrip("\n")

    def _repr_html_(self) -> str:
        return self._render(html_out=True)


__all__ = ["NotebookReport", "check_notebook", "effective_notebook"]
