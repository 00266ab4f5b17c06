"""The cohort summary of ``grade --submissions DIR``: how a whole class did, check by check.

:func:`summarize` returns plain JSON data (documented in docs/results-schema.md, "Cohort
summary", with its own ``schema_version``); :func:`render_cohort_table` shows it in a terminal.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from io import StringIO
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from nlpdojo_autograder.grading.results import STATUSES, GradingResult, total_points
from nlpdojo_reports.clusters import cluster_failures, cluster_title
from nlpdojo_reports.formatting import fmt_points, fmt_score
from nlpdojo_reports.sanitize import visible_name, visible_text

COHORT_SCHEMA_VERSION = "1.2"
TOP_FAILURES = 3
TOP_CLUSTERS = 10

# A number standing alone (not part of an identifier such as float64 or W1): 3, -0.25, 1e-05.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?!\w)")


def normalize_message(message: str) -> str:
    """``message`` with standalone numbers replaced by ``#`` and whitespace collapsed, so that
    "max error 0.31 at index [2, 7]" and "max error 0.5 at index [0, 1]" count as one failure."""
    return " ".join(_NUMBER.sub("#", message).split())


def summarize(results: dict[str, GradingResult]) -> dict[str, Any]:
    """Per-submission scores, score statistics, per-question and per-check pass rates, and the
    commonest failure messages of each check, and the failures clustered by their pattern
    (:func:`~nlpdojo_reports.clusters.cluster_failures`). ``results`` maps submission name to
    its result."""
    names = sorted(results)
    submissions = [_submission_row(name, results[name]) for name in names]
    scores = [row["score"] for row in submissions]
    return {
        "schema_version": COHORT_SCHEMA_VERSION,
        "count": len(names),
        "score": _score_stats(scores, results),
        "submissions": submissions,
        "questions": _questions(results, names),
        "checks": _checks(results, names),
        "failure_clusters": cluster_failures(results),
    }


def _submission_row(name: str, result: GradingResult) -> dict[str, Any]:
    counts = Counter(c.status for _, c in result.checks())
    points: dict[str, float] = {}  # "<exercise>.<question>" -> points, in grading order
    for ex, check in result.checks():
        key = f"{ex.name}.{check.question}"
        points[key] = total_points((points.get(key, 0.0), check.score))
    return {
        "name": name,
        "score": result.score,
        "max_score": result.max_score,
        "fraction": result.score / result.max_score if result.max_score else 0.0,
        "statuses": {s: counts[s] for s in STATUSES},
        "errors": [f"{ex.name}: {ex.error}" for ex in result.exercises if ex.error],
        "question_scores": points,
    }


def _score_stats(scores: list[float], results: dict[str, GradingResult]) -> dict[str, Any]:
    if not scores:
        return {"mean": None, "median": None, "min": None, "max": None, "max_score": None}
    return {
        "mean": round(statistics.fmean(scores), 6),
        "median": round(statistics.median(scores), 6),
        "min": min(scores),
        "max": max(scores),
        "max_score": max(r.max_score for r in results.values()),
    }


def _questions(results: dict[str, GradingResult], names: list[str]) -> list[dict[str, Any]]:
    """A question passes for a submission when all its checks there passed."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for name in names:
        per_q: dict[tuple[str, str], list[Any]] = {}
        for ex, check in results[name].checks():
            per_q.setdefault((ex.name, check.question), []).append(check)
        for key, checks in per_q.items():
            row = rows.setdefault(
                key, {"exercise": key[0], "question": key[1], "graded": 0, "passed": 0,
                      "scores": [], "max_score": 0.0},
            )
            row["graded"] += 1
            row["passed"] += all(c.passed for c in checks)
            row["scores"].append(total_points(c.score for c in checks))
            row["max_score"] = max(row["max_score"], total_points(c.max_score for c in checks))
    out = []
    for row in rows.values():
        scores = row.pop("scores")
        row["pass_rate"] = row["passed"] / row["graded"]
        row["mean_score"] = round(statistics.fmean(scores), 6)
        out.append(row)
    return out


def _checks(results: dict[str, GradingResult], names: list[str]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    failures: dict[tuple[str, str], Counter[str]] = {}
    examples: dict[tuple[str, str, str], str] = {}
    for name in names:
        for ex, check in results[name].checks():
            key = (ex.name, check.id)
            row = rows.setdefault(
                key, {"exercise": ex.name, "id": check.id, "question": check.question,
                      "graded": 0, "passed": 0, "statuses": dict.fromkeys(STATUSES, 0)},
            )
            row["graded"] += 1
            row["passed"] += check.passed
            row["statuses"][check.status] += 1
            if not check.passed:
                norm = normalize_message(check.message) or check.status
                failures.setdefault(key, Counter())[norm] += 1
                examples.setdefault((*key, norm), check.message)
    out = []
    for key, row in rows.items():
        row["pass_rate"] = row["passed"] / row["graded"]
        # most_common keeps first-seen order among ties, so the output is deterministic
        row["common_failures"] = [
            {"message": msg, "count": n, "example": examples[(*key, msg)]}
            for msg, n in failures.get(key, Counter()).most_common(TOP_FAILURES)
        ]
        out.append(row)
    return out


def render_cohort_table(summary: dict[str, Any], width: int = 120) -> str:
    """The summary as plain text: submissions, questions, then checks with their failures."""
    console = Console(
        file=StringIO(), width=width, force_terminal=False, color_system=None, record=True,
        highlight=False,
    )
    console.print(cohort_renderable(summary))
    return console.export_text()


def cohort_renderable(summary: dict[str, Any]) -> Group:
    """The summary as a rich renderable (print it to a colour console yourself)."""
    subs = Table(title=f"Submissions ({summary['count']})", title_justify="left")
    for col in ("Submission", "Score", "%", "passed", "failed", "error", "timeout", "not impl."):
        subs.add_column(col, overflow="fold", justify="left" if col == "Submission" else "right")
    for row in summary["submissions"]:
        st = row["statuses"]
        subs.add_row(
            Text(visible_name(row["name"])), fmt_points(row["score"], row["max_score"]),
            f"{100 * row['fraction']:.1f}", *(str(st[s]) for s in STATUSES),
        )
    stats = summary["score"]
    line = Text(
        f"mean {fmt_score(stats['mean'])}, median {fmt_score(stats['median'])}, "
        f"min {fmt_score(stats['min'])}, max {fmt_score(stats['max'])} "
        f"of {fmt_score(stats['max_score'])}",
        style="bold",
    )
    questions = Table(title="Questions", title_justify="left")
    for col in ("Exercise", "Question", "Pass rate", "Mean score"):
        questions.add_column(col, overflow="fold")
    for q in summary["questions"]:
        questions.add_row(
            q["exercise"], q["question"], _rate(q["passed"], q["graded"]),
            fmt_points(q["mean_score"], q["max_score"]),
        )
    checks = Table(title="Checks", title_justify="left", expand=True)
    checks.add_column("Exercise", no_wrap=True)
    checks.add_column("Check", no_wrap=True)
    checks.add_column("Pass rate", no_wrap=True)
    checks.add_column("Commonest failures", overflow="fold", ratio=1)
    for c in summary["checks"]:
        fails = "\n".join(f"{f['count']}x {f['message']}" for f in c["common_failures"])
        checks.add_row(c["exercise"], Text(visible_text(c["id"])),
                       _rate(c["passed"], c["graded"]), Text(visible_text(fails) or "-"))
    clusters = Table(title="Failures clustered by pattern", title_justify="left", expand=True)
    clusters.add_column("Students", justify="right", no_wrap=True)
    clusters.add_column("Failure", overflow="fold", ratio=1)
    clusters.add_column("Who", overflow="fold")
    for c in summary.get("failure_clusters", [])[:TOP_CLUSTERS]:
        who = ", ".join(map(visible_name, c["submissions"][:5])) + (
            " ..." if len(c["submissions"]) > 5 else "")
        clusters.add_row(str(c["count"]), Text(visible_text(cluster_title(c))),
                         Text(who))  # (each name made visible above)
    return Group(subs, line, questions, checks, clusters)


def _rate(passed: int, graded: int) -> str:
    return f"{passed}/{graded} ({100 * passed / graded:.0f}%)" if graded else "-"
