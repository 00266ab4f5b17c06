"""Issue 63's "Done when": a course of 12 students from a Canvas gradebook export, graded as a
cohort with a manifest of submission times (one real grading of the toy pack), a run killed
half-way and resumed, extensions, overrides, two attempts of which the policy picks one, and
the Canvas export read back cell by cell against hand-computed points and parsed by the rules
Canvas's importer applies to the header and the Points Possible row."""

from __future__ import annotations

import csv
import json
import re
import stat
from pathlib import Path

from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.cli.grade import app as grade_app
from nlpdojo_autograder.course.attempts import attempts, restore_sources
from nlpdojo_autograder.course.store import Course

runner = CliRunner()

TABLE = """\
name = "NLP 101"
timezone = "America/New_York"
submissions_key = "login"

[late]
bank_days = 3
max_per_assignment = 2
grace_minutes = 15
past_bank = "percent"
percent_per_day = 10

[[assignments]]
id = "a1"
title = "Scaling"
questions = ["toy.scale"]
points = 15
due = 2027-01-20T23:59:00-05:00
lms_id = "5001"

[[assignments]]
id = "a2"
title = "Project"
questions = ["toy.quadratic"]
points = 10
due = "2027-02-20T23:59:00"
"""

# as Canvas exports it: a byte-order mark, the Points Possible row, the test student
ROSTER = """\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Scaling (5001),Current Score
    Points Possible,,,,,15.00,(read only)
"Honest, Hana",1001,S1001,hana,Sec A,,
"Partial, Piet",1002,S1002,piet,Sec A,,
"Late, Lena",1003,S1003,lena,Sec A,,
"Later, Lars",1004,S1004,lars,Sec B,,
"Extended, Eva",1005,S1005,eva,Sec B,,
"Missing, Max",1006,S1006,max,Sec B,,
"Twice, Theo",1007,S1007,theo,Sec A,,
"Override, Olga",1008,S1008,olga,Sec A,,
"=HYPERLINK(""http://evil"",""Eve"")",1009,S1009,eve,Sec B,,
"Excused, Ed",1010,S1010,ed,Sec B,,
"Whole, Wanda",1011,S1011,wanda,Sec A,,
"Student, Test",9999,,,,,
"Quiet, Quinn",1012,S1012,quinn,Sec A,,
"""

#: what each student ends with, by hand: a1 is 15 points for toy.scale's 1.5 (the partial
#: submission passes scale.values, 1 of 1.5: 10 points); a2 is nobody's but two overrides
EXPECTED = {  # ID: (a1, a2)
    "1001": ("15", "0"),     # honest, on time
    "1002": ("10", "0"),     # partly right
    "1003": ("15", "0"),     # 10 hours late: 1 day from the bank
    "1004": ("13.5", "0"),   # 2 days 9 hours late: 3 days, 2 from the bank, 10% off
    "1005": ("15", "0"),     # 1.5 days late, with an extension of 3 days
    "1006": ("0", "0"),      # missing
    "1007": ("5", "0"),      # attempt 1 on time, attempt 2 late: the first counts; it
    #                          dropped k's sign (full marks until the check was fixed, then
    #                          regraded: scale.values fails, 0.5 of 1.5)
    "1008": ("15", "0"),     # partial, toy.scale overridden to 1.5
    "1009": ("15", "0"),     # honest (a name that is a formula)
    "1010": ("15", "EX"),    # a2 excused
    "1011": ("15", "8"),     # a2 overridden to 8 points
    "1012": ("15", "0"),     # 10 minutes late: within the grace
}


def dojo(*args):
    return runner.invoke(build_app(), list(args), catch_exceptions=False)


def grade(*args):
    return runner.invoke(grade_app, list(args), catch_exceptions=False)


def said(result) -> str:
    """What a command printed, its lines joined (a terminal's width wraps them)."""
    return " ".join(result.output.split())


def partial(make_submission, name):
    """Passes scale.values (a 3x4 input), fails scale.workdir (a vector): 1 of 1.5."""
    return make_submission({"scale": ("return xp.multiply(x, k)",
                                      "return xp.multiply(x, k) if x.ndim == 2 else "
                                      "xp.add(x, k)")}, name=name)


def canvas_import(rows):
    """Canvas's GradebookImporter's rules for the header and the Points Possible row
    (app/models/gradebook_importer.rb): a column containing Student, then ID, optional SIS
    columns, the student block ending at Section; assignment columns "Title (id)" or "Title";
    a second row whose first cell contains Points Possible; students matched by ID."""
    header, *body = rows
    assert "Student" in header[0]
    assert header[1] == "ID"
    section = header.index("Section")
    assert set(header[2:section]) <= {"SIS User ID", "SIS Login ID", "Integration ID",
                                      "Root Account"}
    ignored = re.compile(r"^(Current|Final|Unposted|Override) (Score|Grade|Points)")
    assignments = []
    for index, title in enumerate(header[section + 1:], section + 1):
        if ignored.match(title):
            continue
        found = re.match(r"^(.*) \((\d+)\)$", title)
        assignments.append((index, found.group(1) if found else title,
                            found.group(2) if found else None))
    possible = {}
    if body and "Points Possible" in body[0][0]:
        possible = {a[1]: float(body[0][a[0]]) for a in assignments}
        body = body[1:]
    grades = {}
    for row in body:
        for index, title, _ in assignments:
            cell = row[index]
            assert cell == "EX" or cell == "" or re.fullmatch(r"\d+(\.\d+)?", cell), cell
            grades[(row[1], title)] = cell
    return assignments, possible, grades


def test_a_course_from_roster_to_canvas(toy, toy_site, make_submission, tmp_path, monkeypatch):
    plugin = toy_site / "nlpdojo_toy_pack" / "plugin.py"
    original = plugin.read_text()
    try:
        _a_course_from_roster_to_canvas(plugin, original, make_submission, tmp_path,
                                        monkeypatch)
    finally:
        plugin.write_text(original)  # the pack is the session's


def _instructor_folder(tmp_path, monkeypatch, table: str) -> Path:
    """An instructor's folder holding ``table`` as course.toml and :data:`ROSTER` as
    roster.csv (no NLPDOJO_COURSE set)."""
    monkeypatch.delenv("NLPDOJO_COURSE", raising=False)
    work = tmp_path / "instructor"
    work.mkdir()
    (work / "course.toml").write_text(table)
    (work / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return work


def _a_course_from_roster_to_canvas(plugin, original, make_submission, tmp_path, monkeypatch):
    work = _instructor_folder(tmp_path, monkeypatch, TABLE)
    db = work / "nlp101.course"
    monkeypatch.chdir(work)
    made = dojo("course", "init", "--course", str(db))
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    imported = dojo("course", "roster", "import", "roster.csv", "--course", str(db))
    assert imported.exit_code == 0, imported.output
    assert "12 students, 12 added" in said(imported)
    assert "the Points Possible row" in said(imported) and "test student" in said(imported)

    # the cohort: three students' folders and one that is nobody's
    subs = tmp_path / "subs"
    subs.mkdir()
    make_submission(name="src/hana").rename(subs / "hana")
    partial(make_submission, "src/piet").rename(subs / "piet")
    # theo drops k's sign: the toy pack's scale.values asks scale(x, 3) only, so it cannot tell
    make_submission({"scale": ("xp.multiply(x, k)", "xp.multiply(x, abs(k))")},
                    name="src/theo").rename(subs / "theo")
    make_submission(name="src/stranger").rename(subs / "stranger")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("folder,submitted_at\nhana,2027-01-20T20:00:00-05:00\n"
                        "piet,2027-01-19T12:00:00Z\ntheo,2027-01-20T23:00:00-05:00\n")
    out = tmp_path / "results"
    cohort = ["--submissions", str(subs), "--course", str(db), "--assignment", "a1",
              "--manifest", str(manifest), "-j", "2", "-f", "json", "-o", str(out)]
    first = grade(*cohort)
    assert first.exit_code == 1, first.output  # not everyone has full marks
    assert "match no student by login (graded, not recorded): stranger" in said(first)
    assert "3 attempt(s) recorded, 0 recorded before" in said(first)
    assert ("9 student(s) have no folder here: 9 missing a1 (no attempt, past the due date): "
            "Late, Lena (1003)") in said(first)
    # and said again at the end, below the cohort's tables (the TA's trial)
    closing = said(first).split("3 attempt(s) recorded, 0 recorded before")[1]
    assert "to note" in closing and "stranger" in closing

    # killed half-way: piet's attempt was recorded, his reports and mark never written
    (out / "piet" / "result.json").unlink()
    (out / "piet" / ".nlpdojo-graded.json").unlink()
    resumed = grade(*cohort, "--resume")
    assert "resuming: 3 of 4 submissions" in said(resumed), resumed.output
    assert "0 attempt(s) recorded, 3 recorded before" in said(resumed)
    with Course.open(db) as course:
        assert len(attempts(course)) == 3  # none twice
        hana = attempts(course, student="1001")[0]
        assert (hana.submitted_from, hana.score, hana.max_score) == ("manifest", 1.5, 1.5)
        assert hana.submitted_at.isoformat() == "2027-01-21T01:00:00+00:00"
        assert hana.input_seed is not None and hana.grader_version and hana.sources_tree
        assert attempts(course, student="1002")[0].questions == {"toy.scale": (1.0, 1.5)}
        restored = restore_sources(course, hana.sources_tree, tmp_path / "again")
        assert "toy/scale.py" in restored
        assert (tmp_path / "again" / "toy" / "scale.py").read_text() == (
            subs / "hana" / "toy" / "scale.py").read_text()
    for path in out.rglob("*"):  # nothing of the course in what students could be given
        assert path.is_dir() or "Honest, Hana" not in path.read_text(errors="replace")

    # the others, recorded from results of the same gradings with their own times
    honest, part = out / "hana" / "result.json", out / "piet" / "result.json"
    for student, result, when in [
            ("lena", honest, "2027-01-21T10:00:00-05:00"),
            ("lars", honest, "2027-01-23T09:00:00-05:00"),
            ("eva", honest, "2027-01-22T12:00:00-05:00"),
            ("theo", honest, "2027-01-22T01:00:00-05:00"),
            ("olga", part, "2027-01-20T10:00:00-05:00"),
            ("eve", honest, "2027-01-20T10:00:00-05:00"),
            ("ed", honest, "2027-01-20T10:00:00-05:00"),
            ("wanda", honest, "2027-01-20T10:00:00-05:00"),
            ("quinn", honest, "2027-01-21T00:09:00-05:00")]:
        done = dojo("course", "record", str(result), "--student", student, "--assignment",
                    "a1", "--submitted-at", when, "--course", str(db))
        assert done.exit_code == 0 and "recorded" in done.output, done.output
    extended = dojo("course", "extend", "eva", "a1", "--due", "2027-01-23T23:59:00-05:00",
                    "--reason", "illness", "--course", str(db))
    assert extended.exit_code == 0, extended.output
    (work / "overrides.csv").write_text("student,assignment,question,points,reason\n"
                                        "olga,a1,scale,1.5,=regrade request accepted\n"
                                        "ed,a2,,EX,medical leave\n")
    assert dojo("course", "override", "--file", "overrides.csv", "--by", "ta1",
                "--course", str(db)).exit_code == 0
    whole = dojo("course", "override", "wanda", "a2", "--points", "8", "--reason",
                 "oral exam instead", "--course", str(db))
    assert whole.exit_code == 0, whole.output
    unknown = dojo("course", "override", "olga", "a1", "toy.nothing", "--points", "1",
                   "--reason", "x", "--course", str(db))
    assert unknown.exit_code == 2 and "has no question 'toy.nothing'" in said(unknown)

    history = dojo("course", "history", "theo", "--course", str(db))
    assert "attempt 1 of 2 counts (last-before-deadline)" in said(history)
    assert "late days: 0 used of 3, 3 left" in said(history)
    assert "(overridden)" in dojo("course", "history", "olga", "--course", str(db)).output

    # a check fixed (scale.values asks a negative k), then the course regraded from the sources
    # the record keeps, on the seed each attempt was graded on (a fresh grade process)
    assert "(ctx.asarray(x), 3.0)" in original
    plugin.write_text(original.replace("(ctx.asarray(x), 3.0)", "(ctx.asarray(x), -3.0)"))
    shown = dojo("course", "regrade", "a1", "--course", str(db), "-f", "json", "--apply")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert (data["count"], data["changed"], data["lost"]) == (3, 1, 1), data
    (twice,) = [r for r in data["submissions"] if r["name"] == "Twice, Theo (1007)"]
    assert (twice["before"]["score"], twice["after"]["score"]) == (1.5, 0.5)
    (check,) = twice["checks"]
    assert (check["id"], check["status_before"], check["status_after"], bool(check["message"])
            ) == ("scale.values", "passed", "failed", True)
    assert "applied: 1 attempt(s)" in shown.stderr
    # the attempts recorded from result files have no sources: listed, not regraded
    assert len(data["not_regraded"]) == 8 and all(
        "recorded from a result file without --submission" in r["why"]
        for r in data["not_regraded"])
    with Course.open(db) as course:
        first_try = attempts(course, student="1007", assignment="a1")[0]
        assert first_try.questions == {"toy.scale": (0.5, 1.5)}
        assert first_try.result(course).options["input_seed"] == first_try.input_seed
    assert "attempt 1 of 2 counts" in said(dojo("course", "history", "theo", "--course",
                                                 str(db)))

    exported = dojo("course", "export", "--format", "canvas", "-o", "canvas.csv",
                    "--course", str(db))
    assert exported.exit_code == 0, exported.output
    text = (work / "canvas.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Scaling (5001)", "Project"]
    assert rows[1] == ["Points Possible", "", "", "", "", "15", "10"]
    assert [r[1] for r in rows[2:]] == list(EXPECTED)  # the roster's order, no test student
    for row in rows[2:]:
        assert (row[5], row[6]) == EXPECTED[row[1]], row
    eve = next(r for r in rows if r[1] == "1009")
    assert eve[0] == "'=HYPERLINK(\"http://evil\",\"Eve\")"  # shown, never run
    assert [rows[2][i] for i in (0, 2, 3, 4)] == ["Honest, Hana", "S1001", "hana", "Sec A"]
    assignments, possible, grades = canvas_import(rows)
    assert [(a[1], a[2]) for a in assignments] == [("Scaling", "5001"), ("Project", None)]
    assert possible == {"Scaling": 15.0, "Project": 10.0}
    assert grades[("1004", "Scaling")] == "13.5" and grades[("1010", "Project")] == "EX"

    adjustments = list(csv.DictReader((work / "canvas-adjustments.csv").read_text(
        ).splitlines()))
    lars = [r["adjustment"] for r in adjustments if r["student"] == "1004"]
    assert "3 day(s) late, 2 from the bank" in lars
    assert "10% off for 1 day(s) past the bank (percent): 15 -> 13.5" in lars
    olga = [r for r in adjustments if r["student"] == "1008"]
    assert olga[0]["overridden"] == "yes"
    assert olga[0]["adjustment"].startswith("override of toy.scale: 1.5 of 1.5 (was 1) by ta1")
    assert "''=regrade" not in olga[0]["adjustment"]  # the reason inside a cell is text
    assert any(r["adjustment"] == "missing: no attempt recorded" and r["student"] == "1006"
               for r in adjustments)

    plain = dojo("course", "export", "--format", "csv", "-o", "grades.csv", "--course",
                 str(db))
    assert plain.exit_code == 0, plain.output
    table = {r["id"]: r for r in csv.DictReader((work / "grades.csv").read_text().splitlines())}
    assert (table["1004"]["a1"], table["1004"]["late days used"],
            table["1004"]["late days left"]) == ("13.5", "2", "1")
    assert (table["1003"]["a1 late days"], table["1003"]["late days left"]) == ("1", "2")
    assert table["1008"]["a1 overridden"] == "yes" and table["1007"]["a1 attempt"] == "1"
    assert table["1006"]["a1 status"] == "missing"
    assert table["1011"]["total"] == "23" and table["1010"]["points possible"] == "15"

    (work / "moodle.csv").touch()
    moodle = dojo("course", "export", "--format", "moodle", "-o", "moodle.csv", "--course",
                  str(db))
    assert moodle.exit_code == 2 and "have no email" in said(moodle)
    # every one of them counted in the names, five shown (the TA's trial: 8 said, 5 named)
    lacking, more = re.search(r"(\d+) student\(s\) have no email .* and (\d+) more\)",
                              said(moodle)).groups()
    assert int(lacking) == 5 + int(more)
    moodle = dojo("course", "export", "--format", "moodle", "--moodle-id", "login",
                  "-o", "moodle.csv", "--course", str(db))
    assert moodle.exit_code == 0, moodle.output
    rows = list(csv.reader((work / "moodle.csv").read_text().splitlines()))
    assert rows[0] == ["login", "Scaling", "Scaling feedback", "Project", "Project feedback"]
    lars_row = next(r for r in rows if r[0] == "lars")
    assert lars_row[1] == "13.5" and "10% off" in lars_row[2]
    assert next(r for r in rows if r[0] == "ed")[3:5] == ["", "excused by ta1: medical leave"]
    for name in ("canvas.csv", "grades.csv", "moodle.csv", "canvas-adjustments.csv"):
        assert stat.S_IMODE((work / name).stat().st_mode) == 0o600
    assert json.loads((out / "summary.json").read_text())["count"] == 4


def _rostered_course(tmp_path, monkeypatch, table: str):
    """A course file of ``table`` with :data:`ROSTER` imported (no NLPDOJO_COURSE set)."""
    work = _instructor_folder(tmp_path, monkeypatch, table)
    db = work / "c.course"
    assert dojo("course", "init", "--course", str(db), "--table",
                str(work / "course.toml")).exit_code == 0
    assert dojo("course", "roster", "import", str(work / "roster.csv"), "--course",
                str(db)).exit_code == 0
    return db


def test_a_submission_that_cannot_be_recorded_stops_no_other(toy, make_submission, tmp_path,
                                                             monkeypatch):
    """An adversarial trial: an archive entry dated past the year 9999 (``tar -x`` keeps it on
    a file system that stores such times) made ``fromtimestamp`` raise in the recording, which
    no one caught: the cohort stopped as interrupted, the rest ungraded, no summary written,
    ``--resume`` the same. The record's problem is that submission's; the others go on."""
    from nlpdojo_autograder.course import recording

    db = _rostered_course(tmp_path, monkeypatch, TABLE)
    subs = tmp_path / "subs"
    subs.mkdir()
    for login in ("hana", "lars", "theo"):
        make_submission(name=f"src/{login}").rename(subs / login)
    files_time = recording.modified_at

    def bad_time(folder):
        if folder.name == "lars":
            raise ValueError("year 33658 is out of range")  # as fromtimestamp says
        return files_time(folder)

    monkeypatch.setattr(recording, "modified_at", bad_time)
    out = tmp_path / "out"
    done = grade("--submissions", str(subs), "--course", str(db), "--assignment", "a1",
                 "-j", "1", "-f", "json", "-o", str(out))
    text = said(done)
    assert "interrupted" not in text, done.output
    assert "not recorded in the course" in text and "year 33658" in text
    assert (out / "summary.json").is_file() and (out / "theo" / "result.json").is_file()
    with Course.open(db) as course:
        assert sorted(a.student for a in attempts(course)) == ["1001", "1007"]


def test_another_assignments_cohort_is_not_graded_into_its_reports(toy, make_submission,
                                                                    tmp_path, monkeypatch):
    """A TA's trial: a3 (the whole toy topic) holds a1's question, so its cohort graded
    with a1's --output replaced a1's reports and summary without a word (a2's, of another
    question, was refused). The summary names the assignment; another one's is refused."""
    db = _rostered_course(tmp_path, monkeypatch, TABLE + '[[assignments]]\nid = "a3"\n'
                          'topics = ["toy"]\npoints = 20\ndue = 2027-03-20T23:59:00-05:00\n')
    subs = tmp_path / "subs"
    subs.mkdir()
    make_submission(name="src/hana").rename(subs / "hana")
    out = tmp_path / "out"
    cohort = ["--submissions", str(subs), "--course", str(db), "-j", "1", "-o", str(out)]
    assert grade(*cohort, "--assignment", "a1").exit_code == 0
    before = (out / "summary.json").read_text()
    assert json.loads(before)["assignment"] == "a1"
    again = grade(*cohort, "--assignment", "a3")
    assert again.exit_code == 2, again.output
    assert "holds the reports of assignment a1's grading; grading a3 there" in said(again)
    assert (out / "summary.json").read_text() == before
    assert grade(*cohort, "--assignment", "a1").exit_code == 0  # a1 again: replaced


def test_a_packs_cohort_is_compared_on_its_own_solutions(toy, make_submission, tmp_path):
    """A TA's trial: ``dojo similarity`` looked for the toy pack's topic in nlpdojo_solutions
    (where ``grade`` finds it through the pack's registered reference), and neither error said
    --solutions. Each topic's registered reference is where its solutions are found."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ann", "bo"):
        make_submission(name=f"src/{name}").rename(subs / name)
    out = tmp_path / "out"
    for topic in ([], ["--topic", "toy"]):
        done = dojo("similarity", str(subs), "-o", str(out), "--min-size", "0", *topic)
        assert done.exit_code == 0, done.output
        assert (out / "similarity.json").is_file()
    missing = dojo("similarity", str(subs), "-o", str(out), "--topic", "toy", "--solutions",
                   str(tmp_path))
    assert missing.exit_code == 2 and "--solutions DIR" in said(missing)
