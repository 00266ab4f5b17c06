"""``check()`` inside a notebook: the code it grades, how it finds the notebook, the cell-level
feedback, and the real thing in a Jupyter kernel (nbclient + ipykernel, the real grader)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from nlpdojo.notebook import NotebookCheckError, find_notebook
from nlpdojo_autograder.release.notebook_check import NotebookReport, effective_notebook
from nlpdojo_autograder.release.notebook_feedback import in_cells
from nlpdojo_autograder.release.notebooks import HISTORY_KEY, build_notebook, dumps, notebook_layout

REPO = Path(__file__).resolve().parents[1]
TOY = Path(__file__).parent / "fixtures" / "release_topic" / "solutions" / "toy"
WV = REPO / "exercises" / "word_vectors"


def _tagged(nb, module: str):
    return next(c for c in nb.cells if f"nlpdojo:{module}" in c.metadata.get("tags", []))


def _saved(tmp_path: Path, nb=None) -> Path:
    path = tmp_path / "toy.ipynb"
    path.write_text(dumps(nb or build_notebook(TOY, stub=False)), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- what is graded


def test_tagged_cells_are_graded_as_last_run_by_cell_id_else_by_their_names(tmp_path: Path):
    path = _saved(tmp_path)
    nb = nbformat.read(path, as_version=4)
    act, cls = _tagged(nb, "activations"), _tagged(nb, "classifier")
    runs = [
        (3, "code-activations", act.source + "\n# first try"),
        (4, "code-activations", act.source + "\n# second try"),  # the last run wins
        (5, None, cls.source + "\n# run without an id"),  # matched by the names it defines
        (6, None, "def sigmoid(x):\n    return 0.0  # an experiment"),  # too few names
        (7, "scratch-id", cls.source + "\n# an untagged cell with an id: never a module"),
        (8, None, "def helper(x):\n    return x"),
        (9, None, "import math\n\nfrom nlpdojo.backend import Array"),  # imports alone
    ]
    graded, notes = effective_notebook(nb, path, runs)
    assert _tagged(graded, "activations").source.endswith("# second try")
    assert _tagged(graded, "classifier").source.endswith("# run without an id")
    numbers = [i for i, c in enumerate(graded.cells, start=1) if c.metadata.get("tags")]
    assert notes == ["graded as last run in this kernel, which differs from the saved "
                     f"notebook: cell {numbers[0]} (In [4]), {numbers[1]} (In [5])"]
    history = graded.metadata["nlpdojo"][HISTORY_KEY]
    assert [h["execution_count"] for h in history] == [6, 7, 8, 9]


def test_cells_not_run_are_graded_as_saved_and_said_so(tmp_path: Path):
    path = _saved(tmp_path)
    nb = nbformat.read(path, as_version=4)
    saved = _tagged(nb, "classifier").source
    graded, notes = effective_notebook(nb, path, [])
    assert _tagged(graded, "classifier").source == saved
    assert notes == ["graded as saved on disk (not run since the kernel started): cell 5, 7"]


def test_a_name_only_the_kernel_defined_is_located_in_its_history(tmp_path: Path):
    nb = build_notebook(TOY, stub=False)
    nb.metadata["nlpdojo"][HISTORY_KEY] = [{"execution_count": 12,
                                            "source": "def helper(x):\n    return x"}]
    nb.cells.append(nbformat.v4.new_code_cell("%matplotlib inline\nTHRESHOLD = 0.5"))
    layout = notebook_layout(_saved(tmp_path, nb))
    assert layout.elsewhere["helper"] == ["In [12]"]
    assert layout.elsewhere["THRESHOLD"] == [f"cell {len(nb.cells)}"]  # a magic line is fine


def test_module_lines_become_cell_lines(tmp_path: Path):
    layout = notebook_layout(_saved(tmp_path))
    cls = layout.modules["classifier"]  # two relative imports removed from its cell
    assert cls.cell_line(5) is None and cls.cell_line(6) is None
    label = cls.label()
    assert label.startswith(f"cell {cls.number} (`")
    text = ('  File "/tmp/x/toy/classifier.py", line 9, in predict\n'
            "ValueError: bad (at classifier.py line 9: return 1)\n"
            "see activations.py:3 and not_activations.py:3")
    located = in_cells(text, layout)
    assert f'  {label}, line {cls.cell_line(9)}, in predict' in located
    assert f"(at {label}, line {cls.cell_line(9)}: return 1)" in located
    assert "not_activations.py:3" in located  # another file: left alone
    assert in_cells("classifier.py line 5", layout).endswith("at an import the grader restored")


# --------------------------------------------------------------------------- finding the notebook


def test_the_notebook_is_found_from_the_session_or_the_folder(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotebookCheckError, match="none made by `dojo release`"):
        find_notebook()
    path = _saved(tmp_path)
    (tmp_path / "scratch.ipynb").write_text(dumps(nbformat.v4.new_notebook()))
    assert find_notebook() == path  # the only course notebook in the kernel's folder
    shutil.copy(path, tmp_path / "copy.ipynb")
    with pytest.raises(NotebookCheckError, match="several course notebooks"):
        find_notebook()

    class Shell:
        user_ns = {"__session__": str(tmp_path / "copy.ipynb")}

    assert find_notebook(None, Shell()) == tmp_path / "copy.ipynb"
    monkeypatch.setenv("JPY_SESSION_NAME", "elsewhere/toy.ipynb")  # relative to the server
    assert find_notebook() == tmp_path / "toy.ipynb"
    with pytest.raises(NotebookCheckError, match="there is no notebook"):
        find_notebook("missing.ipynb")


def test_a_report_that_could_not_grade_says_why():
    report = NotebookReport(error="'sofmax' is neither a topic nor a question id")
    assert repr(report) == "check could not grade: 'sofmax' is neither a topic nor a question id"
    assert "sofmax" in report._repr_html_() and report.score == 0.0


# --------------------------------------------------------------------------- in a real kernel


@pytest.fixture(scope="module")
def kernel_name() -> str:
    pytest.importorskip("nbclient", reason="nbclient is in the dev extra: pip install -e .[dev]")
    pytest.importorskip("ipykernel", reason="ipykernel is in the dev extra: pip install -e .[dev]")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel as exc:
        pytest.skip(f"no Jupyter kernel 'python3' here: {exc}")
    return "python3"


WRONG = "    e = xp.exp(x)\n    return e / xp.sum(e)  # no max subtracted, one sum for all rows"
RIGHT = ("    e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))\n"
         "    return e / xp.sum(e, axis=-1, keepdims=True)")
STUB = ('    raise NotImplementedError("softmax: not implemented yet — replace this line with '
        'your code")')


def _feedback(cell) -> str:
    """What the check cell shows: its display's plain text (the HTML says the same)."""
    shown = [o for o in cell.outputs if o.output_type in ("display_data", "execute_result")]
    assert len(shown) == 1, cell.outputs  # one display, updated in place, no traceback
    assert "text/html" in shown[0].data
    return shown[0].data["text/plain"]


def test_check_in_a_kernel_grades_what_was_run_and_shows_fail_then_pass(
        kernel_name: str, tmp_path: Path, monkeypatch):
    """The released word_vectors notebook in a real kernel: a wrong softmax cell fails its
    checks; the same cell fixed and run (not saved) passes; a run JupyterLab ties to the cell by
    its id counts even when it looks nothing like the saved cell."""
    from nbclient import NotebookClient

    monkeypatch.setenv("NLPDOJO_GRADE_CACHE", str(tmp_path / "cache" / "grades"))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    topic = tmp_path / "word_vectors"
    shutil.copytree(WV, topic, ignore=shutil.ignore_patterns("__pycache__"))
    path = topic / "word_vectors.ipynb"
    nb = nbformat.read(path, as_version=4)
    softmax = _tagged(nb, "softmax")
    assert STUB in softmax.source
    softmax.source = softmax.source.replace(STUB, WRONG)
    nbformat.write(nb, path)  # saved with the wrong softmax
    nb.cells.append(nbformat.v4.new_code_cell('check("softmax")'))
    probe = nb.cells[-1]

    client = NotebookClient(nb, kernel_name=kernel_name, timeout=300,
                            resources={"metadata": {"path": str(topic)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        wrong = _feedback(probe)
        assert "Total: 0/4" in wrong and "failed" in wrong and "passed" not in wrong
        assert "Verdict" in wrong and "isolation" in wrong  # grade's own table

        softmax.source = softmax.source.replace(WRONG, RIGHT)  # edited and run, not saved
        client.execute_cell(softmax, nb.cells.index(softmax))
        client.execute_cell(probe, len(nb.cells) - 1)
        right = _feedback(probe)
        assert "Total: 4/4" in right and "3 passed" in right and "failed" not in right
        number = nb.cells.index(softmax) + 1
        assert f"graded as last run in this kernel, which differs from the saved notebook: cell " \
               f"{number}" in right

        # as JupyterLab does: every execute request carries its cell's id
        sent = client.kc.session.msg

        def with_cell_id(msg_type, content=None, parent=None, header=None, metadata=None):
            if msg_type == "execute_request":
                metadata = {**(metadata or {}), "cellId": current[0]}
            return sent(msg_type, content, parent, header, metadata)

        client.kc.session.msg = with_cell_id
        current = [softmax.id]
        softmax.source = "def softmax(x):\n    return x  # nothing like the saved cell"
        client.execute_cell(softmax, nb.cells.index(softmax))
        current = [probe.id]
        client.execute_cell(probe, len(nb.cells) - 1)
        again = _feedback(probe)
        assert "Total: 0/4" in again and "failed" in again

        probe.source = 'check("sofmax")'  # a typo: one line that says so, no traceback
        client.execute_cell(probe, len(nb.cells) - 1)
        assert _feedback(probe).startswith(
            "check could not grade: 'sofmax' is neither a topic nor a question id")


# --------------------------------------------------------------------------- dojo notebook


def _dojo(*args: str):
    from typer.testing import CliRunner

    from nlpdojo.cli.app import build_app

    return CliRunner().invoke(build_app(), list(args))


def test_dojo_notebook_without_jupyterlab_says_how_to_install_it(tmp_path: Path, monkeypatch):
    from nlpdojo_autograder.cli import notebook_commands

    monkeypatch.setattr(notebook_commands, "jupyterlab_installed", lambda: False)
    monkeypatch.chdir(REPO)
    result = _dojo("notebook", "word_vectors")
    assert result.exit_code == 2
    assert ("JupyterLab is not installed; install it with: pip install -c constraints.txt "
            "jupyterlab, in the environment where nlpdojo is installed, from the folder that "
            "holds constraints.txt (your student release, or the nlpdojo checkout)") in \
        " ".join(result.output.split())
    assert "Traceback" not in result.output
    monkeypatch.chdir(tmp_path)
    missing = _dojo("notebook", "word_vectors")
    assert missing.exit_code == 2 and "no notebook for topic 'word_vectors'" in missing.output


def test_dojo_notebook_opens_the_topic_notebook_in_jupyterlab(tmp_path: Path, monkeypatch):
    from nlpdojo_autograder.cli import notebook_commands

    calls = []
    monkeypatch.setattr(notebook_commands, "jupyterlab_installed", lambda: True)
    monkeypatch.setattr(notebook_commands.subprocess, "call",
                        lambda argv, cwd: calls.append((argv, cwd)) or 0)
    monkeypatch.chdir(REPO / "exercises")  # from inside exercises/ too
    result = _dojo("notebook", "word_vectors", "--no-browser")
    assert result.exit_code == 0, result.output
    argv, cwd = calls[0]
    assert argv[1:3] == ["-m", "jupyterlab"] and "word_vectors.ipynb" in argv
    assert "--no-browser" in argv and cwd == WV
    assert f"--ServerApp.root_dir={WV}" in argv
    monkeypatch.chdir(REPO)
    assert _dojo("notebook").exit_code == 0  # every notebook: JupyterLab in exercises/
    assert calls[1][1] == Path(REPO / "exercises")


def test_progress_while_grading_lists_finished_checks_and_the_running_one(tmp_path: Path):
    """What ``check()`` shows while ``grade`` runs, read from its event log."""
    import json
    import time

    from nlpdojo_autograder.release.notebook_check import Progress

    log = tmp_path / "events.jsonl"
    assert repr(Progress(log, ["a note"])) == "a note\n… starting the grader"  # nothing yet
    events = [
        {"event": "started", "id": "softmax.values", "kind": "value", "title": "softmax"},
        {"event": "finished", "id": "softmax.values", "status": "passed", "score": 2.0,
         "max_score": 2.0, "cached": True},
        {"event": "started", "id": "training.heldout_loss", "kind": "metric", "title": "t",
         "budget": "1 epoch of SOTU", "reference": True, "at": time.time() - 12},
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in events))
    shown = repr(Progress(log, []))
    assert shown.splitlines() == [
        "✓     2/2  softmax.values  passed  (cached)",
        "… 12 s  training.heldout_loss  the reference: training (1 epoch of SOTU)"]
    assert "training.heldout_loss" in Progress(log, [])._repr_html_()


def test_the_released_notebook_sets_up_check_and_says_how_to_use_it():
    nb = nbformat.read(WV / "word_vectors.ipynb", as_version=4)
    setup = next(c for c in nb.cells if c.id == "nlpdojo-setup")
    assert "from nlpdojo import check\n\ncheck.watch()" in setup.source
    assert "nlpdojo" not in setup.metadata  # untagged: never graded
    howto = next(c.source for c in nb.cells if c.id == "nlpdojo-howto")
    assert '`check("softmax")` grades one question' in " ".join(howto.split())
    assert "a helper function belongs in the tagged cell that uses it" in " ".join(howto.split())


def test_importing_nlpdojo_does_not_import_the_notebook_check():
    import subprocess
    import sys

    code = ("import sys, nlpdojo; assert 'nlpdojo.notebook' not in sys.modules; "
            "from nlpdojo import check; assert callable(check) and callable(check.watch); "
            "print(type(check).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "Checker"


def test_check_in_a_kernel_for_a_topic_built_on_the_course_library(
        kernel_name: str, tmp_path: Path, monkeypatch):
    """The language_models notebook next to the student's library/ in a real kernel: the
    set-up cell imports the library's other modules from there, and check() grades the
    notebook's library cell (library.rnn) as run in the kernel, wrong then right."""
    from nbclient import NotebookClient

    monkeypatch.setenv("NLPDOJO_GRADE_CACHE", str(tmp_path / "cache" / "grades"))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    ignore = shutil.ignore_patterns("__pycache__")
    topic = tmp_path / "language_models"
    shutil.copytree(REPO / "exercises" / "language_models", topic, ignore=ignore)
    shutil.copytree(REPO / "solutions" / "library", tmp_path / "library", ignore=ignore)
    path = topic / "language_models.ipynb"
    nb = build_notebook(REPO / "solutions" / "language_models", stub=False)
    path.write_text(dumps(nb), encoding="utf-8")
    rnn = _tagged(nb, "library.rnn")
    right = "h = xp.tanh(z)  # (B, H)"
    assert right in rnn.source
    nb.cells.append(nbformat.v4.new_code_cell("print(Linear.__module__, RNNCell.__module__)"))
    nb.cells.append(nbformat.v4.new_code_cell('check("rnn_cell")'))
    shown, probe = nb.cells[-2], nb.cells[-1]

    client = NotebookClient(nb, kernel_name=kernel_name, timeout=300,
                            resources={"metadata": {"path": str(topic)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        printed = "".join(o.get("text", "") for o in shown.outputs)
        assert printed.split() == ["nlpdojo_notebook_course.library.layers", "__main__"]
        right_feedback = _feedback(probe)
        assert "failed" not in right_feedback and "passed" in right_feedback, right_feedback

        rnn.source = rnn.source.replace(right, "h = xp.sin(z)  # (B, H)")  # run, not saved
        client.execute_cell(rnn, nb.cells.index(rnn))
        client.execute_cell(probe, len(nb.cells) - 1)
        wrong = _feedback(probe)
        assert "failed" in wrong and f"cell {nb.cells.index(rnn) + 1}" in wrong, wrong
