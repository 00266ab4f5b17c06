"""A cohort survives its submissions (issue 9, item 3): each is graded by a process of its own,
so one that kills its grader (possible where there is no OS sandbox) costs only itself; the
summary is always written; stale files at a result's path are replaced; huge messages are
capped in every report."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
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
    # the killed grader's snapshot, checks and workers' scratch went with its cohort folder
    assert not list(temp.iterdir())


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


# a child of run_child: says its pid, then waits inside a temporary folder of its own
_CHILD = """
import os, sys, tempfile, time
from nlpdojo_autograder.grading.child import end_with_parent
end_with_parent()
with tempfile.TemporaryDirectory(prefix="nlpdojo-child-", dir=sys.argv[1]):
    print(os.getpid(), flush=True)
    time.sleep(120)
"""
# the process that waits for it (a Dask worker, a pool's grade): killed once the child runs
_PARENT = """
import os, signal, subprocess, sys
from nlpdojo_autograder.grading.child import PARENT_ENV
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]],
                         env={**os.environ, PARENT_ENV: str(os.getpid())},
                         stdout=subprocess.PIPE, text=True)
print(child.stdout.readline().strip(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.timeout(120)
def test_a_cohort_child_whose_parent_dies_cleans_up_and_stops(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, _CHILD, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.wait(timeout=60)
    deadline = time.monotonic() + 60
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(child), "the child graded on as an orphan"
    assert not list(tmp_path.glob("nlpdojo-child-*")), "the orphan left its temporary folder"
