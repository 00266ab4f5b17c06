"""``dojo release`` (and ``--check``) refuse a pack whose exercise disagrees with its
solutions: every problem listed, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app


@pytest.fixture
def pack(tmp_path, monkeypatch, toy_pack_site) -> Path:
    """The toy pack installed in a private site folder, to be broken before it is loaded."""
    folder = toy_pack_site(tmp_path / "site")
    monkeypatch.chdir(tmp_path)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _release(pack: Path, *args: str):
    return CliRunner().invoke(build_app(), ["release", "--solutions", str(pack / "solutions"),
                                            *args])


def test_release_lists_every_problem_and_writes_nothing(pack: Path):
    scale = pack / "solutions" / "toy" / "scale.py"
    _edit(scale, "### BEGIN SOLUTION scale", "### BEGIN SOLUTION scael")
    _edit(pack / "plugin.py", 'swap_in=("scale",)),\n    gradient_check',
          'swap_in=("quadratc",)),\n    gradient_check')
    _edit(pack / "plugin.py", '"grad = 2.0 *", "grad = 4.0 *"', '"2.0", "4.0"')
    result = _release(pack)
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "consistency problems (nothing was written)" in out
    assert f"{scale}:9: solution block of unknown question 'scael'" in out
    assert "did you mean 'scale'?" in out
    assert "check quadratic.values: swap_in names unknown question 'quadratc'" in out
    assert "planted bug 'gradient doubled': `find` '2.0' occurs 2 times" in out
    assert not Path("exercises").exists()
    assert not (pack / "fixtures").exists()
    check = _release(pack, "--check")
    assert check.exit_code == 2, check.output
    assert "solution block of unknown question 'scael'" in " ".join(check.output.split())


def test_release_of_a_consistent_pack_passes(pack: Path):
    result = _release(pack, "--no-fixtures")
    assert result.exit_code == 0, result.output


def test_a_typo_in_one_library_markers_topic_is_named_with_its_line(tmp_path):
    """One of a library module's two blocks typo'd (``neural_netwroks.relu``): release said the
    module "holds questions of two topics, split it" (the notebook's error, no line); the
    declarations' own problem is said first, with its line and "did you mean"."""
    import shutil

    solutions = tmp_path / "solutions"
    shutil.copytree(Path(__file__).resolve().parents[2] / "solutions", solutions,
                    ignore=shutil.ignore_patterns("__pycache__"))
    layer = solutions / "library" / "activations.py"
    text = layer.read_text()
    line = text[:text.index("### BEGIN SOLUTION neural_networks.relu")].count("\n") + 1
    layer.write_text(text.replace("### BEGIN SOLUTION neural_networks.relu",
                                  "### BEGIN SOLUTION neural_netwroks.relu", 1))
    result = CliRunner().invoke(build_app(), [
        "release", "neural_networks", "--solutions", str(solutions),
        "--output", str(tmp_path / "out"), "--no-fixtures"])
    assert result.exit_code == 2, result.output
    assert f"activations.py:{line}: library block 'neural_netwroks.relu'" in result.output
    assert "did you mean 'neural_networks'?" in result.output
    assert "split it" not in result.output and not (tmp_path / "out").exists()


def test_a_library_name_no_module_exports_is_said_as_such(tmp_path):
    """A new library module without ``__all__`` (an instructor's finding): release said which
    relative imports a notebook can hold, not that the name is exported by no module."""
    import re
    import shutil

    solutions = tmp_path / "solutions"
    shutil.copytree(Path(__file__).resolve().parents[2] / "solutions", solutions,
                    ignore=shutil.ignore_patterns("__pycache__"))
    pooling = solutions / "library" / "pooling.py"
    pooling.write_text(re.sub(r"^__all__ = \[[^\]]*\]\n", "", pooling.read_text(), flags=re.M))
    result = CliRunner().invoke(build_app(), [
        "release", "cnn_text", "--solutions", str(solutions), "--output", str(tmp_path / "out"),
        "--no-fixtures"])
    assert result.exit_code == 2, result.output
    assert "'from ..library import MaxOverTime': no module of the course library lists " \
           "MaxOverTime in its __all__" in result.output.replace("\n", " ")


def test_a_typo_in_requires_is_named_with_what_exists(pack: Path):
    """``requires`` entries are question ids too: a typo in one (of the topic, of another
    topic's question, of another topic's name) is refused, saying what exists."""
    _edit(pack / "plugin.py", 'reference="nlpdojo_toy_pack.solutions.toy",',
          'reference="nlpdojo_toy_pack.solutions.toy",\n'
          '        requires={"quadratic": ("scael", "neural_networks.xaiver", '
          '"nueral_networks.relu"), "scale": ("scale",)},')
    result = _release(pack)
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "question 'quadratic': requires unknown question 'scael'; did you mean 'scale'?" in out
    assert ("requires unknown question 'neural_networks.xaiver'; did you mean 'xavier'?"
            in out)
    assert ("requires 'nueral_networks.relu', of topic 'nueral_networks', which is not "
            "installed; did you mean 'neural_networks'?") in out
    assert "question 'scale': requires itself" in out
    assert not Path("exercises").exists()


def test_a_planted_bug_module_in_questions_spelling_is_told_the_module_name(pack: Path):
    """``Question(code="library/mgu")`` names a file; ``bug(..., module)`` a module: given the
    first spelling, release says the second."""
    _edit(pack / "plugin.py", 'PlantedBug("scale adds", "scale",',
          'PlantedBug("scale adds", "library/scale",')
    result = _release(pack)
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "module 'library/scale' not found" in out
    assert "'..library.scale' for the course library's, 'scale' for the topic's" in out
