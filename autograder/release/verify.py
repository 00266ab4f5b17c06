"""``dojo verify``: prove a course's grading before students see it.

For every registered exercise whose solutions are installed:

1. the untouched stubs (the solutions with every question block stubbed) score 0, every check
   saying "not implemented";
2. the solutions score full marks on every available backend (NumPy; torch on CPU and, where
   there is one, CUDA);
3. a copy of the solutions, graded as a submission is, scores full marks: the *baseline*,
   which also records which units of the solutions' code (functions, methods) each check
   runs (:mod:`nlpdojo_autograder.runtime.executed`), and counts each check's call-backs
   into swapped-in reference code: its time limit must cover them at
   :data:`~nlpdojo_autograder.runtime.callbacks.CALLBACK_BUDGET_S` each, so that a right
   answer cannot time out on a busy grading machine;
4. every planted bug (``Exercise.planted_bugs``) costs points on its question; points lost on
   other questions are reported too (the swap-in of reference code should prevent them), and
   with ``strict=True`` (``dojo verify --strict``) they fail the bug's step.

A bug changes a few units (:mod:`.changes`); a check of another question that ran none of
them in the baseline runs exactly as it did there (the same seeded inputs, the same code up
to the first changed call, which never comes), so its baseline verdict is its verdict with
the bug, and only the checks that ran a changed unit are graded again. Where that argument
does not hold, every check is graded: a change outside the units' bodies (an import, a
constant, a signature), a module whose import runs code of its own, a check whose record is
missing (its worker was stopped). What it assumes of the solutions: no state carried from one
check to the next through the worker's modules (they are the instructor's code, and a layer
keeps its state in its own object).

Value and gradient checks draw their inputs from ``input_seed`` (default: the base seed, whose
expected values ship as the student release's fixtures); ``dojo verify --input-seed N`` and
``make test-seeds`` prove the planted bugs are caught on other draws too.

Before these, the exercise's declarations are checked against its solutions
(:mod:`.consistency`): every problem is listed in one failed step, and the
other steps still run.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlpdojo.plugins import get_registry
from nlpdojo_autograder.authoring.checks import Exercise, PlantedBug
from nlpdojo_autograder.authoring.markers import (
    parse_blocks,
    python_modules,
    questions_in,
    strip_solutions,
)
from nlpdojo_autograder.authoring.planted import bug_path, plant
from nlpdojo_autograder.authoring.questions import QuestionError, closure, qualify
from nlpdojo_autograder.grading.deps import Course, changes_library_state
from nlpdojo_autograder.grading.grade import (
    GradeOptions,
    exercise_names,
    get_exercise,
    grade_exercise,
    seed_from_environment,
)
from nlpdojo_autograder.grading.results import CheckResult
from nlpdojo_autograder.grading.runner import Limits, run_checks, strict_available
from nlpdojo_autograder.release.blind_judges import blind_judges
from nlpdojo_autograder.release.changes import changed_units
from nlpdojo_autograder.release.consistency import (
    bug_problem,
    library_problems,
    suggest,
    unreadable_markers,
    validate,
)
from nlpdojo_autograder.release.fixtures import own_checks
from nlpdojo_autograder.runtime.callbacks import CALLBACK_BUDGET_S
from nlpdojo_autograder.runtime.loader import LIBRARY, load_reference_dir


@dataclass
class Step:
    exercise: str
    name: str
    ok: bool
    detail: str


#: the name of :func:`verify_baseline`'s step
BASELINE_STEP = "baseline for the planted bugs: the solutions graded as a submission"


@dataclass
class Baseline:
    """The solutions graded as a submission: each check's verdict, and the units of code it
    ran (``(file, unit)``, files relative to the course folder; None: not known)."""

    results: dict[str, CheckResult]
    executed: dict[str, frozenset[tuple[str, str]] | None]
    #: the solutions' modules whose import runs code (``Course.import_runs_code``): where
    #: there is one, no verdict is reused (a bug changes unit bodies only, never this list);
    #: nor for a bug whose file changes a library's state (:func:`_state_shared`)
    import_runs_code: list[str]


class _Reused:
    """``grade``'s cache protocol (``lookup``/``store``) for one planted bug: the baseline's
    verdicts of the checks that ran none of the units the bug changes."""

    def __init__(self, results: dict[str, CheckResult]) -> None:
        self.results = results

    def lookup(self, topic: str, course: Course, contexts: dict[str, str]
               ) -> dict[str, CheckResult]:
        return {cid: dataclasses.replace(self.results[cid], cached=True)
                for cid in contexts if cid in self.results}

    def store(self, *args: object) -> None:
        pass


def available_backends() -> list[tuple[str, str]]:
    """(backend, device) pairs usable here for training and grading (not the backends that
    only check code, such as ``strict``: ``extras["checks_only"]``)."""
    pairs = []
    for entry in get_registry().entries("backend"):
        spec = entry.obj
        if spec.availability() is None and not spec.extras.get("checks_only"):
            devices = spec.devices()
            pairs += [(spec.name, d) for d in devices if ":" not in d]
    return pairs


def _copy_solutions(exercise: Exercise, dest: Path) -> Path:
    """The exercise's solutions copied to ``dest/<topic>``, and the course library next to
    it (``dest/library``) where the solutions have one: a topic's code imports from it."""
    source = load_reference_dir(exercise.reference_package)
    topic = dest / exercise.name
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(source, topic, ignore=ignore)
    library = source.parent / LIBRARY
    if library.is_dir() and library != source:
        shutil.copytree(library, dest / LIBRARY, ignore=ignore)
    return topic


def verify_stubs(exercise: Exercise, work: Path, options: GradeOptions) -> Step:
    topic = _copy_solutions(exercise, work / "stubs")
    library = topic.parent / LIBRARY
    for path in [*python_modules(topic), *(python_modules(library) if library.is_dir() else [])]:
        path.write_text(strip_solutions(path.read_text(), path))
    result = grade_exercise(exercise, topic, options)
    wrong = [c for c in result.checks if c.score != 0 or c.status != "not_implemented"]
    detail = (f"{len(result.checks)} checks, all not implemented" if not wrong else
              "; ".join(f"{c.id}: {c.status} {c.score}/{c.max_score} {c.message}" for c in wrong))
    return Step(exercise.name, "stubs score 0", not wrong, detail)


def verify_every_question_proven(exercise: Exercise) -> Step:
    """(``--strict``) Every question that is not integrative has a planted bug: without one,
    nothing proves its checks fail a wrong answer (a check comparing nothing passed every
    step). An integrative question's training is proven by the other questions' bugs."""
    bugged = {b.question for b in exercise.planted_bugs}
    unproven = [q for q in exercise.questions
                if q not in bugged and q not in exercise.integrative
                and any(c.points > 0 for c in exercise.checks if c.question == q)]
    detail = (f"{len(exercise.questions)} questions, each proven by a planted bug or "
              "integrative" if not unproven else
              f"no planted bug proves the checks of {', '.join(unproven)}: a check that compares "
              "nothing passes every other step; plant a bug each catches (bug(...) in the "
              "topic's withheld package)")
    return Step(exercise.name, "every question has a planted bug", not unproven, detail)


def verify_empty_blocks(exercise: Exercise, work: Path, options: GradeOptions) -> Step:
    """Every question with solution blocks loses points when its blocks are emptied (each
    block's lines replaced by ``pass``): a block that holds none of the work (the code around
    it computes the answer) leaves a student full marks for deleting the stub's ``raise``
    line, which the stubs' step cannot see (an author's trial)."""
    topic = _copy_solutions(exercise, work / "empty")
    library = topic.parent / LIBRARY
    for path in [*python_modules(topic), *(python_modules(library) if library.is_dir() else [])]:
        path.write_text(strip_solutions(path.read_text(), path, empty=True))
    result = grade_exercise(exercise, topic, options)
    points: dict[str, list[float]] = {}
    for check in result.checks:
        earned = points.setdefault(check.question, [0.0, 0.0])
        earned[0] += check.score
        earned[1] += check.max_score
    given_away = [q for q, (score, most) in points.items()
                  if most > 0 and score >= most and q not in exercise.integrative]
    detail = (f"{len(points)} questions lose points with their blocks emptied" if not given_away
              else "; ".join(f"question {q} earns full marks with its solution blocks emptied "
                             "(each replaced by pass): the code around them computes the "
                             "answer, so a student who deletes the stub's raise earns it; "
                             "move the work into the blocks" for q in given_away))
    return Step(exercise.name, "solution blocks hold the work", not given_away, detail)


#: the step that probes the checks that need the reference's values (release/blind_judges.py)
JUDGES_STEP = "checks that need the reference's values compare with them"


def verify_judges_read_expected(exercise: Exercise) -> Step:
    """The release's probe of every check that needs the reference's values, which it runs
    only where it computes the fixtures (a topic refused by ``dojo release`` passed
    ``--strict``): the solutions' outcomes at seed 0, each judged against them made wrong."""
    judged = [c for c in own_checks(exercise) if c.needs_expected and c.points > 0]
    outcomes = run_checks(exercise, judged, topic_folder=None,
                          trusted_folder=Path(load_reference_dir(exercise.reference_package)),
                          backend="numpy", device="cpu", seed=0, question_functions={})
    failed = [f"{c.id}: {outcomes[c.id].status} {outcomes[c.id].message[:160]}"
              for c in judged if outcomes[c.id].status != "ok"]
    blind = blind_judges(judged, outcomes)
    return Step(exercise.name, JUDGES_STEP, not (failed or blind),
                "; ".join(failed + blind) if failed or blind else
                f"{len(judged)} checks fail against the reference's outputs made wrong")


def verify_solutions(exercise: Exercise, backend: str, device: str,
                     options: GradeOptions) -> Step:
    opts = dataclasses.replace(options, backend=backend, device=device)
    result = grade_exercise(exercise, None, opts)
    lost = [c for c in result.checks if c.score < c.max_score]
    detail = (f"{result.score:g}/{result.max_score:g}" if not lost else
              "; ".join(f"{c.id}: {c.status} {c.message}" for c in lost))
    return Step(exercise.name, f"solutions full marks on {backend}/{device}", not lost, detail)


def _problems(problems: list[Any]) -> str:
    """Problems as ``dojo release`` lists them: a count, then one per line."""
    return (f"{len(problems)} problem{'' if len(problems) == 1 else 's'}:\n"
            + "\n".join(f"  - {p}" for p in problems))


def verify_consistency(exercise: Exercise) -> Step:
    """The exercise's declarations agree with its solutions (:func:`consistency.validate`)."""
    problems = validate(exercise, load_reference_dir(exercise.reference_package))
    detail = ("questions, markers, checks, swap-ins, planted bugs, given modules and data sets "
              "agree" if not problems else _problems(problems))
    return Step(exercise.name, "declarations consistent with the solutions", not problems,
                detail)


def verify_library(exercises: list[Exercise]) -> Step | None:
    """The course library's markers, as ``dojo release`` validates them
    (:func:`consistency.library_problems`: every block names a registered topic and one of its
    questions, with "did you mean"); None where no exercise's solutions sit beside a library."""
    folders = {Path(load_reference_dir(e.reference_package)).parent for e in exercises}
    folders = {f for f in folders if (f / LIBRARY / "__init__.py").is_file()}
    if not folders:
        return None
    problems = [p for f in sorted(folders) for p in library_problems(f, exercise_names())]
    return Step("library", "the course library's markers name registered topics and questions",
                not problems, "every block names its topic and a question of it"
                if not problems else _problems(problems))


def _graded_questions(exercise: Exercise, bug_question: str | None, also: tuple[str, ...],
                      integrative: bool) -> tuple[list[str], list[str]]:
    """``(questions, skipped)``: every question of the exercise, and the integrative ones
    left out of a planted bug's grading (those not planted on)."""
    questions = list(dict.fromkeys([*exercise.questions, *(c.question for c in exercise.checks)]))
    skipped = [] if integrative else [
        q for q in exercise.integrative if q != bug_question and q not in also]
    return questions, skipped


def _only(exercise: Exercise, options: GradeOptions, questions: list[str],
          skipped: list[str]) -> GradeOptions:
    if not skipped:
        return options
    graded = frozenset(qualify(exercise.name, q) for q in questions if q not in skipped)
    return dataclasses.replace(options, questions=graded)


def verify_baseline(exercise: Exercise, work: Path, options: GradeOptions, *,
                    integrative: bool = False) -> tuple[Step, Baseline | None]:
    """Grade a copy of the solutions as a submission (``work/bug``), recording the units of
    code each check runs: it must score full marks (a check that fails on the solutions would
    blame every planted bug). The baseline is None where it does not."""
    folder = work / "bug"
    shutil.rmtree(folder, ignore_errors=True)
    topic = _copy_solutions(exercise, folder)
    questions, skipped = _graded_questions(exercise, None, (), integrative)
    executed: dict[str, frozenset[tuple[str, str]] | None] = {}
    # the reference stands in for every required question, as for a submission that fails
    # them all: the call-backs counted are the most a check makes, and each check's units of
    # code are its own (a bug's grading runs a passed question's own code only where that
    # question's checks, which do run the bug's unit, all pass)
    opts = dataclasses.replace(_only(exercise, options, questions, skipped),
                               executed=executed, own_passed=False)
    result = grade_exercise(exercise, topic, opts)
    lost = [c for c in result.checks if c.score < c.max_score]
    if lost:
        return Step(exercise.name, BASELINE_STEP, False, "; ".join(
            f"{c.id}: {c.status} {c.message[:160]}" for c in lost)), None
    short = _limits_short_of_call_backs(exercise, result.checks, options.limits)
    if short:
        return Step(exercise.name, BASELINE_STEP, False, "; ".join(short)), None
    known = sum(1 for c in result.checks if executed.get(c.id) is not None)
    most = max(result.checks, key=lambda c: c.details.get("call_backs", 0), default=None)
    busiest = (f"; the most call-backs, {most.details['call_backs']:,} in {most.id}"
               if most is not None and most.details.get("call_backs") else "")
    strict = ""  # what the strict pass (runner._strict_pass, on NumPy only) judged
    if options.backend == "numpy" and strict_available():
        again = sum(1 for c in result.checks if c.details.get("strict_pass"))
        strict = (f"; {again} of its value, property and gradient checks gave the same values "
                  "again on array_api_strict arrays (the strict pass)")
    elif options.backend == "numpy":
        strict = "; no strict pass: array-api-strict is not installed"
    return (Step(exercise.name, BASELINE_STEP, True,
                 f"full marks, {result.score:g}/{result.max_score:g}; the code each check "
                 f"runs recorded for {known} of {len(result.checks)} checks{busiest}{strict}"),
            Baseline({c.id: c for c in result.checks}, executed,
                     Course(topic).import_runs_code()))


#: the step that finds given code a check ran from the submission
GIVEN_STEP = "given code runs from the reference, never from the submission"


def verify_given_code(exercise: Exercise, topic: Path, baseline: Baseline) -> Step:
    """Fail where a check ran a module of the topic's folder that holds no question's block
    and is not declared given (``Topic.given_modules``): given code (a training loop, a
    scorer) run from the submission, so a student who edits it is judged on the edit, and
    nothing said so. ``topic``: the baseline's copy of the solutions; ``baseline.executed``
    names the files each check ran there (relative to the course folder). Declared given,
    a module runs from the reference and is not in the record."""
    ran = sorted({file for units in baseline.executed.values() if units
                  for file, _ in units if Path(file).parts[:1] == (exercise.name,)})
    ungiven = []
    for file in ran:
        path = topic.parent / file
        module = Path(file).relative_to(exercise.name).with_suffix("").as_posix().replace(
            "/", ".")
        if path.is_file() and not parse_blocks(path):
            ungiven.append(module)
    if not ungiven:
        return Step(exercise.name, GIVEN_STEP, True,
                    f"the checks ran {len(ran)} module(s) of the topic from the submission, "
                    "each a question's code")
    names = ", ".join(f"{m}.py" for m in ungiven)
    return Step(exercise.name, GIVEN_STEP, False, (
        f"the checks run {names} from the submission, which hold no question's block: given "
        f"code a student could edit to change a verdict. Declare "
        f"{'it' if len(ungiven) == 1 else 'them'} in the topic's given_modules "
        f"(given_modules=({', '.join(repr(m) for m in ungiven)}, ...) in "
        f"course/{exercise.name}/__init__.py) so that the checks run the reference's copy"))


#: the step that finds a question running another's code without requiring it
REQUIRES_STEP = "each question requires the questions whose code its checks run"


def _owners(course: Path, topic: str) -> dict[tuple[str, str], str]:
    """``(file, unit) -> full question id`` of every solution block of the topic's folder and
    of the course library under ``course`` (files relative to it, as the record names them)."""
    owners: dict[tuple[str, str], str] = {}
    for folder, prefix in ((course / topic, topic), (course / LIBRARY, None)):
        if not folder.is_dir():
            continue
        for question, units in questions_in(folder).items():
            for module, qualname in units:
                if qualname is not None:
                    file = f"{folder.name}/{module.replace('.', '/')}.py"
                    owners[(file, qualname)] = qualify(prefix, question) if prefix else question
    return owners


def verify_requires(exercise: Exercise, topic: Path, baseline: Baseline) -> Step:
    """Fail where a check of one question ran, from the submission, a unit of code that holds
    another question's block, a question it does not require (transitively): a student with
    that question right and the other unfinished loses its points, and ``--strict`` (whose
    planted bugs change one question's code at a time) passes. Required questions are swapped
    in and run from the reference, so they are never in the record; integrative questions
    train the student's whole pipeline by design and are left out, and so are the questions a
    check names in its ``own_code``."""
    owners = _owners(topic.parent, exercise.name)

    def find(name: str) -> Exercise:  # this exercise as given, the others as registered
        return exercise if name == exercise.name else get_exercise(name)

    integrative = set(exercise.integrative)
    own_code = {c.id: c.own_code for c in exercise.checks}
    found: dict[tuple[str, str], set[str]] = {}
    for cid, units in baseline.executed.items():
        result = baseline.results.get(cid)
        if not units or result is None or result.question in integrative:
            continue
        question = qualify(exercise.name, result.question)
        try:
            required = closure(question, find)
        except QuestionError as exc:  # an unknown topic or a cycle: said here, not raised
            return Step(exercise.name, REQUIRES_STEP, False, str(exc))
        # a check that runs the student's own code of a question on purpose says so
        # (``Check.own_code``: a training run, where a stand-in costs a round trip a step)
        allowed = {question, *required} | {qualify(exercise.name, q)
                                           for q in own_code.get(cid, ())}
        for file, unit in units:
            owner = owners.get((file, unit))
            if owner is not None and owner not in allowed:
                found.setdefault((question, owner), set()).add(f"{unit} in {file}")
    if not found:
        return Step(exercise.name, REQUIRES_STEP, True,
                    "no check runs the submission's code of a question it does not require")
    def declared(owner: str) -> str:  # as `requires` writes it: bare within the topic
        topic, _, bare = owner.partition(".")
        return bare if topic == exercise.name else owner

    return Step(exercise.name, REQUIRES_STEP, False, "; ".join(
        f"{q}'s checks run {owner}'s code from the submission ({', '.join(sorted(where))}), "
        f"and {q.partition('.')[2]} does not require it: a student with it right and "
        f"{owner} unfinished loses its points. Declare requires=({declared(owner)!r},) on "
        f"{q.partition('.')[2]} (its code then runs from the reference in these checks)"
        for (q, owner), where in sorted(found.items())))


def _limits_short_of_call_backs(exercise: Exercise, checks: list[CheckResult],
                                limits: Limits) -> list[str]:
    """The checks whose time limit would not cover their call-backs into swapped-in reference
    code at :data:`~.callbacks.CALLBACK_BUDGET_S` each: on a busy grading machine they would
    time out on a right answer. The count follows from the code and the check's sizes, barely
    from the drawn inputs (a kink measured again: residual_block's largest, 2,528-2,535 at
    input seeds 1-3 against a limit of 3,000), so the solutions' count is a right answer's; the
    planted-bug tests hold it at every seed they draw."""
    short = []
    for result in checks:
        n = result.details.get("call_backs", 0)
        limit = exercise.check(result.id).timeout_s * limits.timeout_scale
        if n * CALLBACK_BUDGET_S > limit:
            short.append(
                f"{result.id}: {n:,} call-backs into swapped-in reference code need "
                f"{n * CALLBACK_BUDGET_S:.1f} s at {1000 * CALLBACK_BUDGET_S:g} ms each (what "
                f"one may cost on a busy machine), over its limit of {limit:g} s; raise the "
                "check's timeout_s, or let it call back less (a sequence check unrolls over "
                "stand-in cells and calls back once per call, not per step)")
    return short


def _state_shared(original: str, planted: str) -> bool:
    """Whether the file a bug changes changes a library's state (``np.set_printoptions``,
    ``matplotlib.use``...), with the bug or without: a check that ran none of the changed units
    may still see that state, left by an earlier check in its worker, so no verdict is reused.
    (A module doing so only in its functions does not stop the reuse for the bugs of other
    files: they change no call of it.)"""
    return changes_library_state(original) or changes_library_state(planted)


def _reusable(bug: PlantedBug, baseline: Baseline | None, changed: set[str] | None,
              rel: str, state: bool = False) -> dict[str, CheckResult]:
    """The baseline's verdicts that hold with ``bug`` planted: those of the checks of other
    questions (not ``bug.also``) that ran none of the ``changed`` units of file ``rel``; none
    where ``state`` (:func:`_state_shared`)."""
    if baseline is None or changed is None or baseline.import_runs_code or state:
        return {}
    changed_here = {(rel, unit) for unit in changed}
    own = {bug.question, *bug.also}
    return {cid: result for cid, result in baseline.results.items()
            if result.question not in own and baseline.executed.get(cid) is not None
            and not changed_here & baseline.executed[cid]}


def verify_bug(exercise: Exercise, bug: PlantedBug, work: Path, options: GradeOptions, *,
               strict: bool = False, baseline: Baseline | None = None,
               integrative: bool = False, every_check: bool = False) -> Step:
    """Plant ``bug`` in a copy of the solutions (``work/bug``) and grade it: it must cost
    points on its question; with ``strict``, on no other question. ``integrative``: grade
    every integrative question too; without it only those the bug is planted on (its own
    question or ``bug.also``) are graded, since points lost on the others never decide the
    step and they retrain the whole pipeline for every bug. ``baseline``
    (:func:`verify_baseline`): a check of another question that ran none of the units the
    bug changes keeps its baseline verdict (see the module's docstring). The bug's own
    question is graded only until a check catches it (saying ``bug.says``, where the bug
    has one), its gradient checks (the slow part) last: the step asks whether it is caught,
    not by which check first; a bug whose ``by`` names checks that must each catch it has
    those graded first and all; ``every_check`` grades them all, to list every check that
    catches it. The other
    questions get a verdict on every check, run or reused from the baseline (``strict`` and
    ``bug.also`` need them)."""
    name = f"planted bug {bug.name}"
    if bug.unplaced:  # its topic could not tell its question (Topic.planted_bugs)
        return Step(exercise.name, name, False,
                    f"the planted bug is defined wrongly: {bug.where}: {bug.unplaced}")
    folder = work / "bug"  # the baseline's folder: the worker sees the same paths
    shutil.rmtree(folder, ignore_errors=True)
    topic = _copy_solutions(exercise, folder)
    questions, skipped = _graded_questions(exercise, bug.question, tuple(bug.also), integrative)
    if bug.question not in questions:
        return Step(exercise.name, name, False,
                    f"the planted bug is defined wrongly: question {bug.question!r} is not a "
                    f"question of {exercise.name}; "
                    + suggest(bug.question, questions, "questions"))
    problem = bug_problem(bug, topic)
    if problem is not None:
        return Step(exercise.name, name, False, f"the planted bug is defined wrongly: {problem}")
    path = bug_path(topic, bug)
    original = path.read_text(encoding="utf-8")
    planted = plant(bug, original, str(path))
    path.write_text(planted, encoding="utf-8")
    options = _only(exercise, options, questions, skipped)
    reused = _reusable(bug, baseline, changed_units(original, planted),
                       path.relative_to(folder).as_posix(), _state_shared(original, planted))
    # the checks of its ``by`` first (each must catch it), its gradient checks last: the step
    # asks whether a check catches the bug, and central differences (a forward per
    # coordinate, the `repeated` ones of every call) are the slow ones, often declared before
    # a quick check that catches it
    by = frozenset(f"{bug.question}.{name}" for name in bug.by)
    options = dataclasses.replace(
        options, cache=_Reused(reused),
        until_lost=options.until_lost if every_check else {bug.question: bug.says or ""},
        graded_first={bug.question: by},
        order=lambda check: (check.id not in by, check.kind == "gradient"))
    result = grade_exercise(exercise, topic, options)
    target = [c for c in result.checks if c.question == bug.question]
    caught = [c for c in target if c.score < c.max_score]
    lost = [c for c in result.checks if c.question != bug.question and c.score < c.max_score]
    elsewhere = [f"{c.id} ({c.status}: {c.message[:160]})" for c in lost
                 if c.question not in exercise.integrative]
    lost_integrative = [c.id for c in lost if c.question in exercise.integrative]
    if not caught:
        return Step(exercise.name, name, False,
                    f"not caught: every check of question {bug.question!r} still passes (a "
                    "replacement that computes what the original does, a rewrite, is no "
                    "mistake: plant one that changes the result; otherwise the question's "
                    "checks cannot tell this mistake from the right code: add a case that does, "
                    "or tighten a tolerance its change falls within: a check's rtol/atol, a "
                    "metric's margin)")
    detail = f"caught by {', '.join(c.id for c in caught)}: {caught[0].message}"
    if bug.says and not any(bug.says in c.message for c in caught):
        return Step(exercise.name, name, False,
                    f"{detail}; but no message of question {bug.question!r} names the cause: "
                    f"it should say {bug.says!r}")
    caught_ids = {c.id for c in caught}
    uncaught = [f"{bug.question}.{check}" for check in bug.by
                if f"{bug.question}.{check}" not in caught_ids]
    if uncaught:
        return Step(exercise.name, name, False,
                    f"{detail}; but it was planted to be caught by {', '.join(uncaught)} too, "
                    "which still passes: that check cannot tell this wrong answer from a "
                    "right one")
    missed = [q for q in bug.also if not any(c.question == q for c in lost)]
    if missed:
        return Step(exercise.name, name, False,
                    f"{detail}; but it was planted to cost points on {', '.join(missed)} too, "
                    f"and every check of {', '.join(missed)} still passes")
    if elsewhere and strict:
        return Step(exercise.name, name, False,
                    f"{detail}; but it also costs points on other questions: "
                    f"{', '.join(elsewhere)} (--strict: a bug must cost points only on its own "
                    f"question; give those checks swap_in=(..., {bug.question!r}) when they "
                    "run code of that question, or plant the bug under the question whose "
                    "code it changes)")
    if elsewhere:
        detail += f" (also lost points on {', '.join(elsewhere)})"
    if lost_integrative:
        detail += f" (and, as intended, on the integrative {', '.join(lost_integrative)})"
    if skipped:
        detail += (f" (integrative {', '.join(skipped)} not graded for this bug: "
                   "--integrative grades them too)")
    others = [c for c in result.checks if c.question != bug.question]
    rerun = sum(1 for c in others if not c.cached)
    detail += (f" ({rerun} of {len(others)} checks of other questions graded again, the rest "
               "ran none of the changed code in the baseline)")
    return Step(exercise.name, name, True, detail)


def verify_foreign_bug(exercise: Exercise, owner: Exercise, bug: PlantedBug, work: Path,
                       options: GradeOptions, baseline: Baseline | None) -> Step | None:
    """A planted bug of another topic (``owner``) in the course library, planted in this
    exercise's copy of it: the checks of ``exercise`` that ran the code it changes (in the
    baseline) are graded again, and none may lose points. One that does runs the student's
    own ``owner.question`` without requiring it, so a student's mistake there would cost
    points twice; ``requires`` makes the reference stand in for it. None where no check of
    ``exercise`` ran the code the bug changes (nothing to grade), or where that is not known.
    Run by ``--strict`` only, which fails such a step."""
    if (baseline is None or baseline.import_runs_code
            or not bug.module.startswith(f"..{LIBRARY}.")):
        return None
    source = load_reference_dir(exercise.reference_package)
    path = bug_path(source, bug)  # this exercise's library (the copy graded has the same)
    if not path.is_file() or bug_problem(bug, load_reference_dir(owner.reference_package)):
        return None  # a bug defined wrongly is its own topic's step to say
    original = path.read_text(encoding="utf-8")
    planted = plant(bug, original, str(path))
    changed = changed_units(original, planted)
    if changed is None:
        return None
    rel = path.relative_to(source.parent).as_posix()  # as the baseline names files
    touched = {cid for cid, units in baseline.executed.items()
               if units is not None and {(rel, unit) for unit in changed} & units}
    # most other topics' bugs change code no check of this one ran: asked first, the state
    # a module keeps is read only for the rest (either way there is nothing to grade)
    if not touched or _state_shared(original, planted):
        return None
    folder = work / "bug"  # the baseline's folder: the worker sees the same paths
    shutil.rmtree(folder, ignore_errors=True)
    topic = _copy_solutions(exercise, folder)
    bug_path(topic, bug).write_text(planted, encoding="utf-8")
    questions, skipped = _graded_questions(exercise, None, (), False)
    reused = {cid: r for cid, r in baseline.results.items() if cid not in touched}
    result = grade_exercise(exercise, topic, dataclasses.replace(
        _only(exercise, options, questions, skipped), cache=_Reused(reused)))
    required = qualify(owner.name, bug.question)
    # a check that runs the student's own code of that question on purpose (``own_code``: a
    # training run, where the reference standing in would cost a round trip a step) names it
    # in its hint; losing points there is by design
    on_purpose = {c.id for c in exercise.checks
                  if required in {qualify(exercise.name, q) for q in c.own_code}}
    lost = [c for c in result.checks if c.score < c.max_score
            and c.question not in exercise.integrative and c.id not in on_purpose]
    name = f"{owner.name}'s planted bug {bug.name}"
    if not lost:
        mine = sorted(c.id for c in result.checks if c.id in on_purpose
                      and c.score < c.max_score)
        if mine:
            return Step(exercise.name, name, True, (
                f"costs points only on {', '.join(mine)}, which run the student's own "
                f"{required} on purpose (own_code) ({len(touched)} checks that run the "
                "library code it changes graded again)"))
        return Step(exercise.name, name, True, f"costs no points here ({len(touched)} checks "
                    "that run the library code it changes graded again)")
    return Step(exercise.name, name, False, (
        f"costs points on {', '.join(c.id for c in lost)} ({lost[0].status}: "
        f"{lost[0].message[:160]}): those checks run the student's own {required} (in the "
        f"course library) without requiring it, so one mistake there costs points twice; "
        f"declare requires=(..., {required!r}) on "
        f"{', '.join(dict.fromkeys(c.question for c in lost))} (the reference then stands in "
        "for it)"))


def verify(exercises: list[Exercise], *, backends: list[tuple[str, str]] | None = None,
           on_step: Callable[[Step], None] | None = None,
           limits: Limits | None = None, strict: bool = False,
           input_seed: int | None = None, integrative: bool = False,
           every_check: bool = False, stubs: bool = True) -> list[Step]:
    """Run every verification step; ``on_step`` sees each result as it arrives. ``backends``:
    the (backend, device) pairs to grade the solutions on (``None``: every available one);
    ``strict``: a planted bug that costs points on another question than its own fails;
    ``input_seed``: the checks' inputs (``None``: :func:`seed_from_environment`);
    ``integrative``: grade every integrative question for every planted bug;
    ``every_check``: every check of a bug's question, not only until one catches it (both:
    see :func:`verify_bug`); ``stubs``: grade the stubs (step 1). The planted-bug tests that
    run for many input seeds pass ``stubs=False, backends=[]``: the stubs' verdicts draw
    nothing, and the baseline (step 3) already grades the solutions at the seed, through the
    worker."""
    steps: list[Step] = []
    if input_seed is None:
        input_seed = seed_from_environment()
    # a planted bug's submission is the solutions but for the bug, which its own question's
    # checks catch: a question that passes them all is the solutions' code, and a check that
    # loses points on it would lose them with the reference's too (not run twice)
    options = GradeOptions(limits=limits or Limits(), input_seed=input_seed,
                           again_with_reference=False)

    def record(step: Step) -> None:
        steps.append(step)
        if on_step:
            on_step(step)

    with tempfile.TemporaryDirectory(prefix="nlpdojo-verify-") as tmp:
        work = Path(tmp)
        library = verify_library(list(exercises))
        if library is not None:
            record(library)
        for exercise in exercises:
            sub = work / exercise.name
            sub.mkdir()
            record(verify_consistency(exercise))
            if unreadable_markers(load_reference_dir(exercise.reference_package)):
                # every later step reads the markers (the stubs, the blocks, the bugs' places):
                # each would report the same mistake again, the last at a temporary path
                record(Step(exercise.name, "the other steps", False,
                            "not run: the solutions' markers cannot be read (the step above "
                            "says where); fix them first"))
                continue
            if strict:
                record(verify_every_question_proven(exercise))
            if stubs:
                record(verify_stubs(exercise, sub, options))
                record(verify_empty_blocks(exercise, sub, options))
                record(verify_judges_read_expected(exercise))
            for backend, device in backends if backends is not None else available_backends():
                record(verify_solutions(exercise, backend, device, options))
            baseline = None
            if exercise.planted_bugs:
                step, baseline = verify_baseline(exercise, sub, options,
                                                 integrative=integrative)
                record(step)
                if not step.ok:  # every bug would fail with it: said once, not per bug
                    record(Step(exercise.name, "planted bugs", False,
                                f"{len(exercise.planted_bugs)} planted bugs not graded: the "
                                "solutions, graded as a submission, do not score full marks "
                                "(the step above says where); fix that first"))
                    continue
                record(verify_given_code(exercise, sub / "bug" / exercise.name, baseline))
                record(verify_requires(exercise, sub / "bug" / exercise.name, baseline))
            for bug in exercise.planted_bugs:
                record(verify_bug(exercise, bug, sub, options, strict=strict,
                                  baseline=baseline, integrative=integrative,
                                  every_check=every_check))
            if strict:  # the other topics' bugs in the library code this one runs
                for owner in (get_exercise(n) for n in exercise_names() if n != exercise.name):
                    for bug in owner.planted_bugs:
                        step = verify_foreign_bug(exercise, owner, bug, sub, options, baseline)
                        if step is not None:
                            record(step)
    return steps
