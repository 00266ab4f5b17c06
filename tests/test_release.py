"""``dojo release``: exercises/ generated from solutions/, ``--check``, all-or-nothing writes."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nlpdojo_solutions
from nlpdojo import plugins
from nlpdojo.cli.app import build_app
from nlpdojo.hookspecs import hookimpl
from nlpdojo_autograder.authoring.checks import Exercise, Verdict
from nlpdojo_autograder.authoring.kinds import custom_check
from nlpdojo_autograder.authoring.markers import MarkerError, strip_solutions
from nlpdojo_autograder.release.release import README_HEADER, ReleaseError, release, topics_in
from tests._packages import forget, import_package

FIXTURE_SOLUTIONS = Path(__file__).parent / "fixtures" / "release_topic" / "solutions"
REPO = Path(__file__).resolve().parents[1]

RELEASED = [
    "README.md",
    "test_toy.py",
    "toy/README.md",
    "toy/__init__.py",
    "toy/activations.py",
    "toy/classifier.py",
    "toy/data/tiny.txt",
    "toy/toy.ipynb",
]


@pytest.fixture
def solutions(tmp_path: Path) -> Path:
    """A private copy of the fixture solutions folder (tests may break it)."""
    dest = tmp_path / "solutions"
    shutil.copytree(FIXTURE_SOLUTIONS, dest)
    return dest


@pytest.fixture
def released(solutions: Path, tmp_path: Path) -> Path:
    """The fixture released into ``tmp_path / 'exercises'``."""
    out = tmp_path / "exercises"
    release(solutions, out)
    return out


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``root`` with its bytes and modification time."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_release_generates_every_file(solutions: Path, tmp_path: Path):
    out = tmp_path / "exercises"
    report = release(solutions, out)
    assert report.topics == ["toy"]
    assert sorted(report.written) == RELEASED
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == RELEASED
    topic = solutions / "toy"
    for module in ("activations.py", "classifier.py", "__init__.py"):
        expected = strip_solutions(topic.joinpath(module).read_text(encoding="utf-8"), module)
        assert (out / "toy" / module).read_text(encoding="utf-8") == expected
    assert (out / "toy/data/tiny.txt").read_bytes() == (topic / "data/tiny.txt").read_bytes()
    assert (out / "toy/README.md").read_bytes() == (topic / "README.md").read_bytes()
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(README_HEADER)
    assert "`toy/`" in readme and "dojo release" in readme
    # modules stay clean: no generated header in them
    assert "GENERATED" not in (out / "toy/activations.py").read_text(encoding="utf-8")


def test_released_package_imports_and_stubs_name_their_question(released: Path):
    try:
        package = import_package(released / "toy", "released_toy")
        activations = importlib.import_module("released_toy.activations")
        classifier = importlib.import_module("released_toy.classifier")
        assert package.__doc__.startswith("Topic ``toy``")
        with pytest.raises(NotImplementedError, match=r"^sigmoid: not implemented yet"):
            activations.sigmoid(0.0)
        with pytest.raises(NotImplementedError, match=r"^logistic: not implemented yet"):
            classifier.LogisticRegression(1.0, 0.0).forward(2.0)
        assert classifier.sigmoid is activations.sigmoid  # relative import kept
    finally:
        forget("released_toy")


def test_second_release_changes_nothing_and_check_passes(solutions: Path, released: Path):
    before = _snapshot(released)
    again = release(solutions, released)
    assert again.written == [] and again.removed == []
    assert sorted(again.unchanged) == RELEASED
    assert _snapshot(released) == before
    check = release(solutions, released, check=True)
    assert check.in_sync and check.differences == []


def test_check_detects_hand_edit_stale_file_and_missing_file(solutions: Path, released: Path):
    edited = released / "toy/activations.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nHAND_EDIT = 1\n", encoding="utf-8")
    (released / "toy/old_module.py").write_text("x = 1\n", encoding="utf-8")
    (released / "toy/data/tiny.txt").unlink()
    before = _snapshot(released)

    report = release(solutions, released, check=True)

    assert not report.in_sync
    kinds = {d.path: d.kind for d in report.differences}
    assert kinds == {
        "toy/activations.py": "changed",
        "toy/old_module.py": "extra",
        "toy/data/tiny.txt": "missing",
    }
    diff = next(d.diff for d in report.differences if d.path == "toy/activations.py")
    assert "-HAND_EDIT = 1" in diff and "toy/activations.py (output)" in diff
    assert _snapshot(released) == before  # check writes nothing


def test_release_repairs_output_and_removes_stale_files_only_inside_topics(
    solutions: Path, released: Path
):
    (released / "toy/activations.py").write_text("broken\n", encoding="utf-8")
    (released / "toy/old_module.py").write_text("x = 1\n", encoding="utf-8")
    (released / "toy/olddir").mkdir()
    (released / "toy/olddir/gone.txt").write_text("x\n", encoding="utf-8")
    (released / "toy/__pycache__").mkdir()
    (released / "toy/__pycache__/activations.cpython-311.pyc").write_bytes(b"cache")
    (released / "notes.txt").write_text("mine\n", encoding="utf-8")
    (released / "other_topic").mkdir()
    (released / "other_topic/mine.py").write_text("y = 2\n", encoding="utf-8")

    report = release(solutions, released)

    assert report.written == ["toy/activations.py"]
    assert sorted(report.removed) == ["toy/old_module.py", "toy/olddir/gone.txt"]
    assert not (released / "toy/old_module.py").exists()
    assert not (released / "toy/olddir").exists()
    assert (released / "toy/__pycache__/activations.cpython-311.pyc").read_bytes() == b"cache"
    assert (released / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert (released / "other_topic/mine.py").read_text(encoding="utf-8") == "y = 2\n"
    assert release(solutions, released, check=True).in_sync


def test_marker_error_leaves_output_untouched(solutions: Path, released: Path):
    # a change that would be written, and a marker error in another module
    readme = solutions / "toy/README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nNew paragraph.\n", encoding="utf-8")
    broken = solutions / "toy/classifier.py"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("### END SOLUTION\n", "### END SOLUTIONS\n", 1),
        encoding="utf-8",
    )
    before = _snapshot(released)
    with pytest.raises(MarkerError, match=r"classifier\.py:\d+: malformed END marker") as info:
        release(solutions, released)
    assert "nothing in the output changed" in str(info.value)
    assert _snapshot(released) == before


def test_every_marker_error_is_reported_at_once(solutions: Path, tmp_path: Path):
    for name in ("activations.py", "classifier.py"):
        path = solutions / "toy" / name
        path.write_text(
            path.read_text(encoding="utf-8").replace(
                "### BEGIN SOLUTION ", "## BEGIN SOLUTION ", 1
            ),
            encoding="utf-8",
        )
    out = tmp_path / "exercises"
    with pytest.raises(MarkerError) as info:
        release(solutions, out)
    message = str(info.value)
    assert message.startswith("2 problems")
    assert "activations.py:" in message and "classifier.py:" in message
    assert not out.exists()


def test_every_marker_problem_in_one_file_is_listed(solutions: Path, tmp_path: Path):
    path = solutions / "toy" / "classifier.py"
    text = path.read_text(encoding="utf-8").replace("### BEGIN SOLUTION ", "## BEGIN SOLUTION ")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MarkerError) as info:
        release(solutions, tmp_path / "exercises")
    message = str(info.value)
    assert message.startswith("2 problems")
    assert message.count("classifier.py:") == 2 and message.count("malformed BEGIN") == 2


def test_a_name_two_library_modules_export_is_a_release_error_naming_both(solutions: Path,
                                                                         tmp_path: Path):
    """``from ..library import Linear`` must name one module: two listing Linear in __all__
    stop the release (nothing written), naming both files."""
    library = solutions / "library"
    library.mkdir()
    (library / "__init__.py").write_text("from nlpdojo.exports import reexport\n\n"
                                         "__getattr__, __dir__ = reexport(__name__)\n")
    for name in ("layers", "mylayers"):
        (library / f"{name}.py").write_text('__all__ = ["Linear"]\n\n\nclass Linear:\n'
                                            "    pass\n")
    out = tmp_path / "exercises"
    with pytest.raises(ReleaseError, match=r"library/layers\.py and library/mylayers\.py both "
                                           "export 'Linear'") as info:
        release(solutions, out)
    assert "the release was not written" in str(info.value)
    assert not out.exists()
    (library / "mylayers.py").write_text('__all__ = ["MyLinear"]\n\n\nclass MyLinear:\n'
                                         "    pass\n")
    release(solutions, out)
    assert (out / "library" / "mylayers.py").is_file()


def test_release_refuses_a_readme_it_did_not_write(solutions: Path, tmp_path: Path):
    out = tmp_path / "project"
    out.mkdir()
    (out / "README.md").write_text("# My project\n", encoding="utf-8")
    with pytest.raises(ReleaseError, match="not generated by `dojo release`"):
        release(solutions, out)
    assert [p.name for p in out.iterdir()] == ["README.md"]


def test_release_refuses_output_overlapping_solutions(solutions: Path):
    with pytest.raises(ReleaseError, match="overlaps the solutions"):
        release(solutions, solutions / "exercises")
    with pytest.raises(ReleaseError, match="overlaps the solutions"):
        release(solutions, solutions.parent)


def test_missing_solutions_folder_is_an_error(tmp_path: Path):
    with pytest.raises(ReleaseError, match="no such solutions folder"):
        release(tmp_path / "nope", tmp_path / "out")


def test_reserved_notebook_name_in_solutions_is_an_error(solutions: Path, tmp_path: Path):
    (solutions / "toy/toy.ipynb").write_text("{}", encoding="utf-8")
    with pytest.raises(ReleaseError, match="reserved for the generated topic notebook"):
        release(solutions, tmp_path / "out")


def test_solutions_pointing_at_a_topic_is_an_error_naming_the_parent(solutions: Path,
                                                                    tmp_path: Path):
    out = tmp_path / "new" / "deep" / "out"
    with pytest.raises(ReleaseError, match=r"is a topic.*did you mean its parent") as info:
        release(solutions / "toy", out)
    assert str(solutions.resolve()) in str(info.value)
    assert not (tmp_path / "new").exists()


def test_solutions_folder_without_topics_is_an_error(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReleaseError, match="holds no topic"):
        release(tmp_path / "empty", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_topic_folder_without_init_is_an_error_not_a_topic_left_out(solutions: Path,
                                                                       tmp_path: Path):
    """A topic folder copied without its ``__init__.py`` (an example's folder copied over
    by hand) was released as no topic at all, "in sync", while the grader asked every
    student for its modules; it is an error saying what to add, and nothing is written."""
    shutil.copytree(solutions / "toy", solutions / "attention")
    (solutions / "attention" / "__init__.py").unlink()
    out = tmp_path / "out"
    with pytest.raises(ReleaseError, match=r"attention holds modules but no __init__.py, so it "
                       r"would be released as no topic .*add an empty __init__.py"):
        release(solutions, out)
    assert not out.exists()


def _second_source(tmp_path: Path) -> Path:
    """Another solutions folder with one topic, ``other`` (a renamed copy of ``toy``)."""
    other = tmp_path / "pack" / "solutions"
    shutil.copytree(FIXTURE_SOLUTIONS / "toy", other / "other")
    init = other / "other" / "__init__.py"
    init.write_text('"""Topic ``other``: a second pack."""\n', encoding="utf-8")
    return other


def test_two_sources_share_one_output_and_the_readme_lists_both(solutions: Path,
                                                                 released: Path,
                                                                 tmp_path: Path):
    other = _second_source(tmp_path)
    report = release(other, released)
    assert report.topics == ["other"]
    readme = (released / "README.md").read_text(encoding="utf-8")
    assert "- [`other/`](other/): Topic ``other``: a second pack." in readme
    assert "- [`toy/`](toy/)" in readme
    # no ping-pong: each source's --check passes, and releasing either again changes nothing
    assert release(solutions, released, check=True).in_sync
    assert release(other, released, check=True).in_sync
    before = _snapshot(released)
    assert release(solutions, released).written == []
    assert release(other, released).written == []
    assert _snapshot(released) == before


def test_generated_pytest_module_names_its_own_file_and_a_real_question(released: Path):
    text = (released / "test_toy.py").read_text(encoding="utf-8")
    assert "{this file}" not in text and "-m softmax" not in text
    assert "    pytest exercises/test_toy.py\n" in text
    assert "    pytest exercises/test_toy.py -m sigmoid\n" in text


def test_released_files_get_ordinary_permissions(solutions: Path, tmp_path: Path):
    import os

    old = os.umask(0o022)
    try:
        out = tmp_path / "exercises"
        release(solutions, out)
    finally:
        os.umask(old)
    modes = {p.relative_to(out).as_posix(): p.stat().st_mode & 0o777
             for p in out.rglob("*") if p.is_file()}
    assert set(modes.values()) == {0o644}, modes


# --------------------------------------------------------------------------- the command


def _invoke(*args: str):
    return CliRunner().invoke(build_app(), ["release", *args])


class _ToyTopic:
    """Registers exercise ``toy`` (questions sigmoid and logistic, one check each): the
    command releases only topics something can grade."""

    @hookimpl
    def register_exercises(self, register):
        def check(question):
            return custom_check("values", question, 1.0, lambda ctx: {},
                                lambda actual, expected: Verdict(True, "ok"), question=question,
                                needs_expected=True)

        register("toy", Exercise(name="toy", title="Toy",
                                 questions={"sigmoid": "Sigmoid", "logistic": "Logistic"},
                                 checks=[check("sigmoid"), check("logistic")]))


@pytest.fixture
def toy_registered(monkeypatch):
    monkeypatch.setattr(plugins, "_manager", plugins.make_manager(extra_plugins={
        "toy-topic": _ToyTopic()}))
    monkeypatch.setattr(plugins, "_registry", None)


def test_command_refuses_solutions_that_no_exercise_grades(solutions: Path, tmp_path: Path):
    """A topic folder in the solutions with no registered exercise was released without a
    word, and `grade` then listed 50 question ids for it."""
    out = tmp_path / "exercises"
    result = _invoke("--solutions", str(solutions), "--output", str(out))
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"{solutions / 'toy'}: has solutions but no registered exercise 'toy'" in text
    assert "`dojo new topic toy` scaffolds course/toy/" in text
    assert not out.exists()


def test_command_releases_and_checks(solutions: Path, tmp_path: Path, toy_registered):
    out = tmp_path / "exercises"
    result = _invoke("--solutions", str(solutions), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "released 1 topic from" in result.output and "8 written" in result.output
    assert (out / "toy/toy.ipynb").is_file()

    result = _invoke("--solutions", str(solutions), "--output", str(out), "--check")
    assert result.exit_code == 0, result.output
    assert "in sync" in result.output

    (out / "toy/extra.md").write_text("stale\n", encoding="utf-8")
    edited = out / "toy/classifier.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")
    result = _invoke("--solutions", str(solutions), "--output", str(out), "--check")
    assert result.exit_code == 1
    assert f"extra: {out / 'toy/extra.md'}" in result.output
    assert f"changed: {out / 'toy/classifier.py'}" in result.output
    assert "@@" in result.output and "-# my edit" in result.output  # a unified-diff excerpt
    assert "2 files" in result.output and "run `dojo release`" in result.output


def test_command_reports_marker_errors_without_traceback(solutions: Path, tmp_path: Path):
    path = solutions / "toy/activations.py"
    path.write_text(
        path.read_text(encoding="utf-8").replace("### END SOLUTION\n", ""), encoding="utf-8"
    )
    result = _invoke("--solutions", str(solutions), "--output", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "error:" in result.output and "never closed" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_command_defaults_to_installed_solutions_and_local_exercises(monkeypatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    result = _invoke("--check", "--no-fixtures")  # the defaults, not the fixtures (minutes)
    solutions_dir = Path(nlpdojo_solutions.__file__).parent
    # tmp_path has no exercises/ yet: nothing to compare without topics, else missing files
    expected_code = 1 if topics_in(solutions_dir) else 0
    assert result.exit_code == expected_code, result.output
    if expected_code:
        assert f"missing: {Path('exercises') / 'README.md'}" in result.output


def test_command_refuses_a_topic_folder_as_solutions(solutions: Path, tmp_path: Path):
    out = tmp_path / "new" / "out"
    result = _invoke("--solutions", str(solutions / "toy"), "--output", str(out))
    assert result.exit_code == 2, result.output
    assert "did you mean its parent" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_command_refuses_a_local_solutions_folder_other_than_the_installed_one(
        solutions: Path, tmp_path: Path, monkeypatch, toy_registered):
    # a second checkout (or a course folder) with its own solutions/: releasing the installed
    # nlpdojo_solutions into ./exercises by default would be a silent mix-up
    monkeypatch.chdir(solutions.parent)
    result = _invoke("--check", "--no-fixtures")
    assert result.exit_code == 2, result.output
    assert "./solutions is not the installed nlpdojo_solutions" in result.output
    assert "--solutions solutions" in result.output
    result = _invoke("--solutions", "solutions", "--check", "--no-fixtures")
    assert result.exit_code == 1  # nothing released yet: every file missing


# --------------------------------------------------------------------------- the real course


def test_real_exercises_are_in_sync_with_solutions():
    """exercises/ must equal what `dojo release` generates from solutions/."""
    solutions_dir = Path(nlpdojo_solutions.__file__).parent
    topics = [p for p in solutions_dir.iterdir() if (p / "__init__.py").is_file()]
    has_modules = any(p.name != "__init__.py" for t in topics for p in t.glob("*.py"))
    exercises = REPO / "exercises"
    if not has_modules and not exercises.exists():
        pytest.skip(
            "solutions/ has no topic with modules yet; run `dojo release` once content lands"
        )
    report = release(solutions_dir, exercises, check=True)
    listing = "\n".join(f"  {d.kind}: {d.path}" for d in report.differences)
    first = report.differences[0].diff if report.differences else ""
    assert report.in_sync, f"exercises/ is out of date; run `dojo release`:\n{listing}\n{first}"


def test_the_generated_readme_says_how_to_submit():
    from nlpdojo_autograder.release.release import _readme

    text = _readme([("word_vectors", "word2vec from scratch")])
    submit = text.split("## How to submit", 1)[1].split("## Topics", 1)[0]
    assert "Gradescope" in submit and "--format json --output result.json" in submit
    assert "hidden checks" in text.split("## How to submit", 1)[0].lower()


def test_the_generated_readme_lists_a_topic_by_its_whole_first_paragraph(tmp_path):
    """A topic's docstring wrapped over two lines is listed whole, on one line (its first
    line alone stopped mid-sentence: "... n-gram language models, their")."""
    from nlpdojo_autograder.release.release import _summary

    (tmp_path / "__init__.py").write_text('"""Topic ``t``: one sentence wrapped\nover two '
                                          'lines.\n\nA second paragraph."""\n')
    assert _summary(tmp_path) == "Topic ``t``: one sentence wrapped over two lines."


def test_the_readmes_list_every_registered_topic_whole():
    """Issue 26: README.md said "Topics so far: word_vectors" when three existed. Its list and
    the generated exercises/README.md name exactly the registered topics, in course order, each
    description a whole sentence (one stopped mid-sentence)."""
    import re

    from nlpdojo_autograder.grading.grade import exercise_names

    topics = exercise_names()
    assert len(topics) >= 4
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("Topics so far", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\d+\. \*\*`(\w+)`\*\*", section, re.MULTILINE) == topics
    generated = (REPO / "exercises" / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^- \[`(\w+)/`\]\(\1/\): (.+)$", generated.split("## Topics", 1)[1],
                       re.MULTILINE)
    assert sorted(name for name, _ in lines) == sorted(topics)
    for name, summary in lines:
        assert summary.endswith("."), (name, summary)
