"""A check's time limit covers the call-backs it makes (issue 23: a strict verify that failed
on a loaded machine).

A check of a layer built on swapped-in reference code calls that code back wherever the
student's code calls it: the window LM's and RNN LM's layer checks call their swapped-in
layers back at every point their gradient evidence needs, each call-back a round trip from the
worker through the grader to the sandboxed reference process. (An unroll checked by
``sequence_checks`` runs over the grader's stand-in cells in the worker and calls nothing back
per step: the RNN question's checks made 12,033 call-backs before, and timed out under 30 s on
a loaded machine.) Their time grows with the machine's load: on 2 cores, 1.1 ms each at a load
of 6, 3.8 ms at 7 beside other gradings, 7 ms at 8 when the grader still answered them itself.
A verdict must not depend on how busy the grading machine is, so every check's limit must
cover its call-backs at :data:`CALLBACK_BUDGET_S` each. The count is deterministic: this test
counts it for every check but the metric ones (their training runs the student's own code,
under limits of minutes), grading each topic's solutions through the worker.
"""

from __future__ import annotations

import collections
import dataclasses
import shutil
from pathlib import Path

import pytest

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.grading.grade import GradeOptions, Listener, grade_exercise
from nlpdojo_autograder.grading.runner import Limits
from nlpdojo_autograder.runtime import remote
from nlpdojo_autograder.runtime.loader import LIBRARY, load_reference_dir

#: what a call-back may cost before a limit is at risk: above the slowest measured (7 ms, see
#: the module's docstring), so that a limit that covers it holds up to a load of about 15
CALLBACK_BUDGET_S = 0.010


class _Current(Listener):
    """Which check of the submission is running (call-backs are counted for it)."""

    def __init__(self) -> None:
        self.check: str | None = None

    def started(self, topic, check, *, reference: bool = False) -> None:
        if not reference:
            self.check = check.id


def call_backs(topic: str, root: Path, monkeypatch) -> tuple[dict[str, int], dict]:
    """``({check id: call-backs}, {check id: result})`` of grading ``topic``'s solutions
    (copied with the course library) through the worker, metric checks left out. The limits
    are stretched tenfold, so that a busy machine cannot cut a check short of its count."""
    exercise = get_registry().get("exercise", topic)
    exercise = dataclasses.replace(exercise, checks=[c for c in exercise.checks
                                                     if c.kind != "metric"])
    source = load_reference_dir(exercise.reference_package)
    shutil.copytree(source, root / topic, ignore=shutil.ignore_patterns("__pycache__"))
    library = source.parent / LIBRARY
    if library.is_dir() and library != source:
        shutil.copytree(library, root / LIBRARY, ignore=shutil.ignore_patterns("__pycache__"))
    current, counts = _Current(), collections.Counter()
    answer = remote.RemoteSubject._answer_reference

    def counted(self, request, deadline):
        counts[current.check] += 1
        return answer(self, request, deadline)

    monkeypatch.setattr(remote.RemoteSubject, "_answer_reference", counted)
    result = grade_exercise(exercise, root / topic, GradeOptions(limits=Limits(
        timeout_scale=10)), listener=current)
    return dict(counts), {c.id: c for c in result.checks}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("topic", ["word_vectors", "neural_networks", "language_models",
                                   "rnn_variants"])
def test_every_checks_time_limit_covers_its_call_backs(topic, tmp_path, monkeypatch):
    counts, results = call_backs(topic, tmp_path, monkeypatch)
    lost = {k: f"{r.status}: {r.message[:200]}" for k, r in results.items()
            if r.score < r.max_score}
    assert not lost, lost  # the solutions: every check ran to its end, every call-back counted
    assert sum(counts.values()) > 0  # every topic swaps references in somewhere
    exercise = get_registry().get("exercise", topic)
    short = [f"{check_id}: {n:,} call-backs need {n * CALLBACK_BUDGET_S:.1f} s; its limit is "
             f"{exercise.check(check_id).timeout_s:.0f} s"
             for check_id, n in sorted(counts.items(), key=lambda kv: -kv[1])
             if n * CALLBACK_BUDGET_S > exercise.check(check_id).timeout_s]
    assert not short, "\n".join(short)
