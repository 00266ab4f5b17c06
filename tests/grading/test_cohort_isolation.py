"""A cohort survives its submissions (issue 9, item 3): each is graded by a process of its own,
so one that kills its grader (possible where there is no OS sandbox) costs only itself; the
summary is always written; stale files at a result's path are replaced; huge messages are
capped in every report."""

from __future__ import annotations

import json
import os
import signal
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


# a child of run_child: says its pid, then waits inside a temporary folder of its own;
# argv[2] "lost": the kernel's parent-death signal is taken back (as if it went to another
# thread of a process blocked in a system call), so that only the watchdog can stop it
_CHILD = """
import os, sys, tempfile, time
from nlpdojo_autograder.grading.child import end_with_parent
from nlpdojo_autograder.runtime.lifetime import on_parent_death
end_with_parent(poll_s=0.1)
if sys.argv[2] == "lost":
    on_parent_death(0)
with tempfile.TemporaryDirectory(prefix="nlpdojo-child-", dir=sys.argv[1]):
    print(os.getpid(), flush=True)
    time.sleep(120)
"""
# the process that waits for it (a Dask worker, a pool's grade): killed once the child runs;
# argv[4] "blocked": it starts the child with SIGTERM blocked (a mask the child inherits)
_PARENT = """
import os, signal, subprocess, sys
from nlpdojo_autograder.grading.child import PARENT_ENV
if sys.argv[4] == "blocked":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2], sys.argv[3]],
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


def _described(pid: int) -> str:
    """What /proc says of a process that should have stopped: its command, state, parent,
    threads and signal masks (for a failure to say why)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:200]
        fields = [line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if line.startswith(("State", "PPid", "Threads", "Sig", "ShdPnd"))]
    except OSError as exc:
        return f"gone ({exc})"
    return f"{command.decode(errors='replace')}; " + "; ".join(fields)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", ["signal", "lost", "blocked"])
def test_a_cohort_child_whose_parent_dies_cleans_up_and_stops(tmp_path, case):
    """By the kernel's parent-death signal; by the watchdog where that signal is lost; and
    with SIGTERM blocked by the process that started it."""
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, _CHILD, str(tmp_path),
                               "lost" if case == "lost" else "kept",
                               "blocked" if case == "blocked" else "open"],
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.wait(timeout=60)
    deadline = time.monotonic() + 60
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(child), f"the child graded on as an orphan: {_described(child)}"
    assert not list(tmp_path.glob("nlpdojo-child-*")), "the orphan left its temporary folder"


@pytest.mark.parametrize("code", [2, 3])
def test_a_childs_internal_error_is_the_cohorts_too(tmp_path, monkeypatch, code):
    """A submission whose grading ended in the grader's internal error (exit 3) made the cohort
    exit 2, as for a submission that could not be graded (an operator's finding)."""
    from nlpdojo_autograder.grading import child

    (tmp_path / "fake_grade.py").write_text(
        f"import sys\nprint('error: it failed', file=sys.stderr)\nsys.exit({code})\n")
    monkeypatch.setattr(child, "GRADE_MODULE", "fake_grade")
    with pytest.raises(child.ChildGradingError, match="it failed") as failed:
        child.run_child(tmp_path, [], {"PYTHONPATH": str(tmp_path)}, 60.0)
    assert failed.value.exit_code == code


@pytest.mark.timeout(300)
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_cohort_stops_now_and_keeps_nothing_half_done(toy, make_submission,
                                                                     tmp_path, how):
    """The TA's trial: Ctrl-C (and SIGTERM) of ``grade --submissions`` graded and recorded every
    queued submission before saying "interrupted" (the pool's exit waited for them all; the
    children run in sessions of their own, which the terminal's Ctrl-C never reaches). It
    stops now: the running child killed, the queue dropped, nothing of either written, and
    it says what ``--resume`` does."""
    # every submission's scale check sleeps: one at a time (-j 1), a minute each
    root = _cohort(make_submission, tmp_path, {
        name: "    import time\n    time.sleep(60)\n    return xp.multiply(x, k)\n"
        for name in ("ann", "bob", "cat", "dan")})
    out, temp = tmp_path / "out", tmp_path / "temp"
    temp.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nlpdojo_autograder.cli.grade", "toy.scale", "--submissions",
         str(root), "-j", "1", "-o", str(out), "--seed", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TMPDIR": str(temp)},
        # as a terminal starts it: a pytest-xdist worker ignores SIGINT, and an ignored
        # signal stays ignored across exec (Python then installs no Ctrl-C handler)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list(temp.glob("nlpdojo-cohort-*")) and time.monotonic() < deadline:
        time.sleep(0.1)  # the first child runs
    assert list(temp.glob("nlpdojo-cohort-*")), "no child started"
    time.sleep(1.0)
    began = time.monotonic()
    proc.send_signal(how)
    _, err = proc.communicate(timeout=60)
    said = " ".join(err.split())
    assert time.monotonic() - began < 30, said  # not the queue's four minutes
    assert proc.returncode in (130, 143, -how), (proc.returncode, said)
    assert "interrupted: 0 of 4 submissions graded" in said and "--resume" in said, said
    assert not any((out / name / "result.json").exists() for name in ("ann", "bob", "cat",
                                                                      "dan"))
    deadline = time.monotonic() + 10
    while list(temp.glob("nlpdojo-cohort-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(temp.glob("nlpdojo-cohort-*")), "a child's folder was left behind"
