"""Number, points and metric formatting shared by the reports."""

from __future__ import annotations

import pytest

from nlpdojo_reports.formatting import first_line, fmt_number, fmt_points, metric_text


@pytest.mark.parametrize(
    ("x", "text"),
    [(2.0, "2"), (1.5, "1.5"), (152.3456, "152.3"), (0.000123, "0.000123"), (None, "-"),
     (float("nan"), "nan"), (0, "0")],
)
def test_fmt_number(x, text):
    assert fmt_number(x) == text


def test_fmt_points():
    assert fmt_points(1.5, 2.0) == "1.5/2"


def test_metric_text(make_check):
    assert metric_text(make_check("q.a", "passed", 1, 1)) == ""
    assert metric_text(make_check("q.a", "passed", 1, 1, value=3.25, threshold=4.0)) == (
        "3.25 (threshold 4)")
    assert metric_text(make_check("q.a", "passed", 1, 1, value=3.25)) == "3.25"


def test_first_line():
    assert first_line("\n  \nfirst line here\nsecond") == "first line here"
    assert first_line("") == ""
