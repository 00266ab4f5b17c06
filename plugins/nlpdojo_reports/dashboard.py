"""The cohort dashboard: one self-contained HTML page from a cohort's ``summary.json``.

``grade --submissions DIR --format html`` writes it as ``<output>/dashboard.html``;
``dojo report summary.json [-o FILE]`` writes it from a summary already on disk. The page holds
the score distribution (an inline SVG histogram), the per-question pass rates, the failures
clustered by pattern (:mod:`nlpdojo_reports.clusters`) with their counts and who hit them, and a
table of every submission linking to its ``<name>/result.json``. Everything is inline (CSS,
SVG; no script, no font, no CDN), so the page opens offline, from a file, in any browser.

Every number a reader checks carries a ``data-field`` attribute (``data-field="count"``,
``data-question="..." data-field="pass_rate"``...), which is what the browser test reads back.
All text from submissions (names, messages) is escaped; a name not in composed Unicode form is
shown with its combining marks as escapes (:func:`~nlpdojo_reports.sanitize.visible_name`), as
in the terminal's table.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nlpdojo_reports.clusters import cluster_title
from nlpdojo_reports.formatting import fmt_number, fmt_score
from nlpdojo_reports.gradebook import GRADEBOOK_NAME
from nlpdojo_reports.sanitize import visible_name, visible_text

DASHBOARD_NAME = "dashboard.html"
RESULT_NAME = "result.json"
SUMMARY_NAME = "summary.json"
BINS = 10
WHO_SHOWN = 12

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;
background:#f6f7f9}
header{background:#24435e;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}
main{padding:8px 28px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:14px 18px;margin:16px 0}
h2{font-size:17px;margin:0 0 10px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
th{background:#f0f3f6;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.stats{display:flex;gap:18px;flex-wrap:wrap}
.stat{background:#eef4fa;border-radius:6px;padding:8px 14px}
.stat b{display:block;font-size:20px}
.bar{background:#e4e8ee;border-radius:3px;height:10px;width:140px;display:inline-block}
.bar i{display:block;height:10px;border-radius:3px;background:#3f8f5a}
.low i{background:#c6533f}
.who{color:#5b6470;font-size:12px}
code{font-size:12px;background:#f3f4f6;padding:1px 3px;border-radius:3px;white-space:pre-wrap}
.kind{display:inline-block;background:#fbe6e2;color:#8a2d1d;border-radius:10px;padding:0 8px;
font-size:12px;margin-right:4px}
svg text{font:11px system-ui,sans-serif;fill:#333}
"""


def _shown(text: str) -> str:
    """A student's text (a failure's message) for the page: control and bidirectional
    formatting characters as escapes (:func:`visible_text`: a right-to-left override reordered
    what the instructor read), then HTML-escaped."""
    return escape(visible_text(text))


def report_folder_names(names: list[str]) -> dict[str, str]:
    """The folder beside the summary that holds each submission's reports: its own name,
    except a name of a file the cohort writes there (``summary.json``, ``grades.csv``,
    ``dashboard.html``, in any case: a folder of that name would stop the file being written
    for everyone), whose reports go to ``submission-<name>`` (numbered where that is taken).
    ``grade --submissions`` lays them out so; the dashboard links them so."""
    taken = {name.casefold() for name in names}
    reserved = {n.casefold() for n in (SUMMARY_NAME, GRADEBOOK_NAME, DASHBOARD_NAME)}
    found: dict[str, str] = {}
    for name in names:
        folder = name
        if name.casefold() in reserved:
            folder, n = f"submission-{name}", 2
            while folder.casefold() in taken or folder.casefold() in reserved:
                folder, n = f"submission-{n}-{name}", n + 1
            taken.add(folder.casefold())
        found[name] = folder
    return found


def render_dashboard(summary: dict[str, Any], *, result_links: dict[str, str] | None = None,
                     title: str = "Cohort dashboard", similarity: str | None = None,
                     similarity_written: str = "") -> str:
    """The page for ``summary`` (a cohort summary, docs/results-schema.md). ``result_links``
    maps a submission's name to the URL of its result (relative to the page); by default
    ``<folder>/result.json``, as ``grade --submissions`` lays them out
    (:func:`report_folder_names`), the folder's name percent-encoded
    (a folder named ``a#1`` or ``50%`` is a path, not a fragment or an escape).
    ``similarity``: the URL of the cohort's similarity report (``dojo similarity``), linked
    from the page with when it was written (``similarity_written``, :func:`written_at`): a
    grading after it may be of other files."""
    folders = report_folder_names([row["name"] for row in summary["submissions"]])
    links = ({name: f"{quote(folder)}/{RESULT_NAME}" for name, folder in folders.items()}
             if result_links is None else result_links)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{escape(title)}</h1><p>{summary['count']} submissions graded by nlpdojo "
        f"(cohort summary schema {escape(str(summary.get('schema_version', '')))})</p></header>",
        "<main>", _stats(summary), _reports(similarity, similarity_written),
        _histogram_section(summary),
        _questions(summary), _clusters(summary), _leaderboard(summary),
        _submissions(summary, links), "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def similarity_beside(folder: Path) -> tuple[str | None, str]:
    """The similarity report ``dojo similarity`` wrote in ``folder``: its name and when it was
    written (:func:`written_at`), or ``(None, "")`` where there is none."""
    from nlpdojo_reports.similarity import SIMILARITY_HTML

    if not (folder / SIMILARITY_HTML).is_file():
        return None, ""
    return SIMILARITY_HTML, written_at(folder / SIMILARITY_HTML)


def written_at(path: Path) -> str:
    """When ``path`` was last written, in UTC to the minute (``""`` where it cannot be read)."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except OSError:
        return ""


def relink_dashboard(folder: Path) -> bool:
    """Write the dashboard of ``folder`` again from its ``summary.json``, linking what lies
    beside it (``dojo similarity`` calls it after writing its report); ``False`` where the
    folder holds no dashboard (or no readable summary) to relink."""
    import json

    from nlpdojo_reports.writer import atomic_write_text

    page, summary = folder / DASHBOARD_NAME, folder / SUMMARY_NAME
    if not (page.is_file() and summary.is_file()):
        return False
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
        found, written = similarity_beside(folder)
        html = render_dashboard(data, similarity=found, similarity_written=written)
    except (OSError, ValueError, KeyError, TypeError):
        return False  # not a summary this page was made from: leave the page as it is
    atomic_write_text(page, html)
    return True


def _reports(similarity: str | None, written: str = "") -> str:
    if similarity is None:
        return ""
    when = (f' Written <span data-field="similarity_written">{escape(written)}</span>, of '
            "the submissions as they were then: run dojo similarity again after they change."
            if written else "")
    return (f'<section id="reports"><h2>Reports</h2><p><a data-field="similarity" '
            f'href="{escape(quote(similarity), quote=True)}">Similarity report</a>: pairs of '
            "submissions ranked by the code of each question they share (dojo similarity)."
            f"{when}</p></section>")


def _stats(summary: dict[str, Any]) -> str:
    stats = summary["score"]
    cells = [("count", "submissions", summary["count"])]
    cells += [(key, key, stats.get(key)) for key in ("mean", "median", "min", "max",
                                                      "max_score")]
    body = "".join(f'<div class="stat"><b data-field="{key}">{_points(value)}</b>'
                   f"{escape(label.replace('_', ' '))}</div>" for key, label, value in cells)
    return f'<section id="stats"><h2>Scores</h2><div class="stats">{body}</div></section>'


def histogram(scores: list[float], max_score: float, bins: int = BINS) -> list[int]:
    """How many scores fall in each of ``bins`` equal bins over ``[0, max_score]`` (the last
    bin closed: full marks count in it)."""
    counts = [0] * bins
    if max_score <= 0:
        counts[-1 if scores else 0] += len(scores)
        return counts
    for score in scores:
        i = math.floor(bins * max(0.0, score) / max_score)
        counts[min(max(i, 0), bins - 1)] += 1
    return counts


def _histogram_section(summary: dict[str, Any]) -> str:
    scores = [row["score"] for row in summary["submissions"]]
    max_score = summary["score"].get("max_score") or 0.0
    counts = histogram(scores, max_score)
    width, height, left, bottom, top = 640, 220, 36, 34, 12
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max(counts) or 1
    bar_w = plot_w / len(counts)
    shapes = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
              f'y2="{top + plot_h}" stroke="#555"/>',
              f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555"/>',
              f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
              f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>']
    for i, count in enumerate(counts):
        lo, hi = max_score * i / len(counts), max_score * (i + 1) / len(counts)
        h = plot_h * count / peak
        x = left + i * bar_w
        shapes.append(
            f'<rect class="bin" data-bin="{i}" data-count="{count}" x="{x + 2:.1f}" '
            f'y="{top + plot_h - h:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" '
            f'fill="#3f7cac"><title>{fmt_number(lo)}–{fmt_number(hi)} points: {count} '
            f'submission{"s" if count != 1 else ""}</title></rect>')
        if count:
            shapes.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
                          f'text-anchor="middle">{count}</text>')
        shapes.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                      f"{fmt_number(lo)}</text>")
    shapes.append(f'<text x="{left + plot_w:.1f}" y="{top + plot_h + 14}" '
                  f'text-anchor="middle">{fmt_number(max_score)}</text>')
    shapes.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" '
                  'text-anchor="middle">score</text>')
    svg = (f'<svg id="histogram" role="img" aria-label="score distribution" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>')
    return f'<section><h2>Score distribution</h2>{svg}</section>'


def _bar(rate: float) -> str:
    low = " low" if rate < 0.5 else ""
    return f'<span class="bar{low}"><i style="width:{100 * rate:.1f}%"></i></span>'


def _questions(summary: dict[str, Any]) -> str:
    rows = []
    for q in summary["questions"]:
        key = f'data-question="{escape(q["exercise"])}.{escape(q["question"])}"'
        rows.append(
            f"<tr {key}><td>{escape(q['exercise'])}</td><td>{escape(q['question'])}</td>"
            f'<td class="num"><span {key} data-field="passed">{q["passed"]}</span>/'
            f'<span {key} data-field="graded">{q["graded"]}</span></td>'
            f'<td class="num" {key} data-field="pass_rate">{100 * q["pass_rate"]:.1f}%</td>'
            f"<td>{_bar(q['pass_rate'])}</td>"
            f'<td class="num" {key} data-field="mean_score">{_points(q["mean_score"])}</td>'
            f'<td class="num">{_points(q["max_score"])}</td></tr>')
    head = ("<tr><th>exercise</th><th>question</th><th class=num>passed</th>"
            "<th class=num>pass rate</th><th></th><th class=num>mean score</th>"
            "<th class=num>of</th></tr>")
    return (f'<section id="questions"><h2>Questions</h2><table>{head}{"".join(rows)}'
            "</table></section>")


def _clusters(summary: dict[str, Any]) -> str:
    clusters = summary.get("failure_clusters") or []
    if not clusters:
        return ('<section id="failures"><h2>Commonest failures</h2><p>No check failed.</p>'
                "</section>")
    rows = []
    for i, c in enumerate(clusters):
        who = c["submissions"]
        shown = ", ".join(escape(visible_name(n)) for n in who[:WHO_SHOWN])
        more = f" and {len(who) - WHO_SHOWN} more" if len(who) > WHO_SHOWN else ""
        checks = ", ".join(f"{escape(cid)} ({n})" for cid, n in c["checks"].items())
        patterns = "".join(f"<li><code>{_shown(p['diagnosis'])}</code> ({p['count']})</li>"
                           for p in c["patterns"])
        kind = f'<span class="kind">{escape(c["kind"])}</span>' if c["kind"] else ""
        rows.append(
            f'<tr data-cluster="{i}"><td class="num" data-cluster="{i}" data-field="count">'
            f'{c["count"]}</td><td>{escape(c["exercise"])}</td><td>{escape(c["question"])}'
            f"</td><td>{kind}<span title=\"{_shown(cluster_title(c))}\">"
            f"<code>{_shown(c['diagnosis'])}</code></span>"
            f'<div class="who">checks: {checks}</div>'
            f'{"<ul class=who>" + patterns + "</ul>" if len(c["patterns"]) > 1 else ""}</td>'
            f'<td class="who" data-cluster="{i}" data-field="submissions">{shown}{more}</td>'
            "</tr>")
    head = ("<tr><th class=num>students</th><th>exercise</th><th>question</th>"
            "<th>failure (clustered by pattern)</th><th>who</th></tr>")
    return (f'<section id="failures"><h2>Commonest failures</h2><table>{head}{"".join(rows)}'
            "</table></section>")


def _leaderboard(summary: dict[str, Any]) -> str:
    """The held-out leaderboard (``grade --leaderboard``): aliases only, never names."""
    board = summary.get("leaderboard")
    if not board:
        return ""
    tables = []
    for m in board["metrics"]:
        key = f'data-question="{escape(m["id"])}"'
        rows = "".join(
            f'<tr><td class="num">{r["rank"]}</td><td>{escape(r["alias"])}</td>'
            f'<td class="num">{_num(r["value"])}</td></tr>' for r in m["ranked"])
        way = "lower is better" if m["order"] == "asc" else "higher is better"
        tables.append(
            f'<h3>{escape(m["name"])} <span class="who">({way}; <span {key} '
            f'data-field="missing">{m["missing"]}</span> without a valid value)</span></h3>'
            f"<table><tr><th class=num>rank</th><th>alias</th><th class=num>value</th></tr>"
            f"{rows}</table>")
    return f'<section id="leaderboard"><h2>Leaderboard</h2>{"".join(tables)}</section>'


def _submissions(summary: dict[str, Any], links: dict[str, str]) -> str:
    rows = []
    statuses = list(next(iter(summary["submissions"]), {}).get("statuses", {}))
    for row in summary["submissions"]:
        name = escape(visible_name(row["name"]))  # Jose\u0301 is not read as José
        link = links.get(row["name"])
        shown = f'<a href="{escape(link, quote=True)}">{name}</a>' if link else name
        errors = "; ".join(_shown(e) for e in row.get("errors", []))
        key = f'data-submission="{escape(row["name"], quote=True)}"'
        rows.append(
            f"<tr {key}><td>{shown}</td>"
            f'<td class="num" {key} data-field="score">{_points(row["score"])}</td>'
            f'<td class="num">{_points(row["max_score"])}</td>'
            f'<td class="num">{100 * row["fraction"]:.1f}%</td>'
            + "".join(f'<td class="num">{row["statuses"].get(s, 0)}</td>' for s in statuses)
            + f'<td class="who">{errors}</td></tr>')
    head = ("<tr><th>submission</th><th class=num>score</th><th class=num>of</th>"
            "<th class=num>%</th>"
            + "".join(f"<th class=num>{escape(s.replace('_', ' '))}</th>" for s in statuses)
            + "<th>errors</th></tr>")
    return (f'<section id="submissions"><h2>Submissions</h2><table>{head}{"".join(rows)}'
            "</table></section>")


def _num(value: Any) -> str:
    """A measured value (a metric of the leaderboard): six significant digits."""
    return "–" if value is None else fmt_number(value, 6)


def _points(value: Any) -> str:
    """Points as the terminal's table and the reports write them (:func:`fmt_score`: up to 3
    decimals): the mean 39/11 was 3.54546 here, 3.545 there."""
    return "–" if value is None else fmt_score(value)
