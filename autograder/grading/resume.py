"""Resuming a cohort: ``grade --submissions DIR --resume`` grades only what an earlier run of
the same cohort left ungraded.

A cohort of a few hundred submissions grades for hours; a run stopped half-way (a machine
restarted, a Dask scheduler lost, Ctrl-C) need not grade the first half again. After a
submission's reports are written, the cohort leaves beside them a mark (:data:`MARK_NAME`)
holding what decided that grading: the child's command line (less the input seed), the
grader's fingerprint (its source and the versions it runs on:
:func:`~.gradecache.grader_fingerprint`), the submission's content hash and the input seed. A
resumed run reuses a submission's ``result.json`` only where its mark matches all four now, so a
submission edited since, a check changed since, other options or another seed are graded
again; a submission whose grading failed is never marked, so it is graded again too.

The input seed: a submission kept keeps the seed it was graded on; what a resumed run grades
(new, changed, never graded) gets the run's own, a fresh draw where the reference is present.
Never an earlier run's: that seed is in the results its students were given (``seeds.inputs``),
from which the inputs of every check follow, so work submitted after it could answer them from
a table (a trial's resumed cohort gave a lookup table 4 of 4 on softmax, 0 graded afresh).
``--seed`` grades everything on the seed it names, and keeps only results graded on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpdojo_autograder.grading.gradecache import grader_fingerprint
from nlpdojo_autograder.grading.results import GradingResult
from nlpdojo_autograder.grading.snapshot import SubmissionError, content_hash

#: the mark a cohort leaves in a submission's report folder once its reports are written
MARK_NAME = ".nlpdojo-graded.json"
MARK_VERSION = 1


@dataclass(frozen=True)
class GradingKey:
    """What decides a cohort's grading of any submission, the input seed apart."""

    argv: tuple[str, ...]
    grader: str

    @classmethod
    def of(cls, argv: list[str], backend: str) -> GradingKey:
        kept, skip = [], False
        for arg in argv:  # the input seed is compared on its own
            if skip:
                skip = False
            elif arg == "--seed":
                skip = True
            else:
                kept.append(arg)
        return cls(tuple(kept), grader_fingerprint(backend))


def write_mark(report_dir: Path, key: GradingKey, result: GradingResult) -> None:
    """The mark of ``result``, graded under ``key``: its own record of the files it graded
    (``submission_sha256``) and of its input seed."""
    sha256, seed = result.submission_sha256, result.options.get("input_seed")
    if not sha256 or not isinstance(seed, int):
        return
    (report_dir / MARK_NAME).write_text(json.dumps({
        "version": MARK_VERSION, "argv": list(key.argv), "grader": key.grader,
        "submission_sha256": sha256, "input_seed": seed}) + "\n", encoding="utf-8")


def _read_mark(report_dir: Path) -> dict[str, Any] | None:
    try:
        mark = json.loads((report_dir / MARK_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return mark if isinstance(mark, dict) and mark.get("version") == MARK_VERSION else None


def resumed(report_dir: Path, folder: Path, key: GradingKey, input_seed: int | None,
            result_name: str) -> tuple[GradingResult | None, str]:
    """The result an earlier run of this cohort wrote for the submission ``folder``, where it
    was graded exactly as it would be now (its files hashed only where the rest matches), on
    ``input_seed`` (None: on any), and ``""``; otherwise None and why (``grade --resume`` says
    it: a CI integrator whose grader changed between the runs read "0 of 7 ... kept" and no
    reason)."""
    mark = _read_mark(report_dir)
    if mark is None:
        return None, "not graded to the end before"
    if mark.get("argv") != list(key.argv):
        return None, "graded with other options"
    if mark.get("grader") != key.grader:
        return None, "graded by another version of the grader"
    if not isinstance(mark.get("input_seed"), int) or (
            input_seed is not None and mark.get("input_seed") != input_seed):
        return None, "graded on another input seed"
    try:
        if content_hash(folder) != mark.get("submission_sha256"):
            return None, "changed since"
    except (OSError, SubmissionError):  # its grading will say why
        return None, "unreadable now"
    try:
        data = json.loads((report_dir / result_name).read_text(encoding="utf-8"))
        return GradingResult.from_dict(data), ""
    except (OSError, ValueError, KeyError, TypeError):
        return None, "its result is missing or unreadable"
