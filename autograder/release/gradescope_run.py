"""What the Gradescope autograder's ``run_autograder`` runs: one graded run of a submission, with
the submission's metadata read (issue 63, item 4).

Gradescope writes ``/autograder/submission_metadata.json`` before each run
(https://gradescope-autograders.readthedocs.io/en/latest/submission_metadata/): ``created_at``
(the submission's time), ``assignment.due_date`` and ``late_due_date``, ``users[]`` and
``previous_submissions[]`` (each with ``submission_time``, ``score``, ``results``: that run's
``results.json``, and ``autograder_error``). From it, and from the policy the instructor chose
when the zip was made (``gradescope_policy.json`` in the zip, :class:`RunPolicy`):

- **Late days.** The time past the due date in days rounded up (none within the grace
  minutes), as the course record counts them: said
  first in the result's ``output`` and kept in ``extra_data["nlpdojo"]["late"]``. A late-day
  bank spans assignments, which one run cannot see: the course record applies it
  (``dojo course import-gradescope``, docs/course.md).
- **Graded runs per day** (optional). Runs are counted per calendar day in the policy's time
  zone, by submission time; a previous run counts unless Gradescope marked it
  ``autograder_error`` or its result says it did not count (a run past the limit, a run the
  autograder could not grade: ``extra_data["nlpdojo"]["counted"]`` false). Past the limit the
  run grades the public checks only (``grade --as-student`` on the questions without training:
  hidden and training checks are withheld), keeps the score of the last counted run (as
  Gradescope's documentation advises, so the active submission's score is not lowered by a
  feedback run) and says when the next graded run is available.

Where the metadata is missing (a local try of the zip) the run is graded in full, as before.
Nothing here reads the student's files: the submission is graded by ``grade`` in its sandbox.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

POLICY_NAME = "gradescope_policy.json"
METADATA_NAME = "submission_metadata.json"
#: where a test (or an instructor trying the zip) points the metadata elsewhere
METADATA_ENV = "NLPDOJO_SUBMISSION_METADATA"
KEY = "nlpdojo"


@dataclass(frozen=True)
class RunPolicy:
    """The instructor's choices, fixed when the zip is made (``dojo release --gradescope``)."""

    #: graded runs a student may make per day (None: no limit)
    runs_per_day: int | None = None
    #: the zone whose calendar days the limit counts, and in which times are shown
    timezone: str = "UTC"
    #: lateness forgiven before late days are counted
    grace_minutes: int = 0
    #: what a run past the limit grades: the targets' questions that train nothing
    public_targets: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"runs_per_day": self.runs_per_day, "timezone": self.timezone,
                "grace_minutes": self.grace_minutes,
                "public_targets": list(self.public_targets)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPolicy:
        return cls(runs_per_day=data.get("runs_per_day"),
                   timezone=str(data.get("timezone") or "UTC"),
                   grace_minutes=int(data.get("grace_minutes") or 0),
                   public_targets=tuple(data.get("public_targets") or ()))


@dataclass
class Plan:
    """What this run does, and what its result says about it."""

    graded: bool = True
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    kept_score: float | None = None


def parse_time(text: Any) -> datetime | None:
    """Gradescope's ISO 8601 time (``2018-07-01T14:22:32.365935-07:00``) as an aware datetime;
    ``None`` for anything else (a missing or naive time is not guessed)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def late_days(submitted: datetime, due: datetime, grace_minutes: int = 0) -> int:
    """Days late, counted from the due date and rounded up; 0 on time or within
    ``grace_minutes`` of it. The course record's rule (``course.policy.late_days``), so that
    a run and the record agree."""
    if submitted <= due + timedelta(minutes=grace_minutes):
        return 0
    return math.ceil((submitted - due) / timedelta(days=1))


def _shown(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _span(delta: timedelta) -> str:
    minutes = max(0, math.ceil(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{mins} min"] if mins or not parts else []
    return " ".join(parts)


def _counted(previous: Any) -> bool:
    """Whether a previous submission was a counted graded run."""
    if not isinstance(previous, dict) or previous.get("autograder_error"):
        return False
    results = previous.get("results")
    mark = results.get("extra_data", {}).get(KEY, {}) if isinstance(results, dict) else {}
    return not (isinstance(mark, dict) and mark.get("counted") is False)


def plan_run(meta: dict[str, Any] | None, policy: RunPolicy) -> Plan:
    """Late days and the daily limit for the run ``meta`` describes (``None``: no metadata,
    a full graded run)."""
    plan = Plan()
    zone = ZoneInfo(policy.timezone)
    if meta is None:
        plan.data["counted"] = True
        return plan
    created = parse_time(meta.get("created_at"))
    assignment = meta.get("assignment") if isinstance(meta.get("assignment"), dict) else {}
    due = parse_time(assignment.get("due_date"))
    if created is not None and due is not None:
        days = late_days(created, due, policy.grace_minutes)
        grace = f"; {policy.grace_minutes} min of grace" if policy.grace_minutes else ""
        if created <= due:
            plan.lines.append(f"Submitted {_shown(created, zone)}, on time (due "
                              f"{_shown(due, zone)}).")
        elif days == 0:
            plan.lines.append(f"Submitted {_shown(created, zone)}, {_span(created - due)} "
                              f"after the due date {_shown(due, zone)}: within the grace "
                              "period, no late day used.")
        else:
            plan.lines.append(
                f"Submitted {_shown(created, zone)}, {_span(created - due)} after the due date "
                f"{_shown(due, zone)}: {days} late day{'s' * (days != 1)} used on this "
                f"assignment (days rounded up{grace}).")
        late_due = parse_time(assignment.get("late_due_date"))
        if late_due is not None and created > late_due:
            plan.lines.append(f"This is after the late due date {_shown(late_due, zone)}.")
        plan.data["late"] = {"submitted_at": created.isoformat(), "due_at": due.isoformat(),
                             "late_seconds": max(0.0, (created - due).total_seconds()),
                             "late_days": days, "grace_minutes": policy.grace_minutes}
    elif created is None:
        plan.lines.append("The submission's time is not in submission_metadata.json: late "
                          "days and the daily limit are not applied to this run.")
    if policy.runs_per_day is None or created is None:
        plan.data["counted"] = True
        return plan
    _apply_limit(plan, meta, policy, created, zone)
    return plan


def _apply_limit(plan: Plan, meta: dict[str, Any], policy: RunPolicy, created: datetime,
                 zone: ZoneInfo) -> None:
    limit = policy.runs_per_day
    assert limit is not None
    day = created.astimezone(zone).date()
    counted = []
    for previous in meta.get("previous_submissions") or []:
        when = parse_time(previous.get("submission_time")) if isinstance(previous, dict) \
            else None
        if when is not None and when <= created and _counted(previous):
            counted.append((when, previous))
    today = [p for when, p in counted if when.astimezone(zone).date() == day]
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    plan.data["limit"] = {"runs_per_day": limit, "used_today": len(today),
                          "timezone": policy.timezone}
    if len(today) < limit:
        plan.data["counted"] = True
        left = limit - len(today) - 1
        plan.lines.append(f"Graded run {len(today) + 1} of {limit} today ({policy.timezone}); "
                          f"{left} left before {_shown(midnight, zone)}.")
        return
    plan.graded = False
    plan.data["counted"] = False
    plan.data["next_graded_run"] = midnight.astimezone(UTC).isoformat()
    last = max(counted, key=lambda pair: pair[0])[1]
    score = last.get("score")
    try:
        plan.kept_score = float(score)
    except (TypeError, ValueError):
        plan.kept_score = 0.0
    plan.data["kept_score"] = plan.kept_score
    plan.lines.append(
        f"You have used your {limit} graded run{'s' * (limit != 1)} for today "
        f"({policy.timezone}). This run checked the public checks only: hidden and training "
        f"checks were withheld, and your score stays {plan.kept_score:g}, that of your last "
        f"graded run. Your next graded run is available from {_shown(midnight, zone)} "
        f"(in {_span(midnight - created)}).")


def read_metadata(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The metadata, or ``None`` and why not (``""`` where the file is simply absent)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, ""
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path.name} could not be read ({exc}): graded in full."
    if not isinstance(data, dict):
        return None, f"{path.name} is not a JSON object: graded in full."
    return data, ""


def read_policy(path: Path) -> RunPolicy:
    try:
        return RunPolicy.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return RunPolicy()


def annotate(results: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """``results`` (grade's ``results.json``) with the plan's lines first in its output and
    its data under ``extra_data["nlpdojo"]``; past the limit, the kept score."""
    if plan.lines:
        results["output"] = "\n".join([*plan.lines, "", str(results.get("output", ""))])
    extra = results.setdefault("extra_data", {})
    extra[KEY] = {**extra.get(KEY, {}), **plan.data}
    if not plan.graded and plan.kept_score is not None:
        results["score"] = plan.kept_score
    return results


def _write(path: Path, data: dict[str, Any]) -> None:
    fd, partial = tempfile.mkstemp(prefix=".results.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(partial, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_autograder")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--grade", required=True)
    parser.add_argument("--policy", type=Path, required=True)
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args(argv)
    root: Path = args.root
    results_path = root / "results" / "results.json"
    meta_path = Path(os.environ.get(METADATA_ENV) or root / METADATA_NAME)
    meta, why = read_metadata(meta_path)
    policy = read_policy(args.policy)
    plan = plan_run(meta, policy)
    if why:
        plan.lines.insert(0, why)
    targets = list(args.targets) if plan.graded else [*policy.public_targets, "--as-student"]
    code = 0
    if plan.graded or policy.public_targets:
        command = [args.grade, *targets, "--submission", str(root / "submission"),
                   "--require-sandbox", "--format", "gradescope", "--output", str(results_path)]
        code = subprocess.run(command, check=False).returncode
        if not results_path.is_file() or not results_path.stat().st_size:
            return code  # run_autograder writes the result that says why
        results = json.loads(results_path.read_text(encoding="utf-8"))
    else:  # every question trains: nothing public to run
        results = {"score": 0.0, "execution_time": 0.0, "output": "", "output_format": "text",
                   "visibility": "visible", "stdout_visibility": "hidden", "tests": []}
    if code >= 2:  # grade could not grade (2) or failed (3): not a run that counts
        plan.data["counted"] = False
    _write(results_path, annotate(results, plan))
    return code


if __name__ == "__main__":
    sys.exit(main())
