"""``grade`` in CI: stable exit codes, one-line errors, options checked before any grading,
cohorts that survive a broken submission, report files that never collide, and a Gradescope
results.json even for a submission that cannot be graded."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import jsonschema
import pytest
import typer
from typer.testing import CliRunner

from nlpdojo.cli.common import EXIT_INTERNAL, report_errors
from nlpdojo.errors import NlpdojoError
from nlpdojo_autograder.cli import grade as cli
from nlpdojo_autograder.cli.grade import app

runner = CliRunner()
GRADESCOPE_SCHEMA = json.loads((Path(__file__).parents[1] / "reports" / "fixtures"
                                / "gradescope-results.schema.json").read_text())
SCALE_BUG = {"scale": ("return xp.multiply(x, k)", "return xp.add(x, k)")}


def grade(*args: str):
    return runner.invoke(app, list(args))


def one_line_error(result, code: int = 2) -> str:
    """The single ``error:`` line of a failed run (and no traceback anywhere)."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.fixture
def no_grading(monkeypatch):
    """Fail loudly if a test's command gets as far as grading."""
    def graded(*args, **kwargs):
        raise AssertionError("grading started before the options were checked")

    monkeypatch.setattr(cli, "_grade_one", graded)


# -- exit codes and one-line errors ---------------------------------------------------------------

def _app_raising(exc: BaseException) -> typer.Typer:
    demo = typer.Typer()

    @demo.command()
    @report_errors
    def run() -> None:
        raise exc

    return demo


@pytest.mark.parametrize(("exc", "code", "phrase"), [
    (NlpdojoError("bad option"), 2, "error: bad option"),
    (FileNotFoundError(2, "No such file or directory", "/proc/x"), 2,
     "error: /proc/x: No such file or directory"),
    (RuntimeError("boom"), EXIT_INTERNAL, "error: internal error"),
])
def test_every_error_is_one_line_with_a_stable_code(exc, code, phrase, monkeypatch):
    monkeypatch.delenv("NLPDOJO_DEBUG", raising=False)
    result = runner.invoke(_app_raising(exc), [])
    assert one_line_error(result, code).startswith(phrase)


def test_internal_error_traceback_only_on_request(monkeypatch):
    monkeypatch.setenv("NLPDOJO_DEBUG", "1")
    result = runner.invoke(_app_raising(RuntimeError("boom")), [])
    assert result.exit_code == EXIT_INTERNAL
    assert "Traceback" in result.output and "RuntimeError: boom" in result.output


def test_a_caused_error_shows_its_cause_on_request(monkeypatch):
    """A plugin's module that failed to import is an error of the user's (exit 2) with a
    cause: NLPDOJO_DEBUG shows the cause's traceback; without it, one line."""
    try:
        try:
            raise NameError("name '_cel_at' is not defined")
        except NameError as cause:
            raise NlpdojoError("plugin 'pack' failed to load its modules") from cause
    except NlpdojoError as exc:
        error = exc
    monkeypatch.setenv("NLPDOJO_DEBUG", "1")
    result = runner.invoke(_app_raising(error), [])
    assert result.exit_code == 2
    assert "Traceback" in result.output and "NameError: name '_cel_at'" in result.output
    monkeypatch.delenv("NLPDOJO_DEBUG")
    assert one_line_error(runner.invoke(_app_raising(error), []), 2).startswith(
        "error: plugin 'pack' failed")


def test_an_unexpected_failure_while_grading_exits_3_not_1(toy, monkeypatch, make_submission):
    def crash(*args, **kwargs):
        raise ZeroDivisionError("inside the grader")

    monkeypatch.setattr(cli, "_grade_one", crash)
    line = one_line_error(grade("toy", "-s", str(make_submission())), EXIT_INTERNAL)
    assert "internal error" in line and "ZeroDivisionError: inside the grader" in line


# -- options checked before grading ---------------------------------------------------------------

@pytest.mark.parametrize(("args", "phrase"), [
    (["--format", "xml"], "unknown reporter 'xml'"),
    (["--as-student", "--seed", "1"], "leave out --seed"),
    (["--as-student", "--full"], "leave out --full"),
    (["--jobs", "2"], "use it with --submissions"),
])
def test_bad_options_fail_before_grading(toy, make_submission, no_grading, args, phrase):
    line = one_line_error(grade("toy", "-s", str(make_submission()), *args))
    assert phrase in line


def test_unwritable_output_fails_before_grading(toy, make_submission, no_grading, tmp_path):
    folder = str(make_submission())
    afile = tmp_path / "afile"
    afile.write_text("x")
    line = one_line_error(grade("toy", "-s", folder, "-f", "json", "-o", str(afile / "r.json")))
    assert "is a file, not a folder" in line
    line = one_line_error(grade("toy", "-s", folder, "-f", "json", "-o", os.devnull))
    assert "not a regular file" in line
    long_name = "r" * 300 + ".json"
    line = one_line_error(grade("toy", "-s", folder, "-f", "json", "-o",
                                str(tmp_path / long_name)))
    assert "longer than" in line
    (tmp_path / "subs" / "alice" / "toy").mkdir(parents=True)
    line = one_line_error(grade("--submissions", str(tmp_path / "subs"), "-o", str(afile)))
    assert "is a file" in line


def test_a_reporter_that_raises_is_named_and_the_grading_still_shown(toy, monkeypatch, tmp_path):
    from nlpdojo_reports.json_report import JsonReporter

    def boom(self, result):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(JsonReporter, "render", boom)
    result = grade("scale", "--solutions", "-f", "json", "-o", str(tmp_path / "r.json"))
    line = one_line_error(result)
    assert "report format 'json'" in line and "RuntimeError: renderer crashed" in line
    assert "1.5/1.5" in result.output  # the table was printed before the failure
    assert not (tmp_path / "r.json").exists()


def test_missing_fixtures_are_a_grader_error_not_a_student_zero(toy, make_submission, no_grading,
                                                                 monkeypatch, tmp_path):
    monkeypatch.setattr(toy, "fixtures", tmp_path / "nowhere")
    line = one_line_error(grade("toy", "-s", str(make_submission()), "--as-student"))
    assert "no expected values for scale.values" in line and "dojo release" in line


# -- report files ---------------------------------------------------------------------------------

def test_output_with_a_trailing_slash_is_a_folder(toy, tmp_path):
    out = tmp_path / "results"
    result = grade("scale", "--solutions", "-f", "junit", "-o", f"{out}{os.sep}")
    assert result.exit_code == 0, result.output
    assert (out / "junit.xml").is_file()


def test_reports_get_ordinary_permissions(toy, tmp_path):
    old = os.umask(0o022)
    try:
        result = grade("scale", "--solutions", "-f", "json", "-o", str(tmp_path / "r.json"))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644


def test_a_long_file_name_that_fits_is_written(result_for_writer, tmp_path):
    from nlpdojo_reports import write_report

    path = tmp_path / ("r" * 245 + ".json")  # the temporary file's name must fit too
    assert write_report(result_for_writer, "json", path) == path


@pytest.fixture
def result_for_writer():
    from nlpdojo_autograder.grading.results import GradingResult

    return GradingResult(exercises=[], backend="numpy", device="cpu", submission="s",
                         seeds={"base": 0}, versions={}, options={})


def test_results_record_plugin_versions(toy, tmp_path):
    out = tmp_path / "r.json"
    assert grade("scale", "--solutions", "-f", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text())["versions"]["nlpdojo-toy-pack"] == "0.1"


def test_fail_under_above_the_maximum_warns(toy):
    result = grade("scale", "--solutions", "--fail-under", "100")
    assert result.exit_code == 1
    assert "can never pass" in result.output


# -- --submission without a topic folder ----------------------------------------------------------

def test_a_topic_folder_as_submission_grades_that_topic(toy, make_submission):
    result = grade("-s", str(make_submission() / "toy"), "-f", "json")
    assert result.exit_code == 0, result.output
    assert [e["name"] for e in json.loads(result.stdout)["exercises"]] == ["toy"]


def test_loose_files_without_a_topic_say_to_name_it(toy, make_submission, tmp_path):
    flat = tmp_path / "flat"
    (make_submission() / "toy").rename(flat)
    line = one_line_error(grade("-s", str(flat)))
    assert f"grade TOPIC --submission {flat}" in line


# -- --replay -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("content", "phrase"), [
    ({"schema_version": "1.0", "count": 0, "submissions": []}, "a cohort summary"),
    ({"score": 0, "tests": []}, "a Gradescope report"),
    ([1, 2], "not an nlpdojo JSON result"),
])
def test_replay_of_other_json_says_what_it_is(toy, tmp_path, content, phrase):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(content))
    line = one_line_error(grade("--replay", str(path)))
    assert phrase in line and "result.json" in line


@pytest.mark.parametrize("option", [["--timeout-scale", "2"], ["--memory-mb", "10"],
                                    ["--jobs", "2"]])
def test_replay_refuses_limits_it_would_ignore(toy, tmp_path, option):
    line = one_line_error(grade("--replay", str(tmp_path / "r.json"), *option))
    assert f"leave out {option[0]}" in line


# -- cohorts --------------------------------------------------------------------------------------

def _cohort(make_submission, tmp_path, names: dict[str, dict | None | str]):
    root = tmp_path / "cohort"
    root.mkdir()
    for name, edits in names.items():
        if edits == "empty":
            (root / name).mkdir()
        else:
            make_submission(edits, name=f"build/{name}").rename(root / name)
    return root


def test_cohort_report_names_never_collide(toy, make_submission, tmp_path):
    root = _cohort(make_submission, tmp_path,
                   {"summary": None, "x": None, "x.result": SCALE_BUG})
    out = tmp_path / "out"
    result = grade("--submissions", str(root), "-f", "gradescope", "-o", str(out))
    assert result.exit_code == 1, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["count"] == 3
    scores = {row["name"]: row["score"] for row in summary["submissions"]}
    assert scores["summary"] == scores["x"] == 7.5 and scores["x.result"] < 7.5
    for name in scores:
        nlpdojo = json.loads((out / name / "result.json").read_text())
        gradescope = json.loads((out / name / "results.json").read_text())
        assert nlpdojo["submission"].endswith(name) and nlpdojo["score"] == scores[name]
        assert gradescope["score"] == scores[name] and "tests" in gradescope


def test_cohort_without_topic_folder_graded_on_the_cohorts_topics(toy, make_submission,
                                                                  tmp_path):
    root = _cohort(make_submission, tmp_path, {"alice": None, "eve": "empty"})
    out = tmp_path / "out"
    result = grade("--submissions", str(root), "-f", "json", "-o", str(out))
    assert result.exit_code == 1
    assert "submissions without some of these folders score 0" in result.output
    eve = json.loads((out / "eve" / "result.json").read_text())
    assert [e["name"] for e in eve["exercises"]] == ["toy"]  # not every registered topic
    assert eve["max_score"] == 7.5 and eve["options"]["topics"] == ["toy"]
    replayed = tmp_path / "replayed.json"
    again = grade("--replay", str(out / "eve" / "result.json"), "-f", "json", "-o", str(replayed))
    assert again.exit_code == 1, again.output  # graded (0 points), not "could not run"
    assert json.loads(replayed.read_text())["max_score"] == 7.5


def test_cohort_without_any_topic_folder_asks_for_topics(toy, tmp_path, no_grading):
    root = tmp_path / "cohort"
    (root / "eve").mkdir(parents=True)
    line = one_line_error(grade("--submissions", str(root)))
    assert "grade TOPIC --submissions" in line


@pytest.mark.parametrize(("exc", "code"), [(RuntimeError("grader bug"), EXIT_INTERNAL),
                                           (NlpdojoError("cannot grade"), 2)])
def test_one_broken_submission_does_not_stop_the_cohort(toy, make_submission, tmp_path,
                                                         monkeypatch, exc, code):
    root = _cohort(make_submission, tmp_path, {"alice": None, "bob": None})
    real = cli._grade_in_child  # each submission is graded by a process of its own

    def flaky(folder, *args, **kwargs):
        if folder.name == "bob":
            raise exc
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(cli, "_grade_in_child", flaky)
    out = tmp_path / "out"
    result = grade("--submissions", str(root), "--jobs", "2", "-f", "junit", "-o", str(out))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert "error: submission bob: grading failed" in result.output
    rows = {r["name"]: r for r in json.loads((out / "summary.json").read_text())["submissions"]}
    assert rows["alice"]["score"] == 7.5
    assert rows["bob"]["score"] == 0 and rows["bob"]["statuses"]["error"] > 0
    assert sum(str(exc) in e for e in rows["bob"]["errors"]) == 1, rows["bob"]["errors"]
    bob = json.loads((out / "bob" / "result.json").read_text())
    assert all(c["status"] == "error" for e in bob["exercises"] for c in e["checks"])
    assert (out / "alice" / "junit.xml").is_file() and (out / "bob" / "junit.xml").is_file()


def test_a_report_that_cannot_be_written_costs_only_that_submission(toy, make_submission,
                                                                    tmp_path):
    root = _cohort(make_submission, tmp_path, {"alice": None, "bob": None})
    out = tmp_path / "out"
    out.mkdir()
    (out / "bob").write_text("in the way")  # bob's report folder cannot be created
    result = grade("--submissions", str(root), "-f", "json", "-o", str(out))
    assert result.exit_code == 2, result.output
    assert "error: submission bob: reports not written" in result.output
    assert (out / "alice" / "result.json").is_file()
    rows = {r["name"]: r for r in json.loads((out / "summary.json").read_text())["submissions"]}
    assert rows["bob"]["score"] == 7.5 and rows["bob"]["errors"]


def test_a_submission_named_with_terminal_controls_is_named_visibly(toy, make_submission,
                                                                  tmp_path):
    """grade's closing lines name a submission as the cohort table does: its terminal controls
    (a folder named with an ESC sequence) shown as escapes, not sent to the terminal."""
    name = "bo\x1b[2Jb"
    root = _cohort(make_submission, tmp_path, {name: None})
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("in the way")
    result = grade("--submissions", str(root), "-f", "json", "-o", str(out))
    assert result.exit_code == 2, result.output
    assert "error: submission bo\\x1b[2Jb: reports not written" in result.output
    assert "\x1b" not in result.output


def test_cohort_notes_notebooks_and_writes_its_reports_again(toy, make_submission, tmp_path):
    root = _cohort(make_submission, tmp_path, {"alice": None})
    (root / "late.ipynb").write_text("{}")
    out = tmp_path / "results"
    first = grade("--submissions", str(root), "-o", str(out))
    assert first.exit_code == 0, first.output
    assert "1 notebook(s)" in first.output
    old = os.umask(0o022)
    try:
        second = grade("--submissions", str(root), "-o", str(out), "-f", "json")
    finally:
        os.umask(old)
    assert second.exit_code == 0, second.output
    summary = json.loads((out / "summary.json").read_text())
    assert [r["name"] for r in summary["submissions"]] == ["alice"]
    assert stat.S_IMODE((out / "summary.json").stat().st_mode) == 0o644


def test_a_cohorts_reports_never_land_among_its_submissions(toy, make_submission, tmp_path,
                                                            monkeypatch):
    """An output folder inside the submissions folder was skipped in its own run and graded,
    as a submission scoring 0, by the next run with another output (the cohort's statistics
    with it); and `grade --submissions .` wrote `./-results`. Refused, nothing written; `.`
    reports beside the folder, under its name."""
    root = _cohort(make_submission, tmp_path, {"alice": None})
    line = one_line_error(grade("--submissions", str(root), "-o", str(root / "results")))
    assert "is inside the submissions folder" in line and str(tmp_path / "cohort-results") in line
    assert not (root / "results").exists()
    monkeypatch.chdir(root)
    done = grade("--submissions", ".", "-f", "json")
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in root.iterdir()) == ["alice"]
    summary = json.loads((tmp_path / "cohort-results" / "summary.json").read_text())
    assert [r["name"] for r in summary["submissions"]] == ["alice"]


def test_cohort_rejects_a_file_and_its_own_folder_as_output(toy, tmp_path, no_grading):
    afile = tmp_path / "subs.txt"
    afile.write_text("")
    assert "is a file" in one_line_error(grade("--submissions", str(afile)))
    root = tmp_path / "subs"
    (root / "alice" / "toy").mkdir(parents=True)
    assert "submissions folder itself" in one_line_error(
        grade("--submissions", str(root), "-o", str(root)))


# -- Gradescope: a submission that cannot be graded still gets its results.json -------------------

@pytest.mark.parametrize("with_topic", [True, False])
def test_gradescope_unreadable_notebook_writes_score_zero(toy, tmp_path, with_topic):
    nb = tmp_path / "toy.ipynb"
    nb.write_text("not json")
    out = tmp_path / "results" / "results.json"
    args = (["toy"] if with_topic else []) + ["-s", str(nb), "-f", "gradescope", "-o", str(out)]
    line = one_line_error(grade(*args))
    assert "not a notebook" in line
    doc = json.loads(out.read_text())
    jsonschema.Draft202012Validator(GRADESCOPE_SCHEMA).validate(doc)
    assert doc["score"] == 0
    assert "could not grade this submission" in doc["output"] and "not a notebook" in doc["output"]
    if with_topic:  # every check at stake is listed, at 0, with the reason
        assert doc["tests"] and all(t["score"] == 0 for t in doc["tests"])
        assert all("not a notebook" in t["output"] for t in doc["tests"])
        assert sum(t["max_score"] for t in doc["tests"]) == 7.5


def test_gradescope_file_submission_writes_score_zero(toy, tmp_path):
    upload = tmp_path / "scale.py"
    upload.write_text("def scale(x, k): return x\n")
    out = tmp_path / "results.json"
    one_line_error(grade("toy", "-s", str(upload), "-f", "gradescope", "-o", str(out)))
    doc = json.loads(out.read_text())
    assert doc["score"] == 0 and "is a file" in doc["output"]


def test_other_formats_report_an_unreadable_submission_at_zero(toy, tmp_path):
    """Every format gets its report of a refused submission (score 0, the reason), as
    Gradescope's does: CI reads the file it asked for."""
    nb = tmp_path / "toy.ipynb"
    nb.write_text("not json")
    out = tmp_path / "r.json"
    one_line_error(grade("toy", "-s", str(nb), "-f", "json", "-o", str(out)))
    doc = json.loads(out.read_text())
    assert doc["score"] == 0 and "not a notebook" in json.dumps(doc)


#: one name, composed and decomposed (macOS's APFS takes them for one file)
JOSE_NFC, JOSE_NFD = "Jos\u00e9", "Jose\u0301"


def _subs(tmp_path, *names):
    for name in names:
        (tmp_path / "subs" / name).mkdir(parents=True)
    found = sorted((tmp_path / "subs").iterdir())
    if len(found) < len(names):
        pytest.skip("this file system does not tell these names apart")
    out = tmp_path / "out"
    out.mkdir()
    return found, out


@pytest.mark.parametrize("names", [("Alice", "alice"), (JOSE_NFC, JOSE_NFD),
                                   (JOSE_NFC.upper(), JOSE_NFD)])
def test_case_or_normalisation_differences_are_fine_where_the_output_tells_them_apart(
        tmp_path, names):
    folders, out = _subs(tmp_path, *names)
    cli._check_case_collisions(folders, out)  # does not raise
    assert os.listdir(out) == []  # the probe file was removed


def test_the_probe_takes_names_as_long_as_a_folder_name_can_be(tmp_path):
    """A folder's name may be 255 bytes long: the probe file has exactly that name (in a probe
    folder of its own), nothing added to it."""
    long_names = ["a" * 255, "A" * 255]
    sensitive = (tmp_path / long_names[0]).touch() or not (tmp_path / long_names[1]).exists()
    out = tmp_path / "out"
    out.mkdir()
    assert cli._one_entry(out, long_names) is not sensitive
    assert cli._one_entry(out, ["same", "same"]) is True
    assert os.listdir(out) == []


@pytest.mark.parametrize("names", [("Alice", "alice"), (JOSE_NFC, JOSE_NFD)])
def test_names_an_output_folder_takes_for_one_are_refused_before_grading(
        tmp_path, monkeypatch, names):
    """As on macOS (case and normalisation) or Windows (case): the probe says one entry."""
    folders, out = _subs(tmp_path, *names, "bob")
    asked = []
    monkeypatch.setattr(cli, "_one_entry", lambda where, group: asked.append(group) or True)
    with pytest.raises(cli.UsageError, match="differ only in case or Unicode normalisation") \
            as refused:
        cli._check_case_collisions(folders, out)
    assert sorted(asked) == [sorted(names)]  # bob is no one's double: not asked about
    assert all(ascii(name) in str(refused.value) for name in names)
