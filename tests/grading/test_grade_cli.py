"""The ``grade`` command: exit codes, report formats, replay, cohorts and notebooks."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app
from nlpdojo_autograder.grading.grade import INPUT_SEED_ENV

runner = CliRunner()


def grade(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_solutions_exit_zero_and_json_report(toy, tmp_path):
    out = tmp_path / "r.json"
    result = grade("toy", "--solutions", "--format", "json", "--output", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["schema_version"] == "1.6"
    assert data["isolation"] == "trusted"  # the reference, run by the grader itself
    assert data["score"] == data["max_score"] == 7.5
    assert data["backend"] == "numpy" and data["device"] == "cpu"
    assert data["solutions_present"] is True
    metric = next(c for c in data["exercises"][0]["checks"] if c["id"] == "quadratic.descent")
    assert metric["value"] is not None and metric["threshold"] is not None


def test_a_check_calls_the_reference_back_only_for_required_questions_not_passed(
        toy, make_submission, tmp_path):
    """quadratic's checks swap scale in. Where the submission's scale passes every check of
    its own earlier in the grading, they run it (no call-backs; ``own_required`` names it);
    where scale is not graded, or fails, the reference's stands in, called back from the
    worker (counted), and quadratic keeps its points; a check that loses points on the
    student's own scale (a mistake its checks miss) runs again with the reference's."""
    def graded(folder, *args):
        out = tmp_path / f"r{len(list(tmp_path.glob('r*.json')))}.json"
        result = grade(*args, "--submission", str(folder), "--no-cache", "-f", "json",
                       "-o", str(out))
        assert result.exit_code in (0, 1), result.output
        return {c["id"]: c for c in json.loads(out.read_text())["exercises"][0]["checks"]}

    quadratic = ("quadratic.values", "quadratic.gradient", "quadratic.descent",
                 "quadratic.hidden")
    honest = make_submission()
    checks = graded(honest, "toy")
    assert all(c["score"] == c["max_score"] for c in checks.values())
    for cid in quadratic:
        assert checks[cid]["details"]["own_required"] == ["toy.scale"], cid
        assert "call_backs" not in checks[cid]["details"], cid
    assert "call_backs" not in checks["scale.values"]["details"]

    checks = graded(honest, "toy.quadratic")  # scale not graded: the reference stands in
    assert checks["quadratic.values"]["details"]["call_backs"] > 0
    assert "own_required" not in checks["quadratic.values"]["details"]

    wrong = make_submission({"scale": ("xp.multiply(x, k)", "xp.add(x, k)")}, name="wrong")
    checks = graded(wrong, "toy")
    assert checks["scale.values"]["score"] == 0
    for cid in quadratic:
        assert checks[cid]["status"] == "passed", (cid, checks[cid]["message"])
        assert checks[cid]["details"]["call_backs"] > 0 and \
            "own_required" not in checks[cid]["details"], cid

    # right at scale's own checks' sizes (k = 3, or a vector), wrong at quadratic's (k = 2):
    # quadratic's checks lose their points on the student's own scale, and are run again
    # with the reference's, whose verdict stands (a mistake scale's checks miss costs nothing)
    missed = make_submission({"scale": ("xp.multiply(x, k)",
                                        "xp.multiply(x, k if x.ndim == 1 or k == 3.0 else 2 * k)")},
                             name="missed")
    checks = graded(missed, "toy")
    assert checks["scale.values"]["score"] == checks["scale.values"]["max_score"]
    for cid in quadratic:
        assert checks[cid]["status"] == "passed", (cid, checks[cid]["message"])
    # (its gradient check passes on the student's scale: the loss and its gradient agree)
    assert checks["quadratic.values"]["details"]["call_backs"] > 0
    assert "own_required" not in checks["quadratic.values"]["details"]


def test_a_checks_strict_pass_asks_the_reference_nothing_its_first_pass_asked(
        toy, make_submission, tmp_path, monkeypatch):
    """The strict pass runs a passing value check again on the strict backend's arrays; the
    reference process computes on NumPy in both passes, so the worker sends the same requests
    and answers the second pass's call-backs from its memo of the first's (runtime/replies.py):
    quadratic.values makes as many call-backs with its strict pass as without it."""
    from nlpdojo_autograder.grading import runner as grading_runner

    submission = make_submission()

    def quadratic_values(name: str) -> dict:
        out = tmp_path / f"{name}.json"
        result = grade("toy.quadratic", "--submission", str(submission), "--no-cache",
                       "-f", "json", "-o", str(out))
        assert result.exit_code == 0, result.output
        checks = json.loads(out.read_text())["exercises"][0]["checks"]
        return next(c for c in checks if c["id"] == "quadratic.values")["details"]

    with_strict = quadratic_values("strict")
    monkeypatch.setattr(grading_runner, "STRICT_KINDS", frozenset())
    without = quadratic_values("first-pass-only")
    assert with_strict.get("strict_pass") and not without.get("strict_pass")
    assert with_strict["call_backs"] == without["call_backs"] > 0


def test_an_empty_submission_folder_is_told_once_per_topic(tmp_path):
    """``grade`` of a folder that holds none of the topics (a student's wrong path): a line
    per topic saying what the folder must hold, not a row per check; exit 1, every check in
    the JSON report, each an error worth 0."""
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "r.json"
    result = grade("word_vectors", "neural_networks", "--submission", str(empty))
    assert result.exit_code == 1, result.output
    said = "".join(result.output.split())  # (wrapped at the console's width, anywhere)
    for topic in ("word_vectors", "neural_networks"):
        told = f"no folder {empty / topic}: the submission must contain {topic}/"
        assert said.count("".join(told.split())) == 1, result.output
    assert said.count("(noneofits") == 2 and "thesameas" not in said
    grade("word_vectors", "--submission", str(empty), "--format", "json", "--output", str(out))
    # a submission folder that is not there: refused, and the --output's folders it would
    # have written to are not left behind
    refused = grade("word_vectors", "--submission", str(tmp_path / "nowhere"), "--output",
                    str(tmp_path / "reports" / "r.json"))
    assert refused.exit_code != 0 and "does not exist" in refused.output
    assert not (tmp_path / "reports").exists()
    checks = json.loads(out.read_text())["exercises"][0]["checks"]
    assert len(checks) > 20 and {(c["status"], c["score"]) for c in checks} == {("error", 0)}


def test_stubs_exit_one_and_fail_under(toy, make_submission):
    folder = make_submission(stub=True)
    result = grade("toy", "--submission", str(folder / ""))
    assert result.exit_code == 1
    assert "not implemented" in result.output
    assert grade("toy", "--submission", str(folder), "--fail-under", "0").exit_code == 0


def test_partial_score_against_fail_under(toy, make_submission):
    folder = make_submission({"scale": ("return xp.multiply(x, k)", "return xp.add(x, k)")})
    assert grade("toy", "--submission", str(folder), "--fail-under", "6").exit_code == 0
    assert grade("toy", "--submission", str(folder), "--fail-under", "7").exit_code == 1


def test_the_strict_backend_grades_on_its_cpu(toy, tmp_path):
    """``--backend strict``, listed by ``dojo backends``, grades: its device is an
    array_api_strict object (for ``device=backend.device``), chosen on the name "cpu"."""
    pytest.importorskip("array_api_strict")
    out = tmp_path / "r.json"
    result = grade("scale", "--solutions", "--backend", "strict", "-f", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["backend"] == "strict" and data["device"] == "cpu"
    assert data["score"] == data["max_score"] > 0


def test_question_filter(toy, tmp_path):
    out = tmp_path / "r.json"
    assert grade("scale", "--solutions", "-f", "json", "-o", str(out)).exit_code == 0
    ids = [c["id"] for c in json.loads(out.read_text())["exercises"][0]["checks"]]
    assert ids == ["scale.values", "scale.workdir"]


@pytest.mark.parametrize("args, phrase", [
    (["nonsense", "--solutions"], "neither a topic nor a question id."),
    (["scal", "--solutions"], "neither a topic nor a question id; did you mean toy.scale?"),
    (["toyy", "--solutions"], "did you mean toy?"),
    (["toy", "--submission", "/no/such/folder"], "does not exist"),
    (["toy", "--solutions", "--backend", "nope"], "unknown backend 'nope'"),
    (["toy", "--solutions", "--format", "pdf"], "unknown reporter 'pdf'"),
    (["toy", "--solutions", "--submission", "x"], "--solutions grades the reference"),
    (["toy", "--solutions", "--as-student"], "choose one"),
    (["toy", "--submission", __file__], "is a file"),
])
def test_usage_errors_exit_two_without_traceback(toy, args, phrase):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert phrase in result.output
    assert "Traceback" not in result.output
    # every question listed only where none is near (a student's typo got 72 ids after it)
    assert ("questions: " in result.output) == (phrase.endswith("question id."))


def test_junit_and_gradescope_outputs(toy, make_submission, tmp_path):
    folder = make_submission({"scale": ("return xp.multiply(x, k)", "return xp.add(x, k)")})
    junit = tmp_path / "junit.xml"
    assert grade("toy", "-s", str(folder), "-f", "junit", "-o", str(junit)).exit_code == 1
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert int(root.get("failures")) >= 1
    gs = tmp_path / "results.json"
    grade("toy", "-s", str(folder), "-f", "gradescope", "-o", str(gs))
    data = json.loads(gs.read_text())
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    statuses = {t["name"].split()[0]: t["status"] for t in data["tests"]}
    assert "failed" in statuses.values() and "passed" in statuses.values()


def test_replay_reruns_exactly(toy, make_submission, tmp_path):
    folder = make_submission({"scale": ("return xp.multiply(x, k)", "return xp.add(x, k)")})
    first = tmp_path / "first.json"
    grade("toy", "-s", str(folder), "--seed", "7", "-f", "json", "-o", str(first))
    second = tmp_path / "second.json"
    grade("--replay", str(first), "-f", "json", "-o", str(second))
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["seeds"] == b["seeds"] == {"base": 7}
    assert a["options"] == {k: v for k, v in b["options"].items() if k != "replayed_from"}
    assert b["options"]["replayed_from"] == str(first)  # and its warning says what it is
    assert any(w.startswith(f"replayed from {first}: on the input seed") for w in b["warnings"])
    strip = lambda d: [(c["id"], c["status"], c["score"], c["message"])  # noqa: E731
                       for e in d["exercises"] for c in e["checks"]]
    assert strip(a) == strip(b)


def test_replay_refuses_options_it_would_override(toy, tmp_path):
    result = runner.invoke(app, ["--replay", str(tmp_path / "r.json"), "--seed", "3"])
    assert result.exit_code == 2 and "leave out --seed" in result.output


def test_replay_takes_no_grading_of_the_reference_and_keeps_limits_and_warnings(
        toy, make_submission, tmp_path):
    """A trial's finding (round 4, F6): a submission's result edited to ``solutions: true``
    replayed to full marks (the reference graded), one edited to no memory limit replayed
    without one, and a replay at input seed 0 dropped the warning that its fixtures answer
    the checks."""
    folder = make_submission({"scale": ("return xp.multiply(x, k)", "return xp.add(x, k)")})
    first = tmp_path / "first.json"
    grade("toy", "-s", str(folder), "--seed", "0", "-f", "json", "-o", str(first))
    data = json.loads(first.read_text())
    for change, said in (({"solutions": True, "submission": None},
                          "records a grading of the reference solutions"),
                         ({"memory_mb": 0}, "records a grading without a memory limit"),
                         # round 6: as a student release, from the fixtures at seed 0 (a
                         # submission answering from them: 0 of 4 graded, 3 of 3 replayed so)
                         ({"use_reference": False}, "records a grading as a student release")):
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps({**data, "options": {**data["options"], **change}}))
        result = runner.invoke(app, ["--replay", str(forged)])
        assert result.exit_code == 2, result.output
        assert said in " ".join(result.output.split())
    replayed = runner.invoke(app, ["--replay", str(first)])
    assert "input seed 0 is the student release's" in " ".join(replayed.output.split())
    assert "counts for nothing new" in " ".join(replayed.output.split())


def test_a_replayed_grading_is_never_recorded_as_an_attempt(toy, make_submission, tmp_path):
    """Round 6: a replay grades on the input seed its result records, which the student was
    given: the course record refuses it as it refuses a grading at seed 0."""
    from nlpdojo_autograder.course.attempts import require_countable
    from nlpdojo_autograder.course.config import CourseError
    from nlpdojo_autograder.grading.results import GradingResult

    folder = make_submission(None)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    grade("toy", "-s", str(folder), "-f", "json", "-o", str(first))
    require_countable(GradingResult.from_dict(json.loads(first.read_text())), "the grading")
    grade("--replay", str(first), "-f", "json", "-o", str(second))
    with pytest.raises(CourseError, match="is a replay"):
        require_countable(GradingResult.from_dict(json.loads(second.read_text())), "the replay")


def test_replay_of_a_bad_file(toy, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = runner.invoke(app, ["--replay", str(bad)])
    assert result.exit_code == 2
    assert "cannot replay" in result.output


@pytest.mark.parametrize(("key", "value", "said"), [
    ("topics", 5, "topics is 5, not a list of topic names"),
    ("timeout_scale", -1, "timeout_scale is -1, not a number above 0"),
    ("time_limit", 0, "time_limit is 0, not null or a number of seconds, 1 or more"),
    ("input_seed", "abc", 'input_seed is "abc", not null or a whole number'),
    ("full", "yes", 'full is "yes", not true or false'),
])
def test_a_replay_file_edited_by_hand_is_refused_as_a_usage_error(toy, make_submission,
                                                                   tmp_path, key, value, said):
    """A CI integrator's trial: ``topics: 5`` ended grade with an internal error (exit 3),
    ``timeout_scale: -1`` timed every check of the reference out (0/44), ``input_seed: "abc"``
    wrote a result its schema refuses. Each is a usage error now, saying what is wrong."""
    folder = make_submission()
    first = tmp_path / "first.json"
    grade("toy", "-s", str(folder), "--seed", "7", "-f", "json", "-o", str(first))
    data = json.loads(first.read_text())
    data["options"][key] = value
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    result = runner.invoke(app, ["--replay", str(edited)])
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split()), result.output


def test_fail_under_nan_is_refused(toy, tmp_path):
    """``--fail-under nan`` was taken: no score reaches it, so the job always failed."""
    result = runner.invoke(app, ["toy", "--solutions", "--fail-under", "nan"])
    assert result.exit_code == 2 and "--fail-under takes a number" in result.output


def test_fail_under_below_zero_is_refused(toy):
    """A student's finding: ``--fail-under -1`` was taken silently, and no score is below it:
    the CI job could never fail."""
    result = runner.invoke(app, ["toy", "--solutions", "--fail-under", "-1"])
    assert result.exit_code == 2, result.output
    assert "-1 is below every score: the job could never fail" in " ".join(
        result.output.split())
    assert runner.invoke(app, ["toy", "--solutions", "--fail-under", "0"]).exit_code == 0


def test_a_leaderboard_with_nothing_to_rank_says_so(toy, make_submission, tmp_path):
    """An instructor's finding: ``--leaderboard`` over questions that train nothing wrote an
    empty board and a leaderboard.json per student, without a word."""
    make_submission(name="cohort/alice")
    result = runner.invoke(app, ["toy.scale", "--submissions", str(tmp_path / "cohort"),
                                 "--seed", "0", "-o", str(tmp_path / "a"), "--leaderboard"])
    assert result.exit_code == 0, result.output
    assert "nothing to rank" in " ".join(result.output.split()), result.output


def test_a_quiet_cohort_leaves_its_tables_to_its_files(toy, make_submission, tmp_path):
    """The TA's trial: ``-q`` printed every cohort table still (the regrade's output was
    cluttered with them)."""
    make_submission(name="cohort/alice")
    loud = runner.invoke(app, ["toy", "--submissions", str(tmp_path / "cohort"), "--seed", "0",
                               "-o", str(tmp_path / "a")])
    quiet = runner.invoke(app, ["toy", "--submissions", str(tmp_path / "cohort"), "--seed",
                                "0", "-o", str(tmp_path / "b"), "-q"])
    assert loud.exit_code == quiet.exit_code == 0, quiet.output
    assert "Submissions" in loud.output and "Submissions" not in quiet.output
    assert "written to" in loud.output and "written to" not in quiet.output  # its -o, known
    assert (tmp_path / "b" / "summary.json").is_file()
    html = runner.invoke(app, ["toy", "--submissions", str(tmp_path / "cohort"), "--seed", "0",
                               "-o", str(tmp_path / "c"), "-q", "--format", "html"])
    assert html.exit_code == 0 and "written to" not in html.output  # the dashboard's line too
    assert (tmp_path / "c" / "dashboard.html").is_file()


def test_a_cohort_graded_again_in_another_format_leaves_no_older_report(toy, make_submission,
                                                                       tmp_path):
    """The TA's trial: a ``--format html`` run into the folder of a table run left the older
    run's report.txt beside the new result.json (two gradings' reports, one folder); and the
    new dashboard linked a similarity report of an earlier ``dojo similarity`` as if it were of
    these files. The other format's report goes; the link says when the report was written,
    and the grading warns that it is older."""
    make_submission(name="cohort/alice")
    out = tmp_path / "out"
    first = runner.invoke(app, ["toy", "--submissions", str(tmp_path / "cohort"), "--seed",
                                "0", "-o", str(out), "-f", "junit"])
    assert first.exit_code == 0, first.output
    assert (out / "alice" / "junit.xml").is_file()
    (out / "similarity.html").write_text("<html></html>")  # as dojo similarity left it
    again = runner.invoke(app, ["toy", "--submissions", str(tmp_path / "cohort"), "--seed",
                                "0", "-o", str(out), "-f", "html"])
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in (out / "alice").iterdir() if not p.name.startswith(".")) == [
        "result.json"]
    assert "written by dojo similarity at" in again.output
    assert "run `dojo similarity" in " ".join(again.output.split())
    assert 'data-field="similarity_written">' in (out / "dashboard.html").read_text()


def test_a_cohort_of_other_questions_is_not_graded_into_an_earlier_cohorts_reports(
        toy, make_submission, tmp_path):
    """A TA's trial: a2's cohort graded with a1's --output replaced a1's reports without a
    word (and left those of a1's submissions not in a2's cohort beside its own). A grading of
    questions the earlier one did not grade is refused, its reports kept; the same questions
    again, or a selection that holds them (their topic), replace them as before."""
    make_submission(name="cohort/alice")
    out = tmp_path / "out"
    cohort = ["--submissions", str(tmp_path / "cohort"), "--seed", "0", "-o", str(out)]
    assert runner.invoke(app, ["toy.scale", *cohort]).exit_code == 0
    before = (out / "summary.json").read_text()
    other = runner.invoke(app, ["toy.quadratic", *cohort])
    assert other.exit_code == 2, other.output
    said = " ".join(other.output.split())
    assert "holds the reports of a grading of other questions (toy.scale)" in said
    assert "give another --output" in said
    assert (out / "summary.json").read_text() == before
    for again in (["toy.scale"], ["toy"]):
        assert runner.invoke(app, [*again, *cohort]).exit_code == 0


def test_cohort_in_parallel(toy, make_submission, tmp_path):
    root = tmp_path / "cohort"
    root.mkdir()
    for name, edits in {"alice": None,
                        "bob": {"scale": ("return xp.multiply(x, k)", "return xp.add(x, k)")},
                        "carol": {"quadratic": ("grad = 2.0 *", "grad = 4.0 *")}}.items():
        make_submission(edits, name=f"subs/{name}").rename(root / name)
    out = tmp_path / "out"
    result = grade("--submissions", str(root), "--jobs", "2", "-f", "json", "-o", str(out))
    assert result.exit_code == 1  # bob and carol do not reach full marks
    summary = json.loads((out / "summary.json").read_text())
    scores = {s["name"]: s["score"] for s in summary["submissions"]}
    assert scores["alice"] == 7.5 and scores["bob"] < 7.5 and scores["carol"] < 7.5
    seeds = set()
    for name in ("alice", "bob", "carol"):
        result = json.loads((out / name / "result.json").read_text())
        assert result["submission"].endswith(name)
        seeds.add(result["options"]["input_seed"])
    # one fresh input seed for the whole cohort, never the base seed 0 whose answers the
    # student release ships as fixtures (every child was handed `--seed 0`: a fixture
    # look-up passed in a cohort and failed alone)
    assert len(seeds) == 1 and 0 not in seeds and None not in seeds, seeds
    # the gradebook beside the summary: a row per submission, its points per question
    rows = list(csv.DictReader((out / "grades.csv").open(newline="")))
    assert [r["submission"] for r in rows] == ["alice", "bob", "carol"]
    by_name = {r["submission"]: r for r in rows}
    assert float(by_name["alice"]["score"]) == 7.5 and by_name["alice"]["percent"] == "100.00"
    for row, graded in zip(rows, summary["submissions"], strict=True):
        assert {k: float(row[k]) for k in graded["question_scores"]} == pytest.approx(
            graded["question_scores"])
        assert sum(float(row[k]) for k in graded["question_scores"]) == pytest.approx(
            float(row["score"]))
    assert float(by_name["bob"]["toy.scale"]) < float(by_name["alice"]["toy.scale"])


@pytest.mark.parametrize("fmt,reserved", [("json", "summary.json"), ("html", "Dashboard.html"),
                                          ("json", "GRADES.csv")])
def test_a_submission_named_like_the_cohort_files_does_not_stop_them(toy, make_submission,
                                                                     tmp_path, fmt, reserved):
    """An attacker's submission folder named ``summary.json`` (or ``dashboard.html``) became
    the folder of its reports, and the cohort's summary (dashboard) could not be written over
    it: exit 2, no summary for anyone. Its reports now go to ``submission-<name>``."""
    root = tmp_path / "cohort"
    root.mkdir()
    for name in ("alice", reserved, f"submission-{reserved}"):
        make_submission(None, name=f"subs/{name}").rename(root / name)
    out = tmp_path / "out"
    result = grade("--submissions", str(root), "--jobs", "2", "-f", fmt, "-o", str(out))
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert {s["name"] for s in summary["submissions"]} == {
        "alice", reserved, f"submission-{reserved}"}
    assert (out / "summary.json").is_file()
    if fmt == "html":
        assert (out / "dashboard.html").is_file()
    for name, folder in (("alice", "alice"), (reserved, f"submission-2-{reserved}"),
                         (f"submission-{reserved}", f"submission-{reserved}")):
        graded = json.loads((out / folder / "result.json").read_text())["submission"]
        assert graded.endswith(name)
    assert f"submission-2-{reserved}" in result.output


def test_every_dashboard_link_leads_to_its_result(toy, make_submission, tmp_path):
    """A CI integrator's trial: `dojo report` linked `a#1/result.json` unquoted (a fragment)
    and gave the submission named summary.json, whose reports are in
    submission-summary.json/, no link; `grade -f html` linked it to summary.json/. Each link
    of either page now opens the submission's own result."""
    import re
    from pathlib import Path
    from urllib.parse import unquote

    from nlpdojo.cli.app import build_app

    root = tmp_path / "cohort"
    root.mkdir()
    names = ("a#1", "x?y z", "50%", "summary.json")
    for name in names:
        make_submission(None, name=f"subs/{name}").rename(root / name)
    out = tmp_path / "out"
    assert grade("--submissions", str(root), "-f", "html", "-o", str(out)).exit_code == 0
    elsewhere = tmp_path / "elsewhere" / "page.html"
    made = runner.invoke(build_app(), ["report", str(out / "summary.json"), "-o", str(elsewhere)])
    assert made.exit_code == 0, made.output
    for page in (out / "dashboard.html", elsewhere):
        links = [unquote(h) for h in re.findall(r'href="([^"]+/result\.json)"', page.read_text())]
        assert len(links) == len(names), (page, links)
        for link in links:
            result = (page.parent / link).resolve()
            assert result.is_file(), (page, link)
        submitted = {Path(json.loads((page.parent / link).read_text())["submission"]).name
                     for link in links}
        assert submitted == set(names), page


def test_notebook_submission(toy, make_submission, tmp_path):
    from nlpdojo_autograder.release.notebooks import build_notebook, dumps

    folder = make_submission()  # the solutions: a filled-in notebook
    nb = tmp_path / "toy.ipynb"
    nb.write_text(dumps(build_notebook(folder / "toy", stub=False)))
    result = grade("toy", "--submission", str(nb))
    assert result.exit_code == 0, result.output
    nb.write_text("{ not json")
    broken = runner.invoke(app, ["toy", "--submission", str(nb)])
    assert broken.exit_code == 2
    assert "Traceback" not in broken.output and "toy.ipynb" in broken.output


def test_a_folder_holding_only_the_notebook_grades_the_notebook(toy, make_submission,
                                                                tmp_path):
    """A student who worked in the notebook uploads it alone; Gradescope's run_autograder
    grades the submission folder, which graded as empty (every check "not implemented")."""
    from nlpdojo_autograder.release.notebooks import build_notebook, dumps

    uploaded = tmp_path / "submission"
    uploaded.mkdir()
    (uploaded / "toy.ipynb").write_text(dumps(build_notebook(make_submission() / "toy",
                                                             stub=False)))
    result = grade("toy", "--submission", str(uploaded), "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["score"] == 7.5
    (uploaded / "other.ipynb").write_text("{}")  # not a topic's: left alone
    assert grade("toy", "--submission", str(uploaded)).exit_code == 0


def test_default_submission_is_exercises_or_the_topic_parent(toy, make_submission, monkeypatch):
    folder = make_submission()
    monkeypatch.chdir(folder)  # a student who ran `cd exercises`
    result = grade("toy", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["submission"] == str(folder.resolve())


def test_a_submission_of_bare_topic_files(toy, make_submission):
    """Uploaded files without their topic folder (Gradescope) are graded as that topic."""
    folder = make_submission() / "toy"
    result = grade("toy", "--submission", str(folder), "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["score"] == 7.5


def test_a_syntax_error_in_a_notebook_cell_costs_only_that_module(toy, make_submission, tmp_path):
    from nlpdojo_autograder.release.notebooks import build_notebook, dumps

    nb = build_notebook(make_submission() / "toy", stub=False)
    cell = next(c for c in nb.cells if "nlpdojo:quadratic" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("return loss, grad", "return (loss, grad")
    path = tmp_path / "toy.ipynb"
    path.write_text(dumps(nb))
    out = tmp_path / "r.json"
    result = grade("toy", "--submission", str(path), "-f", "json", "-o", str(out))
    assert result.exit_code == 1, result.output
    checks = {c["id"]: c for c in json.loads(out.read_text())["exercises"][0]["checks"]}
    assert checks["scale.values"]["status"] == "passed"
    assert checks["quadratic.values"]["status"] == "error"
    assert "module quadratic" in checks["quadratic.values"]["message"]


def test_the_student_view_says_what_hidden_checks_carry(toy_fixtures, make_submission, tmp_path):
    folder, out = make_submission(), tmp_path / "r.json"
    result = grade("toy", "-s", str(folder), "--as-student", "-f", "json", "-o", str(out))
    assert result.exit_code == 0, result.output  # full marks on what can be checked here
    data = json.loads(out.read_text())
    assert data["hidden_points"] == 1.0
    assert data["exercises"][0]["hidden_points"] == {"quadratic": 1.0}
    assert not any(c["hidden"] for c in data["exercises"][0]["checks"])
    assert ("Hidden checks, not run here: 1 more point (quadratic 1); they run when your work "
            "is graded after you submit it.") in " ".join(result.output.split())
    assert "+ 1 point of hidden checks at submission" in result.output
    # where the reference is present they run, and nothing is announced
    result = grade("toy", "-s", str(folder), "-f", "json", "-o", str(out))
    data = json.loads(out.read_text())
    assert data["hidden_points"] == 0 and data["exercises"][0]["hidden_points"] == {}
    assert any(c["hidden"] for c in data["exercises"][0]["checks"])
    assert "Hidden checks" not in result.output
    # a question filter counts only the hidden checks of the questions graded
    grade("scale", "-s", str(folder), "--as-student", "-f", "json", "-o", str(out))
    assert json.loads(out.read_text())["hidden_points"] == 0


def test_help_lists_the_topics_installed(monkeypatch):
    """``grade --help`` ends with the registered topics, in course order (a new topic shows
    up there with no edit of the engine)."""
    from nlpdojo_autograder.cli import grade as grade_cli

    monkeypatch.setattr(grade_cli, "run_app", lambda application: None)
    grade_cli.main()
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Topics installed: word_vectors, neural_networks, language_models" in result.output


def test_a_cohort_with_a_childs_internal_error_exits_three(toy, make_submission, tmp_path,
                                                           monkeypatch):
    """Exit 3 is a bug of the grader (docs/grading.md): one child's internal error makes the
    cohort's, where it exited 2 as for a submission that could not be graded."""
    from nlpdojo_autograder.cli import grade as grading
    from nlpdojo_autograder.grading.child import ChildGradingError

    root = tmp_path / "cohort"
    root.mkdir()
    make_submission(None, name="subs/alice").rename(root / "alice")

    def broken(folder, *args, **kwargs):
        raise ChildGradingError("internal error (a bug in nlpdojo)", exit_code=3)

    monkeypatch.setattr(grading, "_grade_in_child", broken)
    result = grade("--submissions", str(root), "-f", "json", "-o", str(tmp_path / "out"))
    assert result.exit_code == 3, result.output
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["submissions"]


def test_grading_at_the_fixtures_input_seed_is_warned(toy, make_submission):
    """`--seed 0` also sets the input seed to the student release's, whose fixtures answer the
    checks (an attacker's fixture look-up passed at it): said, where the reference is here."""
    folder = make_submission()
    seeded = grade("toy", "--submission", str(folder), "--seed", "0", "-f", "json")
    assert "input seed 0 is the student release's" in seeded.output
    fresh = grade("toy", "--submission", str(folder), "-f", "json")
    assert "input seed 0" not in fresh.output


def test_a_cohort_resumed_keeps_what_was_graded_the_same_way(toy, make_submission, tmp_path):
    """A cohort stopped half-way is resumed with --resume: the submissions graded earlier
    with the same options, grader and files keep their results (and the cohort its input
    seed); one edited since, one whose grading failed, or one never graded is graded again."""
    root = tmp_path / "cohort"
    root.mkdir()
    for name, edits in {"alice": None,
                        "bob": {"scale": ("return xp.multiply(x, k)", "return xp.add(x, k)")},
                        "carol": None}.items():
        make_submission(edits, name=f"subs/{name}").rename(root / name)
    out = tmp_path / "out"
    first = grade("--submissions", str(root), "-f", "json", "-o", str(out))
    assert first.exit_code == 1, first.output
    graded = {n: json.loads((out / n / "result.json").read_text()) for n in ("alice", "bob")}
    seed = graded["alice"]["options"]["input_seed"]
    # as if the run had stopped before carol; and alice has edited her files since
    (out / "carol" / "result.json").unlink()
    (out / "carol" / ".nlpdojo-graded.json").unlink()
    (root / "alice" / "notes.txt").write_text("changed after grading\n")
    resumed = grade("--submissions", str(root), "-f", "json", "-o", str(out), "--resume")
    assert resumed.exit_code == 1, resumed.output
    assert "resuming: 1 of 3 submissions" in resumed.output
    # and why the others were not kept (a CI integrator's trial: no reason was said)
    said = " ".join(resumed.output.split())
    assert "grading 2 (1 changed since, 1 not graded to the end before)" in said or \
        "grading 2 (1 not graded to the end before, 1 changed since)" in said, said
    again = {n: json.loads((out / n / "result.json").read_text())
             for n in ("alice", "bob", "carol")}
    assert again["bob"]["started_at"] == graded["bob"]["started_at"]  # kept, not regraded
    assert again["alice"]["submission_sha256"] != graded["alice"]["submission_sha256"]
    assert {r["options"]["input_seed"] for r in again.values()} == {seed}  # one seed
    summary = json.loads((out / "summary.json").read_text())
    assert {s["name"]: s["score"] for s in summary["submissions"]} == {
        "alice": 7.5, "bob": again["bob"]["score"], "carol": 7.5}
    # another seed asked for: nothing is kept (and all on the seed asked for)
    other = grade("--submissions", str(root), "-f", "json", "-o", str(out), "--resume",
                  "--seed", "5")
    assert "resuming: 0 of 3 submissions" in other.output
    assert "grading 3 (3 graded on another input seed)" in " ".join(other.output.split())


def test_a_resumed_cohort_grades_new_work_on_a_seed_nobody_was_given(
        toy, make_submission, tmp_path, monkeypatch):
    """Round 6: a resumed run graded new and changed submissions on the earlier run's input
    seed, which every student's result.json holds (a lookup table of that draw's answers: 4
    of 4 resumed, 0 of 4 afresh). What is kept keeps its seed; the rest gets a fresh draw."""
    monkeypatch.delenv(INPUT_SEED_ENV)  # as a course grades: a fresh draw per run
    root = tmp_path / "cohort"
    root.mkdir()
    for name in ("alice", "bob"):
        make_submission(None, name=f"subs/{name}").rename(root / name)
    out = tmp_path / "out"
    first = grade("--submissions", str(root), "-f", "json", "-o", str(out))
    assert first.exit_code == 0, first.output
    seed = json.loads((out / "alice" / "result.json").read_text())["options"]["input_seed"]
    (root / "bob" / "notes.txt").write_text("changed after the results went out\n")
    make_submission(None, name="subs/carol").rename(root / "carol")  # late, new
    resumed = grade("--submissions", str(root), "-f", "json", "-o", str(out), "--resume")
    assert resumed.exit_code == 0, resumed.output
    seeds = {n: json.loads((out / n / "result.json").read_text())["options"]["input_seed"]
             for n in ("alice", "bob", "carol")}
    assert seeds["alice"] == seed  # kept
    assert seeds["bob"] == seeds["carol"] != seed  # one fresh draw for the rest
    assert f"on input seed {seeds['bob']}" in " ".join(resumed.output.split())
    again = grade("--submissions", str(root), "-f", "json", "-o", str(out), "--resume")
    assert "resuming: 3 of 3 submissions" in again.output  # each on its own seed


def test_resume_is_a_cohort_option(toy, make_submission):
    result = runner.invoke(app, ["toy", "--resume", "--submission",
                                 str(make_submission(None))])
    assert result.exit_code == 2 and "--resume" in result.output and "--submissions" in (
        result.output)
