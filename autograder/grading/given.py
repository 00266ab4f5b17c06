"""Given code a student changed: a student release grades the student's own copy of the
topic's given modules (the instructor's grading runs the original), so an edit there changes a
grade only on the student's machine. The release records the sha256 of each given module of
the reference in the exercise's fixtures folder (:data:`GIVEN`, written by
``release.fixtures.record``); grading without the reference compares the submission's files
with it and says which differ (:func:`edited_given`), rather than blaming the student's
answers for what the edit did."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from nlpdojo_autograder.authoring.checks import Exercise

#: the file of a fixtures folder that holds ``{given module: sha256}`` as JSON
GIVEN = "GIVEN"


def given_digests(exercise: Exercise, folder: Path) -> dict[str, str]:
    """``{given module: sha256 of its text}`` in a topic ``folder`` (the reference's, where the
    release records them; a submission's, where grading compares), the modules found; the
    text :func:`normalised`, so that whitespace at the ends of lines or of the file (a blank
    line left at the end of a notebook's cell) is no edit."""
    out = {}
    for name in exercise.given_modules:
        path = Path(folder).joinpath(*name.split(".")).with_suffix(".py")
        if path.is_file():
            out[name] = hashlib.sha256(normalised(path.read_bytes())).hexdigest()
    return out


def normalised(source: bytes) -> bytes:
    """``source`` without trailing whitespace on any line or trailing blank lines (and with
    ``\n`` line ends): what two copies of given code must share to be the same code."""
    lines = source.replace(b"\r\n", b"\n").split(b"\n")
    return b"\n".join(line.rstrip() for line in lines).rstrip(b"\n") + b"\n"


def edited_given(exercise: Exercise, folder: Path) -> list[str]:
    """The given modules of the submission's topic ``folder`` (as file names) that differ
    from the released ones; ``[]`` where the fixtures record none."""
    recorded = Path(exercise.fixtures) / GIVEN if exercise.fixtures else None
    if recorded is None or not recorded.is_file():
        return []
    released, here = json.loads(recorded.read_text()), given_digests(exercise, folder)
    return [f"{name.replace('.', '/')}.py" for name, digest in sorted(released.items())
            if name in here and here[name] != digest]


def edited_given_warning(topic: str, edited: list[str]) -> str:
    """One line of a grading's warnings naming the edited given files of ``topic``."""
    files = ", ".join(edited)
    return (f"{topic}: {files} {'is' if len(edited) == 1 else 'are'} given code and "
            f"{'differs' if len(edited) == 1 else 'differ'} from the released copy: this "
            "grading ran your copy, the instructor's grading runs the original, so what the "
            "edit changes here does not count; restore the released file")
