"""The course pages of ``dojo course dashboard``: the course view (``index.html``: per assignment
submitted, missing, late, excused, mean and the distribution of points; every student's
points) and one page per student (``students/<n>.html``: attempts, late days, overrides).

Rendered from the plain data of :mod:`nlpdojo_autograder.course.browse`, in the cohort
dashboard's style: self-contained (inline CSS and SVG, no script), every number a reader
checks marked with ``data-field`` (scoped by ``data-assignment`` or ``data-student``), every
text escaped. The pages hold names and grades: the command writes them for the instructor
(0600) and nothing a student receives links to them.
"""

from __future__ import annotations

from html import escape
from typing import Any

from nlpdojo_autograder.course.policy import points_text, standing_points
from nlpdojo_reports.dashboard import _CSS
from nlpdojo_reports.sanitize import visible_name

#: the standings a cell of the students' table names beside its points (excused shows as EX)
STATUS_TEXT = {"missing": "missing", "open": "not due yet"}


def student_file(index: int) -> str:
    """A student page's file name: by roster position, never by a name or id (a student's id
    is the roster's text, not a safe file name)."""
    return f"students/{index:04d}.html"


def _page(title: str, subtitle: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>",
        "<main>", *body, "</main></body></html>"]) + "\n"


def _num(value: float | None) -> str:
    """Points as the exports write them (:func:`points_text`: up to 2 decimals), so a page
    and a gradebook never show one standing as two numbers; ``-`` for none."""
    return "-" if value is None else escape(points_text(value))


def render_course_page(view: dict[str, Any]) -> str:
    """``index.html``: the course view."""
    cards = [_assignment_card(a) for a in view["assignments"]]
    return _page(view["name"] or "Course", f"{len(view['students'])} students, "
                 f"{len(view['assignments'])} assignments (nlpdojo course record)",
                 [*cards, _students_table(view)])


def _assignment_card(a: dict[str, Any]) -> str:
    scope = f'data-assignment="{escape(a["id"], quote=True)}"'
    # the mean, median and histogram are of the graded standings: missing work (0 in the
    # exports) and work not due yet are left out, which the labels say
    of_graded = f" of {a['graded']} graded"
    cells = [("submitted", a["submitted"], ""), ("missing", a["missing"], ""),
             ("open", a["open"], " (not due yet)"), ("late", a["late"], ""),
             ("excused", a["excused"], ""),
             ("mean", a["mean"], of_graded), ("median", a["median"], of_graded)]
    stats = "".join(f'<div class="stat"><b {scope} data-field="{key}">{_num(value)}</b>'
                    f"{key}{label}</div>" for key, value, label in cells)
    return (f'<section {scope}><h2>{escape(a["title"])} <small>({escape(a["id"])}, '
            f'{_num(a["points"])} points, due {escape(a["due"])})</small></h2>'
            f'<div class="stats">{stats}</div>{_histogram(a)}</section>')


def _histogram(a: dict[str, Any]) -> str:
    counts, most = a["histogram"], a["points"]
    width, height, left, bottom, top = 520, 150, 30, 30, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max(counts) or 1
    bar_w = plot_w / len(counts)
    shapes = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
              f'y2="{top + plot_h}" stroke="#555"/>']
    for i, count in enumerate(counts):
        h = plot_h * count / peak
        x = left + i * bar_w
        lo, hi = most * i / len(counts), most * (i + 1) / len(counts)
        shapes.append(f'<rect class="bin" data-bin="{i}" data-count="{count}" '
                      f'x="{x + 2:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 4:.1f}" '
                      f'height="{h:.1f}" fill="#3f7cac"><title>{points_text(lo)}–'
                      f"{points_text(hi)} points: {count}</title></rect>")
        if count:
            shapes.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
                          f'text-anchor="middle">{count}</text>')
        shapes.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                      f"{points_text(lo)}</text>")
    shapes.append(f'<text x="{left + plot_w:.1f}" y="{top + plot_h + 14}" '
                  f'text-anchor="middle">{points_text(most)}</text>')
    return (f'<svg role="img" aria-label="distribution of points" viewBox="0 0 {width} '
            f'{height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f'{"".join(shapes)}</svg>')


def _students_table(view: dict[str, Any]) -> str:
    ids = [a["id"] for a in view["assignments"]]
    head = ("<tr><th>student</th><th>section</th>"
            + "".join(f"<th class=num>{escape(aid)}</th>" for aid in ids)
            + "<th class=num>late days used</th><th class=num>left</th></tr>")
    rows = []
    for n, s in enumerate(view["students"]):
        scope = f'data-student="{escape(s["id"], quote=True)}"'
        cells = []
        for aid in ids:
            cell = s["assignments"][aid]
            shown = escape(standing_points(cell["status"], cell["score"]))
            extra = (f" ({STATUS_TEXT[cell['status']]})" if cell["status"] in STATUS_TEXT
                     else "") + (
                f" +{cell['late_days']}d" if cell["late_days"] else "") + (
                " *" if cell["overridden"] else "")
            cells.append(f'<td class="num"><span {scope} data-assignment="{escape(aid)}" '
                         f'data-field="score">{shown}</span>{escape(extra)}</td>')
        rows.append(f"<tr {scope}><td><a href=\"{student_file(n)}\">"
                    f"{escape(visible_name(s['name']))}</a></td>"
                    f"<td>{escape(s['section'])}</td>{''.join(cells)}"
                    f'<td class="num" {scope} data-field="late_days_used">'
                    f"{s['late_days_used']}</td>"
                    f'<td class="num" {scope} data-field="late_days_left">'
                    f"{s['late_days_left']}</td></tr>")
    note = ("<p class=who>+Nd: late days counted on the assignment; *: an override applies; "
            "each name links to the student's page.</p>")
    return (f'<section id="students"><h2>Students</h2>{note}<table>{head}{"".join(rows)}'
            "</table></section>")


def render_student_page(view: dict[str, Any], course_name: str = "") -> str:
    """A student's page: ledger, then per assignment the standing and every attempt, then the
    overrides."""
    scope = f'data-student="{escape(view["id"], quote=True)}"'
    ledger = view["ledger"]
    used = ", ".join(f"{escape(a)}: {d}" for a, d in ledger["used"].items()) or "none"
    body = [f'<section id="ledger"><h2>Late days</h2><div class="stats">'
            f'<div class="stat"><b {scope} data-field="bank">{ledger["bank"]}</b>bank</div>'
            f'<div class="stat"><b {scope} data-field="used">'
            f'{sum(ledger["used"].values())}</b>used</div>'
            f'<div class="stat"><b {scope} data-field="left">{ledger["left"]}</b>left</div>'
            f"</div><p>Used per assignment: {used}</p></section>"]
    for a in view["assignments"]:
        body.append(_student_assignment(a))
    body.append(_overrides(view["overrides"]))
    who = f"{view['name']} ({view['id']}), {view['email'] or 'no email'}"
    return _page(f"{view['name']}: {course_name}" if course_name else view["name"], who,
                 ['<p><a href="../index.html">Back to the course</a></p>', *body])


def _student_assignment(a: dict[str, Any]) -> str:
    scope = f'data-assignment="{escape(a["id"], quote=True)}"'
    shown = escape(standing_points(a["status"], a["score"]))
    ext = (f"; extended to {escape(a['extension']['due'])} ({escape(a['extension']['reason'])})"
           if a["extension"] else "")
    rows = "".join(
        f'<tr {scope} data-field="attempt"><td class="num">{t["number"]}</td>'
        f"<td>{escape(t['submitted_at'])}</td><td>{escape(t['submitted_from'])}</td>"
        f'<td class="num">{_num(t["score"])}/{_num(t["max_score"])}</td>'
        f'<td class="num">{t["late_days"]}</td><td>{_attempt_mark(t)}</td>'
        "</tr>" for t in a["attempts"])
    table = ("<table><tr><th class=num>attempt</th><th>submitted</th><th>time from</th>"
             "<th class=num>grader points</th><th class=num>late days</th><th></th></tr>"
             f"{rows}</table>" if a["attempts"] else "<p>No attempt recorded.</p>")
    notes = "".join(f"<li>{escape(n)}</li>" for n in a["notes"])
    return (f"<section {scope}><h2>{escape(a['title'])} <small>({escape(a['id'])})</small>"
            f'</h2><p><b {scope} data-field="score">{shown}</b> of {_num(a["points"])} points'
            f' ({escape(a["status"])}); due {escape(a["due"])}{ext}; '
            f'<span {scope} data-field="late_days">{a["late_days"]}</span> late day(s), '
            f'{a["bank_days"]} from the bank</p>{table}'
            f"{f'<ul>{notes}</ul>' if notes else ''}</section>")


def _attempt_mark(attempt: dict[str, Any]) -> str:
    """What an attempt's row says of it: counted, or void (and why)."""
    if attempt["void"]:
        return f"void: {escape(str(attempt['void']))}"
    return "counted" if attempt["counted"] else ""


def _overrides(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<section id="overrides"><h2>Overrides</h2><p>None.</p></section>'
    body = "".join(
        f"<tr><td>{escape(o['assignment'])}</td><td>{escape(o['question'] or 'whole')}</td>"
        f'<td class="num">{"EX" if o["excused"] else _num(o["points"])}</td>'
        f"<td>{escape(o['reason'])}</td><td>{escape(o['by'])}</td><td>{escape(o['at'])}</td>"
        f"<td>{escape(o['standing'])}</td></tr>" for o in rows)
    return ('<section id="overrides"><h2>Overrides</h2><table><tr><th>assignment</th>'
            "<th>question</th><th class=num>points</th><th>reason</th><th>by</th><th>when</th>"
            f"<th>standing</th></tr>{body}</table></section>")
