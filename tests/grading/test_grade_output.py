"""What ``grade`` prints (issue 62, item 11; issue 64): a summary by default, ``-v`` every
check, ``-q`` the total line alone; the result's warnings once, wherever the table goes."""

from __future__ import annotations

from typer.testing import CliRunner

from nlpdojo_autograder.cli import grade as grade_cli

runner = CliRunner()


def grade(*args: str):
    return runner.invoke(grade_cli.app, list(args), catch_exceptions=False)


def test_quiet_summary_and_verbose_tables(toy, make_submission):
    summary = grade("toy", "--solutions")
    verbose = grade("toy", "--solutions", "-v")
    quiet = grade("toy", "--solutions", "-q")
    assert summary.exit_code == verbose.exit_code == quiet.exit_code
    # every question solved: a row each, "N checks passed"; -v a row per check
    assert "checks passed" in summary.output, summary.output
    assert "checks passed" not in verbose.output, verbose.output
    assert len(verbose.output.splitlines()) > len(summary.output.splitlines())
    assert quiet.output.lstrip().startswith("Total: ") and "┃" not in quiet.output
    # what failed is shown check by check in the summary too
    stubs = grade("toy", "--submission", str(make_submission(stub=True)))
    assert stubs.exit_code == 1 and "not implemented" in stubs.output
    both = runner.invoke(grade_cli.app, ["toy", "--solutions", "-q", "-v"])
    assert both.exit_code == 2 and "opposite" in both.output


def test_warnings_are_said_once_where_stdout_and_stderr_are_one(monkeypatch, tmp_path):
    """A table piped to the place stderr goes (``2>&1``, a log) said each warning twice."""
    monkeypatch.setattr(grade_cli, "_same_destination", lambda: True)
    assert not grade_cli._warnings_unseen("table", None)
    assert grade_cli._warnings_unseen("json", None)  # no table there: stderr says them
    monkeypatch.setattr(grade_cli, "_same_destination", lambda: False)
    assert grade_cli._warnings_unseen("table", None) == (not grade_cli.console.is_terminal)
    # a report written to a file: the table goes to stderr, warnings with it
    assert not grade_cli._warnings_unseen("json", tmp_path / "r.json")
