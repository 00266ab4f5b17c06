"""The grader grades a private snapshot: links out of the submission, odd files and oversize
files are refused (exit 2, one line), the content hash is recorded and ``--replay`` says when
the files changed, a submission that edits itself changes nothing, and notebook metadata can
never name a path."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app
from nlpdojo_autograder.grading.snapshot import (
    MAX_DEPTH,
    NOT_UTF8,
    TOO_DEEP,
    TOO_LARGE,
    SubmissionError,
    submission_files,
    take_snapshot,
)
from tests._nested import nested

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def grade(*args: str):
    return runner.invoke(app, list(args))


def error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return next(line for line in result.output.splitlines() if line.startswith("error: "))


def tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def test_a_topic_folder_linking_to_another_students_folder_is_refused(toy, make_submission,
                                                                      tmp_path):
    other = make_submission(name="alice")
    mine = tmp_path / "bob"
    mine.mkdir()
    (mine / "toy").symlink_to(other / "toy")
    line = error_line(grade("scale", "--submission", str(mine)))
    assert "toy is a symbolic link to" in line and "outside the submission" in line


def test_a_file_linking_outside_the_submission_is_refused(toy, make_submission):
    folder = make_submission()
    (folder / "toy" / "notes.txt").symlink_to("/etc/passwd")
    line = error_line(grade("scale", "--submission", str(folder)))
    assert "notes.txt is a symbolic link to /etc/passwd" in line


def test_a_link_inside_the_submission_is_graded_as_its_target(toy, make_submission, tmp_path):
    folder = make_submission()
    (folder / "toy" / "copy.txt").symlink_to(folder / "toy" / "scale.py")
    snap = take_snapshot(folder, tmp_path / "snap")
    copied = snap.path / "toy" / "copy.txt"
    assert not copied.is_symlink()
    assert copied.read_text() == (folder / "toy" / "scale.py").read_text()


def test_folders_nested_a_thousand_deep_are_left_out_with_a_warning(toy, make_submission,
                                                                    tmp_path):
    """A thousand nested folders (os.walk recurses: RecursionError, an internal error and an
    attempt never recorded), under a name that is UTF-8 or not: left out and said, the rest
    graded as it is; what the course record keeps and dates is what the snapshot holds."""
    folder = make_submission()
    without = take_snapshot(folder, tmp_path / "without")
    odd = Path(os.fsdecode(bytes(folder / "toy") + b"/\xff"))
    with nested(folder / "toy" / "deep", odd), nested(folder / "toy" / "ok",
                                                      depth=MAX_DEPTH - 2) as (kept,):
        snap = take_snapshot(folder, tmp_path / "snap")
        assert snap.files == without.files + 1  # ok/d/.../late.py, as deep as allowed
        assert len(snap.skipped) == 2
        deep = next(line for line in snap.skipped if line.startswith(TOO_DEEP))
        assert f"below {MAX_DEPTH} folders); move its files up to grade them" in deep
        assert any(line.startswith(NOT_UTF8) for line in snap.skipped)
        assert sorted(submission_files(folder)) == sorted(
            folder / p.relative_to(snap.path) for p in snap.path.rglob("*") if p.is_file())
        assert kept / "late.py" in submission_files(folder)


def test_an_oversize_file_is_left_out_with_a_warning_and_fifos_are_refused(
        toy, make_submission, tmp_path):
    """A file over the cap in a submission folder (a checkpoint left in exercises/) is left out
    of the snapshot, the warning naming it and its size (issue 26: it refused the whole
    submission); the rest is snapshotted as before, the hash the same as without the file."""
    folder = make_submission()
    without = take_snapshot(folder, tmp_path / "without", max_file_bytes=40_000)
    big = folder / "toy" / "weights.npy"
    big.write_bytes(b"\0" * 50_000)
    snap = take_snapshot(folder, tmp_path / "a", max_file_bytes=40_000)
    assert not (snap.path / "toy" / "weights.npy").exists()
    assert snap.sha256 == without.sha256 and snap.files == without.files
    (warning,) = snap.skipped
    assert warning.startswith(f"{TOO_LARGE} (toy/weights.npy: 50,000 bytes, more than the "
                              "40,000 a file may have)")
    assert "outputs folder" in warning
    # a link inside the submission to the large file: left out the same way
    (folder / "toy" / "alias.npy").symlink_to(big)
    assert len(take_snapshot(folder, tmp_path / "b", max_file_bytes=40_000).skipped) == 2
    # a submission that is one file too large is refused: nothing would be graded
    with pytest.raises(SubmissionError, match="weights.npy has 50,000 bytes; .* at most 40,000"):
        take_snapshot(big, tmp_path / "c", max_file_bytes=40_000)
    # the total caps still refuse
    with pytest.raises(SubmissionError, match="larger than 1,000 bytes or"):
        take_snapshot(folder, tmp_path / "d", max_total_bytes=1_000)
    big.unlink()
    (folder / "toy" / "alias.npy").unlink()
    os.mkfifo(folder / "toy" / "pipe")
    line = error_line(grade("scale", "--submission", str(folder)))
    assert "pipe is not a regular file" in line


def test_grade_names_a_stray_large_file_and_grades_the_rest(toy_fixtures, make_submission,
                                                            tmp_path):
    """The student's view (no reference) of a folder holding an 8.5 MB checkpoint: graded in
    full, exit 0, the warning on stderr and in the report."""
    folder = make_submission()
    (folder / "toy" / "tagger.npz").write_bytes(b"\0" * 8_500_000)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["toy", "-s", str(folder), "--as-student", "-f", "json", "-o",
                                 str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["score"] == report["max_score"] > 0
    (warning,) = report["warnings"]
    assert f"{TOO_LARGE} (toy/tagger.npz: 8,500,000 bytes, more than the 5,242,880" in warning
    assert f"warning: {TOO_LARGE} (toy/tagger.npz" in " ".join(result.output.split())


def test_the_hash_is_recorded_stable_and_changes_with_one_byte(toy, make_submission, tmp_path):
    folder = make_submission()
    first = take_snapshot(folder, tmp_path / "a")
    again = take_snapshot(folder, tmp_path / "b")
    assert first.sha256 == again.sha256 and first.files == again.files
    assert oct((first.path / "toy" / "scale.py").stat().st_mode & 0o777) == "0o444"
    scale = folder / "toy" / "scale.py"
    scale.write_text(scale.read_text() + "\n")
    assert take_snapshot(folder, tmp_path / "c").sha256 != first.sha256
    out = tmp_path / "r.json"
    assert grade("scale", "--submission", str(folder), "-f", "json", "-o", str(out)).exit_code == 0
    recorded = json.loads(out.read_text())["submission_sha256"]
    assert recorded == take_snapshot(folder, tmp_path / "d").sha256


def test_replay_refuses_files_changed_since(toy, make_submission, tmp_path):
    """A replay grades on the input seed its result records, which the student was given:
    files changed since would be graded on a draw whose answers they could hold (round 6),
    so they are refused, and nothing is written."""
    folder = make_submission()
    out = tmp_path / "r.json"
    assert grade("scale", "--submission", str(folder), "-f", "json", "-o", str(out)).exit_code == 0
    same = grade("--replay", str(out), "-f", "json", "-o", str(tmp_path / "same.json"))
    assert same.exit_code == 0 and "changed since it was graded" not in same.output
    scale = folder / "toy" / "scale.py"
    scale.write_text(scale.read_text() + "# edited\n")
    replay = grade("--replay", str(out), "-f", "json", "-o", str(tmp_path / "r2.json"))
    assert replay.exit_code == 2, replay.output
    assert "the submission changed since it was graded" in " ".join(replay.output.split())
    assert not (tmp_path / "r2.json").exists()


def test_a_submission_that_edits_itself_changes_neither_its_files_nor_the_grading(
        toy, make_submission, tmp_path):
    """At import, scale.py tries to rewrite itself (by its own path and by the original one):
    it runs on a read-only copy in the sandbox, the original is untouched and still graded."""
    folder = make_submission()
    original = folder / "toy" / "scale.py"
    attack = (f"\ntry:\n    open(__file__, 'a').write('# pwned\\n')\nexcept OSError:\n    pass\n"
              f"try:\n    open({str(original)!r}, 'a').write('# pwned\\n')\n"
              "except OSError:\n    pass\n")
    original.write_text(original.read_text() + attack)
    before = tree_hash(folder)
    out = tmp_path / "r.json"
    result = grade("scale", "--submission", str(folder), "-f", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert tree_hash(folder) == before
    assert not original.read_text().endswith("# pwned\n")


def test_notebook_metadata_naming_a_path_is_refused_and_nothing_is_written(tmp_path):
    source = ROOT / "exercises" / "word_vectors" / "word_vectors.ipynb"
    nb = nbformat.read(source, as_version=4)
    target = ROOT / "solutions" / "word_vectors" / "softmax.py"
    before = target.read_bytes()
    evil = "../../../solutions/word_vectors/softmax"
    nb.metadata["nlpdojo"]["modules"] = [evil if m == "softmax" else m
                                         for m in nb.metadata["nlpdojo"]["modules"]]
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "nlpdojo:softmax" in tags:
            cell.metadata["tags"] = [f"nlpdojo:{evil}"]
            cell.source = "def softmax(x):\n    return 'pwned'\n"
    work = tmp_path / "nb"
    shutil.copytree(ROOT / "exercises" / "word_vectors", work)
    path = work / "word_vectors.ipynb"
    nbformat.write(nb, path)
    line = error_line(grade("softmax", "--submission", str(path)))
    assert "not a plain module name" in line
    assert target.read_bytes() == before


def test_a_notebook_without_a_module_cell_is_not_graded_on_the_reference(tmp_path):
    """With no released folder beside it, the reference is the template: a notebook that drops
    its softmax cell would have been graded on the reference's softmax.py (found by a helper
    session's review). Every module that holds a question must come from the notebook."""
    nb = nbformat.read(ROOT / "exercises" / "word_vectors" / "word_vectors.ipynb",
                       as_version=4)
    nb.metadata["nlpdojo"]["modules"] = [m for m in nb.metadata["nlpdojo"]["modules"]
                                         if m != "softmax"]
    nb.cells = [c for c in nb.cells
                if "nlpdojo:softmax" not in c.get("metadata", {}).get("tags", [])]
    path = tmp_path / "word_vectors.ipynb"
    nbformat.write(nb, path)
    old = os.getcwd()
    os.chdir(tmp_path)  # no exercises/ here: the reference would be the template
    try:
        line = error_line(grade("softmax", "--submission", str(path)))
    finally:
        os.chdir(old)
    assert "has no cell for softmax" in line


def test_a_warning_is_said_once_on_a_terminal_that_shows_the_table(toy_fixtures,
                                                                   make_submission,
                                                                   monkeypatch):
    """The table on a terminal holds the warnings: stderr, on the same terminal, does not say
    them again (a student saw each twice). Where the table is not what the terminal shows
    (a file, another format, a pipe), stderr still says them."""
    from io import StringIO

    from rich.console import Console

    from nlpdojo_autograder.cli import grade as cli

    folder = make_submission()
    (folder / "toy" / "tagger.npz").write_bytes(b"\0" * 8_500_000)
    for terminal in (True, False):
        out = Console(file=StringIO(), force_terminal=terminal, width=200, record=True)
        err = Console(file=StringIO(), force_terminal=terminal, width=200, record=True)
        monkeypatch.setattr(cli, "console", out)
        monkeypatch.setattr(cli, "err_console", err)
        monkeypatch.setattr("nlpdojo.cli.common.err_console", err)
        result = runner.invoke(app, ["toy", "-s", str(folder), "--as-student", "--no-cache"])
        assert result.exit_code == 0, result.output
        table, stderr = out.export_text(), err.export_text()
        assert f"warning: {TOO_LARGE}" in table  # the table's own line
        assert (f"warning: {TOO_LARGE}" in stderr) is not terminal, stderr
