"""A grading's withheld functions: what each check swaps in but leaves the student's own, and
the reference in the grader that answers the check's own calls of them.

A check swaps the reference in for the questions its question requires; of their module-level
functions, those the reference of the question under test never reaches stay the student's
(:mod:`~nlpdojo_autograder.authoring.reach`): a stub of ``backoff`` no longer hands
Kneser-Ney the swapped-in ``absolute_discount_log_probs``. The check itself may still need
one of them on its own data (the counts a smoothing check gives the model, made by
``everygram_counts``): :class:`HarnessReference` runs it, the reference in the grader's
process, as the reference's expected values are run (trusted code on the grader's inputs).
A question the check names in its own ``swap_in`` (a function it hands the code under test)
is swapped in whole.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nlpdojo.selection import make_backend
from nlpdojo_autograder.authoring import markers, reach
from nlpdojo_autograder.authoring.checks import Check, Exercise
from nlpdojo_autograder.authoring.questions import qualify
from nlpdojo_autograder.runtime import source_memo
from nlpdojo_autograder.runtime.loader import LIBRARY, load_reference_dir
from nlpdojo_autograder.runtime.remote import LocalSubject
from nlpdojo_autograder.runtime.subject import ReferenceCode

QuestionFunctions = dict[str, list[tuple[str, str | None]]]


def withholding(exercise: Exercise, reference: ReferenceCode | None,
                question_functions: QuestionFunctions
                ) -> Callable[[Check, tuple[str, ...]], tuple[tuple[str, str], ...]]:
    """``of(check, swap_in)``: the functions ``check`` (as declared) withholds when it swaps in
    ``swap_in`` (full ids, its question's requirements and its own ``swap_in``). Nothing
    without the reference's source (nothing is swapped in then)."""
    if reference is None or not question_functions:
        return lambda check, swap_in: ()
    topic_dir = (reference.folder if reference.folder is not None
                 else load_reference_dir(exercise.reference_package))
    folders = [(topic_dir, "")]
    library = topic_dir.parent / LIBRARY
    if library.is_dir() and library.resolve() != topic_dir.resolve():
        folders.append((library, f"..{LIBRARY}."))
    stored = source_memo.remembered(
        "reference_reach",
        [exercise.name, source_memo.folder_contents([f for f, _ in folders])],
        lambda: reach.reference_reach(folders).to_json(), code=(reach, markers))
    found = reach.Reach.from_json(stored)

    def of(check: Check, swap_in: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        declared = {qualify(exercise.name, q) for q in check.swap_in}
        return reach.withheld(found, question_functions, qualify(exercise.name, check.question),
                              swap_in, exercise.given_modules, declared=declared)

    return of


def still_withheld(withheld: tuple[tuple[str, str], ...], swap_in: tuple[str, ...],
                   question_functions: QuestionFunctions) -> tuple[tuple[str, str], ...]:
    """``withheld`` less the functions of questions no longer swapped in (a check narrowed to
    the student's own code of questions it passed runs those as they are anyway)."""
    owned = {tuple(pair) for q in swap_in for pair in question_functions.get(q, [])}
    return tuple(pair for pair in withheld if pair in owned)


class HarnessReference:
    """The reference in the grader's process on the grading's backend, made on first use:
    answers a check's own calls of withheld functions (:meth:`Context.function`)."""

    def __init__(self, reference: ReferenceCode, backend: str, device: str | None) -> None:
        self.reference, self.backend, self.device = reference, backend, device
        self.subject: LocalSubject | None = None
        self._dtype: str | None | bool = False  # (False: not begun)

    def get(self, dtype: str | None) -> Any:
        if self.subject is None:
            self.subject = LocalSubject(self.reference, {
                d: make_backend(self.backend, self.device, d) for d in ("float64", None)})
        if self._dtype is False or self._dtype != dtype:
            self.subject.begin(dtype=dtype, swap_in=(), workdir="harness")
            self._dtype = dtype
        return self.subject

    def close(self) -> None:
        if self.subject is not None:  # the reference's modules stay: the run goes on
            shutil.rmtree(Path(self.subject.scratch), ignore_errors=True)
