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
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpdojo_autograder.authoring.checks import Check, Exercise, PlantedBug
from nlpdojo_autograder.authoring.deferred import ForQuestion, checks_of, module_of


@dataclass(frozen=True)
class Question:
    """One question: ``id`` (its marker id in the solutions and its key in reports), its
    ``title``, ``code`` (the modules holding its solution blocks: ``"softmax"`` in the topic,
    ``"library/layers"`` in the course library; none for a question that grades the code of
    others, such as a training run), its ``checks``, the ``planted_bugs`` that must cost
    points on it, the ``requires`` it builds on (bare: this topic's; ``topic.question``: an
    earlier topic's), the ``datasets`` its checks read, and whether it is ``integrative``
    (it trains the student's whole pipeline, so earlier questions' bugs may cost points here
    too; see :attr:`Exercise.integrative`). A builder called in ``checks`` without
    ``question=`` takes this question's id, and the module of its one ``code``
    (:mod:`.deferred`)."""

    id: str
    title: str
    checks: tuple[Check, ...]
    code: tuple[str, ...] = ()
    planted_bugs: tuple[PlantedBug, ...] = ()
    requires: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    integrative: bool = False

    def __post_init__(self) -> None:
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
        for check in self.checks:
            if check.question != self.id:
                raise ValueError(f"question {self.id}: check {check.id!r} belongs to question "
                                 f"{check.question!r}; declare it with {self.id!r}")
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


def bug(name: str, find: str, replace: str, *, module: str | None = None,
        question: str | None = None, also: Iterable[str] = (), says: str = "",
        by: Iterable[str] = ()) -> PlantedBug:
    """A planted bug (:class:`PlantedBug`): replacing ``find`` by ``replace`` must cost points
    on its question (and on the integrative questions ``also``), with ``says`` (the cause
    named) in one of that question's messages, and on each of the question's checks named in
    ``by``. Its question is the one it is listed under (``BUGS = {"lstm_cell": [bug(...)]}``
    of a topic's withheld module, or a ``Question``'s ``planted_bugs``), its module that
    question's one ``code`` unless ``module=`` names another (as the builders spell a module:
    ``"..library.gated"``)."""
    return PlantedBug(name, module, find, replace, question, tuple(also), says, tuple(by))


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
        seen: set[str] = set()
        for question in self.questions:
            if question.id in seen:
                raise ValueError(f"topic {self.name}: question {question.id!r} is declared twice")
            seen.add(question.id)

    def planted_bugs(self) -> list[PlantedBug]:
        """Every planted bug, in question order: each question's own (``planted_bugs=``), then
        those of the :attr:`withheld` module for it, where that module is installed."""
        withheld = withheld_bugs(self.withheld)
        questions = {q.id: q for q in self.questions}
        for b in withheld:
            if b.question not in questions:
                raise ValueError(f"topic {self.name}: planted bug {b.name!r} of {self.withheld} "
                                 f"is planted for {b.question!r}, not a question of the topic "
                                 f"({', '.join(questions)})")
        withheld = [_completed(b, b.question, questions[b.question].code) for b in withheld]
        return [b for q in self.questions
                for b in (*q.planted_bugs, *(w for w in withheld if w.question == q.id))]

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
            planted_bugs=self.planted_bugs(),
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
    student wheel), or where ``module`` is ``None``. Any other import error is raised."""
    if module is None:
        return []
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return []
        raise
    return _listed(found.BUGS, module)


def _listed(bugs: Any, where: str) -> list[PlantedBug]:
    """A withheld module's ``BUGS`` as a list: ``{question: [bug, ...]}`` (each bug listed
    under its question), a list of bugs that name their question, or a list of those (a
    package's ``BUGS = [cells.BUGS, classifier.BUGS]``); a question listed twice is refused."""
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
