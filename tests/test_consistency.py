"""``consistency.validate`` and ``planted.plant`` on the release fixture topic (``toy``:
questions ``sigmoid`` and ``logistic``) with a hand-made exercise: every way its declarations
can disagree with its solutions is one problem naming where and what to do."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from nlpdojo_autograder.authoring import bug
from nlpdojo_autograder.authoring.checks import Exercise, PlantedBug, Verdict
from nlpdojo_autograder.authoring.kinds import custom_check
from nlpdojo_autograder.authoring.planted import PlantError, plant
from nlpdojo_autograder.release.consistency import ConsistencyError, ensure_consistent, validate

TOPIC = Path(__file__).parent / "fixtures" / "release_topic" / "solutions" / "toy"
SIGMOID_BUG = PlantedBug("sigmoid flipped", "activations", "return 1.0 / (1.0 + math.exp(-x))",
                         "return 1.0 / (1.0 + math.exp(x))", "sigmoid")


def _check(question: str, name: str = "values", swap_in: tuple[str, ...] = (), **options):
    options.setdefault("needs_expected", True)  # judged against the reference's payload
    return custom_check(name, f"{question} {name}", 1.0, lambda ctx: {},
                        lambda a, e: Verdict(True, "ok"),
                            question=question, swap_in=swap_in, **options)


def _exercise(**changes) -> Exercise:
    base = Exercise(
        name="toy", title="Toy", questions={"sigmoid": "Sigmoid", "logistic": "Logistic"},
        checks=[_check("sigmoid"), _check("logistic", swap_in=("sigmoid",))],
        planted_bugs=[SIGMOID_BUG])
    return replace(base, **changes)


@pytest.fixture
def topic(tmp_path: Path) -> Path:
    """A private copy of the fixture topic (tests may break it)."""
    dest = tmp_path / "toy"
    shutil.copytree(TOPIC, dest)
    return dest


def _messages(problems) -> str:
    return "\n".join(str(p) for p in problems)


def test_a_consistent_exercise_has_no_problem(topic: Path):
    assert validate(_exercise(), topic) == []
    ensure_consistent(_exercise(), topic)  # does not raise


def test_a_block_whose_stub_runs_at_import_names_its_line(topic: Path):
    """A block outside every function (a class attribute in it) or in a function the module
    calls as it is imported: the stub raises NotImplementedError at import, and a student
    with the module's other questions right got 0 on them (an author's trial). Calls inside
    functions and methods are fine."""
    path = topic / "activations.py"
    text = path.read_text()
    path.write_text(text + (
        "\n\nclass Gain:\n"
        "    ### BEGIN SOLUTION sigmoid\n"
        "    slope = 1.0\n"
        "    ### END SOLUTION\n"
        "\n\nHALF = sigmoid(0.0)\n"
        "\n\ndef later():\n    return sigmoid(1.0)\n"))
    lines = path.read_text().splitlines()
    block = len(lines) - lines[::-1].index("    ### BEGIN SOLUTION sigmoid")  # the class's
    call = lines.index("HALF = sigmoid(0.0)") + 1
    problems = validate(_exercise(), topic)
    assert [p.where for p in problems] == [f"{path}:{block}", f"{path}:{call}"]
    assert "outside every function: its stub, raise NotImplementedError, would run as the " \
           "module is imported" in problems[0].message
    assert "calls sigmoid() as the module is imported, and sigmoid holds a solution block" \
           in problems[1].message


def test_points_are_a_number_and_a_question_is_worth_some(topic: Path):
    """NaN points made every student's total NaN (``0/nan``), silently; a question whose
    checks are all worth 0 (feedback only) is worth nothing."""
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match=r"check sigmoid.values: points=.*: a check's "
                           "points are a number, 0 or more"):
            custom_check("values", "v", bad, lambda ctx: {}, lambda a, e: Verdict(True, ""),
                         question="sigmoid")
    free = replace(_check("sigmoid"), points=0.0)
    problems = validate(_exercise(checks=[free, _check("logistic", swap_in=("sigmoid",))]),
                        topic)
    assert [(p.where, p.message[:25]) for p in problems] == [
        ("question sigmoid", "is worth no points: each ")]


def test_a_function_holding_two_questions_blocks_names_its_line(topic: Path):
    """The grader swaps a function in for one question as a whole: a function holding two
    questions' blocks failed right code with an engine's error (an author's trial)."""
    path = topic / "activations.py"
    path.write_text(path.read_text() + (
        "\n\ndef both(x):\n"
        "    ### BEGIN SOLUTION sigmoid\n    y = x\n    ### END SOLUTION\n"
        "    ### BEGIN SOLUTION logistic\n    return y\n    ### END SOLUTION\n"))
    line = path.read_text().splitlines().index("def both(x):") + 1
    problems = [p for p in validate(_exercise(), topic) if "holds the blocks" in p.message]
    assert [p.where for p in problems] == [f"{path}:{line}"]
    assert problems[0].message.startswith("both() holds the blocks of 2 questions (logistic, "
                                          "sigmoid)")


def test_a_mistyped_marker_id_names_file_line_and_the_question_meant(topic: Path):
    path = topic / "classifier.py"
    path.write_text(path.read_text().replace("### BEGIN SOLUTION logistic",
                                             "### BEGIN SOLUTION logistc", 1))
    [problem] = validate(_exercise(), topic)
    assert problem.where == f"{path}:18"
    assert "solution block of unknown question 'logistc'" in problem.message
    assert "did you mean 'logistic'?" in problem.message


def test_a_marker_never_closed_is_one_problem_not_a_cascade(topic: Path):
    """An instructor's trial: one ``### END SOLUTION`` deleted gave five problems (the question
    without a block, its code without a block, each planted bug outside every block) before
    the right one; ``dojo verify`` then ended at a temporary copy's path. The marker alone is
    said: the rest reads the blocks (``unreadable_markers`` tells verify to stop there)."""
    from nlpdojo_autograder.release.consistency import unreadable_markers

    path = topic / "classifier.py"
    text = path.read_text()
    head, _, tail = text.rpartition("### END SOLUTION")  # the module's last block unclosed
    path.write_text(head + tail)
    [problem] = validate(_exercise(), topic)
    assert "is never closed" in problem.message and problem.where.startswith(str(path))
    assert unreadable_markers(topic) == [problem]
    path.write_text(text)
    assert validate(_exercise(), topic) == [] and unreadable_markers(topic) == []


def test_a_question_without_a_check_is_a_problem(topic: Path):
    path = topic / "classifier.py"
    path.write_text(path.read_text() + "\n\ndef extra():\n    ### BEGIN SOLUTION extra\n"
                    "    return 1\n    ### END SOLUTION\n")
    questions = {"sigmoid": "Sigmoid", "logistic": "Logistic", "extra": "Extra"}
    [problem] = validate(_exercise(questions=questions), topic)
    assert str(problem) == ("exercise toy: question 'extra' has no check, so it is worth "
                            "nothing; add a check for it or remove it from questions")


def test_swap_in_must_name_another_question_that_has_a_block(topic: Path):
    questions = {"sigmoid": "Sigmoid", "logistic": "Logistic", "training": "Training"}
    checks = [_check("sigmoid", swap_in=("sigmoid",)),
              _check("logistic", swap_in=("sigmod",)),
              _check("training", swap_in=("logistic",)),
              _check("training", "other", swap_in=("training",))]
    exercise = Exercise(name="toy", title="Toy", questions=questions, checks=checks)
    text = _messages(validate(exercise, topic))
    assert ("check sigmoid.values: swap_in names the check's own question 'sigmoid'" in text)
    assert ("check logistic.values: swap_in names unknown question 'sigmod'; did you mean "
            "'sigmoid'? questions: sigmoid, logistic, training") in text
    assert "check training.values" not in text
    assert "check training.other: swap_in names the check's own question" in text
    checks[2] = _check("sigmoid", "more", swap_in=("training",))
    exercise = Exercise(name="toy", title="Toy", questions=questions, checks=checks)
    assert ("check sigmoid.more: swap_in names question 'training', which has no solution "
            "block, so swapping it in replaces nothing") in _messages(validate(exercise, topic))


def test_a_check_of_an_unknown_question_is_a_problem(topic: Path):
    exercise = _exercise()
    exercise.checks.append(_check("sigmod", "late"))  # added after __post_init__ checked them
    assert "check sigmod.late: names unknown question 'sigmod'; did you mean 'sigmoid'?" in (
        _messages(validate(exercise, topic)))


def test_a_planted_bug_whose_find_does_not_occur(topic: Path):
    stale = replace(SIGMOID_BUG, find="return 1 / (1 + math.exp(-x))")
    [problem] = validate(_exercise(planted_bugs=[stale]), topic)
    assert problem.where == str(topic / "activations.py")
    assert "planted bug 'sigmoid flipped': `find` 'return 1 / (1 + math.exp(-x))' does not " \
           "occur; the code changed: update `find`" in problem.message


def test_a_reformatted_find_is_an_error_that_says_where_it_moved(topic: Path):
    path = topic / "activations.py"
    path.write_text(path.read_text().replace("return 1.0 / (1.0 + math.exp(-x))",
                                             "return 1.0 / (\n            1.0 + math.exp(-x)\n"
                                             "        )"))
    [problem] = validate(_exercise(), topic)
    assert "does not occur; it occurs with different whitespace or line breaks at line 16: " \
           "copy that text into `find` exactly" in problem.message


def test_a_planted_bug_whose_find_occurs_twice(topic: Path):
    twice = replace(SIGMOID_BUG, find="(1.0 + ", replace="(2.0 + ")
    [problem] = validate(_exercise(planted_bugs=[twice]), topic)
    assert "`find` '(1.0 + ' occurs 2 times (lines 16, 18); lengthen it" in problem.message


def test_a_planted_bug_that_does_not_change_the_ast(topic: Path):
    comment = replace(SIGMOID_BUG, find="# numerically stable for negative x",
                      replace="# a bug, honestly")
    spaces = replace(SIGMOID_BUG, name="spaces", find="1.0 / (1.0 + math.exp(-x))",
                     replace="1.0/(1.0+math.exp(-x))")
    problems = validate(_exercise(planted_bugs=[comment, spaces]), topic)
    assert [p.where for p in problems] == [f"{topic / 'activations.py'}:17",
                                           f"{topic / 'activations.py'}:16"]
    assert all("the replacement changes no code (only comments or whitespace); make "
               "`replace` change" in p.message for p in problems)


def test_a_bug_written_in_place_is_named_by_its_text_and_its_change(topic: Path):
    """A bug written ``«old → new»`` is told about its text before the change and the
    change's new side, not a find and a replace it never wrote."""
    stale = bug("sigmoid flipped", "return «1 / (1 + math.exp(-x)) → 1 / (1 + math.exp(x))»")
    [problem] = validate(_exercise(planted_bugs=[replace(stale, question="sigmoid",
                                                         module="activations")]), topic)
    assert ("planted bug 'sigmoid flipped': its text before the change (each «old → new» read "
            "as old) 'return 1 / (1 + math.exp(-x))' does not occur; the code changed: update "
            "the bug's text") in problem.message
    blank = bug("spaces", "return «1.0 / (1.0 + math.exp(-x)) → 1.0/(1.0+math.exp(-x))»")
    [problem] = validate(_exercise(planted_bugs=[replace(blank, question="sigmoid",
                                                         module="activations")]), topic)
    assert "make the change's new side change what the code does" in problem.message


def test_a_planted_bug_that_breaks_the_syntax(topic: Path):
    broken = replace(SIGMOID_BUG, replace="return 1.0 / (1.0 + math.exp(-x)")
    [problem] = validate(_exercise(planted_bugs=[broken]), topic)
    assert "the module no longer parses after the replacement" in problem.message


def test_planted_bug_module_question_and_name_mistakes(topic: Path):
    bugs = [replace(SIGMOID_BUG, module="activations.py"),
            replace(SIGMOID_BUG, name="other", module="activation"),
            replace(SIGMOID_BUG, name="other", question="sigmod")]
    text = _messages(validate(_exercise(planted_bugs=bugs), topic))
    assert "module 'activations.py' not found" in text
    assert "give the module name without .py" in text
    assert "module 'activation' not found" in text and "did you mean 'activations'?" in text
    assert "planted bug 'other': two planted bugs have this name; rename one" in text
    assert "question 'sigmod' is not a question of toy; did you mean 'sigmoid'?" in text


def test_given_modules_and_datasets_must_exist(topic: Path):
    exercise = _exercise(given_modules=("activations", "trian"),
                         datasets={"logistic": ("sotu", "sot"), "logistik": ()})
    text = _messages(validate(exercise, topic, datasets=["sotu", "wordsim353"]))
    assert "given module 'activations' has solution blocks (line 14)" in text
    assert "given module 'trian' not found" in text
    assert "datasets[\'logistic\'] names unknown data set 'sot'; did you mean 'sotu'?" in text
    assert "datasets names unknown question 'logistik'; did you mean 'logistic'?" in text


def test_every_problem_is_listed_at_once(topic: Path):
    path = topic / "classifier.py"
    path.write_text(path.read_text().replace("SOLUTION logistic", "SOLUTION logistc"))
    exercise = _exercise(planted_bugs=[replace(SIGMOID_BUG, find="nope")])
    with pytest.raises(ConsistencyError) as info:
        ensure_consistent(exercise, topic, "nothing was written")
    # the typo (two blocks), the question it leaves without a block, the planted bug's find
    assert len(info.value.problems) == 4
    assert str(info.value).startswith("4 consistency problems (nothing was written):\n  ")


def test_plant_replaces_the_single_occurrence():
    text = "def f(x):\n    return x + 1\n"
    bug = PlantedBug("minus", "m", "x + 1", "x - 1", "q")
    assert plant(bug, text, "m.py") == "def f(x):\n    return x - 1\n"
    with pytest.raises(PlantError, match=r"m.py: planted bug 'minus': `find` 'x \+ 1' occurs"):
        plant(bug, text + "y = x + 1\n", "m.py")


def test_an_integrative_question_must_exist_train_and_require_nothing(topic: Path):
    from nlpdojo_autograder.authoring.kinds import metric_check

    assert "integrative question 'logistc': is not a question" in _messages(
        validate(_exercise(integrative=("logistc",)), topic))
    assert "has no metric check" in _messages(validate(_exercise(integrative=("logistic",)),
                                                       topic))
    trains = metric_check("accuracy", "trained", 1.0,
                          lambda ctx: {"value": 1.0, "majority": 0.5}, question="logistic",
                          metric="accuracy", threshold=0.5, budget="none", chance="majority")
    with_metric = _exercise(checks=[*_exercise().checks, trains], integrative=("logistic",))
    assert validate(with_metric, topic) == []
    assert "so it requires nothing" in _messages(validate(
        replace(with_metric, requires={"logistic": ("sigmoid",)}), topic))


def test_a_metric_without_a_chance_floor_is_refused_whatever_bug_is_planted(topic: Path):
    """Issue 65: an absolute threshold that an untrained model meets (0.5 accuracy on two
    classes) passed release and verify without a word; and a planted bug (``by=``, ``also=``)
    proves only that some wrong training fails, not that none passes (an instructor's trial:
    0.45 on balanced classes passed with one, and a training that did nothing earned it)."""
    from nlpdojo_autograder.authoring.kinds import metric_check

    trains = metric_check("accuracy", "trained", 1.0, lambda ctx: {"value": 1.0},
                          question="logistic", metric="accuracy", threshold=0.5,
                          budget="none")
    with_metric = _exercise(checks=[*_exercise().checks, trains], integrative=("logistic",))
    [problem] = validate(with_metric, topic)
    assert problem.where == "check logistic.accuracy"
    assert "is a metric with no chance floor" in problem.message and "chance=" in problem.message
    proves = replace(SIGMOID_BUG, also=("logistic",))
    assert [p.where for p in validate(replace(with_metric, planted_bugs=[proves]), topic)] == [
        "check logistic.accuracy"]
    worthless = metric_check("accuracy", "trained", 0.0, lambda ctx: {"value": 1.0},
                             question="logistic", metric="accuracy", threshold=0.5,
                             budget="none")
    assert not [p for p in validate(replace(with_metric, checks=[
        *_exercise().checks, worthless]), topic) if "chance floor" in p.message]


def test_a_chance_floor_the_run_does_not_measure_is_the_declarations_error():
    """A misspelt ``chance=`` key (``"majorty"``) made the floor vanish without a word."""
    from nlpdojo_autograder.authoring.checks import DeclarationError
    from nlpdojo_autograder.authoring.kinds import metric_check

    check = metric_check("accuracy", "trained", 1.0, lambda ctx: {}, question="logistic",
                         metric="accuracy", threshold=0.5, budget="none", chance="majorty")
    with pytest.raises(DeclarationError, match="chance='majorty' names no figure its run "
                                               "measured \\(it measured: majority, value\\)"):
        check.judge({"value": 0.9, "majority": 0.5}, None)


# -- the course library and where a question's code is (issue 24) -----------------------------
LIBRARY_LAYER = '''"""A layer of the course library."""


def scale(x, k):
    """``x * k``."""
    ### BEGIN SOLUTION {marker}
    return x * k
    ### END SOLUTION
'''


def _with_library(topic: Path, marker: str) -> Path:
    """The topic's course library beside it, one block marked ``marker``."""
    library = topic.parent / "library"
    library.mkdir()
    (library / "__init__.py").write_text("")
    (library / "layers.py").write_text(LIBRARY_LAYER.format(marker=marker))
    return library / "layers.py"


def test_a_library_block_of_an_unknown_question_of_the_topic_is_named(topic: Path):
    """The typo of the instructor's try (``toy_rnn.gru_cel``) used to pass release and
    verify, and --strict then advised the wrong fix."""
    path = _with_library(topic, "toy.sigmod")
    [problem] = validate(_exercise(), topic)
    assert problem.where == f"{path}:6"
    assert "library block of unknown question 'toy.sigmod'" in problem.message
    assert "did you mean 'sigmoid'?" in problem.message


def test_library_blocks_name_a_registered_topic(topic: Path):
    from nlpdojo_autograder.release.consistency import library_problems

    path = _with_library(topic, "scale")  # bare: whose question?
    [bare] = library_problems(topic.parent, {"toy"})
    assert bare.where == f"{path}:6"
    assert "names no topic" in bare.message and "<topic>.scale" in bare.message
    path.write_text(LIBRARY_LAYER.format(marker="tyo.scale"))
    [unknown] = library_problems(topic.parent, {"toy"})
    assert "names topic 'tyo', which no registered exercise is" in unknown.message
    assert "did you mean 'toy'?" in unknown.message
    path.write_text(LIBRARY_LAYER.format(marker="toy.scale"))
    assert library_problems(topic.parent, {"toy"}) == []


def test_every_question_has_code_unless_it_is_integrative(topic: Path):
    from nlpdojo_autograder.authoring.kinds import metric_check

    trained = metric_check("run", "a run", 1.0, lambda ctx: {"value": 1.0, "majority": 0.5},
                           question="training", metric="accuracy", threshold=0.5,
                           budget="one step", chance="majority")
    exercise = _exercise(questions={"sigmoid": "Sigmoid", "logistic": "Logistic",
                                    "training": "Training"},
                         checks=[*_exercise().checks, trained])
    [problem] = validate(exercise, topic)
    assert problem.where == "exercise toy: question 'training'"
    assert "has no solution block, so students have nothing to write for it" in problem.message
    assert validate(replace(exercise, integrative=("training",)), topic) == []


def test_the_declared_code_of_a_question_is_where_its_blocks_are(topic: Path):
    assert validate(_exercise(code={"sigmoid": ("activations",)}), topic) == []
    _with_library(topic, "toy.logistic")  # logistic's code: classifier and the library
    assert validate(_exercise(code={"logistic": ("classifier", "library/layers")}),
                    topic) == []
    problems = _messages(validate(_exercise(code={"sigmoid": ("classifier",),
                                                  "logistic": ("classifier",)}), topic))
    assert ("question 'sigmoid': declares its code in 'classifier' (code=, by default the "
            "module named as the question), which has no block") in problems
    assert "question 'sigmoid': has a solution block in 'activations', which its code= " \
           "(classifier) does not name" in problems
    assert "question 'logistic': has a solution block in 'library/layers'" in problems


def test_a_check_judged_without_the_reference_names_its_oracle_and_a_bug_proves_it(topic):
    """A check that does not compare with the reference carries points only if it names what
    the grader compares with instead (``oracle=``), and a planted bug caught by it proves a
    wrong answer fails it (an attacker earned 8.5 points on such checks with uniform
    distributions, an argmax for a sampler and optimizers that never step)."""
    blind = _check("sigmoid", "sums", needs_expected=False)
    [problem] = validate(_exercise(checks=[blind, _check("logistic")]), topic)
    assert problem.where == "check sigmoid.sums"
    assert "judged without the reference" in problem.message
    assert "right=(rtol, atol)" in problem.message and "oracle=" in problem.message

    with_oracle = _check("sigmoid", "sums", needs_expected=False, oracle="the exact sums")
    [problem] = validate(_exercise(checks=[with_oracle, _check("logistic")]), topic)
    assert problem.where == "check sigmoid.sums"
    assert "no planted bug proves" in problem.message and "by=('sums',)" in problem.message

    proved = replace(SIGMOID_BUG, by=("sums",))
    assert validate(_exercise(checks=[with_oracle, _check("logistic")],
                              planted_bugs=[proved]), topic) == []
    free = replace(blind, points=0.0)  # feedback only: nothing to earn
    assert validate(_exercise(checks=[free, _check("sigmoid"), _check("logistic")]),
                    topic) == []


def test_a_planted_bug_in_another_questions_block_says_so(topic: Path):
    """A bug declared for 'logistic' whose text lies in sigmoid's block changes sigmoid's code:
    dojo verify said "not caught ... add a case", the wrong diagnosis."""
    stray = replace(SIGMOID_BUG, name="stray", question="logistic")
    [problem] = validate(_exercise(planted_bugs=[SIGMOID_BUG, stray]), topic)
    assert problem.where == "planted bug 'stray'"
    assert problem.message.startswith("its text lies in the solution block of sigmoid in ")
    assert "not of 'logistic'" in problem.message


def test_a_planted_bug_by_a_check_its_question_does_not_have(topic: Path):
    typo = replace(SIGMOID_BUG, by=("vaules",))
    [problem] = validate(_exercise(planted_bugs=[typo]), topic)
    assert problem.where == "planted bug 'sigmoid flipped'"
    assert "by='vaules' is not a check of question 'sigmoid'" in problem.message
    assert "did you mean 'values'?" in problem.message


def test_right_earns_a_property_on_the_reference_outputs_only():
    """``custom_check(right=...)``: the judge speaks first; its pass needs the outputs to be
    the reference's."""
    sums = custom_check("sums", "sums to 1", 1.0, lambda ctx: {},
                        lambda a, e: Verdict(abs(a["p"].sum() - 1) < 1e-9, "sums to 1"),
                            question="q",
                        right=(1e-9, 0.0))
    assert sums.needs_expected
    import numpy as np

    right = {"p": np.array([0.2, 0.3, 0.5])}
    uniform = {"p": np.full(3, 1 / 3)}
    assert sums.judge(right, right).passed
    verdict = sums.judge(uniform, right)
    assert not verdict.passed and "earned on right outputs only" in verdict.message
    assert not sums.judge({"p": np.array([0.5, 0.6, 0.1])}, right).passed
