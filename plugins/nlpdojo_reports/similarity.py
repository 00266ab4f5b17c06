"""The similarity report of a cohort (``dojo similarity``): JSON for scripts, one HTML page for
people, both from :class:`~nlpdojo_autograder.release.similarity.Report`.

The page lists the ranked pairs with their per-question scores, then, for each pair shown, each
question compared side by side with the matched regions marked. Everything is inline (CSS; no
script, no font, no CDN), as in the cohort dashboard; every number carries ``data-field``
(``data-pair="N"`` the rank it belongs to), and all code and names are escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

from nlpdojo_autograder.release.similarity import GUARANTEE, NOISE, Pair, Piece, Report
from nlpdojo_reports.sanitize import visible_name

SIMILARITY_HTML = "similarity.html"
SIMILARITY_JSON = "similarity.json"
SCHEMA_VERSION = "1.0"
#: pairs shown besides the flagged ones
TOP = 50
#: pairs whose code the page shows side by side (the best first; the rest: similarity.json)
SIDE_BY_SIDE = 100

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;
background:#f6f7f9}
header{background:#24435e;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:14px 18px;margin:16px 0}
h2{font-size:17px;margin:0 0 10px}
h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceff3;vertical-align:top}
th{background:#f0f3f6;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.flag{color:#8a2d1d;font-weight:600}
.side{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.side div{min-width:0}
pre{font-size:12px;background:#f7f8fa;border:1px solid #e3e6ea;padding:6px;overflow-x:auto;
margin:0}
mark{background:#ffd9a8}
.who{color:#5b6470;font-size:12px}
"""


def shown_pairs(report: Report, top: int = TOP) -> list[Pair]:
    """Every flagged pair, then the ``top`` best others."""
    flagged = [p for p in report.pairs if p.flagged]
    return flagged + [p for p in report.pairs if not p.flagged][:top]


def report_data(report: Report, top: int = TOP) -> dict[str, Any]:
    """The report as JSON data (docs/grading.md, "Similarity report")."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "copydetect",
        "topics": report.topics,
        "threshold": report.threshold,
        "min_size": report.min_size,
        "noise": NOISE,
        "guarantee": GUARANTEE,
        "submissions": sum(not s.reference for s in report.submissions),
        "references": sum(s.reference for s in report.submissions),
        "questions": report.questions,
        "pairs_compared": report.compared_pairs,
        "pairs_flagged": sum(bool(p.flagged) for p in report.pairs),
        "pairs": [{
            "rank": rank, "a": visible_name(p.a), "b": visible_name(p.b),
            "reference": p.reference, "score": p.score, "overall": round(p.overall, 4),
            "flagged": p.flagged,
            "questions": {q: {"score": m.score, "matched": list(m.matched),
                              "covered": list(m.covered)} for q, m in p.matches.items()},
        } for rank, p in enumerate(shown_pairs(report, top), 1)],
        "warnings": report.warnings,
    }


def render_similarity(report: Report, top: int = TOP, title: str = "Similarity report",
                      side_by_side: int = SIDE_BY_SIDE) -> str:
    """The HTML page: the ranking of every flagged pair and the ``top`` best others, and the
    code of the first ``side_by_side`` of them side by side (a cohort where hundreds of pairs
    are flagged, a leaked solution say, would make a page of hundreds of megabytes)."""
    pairs = shown_pairs(report, top)
    pieces = report.pieces()
    cohort = sum(not s.reference for s in report.submissions)
    refs = len(report.submissions) - cohort
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{escape(title)}</h1><p>{escape(', '.join(report.topics))}: "
        f'<span data-field="submissions">{cohort}</span> submissions'
        + (f", {refs} from past cohorts" if refs else "")
        + f"; a question flags a pair at a score of {report.threshold:g} or more; questions "
          f"with under {report.min_size} normalised characters of a student's own code are not "
          "compared (copydetect's winnowing; the released stubs and given code removed)</p>"
          "</header><main>",
        _questions(report), _ranking(pairs, report, side_by_side), _warnings(report.warnings),
        *(_pair_section(rank, p, pieces) for rank, p in enumerate(pairs[:side_by_side], 1)),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _questions(report: Report) -> str:
    rows = "".join(f'<tr><td>{escape(q)}</td><td class="num" data-question="{escape(q)}" '
                   f'data-field="compared">{n}</td></tr>' for q, n in report.questions.items())
    return ('<section id="questions"><h2>Questions</h2><table><tr><th>question</th>'
            f"<th class=num>submissions compared</th></tr>{rows}</table></section>")


def _ranking(pairs: list[Pair], report: Report, side_by_side: int) -> str:
    if not pairs:
        return ('<section id="pairs"><h2>Pairs</h2><p data-field="pairs_flagged">No pair shares '
                "code on a question compared.</p></section>")
    rows = []
    for rank, p in enumerate(pairs, 1):
        scores = ", ".join(
            f'<span class="{"flag" if m.score >= report.threshold else ""}" data-pair="{rank}" '
            f'data-question="{escape(q)}" data-field="question_score">{escape(q)} {m.score:.2f}'
            "</span>" for q, m in sorted(p.matches.items(), key=lambda i: -i[1].score))
        ref = ' <span class="who">(past cohort)</span>' if p.reference else ""
        rows.append(
            (f'<tr><td class="num"><a href="#pair-{rank}">{rank}</a></td>'
             if rank <= side_by_side else f'<tr><td class="num">{rank}</td>')
            + f'<td data-pair="{rank}" data-field="a">{escape(visible_name(p.a))}</td>'
            f'<td data-pair="{rank}" data-field="b">{escape(visible_name(p.b))}{ref}</td>'
            f'<td class="num" data-pair="{rank}" data-field="score">{p.score:.2f}</td>'
            f'<td class="num" data-pair="{rank}" data-field="flagged">{len(p.flagged)}</td>'
            f"<td>{scores}</td></tr>")
    head = ("<tr><th class=num>#</th><th>submission</th><th>submission</th>"
            "<th class=num>best</th><th class=num>flagged</th><th>questions</th></tr>")
    flagged = sum(bool(p.flagged) for p in report.pairs)
    more = (f"<p class=who>The code of the first {side_by_side} pairs is shown side by side "
            "below; similarity.json lists every pair above.</p>"
            if len(pairs) > side_by_side else "")
    return (f'<section id="pairs"><h2>Pairs, ranked (<span data-field="pairs_flagged">'
            f"{flagged}</span> flagged of {report.compared_pairs} sharing any code)</h2>"
            f"{more}<table>{head}{''.join(rows)}</table></section>")


def _warnings(warnings: list[str]) -> str:
    if not warnings:
        return ""
    items = "".join(f"<li>{escape(w)}</li>" for w in warnings)
    return (f'<section id="warnings"><h2>Not read ({len(warnings)})</h2>'
            f'<ul class="who">{items}</ul></section>')


def _pair_section(rank: int, pair: Pair, pieces: dict[tuple[str, str], Piece]) -> str:
    a, b = escape(visible_name(pair.a)), escape(visible_name(pair.b))
    blocks = []
    for q, m in sorted(pair.matches.items(), key=lambda i: -i[1].score):
        pa, pb = pieces[(pair.a, q)], pieces[(pair.b, q)]
        blocks.append(
            f'<h3>{escape(q)}: <span data-pair="{rank}" data-question="{escape(q)}" '
            f'data-field="section_score">{m.score:.2f}</span></h3><div class="side">'
            f'<div><div class="who">{a}: {escape(visible_name(pa.origin))}</div>'
            f"<pre>{_marked(pa.code, m.regions[0])}</pre></div>"
            f'<div><div class="who">{b}: {escape(visible_name(pb.origin))}</div>'
            f"<pre>{_marked(pb.code, m.regions[1])}</pre></div></div>")
    return (f'<section id="pair-{rank}"><h2>{rank}. {a} and {b}</h2>{"".join(blocks)}'
            "</section>")


def _marked(code: str, regions: list[tuple[int, int]]) -> str:
    """``code`` escaped, its matched regions in ``<mark>``."""
    out, at = [], 0
    for start, end in regions:
        start, end = max(start, at), min(end, len(code))
        if start >= end:
            continue
        out += [escape(code[at:start]), "<mark>", escape(code[start:end]), "</mark>"]
        at = end
    out.append(escape(code[at:]))
    return "".join(out)
