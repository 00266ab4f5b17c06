"""A cohort survives its submissions (issue 9, item 3): each is graded by a process of its own,
so one that kills its grader (possible where there is no OS sandbox) costs only itself; the
summary is always written; stale files at a result's path are replaced; huge messages are
capped in every report."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app

SCALE = "    return xp.multiply(x, k)\n"


def _cohort(make_submission, tmp_path, bodies):
    root = tmp_path / "cohort"
    root.mkdir()
    for name, body in bodies.items():
        folder = make_submission({"scale": (SCALE, body)} if body else None, name=name)
        folder.rename(root / name)
    return root


@pytest.mark.timeout(300)
def test_a_submission_that_kills_its_grader_costs_only_itself(toy, make_submission, tmp_path,
                                                              monkeypatch):
    monkeypatch.setenv("NLPDOJO_SANDBOX", "off")  # so that the kill can reach the grader
    killer = ("    import os, signal\n"
              "    os.kill(os.getppid(), signal.SIGKILL)\n"
              "    return xp.multiply(x, k)\n")
    root = _cohort(make_submission, tmp_path, {"alice": None, "mallory": killer, "zoe": None})
    out = tmp_path / "out"
    (out / "zoe").mkdir(parents=True)
    (out / "zoe" / "result.json").write_text('{"forged": true}')  # stale, pre-created
    result = CliRunner().invoke(app, ["toy", "--submissions", str(root), "--jobs", "2",
                                      "-f", "json", "-o", str(out)])
    assert result.exit_code in (1, 2), result.output
    rows = {r["name"]: r for r in json.loads((out / "summary.json").read_text())["submissions"]}
    assert set(rows) == {"alice", "mallory", "zoe"}
    assert rows["alice"]["score"] == rows["zoe"]["score"] == 7.5
    assert rows["mallory"]["score"] < 7.5
    zoe = json.loads((out / "zoe" / "result.json").read_text())
    assert "forged" not in zoe and zoe["score"] == 7.5


@pytest.mark.timeout(300)
def test_huge_messages_are_capped_in_every_cohort_report(toy, make_submission, tmp_path):
    root = _cohort(make_submission, tmp_path,
                   {"alice": None, "bob": "    raise ValueError('y' * 20_000_000)\n"})
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["toy", "--submissions", str(root), "-f", "junit",
                                      "-o", str(out)])
    assert result.exit_code == 1, result.output
    for path in [out / "bob" / "result.json", out / "bob" / "junit.xml", out / "summary.json"]:
        text = path.read_text()
        assert len(text) < 300_000, path
    assert "characters cut" in (out / "bob" / "result.json").read_text()
