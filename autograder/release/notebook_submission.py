"""A notebook submission through the one door (:mod:`nlpdojo_autograder.grading.snapshot`).

``grade --submission X.ipynb`` grades a package rebuilt from the notebook's tagged cells. What
it is rebuilt from must not be whatever happens to lie next to the notebook: a link there to the
installed reference, to ``/proc/self/environ`` or ``/dev/zero``, or a file of someone else's,
would be copied into the graded package before any refusal ran. So:

1. the notebook file is snapshotted first (a link, a pipe or a device is refused, its size is
   capped, its bytes hashed), and only that private copy is read;
2. the cells are written over the **released template**: where the reference is installed and
   used (a grader; not ``--as-student``), the topic and the course library as ``dojo release``
   makes them from the reference (stubs, ``__init__.py``, data), so nothing next to the
   notebook plays a part but the student's own ``library/`` (below). Only without the
   reference (a student release, ``--as-student``) is the template the released folder next
   to the notebook (or ``./exercises/<topic>``) and its ``library/``: snapshotted with the
   same refusals, never read live;
3. the package is materialised from those copies only.

A topic built on other topics' library modules (a language model trained on an earlier
topic's ``Linear`` and initialiser) has no cell for them: they are the student's work of
another notebook. With the reference, the student's ``library/`` beside the notebook (uploaded with
it) or beside its topic folder (``exercises/library``) is snapshotted with the same refusals
and its modules written over the template's stubs, the notebook's ``library.*`` cells over
them; without one, those modules are the released stubs, and the result says so (an honest
notebook lost 6.5 points of training checks to "not implemented" in silence).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nlpdojo_autograder.authoring.markers import questions_in
from nlpdojo_autograder.authoring.questions import closure, qualify, split
from nlpdojo_autograder.grading.grade import get_exercise
from nlpdojo_autograder.grading.snapshot import SubmissionError, take_snapshot
from nlpdojo_autograder.release.notebooks import NotebookError, materialize_notebook, read_notebook
from nlpdojo_autograder.release.release import released_topic
from nlpdojo_autograder.runtime.loader import LIBRARY, load_reference_dir, reference_available

#: where ``grade`` looks for the released topic folder of a notebook graded without the reference
DEFAULT_EXERCISES = Path("exercises")


@dataclass(frozen=True)
class NotebookSubmission:
    """A notebook made ready to grade: ``folder`` is laid out like ``exercises/``."""

    folder: Path
    #: the private copy of the notebook that was read (its cells locate the feedback)
    notebook: Path
    #: sha256 of the notebook's snapshot: what the student submitted
    sha256: str
    #: what was left out and why (names that are not UTF-8 in a template folder)
    skipped: tuple[str, ...]
    #: where the template came from: "the installed reference", or the folder snapshotted
    template: str
    #: the topic the notebook is of (its metadata): the only one it can be graded as
    topic: str


def notebook_submission(notebook: Path, work: Path, *, use_reference: bool,
                        within: Path | None = None,
                        expect: Callable[[str], None] | None = None) -> NotebookSubmission:
    """Snapshot ``notebook``, build its released template and materialise the package, all in
    the new folder ``work``. ``within``: the submission folder the notebook was found in (a
    cohort's or Gradescope's), outside which no ``library/`` is looked for. ``expect(topic)``:
    called with the notebook's topic as soon as it is read, to refuse a notebook of another
    topic before anything is built (where the build's own errors would hide why). Raises
    :class:`SubmissionError` or :class:`NotebookError` with what to do."""
    snap = take_snapshot(notebook, work / "notebook")
    if snap.files == 0:
        raise SubmissionError(f"notebook {notebook} does not exist")
    copy = snap.path / notebook.resolve().name
    topic, sources = _read(copy, notebook)
    if expect is not None:
        expect(topic)
    reference = _reference_dir(topic) if use_reference else None
    if reference is not None:
        _require_question_cells(notebook, reference, sources)
        template, library = _template_from_reference(reference, topic, work / "released")
        where, skipped = "the installed reference", ()
        if library is not None and topic != LIBRARY:
            own, skipped = _students_library(notebook, topic, library,
                                             work / "own-library", within)
            where += f", with the library/ of {own}" if own else ""
    else:
        source = _released_folder(notebook, topic)
        template, library, skipped = _template_from_folder(source, topic, work / "released")
        where = str(source)
    try:
        materialize_notebook(copy, work / "package" / topic, template, library_dir=library)
    except NotebookError as exc:
        raise NotebookError(str(exc).replace(str(copy), str(notebook))) from None
    return NotebookSubmission(work / "package", copy, snap.sha256, skipped, where, topic)


def _read(copy: Path, notebook: Path) -> tuple[str, dict[str, str]]:
    """The notebook's topic and modules, read from its private copy; errors name the file the
    student knows, not the copy."""
    try:
        return read_notebook(copy, strict=False)
    except NotebookError as exc:
        raise NotebookError(str(exc).replace(str(copy), str(notebook))) from None


def _reference_dir(topic: str) -> Path | None:
    """The installed reference folder of ``topic``, or ``None`` where it is not installed."""
    package = get_exercise(topic).reference_package
    return load_reference_dir(package) if reference_available(package) else None


def _require_question_cells(notebook: Path, reference: Path, sources: dict[str, str]) -> None:
    """Every module that holds a question must come from the notebook: a notebook without that
    cell is malformed (the released notebook has them all), and saying so beats grading the
    template's stub in silence."""
    needed = sorted({m for pairs in questions_in(reference).values() for m, _ in pairs})
    missing = [m for m in needed if m not in sources]
    if missing:
        raise NotebookError(f"{notebook} has no cell for {', '.join(missing)}; every module of "
                            "the topic must be in the notebook (start from a fresh copy of the "
                            "released notebook)")


def _template_from_reference(reference: Path, topic: str, dest: Path
                             ) -> tuple[Path, Path | None]:
    """Write the released ``topic/`` (and ``library/``) made from the reference into ``dest``:
    the files as ``dojo release`` ships them, solution blocks stubbed."""
    for rel, data in released_topic(reference).items():
        parts = rel.split("/")
        if parts[0] == reference.name:  # the topic's own folder, named as the exercise
            parts[0] = topic
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    library = dest / LIBRARY
    return dest / topic, library if library.is_dir() else None


#: where a notebook's own library/ is looked for: beside it (a Gradescope upload), then beside
#: its topic folder (``exercises/<topic>/<topic>.ipynb`` and ``exercises/library``)
LIBRARY_PLACES = (Path(LIBRARY), Path("..") / LIBRARY)
#: the line a result carries where no library/ was found for a notebook built on the library
NO_LIBRARY = ("no library/ folder beside the notebook or its topic folder: the course "
              "library's modules that have no cell in this notebook were graded as released "
              "(stubs); submit your library/ folder with the notebook")
#: the line a result carries where one was: whose library is graded is part of the result
LIBRARY_USED = ("the course library's modules that have no cell in this notebook were graded "
                "from the library/ folder {folder}")


def _builds_on_other_topics(topic: str) -> bool:
    """Whether a question of ``topic`` requires, directly or not, a question of another topic
    (whose library modules the notebook has no cell for)."""
    return any(split(q)[0] != topic for name in get_exercise(topic).questions
               for q in closure(qualify(topic, name)))


def _students_library(notebook: Path, topic: str, library: Path, work: Path,
                      within: Path | None = None) -> tuple[Path | None, tuple[str, ...]]:
    """Write the modules of the student's ``library/`` (the first of :data:`LIBRARY_PLACES`
    that exists, inside ``within`` where given, snapshotted: links out, pipes and devices
    refused) over the released ``library`` the template holds; only modules the released
    library has. Returns the folder used and what to say (which folder it was, or that there
    was none)."""
    beside = Path(os.path.abspath(notebook)).parent
    places = [Path(os.path.normpath(beside / place)) for place in LIBRARY_PLACES]
    if within is not None:  # a cohort's sibling folder is another student's, never this one's
        root = Path(os.path.abspath(within))
        places = [place for place in places if place.is_relative_to(root)]
    found = next((place for place in places if place.exists() or place.is_symlink()), None)
    if found is None:
        return None, (NO_LIBRARY,) if _builds_on_other_topics(topic) else ()
    snap = take_snapshot(found, work, shown_as=LIBRARY)
    for module in sorted(library.glob("*.py")):
        own = snap.path / module.name
        if own.is_file() and module.name != "__init__.py":
            module.write_bytes(own.read_bytes())
    return found, (LIBRARY_USED.format(folder=found), *snap.skipped)


def _released_folder(notebook: Path, topic: str) -> Path:
    """Without the reference: the released topic folder the notebook sits in, else
    ``./exercises/<topic>``. Not resolved: a folder that is a link is refused by the
    snapshot, never followed."""
    beside = notebook.absolute().parent
    if (beside / "__init__.py").exists():
        return beside
    if (DEFAULT_EXERCISES / topic).is_dir():
        return DEFAULT_EXERCISES / topic
    raise NotebookError(f"cannot find the released exercises/{topic}/ folder the notebook "
                        "belongs to; run grade from the folder that holds exercises/")


def _template_from_folder(source: Path, topic: str, dest: Path
                          ) -> tuple[Path, Path | None, tuple[str, ...]]:
    """Snapshot the released folder ``source`` and the ``library/`` beside it into ``dest``
    (links out, pipes, devices and oversize files refused, as for a folder submission)."""
    if source.absolute().name != topic:
        raise NotebookError(f"the notebook belongs to topic {topic!r}, not "
                            f"{source.absolute().name!r}; submit it for {topic!r}.")
    template = take_snapshot(source, dest / topic, shown_as=topic)
    library_src = source.absolute().parent / LIBRARY
    if topic == LIBRARY or not (library_src.exists() or library_src.is_symlink()):
        return template.path, None, template.skipped
    library = take_snapshot(library_src, dest / LIBRARY, shown_as=LIBRARY)
    return template.path, library.path, (*template.skipped, *library.skipped)
