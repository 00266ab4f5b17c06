"""``dojo report --compare OLD NEW`` (issue 63, item 6): two cohort summaries side by side,
per submission the points before and after, the checks whose verdict changed and the new
message, as a table or JSON; the failure paths say what to give."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult
from nlpdojo_reports.cohort import summarize


def _result(name: str, verdicts: dict[str, tuple[str, float, str]]) -> GradingResult:
    checks = [CheckResult(id=cid, question=cid.split(".")[0], kind="value", score=score,
                          max_score=2.0, status=status, message=message)
              for cid, (status, score, message) in verdicts.items()]
    return GradingResult(exercises=[ExerciseResult("word_vectors", "Word vectors", checks)],
                         backend="numpy", device="cpu", submission=name, seeds={},
                         versions={}, options={})


def _cohort(root: Path, results: dict[str, GradingResult], *, beside: bool = True) -> Path:
    root.mkdir()
    for name, result in results.items():
        if beside:
            (root / name).mkdir()
            (root / name / "result.json").write_text(result.to_json())
    path = root / "summary.json"
    path.write_text(json.dumps(summarize(results)))
    return path


OK = ("passed", 2.0, "matches")
OLD = {
    "ada": _result("ada", {"softmax.values": OK, "softmax.gradient": ("failed", 0.0, "off")}),
    "bob": _result("bob", {"softmax.values": OK, "softmax.gradient": OK}),
    "cy": _result("cy", {"softmax.values": OK, "softmax.gradient": OK}),
}
NEW = {
    "ada": _result("ada", {"softmax.values": OK, "softmax.gradient": OK}),
    "bob": _result("bob", {"softmax.values": ("failed", 0.0, "yours is transposed"),
                           "softmax.gradient": OK}),
    "cy": _result("cy", {"softmax.values": OK, "softmax.gradient": OK}),
    "dee": _result("dee", {"softmax.values": OK, "softmax.gradient": OK}),
}


def _dojo(*args: str):
    return CliRunner().invoke(build_app(), list(args))


def test_json_names_each_change_with_the_new_message(tmp_path):
    old, new = _cohort(tmp_path / "old", OLD), _cohort(tmp_path / "new", NEW)
    result = _dojo("report", "--compare", str(old), str(new), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["count"], data["changed"], data["gained"], data["lost"]) == (4, 3, 1, 1)
    rows = {r["name"]: r for r in data["submissions"]}
    assert rows["ada"]["before"]["score"] == 2 and rows["ada"]["after"]["score"] == 4
    assert rows["ada"]["delta"] == 2
    (ada,) = rows["ada"]["checks"]
    assert (ada["id"], ada["status_before"], ada["status_after"]) == (
        "softmax.gradient", "failed", "passed")
    (bob,) = rows["bob"]["checks"]
    assert bob["message"] == "yours is transposed" and bob["points_after"] == 0
    assert rows["bob"]["delta"] == -2
    assert rows["cy"]["checks"] == [] and rows["cy"]["delta"] == 0
    assert rows["dee"]["before"] is None and rows["dee"]["delta"] is None


def test_the_table_lists_what_changed_only(tmp_path):
    old, new = _cohort(tmp_path / "old", OLD), _cohort(tmp_path / "new", NEW)
    result = _dojo("report", "--compare", str(old), str(new))
    assert result.exit_code == 0, result.output
    out = result.stdout
    # every changed one in a part of the line (the third: graded in the new grading only)
    assert "3 of 4 changed: 1 gained, 1 lost, 1 graded in one of the two only" in out
    assert "yours is transposed" in out and "+2" in out
    assert "only in the new grading" in out
    assert "cy" not in out.split("Points before and after")[1]
    every = _dojo("report", "--compare", str(old), str(new), "--all").stdout
    assert "cy" in every.split("Points before and after")[1]


def test_without_the_results_beside_it_compares_question_points(tmp_path):
    old = _cohort(tmp_path / "old", OLD, beside=False)
    new = _cohort(tmp_path / "new", NEW)
    out = tmp_path / "cmp.json"
    result = _dojo("report", "--compare", str(old), str(new), "-f", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(out.read_text())["submissions"]}
    assert rows["ada"]["checks_known"] is False and rows["ada"]["checks"] == []
    assert rows["ada"]["questions"] == [{"question": "word_vectors.softmax",
                                         "points_before": 2.0, "points_after": 4.0}]


def test_bad_inputs_say_what_to_give(tmp_path):
    old = _cohort(tmp_path / "old", OLD)
    result = _dojo("report", "--compare", str(old), str(tmp_path / "nope.json"))
    assert result.exit_code != 0 and "no such file" in result.output
    result = _dojo("report", "--compare", str(old), str(old.parent / "ada" / "result.json"))
    assert result.exit_code != 0 and "is not a cohort summary" in result.output
    result = _dojo("report", str(old), "--compare", str(old), str(old))
    assert result.exit_code != 0 and "leave out" in result.output
    result = _dojo("report", str(old), "--format", "json")
    assert result.exit_code != 0 and "go with --compare" in result.output
    result = _dojo("report")
    assert result.exit_code != 0 and "--compare OLD NEW" in result.output


def test_a_question_added_to_the_grading_is_judged_by_the_share_of_the_points(tmp_path):
    """A regrade with a question added: 4/4 became 5/6 (+1 point) and the headline counted
    it among those that gained, while its course points fell; the share of the points
    possible decides where the points possible changed."""
    more = {"softmax.values": OK, "softmax.gradient": OK, "sgd.values": ("failed", 1.0, "off")}
    old = _cohort(tmp_path / "old", {"ada": OLD["bob"], "bo": OLD["ada"]})
    new = _cohort(tmp_path / "new", {"ada": _result("ada", more),
                                     "bo": _result("bo", {**more, "sgd.values": OK})})
    data = json.loads(_dojo("report", "--compare", str(old), str(new), "-f", "json").stdout)
    rows = {r["name"]: r for r in data["submissions"]}
    assert (rows["ada"]["delta"], rows["bo"]["delta"]) == (1, 4)  # points, as they were
    assert (data["changed"], data["gained"], data["lost"]) == (2, 1, 1)


def test_a_results_folder_stands_for_its_summary(tmp_path):
    """`dojo report DIR-results` said "[Errno 21] Is a directory"; the folder's summary.json
    is meant, for the dashboard and --compare; a folder without one is said so."""
    old, new = _cohort(tmp_path / "old", OLD), _cohort(tmp_path / "new", NEW)
    result = _dojo("report", "--compare", str(old.parent), str(new.parent), "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changed"] == 3
    page = _dojo("report", str(new.parent))
    assert page.exit_code == 0, page.output
    assert (new.parent / "dashboard.html").is_file()
    (tmp_path / "empty").mkdir()
    empty = _dojo("report", str(tmp_path / "empty"))
    assert empty.exit_code == 2 and "is a folder without a summary.json" in empty.output
    assert "Errno" not in empty.output


def test_the_counts_say_where_points_possible_changed_and_nothing_is_a_table_of_nothing():
    """An instructor's trial: a question added to an assignment, every submission +6 of 6 more
    points possible: "9 of 9 changed: 2 gained points, 0 lost points", the other 7 in no part
    of the line; and a regrade that changed nothing printed an empty table."""
    from nlpdojo_reports.comparison import render_comparison, summarize_rows

    def row(name, before, after):
        return {"name": name, "before": {"score": before[0], "max_score": before[1]},
                "after": {"score": after[0], "max_score": after[1]},
                "delta": after[0] - before[0], "checks": [], "questions": [],
                "checks_known": True}

    rows = [row("ann", (4, 4), (10, 10)), row("bo", (2, 4), (8, 10)), row("cy", (2, 4),
                                                                          (5, 10))]
    text = " ".join(render_comparison(summarize_rows(rows)).split())
    assert ("3 of 3 changed: 1 gained, 0 lost, 2 kept their share of the points possible, "
            "which changed (by the share of the points possible where those changed)") in text
    same = [row("ann", (4, 4), (4, 4))]
    text = render_comparison(summarize_rows(same))
    assert "0 of 1 changed: 0 gained, 0 lost" in text and "Points before and after" not in text
