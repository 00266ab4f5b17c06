"""A course that loads where the instructor works but not in a student's install (its wheel
and nlpdojo's requirements, no extras): found before a student bundle is made."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.release import bundle as bundle_module
from nlpdojo_autograder.release.student_install import import_problems, optional_modules
from tests.grading.test_new_topic import course  # noqa: F401 - the fixture


def test_the_course_loads_without_the_optional_packages():
    """Every plugin and topic, as ``grade`` loads them, with torch, the notebook and cluster
    extras, the developer tools and the reference solutions refused."""
    assert import_problems() == []


def test_what_a_students_install_lacks_is_the_extras_and_the_solutions():
    optional = optional_modules()
    assert "nlpdojo_solutions" in optional
    for extra in ("torch", "dask", "pytest", "nltk"):
        if importlib.util.find_spec(extra) is not None:
            assert extra in optional, extra
    for required in ("numpy", "scipy", "nbformat", "pluggy", "typer", "matplotlib",
                     "nlpdojo", "nlpdojo_autograder", "pip"):
        assert required not in optional, required


def test_an_import_of_torch_when_a_topic_loads_is_named_with_its_line(tmp_path, monkeypatch):
    (tmp_path / "topic_with_torch.py").write_text('"""A topic."""\nimport torch\n\nX = 1\n')
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    [problem] = import_problems("import topic_with_torch")
    assert f"{tmp_path / 'topic_with_torch.py'} line 2 (import torch) imports torch" in problem
    assert "Import it inside the function that uses it" in problem


def test_an_import_of_the_solutions_when_a_topic_loads_is_named(tmp_path, monkeypatch):
    (tmp_path / "topic_with_answers.py").write_text(
        "from nlpdojo_solutions.word_vectors.softmax import softmax\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    [problem] = import_problems("import topic_with_answers")
    assert "line 1" in problem and "imports the reference solutions" in problem


def test_a_course_that_does_not_load_at_all_is_said_so():
    [problem] = import_problems("import module_that_is_nowhere_to_be_found")
    assert problem.startswith("the course does not load: ModuleNotFoundError")


def test_the_bundle_is_refused_and_nothing_written(tmp_path: Path, monkeypatch):
    """... at once: before the fixtures are computed again to compare (half a minute)."""
    def compared(*args):
        raise AssertionError("the fixtures were computed before the imports were checked")

    monkeypatch.setattr(bundle_module, "check_in_sync", compared)
    monkeypatch.setattr(bundle_module, "import_problems", lambda: [
        "course/toy/questions.py line 3 (import torch) imports torch when the course is "
        "loaded"])
    dest = tmp_path / "bundle"
    result = CliRunner().invoke(build_app(), ["release", "--student-bundle", str(dest)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "would not load in a student's install" in text
    assert "course/toy/questions.py line 3 (import torch)" in text
    assert list(tmp_path.iterdir()) == []


def test_a_topic_that_imports_only_what_nlpdojo_requires_passes(tmp_path, monkeypatch):
    (tmp_path / "plain_topic.py").write_text("import numpy\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    assert import_problems("import plain_topic") == []


def test_a_topic_folder_that_imports_torch_is_named_though_grade_only_leaves_it_out(
        course, tmp_path, monkeypatch):  # noqa: F811
    """``grade`` now leaves a topic that fails to load out with a warning (issue 65); loading
    the course for a bundle still fails on it, naming the topic's line."""
    packages, _ = course
    topic = packages / "nlpdojo_course" / "torchy"
    topic.mkdir()
    (topic / "__init__.py").write_text('"""A topic."""\nimport torch\n')
    monkeypatch.setenv("PYTHONPATH", str(packages))
    [problem] = import_problems()
    assert f"{topic / '__init__.py'} line 2 (import torch) imports torch" in problem


def test_an_exercise_pack_installed_beside_is_not_blamed_on_the_plugin_loader(
        tmp_path, monkeypatch):
    """A third-party pack installed where the instructor works is not in the bundle (the
    built-in course only): its package, absent from a student's install, was reported as
    imported by ``framework/plugins.py``, with the advice to import it inside a function."""
    from tests.test_plugins import fake_distribution

    site = tmp_path / "site"
    site.mkdir()
    fake_distribution(site, "fake-pack", "0.1", {"pack": "fake_pack"}, {
        "fake_pack": "from nlpdojo.hookspecs import hookimpl\n"})
    (site / "fake_pack-0.1.dist-info" / "top_level.txt").write_text("fake_pack\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("NLPDOJO_PLUGINS", "pack")  # the instructor's machine loads it
    optional_modules.cache_clear()
    try:
        assert "fake_pack" in optional_modules()
        assert import_problems() == []
        # the pack's package is refused there, as a student's install lacks it
        [problem] = import_problems("import fake_pack")
        assert "imports fake_pack" in problem
    finally:
        optional_modules.cache_clear()
