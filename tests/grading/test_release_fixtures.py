"""``dojo release`` and the fixtures of an exercise pack: generated from the ``--solutions``
folder, written only where that folder's own package keeps them, deterministic, and rewritten
only when their values change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.release.bundle import BundleError, check_in_sync

PACK = Path(__file__).parent / "toy_pack" / "nlpdojo_toy_pack"
FIXTURE_FILES = ["scale.values.json", "scale.values.npz", "quadratic.values.json",
                 "quadratic.values.npz", "quadratic.gradient.json", "quadratic.gradient.npz",
                 "quadratic.descent.json", "scale.workdir.json"]


@pytest.fixture
def pack(tmp_path, monkeypatch, toy_pack_site) -> Path:
    """The toy pack installed "editable" in a private site folder (its solutions are the files
    the pack imports); returns the package folder."""
    folder = toy_pack_site(tmp_path / "site")
    monkeypatch.chdir(tmp_path)
    return folder


def _release(*args: str):
    return CliRunner().invoke(build_app(), ["release", *args])


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_fixtures_come_from_the_solutions_and_go_to_the_pack(pack: Path):
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 0, result.output
    dest = pack / "fixtures" / "toy"
    # and what they were computed from (a release that changes nothing reuses them)
    assert sorted(p.name for p in dest.iterdir()) == sorted([*FIXTURE_FILES, "FINGERPRINT",
                                                            "GIVEN"])
    assert f"fixtures {dest}: 8 written, 0 removed, 0 unchanged." in result.output
    assert f"wrote   {dest / 'scale.values.json'}" in result.output
    # deterministic: status and scalars only, no timing
    stored = json.loads((dest / "quadratic.descent.json").read_text())
    assert set(stored) == {"status", "scalars"}
    assert (Path("exercises") / "toy" / "toy.ipynb").is_file()
    # a gradient check's fixture: the reference's loss and gradient at the check's point only
    with np.load(dest / "quadratic.gradient.npz") as stored_gradient:
        assert sorted(stored_gradient.files) == ["W|analytic", "W|loss"]


def test_a_second_release_rewrites_nothing(pack: Path):
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    before = _snapshot(pack / "fixtures") | {
        f"exercises/{k}": v for k, v in _snapshot(Path("exercises")).items()}
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 0, result.output
    assert f"fixtures {pack / 'fixtures' / 'toy'}: reused" in result.output  # not computed
    assert "wrote" not in result.output
    after = _snapshot(pack / "fixtures") | {
        f"exercises/{k}": v for k, v in _snapshot(Path("exercises")).items()}
    assert after == before
    check = _release("--solutions", str(pack / "solutions"), "--check")
    assert check.exit_code == 0, check.output
    assert "fixtures of 1 exercises" in check.output


def test_fixtures_in_the_old_form_or_stale_are_rewritten_once(pack: Path):
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    dest = pack / "fixtures" / "toy"
    old = dest / "scale.values.json"
    old.write_text(json.dumps({"status": "ok", "scalars": {}, "duration_s": 0.48}))
    (dest / "gone.values.json").write_text('{"status": "ok", "scalars": {}}\n')
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 0, result.output
    assert "1 written, 1 removed, 7 unchanged" in result.output
    assert "duration_s" not in old.read_text()
    assert not (dest / "gone.values.json").exists()


def test_fixtures_are_computed_again_when_what_they_depend_on_changes(pack: Path):
    """The solutions, the grader's code or the pack's own code: any change of a source file's
    code (one that changes no value too) and the fixtures are computed again, and stay
    unchanged where their values did."""
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    dest = pack / "fixtures" / "toy"
    recorded = (dest / "FINGERPRINT").read_text()
    for changed in (pack / "solutions" / "toy" / "scale.py", pack / "plugin.py"):
        changed.write_text(changed.read_text() + "\n_AN_EDIT = 1\n")
        result = _release("--solutions", str(pack / "solutions"))
        assert result.exit_code == 0, result.output
        assert f"fixtures {dest}: 0 written, 0 removed, 8 unchanged." in result.output
        assert (dest / "FINGERPRINT").read_text() != recorded
        recorded = (dest / "FINGERPRINT").read_text()


def test_a_comment_or_docstring_edit_computes_no_fixture_again(pack: Path):
    """No value depends on a comment, a docstring or the layout (the fingerprint also records
    the sources' syntax trees without them): such an edit of the solutions or of the grader's
    code keeps the fixtures, and the release records the sources again (a library
    docstring edited cost every topic's whole release, 50 s each); the next release reuses
    them as they are, and ``--check`` says what a release would record until one does."""
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    dest = pack / "fixtures" / "toy"
    before = _snapshot(dest)
    scale = pack / "solutions" / "toy" / "scale.py"
    for changed, edit in ((scale, lambda t: t.replace("\n", "\n# a comment\n", 1)),
                          (scale, lambda t: t.replace('"""', '"""Edited. ', 1)),
                          (pack / "plugin.py", lambda t: t.replace("Registers", "Registers,"))):
        recorded = (dest / "FINGERPRINT").read_text()
        text = changed.read_text()
        assert edit(text) != text
        changed.write_text(edit(text))
        check = _release("--solutions", str(pack / "solutions"), "--check")
        assert check.exit_code == 1, check.output
        assert ("the fixtures stand (their sources changed only in comments, docstrings or "
                "layout), but it records the sources as they were") in check.output
        result = _release("--solutions", str(pack / "solutions"))
        assert result.exit_code == 0, result.output
        assert f"fixtures {dest}: reused and recorded again" in result.output
        assert "wrote   " + str(dest) not in result.output
        assert (dest / "FINGERPRINT").read_text() != recorded
        assert {k: v for k, v in _snapshot(dest).items() if k != "FINGERPRINT"} == {
            k: v for k, v in before.items() if k != "FINGERPRINT"}  # not even touched
        again = _release("--solutions", str(pack / "solutions"))
        assert f"fixtures {dest}: reused (computed from the same" in again.output
        assert _release("--solutions", str(pack / "solutions"), "--check").exit_code == 0
    # a change of code, though it changes no value, still computes them
    scale.write_text(scale.read_text() + "\n_AN_EDIT = 1\n")
    result = _release("--solutions", str(pack / "solutions"))
    assert f"fixtures {dest}: 0 written, 0 removed, 8 unchanged." in result.output


def test_a_given_modules_comment_edited_records_its_digest_again(pack: Path):
    """A given module's comment edited: the fixtures stand, but a student's untouched copy is
    compared with the digests of the given modules recorded beside them (GIVEN): ``--check``
    and a student bundle refuse until a release records them again, and the release does."""
    plugin = pack / "plugin.py"
    plugin.write_text(plugin.read_text().replace(
        'questions={"scale"', 'given_modules=("helper",), questions={"scale"'))
    helper = pack / "solutions" / "toy" / "helper.py"
    helper.write_text('"""Given code."""\n\nSTEPS = 3\n')
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    dest = pack / "fixtures" / "toy"
    given = json.loads((dest / "GIVEN").read_text())
    assert set(given) == {"helper"}
    helper.write_text('"""Given code."""\n\nSTEPS = 3  # the loop\'s steps\n')
    check = _release("--solutions", str(pack / "solutions"), "--check")
    assert check.exit_code == 1, check.output
    assert ("the given modules changed, so the digests a student's copy is compared with are "
            "out of date") in check.output
    # the exercises released alone (no fixtures): a bundle of them refuses the stale digests
    assert _release("--solutions", str(pack / "solutions"), "--no-fixtures").exit_code == 0
    with pytest.raises(BundleError, match="GIVEN \\(the given modules changed since\\)"):
        check_in_sync(pack / "solutions", Path("exercises"), pack.parent)
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 0, result.output
    assert f"fixtures {dest}: reused and recorded again" in result.output
    assert json.loads((dest / "GIVEN").read_text()) != given
    assert _release("--solutions", str(pack / "solutions"), "--check").exit_code == 0
    check_in_sync(pack / "solutions", Path("exercises"), pack.parent)


def test_a_planted_bug_written_or_edited_leaves_the_fixtures_as_they_are(pack: Path):
    """A topic's planted bugs (its ``withheld`` package) are no check's input: writing or
    editing one, as an author does while proving a check, computes no fixture again (it cost
    cnn_text's whole release, and `--check` 21 s to find them equal); a module beside them,
    outside that package, still does."""
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    dest = pack / "fixtures" / "toy"
    recorded = (dest / "FINGERPRINT").read_text()
    withheld = pack / "withheld"
    withheld.mkdir()
    (withheld / "__init__.py").write_text("# the toy topic's planted bugs\n")
    for text in ("BUGS = []\n", "BUGS = []  # an edit\n"):
        (withheld / "scale.py").write_text(text)
        result = _release("--solutions", str(pack / "solutions"))
        assert result.exit_code == 0, result.output
        assert f"fixtures {dest}: reused" in result.output
        assert (dest / "FINGERPRINT").read_text() == recorded
    (pack / "helpers.py").write_text("HELP = 1\n")  # not withheld: read
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 0, result.output
    assert f"fixtures {dest}: 0 written, 0 removed, 8 unchanged." in result.output
    assert (dest / "FINGERPRINT").read_text() != recorded


def test_a_readme_edit_leaves_the_fixtures_as_they_are(pack: Path):
    """A topic's prose is no check's input: a README written or edited in the solutions is
    released to the exercises and computes no fixture again (it cost a whole topic's release,
    50 s for cnn_text)."""
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    dest = pack / "fixtures" / "toy"
    recorded = (dest / "FINGERPRINT").read_text()
    readme = pack / "solutions" / "toy" / "README.md"
    for text in ("# Toy\n", "# Toy\n\nAn edit.\n"):
        readme.write_text(text)
        result = _release("--solutions", str(pack / "solutions"))
        assert result.exit_code == 0, result.output
        assert f"fixtures {dest}: reused" in result.output
        assert (dest / "FINGERPRINT").read_text() == recorded
        assert (Path("exercises") / "toy" / "README.md").read_text() == text


def test_check_compares_the_fixtures_with_the_solutions_folder(pack: Path):
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    module = pack / "solutions" / "toy" / "scale.py"
    # (the planted bug's `find`, "xp.multiply(x, k)", must still occur once)
    module.write_text(module.read_text().replace("xp.multiply(x, k)", "xp.multiply(x, k) + 1"))
    result = _release("--solutions", str(pack / "solutions"), "--check")
    assert result.exit_code == 1, result.output
    assert "scale.values: values differ" in result.output
    assert "fixtures are out of sync" in result.output


def test_check_names_a_fingerprint_that_a_release_would_rewrite(pack: Path):
    """A source's code changed without changing a value: the fixtures are computed again
    and equal, but the FINGERPRINT records the old sources, so every later release would
    compute them again and tests that read it see another topic's change. ``--check`` says so
    and exits 1 until a release records it."""
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    dest = pack / "fixtures" / "toy"
    module = pack / "solutions" / "toy" / "scale.py"
    module.write_text(module.read_text() + "\n_AN_EDIT_THAT_CHANGES_NO_VALUE = 1\n")
    result = _release("--solutions", str(pack / "solutions"), "--check")
    assert result.exit_code == 1, result.output
    assert (f"fixture out of date: {dest / 'FINGERPRINT'}: the fixtures computed again are "
            "equal") in result.output
    assert "values differ" not in result.output
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    check = _release("--solutions", str(pack / "solutions"), "--check")
    assert check.exit_code == 0, check.output


def test_a_fixture_edited_by_hand_is_out_of_sync_and_stored_again(pack: Path):
    """The sources unchanged, a fixture changed after the release (by hand, a merge, another
    release's files copied in): ``--check`` computes it again and says so, and a release puts
    the reference's values back (the fingerprint records what was stored too)."""
    assert _release("--solutions", str(pack / "solutions")).exit_code == 0
    dest = pack / "fixtures" / "toy"
    fixture = dest / "quadratic.descent.json"
    kept = fixture.read_bytes()
    stored = json.loads(kept)
    stored["scalars"] = {k: v + 1.0 for k, v in stored["scalars"].items()}
    fixture.write_text(json.dumps(stored))
    result = _release("--solutions", str(pack / "solutions"), "--check")
    assert result.exit_code == 1, result.output
    assert "fixtures are out of sync" in result.output and "quadratic.descent" in result.output
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 0, result.output
    assert fixture.read_bytes() == kept
    assert _release("--solutions", str(pack / "solutions"), "--check").exit_code == 0


def test_fixtures_of_another_copy_are_refused_before_anything_is_written(pack: Path,
                                                                         tmp_path: Path):
    # releasing a copy of the solutions (a source tree, while the pack is installed from
    # elsewhere) would write that copy's fixtures into the installed package: refused
    copy = tmp_path / "src" / "solutions"
    shutil.copytree(pack / "solutions", copy, ignore=shutil.ignore_patterns("__pycache__"))
    result = _release("--solutions", str(copy), "--output", "out")
    assert result.exit_code == 2, result.output
    assert "cannot release fixtures" in result.output and "--no-fixtures" in result.output
    assert "pip install -e" in result.output and "Traceback" not in result.output
    assert not Path("out").exists()
    assert not (pack / "fixtures").exists()
    result = _release("--solutions", str(copy), "--output", "out", "--no-fixtures")
    assert result.exit_code == 0, result.output
    assert not (pack / "fixtures").exists()


def test_solutions_that_fail_their_own_checks_write_nothing(pack: Path):
    module = pack / "solutions" / "toy" / "scale.py"
    module.write_text(module.read_text().replace(
        "return xp.multiply(x, k)", "raise ValueError('broken')\n    return xp.multiply(x, k)"))
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 2, result.output
    assert "fail their own checks" in result.output and "scale.values" in result.output
    assert not Path("exercises").exists()
    assert not (pack / "fixtures").exists()


def test_solutions_whose_gradient_fails_its_check_write_nothing(pack: Path):
    """A reference that runs but fails a check it is judged by on its own (here its gradient
    against central differences, half of the true one) writes no fixture: fixtures from it
    would pass the same mistake in a student's code."""
    module = pack / "solutions" / "toy" / "quadratic.py"
    module.write_text(module.read_text().replace("x[None, :]  # (M, N)",
                                                 "x[None, :] / 2  # (M, N)"))
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 2, result.output
    assert "fail their own checks" in result.output
    assert "quadratic.gradient" in result.output and "scale.values" not in result.output
    assert "grade --solutions" in result.output and "Traceback" not in result.output
    assert not Path("exercises").exists()
    assert not (pack / "fixtures").exists()


def test_a_check_that_needs_the_reference_and_never_reads_it_writes_nothing(pack: Path):
    """Issue 65: a ``custom_check(needs_expected=True)`` whose judge never compares with the
    reference (here it asks only that a file exists) is excused from the oracle rule, yet its
    points rest on its own judgement: judged against the reference's outputs made wrong both
    ways it still passes, and the release refuses it, naming the check and the fix."""
    plugin = pack / "plugin.py"
    text = plugin.read_text()
    find = 'bool(a["exists"]) and e is not None and a["text"] == e["text"]'
    assert find in text
    plugin.write_text(text.replace(find, 'bool(a["exists"])'))
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "scale.workdir: needs the reference's values (needs_expected)" in out
    assert "never compares with `expected`" in out and "right=(rtol, atol)" in out
    assert out.count("needs the reference's values") == 1  # the toy's other checks compare
    assert "Traceback" not in out
    assert not (pack / "fixtures").exists()


def test_a_check_judged_against_its_own_oracle_or_the_reference_is_no_blind_judge(pack: Path):
    """The reverse: the toy pack's checks, each compared with the reference (values,
    gradients, the file's text), release as they are."""
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 0, result.output
    assert "needs the reference's values" not in result.output


def test_a_check_whose_own_code_breaks_on_the_reference_says_so_and_where(pack: Path):
    """An author's mistake in a check's collect (a helper called with one argument too many)
    fails the reference's run: the message blames the check, with its file and line, not
    "the values your code returned"."""
    plugin = pack / "plugin.py"
    plugin.write_text(plugin.read_text().replace(
        '    return {"out": ctx.to_numpy(out, "scale(x, 3)")}',
        '    return {"out": ctx.to_numpy(out, "scale(x, 3)", "extra")}'))
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "scale.values: error the check's own code failed on the reference's run" in out
    assert "TypeError" in out and f"(at {plugin}:23)" in out
    assert "your code returned" not in out


def test_a_data_set_its_question_does_not_declare_is_said_as_missing(pack: Path):
    """A check that reads a data set not fetched, which its question does not declare
    (``Question(datasets=...)`` is said before grading): the fetch command and what to
    declare, not "a bug in the check's declaration"."""
    plugin = pack / "plugin.py"
    plugin.write_text(plugin.read_text().replace(
        "def _scale_values(ctx):\n",
        "def _scale_values(ctx):\n    from nlpdojo.dataset import DataMissingError\n\n"
        "    raise DataMissingError(\"data set 'mr' is not fetched yet. Run: dojo data fetch "
        "mr\")\n"))
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert ("scale.values: error data set 'mr' is not fetched yet. Run: dojo data fetch mr "
            "(its question does not declare it: Question(datasets=...) says so before "
            "grading)") in out
    assert "a bug in the check's declaration" not in out


def test_a_training_checks_error_on_the_reference_writes_nothing(pack: Path):
    """The metric checks of an integrative question (a training run) are not judged when the
    fixtures are computed, and a collect that failed on the reference once went into the
    fixtures as an error outcome without a word (``dojo release`` wrote three of
    word_vectors'); an error is never an expected outcome: nothing is written, the check
    named."""
    plugin = pack / "plugin.py"
    text = plugin.read_text()
    for find, replace in (
            ('    return {"value": float(first - ',
             '    raise RuntimeError("a broken measure")\n    return {"value": float(first - '),
            ('questions={"scale": "Scaling", "quadratic": "A quadratic loss"},',
             'questions={"scale": "Scaling", "quadratic": "A quadratic loss"}, '
             'integrative=("quadratic",),')):
        assert find in text
        text = text.replace(find, replace)
    plugin.write_text(text)
    result = _release("--solutions", str(pack / "solutions"))
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "fail their own checks" in out and "quadratic.descent: error" in out
    assert "a broken measure" in out and "Traceback" not in out
    assert not (pack / "fixtures").exists()


def test_fixtures_read_only_the_library_files_and_plugins_their_topic_uses(tmp_path: Path):
    """Issue 65: a new library file, or an edit of a library file a topic does not use, leaves
    that topic's fixtures' fingerprint as it was (five topics' fixtures were computed again
    for one new file); an edit of a file it uses, directly or through another, changes it; a
    topic that imports the library otherwise than statically reads all of it. A plugin of
    other exercises, trainers or reporters is not read; a backend or a data set read is."""
    from nlpdojo_autograder.grading.grade import get_exercise
    from nlpdojo_autograder.release import fixtures

    solutions = tmp_path / "solutions"
    shutil.copytree(Path(__file__).resolve().parents[2] / "solutions", solutions,
                    ignore=shutil.ignore_patterns("__pycache__"))
    topics = ("word_vectors", "neural_networks", "rnn_variants", "cnn_text")
    exercises = {t: get_exercise(t) for t in topics}

    def prints() -> dict[str, str]:
        return {t: fixtures.fingerprint(e, solutions / t) for t, e in exercises.items()}

    before = prints()
    library = solutions / "library"
    (library / "attention.py").write_text('__all__ = ["Attention"]\n\n\nclass Attention:\n'
                                          '    pass\n')
    assert prints() == before  # a new library file: nobody reads it yet
    names = {t: [p.name for p in fixtures.library_files(e, solutions / t)]
             for t, e in exercises.items()}
    assert names["word_vectors"] == ["__init__.py"]
    # (cnn_text reads gated.py through deep_rnn.py: its char_cnn uses the Highway there)
    assert "clipping.py" in names["rnn_variants"] and "clipping.py" not in names["cnn_text"]
    assert "init.py" in names["cnn_text"]  # through layers.py and conv.py's imports
    clipping = library / "clipping.py"
    clipping.write_text(clipping.read_text() + "\n# an edit\n")
    after = prints()
    assert after["rnn_variants"] != before["rnn_variants"]
    assert {t: after[t] for t in ("word_vectors", "neural_networks", "cnn_text")} == {
        t: before[t] for t in ("word_vectors", "neural_networks", "cnn_text")}
    init = library / "init.py"  # read by the topics whose layers import it
    init.write_text(init.read_text() + "\n# an edit\n")
    again = prints()
    assert again["cnn_text"] != after["cnn_text"] and again["word_vectors"] == before[
        "word_vectors"]
    # an import the fingerprint cannot follow: every library file is read
    kim = solutions / "cnn_text" / "kim_cnn.py"
    kim.write_text(kim.read_text() + "\nimport importlib\n")
    everything = [p.name for p in fixtures.library_files(exercises["cnn_text"],
                                                         solutions / "cnn_text")]
    assert "attention.py" in everything and "clipping.py" in everything

    registered = get_registry().by_plugin()

    def read_by(plugin):
        return fixtures._read_by(registered.get(plugin, []), exercises["cnn_text"])

    assert not read_by("reports")  # a reporter
    assert not read_by("course.word_vectors")  # an exercise
    assert read_by("numpy")  # the backend fixtures run on
    assert read_by("datasets")  # MR, which it reads
    assert read_by("an unknown plugin")


def test_a_check_declared_wrongly_says_so_to_a_student_too(toy, make_submission, monkeypatch):
    """ctx.function(name) in a check whose question names no one module: an author's mistake,
    which a student's grading reported as "the values your code returned could not be used"
    (the reference's said it was the check's)."""
    from nlpdojo_autograder.authoring.kinds import value_check
    from nlpdojo_autograder.grading.grade import GradeOptions, grade_exercise

    broken = value_check("values", "scale, module unnamed", 1.0,
                         lambda ctx: {"out": ctx.to_numpy(ctx.function("scale")(
                             ctx.asarray(np.ones(2)), 2.0))}, question="scale")
    monkeypatch.setattr(toy, "checks", [broken])
    result = grade_exercise(toy, make_submission() / "toy", GradeOptions())
    (check,) = result.checks
    assert check.status == "error"
    assert check.message.startswith("the check is declared wrongly: ctx.function('scale'): "
                                    "this check's question names no one module")
    assert "your code returned" not in check.message
