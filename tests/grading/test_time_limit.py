"""``grade --time-limit``: a limit on the grading of one submission, for a CI job whose own
limit would otherwise kill the grading before any report is written (the CI integrator's
trial: five checks of one endless function waited 5 x 30 s, and a job killed at its limit left
nothing). The check running when the limit runs out is stopped, the later ones are not run
(``timeout``, 0 points each), every verdict reached before stands, the report is written and
the exit code follows the score. And a grading that the job stops anyway (SIGTERM, or Ctrl-C)
writes the report of what it graded before it exits 143 (130)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app
from tests.grading.courses import edited_course
from tests.grading.test_hostile import make_submission

ROOT = Path(__file__).resolve().parents[2]
GRADE = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "grade"
QUESTIONS = ("word_vectors.softmax", "word_vectors.naive_softmax", "word_vectors.sgd")


def _endless_naive_softmax(root: Path) -> Path:
    """A copy of the word_vectors solutions whose naive_softmax never returns (it sleeps: an
    endless loop burns the core for as long, and the grader stops both alike)."""
    return make_submission(root, module="naive_softmax", body=textwrap.indent(
        "import time\nwhile True:  # never returns\n    time.sleep(0.5)\n", "    "))


@pytest.mark.waits
@pytest.mark.timeout(300)
def test_the_time_limit_stops_a_grading_and_its_report_is_written(tmp_path):
    """A cohort of two (each submission graded by a ``grade`` command of its own, which gets
    the limit): the honest one's full marks; in the endless one softmax's checks run first
    and pass, naive_softmax's first check is stopped when the 12 s run out (its own limit is
    30 s), every later check (sgd's, the hidden ones) is not run, and a warning says how
    many; exit 1 (below full marks), not a killed job."""
    cohort = tmp_path / "cohort"
    _endless_naive_softmax(cohort / "endless")
    edited_course(cohort / "honest", ("word_vectors",))
    out = tmp_path / "reports"
    done = subprocess.run([str(GRADE), *QUESTIONS, "--submissions", str(cohort), "--jobs", "2",
                           "--time-limit", "12", "-f", "json", "-o", str(out)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 1, done.stderr[-2000:]
    honest = json.loads((out / "honest" / "result.json").read_text())
    assert honest["score"] == 12 and not honest["warnings"]
    result = json.loads((out / "endless" / "result.json").read_text())
    checks = {c["id"]: c for e in result["exercises"] for c in e["checks"]}
    assert checks["softmax.values"]["status"] == checks["softmax.stability"]["status"] \
        == "passed"
    stopped = checks["naive_softmax.values"]
    assert stopped["status"] == "timeout" and stopped["score"] == 0
    assert "the grading's time limit (--time-limit 12 s) ran out during this check" \
        in stopped["message"], stopped["message"]
    assert "naive_softmax.py line" in stopped["message"]  # where it was stopped
    # (softmax.hidden runs with softmax's other checks, before naive_softmax's)
    assert checks["softmax.hidden"]["status"] == "passed"
    later = [cid for cid in checks if cid not in (
        "softmax.values", "softmax.stability", "softmax.hidden", "naive_softmax.values")]
    assert {"sgd.update", "naive_softmax.hidden"} <= set(later)
    for cid in later:
        assert checks[cid]["status"] == "timeout" and checks[cid]["score"] == 0
        assert "not run: the grading's time limit (--time-limit 12 s) ran out before this " \
            "check" in checks[cid]["message"], checks[cid]["message"]
    assert result["warnings"] == [
        f"the grading's time limit of 12 s (--time-limit) ran out: {len(later) + 1} checks "
        "stopped or not run, and scored 0; the other verdicts stand"]
    assert result["score"] == 4
    assert result["settings"]["time_limit"]["value"] == 12.0
    assert result["options"]["time_limit"] == 12.0  # what --replay reruns it with
    summary = json.loads((out / "summary.json").read_text())
    assert summary["count"] == 2


def test_no_time_limit_unless_one_is_set(toy, make_submission, tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["toy", "--submission", str(make_submission()),
                                      "-f", "json", "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(out.read_text())
    assert data["settings"]["time_limit"] == {"value": None, "source": "default"}
    assert data["options"]["time_limit"] is None
    assert not any("time limit" in w for w in data["warnings"])
    # a replay runs without one too, as recorded, whatever the environment says now
    monkeypatch.setenv("NLPDOJO_TIME_LIMIT", "3")
    again = tmp_path / "again.json"
    result = CliRunner().invoke(app, ["--replay", str(out), "-f", "json", "-o", str(again)])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(again.read_text())["settings"]["time_limit"] == {
        "value": None, "source": f"replay {out}"}


@pytest.mark.parametrize(("where", "value", "said"), [
    ("flag", "0.5", "Invalid value for '--time-limit'"),
    ("flag", "nan", "--time-limit takes a number of seconds, at least 1 (nan is none"),
    ("flag", "inf", "--time-limit takes a number of seconds, at least 1 (inf is none"),
    ("env", "soon", "NLPDOJO_TIME_LIMIT='soon' must be a number of seconds, at least 1"),
    ("config", "0", "time_limit"),
])
def test_a_time_limit_that_is_not_one_is_refused_before_grading(
        toy, tmp_path, monkeypatch, where, value, said):
    args = ["toy", "--solutions"]
    if where == "flag":
        args += ["--time-limit", value]
    elif where == "env":
        monkeypatch.setenv("NLPDOJO_TIME_LIMIT", value)
    else:
        config = tmp_path / "course.toml"
        config.write_text(f"time_limit = {value}\n")
        args += ["--config", str(config)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert said in result.output, result.output
    if where == "config":
        assert "at least 1" in result.output and str(tmp_path / "course.toml") in result.output


@pytest.mark.timeout(300)
def test_a_grading_stopped_by_sigterm_writes_what_it_graded(tmp_path):
    """SIGTERM (a CI job's limit; twice, 10 ms apart) while naive_softmax's first check waits
    for the endless function: exit 143 as before, and now the report holds softmax's verdicts,
    every other check an error that says the grading was terminated, and a warning that
    counts them."""
    submission = _endless_naive_softmax(tmp_path / "sub")
    out, events = tmp_path / "result.json", tmp_path / "events.jsonl"
    proc = subprocess.Popen([str(GRADE), *QUESTIONS[:2], "--submission", str(submission),
                             "-f", "json", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NLPDOJO_PROGRESS_EVENTS": str(events)})
    try:
        began = time.monotonic()
        while not _started(events, "naive_softmax.values"):  # (its limit: 30 s)
            assert proc.poll() is None and time.monotonic() - began < 120, proc.poll()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.01)  # a second one, as a job's runner may send (it lost the report)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err[-2000:]
    assert "report of the checks graded so far written to" in " ".join(err.split())
    result = json.loads(out.read_text())
    checks = {c["id"]: c for e in result["exercises"] for c in e["checks"]}
    # (softmax.hidden runs with softmax's other checks, before naive_softmax's)
    assert checks["softmax.values"]["status"] == checks["softmax.stability"]["status"] \
        == checks["softmax.hidden"]["status"] == "passed"
    rest = [c for cid, c in checks.items() if not cid.startswith("softmax.")]
    assert len(rest) == 4
    for check in rest:
        assert check["status"] == "error" and check["score"] == 0, check
        assert check["message"] == ("not graded: the grading was terminated (SIGTERM) before "
                                    "this check's verdict"), check["message"]
    assert result["score"] == 4 and result["max_score"] == 10
    assert result["duration_s"] > 0 and len(result["submission_sha256"]) == 64
    assert result["warnings"] == [
        "the grading was terminated (SIGTERM) before it ended: 4 of 7 checks have no verdict "
        "and score 0 here; the verdicts reached before stand"]


@pytest.mark.timeout(300)
def test_sigterm_while_the_grader_runs_the_reference_stops_the_grading(tmp_path):
    """The reference's expected values are computed in the grader's own process: a SIGTERM
    there was taken for the reference calling sys.exit(143), its checks were reported as "the
    reference failed this check", and the grading went on (a right submission 4/8, exit 1; a
    cohort ignored the signal and exited 0). Now it stops: exit 143, and no check has a
    verdict in its report."""
    submission = edited_course(tmp_path / "sub", ("word_vectors",))
    out, events = tmp_path / "result.json", tmp_path / "events.jsonl"
    proc = subprocess.Popen([str(GRADE), "word_vectors.softmax", "word_vectors.training",
                             "--submission", str(submission), "-f", "json", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NLPDOJO_PROGRESS_EVENTS": str(events)})
    try:
        began = time.monotonic()
        while not _started(events, "training.", reference=True):
            assert proc.poll() is None and time.monotonic() - began < 120, proc.poll()
            time.sleep(0.05)
        time.sleep(2.0)  # into the reference's training run (9 s of it alone, AMD EPYC)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err[-2000:]
    result = json.loads(out.read_text())
    checks = [c for e in result["exercises"] for c in e["checks"]]
    assert checks and all(c["message"].startswith("not graded: the grading was terminated")
                          for c in checks), [c["message"] for c in checks]


def _started(events: Path, check_id: str, *, reference: bool = False) -> bool:
    """Whether ``check_id`` (a prefix of one: ``training.``) has started on the submission,
    or on the reference to obtain its expected values (grade's progress events)."""
    try:
        lines = events.read_text().splitlines()
    except FileNotFoundError:
        return False
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:  # (a line being written)
            continue
        if event.get("event") == "started" and str(event.get("id")).startswith(check_id) \
                and bool(event.get("reference")) == reference:
            return True
    return False


@pytest.mark.waits
@pytest.mark.timeout(300)
def test_the_time_limit_bounds_a_module_whose_import_never_ends(tmp_path):
    """A loop at the top level of sgd.py: importing the submission, before any check, took a
    check's own limit (30 s) after an 8 s --time-limit had run out (a trial's 31.6 s for a
    5 s limit). Now the import stops with the limit, and the checks say what took the time."""
    submission = edited_course(tmp_path / "sub", ("word_vectors",), appended={
        "word_vectors/sgd.py": "import time\nwhile True:  # never ends\n    time.sleep(0.5)\n"})
    out = tmp_path / "result.json"
    done = subprocess.run([str(GRADE), *QUESTIONS, "--submission", str(submission),
                           "--time-limit", "8", "-f", "json", "-o", str(out)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 1, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["duration_s"] < 20, result["duration_s"]  # (a check's own limit: 30 s)
    checks = [c for e in result["exercises"] for c in e["checks"]]
    assert checks and all(c["status"] == "timeout" for c in checks)
    assert all(c["message"] == "not run: the grading's time limit (--time-limit 8 s) ran out "
               "before this check (importing sgd took the time: a loop at the top level of a "
               "module?)" for c in checks), checks[0]["message"]
