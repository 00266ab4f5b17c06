"""The cohort dashboard's HTML, without a browser: self-contained, escaped, its numbers those of
the summary. (tests/grading/test_dashboard_browser.py renders it in Chromium.)"""

from __future__ import annotations

import re

import pytest

from nlpdojo_reports.cohort import summarize
from nlpdojo_reports.dashboard import histogram, render_dashboard
from nlpdojo_reports.formatting import fmt_score
from tests._html import Fields
from tests.reports.test_clusters import _check, _result, doubled, transposed


def _summary():
    return summarize({
        "ada": _result(transposed("5, 10", "10, 5")),
        "bo<script>alert(1)</script>": _result(transposed("3, 8", "8, 3")),
        "cy": _result(doubled("4, 4", "-2.65304", "-1.32652")),
        "di": _result([_check("softmax.values", "passed", "ok"),
                       _check("naive_softmax.values", "passed", "ok")]),
    })


def test_histogram_bins_cover_zero_to_full_marks():
    assert histogram([0, 0.5, 9.99, 10, 10], 10, bins=10) == [2, 0, 0, 0, 0, 0, 0, 0, 0, 3]
    assert histogram([], 10, bins=4) == [0, 0, 0, 0]
    assert histogram([0, 0], 0, bins=2) == [0, 2]


def test_the_page_holds_the_summary_numbers_and_nothing_external():
    summary = _summary()
    page = render_dashboard(summary)
    parsed = Fields()
    parsed.feed(page)
    assert parsed.fields[("count", "")] == "4"
    # points as the terminal writes them, to 3 decimals (the TA's trial: 3.54546 here, 3.545
    # in the table)
    assert parsed.fields[("mean", "")] == fmt_score(summary["score"]["mean"])
    assert float(parsed.fields[("mean", "")]) == pytest.approx(summary["score"]["mean"],
                                                               abs=5e-4)
    for q in summary["questions"]:
        key = f"{q['exercise']}.{q['question']}"
        assert parsed.fields[("pass_rate", key)] == f"{100 * q['pass_rate']:.1f}%"
        assert int(parsed.fields[("passed", key)]) == q["passed"]
    for i, c in enumerate(summary["failure_clusters"]):
        assert int(parsed.fields[("count", str(i))]) == c["count"]
    for row in summary["submissions"]:
        assert float(parsed.fields[("score", row["name"])]) == row["score"]
    # self-contained: no script, no external URL; only links to the results
    assert "script" not in parsed.tags
    assert all(not re.match(r"^[a-z]+://", url) for url in parsed.urls), parsed.urls
    assert "ada/result.json" in parsed.urls
    assert sum(int(n) for n in re.findall(r'data-count="(\d+)"', page)) == 4


def test_submitted_text_is_escaped():
    page = render_dashboard(_summary())
    assert "<script>" not in page
    assert "bo&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_failures_bidirectional_formatting_is_shown_as_escapes():
    """An adversarial trial: a right-to-left override in a failure's message reached the
    dashboard as it was, reordering what the instructor read."""
    summary = summarize({"ada": _result([_check("softmax.values", "failed",
                                                "got \u202eon\u202c yes")])})
    page = render_dashboard(summary)
    assert "\u202e" not in page and "\\u202eon\\u202c" in page


def test_an_empty_cohort_and_custom_links():
    summary = summarize({"ada": _result([_check("softmax.values", "passed", "ok")])})
    page = render_dashboard(summary, result_links={})
    assert "No check failed." in page and "href" not in page


def test_names_link_to_their_folders_and_show_their_normal_form():
    """A folder name with '#' or '%' is a path in the link (percent-encoded), and a name in
    decomposed form shows its combining mark, so two 'José' folders are told apart."""
    summary = summarize({"a#1 50%": _result([_check("softmax.values", "passed", "ok")]),
                         "Jose\u0301": _result(transposed("5, 10", "10, 5")),
                         "Jos\u00e9": _result(transposed("5, 10", "10, 5"))})
    parsed = Fields()
    parsed.feed(render_dashboard(summary))
    assert "a%231%2050%25/result.json" in parsed.urls
    assert "Jose%CC%81/result.json" in parsed.urls and "Jos%C3%A9/result.json" in parsed.urls
    page = render_dashboard(summary)
    assert ">Jose\\u0301</a>" in page and ">Jos\u00e9</a>" in page
    assert "Jos\u00e9, Jose\\u0301" in page or "Jose\\u0301, Jos\u00e9" in page  # who failed
    for row in summary["submissions"]:  # each row's number under its own (raw) name
        assert float(parsed.fields[("score", row["name"])]) == row["score"]
