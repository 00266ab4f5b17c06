"""Feedback a student release gives once and in the student's terms (issue 62, item 11):
given code compared as code (a blank line left at the end of a notebook's cell is no edit),
a notebook's "write it first" advice naming the notebook's commands, not ``grade`` of the
.py files."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import numpy as np

from nlpdojo_autograder.authoring.context import Context
from nlpdojo_autograder.grading.given import edited_given, given_digests, normalised
from nlpdojo_autograder.grading.grade import get_exercise, waiting_warning
from nlpdojo_autograder.grading.results import CheckResult, ExerciseResult, GradingResult
from nlpdojo_autograder.release.notebook_feedback import locate, notebook_advice
from nlpdojo_autograder.release.notebooks import NotebookLayout

ROOT = Path(__file__).resolve().parents[2]


def test_given_code_is_compared_without_trailing_whitespace(tmp_path):
    """A notebook's given-code cell with a trailing newline (or a line's trailing spaces)
    was "your copy differs ... restore the released file"; an edit of the code still is."""
    exercise = get_exercise("rnn_variants")
    folder = tmp_path / "rnn_variants"
    shutil.copytree(ROOT / "exercises" / "rnn_variants", folder)
    given = folder / "lm_training.py"
    text = given.read_text()
    assert edited_given(exercise, folder) == []
    given.write_text(text.replace("\n", "   \n", 3) + "\n\n")  # whitespace only
    assert edited_given(exercise, folder) == []
    assert given_digests(exercise, folder) == given_digests(exercise, ROOT / "exercises"
                                                            / "rnn_variants")
    given.write_text(text.replace("def ", "def  ", 1))  # still whitespace, inside a line: code
    assert edited_given(exercise, folder) == ["lm_training.py"]
    assert normalised(b"a \r\nb\n\n") == normalised(b"a\nb") == b"a\nb\n"


def _waiting(stub: str) -> GradingResult:
    check = CheckResult(id="lstm_lm.values", question="lstm_lm", kind="value", score=0.0,
                        max_score=1.0, status="not_implemented", message="...",
                        details={"waits_for": stub})
    exercise = ExerciseResult(name="rnn_variants", title="t", checks=[check])
    return GradingResult(exercises=[exercise], backend="numpy", device="cpu", submission="s",
                         seeds={}, versions={}, options={},
                         warnings=waiting_warning([exercise]))


def test_a_notebooks_waiting_advice_names_the_notebooks_commands():
    """"wait for your X ... (`grade X` shows what is left)" graded the .py files, which a
    student working in the notebook never wrote: in a notebook's grading it names ``check``
    and the notebook's ``grade --submission``."""
    layout = NotebookLayout(modules={}, elsewhere={})
    same = locate(_waiting("rnn_variants.lstm_cell"), layout, "rnn_variants.ipynb")
    (line,) = same.warnings
    assert "`grade rnn_variants.lstm_cell` shows" not in line
    assert ('(`check("lstm_cell")` in the notebook, or `grade rnn_variants.lstm_cell '
            '--submission rnn_variants.ipynb`, shows what is left)') in line
    other = locate(_waiting("neural_networks.xavier"), layout, "rnn_variants.ipynb")
    assert notebook_advice("neural_networks.xavier", "rnn_variants", "x.ipynb") in \
        other.warnings[0]
    assert 'check("xavier")` in the neural_networks notebook' in other.warnings[0]
    # a folder's grading keeps the command on its files
    (plain,) = _waiting("rnn_variants.lstm_cell").warnings
    assert "(`grade rnn_variants.lstm_cell` shows what is left)" in plain


def test_a_loops_named_mistakes_without_torch_are_said_once(monkeypatch):
    """The training loops' mistakes are told by torch oracles (rnn_variants' clipped windows,
    language_models' truncated BPTT); without torch (a student release) they were skipped in
    silence: the outputs now carry the mark the grading's one warning counts."""
    import builtins

    from nlpdojo_autograder.authoring.compare import MISTAKES_NEED_TORCH
    from nlpdojo_autograder.training import (
        loop_draws,
        name_the_loop_mistake,
        truncated_bptt_losses,
    )
    from nlpdojo_autograder.training.loop_runs import LOOP
    from nlpdojo_course.language_models import rnn
    from nlpdojo_course.rnn_variants import language_model as lm

    train, _, init = loop_draws(np.random.default_rng(0), "lstm")
    settings = {**LOOP, "lr": 0.5, "clip": 0.15}
    right = truncated_bptt_losses(train, init, cell="lstm", **settings)
    ctx = Context(subject=None, backend=None, seed=0, workdir=None)  # nothing known: computed

    def gated(**settings):
        return name_the_loop_mistake(ctx, "sgd", right, functools.partial(
            truncated_bptt_losses, cell="lstm"), train, init, lm.MISTAKES, cell="lstm",
            what="losses", **settings)

    beside = gated(**settings)
    # with torch: the oracle's losses beside the outputs (for a submission's grading to reuse)
    assert beside and MISTAKES_NEED_TORCH not in beside
    assert all(key.startswith("mistake|sgd|") for key in beside), sorted(beside)
    real = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError("no torch here", name="torch")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    assert set(gated(**settings)) == {MISTAKES_NEED_TORCH}
    assert set(name_the_loop_mistake(ctx, "sgd", right, functools.partial(
        truncated_bptt_losses, cell="rnn"), train, init, rnn.BPTT_MISTAKES, cell="rnn",
        what="losses", batch_size=3, bptt=4, lr=0.5, epochs=2)) == {MISTAKES_NEED_TORCH}
