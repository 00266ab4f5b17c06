"""``dojo course``: the course record's commands (docs/course.md).

The course file is given with ``--course PATH`` or ``NLPDOJO_COURSE`` on every command, never
looked for elsewhere. Each command reads or writes it in transactions and prints what it did.
"""

from __future__ import annotations

import difflib
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from nlpdojo.cli.common import print_warning, report_errors
from nlpdojo_autograder.course.attempts import (
    attempts,
    modified_at,
    record_attempt,
    void_attempt,
)
from nlpdojo_autograder.course.config import (
    CourseConfig,
    CourseError,
    aware,
    load_course_table,
    local_time,
)
from nlpdojo_autograder.course.exports import FORMATS, MISSING, MOODLE_IDS, export
from nlpdojo_autograder.course.overrides import (
    add_override,
    import_overrides,
    lowered,
    overrides,
    remove_override,
    who,
)
from nlpdojo_autograder.course.policy import (
    Gradebook,
    add_extension,
    gradebook,
    import_extensions,
    points_text,
    standing_points,
)
from nlpdojo_autograder.course.review_commands import add_review_commands
from nlpdojo_autograder.course.roster import (
    change_id,
    check_unambiguous,
    import_roster,
    match_folders,
    record_of,
    withdraw,
)
from nlpdojo_autograder.course.store import COURSE_ENV, Course, course_path
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise, graded_content_sha256
from nlpdojo_autograder.grading.results import GradingResult
from nlpdojo_autograder.grading.snapshot import SubmissionError

CourseOption = Annotated[Path | None, typer.Option(
    "--course", metavar="PATH", help=f"The course file (default: ${COURSE_ENV}).")]
StudentArgument = Annotated[str, typer.Argument(help="The student's id, login or email.")]

app = typer.Typer(rich_markup_mode=None, name="course", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False,
                  help="The course record: roster, attempts, late days, overrides, exports.")
roster_app = typer.Typer(rich_markup_mode=None, name="roster", no_args_is_help=True,
                         add_completion=False,
                         pretty_exceptions_enable=False, help="The course's students.")
app.add_typer(roster_app, name="roster")


def _open(given: Path | None) -> Course:
    return Course.open(course_path(given))


@app.command("init")
@report_errors
def init_command(
    course: CourseOption = None,
    table: Annotated[Path | None, typer.Option(
        "--table", metavar="FILE", help="The course table: a course.toml, or a pyproject.toml "
        "with [tool.nlpdojo.course] (default: ./course.toml, else ./pyproject.toml).")] = None,
    update: Annotated[bool, typer.Option(
        "--update", help="Write an edited course table over an existing course's.")] = False,
) -> None:
    """Make the course file from the course table (or, with --update, apply its edits)."""
    path = course_path(course)
    source = table or (Path("course.toml") if Path("course.toml").is_file()
                       else Path("pyproject.toml"))
    if table is None and not source.is_file():  # neither default: say both were looked for
        raise CourseError(f"no course table in {Path.cwd()}: neither course.toml nor "
                          "pyproject.toml is there; write a course.toml (docs/course.md, 'The "
                          "course table'), run this in its folder, or pass --table FILE")
    config = load_course_table(source)
    _warn_unknown_targets(config)
    text = source.read_text(encoding="utf-8")
    if update:
        with Course.open(path) as opened:
            changes = opened.update_config(config, text)
        for line in changes:
            typer.echo(line)
        changed = [line for line in changes if not line.startswith(" ")]  # (not what follows)
        typer.echo(f"course {path} updated from {source} ({len(changed)} assignment change(s); "
                   "the policy as the table says)")
        return
    with Course.create(path, config, text) as made:
        typer.echo(f"course {path} made from {source}: {len(made.assignments())} assignment(s) "
                   f"({', '.join(a.id for a in made.assignments())}); readable by you only. "
                   f"Next: dojo course roster import FILE --course {path}")


def _warn_unknown_targets(config: CourseConfig) -> None:
    """Warn of targets no installed topic has (the course may be graded elsewhere); refuse a
    question that an installed topic does not have."""
    try:
        names = exercise_names()
        questions = {f"{n}.{c.question}" for n in names for c in get_exercise(n).checks}
    except Exception:  # noqa: BLE001 - the registry is not needed to make a course
        return
    bare = {q.split(".", 1)[1] for q in questions}  # a question named alone (one topic's)
    known = sorted({*names, *questions, *bare})
    for a in config.assignments:
        unknown = [t for t in a.targets if t not in names and t not in questions
                   and t not in bare]
        # a question of an installed topic that it does not have, or a name close to an
        # installed one: a typo, refused (it was recorded, and found only when a regrade or a
        # grading of the assignment failed; TAs' trials)
        for typo in unknown:
            topic = typo.split(".", 1)[0] if "." in typo else None
            if topic in names:
                ours = sorted(q for q in questions if q.split(".", 1)[0] == topic)
                close = difflib.get_close_matches(typo, ours, n=1)
                raise CourseError(
                    f"assignment {a.id}: {typo} is no question of {topic}"
                    f"{f' (did you mean {close[0]}?)' if close else ''}; its questions: "
                    f"{', '.join(ours)}. Fix the course table (nothing was written)")
            close = difflib.get_close_matches(typo, known, n=1, cutoff=0.75)
            if close:
                raise CourseError(f"assignment {a.id}: {typo} is no topic or question installed "
                                  f"here (did you mean {close[0]}?). Fix the course table "
                                  "(nothing was written)")
        if unknown:
            print_warning(f"assignment {a.id}: {', '.join(unknown)} is no topic or question "
                          f"installed here (topics: {', '.join(names) or 'none'}); grading it "
                          "needs them installed")


@roster_app.command("import")
@report_errors
def roster_import_command(
    file: Annotated[Path, typer.Argument(help="A Canvas gradebook export (as it comes) or a "
                                              "CSV with id,name,email,section.")],
    course: CourseOption = None,
) -> None:
    """Add or update the students of a roster file."""
    with _open(course) as opened:
        done = import_roster(opened, file)
        key = opened.meta("submissions_key") or "login"
        keyless = [] if key == "id" else [s for s in opened.students()
                                          if not s.withdrawn and not getattr(s, key)]
    for line in done.roster.skipped:
        typer.echo(f"skipped {line}")
    typer.echo(f"roster {file} ({done.roster.kind}): {len(done.roster.students)} students, "
               f"{len(done.added)} added, {len(done.updated)} updated")
    if done.not_listed:
        with _open(course) as opened:
            names = {s.id: s.name for s in opened.students()}
        print_warning(f"{len(done.not_listed)} student(s) of the course are not in {file} and "
                      "are kept: " + ", ".join(f"{names.get(sid, '?')} ({sid})"
                                              for sid in done.not_listed))
    if done.kept:
        shown = {"login": "login", "email": "email", "sis_user_id": "SIS user id"}
        print_warning(f"{file} leaves empty identifiers the course holds for "
                      f"{len(done.kept)} student(s); kept: "
                      + "; ".join(f"{sid} ({', '.join(shown[f] for f in fields)})"
                                  for sid, fields in done.kept[:5])
                      + ("; ..." if len(done.kept) > 5 else "")
                      + ": an import never blanks an identifier, which folders and the LMS "
                      "match students by")
    if done.still_withdrawn:
        print_warning(f"{len(done.still_withdrawn)} student(s) of {file} withdrew from the course "
                      "and stay withdrawn (in no export): "
                      + ", ".join(done.still_withdrawn[:5])
                      + (", ..." if len(done.still_withdrawn) > 5 else "")
                      + "; `dojo course roster withdraw ID --restore` enrols one again")
    if keyless:  # found out only at `match` or a grading otherwise
        print_warning(f"{len(keyless)} student(s) have no {key}, and this course matches "
                      f"submission folders by {key} (submissions_key): no folder will match "
                      f"them ({', '.join(f'{s.name} ({s.id})' for s in keyless[:5])}"
                      f"{', ...' if len(keyless) > 5 else ''}); add a {key} column to the "
                      "roster, or match by another key")


@roster_app.command("show")
@report_errors
def roster_show_command(course: CourseOption = None) -> None:
    """List the students, tab-separated under a header: id, name, login, email, SIS user id,
    section, and why they left where they did."""
    with _open(course) as opened:
        typer.echo("id\tname\tlogin\temail\tsis_user_id\tsection\twithdrawn")
        for s in opened.students():
            left = f"withdrawn: {s.withdrawn}" if s.withdrawn else ""
            typer.echo("\t".join((s.id, s.name, s.login, s.email, s.sis_user_id, s.section,
                                  left)).rstrip("\t"))


@roster_app.command("withdraw")
@report_errors
def roster_withdraw_command(
    student: StudentArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with them).")],
    restore: Annotated[bool, typer.Option(
        "--restore", help="Enrol a withdrawn student again.")] = False,
    course: CourseOption = None,
) -> None:
    """Mark a student who left the course: kept with their attempts and history, left out of
    the exports, the course view and the lists of those who submitted nothing."""
    with _open(course) as opened:
        s = withdraw(opened, student, reason, restore=restore)
        held = record_of(opened, s.id)
    typer.echo(f"{s.name} ({s.id}): " + (f"withdrawn ({s.withdrawn})" if s.withdrawn
                                         else "enrolled again"))
    if s.withdrawn and held["attempts"]:
        print_warning(f"{s.id} holds {held['attempts']} attempt(s), which no export counts now; "
                      "if the student stays under another id, undo this (`--restore`) and "
                      f"give them that id with their record: `dojo course roster change-id "
                      f"{s.id} NEW`")


@roster_app.command("change-id")
@report_errors
def roster_change_id_command(
    student: StudentArgument,
    new_id: Annotated[str, typer.Argument(help="Their new id (one no student has).")],
    course: CourseOption = None,
) -> None:
    """Give a student another id with everything recorded of them (attempts, extensions,
    overrides): before importing a roster whose ids are another source's."""
    with _open(course) as opened:
        before = opened.student(student)
        s, moved = change_id(opened, student, new_id)
    typer.echo(f"{s.name}: id {before.id} -> {s.id}, with {moved['attempts']} attempt(s), "
               f"{moved['extensions']} extension(s) and {moved['overrides']} override(s)")
    if before.source == "canvas":
        print_warning(f"{before.id} was Canvas's own id for {s.name}; {s.id} is not: the Canvas "
                      "export writes it as SIS User ID with Canvas's ID left empty (importing "
                      "Canvas's gradebook export again would need the old id back: change-id "
                      f"{s.id} {before.id})")


@app.command("match")
@report_errors
def match_command(
    submissions: Annotated[Path, typer.Argument(help="The folder of submission folders.")],
    course: CourseOption = None,
    key: Annotated[str | None, typer.Option(
        "--key", help="login | email | id (default: the course table's submissions_key).")]
        = None,
) -> None:
    """Which submission folder is whose: folders matching no one, students with none; exit
    2 where `grade --course` would refuse the matching (a folder matching two students)."""
    folders = sorted(p.name for p in submissions.iterdir()
                     if p.is_dir() and not p.name.startswith("."))
    with _open(course) as opened:
        found = match_folders(opened, folders, key)
    for name, s in found.matched.items():
        typer.echo(f"{name}\t{s.id}\t{s.name}")
    for name, hits in found.ambiguous.items():
        typer.echo(f"{name}\tmatches {len(hits)} students: "
                   + ", ".join(f"{s.name} ({s.id})" for s in hits))
    for line in found.report():
        print_warning(line)
    check_unambiguous(found)  # grade refuses the cohort for it: said the same way, exit 2


@app.command("record")
@report_errors
def record_command(
    result: Annotated[Path, typer.Argument(help="A JSON result (grade -f json).")],
    student: Annotated[str, typer.Option("--student", help="The student's id.")],
    assignment: Annotated[str, typer.Option("--assignment", help="The assignment's id.")],
    submitted_at: Annotated[str | None, typer.Option(
        "--submitted-at", help="When it was submitted (ISO 8601 with offset; default: the "
        "submission's files' modification time).")] = None,
    submission: Annotated[Path | None, typer.Option(
        "--submission", help="The submission's folder: its sources are kept.")] = None,
    course: CourseOption = None,
) -> None:
    """Record a grading's JSON result as a student's attempt."""
    graded = _result(result)
    if submission is not None:
        _require_graded_from(graded, submission)
    with _open(course) as opened:
        if submission is not None:
            _require_theirs(opened, submission, student)
        when, source = _submitted(opened, submitted_at, submission)
        attempt, new = record_attempt(opened, student, assignment, graded, submitted_at=when,
                                      submitted_from=source, folder=submission,
                                      folder_name=submission.name if submission else "")
    typer.echo(f"{'recorded' if new else 'already recorded:'} {attempt.student} "
               f"{attempt.assignment} attempt {attempt.number}: "
               f"{points_text(attempt.score)}/{points_text(attempt.max_score)}")
    if submission is None and new:  # nothing to check whose work it was, nothing to regrade
        print_warning(f"recorded without --submission: the result file alone, so no source "
                      f"is kept (`dojo course regrade` cannot grade it again) and nothing "
                      f"checked that the work graded is {attempt.student}'s; give --submission "
                      "FOLDER to keep the sources and check the folder")


def _result(path: Path) -> GradingResult:
    """A grading's JSON result, or a :class:`CourseError` saying what the file is not."""
    try:
        return GradingResult.load(path)
    except OSError as exc:
        raise CourseError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CourseError(f"{path} is not a grading's JSON result ({type(exc).__name__}: "
                          f"{exc}): record the file `grade -f json -o FILE` writes") from exc


def _require_theirs(course: Course, folder: Path, student: str) -> None:
    """A submission folder named as another student of the roster (by the course's
    ``submissions_key``) is not ``student``'s: a trial recorded alice's folder and result as
    carol's."""
    owner = match_folders(course, [folder.absolute().name]).matched.get(folder.absolute().name)
    sid = course.student(student).id
    if owner is not None and owner.id != sid:
        raise CourseError(f"{folder} is named as {owner.name} ({owner.id})'s submission "
                          f"(by {course.submissions_key}), not {sid}'s: record it for them, or "
                          "give the folder of the student named")


def _require_graded_from(result: GradingResult, folder: Path) -> None:
    """The result was graded from the files ``folder`` holds (its content hash), so that the
    sources the record keeps are the graded ones. A folder graded as its notebook is hashed
    as the package rebuilt from it: not compared."""
    if not result.submission_sha256 or not folder.is_dir() or (
            any(folder.glob("*.ipynb")) and not any(folder.rglob("*.py"))):
        return
    topics = [e.name for e in result.exercises]
    try:
        found = graded_content_sha256(folder, topics)
    except (SubmissionError, OSError) as exc:
        raise CourseError(f"cannot read the submission {folder}: {exc}") from exc
    if found != result.submission_sha256:
        raise CourseError(
            f"{folder} holds other files than the result was graded from (sha256 "
            f"{found[:12]}, the result's {result.submission_sha256[:12]}): record the result "
            f"of grading this folder (grade -s {folder} -f json -o FILE), or name the folder "
            "that was graded")


def _submitted(course: Course, given: str | None, folder: Path | None
               ) -> tuple[datetime, str]:
    if given is not None:
        return aware(given, course.meta("timezone") or "", "--submitted-at"), "given"
    if folder is None:
        raise CourseError("when was it submitted? give --submitted-at TIME, or --submission "
                          "DIR to take its files' modification time")
    print_warning(f"submitted-at of {folder.name} taken from its files' modification time "
                  "(give --submitted-at, or a manifest with --submissions, to be exact)")
    return modified_at(folder), "mtime"


@app.command("history")
@report_errors
def history_command(
    student: StudentArgument,
    course: CourseOption = None,
) -> None:
    """A student's attempts, standings, late days and overrides."""
    with _open(course) as opened:
        s = opened.student(student)
        book = gradebook(opened)
        tries = attempts(opened, student=s.id)
        removed = [o for o in overrides(opened, s.id) if not o.in_force]
        zone = opened.meta("timezone") or ""
    typer.echo(f"{s.name} ({s.id}{', ' + s.login if s.login else ''}"
               f"{', ' + s.section if s.section else ''})")
    if s.withdrawn:  # (a TA's trial: only `roster show` said so)
        typer.echo(f"withdrawn ({s.withdrawn}): left out of the exports; `dojo course roster "
                   f"withdraw {s.id} --restore --reason TEXT` enrols them again")
    for a in book.assignments:
        st = book.standing(s.id, a.id)
        shown = standing_points(st.status, st.score)
        mark = " (overridden)" if st.overridden else ""
        status = "open (not due yet)" if st.status == "open" else st.status
        typer.echo(f"{a.id} {a.title}: {shown}/{points_text(a.points)} {status}{mark}")
        for t in [t for t in tries if t.assignment == a.id]:
            counted = " <- counts" if st.attempt is not None and st.attempt.id == t.id else ""
            counted += f" (void: {t.voided})" if t.voided else ""
            typer.echo(f"  attempt {t.number}: submitted {local_time(t.submitted_at, zone)} "
                       f"({t.submitted_from}), graded {local_time(t.graded_at, zone)}, "
                       f"{points_text(t.score)}/{points_text(t.max_score)}, "
                       f"sha256 {_short_hash(t.content_sha256)}{counted}")
        for note in st.notes:
            typer.echo(f"  - {note}")
        for o in (o for o in removed if o.assignment == a.id):
            typer.echo(f"  - override removed: {o.question or 'the whole assignment'} "
                       f"{o.describe()} (by {o.created_by}: {o.reason}); removed by "
                       f"{o.removed_by} {local_time(o.removed_at, zone)} ({o.removed_reason})")
    ledger = book.ledgers[s.id]
    typer.echo(f"late days: {ledger.bank - ledger.left} used of {ledger.bank}, "
               f"{ledger.left} left")


def _short_hash(content: str) -> str:
    """A content hash's first 12 digits, after its prefix where it has one (a Gradescope
    run's ``gradescope:<hash>`` showed as ``gradescope:b``)."""
    prefix, sep, digits = content.rpartition(":")
    return f"{prefix}{sep}{digits[:12]}"


@app.command("ledger")
@report_errors
def ledger_command(course: CourseOption = None) -> None:
    """Every student's late days used per assignment and left."""
    with _open(course) as opened:
        book = gradebook(opened)
    ids = [a.id for a in book.assignments]
    typer.echo("\t".join(["student", "name", *ids, "used", "left"]))
    for s in book.students:
        ledger = book.ledgers[s.id]
        typer.echo("\t".join([s.id, s.name, *(str(ledger.used.get(a, 0)) for a in ids),
                              str(ledger.bank - ledger.left), str(ledger.left)]))


@app.command("extend")
@report_errors
def extend_command(
    student: Annotated[str | None, typer.Argument(help="The student's id.")] = None,
    assignment: Annotated[str | None, typer.Argument(help="The assignment's id.")] = None,
    due: Annotated[str | None, typer.Option(
        "--due", help="The new due date (ISO 8601 with offset).")] = None,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="A CSV of extensions: student,assignment,due,reason.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who granted it (default: you).")]
        = None,
    course: CourseOption = None,
) -> None:
    """Give a student their own due date for an assignment (or import a CSV of them)."""
    with _open(course) as opened:
        before = gradebook(opened)
        if file is not None:
            if student or assignment or due or reason:
                raise CourseError("--file imports every extension it lists; leave out STUDENT, "
                                  "ASSIGNMENT, --due and --reason")
            made = import_extensions(opened, file)
        else:
            if not (student and assignment and due and reason):
                raise CourseError("give STUDENT ASSIGNMENT --due TIME --reason TEXT (or --file "
                                  "CSV)")
            when = aware(due, opened.meta("timezone") or "", "--due")
            made = [add_extension(opened, student, assignment, when, reason, by)]
        zone = opened.meta("timezone") or ""
        lowered_by = _lowered_standings(before, gradebook(opened), {e.student for e in made})
    for e in made:
        typer.echo(f"extension: {e.student} {e.assignment} due {local_time(e.due, zone)} "
                   f"({e.reason})")
    for line in lowered_by:
        print_warning(line)


def _lowered_standings(before: Gradebook, after: Gradebook, students: set[str]) -> list[str]:
    """What an extension lowered (an instructor's trial: under last-before-deadline a later,
    worse attempt became on time and counted, 15 points to 0, and nothing was said): each
    standing of ``students`` whose points fell, with the attempt that counts now."""
    said = []
    for sid in sorted(students):
        for a in after.assignments:
            old, new = before.standing(sid, a.id), after.standing(sid, a.id)
            if new.score < old.score - 1e-9:
                counts = (f"attempt {new.attempt.number} counts now"
                          if new.attempt is not None else "no attempt counts now")
                said.append(f"{sid} {a.id}: the extension lowers their points from "
                            f"{points_text(old.score)} to {points_text(new.score)} ({counts}, "
                            f"by its rule {a.counts}); `dojo course extend` again with "
                            "another date, or an override, if that is not what you meant")
    return said


@app.command("override")
@report_errors
def override_command(
    student: Annotated[str | None, typer.Argument(
        help="The student (id, login or email).")] = None,
    assignment: Annotated[str | None, typer.Argument(help="The assignment's id.")] = None,
    question: Annotated[str | None, typer.Argument(
        help="A question (topic.question); none: the whole assignment.")] = None,
    points: Annotated[float | None, typer.Option("--points", help=(
        "The points it gets: for a question, the grader's points of that question (as "
        "`grade` shows them: 2 of 4), which the assignment scales to its own; for a whole "
        "assignment, the assignment's points (as the course table gives them)."))]
        = None,
    excuse: Annotated[bool, typer.Option("--excuse", help="Excuse the assignment (EX).")]
        = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (shown in exports).")]
        = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="A CSV of overrides: student,assignment,question,points,reason.")]
        = None,
    by: Annotated[str | None, typer.Option("--by", help="Who decided (default: you).")]
        = None,
    remove: Annotated[bool, typer.Option(
        "--remove", help="Take back the override in force on STUDENT ASSIGNMENT [QUESTION] "
        "(kept and shown, no longer applied; an earlier one in force applies again).")]
        = False,
    course: CourseOption = None,
) -> None:
    """Override a student's points on a question or an assignment, with the reason."""
    if remove:
        _remove_override(student, assignment, question, points, excuse, reason, file, by,
                         course)
        return
    with _open(course) as opened:
        if file is not None:
            if student or assignment or points is not None or excuse or reason:
                raise CourseError("--file imports every override it lists; leave out the "
                                  "other arguments but --by")
            made = import_overrides(opened, file, by)
        else:
            if not (student and assignment):
                raise CourseError("give STUDENT ASSIGNMENT [QUESTION] --points P --reason TEXT "
                                  "(or --file CSV)")
            if excuse == (points is not None):
                raise CourseError("give --points P or --excuse (one of them)")
            made = [add_override(opened, student, assignment, question, points=points,
                                 excused=excuse, reason=reason or "", by=by)]
        lowers = {o.id: lowered(opened, o) for o in made}
        left = {o.student: opened.student(o.student).withdrawn for o in made}
    for sid, why in left.items():
        if why:  # recorded all the same: they may be enrolled again (a TA's trial: silent)
            print_warning(f"{sid} withdrew ({why}): the override is recorded, and counts in no "
                          "export while they are withdrawn")
    for o in made:
        if lowers[o.id]:
            print_warning(f"{o.student} {o.assignment} {o.question}: the override applies to "
                          f"every attempt, and lowers {', '.join(lowers[o.id])} to "
                          f"{points_text(o.points)}; a later attempt that did better is "
                          "capped too")
        what = "excused" if o.excused else f"{points_text(o.points)} points"
        typer.echo(f"override: {o.student} {o.assignment}{' ' + o.question if o.question else ''}"
                   f" {what} by {o.created_by} ({o.reason})")


def _remove_override(student: str | None, assignment: str | None, question: str | None,
                     points: float | None, excuse: bool, reason: str | None,
                     file: Path | None, by: str | None, course: Path | None) -> None:
    """``dojo course override STUDENT ASSIGNMENT [QUESTION] --remove --reason TEXT``."""
    if points is not None or excuse or file is not None:
        raise CourseError("--remove takes back the override in force: leave out --points, "
                          "--excuse and --file")
    if not (student and assignment and reason):
        raise CourseError("give STUDENT ASSIGNMENT [QUESTION] --remove --reason TEXT")
    with _open(course) as opened:
        gone, now = remove_override(opened, student, assignment, question, reason=reason,
                                    by=by)
    what = f"{gone.student} {gone.assignment}{' ' + gone.question if gone.question else ''}"
    typer.echo(f"override removed: {what} {gone.describe()} (by {gone.created_by}: "
               f"{gone.reason}); removed by {gone.removed_by} ({gone.removed_reason})")
    typer.echo(f"now: the earlier override applies, {now.describe()} (by {now.created_by}: "
               f"{now.reason})" if now is not None else "now: no override applies; the "
               "attempts' own points, with the late policy, stand")


@app.command("void")
@report_errors
def void_command(
    student: StudentArgument,
    assignment: Annotated[str, typer.Argument(help="The assignment's id.")],
    attempt: Annotated[int, typer.Argument(help="The attempt's number (`dojo course history` "
                                                "lists them).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with it, shown).")],
    restore: Annotated[bool, typer.Option(
        "--restore", help="Count a voided attempt again (the void stays on record).")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who decided (default: you).")]
        = None,
    course: CourseOption = None,
) -> None:
    """Void an attempt recorded by mistake (kept and shown, never counted), or restore one."""
    with _open(course) as opened:
        done = void_attempt(opened, student, assignment, attempt, reason=reason, by=who(by),
                            restore=restore)
        zone = opened.meta("timezone") or ""
    state = f"void ({done.voided})" if done.voided else "counted again"
    typer.echo(f"attempt {done.number} of {done.student} at {done.assignment}, submitted "
               f"{local_time(done.submitted_at, zone)}: {state}")


@app.command("export")
@report_errors
def export_command(
    fmt: Annotated[str, typer.Option("--format", "-f", help=" | ".join(FORMATS))],
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    missing: Annotated[str, typer.Option(
        "--missing", help="A missing assignment's cell: zero | blank (left as it is).")]
        = "zero",
    moodle_id: Annotated[str, typer.Option(
        "--moodle-id", help=f"Moodle's user identifier column: {' | '.join(MOODLE_IDS)}.")]
        = "email",
    course: CourseOption = None,
) -> None:
    """Write the gradebook for Canvas, Moodle or a spreadsheet, and its adjustments file."""
    if missing not in MISSING:
        raise CourseError(f"--missing {missing!r}: use one of {', '.join(MISSING)}")
    with _open(course) as opened:
        done = export(opened, fmt, output, missing=missing, moodle_id=moodle_id)
    for line in done.warnings:
        print_warning(line)
    typer.echo(f"wrote   {done.path} ({fmt}, {done.students} students)")
    typer.echo(f"wrote   {done.adjustments} (each student's adjustments)")


add_review_commands(app)  # regrade, import-gradescope (review_commands.py)


def add_course_commands(cli: typer.Typer) -> None:
    """Attach ``dojo course`` to the ``dojo`` app."""
    cli.add_typer(app, name="course")
