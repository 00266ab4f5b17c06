"""``grade``'s live progress: a line per check as it finishes and a spinner on a terminal;
nothing at all where the output is not a terminal (pipes, CI logs)."""

from __future__ import annotations

import re
import time
from io import StringIO

from rich.console import Console

from nlpdojo_autograder.cli import grade as cli
from nlpdojo_autograder.grading.grade import GradeOptions, grade
from nlpdojo_autograder.grading.progress import LiveProgress, running_text


def console(*, terminal: bool) -> Console:
    return Console(file=StringIO(), force_terminal=terminal, width=120, record=True,
                   color_system="standard" if terminal else None)


def graded_with(out: Console, submission) -> object:
    with LiveProgress(out) as live:
        return grade(["toy"], submission=submission, options=GradeOptions(),
                     replay_options={}, listener=live)


def test_a_terminal_gets_a_line_per_check_in_order(toy, make_submission):
    out = console(terminal=True)
    result = graded_with(out, make_submission({"scale": ("return xp.multiply(x, k)",
                                                         "return xp.add(x, k)")}))
    text = out.export_text()
    checks = result.exercises[0].checks
    # run each question's checks together, questions in the topic's order (own_passed)
    place = {q: i for i, q in enumerate(dict.fromkeys(c.question for c in checks))}
    ran = [c.id for c in sorted(checks, key=lambda c: place[c.question])]
    assert ran != [c.id for c in checks]  # (toy's scale.workdir is declared last)
    positions = [text.index(f"toy {cid} ") for cid in ran]
    assert positions == sorted(positions)  # each line printed when its check finished
    assert "✗     0/1  toy scale.values  failed" in text
    assert "\x1b[" in out.file.getvalue()  # colours and cursor moves: a live display


def test_the_spinner_names_the_running_check_and_what_a_metric_trains(toy):
    check = toy.check("quadratic.descent")
    text = running_text("toy", check, 12.4, reference=False).plain
    assert text == ("12 s  toy quadratic.descent  training (20 steps, lr 0.01): gradient "
                    "descent reduces the loss")
    assert "the reference: training" in running_text("toy", check, 0.0, reference=True).plain
    out = console(terminal=True)
    with LiveProgress(out) as live:
        live.started("toy", check)
        time.sleep(0.4)  # a few refreshes of the spinner
    assert "toy quadratic.descent  training (20 steps, lr 0.01)" in out.file.getvalue()


def test_pipes_and_ci_logs_get_no_progress_at_all(toy, make_submission):
    out = console(terminal=False)
    graded_with(out, make_submission())
    assert out.file.getvalue() == ""


def test_force_color_in_a_ci_log_gets_colours_but_no_progress(toy, make_submission,
                                                              monkeypatch):
    """Many CI set-ups export FORCE_COLOR, which makes rich take a log for a terminal: a
    grading's spinner wrote ~450 frames into it (a CI integrator's trial). A live display
    needs a real terminal then; an interactive one still gets it (the tests above)."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = Console(file=StringIO(), width=120, record=True)  # FORCE_COLOR: is_terminal
    assert out.is_terminal
    graded_with(out, make_submission())
    assert out.file.getvalue() == ""


def test_the_grade_command_shows_progress_on_a_terminal_only(toy, make_submission,
                                                             monkeypatch):
    from typer.testing import CliRunner

    folder = make_submission()
    for terminal in (True, False):
        err = console(terminal=terminal)
        monkeypatch.setattr(cli, "err_console", err)
        result = CliRunner().invoke(cli.app, ["toy", "-s", str(folder), "--no-cache"])
        assert result.exit_code == 0, result.output
        assert ("toy scale.values" in err.export_text()) is terminal


def test_a_cohort_on_a_terminal_gets_a_line_per_submission_as_it_ends(toy, make_submission,
                                                                      monkeypatch, tmp_path):
    """``grade --submissions``: each submission's points and name when its grading ends (in
    the order they end, on the pool's threads), and nothing of it off a terminal."""
    from typer.testing import CliRunner

    root = tmp_path / "cohort"
    root.mkdir()
    for name, edits in {"alice": None, "bob": {"scale": ("return xp.multiply(x, k)",
                                                         "return xp.add(x, k)")}}.items():
        make_submission(edits, name=f"subs/{name}").rename(root / name)
    for terminal in (True, False):
        err = console(terminal=terminal)
        monkeypatch.setattr(cli, "err_console", err)
        result = CliRunner().invoke(cli.app, ["toy", "--submissions", str(root), "--jobs", "2",
                                              "-f", "json", "-o", str(tmp_path / f"o{terminal}")])
        assert result.exit_code == 1, result.output  # bob does not reach full marks
        text = err.export_text()
        alice = re.search(r"✓ +7\.5/7\.5  alice", text)
        bob = re.search(r"~ +[0-9.]+/7\.5  bob", text)
        assert (alice is not None and bob is not None) is terminal, text[-2000:]
        assert "Submissions (2)" in text  # the summary table either way
