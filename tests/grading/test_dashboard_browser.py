"""The cohort dashboard in a real headless browser (issue 14, item 3): a small cohort of the
reference with planted bugs is graded by ``grade softmax naive_softmax --submissions DIR
--format html``; Debian's Chromium (installed by ``make test``'s set-up) renders the page;
the numbers in the rendered DOM equal summary.json's; a screenshot is not blank; ``dojo report``
writes the same page from the summary alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app
from tests._html import Fields, chromium, find_chromium

SOLUTION = Path(__file__).parents[2] / "solutions" / "word_vectors"
GRAD_OUT = "grad_outside_vectors = delta[:, None] * center_vec[None, :]"
BUGS = {  # submission -> its naive_softmax.py's gradient of the outside vectors
    "alice": None,
    "bob": "grad_outside_vectors = (delta[:, None] * center_vec[None, :]).T",
    "carol": "grad_outside_vectors = 2 * delta[:, None] * center_vec[None, :]",
    "dave": "grad_outside_vectors = (delta[:, None] * center_vec[None, :]).T",
}

BROWSER = find_chromium()
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="Chromium is not installed: `make test` installs it with apt where "
    "it runs as root (apt-get install chromium); elsewhere install it to run the dashboard's "
    "browser test")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The cohort graded once for the module: (output folder, summary)."""
    root = tmp_path_factory.mktemp("cohort")
    subs = root / "submissions"
    for name, line in BUGS.items():
        topic = subs / name / "word_vectors"
        shutil.copytree(SOLUTION, topic, ignore=shutil.ignore_patterns("__pycache__"))
        if line:
            module = topic / "naive_softmax.py"
            text = module.read_text()
            assert GRAD_OUT in text
            module.write_text(text.replace(GRAD_OUT, line))
    out = root / "out"
    result = CliRunner().invoke(app, ["softmax", "naive_softmax", "--submissions", str(subs),
                                      "--jobs", "2", "--format", "html", "--output", str(out)])
    assert result.exit_code == 1, result.output  # three submissions lose points
    assert "cohort dashboard written to" in result.output
    return out, json.loads((out / "summary.json").read_text())


def test_the_cohort_clusters_the_planted_bugs(graded):
    _, summary = graded
    top = summary["failure_clusters"][0]
    assert (top["question"], top["kind"], top["submissions"]) == (
        "naive_softmax", "transposed", ["bob", "dave"])
    assert "naive_softmax.gradient" in top["checks"]
    factor = [c for c in summary["failure_clusters"] if c["kind"] == "factor"]
    assert [c["submissions"] for c in factor] == [["carol"]]


@needs_browser
def test_the_dashboard_renders_with_the_summary_numbers(graded, tmp_path):
    out, summary = graded
    page = out / "dashboard.html"
    proc = chromium(BROWSER, page, tmp_path / "profile", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<svg" in proc.stdout, "the rendered DOM has no histogram"
    dom = Fields()
    dom.feed(proc.stdout)
    fields = dom.fields
    assert int(fields[("count", "")]) == summary["count"] == 4
    for key in ("mean", "median", "min", "max", "max_score"):
        assert float(fields[(key, "")]) == pytest.approx(summary["score"][key], abs=5e-4)
    for q in summary["questions"]:
        scope = f"{q['exercise']}.{q['question']}"
        assert fields[("pass_rate", scope)] == f"{100 * q['pass_rate']:.1f}%"
        assert (int(fields[("passed", scope)]), int(fields[("graded", scope)])) == (
            q["passed"], q["graded"])
        assert float(fields[("mean_score", scope)]) == pytest.approx(q["mean_score"], abs=5e-4)
    for i, c in enumerate(summary["failure_clusters"]):
        assert int(fields[("count", str(i))]) == c["count"]
        assert fields[("submissions", str(i))] == ", ".join(c["submissions"])
    for row in summary["submissions"]:
        assert float(fields[("score", row["name"])]) == pytest.approx(row["score"], abs=5e-4)
    # every submission links to its result, which exists beside the page
    for row in summary["submissions"]:
        assert f"{row['name']}/result.json" in dom.urls
        assert (out / row["name"] / "result.json").is_file()


@needs_browser
def test_a_screenshot_of_the_dashboard_is_not_blank(graded, tmp_path):
    out, _ = graded
    shot = tmp_path / "dashboard.png"
    proc = chromium(BROWSER, out / "dashboard.html", tmp_path / "profile",
                    f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        assert rgb.size[0] >= 800
        colours = rgb.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 10, "the screenshot is blank"
    # the histogram's bars are drawn: their blue is on the page
    assert colours is None or any(
        abs(r - 0x3F) < 8 and abs(g - 0x7C) < 8 and abs(b - 0xAC) < 8 for _, (r, g, b) in colours)


@needs_browser
def test_dojo_report_writes_the_same_page_from_the_summary(graded, tmp_path):
    from nlpdojo.cli.app import build_app

    out, summary = graded
    target = tmp_path / "elsewhere" / "page.html"
    result = CliRunner().invoke(build_app(), ["report", str(out / "summary.json"),
                                              "-o", str(target)])
    assert result.exit_code == 0, result.output
    proc = chromium(BROWSER, target, tmp_path / "profile", "--dump-dom")
    dom = Fields()
    dom.feed(proc.stdout)
    assert int(dom.fields[("count", "")]) == summary["count"]
    # links are relative to the page, and lead to the results
    for url in dom.urls:
        assert (target.parent / url).resolve().is_file(), url


def test_dojo_report_refuses_what_is_not_a_summary(graded, tmp_path):
    from nlpdojo.cli.app import build_app

    out, _ = graded
    result = CliRunner().invoke(build_app(), ["report", str(out / "alice" / "result.json")])
    assert result.exit_code == 2
    assert "is not a cohort summary" in result.output
    result = CliRunner().invoke(build_app(), ["report", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "no such file" in result.output
    result = CliRunner().invoke(build_app(), ["report", str(out / "grades.csv")])
    assert result.exit_code == 2, result.output
    assert "grades.csv is not a JSON file" in result.output.replace("\n", "")
    assert "give the summary.json that grade --submissions wrote" in " ".join(
        result.output.split())


def test_format_html_needs_a_cohort(tmp_path):
    result = CliRunner().invoke(app, ["softmax", "--format", "html", "--submission",
                                      str(tmp_path)])
    assert result.exit_code == 2
    assert "--format html is the cohort dashboard" in result.output
