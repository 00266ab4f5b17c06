"""The held-out leaderboard (issue 64, item 2): ordering in both directions, ties, missing
metrics, aliases stable across runs and unguessable without the secret; the dashboard shows
aliases, never names; Gradescope's entries come from the same function."""

from __future__ import annotations

import math

from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult
from nlpdojo_reports.dashboard import render_dashboard
from nlpdojo_reports.gradescope import GradescopeReporter
from nlpdojo_reports.leaderboard import (
    alias,
    cohort_leaderboard,
    course_secret,
    metric_entries,
    own_entry,
)

SECRET = b"course-secret"


def _result(perplexity: float | None, accuracy: float | None) -> GradingResult:
    checks = []
    for cid, value in (("lm.perplexity", perplexity), ("tagger.accuracy", accuracy)):
        checks.append(CheckResult(
            id=cid, question=cid.split(".")[0], title=cid, kind="metric",
            status="passed" if value is not None else "error", score=1.0, max_score=1.0,
            message="", value=value))
    return GradingResult(exercises=[ExerciseResult(name="t", title="t", checks=checks)],
                         backend="numpy", device="cpu", submission="x", seeds={},
                         versions={}, options={})


def _cohort():
    return {"ann": _result(120.0, 0.91), "ben": _result(95.5, 0.88),
            "cat": _result(95.5, 0.93), "dan": _result(None, math.nan),
            "eve": _result(math.inf, 0.91)}


def _board(name_of, board, cid):
    metric = next(m for m in board["metrics"] if m["id"] == cid)
    return [(r["rank"], name_of[r["alias"]], r["value"]) for r in metric["ranked"]], metric


def test_lower_perplexity_ranks_higher_and_ties_share_a_rank():
    board = cohort_leaderboard(_cohort(), SECRET)
    name_of = {a: n for n, a in board["aliases"].items()}
    ranked, metric = _board(name_of, board, "lm.perplexity")
    assert metric["order"] == "asc"
    assert ranked[0][0] == ranked[1][0] == 1 and {ranked[0][1], ranked[1][1]} == {"ben", "cat"}
    assert ranked[2] == (3, "ann", 120.0)
    assert metric["missing"] == 2  # dan measured nothing, eve an infinite perplexity


def test_higher_accuracy_ranks_higher():
    board = cohort_leaderboard(_cohort(), SECRET)
    name_of = {a: n for n, a in board["aliases"].items()}
    ranked, metric = _board(name_of, board, "tagger.accuracy")
    assert metric["order"] == "desc"
    assert [(r, n) for r, n, _ in ranked][0] == (1, "cat")
    assert {n for r, n, _ in ranked if r == 2} == {"ann", "eve"}  # tied at 0.91
    assert ranked[-1][:2] == (4, "ben") and metric["missing"] == 1  # dan's NaN


def test_a_value_of_a_failed_check_earns_no_rank():
    """A trial's finding (issue 66's round 4): a training the audit rejected (Adam's step
    scaled by 0.7: 0 of 3 points) measured 0.8298 and ranked first, above an honest 3 of 3 at
    0.8282, on the cohort's board and Gradescope's. A failed check earns no rank."""
    cheat = _result(80.0, 0.95)
    for check in cheat.exercises[0].checks:
        check.status, check.score = "failed", 0.0  # the audit, or the too-good bound
    board = cohort_leaderboard({**_cohort(), "zed": cheat}, SECRET)
    name_of = {a: n for n, a in board["aliases"].items()}
    for cid in ("lm.perplexity", "tagger.accuracy"):
        ranked, metric = _board(name_of, board, cid)
        assert "zed" not in {n for _, n, _ in ranked}, ranked
        assert ranked[0][0] == 1 and ranked[0][1] in ("ben", "cat")
    assert _board(name_of, board, "lm.perplexity")[1]["missing"] == 3
    assert metric_entries(cheat) == []
    assert "leaderboard" not in GradescopeReporter().to_dict(cheat)


def test_values_equal_to_four_digits_share_a_rank():
    """Round 5: in a cohort (one draw) every honest training is held to the reference's
    trajectory, so honest values differ by float noise alone, and the board ranked the
    noise."""
    board = cohort_leaderboard({"ann": _result(95.50000001, 0.9), "ben": _result(95.5, 0.9),
                                "cat": _result(95.54, 0.9)}, SECRET)
    name_of = {a: n for n, a in board["aliases"].items()}
    ranked, _ = _board(name_of, board, "lm.perplexity")
    assert {(r, n) for r, n, _ in ranked if r == 1} == {(1, "ann"), (1, "ben")}
    assert ranked[-1][:2] == (3, "cat")


def test_aliases_are_stable_secret_and_distinct():
    assert alias("ann", SECRET) == alias("ann", SECRET)
    assert alias("ann", SECRET) != alias("ann", b"another course")
    first = cohort_leaderboard(_cohort(), SECRET)["aliases"]
    assert cohort_leaderboard(_cohort(), SECRET)["aliases"] == first
    assert len(set(first.values())) == len(first)
    many = cohort_leaderboard({f"s{i}": _result(1.0, 1.0) for i in range(400)}, SECRET)
    assert len(set(many["aliases"].values())) == 400  # collisions get a letter


def test_a_student_sees_only_their_own_alias():
    board = cohort_leaderboard(_cohort(), SECRET)
    mine = own_entry(board, "ann")
    assert mine["alias"] == board["aliases"]["ann"]
    assert "ben" not in str(mine) and board["aliases"]["ben"] not in str(mine)
    assert [(m["id"], m["rank"]) for m in mine["metrics"]] == [("lm.perplexity", 3),
                                                               ("tagger.accuracy", 2)]
    dan = own_entry(board, "dan")
    assert dan["metrics"][0]["rank"] is None


def test_the_dashboard_shows_aliases_not_names():
    board = cohort_leaderboard(_cohort(), SECRET)
    summary = {"schema_version": "1.2", "count": 0, "score": {}, "submissions": [],
               "questions": [], "checks": [], "failure_clusters": [],
               "leaderboard": {"metrics": board["metrics"]}}
    page = render_dashboard(summary)
    assert 'id="leaderboard"' in page and board["aliases"]["cat"] in page
    assert "lower is better" in page and "higher is better" in page
    assert ">ann<" not in page


def test_gradescope_writes_the_same_entries():
    result = _result(95.5, 0.88)
    doc = GradescopeReporter().to_dict(result)
    assert doc["leaderboard"] == metric_entries(result) == [
        {"name": "lm.perplexity", "value": 95.5, "order": "asc"},
        {"name": "tagger.accuracy", "value": 0.88}]


def test_the_secret_is_kept_once(monkeypatch, tmp_path):
    monkeypatch.delenv("NLPDOJO_LEADERBOARD_SECRET", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    first = course_secret()
    assert course_secret() == first and len(first) == 64
    (kept,) = tmp_path.rglob("leaderboard-secret")
    assert kept.stat().st_mode & 0o777 == 0o600  # its owner's only
    monkeypatch.setenv("NLPDOJO_LEADERBOARD_SECRET", "given")
    assert course_secret() == b"given"


def test_grade_submissions_leaderboard(monkeypatch, tmp_path):
    """``grade --submissions DIR --leaderboard``: the board in summary.json and the dashboard
    by alias, each student's own entry beside their result (the gradings stand in)."""
    import json

    from typer.testing import CliRunner

    from nlpdojo_autograder.cli import grade

    cohort = _cohort()
    subs = tmp_path / "subs"
    for name in cohort:
        (subs / name / "word_vectors").mkdir(parents=True)
    monkeypatch.setenv("NLPDOJO_LEADERBOARD_SECRET", "s3cret")
    monkeypatch.setattr(grade, "_grade_in_child",
                        lambda folder, *a, **k: cohort[folder.name])
    out = tmp_path / "out"
    result = CliRunner().invoke(grade.app, ["softmax", "--submissions", str(subs), "--format",
                                            "html", "--output", str(out), "--leaderboard"])
    assert result.exit_code in (0, 1), result.output
    summary = json.loads((out / "summary.json").read_text())
    perplexity = summary["leaderboard"]["metrics"][0]
    assert [r["rank"] for r in perplexity["ranked"]] == [1, 1, 3]
    assert "aliases" not in summary["leaderboard"]  # who is whom stays with the secret
    mine = json.loads((out / "ann" / "leaderboard.json").read_text())
    assert mine["alias"] == alias("ann", b"s3cret")
    assert mine["alias"] in (out / "dashboard.html").read_text()
    again = CliRunner().invoke(grade.app, ["softmax", "--submission", str(subs / "ann"),
                                           "--leaderboard"])
    assert again.exit_code == 2 and "--leaderboard ranks a cohort" in again.output


def test_the_course_switches_the_leaderboard_on(monkeypatch, tmp_path):
    """``leaderboard = true`` in the course configuration: every cohort run ranks; the option
    (--no-leaderboard) still wins, and the environment before the configuration."""
    import json

    from typer.testing import CliRunner

    from nlpdojo_autograder.cli import grade

    cohort = _cohort()
    subs = tmp_path / "subs"
    for name in cohort:
        (subs / name / "word_vectors").mkdir(parents=True)
    config = tmp_path / "config.toml"
    config.write_text("leaderboard = true\n")
    monkeypatch.setenv("NLPDOJO_CONFIG", str(config))
    monkeypatch.setenv("NLPDOJO_LEADERBOARD_SECRET", "s3cret")
    monkeypatch.setattr(grade, "_grade_in_child", lambda folder, *a, **k: cohort[folder.name])

    runs = iter(range(10))

    def run(*extra):  # each into a folder of its own (the stand-in results are of t.*)
        out = tmp_path / f"out{next(runs)}"
        result = CliRunner().invoke(grade.app, ["softmax", "--submissions", str(subs),
                                                "--output", str(out), *extra])
        assert result.exit_code in (0, 1), result.output
        return "leaderboard" in json.loads((out / "summary.json").read_text())

    assert run() is True
    assert run("--no-leaderboard") is False
    monkeypatch.setenv("NLPDOJO_LEADERBOARD", "off")
    assert run() is False


def test_a_courses_board_ranks_its_roster_only(monkeypatch, tmp_path):
    """The TA's trial: with ``--course`` the board ranked every folder of the cohort, a
    folder matching no student of the roster (``ghost``) among them; and (round 3) a student
    who withdrew."""
    import json

    from typer.testing import CliRunner

    from nlpdojo_autograder.cli import grade
    from nlpdojo_autograder.course.roster import import_roster
    from nlpdojo_autograder.course.store import COURSE_ENV
    from tests.course.helpers import TABLE, make_course

    monkeypatch.delenv(COURSE_ENV, raising=False)
    table = {**TABLE, "assignments": [{**TABLE["assignments"][0],
                                       "questions": ["word_vectors.softmax"]}]}
    with make_course(tmp_path, table) as course:
        (tmp_path / "r.csv").write_text("id,name,email,login\n1,Ann,a@x.edu,ann\n"
                                        "2,Ben,b@x.edu,ben\n3,Cat,c@x.edu,cat\n")
        import_roster(course, tmp_path / "r.csv")
        from nlpdojo_autograder.course.roster import withdraw
        withdraw(course, "cat", "dropped the course")  # (a TA's trial, round 3: ranked)
    cohort = _cohort()
    subs = tmp_path / "subs"
    for name in cohort:  # ann, ben, cat on the roster (cat withdrew); dan and eve are not
        (subs / name / "word_vectors").mkdir(parents=True)
    monkeypatch.setenv("NLPDOJO_LEADERBOARD_SECRET", "s3cret")
    monkeypatch.setattr(grade, "_grade_in_child", lambda folder, *a, **k: cohort[folder.name])
    out = tmp_path / "out"
    result = CliRunner().invoke(grade.app, [
        "--submissions", str(subs), "--course", str(tmp_path / "course.db"), "--assignment",
        "a1", "--manifest", str(_manifest(tmp_path, cohort)), "--output", str(out),
        "--leaderboard"])
    assert result.exit_code in (0, 1), result.output
    boards = json.loads((out / "summary.json").read_text())["leaderboard"]["metrics"]
    ranked = {r["alias"] for board in boards for r in board["ranked"]}
    assert ranked <= {alias(n, b"s3cret") for n in ("ann", "ben")}, ranked
    assert not (out / "eve" / "leaderboard.json").exists()
    assert not (out / "cat" / "leaderboard.json").exists()


def _manifest(tmp_path, cohort):
    path = tmp_path / "manifest.csv"
    path.write_text("folder,submitted_at\n" + "".join(
        f"{name},2027-01-20T10:00:00Z\n" for name in cohort))
    return path
