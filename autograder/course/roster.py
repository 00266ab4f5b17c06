"""The roster: who is in the course, read from the instructor's Canvas gradebook export as it
comes, or from a plain CSV; and which submission folder is whose.

A Canvas gradebook export (Grades > Export) starts ``Student, ID, SIS User ID, SIS Login ID,
Section`` (then perhaps ``Integration ID``, ``Root Account``, then the assignments); its
``Points Possible`` row and Canvas's test student are skipped. A plain roster has the header
``id,name,email,section`` (``login`` may be added; ``email`` and ``section`` may be left
out). Either may start with a byte-order mark and use commas or semicolons. Wrong columns,
an empty or duplicate id are refused with the line. Importing again adds and updates
students by id; a student no longer listed is kept (their attempts with them). A file that
would add, under a new id, a student the course has (the same login, email or SIS user id as an
enrolled student's) is refused: students are matched by id, and it would add them twice.

Submission folders are matched to students by the course's declared key
(:func:`match_folders`): ``id`` (the folder is the student's id), ``login`` or ``email``
(case-insensitive; with ``email``, a folder without ``@`` matches the address's local part).
A folder that matches two students is refused; the report names folders matching no one and
students with no folder (missing: they still appear in every export).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from pathlib import Path

from nlpdojo_autograder.course.config import KEYS, CourseError
from nlpdojo_autograder.course.policy import gradebook
from nlpdojo_autograder.course.schema import utc_now
from nlpdojo_autograder.course.store import Course, Student

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
PLAIN_COLUMNS = ("id", "name", "email", "section")
#: the names Canvas gives its test student in a gradebook export
CANVAS_TEST_STUDENTS = ("Student, Test", "Test Student")


@dataclass(frozen=True)
class Roster:
    """A roster file as read: its kind (``canvas`` or ``csv``), its students in order, and
    the lines it skipped (the ``Points Possible`` row, the test student)."""

    kind: str
    students: tuple[Student, ...]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class RosterImport:
    """What an import changed."""

    roster: Roster
    added: tuple[str, ...]
    updated: tuple[str, ...]
    not_listed: tuple[str, ...]  # students of the course the file no longer lists (kept)
    #: students the file lists who withdrew: they stay withdrawn (an import enrols no one
    #: again: the LMS's roster lags a drop by days)
    still_withdrawn: tuple[str, ...] = ()
    #: ``(student id, fields)``: identifiers the file left empty for a known student, kept
    #: (:func:`_merged`)
    kept: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass
class FolderMatch:
    """Submission folders matched to students (:func:`match_folders`)."""

    key: str
    matched: dict[str, Student] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[Student]] = field(default_factory=dict)
    missing: list[Student] = field(default_factory=list)

    def report(self, course: Course | None = None, assignment: str | None = None) -> list[str]:
        """One line each: folders matching no one, students with no folder (with ``course``
        and ``assignment``, what each such student's standing there is:
        :func:`without_work`)."""
        lines = []
        if self.unmatched:
            lines.append(f"{len(self.unmatched)} folder(s) match no student by {self.key} "
                         f"(graded, not recorded): {', '.join(self.unmatched)}")
        left = {name: s for name, s in self.matched.items() if s.withdrawn}
        if left:  # recorded, kept with them, in no export: said, not silent
            lines.append(f"{len(left)} folder(s) match a student who withdrew (recorded with "
                         "them, in no export; `dojo course roster withdraw ID --restore` "
                         "enrols one again): " + ", ".join(
                             f"{name}: {s.name} ({s.id}, {s.withdrawn})"
                             for name, s in left.items()))
        if self.missing:
            lines.append(without_work(self.missing, course, assignment, "folder here"))
        return lines


def without_work(students: list[Student], course: Course | None, assignment: str | None,
                 what: str) -> str:
    """The line for ``students``, who have no ``what`` (a folder in this cohort, a run in this
    export): on ``assignment`` of ``course``, which of them are missing it (past its due date,
    no attempt), and how many have an attempt recorded before, are excused or are not due yet.
    Every one was called missing: an excused student, one graded in an earlier batch, and a
    whole class months before the due date."""
    names = ", ".join(f"{s.name} ({s.id})" for s in students)
    if course is None or assignment is None:
        return f"{len(students)} student(s) have no {what}: {names}"
    book = gradebook(course)
    kinds: dict[str, list[Student]] = {}
    for s in students:
        st = book.standing(s.id, assignment)
        kind = ("attempt" if st.attempt is not None else
                st.status if st.status in ("excused", "open") else "missing")
        kinds.setdefault(kind, []).append(s)
    parts = []
    if kinds.get("missing"):
        parts.append(f"{len(kinds['missing'])} missing {assignment} (no attempt, past the due "
                     "date): " + ", ".join(f"{s.name} ({s.id})" for s in kinds["missing"]))
    for kind, said in (("attempt", "with an attempt recorded before (kept)"),
                       ("open", "not due yet"), ("excused", "excused")):
        if kinds.get(kind):
            parts.append(f"{len(kinds[kind])} {said}")
    return f"{len(students)} student(s) have no {what}: " + "; ".join(parts)


def read_roster(path: Path) -> Roster:
    """A Canvas gradebook export or a plain roster CSV; every problem a CourseError naming
    the file, the line and what to do."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CourseError(f"roster {path} does not exist") from None
    except UnicodeDecodeError:
        raise CourseError(f"roster {path} is not UTF-8 text: export it again as CSV "
                          "(UTF-8)") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CourseError(f"roster {path} is empty: give Canvas's gradebook export (Grades > "
                          f"Export), or a CSV with the header {','.join(PLAIN_COLUMNS)} and a "
                          "row per student")
    head = lines[0]
    delimiter = ";" if head.count(";") > head.count(",") else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = [cell.strip() for cell in rows[0]]
    if "Student" in header and "ID" in header:
        return _canvas(path, header, rows[1:])
    lowered = [h.lower() for h in header]
    if "id" in lowered and "name" in lowered:
        return _plain(path, lowered, rows[1:])
    raise CourseError(
        f"roster {path}: columns {', '.join(header)[:200]} are neither a Canvas gradebook "
        f"export ({', '.join(CANVAS_COLUMNS)}, ...) nor a plain roster "
        f"({','.join(PLAIN_COLUMNS)}); export the gradebook from Canvas (Grades > Export) or "
        "write that header")


def _canvas(path: Path, header: list[str], rows: list[list[str]]) -> Roster:
    at = {name: header.index(name) for name in CANVAS_COLUMNS if name in header}
    for needed in ("Section",):
        if needed not in at:
            raise CourseError(f"roster {path}: a Canvas gradebook export has the column "
                              f"{needed!r} (its columns: {', '.join(CANVAS_COLUMNS)}); export it "
                              "again from Canvas, or write a plain roster "
                              f"({','.join(PLAIN_COLUMNS)})")

    def cell(row: list[str], name: str) -> str:
        index = at.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    students, skipped, lines = [], [], []
    for line, row in enumerate(rows, 2):
        if not any(c.strip() for c in row):
            continue
        name = cell(row, "Student")
        if name == "Points Possible" or (row[0].strip() == "Points Possible"
                                         and not cell(row, "ID")):
            skipped.append(f"line {line}: the Points Possible row")
            continue
        if name in CANVAS_TEST_STUDENTS:
            skipped.append(f"line {line}: Canvas's test student")
            continue
        sid = cell(row, "ID")
        login = cell(row, "SIS Login ID")
        students.append(Student(
            id=sid, name=name, sortable_name=name, login=login,
            email=login if "@" in login else "", sis_user_id=cell(row, "SIS User ID"),
            section=cell(row, "Section"), position=len(students) + 1, source="canvas"))
        lines.append(line)
        _check_id(path, line, sid, name)
    _check_duplicates(path, students, lines)
    return Roster("canvas", tuple(students), tuple(skipped))


def _plain(path: Path, header: list[str], rows: list[list[str]]) -> Roster:
    known = {"id", "name", "email", "section", "login"}
    unknown = [h for h in header if h not in known]
    if unknown:
        raise CourseError(f"roster {path}: unknown column(s) {', '.join(unknown)}; a plain "
                          f"roster has {','.join(PLAIN_COLUMNS)} (and login)")
    at = {name: header.index(name) for name in header}
    students, lines = [], []
    for line, row in enumerate(rows, 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(header) and not any(cell.strip() for cell in row[len(header):]):
            row = row[:len(header)]  # empty cells a spreadsheet left at the end: nothing
        if len(row) != len(header):
            raise CourseError(f"roster {path}, line {line}: {len(row)} cells for "
                              f"{len(header)} columns ({','.join(header)}); a name with a comma "
                              "goes in double quotes")

        def cell(name: str, row: list[str] = row) -> str:
            return row[at[name]].strip() if name in at else ""

        _check_id(path, line, cell("id"), cell("name"))
        students.append(Student(id=cell("id"), name=cell("name"), sortable_name=cell("name"),
                                email=cell("email"), login=cell("login"),
                                section=cell("section"), position=len(students) + 1,
                                source="csv"))
        lines.append(line)
    _check_duplicates(path, students, lines)
    return Roster("csv", tuple(students))


def _check_id(path: Path, line: int, sid: str, name: str) -> None:
    if not sid:
        raise CourseError(f"roster {path}, line {line} ({name or 'no name'}): the student has "
                          "no id; every student needs one")


def _check_duplicates(path: Path, students: list[Student], lines: list[int]) -> None:
    """Refuse two students of one id, login or email (``lines``: each student's line)."""
    seen: dict[str, tuple[Student, int]] = {}
    for s, line in zip(students, lines, strict=True):
        if s.id in seen:
            first, first_line = seen[s.id]
            raise CourseError(f"roster {path}: two students have the id {s.id!r} "
                              f"({first.name}, line {first_line}, and {s.name}, line {line}); "
                              "ids are unique: fix the file (nothing was imported)")
        seen[s.id] = (s, line)
    for key in ("login", "email"):  # matched case-blind (Course.student, match_folders)
        known: dict[str, Student] = {}
        for s in students:
            value = getattr(s, key).lower()
            if value and value in known:
                first, second = getattr(known[value], key), getattr(s, key)
                same = (f"({first!r})" if first == second
                        else f"({first!r}, {second!r}) but for case")
                raise CourseError(f"roster {path}: {known[value].name} ({known[value].id}) and "
                                  f"{s.name} ({s.id}) have the same {key} {same}, and a "
                                  f"{key} names one student: fix the file (nothing was "
                                  "imported)")
            known[value] = s
    if not students:
        raise CourseError(f"roster {path} lists no student: export the gradebook from Canvas "
                          "again (Grades > Export), or write a row per student under the header")


def import_roster(course: Course, path: Path) -> RosterImport:
    """Read ``path`` (:func:`read_roster`) and add or update its students, in one
    transaction."""
    roster = read_roster(path)
    before = {s.id: s for s in course.students()}
    _refuse_second_identities(path, roster, before)
    added, updated = [], []
    # a student keeps their place; new ones follow the course's last, in the file's order (a
    # second file's places restarted at 1, interleaving a late enrolment with the first's)
    last = max((s.position for s in before.values()), default=0)
    kept = []
    with course.transaction() as conn:
        for s in roster.students:
            if s.id in before:
                s, fields = _merged(before[s.id], replace(s, position=before[s.id].position))
                kept += [(s.id, fields)] if fields else []
            else:
                last += 1
                s = replace(s, position=last)
            row = (s.id, s.name, s.sortable_name, s.email, s.login, s.sis_user_id, s.section,
                   s.position, s.source)
            conn.execute(
                "INSERT INTO students (id, name, sortable_name, email, login, sis_user_id, "
                "section, position, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO "
                "UPDATE SET name = excluded.name, sortable_name = excluded.sortable_name, "
                "email = excluded.email, login = excluded.login, sis_user_id = "
                "excluded.sis_user_id, section = excluded.section, position = "
                "excluded.position, source = excluded.source", row)
            old = before.get(s.id)
            if old is None:
                added.append(s.id)
            elif replace(old, position=s.position, withdrawn="") != s:  # (its place: no)
                updated.append(s.id)
    listed = {s.id for s in roster.students}
    return RosterImport(roster, tuple(added), tuple(updated),
                        tuple(sid for sid in before if sid not in listed),
                        tuple(s.id for s in roster.students
                              if s.id in before and before[s.id].withdrawn), tuple(kept))


#: the fields a student is matched and exported by, besides the id
IDENTIFIERS = ("login", "email", "sis_user_id")


def _merged(old: Student, new: Student) -> tuple[Student, tuple[str, ...]]:
    """``new``, a file's row for the known student ``old``, and the identifiers kept: one the
    row leaves empty (a file without that column: a plain roster has no SIS user id, and may
    have no login) keeps its stored value, and a student of a Canvas export stays one (the
    Canvas export writes their id as Canvas's ID). A plain roster imported after a Canvas
    export blanked each login and SIS user id: no folder matched, and the Canvas export wrote
    Canvas's ids as SIS user ids (an instructor's trial)."""
    kept = tuple(f for f in IDENTIFIERS if not getattr(new, f) and getattr(old, f))
    source = "canvas" if "canvas" in (old.source, new.source) else new.source
    return replace(new, source=source, **{f: getattr(old, f) for f in kept}), kept


def _refuse_second_identities(path: Path, roster: Roster, before: dict[str, Student]) -> None:
    """Refuse a file that would add, under a new id, a student the course already has: a new
    id whose login, email or SIS user id is an enrolled student's (or whose SIS user id is
    one's id, as a Canvas export's is where the first roster was a plain CSV of SIS ids).
    Ids are the key, so such a file made a second student beside the first, whose attempts
    stayed with the first, and an export held both (one with a 0). Withdrawn students are
    not compared (one who left and enrols again under another id is a new record); a
    student's id is changed with :func:`change_id`, which moves their record."""
    enrolled = [s for sid, s in before.items() if not s.withdrawn]
    clashes = []
    for new in roster.students:
        if new.id in before:
            continue  # the same student, updated
        for old in enrolled:
            same = [f"{key} {getattr(new, key)!r}" for key in ("login", "email")
                    if getattr(new, key) and getattr(new, key).lower()
                    == getattr(old, key).lower()]
            if new.sis_user_id and new.sis_user_id in (old.id, old.sis_user_id):
                same.append(f"SIS user id {new.sis_user_id!r}")
            elif old.sis_user_id and new.id == old.sis_user_id:
                same.append(f"SIS user id {old.sis_user_id!r} as id")
            if same:
                clashes.append(f"{new.name} ({new.id}) is {old.name} ({old.id}): "
                               f"{', '.join(same)}")
    if clashes:
        shown = "; ".join(clashes[:5]) + (f"; and {len(clashes) - 5} more" if len(clashes) > 5
                                          else "")
        raise CourseError(
            f"roster {path}: {len(clashes)} student(s) of the file are already in the course "
            f"under another id: {shown}. Students are matched by id, so importing would add "
            "each a second time (nothing was imported). Import the roster from the same "
            "source as before (the course's ids: `dojo course roster show`); to change a "
            "student's id, with their attempts, late days, extensions and overrides, first "
            "run `dojo course roster change-id OLD NEW`")


#: the tables whose rows name a student by id (what :func:`change_id` moves)
STUDENT_TABLES = ("attempts", "extensions", "overrides")


def change_id(course: Course, student: str, new_id: str) -> tuple[Student, dict[str, int]]:
    """Give ``student`` (an id, login or email) the id ``new_id``, with everything the record
    holds of them (:data:`STUDENT_TABLES`), in one transaction: how a student whose id changed
    (a roster from another source, a typo) keeps their record. A student of a Canvas export is
    one no longer: the new id is not Canvas's. Returns them as they are now and the rows moved
    per table."""
    s = course.student(student)
    new_id = new_id.strip()
    if not new_id:
        raise CourseError("give the new id")
    if any(ch in new_id for ch in "/\\") or not new_id.isprintable():
        raise CourseError(f"id {new_id!r}: an id holds no slash and no control character "
                          "(it names a submission folder where the course matches folders "
                          "by id)")
    if new_id == s.id:
        raise CourseError(f"{s.name}'s id is {s.id!r} already")
    if course.conn.execute("SELECT 1 FROM students WHERE id = ?", (new_id,)).fetchone():
        raise CourseError(f"the course has a student of id {new_id!r} already "
                          "(`dojo course roster show`): an id names one student")
    moved = {}
    with course.transaction() as conn:
        conn.execute("PRAGMA defer_foreign_keys = ON")  # checked at the commit, all moved
        # a Canvas export's id is Canvas's own user id, which the Canvas export writes as
        # ID: another id is not, and goes in SIS User ID (a university number written as ID
        # could post the grades to another Canvas user: a TA's trial)
        conn.execute("UPDATE students SET id = ?, source = ? WHERE id = ?",
                     (new_id, "csv" if s.source == "canvas" else s.source, s.id))
        for table in STUDENT_TABLES:
            moved[table] = conn.execute(f"UPDATE {table} SET student = ? WHERE student = ?",
                                        (new_id, s.id)).rowcount
    return course.student(new_id), moved


def record_of(course: Course, sid: str) -> dict[str, int]:
    """How many rows of each of :data:`STUDENT_TABLES` name the student ``sid``."""
    return {table: course.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE student = ?",
                                       (sid,)).fetchone()[0] for table in STUDENT_TABLES}


def withdraw(course: Course, student: str, reason: str, *, restore: bool = False) -> Student:
    """Mark ``student`` as having left the course, with ``reason`` and the date (or, with
    ``restore``, enrolled again); returns them as they are now."""
    s = course.student(student)
    if not reason.strip():
        raise CourseError("give the --reason: a withdrawal is kept with why")
    if restore == (not s.withdrawn):
        raise CourseError(f"{s.name} ({s.id}) is {'enrolled' if restore else 'withdrawn'} "
                          f"already{'' if restore else f' ({s.withdrawn})'}")
    with course.transaction() as conn:
        conn.execute("UPDATE students SET withdrawn = ? WHERE id = ?",
                     ("" if restore else f"{reason.strip()}, {utc_now()[:10]}", s.id))
    return course.student(s.id)


def match_folders(course: Course, folders: list[str], key: str | None = None) -> FolderMatch:
    """Which student each submission folder name is, by ``key`` (default: the course's)."""
    key = key or course.submissions_key
    if key not in KEYS:
        raise CourseError(f"submissions are matched by one of {', '.join(KEYS)}, not {key!r}")
    students = course.students()
    if not students:
        raise CourseError(f"course {course.path} has no roster yet: import one with "
                          "`dojo course roster import FILE`")
    found = FolderMatch(key)
    for name in folders:
        hits = [s for s in students if _matches(name, s, key)]
        enrolled = [s for s in hits if not s.withdrawn]
        if len(hits) > 1 and len(enrolled) == 1:  # re-enrolled under a new id, same login:
            hits = enrolled  # the one who is in the course now
        if len(hits) == 1:
            found.matched[name] = hits[0]
        elif hits:
            found.ambiguous[name] = hits
        else:
            found.unmatched.append(name)
    claimed: dict[str, list[str]] = {}
    for name, s in found.matched.items():
        claimed.setdefault(s.id, []).append(name)
    twice = {sid: names for sid, names in claimed.items() if len(names) > 1}
    if twice:
        listing = "; ".join(f"{sid}: {', '.join(n)}" for sid, n in twice.items())
        raise CourseError(f"several folders match one student by {key} ({listing}): keep one "
                          "folder per student (grade earlier attempts as their own cohort "
                          "with their own manifest)")
    taken = set(claimed)
    found.missing = [s for s in students if s.id not in taken and not s.withdrawn]
    return found


def check_unambiguous(match: FolderMatch) -> None:
    """Refuse folders that match two students (before any grading)."""
    if match.ambiguous:
        listing = "; ".join(f"{name}: {', '.join(f'{s.name} ({s.id})' for s in hits)}"
                            for name, hits in match.ambiguous.items())
        full = [name for name, hits in match.ambiguous.items()
                if all(name.lower() == str(getattr(s, match.key, "")).lower() for s in hits)]
        fix = (f"the roster holds students of one {match.key} ({', '.join(full)}): withdraw "
               "the one who is not in the course (`dojo course roster withdraw ID --reason "
               "...`)" if full else
               f"rename the folder to the student's full {match.key}, or match by another "
               "key (submissions_key in the course table)")
        raise CourseError(f"submission folder(s) match more than one student by "
                          f"{match.key} ({listing}): {fix}")


def _matches(folder: str, student: Student, key: str) -> bool:
    if key == "id":
        return folder == student.id
    value = student.login if key == "login" else student.email
    if not value:
        return False
    if folder.casefold() == value.casefold():
        return True
    return key == "email" and "@" not in folder and folder.casefold() == \
        value.split("@", 1)[0].casefold()
