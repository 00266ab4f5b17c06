"""Notebooks of topics built on the course library through the real ``grade``: the cells give
the topic's modules and the library modules of its questions, the student's ``library/``
folder next to the topic folder the rest; feedback on a library cell names that cell."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app
from nlpdojo_autograder.release.notebooks import build_notebook, dumps

#: the course's own topics: the reference's expected outcomes are shared (tests/conftest.py)
pytestmark = pytest.mark.shared_expected
REPO = Path(__file__).resolve().parents[2]
EXERCISES = REPO / "exercises"
SOLUTIONS = REPO / "solutions"
runner = CliRunner()


def _course(root: Path, topic: str, *, library: bool = True, edit=None) -> Path:
    """``root`` as a student's exercises/: the released ``topic/`` with the solutions' notebook
    (``edit(cells)`` first: ``{module: cell}``) and, with ``library``, the released
    ``library/`` (stubs: none of this topic's library questions answered there)."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(EXERCISES / topic, root / topic, ignore=ignore)
    if library:
        shutil.copytree(EXERCISES / "library", root / "library", ignore=ignore)
    nb = build_notebook(SOLUTIONS / topic, stub=False)
    if edit is not None:
        edit({c.metadata["nlpdojo"]["module"]: c for c in nb.cells if "nlpdojo" in c.metadata})
    path = root / topic / f"{topic}.ipynb"
    path.write_text(dumps(nb))
    return path


def _grade(path: Path, out: Path, *questions: str) -> tuple[dict[str, dict], object]:
    result = runner.invoke(app, [*questions, "--submission", str(path), "-f", "json", "-o",
                                 str(out), "--no-cache"], catch_exceptions=False)
    assert "Traceback (most recent call last)" not in result.output
    if not out.is_file():
        return {}, result
    data = json.loads(out.read_text())
    return {c["id"]: c for e in data["exercises"] for c in e["checks"]}, result


def test_the_solutions_neural_networks_notebook_scores_full_marks(tmp_path, monkeypatch):
    """Its library cells (activations, init, layers) are graded, not the stubs in library/."""
    monkeypatch.chdir(tmp_path)
    path = _course(tmp_path / "exercises", "neural_networks")
    checks, result = _grade(path, tmp_path / "r.json", "sigmoid", "xavier", "affine")
    assert result.exit_code == 0, result.output
    assert {c["question"] for c in checks.values()} == {"sigmoid", "xavier", "affine"}
    assert all(c["status"] == "passed" for c in checks.values()), checks


def test_a_broken_library_cell_fails_its_question_naming_the_cell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    right = "xp.matmul(xp.matrix_transpose(x), grad_output)"

    def transpose(cells):
        cell = cells["library.layers"]
        assert right in cell.source
        cell.source = cell.source.replace(right, "xp.matmul(xp.matrix_transpose(grad_output), x)")

    path = _course(tmp_path / "exercises", "neural_networks", edit=transpose)
    nb = nbformat.read(path, as_version=4)
    number, cell = next((i, c) for i, c in enumerate(nb.cells, start=1)
                        if "nlpdojo:library.layers" in c.metadata.get("tags", []))
    line = next(i for i, text in enumerate(cell.source.splitlines(), start=1)
                if "matrix_transpose(grad_output), x" in text)
    checks, result = _grade(path, tmp_path / "r.json", "affine", "sigmoid")
    assert result.exit_code == 1, result.output
    affine = [c for c in checks.values() if c["question"] == "affine"]
    assert affine and all(c["score"] == 0 for c in affine)
    gradients = checks["affine.gradients"]
    assert f"cell {number} (`" in gradients["message"]
    assert f"line {line}" in gradients["message"]
    assert "layers.py" not in gradients["message"]  # the cell, not the rebuilt module
    assert f"cell {number} (`" in gradients["details"]["traceback"]
    assert all(c["status"] == "passed" for c in checks.values() if c["question"] == "sigmoid")


def test_the_language_models_notebook_grades_its_library_cell(tmp_path, monkeypatch):
    """library.rnn is a cell of the language_models notebook: graded from there."""
    monkeypatch.chdir(tmp_path)
    path = _course(tmp_path / "exercises", "language_models")
    checks, result = _grade(path, tmp_path / "r.json", "rnn_cell", "ngram_counts")
    assert result.exit_code == 0, result.output
    assert {c["question"] for c in checks.values()} == {"rnn_cell", "ngram_counts"}
    # whose library the rest of the library came from is part of the result
    warnings = json.loads((tmp_path / "r.json").read_text())["warnings"]
    assert any("graded from the library/ folder" in w and
               str(tmp_path / "exercises" / "library") in w for w in warnings), warnings


def test_a_notebook_in_a_cohort_never_takes_a_sibling_submissions_library(tmp_path):
    """A cohort's folder ``subs/alice`` holding only a notebook is graded with a library/ of
    alice's folder or none: ``subs/library`` (another submission, or anyone's folder named
    so) is not looked at, whatever it holds (before, it was alice's library, silently)."""
    alice = tmp_path / "subs" / "alice"
    alice.mkdir(parents=True)
    (alice / "language_models.ipynb").write_text(
        dumps(build_notebook(SOLUTIONS / "language_models", stub=False)))
    shutil.copytree(SOLUTIONS / "library", tmp_path / "subs" / "library",
                    ignore=shutil.ignore_patterns("__pycache__"))
    layers = tmp_path / "subs" / "library" / "layers.py"
    layers.write_text(layers.read_text() + "x = sabotaged + 1\n")  # a NameError at import
    checks, result = _grade(alice, tmp_path / "r.json", "sentence_classifier")
    assert result.exit_code == 0, result.output
    assert checks and all(c["score"] == c["max_score"] for c in checks.values()), checks
    warnings = json.loads((tmp_path / "r.json").read_text())["warnings"]
    assert any(w.startswith("no library/ folder beside the notebook") for w in warnings)
    assert not any("graded from the library/ folder" in w for w in warnings), warnings
    shutil.move(tmp_path / "subs" / "library", alice / "library")  # alice's own: it is hers
    checks, result = _grade(alice, tmp_path / "s.json", "sentence_classifier")
    assert result.exit_code == 1 and "sabotaged" in json.dumps(checks), result.output
    warnings = json.loads((tmp_path / "s.json").read_text())["warnings"]
    assert any(str(alice / "library") in w for w in warnings), warnings


def test_a_topics_files_in_a_cohort_never_take_a_sibling_submissions_library(tmp_path):
    """The same for a folder of the topic's files (a trial's finding, round 4): ``subs/alice``
    holding ``neural_networks``' modules and no library/ took ``subs/library`` (another
    submission folder) as hers: 3 of 3 on ``affine``, a library question she never submitted.
    Only a topic's own folder (named as the topic, in a checkout of exercises/) takes the
    library beside it."""
    alice = tmp_path / "subs" / "alice"
    shutil.copytree(SOLUTIONS / "neural_networks", alice,
                    ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    shutil.copytree(SOLUTIONS / "library", tmp_path / "subs" / "library",
                    ignore=shutil.ignore_patterns("__pycache__"))
    checks, result = _grade(alice, tmp_path / "r.json", "neural_networks.affine")
    assert checks and all(c["score"] == 0 for c in checks.values()), checks
    # a checkout's topic folder takes the library beside it, as the student's python does
    own = tmp_path / "exercises" / "neural_networks"
    shutil.move(alice, own)
    shutil.move(tmp_path / "subs" / "library", tmp_path / "exercises" / "library")
    checks, result = _grade(own, tmp_path / "s.json", "neural_networks.affine")
    assert result.exit_code == 0, result.output
    assert checks and all(c["score"] == c["max_score"] for c in checks.values()), checks


def test_a_library_notebook_without_its_library_folder(tmp_path, monkeypatch):
    """With the reference installed the cells are written over the released template made from
    it (library included): no library/ folder is needed beside the notebook, and none would be
    read. Without the reference (--as-student: a student release) the released folders beside
    the notebook are the template, and a missing library/ is a clear error."""
    monkeypatch.chdir(tmp_path)
    path = _course(tmp_path / "exercises", "language_models", library=False)
    checks, result = _grade(path, tmp_path / "r.json", "rnn_cell")
    assert result.exit_code == 0, result.output
    assert {c["question"] for c in checks.values()} == {"rnn_cell"}
    checks, result = _grade(path, tmp_path / "s.json", "rnn_cell", "--as-student")
    assert result.exit_code == 2, result.output
    assert "needs your library/ folder next to its topic folder" in " ".join(result.output.split())
    assert json.loads((tmp_path / "s.json").read_text())["score"] == 0  # the report says why


def test_modules_importing_names_from_the_package_grade_full_marks(tmp_path, monkeypatch):
    """window.py and encoder.py import ``from ..library import Linear, ...`` (the modules
    whose ``__all__`` lists each name): the notebooks rebuild those imports, and their
    questions earn full marks on the solutions' cells and the released library/ folder."""
    monkeypatch.chdir(tmp_path)
    for topic, question, module in (("neural_networks", "window_classifier", "window"),
                                    ("language_models", "sentence_encoder", "encoder")):
        path = _course(tmp_path / topic / "exercises", topic)
        imports = next(c.metadata["nlpdojo"]["imports"] for c in nbformat.read(path, 4).cells
                       if c.metadata.get("nlpdojo", {}).get("module") == module)
        assert any(i.startswith("from ..library import ") for i in imports), imports
        checks, result = _grade(path, tmp_path / f"{topic}.json", question)
        assert result.exit_code == 0, result.output
        assert checks and all(c["score"] == c["max_score"] for c in checks.values()), checks
        assert {c["question"] for c in checks.values()} == {question}
