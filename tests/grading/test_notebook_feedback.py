"""A graded notebook's feedback names cells, not the modules rebuilt from them (the toy pack
through the real ``grade``)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app
from nlpdojo_autograder.release.notebooks import build_notebook, dumps

runner = CliRunner()


def _notebook(folder: Path, tmp_path: Path, edit=None, extra: list[str] = ()) -> Path:
    nb = build_notebook(folder / "toy", stub=False)
    if edit is not None:
        edit(next(c for c in nb.cells if "nlpdojo:quadratic" in c.metadata.get("tags", [])))
    nb.cells += [nbformat.v4.new_code_cell(source) for source in extra]
    path = tmp_path / "toy.ipynb"
    path.write_text(dumps(nb))
    return path


def _grade(path: Path, tmp_path: Path) -> dict[str, dict]:
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["toy", "--submission", str(path), "-f", "json", "-o", str(out),
                                 "--no-cache"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback (most recent call last)" not in result.output
    return {c["id"]: c for c in json.loads(out.read_text())["exercises"][0]["checks"]}


def _cell_number(path: Path, module: str) -> int:
    nb = nbformat.read(path, as_version=4)
    return next(i for i, c in enumerate(nb.cells, start=1)
                if f"nlpdojo:{module}" in c.metadata.get("tags", []))


def test_an_error_names_the_cell_and_its_line_not_the_rebuilt_module(toy, make_submission,
                                                                     tmp_path):
    bad = "    loss = 0.5 * float(xp.sum(y * y)) / 0.0"

    def divide_by_zero(cell):
        cell.source = cell.source.replace("    loss = 0.5 * float(xp.sum(y * y))", bad)

    path = _notebook(make_submission(), tmp_path, divide_by_zero)
    number = _cell_number(path, "quadratic")
    cell = nbformat.read(path, as_version=4).cells[number - 1]
    line = cell.source.splitlines().index(bad) + 1  # the module has one more line: the import
    first = cell.source.splitlines()[0][:39]
    check = _grade(path, tmp_path)["quadratic.values"]
    assert check["status"] == "error"
    assert check["message"].startswith("ZeroDivisionError: float division by zero (at cell "
                                       f"{number} (`{first}")
    assert f"), line {line}: loss = 0.5" in check["message"]
    traceback = check["details"]["traceback"]
    assert f"cell {number} (`{first}" in traceback and f"line {line}, in " in traceback
    assert "quadratic.py" not in check["message"] + traceback


def test_a_helper_in_an_untagged_cell_is_reported_as_such(toy, make_submission, tmp_path):
    def use_helper(cell):
        cell.source = cell.source.replace("    return loss, grad", "    return loss, helper(grad)")

    path = _notebook(make_submission(), tmp_path, use_helper,
                     extra=["def helper(g):\n    return g  # my tidy-up"])
    number = _cell_number(path, "quadratic")
    checks = _grade(path, tmp_path)
    assert checks["scale.values"]["status"] == "passed"  # only the question that uses it fails
    message = checks["quadratic.values"]["message"]
    helper_cell = len(nbformat.read(path, as_version=4).cells)
    assert message.startswith(
        f"`helper` is defined in cell {helper_cell}, which is not graded: move it into the "
        f"tagged cell of question quadratic (cell {number}, which uses it). NameError: name "
        "'helper' is not defined")


def test_a_name_defined_nowhere_stays_a_plain_name_error(toy, make_submission, tmp_path):
    def use_typo(cell):
        cell.source = cell.source.replace("    return loss, grad", "    return loss, gard")

    path = _notebook(make_submission(), tmp_path, use_typo)
    message = _grade(path, tmp_path)["quadratic.values"]["message"]
    assert message.startswith("NameError: name 'gard' is not defined (at cell ")
    assert "not graded" not in message
