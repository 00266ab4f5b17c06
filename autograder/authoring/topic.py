"""A topic as its author declares it: one :class:`Question` per question, and the
:class:`Topic` that holds them; the engine derives the rest (:meth:`Topic.exercise`).

A question is declared once, with everything that belongs to it: its id and title, the modules
its solution blocks are in, its checks, the bugs ``dojo verify`` plants in it, the questions it
requires and the data sets its checks read. The topic adds what is the topic's: its name and
title, its place in the course, its given modules and where its fixtures are kept (beside the
topic's declaration, in ``fixtures/``). The engine grades the :class:`Exercise` derived from
it: the checks in question order, the requirements, data sets and integrative questions as
the look-up tables grading uses.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpdojo_autograder.authoring.checks import Check, Exercise, PlantedBug
from nlpdojo_autograder.authoring.deferred import ForQuestion, checks_of, module_of
from nlpdojo_autograder.authoring.planted import blocks_around, loose_lines, module_path
from nlpdojo_autograder.runtime.loader import SubmissionImportError, load_reference_dir


@dataclass(frozen=True)
class Question:
    """One question: ``id`` (its marker id in the solutions and its key in reports), its
    ``title``, ``code`` (the modules holding its solution blocks: ``"softmax"`` in the topic,
    ``"library/layers"`` in the course library; by default the module named as the question,
    and none for an ``integrative`` question, which grades the code of others), its
    ``checks``, the ``planted_bugs`` that must cost points on it, the ``requires`` it builds
    on (this topic's by their declarations, ``requires=(RNN_CELL,)``; an earlier topic's by
    name, ``"neural_networks.xavier"``: topics import no other topic), the ``datasets`` its
    checks read, and whether it is ``integrative`` (it trains the student's whole pipeline,
    so earlier questions' bugs may cost points here too; see :attr:`Exercise.integrative`).
    A builder called in ``checks`` without ``question=`` takes this question's id, and the
    module of its one ``code`` (:mod:`.deferred`). ``site`` is the file that declares it
    (the planted bugs of ``withheld/<name>.py`` are first looked for in the code of the
    questions ``<name>.py`` declares: :meth:`Topic._placed`)."""

    id: str
    title: str
    checks: tuple[Check, ...]
    code: tuple[str, ...] | str | None = None
    planted_bugs: tuple[PlantedBug, ...] = ()
    requires: tuple[str | Question, ...] = ()
    datasets: tuple[str, ...] = ()
    integrative: bool = False
    site: str = dataclasses.field(default="", compare=False, repr=False)
    #: the line of :attr:`site` that declares it (0: not known)
    line: int = dataclasses.field(default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.site:  # the caller of the generated __init__
            caller = sys._getframe(2)
            object.__setattr__(self, "site", caller.f_code.co_filename)
            object.__setattr__(self, "line", caller.f_lineno)
        if not (isinstance(self.id, str) and ID.fullmatch(self.id)):
            raise ValueError(f"question id {self.id!r}: a question's id is lowercase letters, "
                             "digits and underscores, starting with a letter (its solution "
                             "markers, its checks' ids and its file names are made of it)")
        if self.code is None:
            object.__setattr__(self, "code", () if self.integrative else (self.id,))
        for name in ("checks", "code", "planted_bugs", "requires", "datasets"):
            value = getattr(self, name)
            one = isinstance(value, (str, ForQuestion, Check))  # ``checks=value_check(...)``
            object.__setattr__(self, name, (value,) if one else tuple(value))
        # builders called here without question= take this question's id and code's module
        checks = checks_of(self.id, self.code, self.checks)
        if len(self.code) == 1:  # ctx.function(name) finds its functions in that module
            checks = tuple(c if c.module else dataclasses.replace(c, module=module_of(
                self.code[0])) for c in checks)
        object.__setattr__(self, "checks", checks)
        names: set[str] = set()
        for check in self.checks:
            if check.question != self.id:
                raise ValueError(f"question {self.id}: check {check.id!r} belongs to question "
                                 f"{check.question!r}; declare it with {self.id!r}")
            if check.name in names:
                raise ValueError(f"question {self.id}: two of its checks are named "
                                 f"{check.name!r}; name one otherwise (check=... or name=...)")
            names.add(check.name)
        object.__setattr__(self, "planted_bugs", tuple(
            _completed(b, self.id, self.code) if b.question in (None, self.id) else b
            for b in self.planted_bugs))
        for bug in self.planted_bugs:
            if bug.question != self.id:
                raise ValueError(f"question {self.id}: planted bug {bug.name!r} is planted for "
                                 f"question {bug.question!r}; declare it under that question")
        if not self.checks:
            raise ValueError(f"question {self.id}: no checks; every question is graded by at "
                             "least one")


def _where(question: Question) -> str:
    return f"{question.site}:{question.line}" if question.line else question.site or "?"


#: what a question's id, and a check's name, are made of
ID = re.compile(r"[a-z][a-z0-9_]*")

#: a change written in place in a planted bug's text: ``«old → new»``
EDIT = re.compile(r"«(.*?) → (.*?)»", re.DOTALL)


def bug(name: str, find: str, replace: str | None = None, *, module: str | None = None,
        question: str | Question | None = None, also: Iterable[str | Question] = (),
        says: str = "", by: Iterable[str] = ()) -> PlantedBug:
    """A planted bug (:class:`PlantedBug`): replacing ``find`` by ``replace`` must cost points
    on its question (and on the integrative questions ``also``), with ``says`` (the cause
    named) in one of that question's messages, and on each of the question's checks named in
    ``by``. Listed in a topic's withheld module (``BUGS = [bug(...), ...]``), its question is
    the one whose solution block its ``find`` lies in, its module the one ``find`` occurs in
    among the topic's questions' code (:meth:`Topic.planted_bugs`); ``question=`` where
    ``find`` lies outside every block (a constructor's argument written in), ``module=``
    where it occurs in more than one module (as the builders spell a module:
    ``"..library.gated"``). Declared in a ``Question``'s ``planted_bugs``, it is that
    question's, planted into its one ``code`` unless ``module=`` names another. ``question``
    and ``also`` take the questions' declarations (``question=SENTENCE_CLASSIFIER``).

    Without ``replace``, ``find`` carries its changes in place, each written ``«old → new»``
    (``"xp.«sum → mean»(grad_output, axis=0)"``: find ``xp.sum(grad_output, axis=0)``,
    replace ``xp.mean(...)``; ``« → 0.0 * »`` inserts, ``«+ grad_h → »`` deletes; the
    arrow's two spaces are the notation's): the change is read where it is, not found by
    comparing two near-copies."""
    caller = sys._getframe(1)
    site = (caller.f_code.co_filename, caller.f_lineno)
    in_place = replace is None
    if in_place:
        find, replace = _edited(name, find, site)
    if isinstance(question, Question):
        question = question.id
    return PlantedBug(name, module, find, replace, question, tuple(also), says, tuple(by),
                      site=site, in_place=in_place)


def _edited(name: str, text: str, site: tuple[str, int]) -> tuple[str, str]:
    """``find`` and ``replace`` of a bug written with its changes in place (:func:`bug`)."""
    where = f"planted bug {name!r} ({site[0]}:{site[1]})"
    find = EDIT.sub(lambda m: m.group(1), text)
    replace = EDIT.sub(lambda m: m.group(2), text)
    if any(mark in find + replace for mark in "«»"):
        raise ValueError(f"{where}: a « or » outside a change «old → new» (each change is "
                         "«, its old text, ' → ' (the arrow U+2192 with a space each side), "
                         "its new text, »)")
    if find == text:
        raise ValueError(f"{where}: no replace, and no change written in its text as "
                         "«old → new»; write the change in place or give find and replace")
    return find, replace


def _declarations(*named: tuple) -> bool:
    """Whether any of ``named`` (a check's ``own_code``...) holds a ``Question`` itself."""
    return any(isinstance(q, Question) for group in named for q in group)


def _find_words(bug: PlantedBug) -> str:
    """How a message names the text a bug looks for: its find, or, written in place, its text
    before the change."""
    return "its text before the change" if bug.in_place else "its find"


def _completed(bug: PlantedBug, question: str, code: tuple[str, ...]) -> PlantedBug:
    """``bug`` with its question and module filled in from the question it is listed under."""
    if bug.question is not None and bug.question != question:
        raise ValueError(f"planted bug {bug.name!r} names question {bug.question!r} but is "
                         f"listed under {question!r}; list it under its question")
    module = bug.module
    if module is None:
        if len(code) != 1:
            raise ValueError(f"planted bug {bug.name!r} of question {question}: the question's "
                             f"code names {len(code)} modules ({', '.join(code) or 'none'}); "
                             "say which the bug plants into: bug(..., module=\"...\")")
        module = module_of(code[0])
    return dataclasses.replace(bug, question=question, module=module)


@dataclass
class Topic:
    """A topic of the course: ``name`` (its folder in ``exercises/`` and ``solutions/``),
    ``title``, ``order`` (where it comes in the course: its lecture; topics are listed in this
    order), its ``questions`` in the order its instructions present them, its
    ``given_modules`` (modules of given code the checks run from the reference, never from a
    submission), ``fixtures`` (where ``dojo release`` keeps the expected values of its public
    checks; conventionally the ``fixtures`` folder beside the topic's declaration),
    ``reference`` (the import name of its solutions; default ``nlpdojo_solutions.<name>``) and
    ``withheld`` (the module of what a student's install goes without, :func:`withheld_bugs`:
    planted bugs quote the reference, so the built-in course declares its own there)."""

    name: str
    title: str
    order: int
    questions: list[Question]
    fixtures: Path | None = None
    given_modules: tuple[str, ...] = ()
    reference: str | None = None
    withheld: str | None = None

    def __post_init__(self) -> None:
        seen: dict[str, Question] = {}
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"topic {self.name}: question {question.id!r} is declared twice "
                                 f"({_where(seen[question.id])} and {_where(question)}); rename "
                                 "one")
            seen[question.id] = question
        for question in self.questions:  # the questions named by their declarations: ids
            name = functools.partial(self._named, f"question {question.id!r}")
            object.__setattr__(question, "requires", tuple(map(name, question.requires)))
            object.__setattr__(question, "checks", tuple(
                dataclasses.replace(c, own_code=tuple(map(name, c.own_code)),
                                    swap_in=tuple(map(name, c.swap_in)))
                if _declarations(c.own_code, c.swap_in) else c for c in question.checks))
            object.__setattr__(question, "planted_bugs", tuple(
                dataclasses.replace(b, also=tuple(map(name, b.also)))
                if _declarations(b.also) else b for b in question.planted_bugs))

    def _named(self, who: str, question: str | Question) -> str:
        """The id of a question that ``who`` names (in ``requires``, ``own_code``, ``swap_in``
        or a planted bug's ``also``): as written where it is a name, the id where it is a
        declaration, which must be one of this topic's (topics import no other topic)."""
        if not isinstance(question, Question):
            return question
        if not any(question is q for q in self.questions):
            raise ValueError(
                f"topic {self.name}: {who} names the question {question.id!r} declared in "
                f"{question.site}, which is not one of this topic's questions; list it in the "
                f"topic's questions, or name another topic's question as "
                f"\"<topic>.{question.id}\"")
        return question.id

    def planted_bugs(self) -> list[PlantedBug]:
        """Every planted bug, in question order: each question's own (``planted_bugs=``), then
        those of the :attr:`withheld` module for it, where that module is installed, each
        placed (:meth:`_placed`); last, those that could not be placed (``unplaced``: the
        release checks and ``dojo verify`` report them; grading never reads planted bugs)."""
        return list(self._planted_on_use())

    def _planted_on_use(self) -> PlacedOnUse:
        """:meth:`planted_bugs`, with every error of their declarations raised now (a withheld
        bug's unknown question, a listed bug's module) and the bugs that name no question
        placed the first time they are read: placing reads the reference's modules and
        searches them for each bug (half a warm registry's build, 18 -> 9 ms; 87 -> 70 ms cold),
        and grading never reads planted bugs."""
        withheld = withheld_bugs(self.withheld)
        questions = {q.id: q for q in self.questions}
        for b in withheld:
            if b.question is not None and b.question not in questions:
                raise ValueError(f"{b.where}: topic {self.name}: planted bug {b.name!r} of "
                                 f"{self.withheld} is planted for {b.question!r}, not a "
                                 f"question of the topic ({', '.join(questions)})"
                                 f"{_did_you_mean(b.question, questions)}")
        withheld = [dataclasses.replace(b, also=tuple(
            self._named(f"planted bug {b.name!r}", q) for q in b.also))
            if _declarations(b.also) else b for b in withheld]
        withheld = [_completed(b, b.question, questions[b.question].code)
                    if b.question is not None else b for b in withheld]

        def place() -> list[PlantedBug]:
            texts = _Texts(self)
            every = [b if b.question is not None else self._placed(b, texts) for b in withheld]
            return [b for q in self.questions
                    for b in (*q.planted_bugs, *(w for w in every if w.question == q.id))
                    ] + [b for b in every if b.unplaced]

        return PlacedOnUse(place)

    def _placed(self, bug: PlantedBug, texts: _Texts) -> PlantedBug:
        """``bug`` (listed without ``question=``) with its question and module: the question
        of the solution block its ``find`` lies in (:func:`~.planted.blocks_around`), in its
        ``module`` or, without one, in whichever module of the questions' code it occurs in.
        Where that is not one block of one module, the bug is ``unplaced``, with the reason."""
        def unplaced(reason: str) -> PlantedBug:
            return dataclasses.replace(bug, question="", module="", unplaced=(
                f"planted bug {bug.name!r}: {reason}"))

        if texts.reference is None:
            return unplaced(f"its question cannot be told ({texts.missing}); give question=")
        home = self._home(bug, texts)
        if home is not None:
            return home
        modules = [bug.module] if bug.module is not None else texts.code_modules
        found = [(module, owners) for module in modules
                 for owners in blocks_around(texts.of(module), bug.find)]
        if not found:
            loose = [f"{module} line {', '.join(map(str, lines))}" for module in modules
                     if (lines := loose_lines(texts.of(module), bug.find))]
            if loose:  # the docs' promise: said where the text is, with other whitespace
                return unplaced(f"{_find_words(bug)} occurs with different whitespace or line "
                                f"breaks at {'; '.join(loose)}: copy that text exactly")
            return unplaced(f"{_find_words(bug)} occurs in none of {', '.join(modules)} of "
                            f"{texts.reference}; update it to the solution's text" + (
                                "" if bug.module is not None
                                else ", or give module= where it plants"))
        if len({module for module, _ in found}) > 1:
            return unplaced(f"{_find_words(bug)} occurs in {', '.join(m for m, _ in found)}; give "
                            "module= where it plants")
        module = found[0][0]
        if len(found) > 1:
            return unplaced(f"{_find_words(bug)} occurs {len(found)} times in {module}; "
                            "lengthen it until it matches only the place meant")
        owned = {q.removeprefix(f"{self.name}.") for q in found[0][1]}
        if len(owned) != 1:
            if owned:
                return unplaced(f"{_find_words(bug)} lies in the blocks of "
                                f"{', '.join(sorted(owned))} of {module}; give question= (the "
                                "question it must cost points on)")
            # (an author who forgot a block's markers was told to give question=, and did:
            # the code outside every block shipped to the students as written)
            return unplaced(f"{_find_words(bug)} lies in no question's solution block of "
                            f"{module}: if that code is part of an answer, put it inside the "
                            "question's ### BEGIN SOLUTION / ### END SOLUTION markers (outside "
                            "them the students receive it as written); if it is given code (a "
                            "constructor's argument), give question= (the question it must "
                            "cost points on)")
        question = owned.pop()
        if question not in {q.id for q in self.questions}:
            return unplaced(f"{_find_words(bug)} lies in the block of {question}, not a "
                            f"question of {self.name}; plant it from that topic")
        return dataclasses.replace(bug, question=question, module=module)

    def _home(self, bug: PlantedBug, texts: _Texts) -> PlantedBug | None:
        """``bug`` placed among the questions declared in the file its withheld module is
        named after (``withheld/classifier.py``: those of ``classifier.py``): where its
        ``find`` occurs once in their code, the question of the block it lies in, or, outside
        every block, the one question of theirs whose code holds it. ``None`` where that does
        not tell one place (the whole topic is searched: :meth:`_placed`)."""
        name = os.path.basename(bug.site[0])  # (not Path: 300 bugs x every question's site)
        home = [q for q in self.questions
                if q.code and os.path.basename(q.site) == name and bug.site[0] != q.site]
        modules = list(dict.fromkeys(module_of(c) for q in home for c in q.code
                                     if bug.module in (None, module_of(c))))
        found = [(module, owners) for module in modules
                 for owners in blocks_around(texts.of(module), bug.find)]
        if len(found) != 1:
            return None
        module, owners = found[0]
        owned = {q.removeprefix(f"{self.name}.") for q in owners}
        holders = [q.id for q in home if module in {module_of(c) for c in q.code}]
        if len(owned) == 1 and owned <= {q.id for q in home}:
            return dataclasses.replace(bug, question=owned.pop(), module=module)
        if not owned and len(holders) == 1:
            return dataclasses.replace(bug, question=holders[0], module=module)
        return None

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def checks(self) -> list[Check]:
        """Every question's checks, in question order: the public ones, then the hidden ones
        (which run where the reference is, after everything a student release runs too)."""
        every = [c for q in self.questions for c in q.checks]
        return [c for c in every if not c.hidden] + [c for c in every if c.hidden]

    def exercise(self) -> Exercise:
        """The exercise the engine grades: the checks (:meth:`checks`), planted bugs and
        look-ups, derived from the questions."""
        return Exercise(
            name=self.name, title=self.title, checks=self.checks(),
            questions={q.id: q.title for q in self.questions},
            fixtures=self.fixtures, reference=self.reference,
            planted_bugs=self._planted_on_use(),
            given_modules=tuple(self.given_modules),
            requires={q.id: q.requires for q in self.questions if q.requires},
            datasets={q.id: q.datasets for q in self.questions if q.datasets},
            integrative=tuple(q.id for q in self.questions if q.integrative),
            code={q.id: q.code for q in self.questions if q.code},
            order=self.order)



def withheld_bugs(module: str | None) -> list[PlantedBug]:
    """The planted bugs (``BUGS``) of ``module``, a module a student's install leaves out with
    the reference (a planted bug quotes the reference in its ``find`` and writes a near-copy in
    its ``replace``: shipped, it would hand out the answer): none where it is not installed (a
    student wheel, a Gradescope bundle), or where ``module`` is ``None``. Any other import
    error is raised; so is a ``module`` missing beside an installed ``withheld`` package (a
    misspelt ``withheld=`` planted no bug, and ``dojo verify`` passed proving nothing), and a
    module of the package that defines ``BUGS`` its ``BUGS`` does not list."""
    if module is None:
        return []
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        parent = module.rpartition(".")[0]
        sibling = f"{parent}.{WITHHELD}" if parent else WITHHELD
        if sibling != module and _installed(sibling):
            raise ValueError(f"withheld={module!r} names no module, though {sibling} is "
                             f"there: its planted bugs are in {sibling} (a misspelt name "
                             "plants none)") from None
        return []
    bugs = _listed(found.BUGS, module)
    if getattr(found, "__path__", None):
        listed = {b.name for b in bugs}
        for info in pkgutil.iter_modules(found.__path__):
            part = importlib.import_module(f"{module}.{info.name}")
            unlisted = [b.name for b in _listed(getattr(part, "BUGS", []), part.__name__)
                        if b.name not in listed]
            if unlisted:
                raise ValueError(f"{part.__file__} defines planted bugs its package's BUGS "
                                 f"({found.__file__}) does not list ({', '.join(unlisted)}): "
                                 f"add {info.name}.BUGS to it")
    return bugs


#: the package of a topic's planted bugs, beside its declaration
WITHHELD = "withheld"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class PlacedOnUse(Sequence[PlantedBug]):
    """A topic's planted bugs (:meth:`Topic.planted_bugs`), placed the first time they are read
    (``place``: a list of them), then kept: an :class:`Exercise` of the registry holds them so,
    since only ``dojo verify`` and the release's checks read them."""

    def __init__(self, place: Callable[[], list[PlantedBug]]) -> None:
        self._place: Callable[[], list[PlantedBug]] | None = place
        self._bugs: list[PlantedBug] = []

    def _placed(self) -> list[PlantedBug]:
        if self._place is not None:
            self._bugs, self._place = self._place(), None
        return self._bugs

    def __getitem__(self, index: Any) -> Any:
        return self._placed()[index]

    def __len__(self) -> int:
        return len(self._placed())

    def __iter__(self) -> Iterator[PlantedBug]:
        return iter(self._placed())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._placed() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # (mutable, as the list it stands for)

    def __repr__(self) -> str:
        return repr(self._placed())


class _Texts:
    """The reference's modules a topic places its bugs in (:meth:`Topic._placed`), each read
    once: ``reference`` (its folder; None where it is not installed, ``missing`` says why)
    and ``code_modules`` (its questions' code, as the builders spell a module)."""

    def __init__(self, topic: Topic) -> None:
        self.code_modules = list(dict.fromkeys(module_of(c) for q in topic.questions
                                               for c in q.code))
        self.missing = ""
        self.reference: Path | None = None
        try:
            self.reference = load_reference_dir(topic.reference
                                                or f"nlpdojo_solutions.{topic.name}")
        except SubmissionImportError as exc:
            self.missing = str(exc)
        self._read: dict[str, str] = {}

    def of(self, module: str) -> str:
        """The text of ``module`` ("" where there is no such file)."""
        if module not in self._read:
            try:
                path = module_path(self.reference, module)
                self._read[module] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self._read[module] = ""
        return self._read[module]


def _listed(bugs: Any, where: str) -> list[PlantedBug]:
    """A withheld module's ``BUGS`` as a list: a list of bugs (each placed by its topic
    where it does not name its question), ``{question: [bug, ...]}`` (each bug listed under
    its question), or a list of those (a package's ``BUGS = [cells.BUGS, classifier.BUGS]``);
    a question listed twice in dicts is refused."""
    if isinstance(bugs, dict):
        return [dataclasses.replace(b, question=q) if b.question is None else b
                for q, listed in bugs.items() for b in listed]
    found: list[PlantedBug] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(bugs):
        if isinstance(item, PlantedBug):
            found.append(item)
            continue
        part = _listed(item, where)
        if isinstance(item, dict):
            for question in item:
                if question in seen:
                    raise ValueError(f"{where}: BUGS lists question {question!r} twice (parts "
                                     f"{seen[question] + 1} and {i + 1}); list its bugs once")
                seen[question] = i
        found.extend(part)
    return found


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the known name closest to a misspelt ``name``, else ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""

