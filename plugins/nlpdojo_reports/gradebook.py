"""The cohort's gradebook: ``grades.csv``, one row per submission, for a spreadsheet or an LMS
import (what ``nbgrader export`` gives a course).

Written by ``grade --submissions DIR`` beside ``summary.json`` and made from it alone
(:func:`render_gradebook`), so it can never disagree with the summary. Columns (documented in
docs/results-schema.md, "Gradebook"): ``submission``, ``score``, ``max_score``, ``percent``,
one column per question (``<topic>.<question>``, its points), and ``errors``.

Text from a submission (its folder's name, an error message) is written so that a spreadsheet
shows it and never evaluates it: a cell that would start a formula (``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) is prefixed with ``'``, and so is one right after a ``,``, ``;`` or
tab inside a cell, and every cell is quoted (OWASP, "CSV injection"): a spreadsheet that splits
the file on ``;`` (Excel in many locales) finds no cell ``=...`` in ``Eve;=cmd|...``.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from nlpdojo_reports.formatting import fmt_score

GRADEBOOK_NAME = "grades.csv"
FIXED_COLUMNS = ("submission", "score", "max_score", "percent")
#: what a spreadsheet takes for the start of a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: a formula's start right after a separator a spreadsheet may split a line on
_AFTER_SEPARATOR = re.compile(r"([,;\t])([=+\-@\r])")
#: how every gradebook and export cell is written: quoted, whatever separator a spreadsheet
#: reads the file with
QUOTING = csv.QUOTE_ALL


def inert(text: str) -> str:
    """``text`` as a spreadsheet cell that shows it rather than evaluates it: a ``'`` before
    a formula's start at its beginning, and after a ``,``, ``;`` or tab inside it (where a
    spreadsheet that splits the file on another separator than the writer's would start a
    cell: ``Eve;=cmd|...`` read with ``;``)."""
    text = _AFTER_SEPARATOR.sub(r"\1'\2", text)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def render_gradebook(summary: dict[str, Any]) -> str:
    """The CSV text of a cohort summary (schema 1.2 or later: its submissions carry
    ``question_scores``). Question columns in the summary's question order; a submission
    that lacks a question (its grading failed before it) has an empty cell there."""
    rows = summary["submissions"]
    columns = [f"{q['exercise']}.{q['question']}" for q in summary["questions"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=QUOTING)
    writer.writerow([*FIXED_COLUMNS, *columns, "errors"])
    for row in rows:
        scores = row.get("question_scores", {})
        percent = 100 * row["score"] / row["max_score"] if row["max_score"] else 0.0
        writer.writerow([inert(row["name"]), fmt_score(row["score"]),
                         fmt_score(row["max_score"]), f"{percent:.2f}",
                         *(fmt_score(scores[c]) if c in scores else "" for c in columns),
                         inert("; ".join(row["errors"]))])
    return out.getvalue()
