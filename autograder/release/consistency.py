"""Consistency of an exercise's declarations with its solutions, checked before release.

An :class:`~nlpdojo_autograder.authoring.checks.Exercise` names things by string: question
ids in its checks, ``swap_in``, planted bugs and data sets; modules in planted bugs and
``given_modules``; text to find in planted bugs. The solutions name questions in their
markers. A typo in any of them used to pass ``dojo release`` and ``dojo verify`` silently (a
question never graded, a swap-in that swaps nothing, a planted bug that plants nothing).
:func:`validate` compares them all and returns every mismatch as a :class:`Problem`; ``dojo
release`` (also ``--check`` and ``--student-bundle``) and ``dojo verify`` stop on any.

The rules (the valid question ids are the keys of ``Exercise.questions``; marker ids are what
:mod:`~nlpdojo_autograder.authoring.markers` parses, so both may change form together):

* the exercise declares its questions, and every question has at least one check;
* every solution block's question id is a declared question. A declared question *without* a
  block is allowed: it grades the code of other questions together (a topic's
  ``training`` trains the student's skip-gram). A mistyped marker id is still caught, as a
  marker of an unknown question;
* every ``requires`` entry is a declared question (bare: of the topic; ``topic.question``: of
  a registered topic);
* every check's question exists; every ``swap_in`` id exists, is not the check's own
  question, and has a solution block (otherwise swapping it in replaces nothing);
* every planted bug names an existing question and module, and plants cleanly
  (:func:`nlpdojo_autograder.authoring.planted.plant`: ``find`` exactly once, the AST changes);
  planted-bug names are unique (they label ``dojo verify``'s steps);
* every ``given_modules`` entry is a module of the topic, without solution blocks; every
  ``datasets`` key is a question and every data set it lists is registered.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from nlpdojo.errors import NlpdojoError
from nlpdojo.plugins import get_registry
from nlpdojo_autograder.authoring.checks import Exercise, PlantedBug
from nlpdojo_autograder.authoring.markers import (
    Block,
    MarkerError,
    module_name,
    parse_blocks,
    python_modules,
)
from nlpdojo_autograder.authoring.planted import PlantError, blocks_around, bug_path, plant
from nlpdojo_autograder.grading.grade import exercise_names, get_exercise
from nlpdojo_autograder.runtime import code_rules
from nlpdojo_autograder.runtime.loader import LIBRARY


@dataclass(frozen=True)
class Problem:
    """One inconsistency: ``where`` is ``file:line``, ``check <id>``, ``planted bug '<name>'``
    or ``exercise <name>``; ``message`` says what is wrong and what to do."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ConsistencyError(NlpdojoError):
    """An exercise and its solutions disagree; ``problems`` lists every disagreement."""

    def __init__(self, problems: list[Problem], consequence: str = "") -> None:
        self.problems = problems
        head = f"{len(problems)} consistency problem{'s' if len(problems) != 1 else ''}"
        tail = f" ({consequence})" if consequence else ""
        super().__init__(f"{head}{tail}:\n" + "\n".join(f"  {p}" for p in problems))


def suggest(name: str, known: Iterable[str], what: str) -> str:
    """``did you mean 'x'? <what>: a, b`` for an unknown ``name``."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}{what}: {', '.join(known) if known else '(none)'}"


def _blocks(topic_dir: Path, problems: list[Problem],
            unreadable: list[Problem] | None = None) -> dict[str, list[Block]]:
    """``{module name: blocks}`` of every module of the topic; marker errors become problems
    (in ``unreadable`` too, where given), and so do blocks whose stubs would run as the module
    is imported (:func:`_run_at_import`)."""
    found: dict[str, list[Block]] = {}
    for path in python_modules(topic_dir):
        try:
            found[module_name(topic_dir, path)] = parse_blocks(path)
        except MarkerError as exc:
            for text in exc.problems:
                where, _, message = text.partition(": ")
                problems.append(Problem(where, message))
                if unreadable is not None:
                    unreadable.append(problems[-1])
            continue
        problems += _run_at_import(path, found[module_name(topic_dir, path)])
        problems += _shared_functions(path, found[module_name(topic_dir, path)])
    return found


def _shared_functions(path: Path, blocks: list[Block]) -> list[Problem]:
    """A function that holds the blocks of two questions: the grader swaps a function in for
    a question as a whole, so a check of one question that needs the other's part (swapped
    in) ran neither right, and right code lost its points with an engine's error (an
    author's trial); one function, one question."""
    if len({b.question for b in blocks}) < 2:
        return []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, OSError):
        return []
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    held: dict[tuple[str, int], set[str]] = {}
    for block in blocks:
        around = [f for f in functions if f.lineno < block.start_line <= (f.end_lineno or 0)]
        if around:
            inner = min(around, key=lambda f: (f.end_lineno or 0) - f.lineno)
            held.setdefault((inner.name, inner.lineno), set()).add(block.question)
    return [Problem(f"{path}:{line}", (
        f"{name}() holds the blocks of {len(questions)} questions "
        f"({', '.join(sorted(questions))}): the grader swaps a function in for one question "
        "as a whole; split it into a function per question"))
        for (name, line), questions in sorted(held.items(), key=lambda kv: kv[0][1])
        if len(questions) > 1]


def _run_at_import(path: Path, blocks: list[Block]) -> list[Problem]:
    """Blocks whose stub (``raise NotImplementedError``) runs when the module is imported: one
    outside every function (at the top of the module, in a class body), or in a function the
    module calls as it is imported. The student's module would not import, and every question
    in it would score 0, however right the rest (an author's trial: a class attribute in a
    block)."""
    if not blocks:
        return []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, OSError):
        return []  # (the release says what keeps it from reading the module)
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    problems = []
    for block in blocks:
        if not any(f.lineno < block.start_line <= (f.end_lineno or 0) for f in functions):
            problems.append(Problem(f"{path}:{block.start_line}", (
                f"the block of {block.question!r} is outside every function: its stub, raise "
                "NotImplementedError, would run as the module is imported, and every question "
                "of the module would score 0; put the block in a function or method")))
    holders = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef) and any(
        f.lineno < b.start_line <= (f.end_lineno or 0) for b in blocks)}
    for call in _calls_at_import(tree):
        if not (isinstance(call.func, ast.Name) and call.func.id in holders):
            continue
        problems.append(Problem(f"{path}:{call.lineno}", (
            f"calls {call.func.id}() as the module is imported, and {call.func.id} holds a "
            "solution block: its stub would raise NotImplementedError then, and every question "
            "of the module would score 0; call it inside a function instead")))
    return problems


def _calls_at_import(tree: ast.Module) -> list[ast.Call]:
    """The calls a module makes as it is imported: in its statements and class bodies, not in
    the bodies of its functions and lambdas."""
    calls, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            calls.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return sorted(calls, key=lambda c: c.lineno)


def _registered_datasets() -> list[str]:
    return get_registry().names("dataset")


def validate(exercise: Exercise, topic_dir: str | Path, *,
             datasets: Collection[str] | None = None) -> list[Problem]:
    """Every inconsistency between ``exercise`` and its solutions in ``topic_dir`` (the topic
    folder: ``solutions/<topic>``), in a stable order; empty when all is well.

    ``datasets`` are the known data set names (default: the registered ones).
    """
    topic_dir = Path(topic_dir)
    problems: list[Problem] = []
    here = f"exercise {exercise.name}"
    questions = list(exercise.questions)
    if not questions:
        problems.append(Problem(here, "declares no questions; add questions={id: title, ...} "
                                      "for every question of the topic"))
    unreadable: list[Problem] = []
    blocks = _blocks(topic_dir, problems, unreadable)
    if unreadable:  # the rest reads the blocks: each question of the module would be blamed
        return problems
    marked = _check_markers(exercise, topic_dir, blocks, questions, problems)
    library = _library_of(exercise, topic_dir, questions, problems)
    marked |= set(library)
    _check_code(exercise, questions, blocks, library, problems)
    _check_questions(exercise, questions, problems)
    _check_requires(exercise, questions, problems)
    _check_checks(exercise, questions, marked, problems)
    _check_bugs(exercise, topic_dir, questions, problems)
    _check_given(exercise, topic_dir, blocks, problems)
    _check_integrative(exercise, questions, problems)
    problems += code_rule_problems(topic_dir, tuple(exercise.given_modules))
    if exercise.datasets:
        _check_datasets(exercise, questions,
                        _registered_datasets() if datasets is None else datasets, problems)
    return problems


def unreadable_markers(topic_dir: str | Path) -> list[Problem]:
    """The solution markers of the topic in ``topic_dir`` that cannot be read (one never
    closed, nested, misspelt): until they can, nothing else of the topic can be verified."""
    unreadable: list[Problem] = []
    _blocks(Path(topic_dir), [], unreadable)
    return unreadable


def _check_integrative(exercise: Exercise, questions: list[str],
                       problems: list[Problem]) -> None:
    """An integrative question exists, trains (has a metric check) and swaps nothing in: its
    point is the student's own pipeline."""
    for q in exercise.integrative:
        where = f"exercise {exercise.name}: integrative question {q!r}"
        if q not in questions:
            problems.append(Problem(where, "is not a question; " + suggest(q, questions,
                                                                          "questions")))
        elif not any(c.question == q and c.kind == "metric" for c in exercise.checks):
            problems.append(Problem(where, "has no metric check: only a question that trains "
                                           "the student's pipeline may be integrative"))
        elif exercise.requires.get(q):
            problems.append(Problem(where, f"requires {list(exercise.requires[q])}: an "
                                           "integrative question runs the student's own code, "
                                           "so it requires nothing"))


def _check_markers(exercise: Exercise, topic_dir: Path, blocks: dict[str, list[Block]],
                   questions: list[str], problems: list[Problem]) -> set[str]:
    """Every block names a declared question; returns the questions that have a block."""
    marked: set[str] = set()
    for module, module_blocks in blocks.items():
        path = topic_dir.joinpath(*module.split(".")).with_suffix(".py")
        for block in module_blocks:
            marked.add(block.question)
            if questions and block.question not in questions:
                problems.append(Problem(
                    f"{path}:{block.start_line}",
                    f"solution block of unknown question {block.question!r}; fix the marker "
                    f"id or declare the question in exercise {exercise.name}'s questions; "
                    + suggest(block.question, questions, "questions")))
    return marked


def _library_dir(topic_dir: Path) -> Path | None:
    """The course library beside a topic's folder (``solutions/library``), if there is one."""
    library = topic_dir.parent / LIBRARY
    if topic_dir.name == LIBRARY or not (library / "__init__.py").is_file():
        return None
    return library


def _library_of(exercise: Exercise, topic_dir: Path, questions: list[str],
                problems: list[Problem]) -> dict[str, set[str]]:
    """``{question: library modules}`` of the exercise's blocks in the course library (marked
    ``topic.question``); a block naming one of its questions that does not exist is a
    problem (the library's other markers: :func:`library_problems`)."""
    library = _library_dir(topic_dir)
    if library is None:
        return {}
    found: dict[str, set[str]] = {}
    prefix = f"{exercise.name}."
    for module, module_blocks in _blocks(library, []).items():  # its marker errors: once
        path = library.joinpath(*module.split(".")).with_suffix(".py")
        for block in module_blocks:
            if not block.question.startswith(prefix):
                continue
            question = block.question[len(prefix):]
            if questions and question not in questions:
                problems.append(Problem(
                    f"{path}:{block.start_line}",
                    f"library block of unknown question {block.question!r}; fix the marker "
                    f"id or declare the question in exercise {exercise.name}'s questions; "
                    + suggest(question, questions, "questions")))
            else:
                found.setdefault(question, set()).add(f"{LIBRARY}/{module}")
    return found


def _check_code(exercise: Exercise, questions: list[str], blocks: dict[str, list[Block]],
                library: dict[str, set[str]], problems: list[Problem]) -> None:
    """Every question has code students write (a solution block in the topic or the library),
    unless it is integrative (it grades the others' code); where the topic declares a
    question's modules (``Question.code``), its blocks are in those and in no other."""
    where_blocks: dict[str, set[str]] = {q: set(m) for q, m in library.items()}
    for module, module_blocks in blocks.items():
        for block in module_blocks:
            where_blocks.setdefault(block.question, set()).add(module)
    for question in questions:
        here = f"exercise {exercise.name}: question {question!r}"
        found = where_blocks.get(question, set())
        if not found and question not in exercise.integrative:
            problems.append(Problem(here, (
                f"has no solution block, so students have nothing to write for it; mark its "
                f"code with `### BEGIN SOLUTION {question}` in the topic's modules (or "
                f"`{exercise.name}.{question}` in the course library), or make it an "
                "integrative question (one that trains the others' code)")))
        declared = set(exercise.code.get(question, ()))
        if not declared:
            continue
        for module in sorted(declared - found):
            problems.append(Problem(here, f"declares its code in {module!r} (code=, by "
                                          "default the module named as the question), which "
                                          "has no block of it; fix code= or the marker"))
        for module in sorted(found - declared):
            problems.append(Problem(here, f"has a solution block in {module!r}, which its "
                                          f"code= ({', '.join(sorted(declared))}) does not "
                                          "name; add it there or fix the marker"))


def library_problems(solutions_dir: Path, registered: Collection[str]) -> list[Problem]:
    """Every block of the course library names its topic and one of the registered topics
    (``### BEGIN SOLUTION topic.question``): a bare id would be released as that topic's
    nothing (its notebook would lose the cell), an unknown topic graded by nobody."""
    library = Path(solutions_dir) / LIBRARY
    if not (library / "__init__.py").is_file():
        return []
    problems: list[Problem] = code_rule_problems(library)
    for module, module_blocks in _blocks(library, problems).items():
        path = library.joinpath(*module.split(".")).with_suffix(".py")
        for block in module_blocks:
            topic, dot, question = block.question.partition(".")
            where = f"{path}:{block.start_line}"
            if not dot:
                problems.append(Problem(where, (
                    f"library block {block.question!r} names no topic: the library serves "
                    f"several topics, so its markers read `### BEGIN SOLUTION "
                    f"<topic>.{block.question}`")))
            elif topic not in registered:
                problems.append(Problem(where, (
                    f"library block {block.question!r} names topic {topic!r}, which no "
                    "registered exercise is; " + suggest(topic, sorted(registered), "topics"))))
    return problems


def code_rule_problems(folder: Path, given: tuple[str, ...] = ()) -> list[Problem]:
    """Where the modules of ``folder`` (a topic's solutions, graded with the library beside
    it; or the library, on its own) break the code rules
    (:mod:`~nlpdojo_autograder.runtime.code_rules`): a student's copy would be refused by the
    grader, so the release would be one that no student can pass."""
    folders = [folder.name]
    if folder.name != LIBRARY and (folder.parent / LIBRARY).is_dir():
        folders.append(LIBRARY)
    return [Problem(f"{path}:{refusal.line}", (
                f"uses {refusal.what}, which the grader refuses in graded code (docs/"
                "security.md): the students' copy of this module would fail every check "
                "that imports it; write it without"))
            for path, broken in code_rules.folder_refusals(folder.parent, folders,
                                                           given).items()
            if path.parent == folder for refusal in broken]


def _check_questions(exercise: Exercise, questions: list[str],
                     problems: list[Problem]) -> None:
    """Every declared question has a check."""
    graded = {check.question for check in exercise.checks}
    for question in questions:
        if question not in graded:
            problems.append(Problem(
                f"exercise {exercise.name}",
                f"question {question!r} has no check, so it is worth nothing; add a check "
                "for it or remove it from questions"))


def _check_requires(exercise: Exercise, questions: list[str],
                    problems: list[Problem]) -> None:
    """Every ``requires`` entry names a declared question: a bare id one of this topic's (not
    the requiring question itself), ``topic.question`` one of a registered topic's. A typo
    would swap nothing in, and ``dojo verify --strict`` would then advise declaring what was
    declared."""
    topics = exercise_names()
    for question, needs in exercise.requires.items():
        where = f"exercise {exercise.name}: question {question!r}"
        if questions and question not in questions:
            problems.append(Problem(where, "is not a question, yet declares requires; "
                                    + suggest(question, questions, "questions")))
        for need in needs:
            topic, _, name = need.rpartition(".")
            if not topic or topic == exercise.name:
                if questions and name not in questions:
                    problems.append(Problem(where, f"requires unknown question {need!r}; "
                                            + suggest(name, questions, "questions")))
                elif name == question:
                    problems.append(Problem(where, "requires itself; remove it from requires"))
            elif topic not in topics:
                problems.append(Problem(where, f"requires {need!r}, of topic {topic!r}, which "
                                        "is not installed; "
                                        + suggest(topic, topics, "topics")))
            elif name not in (theirs := list(get_exercise(topic).questions)):
                problems.append(Problem(where, f"requires unknown question {need!r}; "
                                        + suggest(name, theirs, f"{topic}'s questions")))


def _check_checks(exercise: Exercise, questions: list[str], marked: set[str],
                  problems: list[Problem]) -> None:
    """Every check's question and ``swap_in`` ids exist; a swap-in is another question with
    a solution block; every question is worth points."""
    worth: dict[str, float] = {}
    for check in exercise.checks:
        worth[check.question] = worth.get(check.question, 0.0) + check.points
    for question, points in worth.items():
        if points == 0:
            problems.append(Problem(f"question {question}", (
                "is worth no points: each of its checks has points=0 (a check of 0 points is "
                "feedback only); give its checks their points")))
    for check in exercise.checks:
        where = f"check {check.id}"
        if questions and check.question not in questions:
            problems.append(Problem(where, f"names unknown question {check.question!r}; "
                                    + suggest(check.question, questions, "questions")))
        for swapped in check.swap_in:
            if swapped == check.question:
                problems.append(Problem(
                    where, f"swap_in names the check's own question {swapped!r}: the "
                    "reference would replace the code under test; remove it from swap_in"))
            elif questions and swapped not in questions:
                problems.append(Problem(
                    where, f"swap_in names unknown question {swapped!r}; "
                    + suggest(swapped, questions, "questions")))
            elif swapped not in marked:
                problems.append(Problem(
                    where, f"swap_in names question {swapped!r}, which has no solution "
                    "block, so swapping it in replaces nothing; remove it from swap_in"))
        if (check.kind in ("custom", "property") and not check.needs_expected
                and check.points > 0 and not check.oracle):
            problems.append(Problem(
                where, "is judged without the reference, and a trivial answer (a uniform "
                "distribution, a step that does nothing, a constant) may satisfy it: give it "
                "right=(rtol, atol) so that its points need the reference's outputs, or "
                "oracle='what the grader compares with' where it computes the right answer "
                "itself, with a planted bug that it catches (bug(..., by=(name,)))"))


def _check_bugs(exercise: Exercise, topic_dir: Path, questions: list[str],
                problems: list[Problem]) -> None:
    """Every planted bug names a question and a module and plants cleanly."""
    seen: set[str] = set()
    modules = sorted(module_name(topic_dir, p) for p in python_modules(topic_dir)
                     if p.name != "__init__.py")
    for bug in exercise.planted_bugs:
        where = f"planted bug {bug.name!r}"
        if bug.name in seen:
            problems.append(Problem(where, "two planted bugs have this name; rename one"))
        seen.add(bug.name)
        if bug.unplaced:  # its topic could not tell its question (Topic.planted_bugs)
            problems.append(Problem(bug.where, bug.unplaced))
            continue
        if questions and bug.question not in questions:
            problems.append(Problem(where, f"question {bug.question!r} is not a question of "
                                    f"{exercise.name}; "
                                    + suggest(bug.question, questions, "questions")))
        for other in bug.also:
            if other not in exercise.integrative:
                problems.append(Problem(where, f"also={other!r}: only an integrative question "
                                        f"of {exercise.name} may be named there (one whose "
                                        "checks train with the other questions' code: "
                                        f"{', '.join(exercise.integrative) or 'none'})"))
        names = [c.name for c in exercise.checks if c.question == bug.question]
        for name in bug.by:
            if name not in names:
                problems.append(Problem(where, f"by={name!r} is not a check of question "
                                        f"{bug.question!r}; "
                                        + suggest(name, names, "checks")))
        problem = bug_problem(bug, topic_dir, modules,
                              placed=bool(questions) and bug.question in questions)
        if problem is not None:
            problems.append(problem)
    proven = {(b.question, name) for b in exercise.planted_bugs for name in b.by}
    for check in exercise.checks:
        if check.kind == "metric" and check.points > 0 and not check.floor:
            problems.append(Problem(
                f"check {check.id}", "is a metric with no chance floor: an untrained model, "
                "or a training that does nothing, may meet its threshold (an accuracy of 0.5 "
                "on two balanced classes), and no planted bug can prove otherwise (a bug "
                "proves that some wrong training fails, not that none passes). Measure in its "
                "run what untrained artefacts reach (the majority class, the add-one unigram "
                "model, untrained vectors, a loss that never moved) and name it as chance=: the "
                "metric must beat it at every grading"))
    for check in exercise.checks:
        if check.oracle and check.points > 0 and (check.question, check.name) not in proven:
            problems.append(Problem(
                f"check {check.id}", "is judged against an oracle of the grader's "
                f"({check.oracle}), and no planted bug proves that a wrong answer fails it: "
                f"add a planted bug of question {check.question!r} with by=({check.name!r},)"))


def bug_problem(bug: PlantedBug, topic_dir: Path, modules: list[str] | None = None, *,
                placed: bool = True) -> Problem | None:
    """What stops ``bug`` from being planted in ``topic_dir`` (``None``: it plants cleanly);
    ``placed``: its question is one of the topic's (else that is the problem said, not
    where its text lies)."""
    path = bug_path(topic_dir, bug)
    if not path.is_file():
        if modules is None:
            modules = sorted(module_name(topic_dir, p) for p in python_modules(topic_dir)
                             if p.name != "__init__.py")
        if bug.module.endswith(".py"):
            hint = "give the module name without .py"
        elif "/" in bug.module:  # Question(code=...)'s spelling, not a module name
            dotted = bug.module.replace("/", ".")
            hint = (f"a planted bug names a module as Python does: {'..' + dotted!r} for the "
                    f"course library's, {dotted.split('.', 1)[-1]!r} for the topic's "
                    "(Question(code=...) takes folder/module; bug() takes the module)")
        else:
            hint = suggest(bug.module, modules, "modules")
        return Problem(f"planted bug {bug.name!r}",
                       f"module {bug.module!r} not found in {topic_dir}; {hint}")
    text = path.read_text(encoding="utf-8")
    try:
        plant(bug, text, str(path))
    except PlantError as exc:
        return Problem(exc.where, exc.reason)
    # a bug whose text lies in another question's solution block only: it changes that
    # question's code, so its own question's checks cannot catch it ("not caught" misled)
    own = {bug.question, *bug.also}
    for around in blocks_around(text, bug.find) if placed else ():
        named = {q.rpartition(".")[2] for q in around}
        if named and not named & own:
            return Problem(f"planted bug {bug.name!r}", (
                f"its text lies in the solution block of {', '.join(sorted(named))} in "
                f"{path}, not of {bug.question!r}: plant it in {bug.question!r}'s code, or "
                "under the question whose code it changes"))
    return None


def _check_given(exercise: Exercise, topic_dir: Path, blocks: dict[str, list[Block]],
                 problems: list[Problem]) -> None:
    """Every given module exists and holds no solution block."""
    for module in exercise.given_modules:
        where = f"exercise {exercise.name}"
        if module not in blocks:
            problems.append(Problem(where, f"given module {module!r} not found in {topic_dir}; "
                                    + suggest(module, sorted(blocks), "modules")))
        elif blocks[module]:
            problems.append(Problem(
                where, f"given module {module!r} has solution blocks (line "
                f"{blocks[module][0].start_line}): given code runs from the reference, so "
                "the student's answer would never be graded; move the blocks elsewhere or "
                "remove the module from given_modules"))


def _check_datasets(exercise: Exercise, questions: list[str], known: Collection[str],
                    problems: list[Problem]) -> None:
    """Every ``datasets`` key is a question and every data set it names is registered."""
    for question, names in exercise.datasets.items():
        where = f"exercise {exercise.name}"
        if questions and question not in questions:
            problems.append(Problem(where, f"datasets names unknown question {question!r}; "
                                    + suggest(question, questions, "questions")))
        for name in names:
            if name not in known:
                problems.append(Problem(
                    where, f"datasets[{question!r}] names unknown data set {name!r}; "
                    + suggest(name, sorted(known), "registered data sets")
                    + " (`dojo data list` shows them)"))


def ensure_consistent(exercise: Exercise, topic_dir: str | Path, consequence: str = "") -> None:
    """Raise a :class:`ConsistencyError` listing every problem :func:`validate` finds."""
    problems = validate(exercise, topic_dir)
    if problems:
        raise ConsistencyError(problems, consequence)


def ensure_release_consistent(topics: Iterable[str], solutions_dir: Path,
                              consequence: str = "nothing was written") -> None:
    """Validate every released topic that is a registered exercise against its folder in
    ``solutions_dir``; one :class:`ConsistencyError` lists the problems of all of them."""
    registered = set(exercise_names())
    problems: list[Problem] = library_problems(Path(solutions_dir), registered)
    for topic in topics:
        left_out = get_registry().broken_for(topic)
        if topic in registered:
            problems += validate(get_exercise(topic), Path(solutions_dir) / topic)
        elif left_out:
            problems.append(Problem(str(Path(solutions_dir) / topic), (
                f"its declaration failed to load (plugin {left_out[0]!r} failed to load: "
                f"{left_out[1]}); fix that line")))
        else:
            problems.append(Problem(str(Path(solutions_dir) / topic), (
                f"has solutions but no registered exercise {topic!r}, so nothing could grade "
                f"it; declare the topic (`dojo new topic {topic}` scaffolds "
                f"course/{topic}/, or an exercise pack registers it with register_exercises) "
                "or move the folder out of the solutions")))
    if problems:
        raise ConsistencyError(problems, consequence)
