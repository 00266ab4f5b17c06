"""The course table: the instructor's declaration of a course's assignments and policies.

Read from ``[tool.nlpdojo.course]`` in the instructor's ``pyproject.toml`` or from the top level
of a ``course.toml`` (the same keys), by ``dojo course init`` and never from a student's tree
(docs/course.md, "The course table")::

    name = "CS224n, winter 2027"
    timezone = "America/Los_Angeles"   # for due dates written without an offset
    submissions_key = "login"          # submission folders are named by: login | email | id
    counts = "last-before-deadline"    # default for assignments: | best | last

    [late]
    bank_days = 5                      # late days in total
    max_per_assignment = 2             # of which at most this many on one assignment
    grace_minutes = 15                 # lateness forgiven (then counted from the due date)
    past_bank = "percent"              # or "zero"
    percent_per_day = 10               # off the score per late day the bank does not cover

    [[assignments]]
    id = "a1"
    title = "Attention"
    topics = ["attention"]             # or questions = ["topic.question", ...]
    points = 20
    due = 2027-01-20T23:59:00-08:00    # a TOML offset date-time, or a string with an offset
    lms_id = "48211"                   # Canvas's assignment id, where known

A due date without a time zone is refused unless ``timezone`` names one (an IANA zone, read
with :mod:`zoneinfo`, so daylight saving time is right). Unknown keys are refused: a typo in a
policy must not silently grade a course on defaults.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nlpdojo.errors import NlpdojoError

COUNTS = ("last-before-deadline", "best", "last")
KEYS = ("login", "email", "id")
PAST_BANK = ("zero", "percent")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CourseError(NlpdojoError):
    """The course record or its inputs are not usable as they are; the message says why and
    what to do."""


@dataclass(frozen=True)
class LatePolicy:
    """The late-day bank and what happens past it (:mod:`.policy` applies it)."""

    bank_days: int = 0
    #: at most this many of the bank's days on one assignment (None: the bank's)
    max_per_assignment: int | None = None
    grace_minutes: int = 0
    past_bank: str = "zero"
    percent_per_day: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AssignmentSpec:
    """One assignment as the course table declares it."""

    id: str
    title: str
    targets: tuple[str, ...]
    points: float
    due: datetime  # aware
    timezone: str
    counts: str
    lms_id: str = ""


@dataclass(frozen=True)
class CourseConfig:
    """A whole course table."""

    name: str
    assignments: tuple[AssignmentSpec, ...]
    late: LatePolicy = field(default_factory=LatePolicy)
    submissions_key: str = "login"
    timezone: str = ""


def load_course_table(path: Path) -> CourseConfig:
    """The course table in ``path``: a ``pyproject.toml`` (its ``[tool.nlpdojo.course]``) or
    a ``course.toml``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"no course table at {path}: write a course.toml (docs/course.md, "
                          "'The course table') or pass --table FILE") from None
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"{path} is not valid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("nlpdojo", {}).get("course")
        if not isinstance(data, dict):
            raise CourseError(f"{path} has no [tool.nlpdojo.course] table: add one "
                              "(docs/course.md, 'The course table') or pass a course.toml")
    return parse_course_table(data, str(path))


def parse_course_table(data: dict[str, Any], where: str = "the course table") -> CourseConfig:
    """A :class:`CourseConfig` from the table's parsed TOML; every problem a CourseError."""
    _known(data, {"name", "timezone", "submissions_key", "counts", "late", "assignments"}, where)
    zone = str(data.get("timezone", ""))
    if zone:
        _zone(zone, where)
    key = data.get("submissions_key", "login")
    if key not in KEYS:
        raise CourseError(f"{where}: submissions_key = {key!r}; use one of {', '.join(KEYS)} "
                          "(what the submission folders are named by)")
    counts = data.get("counts", "last-before-deadline")
    _check_counts(counts, where)
    late = _late(data.get("late", {}), f"{where}, [late]")
    rows = data.get("assignments")
    if not isinstance(rows, list) or not rows:
        raise CourseError(f"{where} declares no assignment: add [[assignments]] tables with "
                          "id, title, topics or questions, points and due")
    assignments = [_assignment(row, n, zone, counts, where) for n, row in enumerate(rows, 1)]
    seen: set[str] = set()
    titles: dict[str, str] = {}
    for a in assignments:
        if a.id in seen:
            raise CourseError(f"{where}: two assignments have the id {a.id!r}; ids are unique")
        seen.add(a.id)
        other = titles.setdefault(a.title.casefold(), a.id)
        if other != a.id:
            raise CourseError(f"{where}: assignments {other} and {a.id} are both titled "
                              f"{a.title!r}: a gradebook (Canvas's, Moodle's) matches a column "
                              "by its title, so give each a title of its own")
    return CourseConfig(name=str(data.get("name", "")), assignments=tuple(assignments),
                        late=late, submissions_key=key, timezone=zone)


def aware(value: Any, zone: str, what: str) -> datetime:
    """``value`` (a TOML date-time or ISO 8601 text) as an aware datetime: its own offset, else
    ``zone``'s; refused without either."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise CourseError(f"{what}: {text!r} is not a date and time; write it as ISO 8601 "
                              "with its offset, e.g. 2027-01-20T23:59:00-08:00") from None
        if "T" not in text.upper() and " " not in text:  # a date alone: its midnight, read
            # as "that day" by whoever wrote it: due a day early (a TA's "extend to the 23rd")
            raise CourseError(f"{what}: {text} is a date without a time, which would mean its "
                              f"first minute (00:00); write the time, e.g. {text}T23:59:00")
    elif isinstance(value, date) and not isinstance(value, datetime):
        raise CourseError(f"{what}: {value.isoformat()} is a date without a time; write the "
                          f"time and offset, e.g. {value.isoformat()}T23:59:00-08:00")
    if not isinstance(value, datetime):
        raise CourseError(f"{what}: {value!r} is not a date and time")
    if value.tzinfo is None or value.utcoffset() is None:
        if not zone:
            raise CourseError(
                f"{what}: {value.isoformat()} has no time zone, so it is ambiguous by up to a "
                f"day; write its offset ({value.isoformat()}-08:00, Z for UTC) or name the "
                "course's zone: timezone = \"America/Los_Angeles\" in the course table")
        naive = value
        value = value.replace(tzinfo=_zone(zone, what))
        _on_the_clock(naive, value, zone, what)
    return value


def _on_the_clock(naive: datetime, value: datetime, zone: str, what: str) -> None:
    """Refuse a time without an offset that ``zone``'s clock shows twice (the hour repeated
    when daylight saving time ends) or never (the hour skipped when it starts): it was taken as
    the first of the two, or moved an hour, without a word."""
    first, second = value.replace(fold=0), value.replace(fold=1)
    if first.utcoffset() == second.utcoffset():
        return
    back = value.astimezone(UTC).astimezone(value.tzinfo).replace(tzinfo=None)
    if back != naive:  # a time the clock skips
        raise CourseError(f"{what}: {naive.isoformat()} does not exist on {zone}'s clock (it "
                          "skips that hour when daylight saving time starts); write the time "
                          "meant with its offset")
    raise CourseError(f"{what}: {naive.isoformat()} happens twice on {zone}'s clock (the hour "
                      "repeats when daylight saving time ends); write which with its offset: "
                      f"{first.isoformat()} or {second.isoformat()}")


def _assignment(row: Any, n: int, zone: str, counts: str, where: str) -> AssignmentSpec:
    here = f"{where}, assignment {n}"
    if not isinstance(row, dict):
        raise CourseError(f"{here} is not a table")
    _known(row, {"id", "title", "topics", "questions", "points", "due", "counts", "lms_id",
                 "timezone"}, here)
    aid = row.get("id")
    if not isinstance(aid, str) or not _ID.match(aid):
        raise CourseError(f"{here}: id {aid!r} must be a short name of letters, digits, '_', "
                          "'.' or '-' (e.g. a1)")
    here = f"{where}, assignment {aid}"
    if ("topics" in row) == ("questions" in row):
        raise CourseError(f"{here}: give topics = [...] or questions = [...] (one of them)")
    targets = row.get("topics", row.get("questions"))
    if (not isinstance(targets, list) or not targets
            or not all(isinstance(t, str) and t for t in targets)):
        raise CourseError(f"{here}: topics/questions must be a non-empty list of names")
    points = row.get("points")
    if (isinstance(points, bool) or not isinstance(points, int | float)
            or not math.isfinite(points) or points <= 0):
        raise CourseError(f"{here}: points = {points!r}; give the assignment's points, a "
                          "positive number (the grader's score is scaled to them)")
    own_zone = str(row.get("timezone", zone))
    if "due" not in row:  # on the course's clock where it has one (no offset to get wrong)
        example = ('"2027-01-20T23:59:00" (on ' + own_zone + "'s clock)" if own_zone
                   else "2027-01-20T23:59:00-08:00")
        raise CourseError(f"{here} has no due date: add due = {example}")
    due = aware(row["due"], own_zone, f"{here}, due")
    count = row.get("counts", counts)
    _check_counts(count, here)
    lms_id = str(row.get("lms_id", "")).strip()
    if lms_id and not lms_id.isdigit():
        raise CourseError(f"{here}: lms_id = {lms_id!r}: Canvas's assignment id is a number "
                          "(the one in the assignment's address, /assignments/48211); with "
                          "another the import makes a new assignment")
    title = str(row.get("title", aid))
    if not lms_id and re.search(r"\(\s*\d+\s*\)\s*$", title):
        raise CourseError(f"{here}: title {title!r} ends in a number in parentheses, which "
                          "Canvas's import reads as an assignment id: give its lms_id, or a "
                          "title that does not end so")
    shown_zone = own_zone or (due.tzname() or str(due.utcoffset()))
    return AssignmentSpec(id=aid, title=title, targets=tuple(targets),
                          points=float(points), due=due, timezone=shown_zone, counts=count,
                          lms_id=lms_id)


def _late(data: Any, where: str) -> LatePolicy:
    if not isinstance(data, dict):
        raise CourseError(f"{where} is not a table")
    _known(data, {"bank_days", "max_per_assignment", "grace_minutes", "past_bank",
                  "percent_per_day"}, where)

    def whole(name: str, default: int | None) -> int | None:
        value = data.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CourseError(f"{where}: {name} = {value!r}; give a whole number >= 0")
        return value

    past = data.get("past_bank", "zero")
    if past not in PAST_BANK:
        raise CourseError(f"{where}: past_bank = {past!r}; use one of {', '.join(PAST_BANK)}")
    percent = data.get("percent_per_day", 0)
    if (isinstance(percent, bool) or not isinstance(percent, int | float)
            or not 0 <= percent <= 100):
        raise CourseError(f"{where}: percent_per_day = {percent!r}; give a number from 0 to 100")
    if past == "percent" and "percent_per_day" not in data:
        raise CourseError(f"{where}: past_bank = \"percent\" needs percent_per_day")
    return LatePolicy(bank_days=whole("bank_days", 0) or 0,
                      max_per_assignment=whole("max_per_assignment", None),
                      grace_minutes=whole("grace_minutes", 0) or 0, past_bank=past,
                      percent_per_day=float(percent))


def _check_counts(value: Any, where: str) -> None:
    if value not in COUNTS:
        raise CourseError(f"{where}: counts = {value!r}; which attempt counts is one of "
                          f"{', '.join(COUNTS)}")


def local_time(when: datetime, zone: str) -> str:
    """``when`` as the course's clock reads it (its ``timezone``; as stored where it names
    none): what a TA compares with the due date they meant, not UTC's."""
    try:
        return (when.astimezone(ZoneInfo(zone)) if zone else when).isoformat()
    except (ZoneInfoNotFoundError, ValueError):
        return when.isoformat()


def _zone(name: str, where: str) -> ZoneInfo:
    if "/" not in name and name.upper() not in ("UTC", "GMT"):
        # "EST", "CET": legal keys, but fixed offsets or a region's old rules: a July due
        # date in "EST" is an hour off New York's
        raise CourseError(f"{where}: timezone {name!r} is an abbreviation, not a place: name "
                          "the place's zone as 'Area/City' (America/New_York, Europe/Paris; "
                          "UTC), whose daylight saving time is then right")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"{where}: timezone {name!r} is not a time zone; name one as "
                          "'Area/City' (America/Los_Angeles, Europe/Paris, UTC)") from None


def _known(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CourseError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(unknown)} (known: {', '.join(sorted(allowed))})")


def points_text(value: float | None) -> str:
    """A number as people read it: up to 2 decimals, no trailing zeros."""
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
