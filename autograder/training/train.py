"""What every topic's training command shares: whose code trains, data checks, clear errors.

A topic's ``dojo train NAME`` command (registered as an :class:`nlpdojo.trainers.Trainer`, see
a topic's ``course/<topic>/trainer.py`` for a worked example and docs/authoring.md,
"Adding a training command") uses this module so that every trainer behaves alike:

* :class:`TopicCode` decides which code trains. A trainer defines one per topic,
  ``TopicCode("my_topic", ("train.py", "sgd.py"))``; its :meth:`~TopicCode.choose` takes
  the command's ``--code`` and ``--solutions`` options and returns a :class:`CodeChoice`:
  ``--solutions`` trains the reference (``nlpdojo_solutions.<topic>``), ``--code DIR`` the
  student's topic folder (or the folder holding it), and with neither the student's folder seen
  from the working folder (``./exercises/<topic>``, ``./<topic>``, or the working folder itself)
  or, when there is none, the reference, saying so. :meth:`CodeChoice.load` imports one of its
  modules; :meth:`CodeChoice.stubs` turns an untouched stub's ``NotImplementedError`` into a
  :class:`TrainError` pointing at ``grade <topic>``; :attr:`CodeChoice.whose` says in words
  which code trains.
* :func:`require_datasets` checks every data set a run needs before any work and names, in
  one error, the one ``dojo data fetch`` command that fetches the missing ones.
* :func:`output_path` says where a command writes what it makes (a checkpoint, vectors, a
  plot): a bare file name, the default included, goes to the outputs folder
  (:func:`outputs_root`: ``$NLPDOJO_OUTPUTS``, else ``~/.local/share/nlpdojo/outputs`` on
  Linux), never into ``exercises/`` where ``grade`` looks; a path with a folder part
  (``./tagger.npz``, ``runs/lm.npz``) is used as given. :func:`input_path` finds a file such a
  command wrote by the same rule (``dojo sample kn3.npz``, ``--evaluate tagger.npz``).
* :func:`check_output` refuses an output path whose folder does not exist, before training.
* :class:`TrainError`: raise it with what went wrong and what to do; ``dojo`` prints one
  ``error:`` line and exits with code 2.

A progress bar is the topic's training loop's own business (``progress=True``): the loop runs
in the student's code, which does not import the grader.
"""

from __future__ import annotations

import importlib
import os
import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from platformdirs import user_data_path

from nlpdojo.data import get_dataset
from nlpdojo.dataset import DataMissingError
from nlpdojo.errors import NlpdojoError
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.runtime.loader import (
    REFERENCE_PACKAGE,
    load_folder_module,
    reference_available,
)


class TrainError(NlpdojoError):
    """Training cannot start or finish: the message says why and what to do."""


#: environment variable naming the folder training commands write their outputs to
OUTPUTS_ENV = "NLPDOJO_OUTPUTS"
#: the help text of an ``--output`` option that follows :func:`output_path`
OUTPUT_RULE = ("a bare file name goes to the outputs folder ($NLPDOJO_OUTPUTS, else nlpdojo's "
               "user data folder), where grading never looks; a path with a folder "
               "(./NAME, runs/NAME) is used as given")


def outputs_root() -> Path:
    """The folder training commands write to: ``$NLPDOJO_OUTPUTS`` when set (and non-empty),
    else ``outputs`` in nlpdojo's user data folder (``~/.local/share/nlpdojo/outputs`` on
    Linux, ``$XDG_DATA_HOME`` honoured). Outside every submission, so what training makes (an
    8 MB checkpoint) never reaches ``grade``. Not created here."""
    override = os.environ.get(OUTPUTS_ENV, "").strip()
    if override:
        return Path(override).expanduser().absolute()
    return user_data_path("nlpdojo", appauthor=False) / "outputs"


def _bare(name: str | os.PathLike[str]) -> bool:
    """Whether ``name`` is a file name without a folder part (``kn3.npz``, not ``./kn3.npz``)."""
    text = os.fspath(name)
    return (bool(text) and text not in (".", "..") and os.sep not in text
            and (os.altsep is None or os.altsep not in text))


def output_path(given: str | os.PathLike[str] | None, default: str) -> Path:
    """Where a command writes its output: ``given`` (``None``: ``default``) in the outputs
    folder when it is a bare file name (the folder is created), else as given. So ``dojo train
    tagger`` run from ``exercises/`` writes nothing there; ``--output ./tagger.npz`` does."""
    name = default if given is None else given
    if _bare(name):
        root = outputs_root()
        root.mkdir(parents=True, exist_ok=True)
        return root / os.fspath(name)
    return Path(name)


def input_path(given: str | os.PathLike[str]) -> Path:
    """A file a command reads back (a checkpoint): a bare name in the outputs folder where it
    is there, else in the working folder where it is there (a file from before the outputs
    folder), else in the outputs folder (whose path the error names); a path as given."""
    if not _bare(given):
        return Path(given)
    kept = outputs_root() / os.fspath(given)
    here = Path(given)
    return here if not kept.exists() and here.exists() else kept


def shown_output(path: Path) -> str:
    """How to name ``path`` on a command line: its bare name when it is in the outputs folder
    (:func:`input_path` finds it there), else the path (``./x.npz`` for one in the working
    folder: a bare name would be looked up in the outputs folder)."""
    if path.parent == outputs_root():
        return path.name
    return str(path) if path.parent != Path(".") else f"./{path}"


@dataclass(frozen=True)
class TopicCode:
    """Where a topic's trainable code lives: the reference package ``nlpdojo_solutions.<topic>``
    or a student's folder, recognised by holding every file of ``modules``."""

    topic: str
    modules: tuple[str, ...]

    def is_folder(self, folder: Path) -> bool:
        """Whether ``folder`` holds the topic's modules that training runs."""
        return all((folder / name).is_file() for name in self.modules)

    def default_folder(self, here: Path | None = None) -> Path | None:
        """The student's topic folder seen from ``here`` (default: the working folder):
        ``./exercises/<topic>``, ``./<topic>`` (run from inside ``exercises/``), or ``here``
        itself when it is a topic folder; ``None`` when there is none."""
        here = Path(".") if here is None else here
        for folder in (here / "exercises" / self.topic, here / self.topic):
            if folder.is_dir():
                return folder
        if self.is_folder(here):
            return here
        # run from inside another topic's folder of the same course (exercises/<other>)
        sibling = here.resolve().parent / self.topic
        return sibling if (here.resolve().parent / "library").is_dir() and \
            self.is_folder(sibling) else None

    def resolve(self, code: Path) -> Path:
        """The topic folder ``--code`` names: the folder itself (``exercises/<topic>`` or a copy
        of it) or a folder that holds it (``exercises``); anything else is a clear error."""
        topic, holds = self.topic, _and(self.modules)
        if code.is_file():
            raise TrainError(f"--code {code} is a file: pass your {topic} folder (e.g. "
                             f"exercises/{topic}), the folder that holds {holds}")
        if not code.is_dir():
            raise TrainError(f"--code {code}: no such folder; pass your {topic} folder (e.g. "
                             f"exercises/{topic})")
        if self.is_folder(code):
            return code
        if self.is_folder(code / topic):
            return code / topic
        missing = ", ".join(n for n in self.modules if not (code / n).is_file())
        raise TrainError(f"--code {code} is not a {topic} folder: it has no {missing}; pass your "
                         f"{topic} folder (e.g. exercises/{topic}) or the folder that holds it")

    def choose(self, code: Path | None, solutions: bool) -> CodeChoice:
        """The code a run trains, from the ``--code`` and ``--solutions`` options."""
        if solutions and code is not None:
            raise TrainError("--solutions trains the reference, --code your folder: choose one")
        if solutions:
            return CodeChoice(self, None)
        if code is not None:
            return CodeChoice(self, self.resolve(code))
        folder = self.default_folder()
        if folder is not None:
            return CodeChoice(self, folder)
        return CodeChoice(self, None, fallback=(
            f" (no exercises/{self.topic} here: pass --code DIR to use yours, --solutions to "
            "say you mean the reference)"))


@dataclass(frozen=True)
class CodeChoice:
    """The code one run trains: a student's topic ``folder``, or the reference (``None``)."""

    code: TopicCode
    folder: Path | None
    fallback: str = ""

    @property
    def shown(self) -> Path | None:
        """The folder as the user named it (``.`` spelled out as the absolute path)."""
        if self.folder is not None and self.folder == Path("."):
            return self.folder.resolve()
        return self.folder

    @property
    def whose(self) -> str:
        """``your code in exercises/<topic>`` or ``the reference solutions`` (and why)."""
        if self.folder is None:
            return f"the reference solutions{self.fallback}"
        return f"your code in {self.shown}"

    def load(self, module: str) -> ModuleType:
        """Module ``module`` of the chosen code (a student's imports its own folder's modules)."""
        topic = self.code.topic
        if self.folder is None:
            try:
                return importlib.import_module(f"nlpdojo_solutions.{topic}.{module}")
            except ImportError as exc:
                raise TrainError("the reference solutions are not installed here; train your "
                                 f"own code with --code exercises/{topic}") from exc
        return load_folder_module(self.folder.resolve(), topic, module, tag="cli")

    @contextmanager
    def stubs(self) -> Iterator[None]:
        """An untouched stub's ``NotImplementedError`` becomes a :class:`TrainError` saying
        where, and which command shows what is left to write; so does any other error raised
        in the student's own files (the topic folder, the course library beside it): their
        file, line and function, never "a bug in nlpdojo"."""
        try:
            yield
        except TrainError:
            raise
        except NotImplementedError as exc:
            where = self.shown if self.folder is not None else "the reference solutions"
            # a library stub names its own topic ("<topic>.<question>: not implemented yet")
            other = _STUB_OF_TOPIC.match(str(exc))
            if other and other["topic"] not in _topics():
                other = None  # a dotted name that is no topic's question
            topic = other["topic"] if other else self.code.topic
            if other and self.folder is not None:
                where = f"your course library, which {self.shown} uses"
            raise TrainError(f"{exc} (in {where}); `grade {topic}` shows what is left "
                             "to write") from exc
        except Exception as exc:
            found = self._students_frame(exc)
            if found is None:
                raise  # the reference's or nlpdojo's: an internal error
            where, topic = found
            said = str(exc.msg if isinstance(exc, SyntaxError) else exc).strip()
            text = said.splitlines()[0][:300] if said else ""
            grade = f"`grade {topic}`" if topic else "`grade`"
            raise TrainError(f"your code raised {type(exc).__name__}: {text} ({where}); "
                             f"{grade} checks it piece by piece") from exc

    def _students_frame(self, exc: BaseException) -> tuple[str, str | None] | None:
        """Where in the student's course folder (the topic folder's parent: every topic and
        the library) ``exc`` was raised, the innermost such frame, and its topic (``None``
        for the library); ``None`` where no frame is the student's, or where a frame of the
        grading engine is nearer the error than any of theirs (a kit call-back's own bug)."""
        if self.folder is None:
            return None
        root = self.folder.resolve().parent
        # theirs: the topic folders of their course beside this one and its library (not,
        # say, a virtual environment that happens to sit in the same folder)
        topics = _topics()
        theirs = [self.folder.resolve(), *(root / name for name in (*topics, "library"))]
        places = [(f.filename, f.lineno, f.name)
                  for f in traceback.extract_tb(exc.__traceback__)]
        if isinstance(exc, SyntaxError) and exc.filename:
            places.append((exc.filename, exc.lineno, "<module>"))
        engine = Path(__file__).resolve().parents[1]  # nlpdojo_autograder
        for filename, line, function in reversed(places):
            path = Path(filename).resolve()
            if engine in path.parents:
                return None  # raised in the grader's own code (a call-back of the kit's)
            if any(folder in path.parents for folder in theirs):
                inside = path.relative_to(root)
                topic = (inside.parts[0] if inside.parts[0] in topics else
                         self.code.topic if self.folder.resolve() in path.parents else None)
                return f"{root.name}/{inside}, line {line}, in {function}", topic
        return None


def _topics() -> set[str]:
    """The registered topics' names."""
    return {e.name for e in get_registry().entries("exercise")}


#: a released stub's message for a question of another topic (a course library file's)
_STUB_OF_TOPIC = re.compile(r"(?P<topic>[a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*: not implemented yet")


def _and(names: tuple[str, ...]) -> str:
    """``a, b and c``."""
    return " and ".join(filter(None, (", ".join(names[:-1]), names[-1])))


def solutions_installed() -> bool:
    """Whether the reference solutions are installed here (an instructor's installation, not
    a student release): a command's ``--solutions`` option is listed only then
    (``hidden=not solutions_installed()``), since elsewhere it can only fail."""
    return reference_available(REFERENCE_PACKAGE)


def check_output(path: Path, option: str = "--output") -> None:
    """Fail before training when ``path``'s folder does not exist."""
    if path.parent and not path.parent.is_dir():
        raise TrainError(f"{option} {path}: folder {path.parent} does not exist")


def unavailable_datasets(names: list[str]) -> tuple[list[str], list[str]]:
    """``(missing, corrupt)``: the data sets of ``names`` not fetched here, and those fetched
    but damaged (each once, in the order given; an unknown name lists the known ones)."""
    missing: list[str] = []
    corrupt: list[str] = []
    for name in dict.fromkeys(names):
        dataset = get_dataset(name)
        try:
            dataset.path()
        except DataMissingError:
            (corrupt if dataset.folder().is_dir() else missing).append(name)
    return missing, corrupt


def fetch_command(names: list[str]) -> str:
    """The one command that fetches ``names``: ``dojo data fetch a b``."""
    return f"dojo data fetch {' '.join(dict.fromkeys(names))}"


def require_datasets(names: list[str]) -> None:
    """Every data set in ``names`` fetched and intact, checked before any work; otherwise one
    error listing all the missing ones and the one command that fetches them."""
    missing, corrupt = unavailable_datasets(names)
    if not missing and not corrupt:
        return
    parts = []
    if missing:
        parts.append(f"not fetched yet: {', '.join(missing)}")
    if corrupt:
        parts.append(f"corrupt (fetch again): {', '.join(corrupt)}")
    needed = [n for n in dict.fromkeys(names) if n in missing or n in corrupt]
    what = "data set" if len(needed) == 1 else "data sets"
    raise DataMissingError(f"{what} {'; '.join(parts)}. Run: {fetch_command(needed)}")
