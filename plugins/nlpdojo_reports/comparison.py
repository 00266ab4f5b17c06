"""Two gradings of the same submissions side by side: who gained or lost points, and why.

``dojo report --compare OLD NEW`` compares two cohort ``summary.json`` files (each
submission's ``<name>/result.json`` beside its summary gives the checks); ``dojo course
regrade`` compares a course's counted attempts with their grading again by the current grader.
Both build the same plain JSON data with :func:`compare_results` (documented in
docs/results-schema.md, "Cohort comparison") and show it with :func:`render_comparison`.

A check's verdict *changed* where its status or its points differ; the comparison gives the
new message (the old one too), so an instructor who fixed a check sees what each student is
told now.
"""

from __future__ import annotations

from collections.abc import Mapping
from io import StringIO
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from nlpdojo_autograder.grading.results import GradingResult, total_points
from nlpdojo_reports.formatting import fmt_score
from nlpdojo_reports.sanitize import visible_name, visible_text

COMPARISON_SCHEMA_VERSION = "1.0"
RESULT_NAME = "result.json"


def _points(result: GradingResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"score": result.score, "max_score": result.max_score}


def _check_map(result: GradingResult) -> dict[tuple[str, str], Any]:
    return {(ex.name, c.id): c for ex, c in result.checks()}


def changed_checks(old: GradingResult, new: GradingResult) -> list[dict[str, Any]]:
    """The checks of ``old`` and ``new`` whose status or points differ (or that only one of
    them has), in ``new``'s order, then ``old``'s checks that ``new`` lacks."""
    before, after = _check_map(old), _check_map(new)
    rows = []
    for key in [*after, *(k for k in before if k not in after)]:
        a, b = before.get(key), after.get(key)
        if a is not None and b is not None and a.status == b.status and a.score == b.score:
            continue
        rows.append({
            "exercise": key[0], "id": key[1],
            "status_before": a.status if a else None, "status_after": b.status if b else None,
            "points_before": a.score if a else None, "points_after": b.score if b else None,
            "max_score": (b or a).max_score,
            "message": b.message if b else "",
            "message_before": a.message if a else "",
        })
    return rows


def compare_row(name: str, old: GradingResult | None, new: GradingResult | None, *,
                old_points: Mapping[str, Any] | None = None,
                new_points: Mapping[str, Any] | None = None,
                old_questions: Mapping[str, float] | None = None,
                new_questions: Mapping[str, float] | None = None) -> dict[str, Any]:
    """One submission's row. Where a result is not at hand (a summary without the results
    beside it), its points and question scores may be given instead: the row then lists the
    questions whose points changed and says that its checks are unknown."""
    before = _points(old) or (dict(old_points) if old_points is not None else None)
    after = _points(new) or (dict(new_points) if new_points is not None else None)
    delta = (total_points([after["score"], -before["score"]])
             if before is not None and after is not None else None)
    q_before = dict(old_questions or (_question_scores(old) if old else {}))
    q_after = dict(new_questions or (_question_scores(new) if new else {}))
    questions = [{"question": q, "points_before": q_before.get(q), "points_after": q_after.get(q)}
                 for q in [*q_after, *(k for k in q_before if k not in q_after)]
                 if q_before.get(q) != q_after.get(q)]
    known = old is not None and new is not None
    return {
        "name": name, "before": before, "after": after, "delta": delta,
        "questions": questions,
        "checks_known": known,
        "checks": changed_checks(old, new) if known else [],
    }


def _question_scores(result: GradingResult) -> dict[str, float]:
    points: dict[str, float] = {}
    for ex, check in result.checks():
        key = f"{ex.name}.{check.question}"
        points[key] = total_points((points.get(key, 0.0), check.score))
    return points


def summarize_rows(rows: list[dict[str, Any]], /, **head: Any) -> dict[str, Any]:
    """The comparison document: ``head`` (where the two gradings come from), counts, rows."""
    changed = [r for r in rows if _changed(r)]
    return {
        "schema_version": COMPARISON_SCHEMA_VERSION, **head,
        "count": len(rows),
        "changed": len(changed),
        "gained": sum(1 for r in changed if _direction(r) > 0),
        "lost": sum(1 for r in changed if _direction(r) < 0),
        "submissions": rows,
    }


def _direction(row: dict[str, Any]) -> int:
    """+1 where the submission gained, -1 where it lost, 0 otherwise: by its points, or, where
    the points possible changed (a question added to the grading), by its share of them: 15/15
    becoming 21/22 is a loss, which its points (+6) called a gain."""
    before, after = row["before"], row["after"]
    if before is None or after is None:
        return 0
    if before["max_score"] != after["max_score"] and before["max_score"] and after["max_score"]:
        change = after["score"] / after["max_score"] - before["score"] / before["max_score"]
        return (change > 1e-12) - (change < -1e-12)
    delta = row["delta"] or 0
    return (delta > 0) - (delta < 0)


def _changed(row: dict[str, Any]) -> bool:
    return bool(row["delta"] or row["checks"] or row["questions"]
                or (row["before"] is None) != (row["after"] is None))


def compare_results(old: Mapping[str, GradingResult], new: Mapping[str, GradingResult], /,
                    **head: Any) -> dict[str, Any]:
    """Compare two gradings keyed by submission (or student) name."""
    names = sorted(set(old) | set(new))
    return summarize_rows([compare_row(n, old.get(n), new.get(n)) for n in names], **head)


def compare_summaries(old_path: Path, old: dict[str, Any], new_path: Path,
                      new: dict[str, Any]) -> dict[str, Any]:
    """Compare two cohort summaries (already read and validated) found at the two paths; each
    submission's checks come from ``<name>/result.json`` beside its summary where both exist."""
    old_rows = {r["name"]: r for r in old["submissions"]}
    new_rows = {r["name"]: r for r in new["submissions"]}
    rows = []
    for name in sorted(set(old_rows) | set(new_rows)):
        a, b = old_rows.get(name), new_rows.get(name)
        ra = _result_beside(old_path, name) if a else None
        rb = _result_beside(new_path, name) if b else None
        if ra is None or rb is None:  # the summary's own numbers, no checks
            ra = rb = None
        rows.append(compare_row(
            name, ra, rb,
            old_points=_summary_points(a), new_points=_summary_points(b),
            old_questions=(a or {}).get("question_scores"),
            new_questions=(b or {}).get("question_scores")))
    return summarize_rows(rows, old=str(old_path), new=str(new_path))


def _summary_points(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {"score": row["score"], "max_score": row["max_score"]}


def _result_beside(summary: Path, name: str) -> GradingResult | None:
    """``<name>/result.json`` beside ``summary`` when it is there and readable; the name is
    the summary's, a folder name: one that climbs out is not followed."""
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        return None
    path = summary.parent / name / RESULT_NAME
    try:
        return GradingResult.load(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def render_comparison(comparison: dict[str, Any], width: int = 120,
                      show_all: bool = False) -> str:
    """The comparison as plain text: a line of counts, then each submission that changed."""
    console = Console(file=StringIO(), width=width, force_terminal=False, color_system=None,
                      record=True, highlight=False)
    console.print(comparison_renderable(comparison, show_all=show_all))
    return console.export_text()


def comparison_renderable(comparison: dict[str, Any], show_all: bool = False) -> Group:
    """The comparison as a rich renderable."""
    table = Table(title="Points before and after", title_justify="left", expand=True)
    table.add_column("Submission", overflow="fold")
    table.add_column("Before", justify="right", no_wrap=True)
    table.add_column("After", justify="right", no_wrap=True)
    table.add_column("Change", justify="right", no_wrap=True)
    table.add_column("Checks whose verdict changed (the new message)", overflow="fold", ratio=1)
    for row in comparison["submissions"]:
        if not (show_all or _changed(row)):
            continue
        table.add_row(Text(visible_name(row["name"])), _pts(row["before"]), _pts(row["after"]),
                      _delta(row["delta"]), Text(visible_text(_what_changed(row))))
    head = Text(_head(comparison), style="bold")
    return Group(head, table) if table.row_count else head


def _head(comparison: dict[str, Any]) -> str:
    """The counts line: every changed submission in one of its parts (it said "9 of 9
    changed: 2 gained points, 0 lost points" where the other 7 kept their share of more
    points possible: an instructor's trial)."""
    changed = [r for r in comparison["submissions"] if _changed(r)]
    parts = [f"{comparison['gained']} gained", f"{comparison['lost']} lost"]
    even = [r for r in changed if _direction(r) == 0]
    once = sum(1 for r in even if r["before"] is None or r["after"] is None)
    share = sum(1 for r in even if r["before"] is not None and r["after"] is not None
                and r["before"]["max_score"] != r["after"]["max_score"])
    checks = len(even) - once - share
    if share:
        parts.append(f"{share} kept their share of the points possible, which changed")
    if checks:
        parts.append(f"{checks} kept their points (checks' verdicts changed)")
    if once:
        parts.append(f"{once} graded in one of the two only")
    moved = any(r["before"] is not None and r["after"] is not None
                and r["before"]["max_score"] != r["after"]["max_score"] and _direction(r)
                for r in changed)
    where = " (by the share of the points possible where those changed)" if moved else ""
    return (f"{comparison['changed']} of {comparison['count']} changed: "
            f"{', '.join(parts)}{where}")


def _pts(points: dict[str, Any] | None) -> str:
    if points is None:
        return "-"
    return f"{fmt_score(points['score'])}/{fmt_score(points['max_score'])}"


def _delta(delta: float | None) -> str:
    if delta is None:
        return "-"
    return f"+{fmt_score(delta)}" if delta > 0 else fmt_score(delta)


def _what_changed(row: dict[str, Any]) -> str:
    if row["before"] is None:
        return "only in the new grading"
    if row["after"] is None:
        return "only in the old grading"
    lines = []
    for c in row["checks"]:
        verdict = f"{c['status_before'] or 'absent'} -> {c['status_after'] or 'absent'}"
        points = f"{fmt_score(c['points_before'])} -> {fmt_score(c['points_after'])}"
        message = f": {c['message']}" if c["message"] else ""
        lines.append(f"{c['exercise']}: {c['id']} {verdict} ({points}){message}")
    if not row["checks_known"]:
        lines += [f"{q['question']}: {fmt_score(q['points_before'])} -> "
                  f"{fmt_score(q['points_after'])}" for q in row["questions"]]
        lines.append("(checks unknown: a result.json is not beside each summary)")
    return "\n".join(lines) or "-"
