"""``grade`` run where a student actually is: inside a topic folder, beside a notebook, or
somewhere without ``exercises/``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from nlpdojo_autograder.cli.grade import app

runner = CliRunner()


def grade(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_grade_inside_a_topic_folder_grades_that_folder(toy, make_submission, monkeypatch):
    topic = make_submission(stub=True) / "toy"
    monkeypatch.chdir(topic)  # a student who ran `cd exercises/toy`
    result = grade("-f", "json")  # no topic named: the folder's own topic
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["submission"] == str(topic.resolve())
    assert report["score"] == 0  # the student's stubs were graded, not the reference
    assert "not implemented" in result.output


def test_grade_a_question_inside_a_topic_folder(toy, make_submission, monkeypatch):
    monkeypatch.chdir(make_submission() / "toy")
    result = grade("scale", "-f", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    checks = [c for e in report["exercises"] for c in e["checks"]]
    assert checks and {c["id"].split(".")[0] for c in checks} == {"scale"}


def test_no_exercises_here_is_student_advice(toy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["scale"])
    assert result.exit_code == 2
    assert "no ./exercises here" in result.output
    assert "--submission" in result.output
    assert "dojo release" not in result.output  # instructor advice, not for students
    assert "Traceback" not in result.output


def test_grade_a_notebook_from_its_own_folder(toy, make_submission, monkeypatch):
    """`grade --submission toy.ipynb` as the notebook's how-to cell says: the notebook is graded
    (here filled in), not the .py stubs beside it."""
    from nlpdojo_autograder.release.notebooks import build_notebook, dumps

    filled = make_submission(name="filled") / "toy"
    topic = make_submission(stub=True) / "toy"
    (topic / "toy.ipynb").write_text(dumps(build_notebook(filled, stub=False)))
    monkeypatch.chdir(topic)
    result = grade("--submission", "toy.ipynb", "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["submission"].endswith("toy.ipynb")
    stubs = grade("-f", "json")  # the .py files of the same folder: still stubs
    assert stubs.exit_code == 1


def test_grade_dot_inside_a_topic_folder_finds_the_library_beside_it(tmp_path, monkeypatch):
    """A student in ``exercises/neural_networks`` who runs ``grade relu --submission .``: the
    course library next to the folder is the one graded with it (``.``'s parent is ``.``, and
    every check failed with "No module named 'nlpdojo_submission.library'")."""
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "exercises", ("library", "neural_networks"))
    monkeypatch.chdir(course / "neural_networks")
    for args in (("--submission", "."), ()):
        result = grade("neural_networks.relu", *args, "-f", "json")
        report = json.loads(result.output)
        checks = [c for e in report["exercises"] for c in e["checks"]]
        assert checks and all(c["score"] == c["max_score"] for c in checks), result.output


def test_an_edited_given_file_is_named_where_the_students_copy_runs(tmp_path):
    """A student release grades the student's own copy of given code (tagger.py set to 0
    epochs made pos_tagging fail, and feedback blamed the student's classifier): the grading
    says which given file differs from the released one. Where the reference is installed its
    copy runs, and nothing is said."""
    from nlpdojo_autograder.grading.grade import GradeOptions
    from nlpdojo_autograder.grading.grade import grade as grade_api
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path, ("library", "neural_networks"),
                           appended={"neural_networks/tagger.py": "EPOCHS_WRITTEN_IN = 0\n"})
    options = {"questions": frozenset({"neural_networks.relu"})}
    student = grade_api(["neural_networks"], submission=course / "neural_networks",
                        options=GradeOptions(use_reference=False, **options), replay_options={})
    said = [w for w in student.warnings if "tagger.py is given code" in w]
    assert said and "this grading ran your copy" in said[0], student.warnings
    instructor = grade_api(["neural_networks"], submission=course / "neural_networks",
                           options=GradeOptions(**options), replay_options={})
    assert not [w for w in instructor.warnings if "given code" in w], instructor.warnings


def test_grade_inside_the_course_library_grades_the_course_it_belongs_to(tmp_path, monkeypatch):
    """``cd exercises/library && grade relu``: "no ./exercises here" sent a student away from
    the folder where their neural_networks code lives."""
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "exercises", ("library", "neural_networks"))
    monkeypatch.chdir(course / "library")
    result = grade("neural_networks.relu", "-f", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["submission"] == str(course.resolve())


def test_the_library_folder_given_as_the_submission_says_which_folder_to_give(tmp_path,
                                                                              monkeypatch):
    """``grade neural_networks.relu --submission library`` from ``exercises/``: the library's
    files were taken for the topic's, and every check said "No module named
    'nlpdojo_submission.library'" with a hint to add a file. Now each check says the folder
    given is the library's and which to give instead."""
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "exercises", ("library", "neural_networks"))
    monkeypatch.chdir(course)
    result = grade("neural_networks.relu", "--submission", "library", "-f", "json")
    assert result.exit_code == 1, result.output
    checks = [c for e in json.loads(result.output)["exercises"] for c in e["checks"]]
    assert checks and all(c["score"] == 0 and c["status"] == "error" for c in checks)
    message = checks[0]["message"]
    assert "is the course library's folder, not neural_networks's" in message, message
    assert f"--submission {course.absolute()}" in message and "No module" not in message


def test_the_topics_files_with_library_among_them_grade_on_that_library(tmp_path):
    """An upload to Gradescope of a topic's files with ``library/`` beside them, in one
    folder (the zip's README allows it): the library was looked for next to the folder, and a
    right submission scored 0 ("No module named 'nlpdojo_submission.library'"). It is graded
    on its own library, which counts: a wrong library file costs points."""
    import shutil

    from nlpdojo_autograder.grading.grade import GradeOptions
    from nlpdojo_autograder.grading.grade import grade as grade_api
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "course", ("library", "neural_networks"))
    flat = tmp_path / "upload"
    shutil.copytree(course / "neural_networks", flat)
    shutil.copytree(course / "library", flat / "library")
    options = GradeOptions(questions=frozenset({"neural_networks.relu"}))
    result = grade_api(["neural_networks"], submission=flat, options=options, replay_options={})
    checks = result.exercises[0].checks
    assert checks and all(c.score == c.max_score for c in checks), [
        (c.id, c.message) for c in checks]
    layers = flat / "library" / "activations.py"
    layers.write_text(layers.read_text().replace("x > 0", "x < 0"))
    wrong = grade_api(["neural_networks"], submission=flat, options=options, replay_options={})
    assert wrong.exercises[0].score < wrong.exercises[0].max_score


def test_a_topic_without_its_library_says_to_submit_the_library_folder(tmp_path):
    """Only the topic's folder, no library/ anywhere: the hint said to add "library.py"."""
    import shutil

    from nlpdojo_autograder.grading.grade import GradeOptions
    from nlpdojo_autograder.grading.grade import grade as grade_api
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "course", ("library", "neural_networks"))
    alone = tmp_path / "alone" / "neural_networks"
    shutil.copytree(course / "neural_networks", alone)
    options = GradeOptions(questions=frozenset({"neural_networks.window_classifier"}))
    result = grade_api(["neural_networks"], submission=alone, options=options,
                       replay_options={})
    messages = [c.message for c in result.exercises[0].checks if c.score < c.max_score]
    assert messages and any("there is no library/ in your submission: this topic is built on "
                            "the course library, so submit its folder too" in m
                            for m in messages), messages
    assert not any("library.py" in m for m in messages)


def test_a_checkout_zipped_in_a_folder_of_its_own_is_graded(toy, make_submission, tmp_path):
    """Round 7: a Gradescope upload of ``hw1/toy/...`` (the checkout zipped with its folder)
    scored 0, "missing folder", on every check. The one folder inside that holds the topic
    is graded (a zip tool's ``__MACOSX`` beside it aside); two such folders are no guess."""
    import shutil

    upload = tmp_path / "upload"
    shutil.copytree(make_submission(), upload / "hw1")
    (upload / "__MACOSX").mkdir()
    result = grade("toy", "--submission", str(upload), "-f", "json")
    assert result.exit_code == 0, result.output
    shutil.copytree(upload / "hw1", upload / "hw1 (copy)")
    result = grade("toy", "--submission", str(upload), "-f", "json")
    assert result.exit_code == 1 and "missing folder" in result.output


def test_a_topic_folder_named_in_another_case_is_named_in_the_message(toy, make_submission,
                                                                      tmp_path):
    """Round 7: ``Toy/`` for ``toy/`` said only "missing folder"."""
    folder = make_submission()
    (folder / "toy").rename(folder / "Toy")
    (folder / "notes").mkdir()  # (Toy/ alone would be graded as the topic's files)
    (folder / "notes" / "todo.md").write_text("rename?\n")
    result = grade("toy", "--submission", str(folder), "-f", "json")
    assert result.exit_code == 1
    message = json.loads(result.output)["exercises"][0]["checks"][0]["message"]
    assert "Toy/ is there: folder names are case-sensitive; name it toy/" in message, message


def test_files_beside_the_topic_folder_graded_instead_are_named(toy, make_submission, tmp_path):
    """Round 7: the released stubs' folder uploaded with the right files beside it: the folder
    is graded (0), and the files beside it were not said to be left out."""
    import shutil

    upload = tmp_path / "upload"
    shutil.copytree(make_submission(stub=True) / "toy", upload / "toy")
    for module in (make_submission(name="right") / "toy").glob("*.py"):
        shutil.copy2(module, upload / module.name)
    result = grade("toy", "--submission", str(upload), "-f", "json")
    warnings = json.loads(result.stdout)["warnings"]
    assert any(w.startswith("graded toy/; the Python files beside it (") and "scale.py" in w
               for w in warnings), warnings


def test_a_topics_files_zipped_in_a_folder_of_their_own_are_graded(tmp_path):
    """Round 7's sibling: a Gradescope upload of ``hw1/`` holding the topic's files and
    ``library/`` (the files zipped with their folder) scored 0, "missing folder". The one
    folder inside is graded as the topic's files, on the library among them, which counts."""
    import shutil

    from nlpdojo_autograder.grading.grade import GradeOptions
    from nlpdojo_autograder.grading.grade import grade as grade_api
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "course", ("library", "neural_networks"))
    upload = tmp_path / "upload"
    shutil.copytree(course / "neural_networks", upload / "hw1")
    shutil.copytree(course / "library", upload / "hw1" / "library")
    options = GradeOptions(questions=frozenset({"neural_networks.relu"}))
    result = grade_api(["neural_networks"], submission=upload, options=options,
                       replay_options={})
    checks = result.exercises[0].checks
    assert checks and all(c.score == c.max_score for c in checks), [
        (c.id, c.message) for c in checks]
    layers = upload / "hw1" / "library" / "activations.py"
    layers.write_text(layers.read_text().replace("x > 0", "x < 0"))
    wrong = grade_api(["neural_networks"], submission=upload, options=options, replay_options={})
    assert wrong.exercises[0].score < wrong.exercises[0].max_score
    assert (upload / "hw1" / "library").is_dir()  # the submitted folder is left as it was


def test_a_notebook_saved_after_the_modules_is_pointed_to(toy, make_submission, monkeypatch):
    """A newcomer worked in the topic's notebook and ran ``grade``: the untouched modules were
    graded, "not implemented", with no word of the notebook. Where the notebook was saved
    after every module and a check says not implemented, the grading says how to grade it;
    a notebook older than the modules (or full marks) says nothing."""
    import os

    topic = make_submission(stub=True) / "toy"
    notebook = topic / "toy.ipynb"
    notebook.write_text("{}")  # its content is not read: only when it was saved
    for module in topic.glob("*.py"):
        os.utime(module, (1_000_000_000, 1_000_000_000))
    said = " ".join(grade("toy", "-s", str(topic.parent)).output.split())
    assert "toy.ipynb was saved after toy's modules" in said, said
    assert f"grade --submission {notebook}" in said
    os.utime(notebook, (900_000_000, 900_000_000))
    said = " ".join(grade("toy", "-s", str(topic.parent)).output.split())
    assert "was saved after" not in said, said


def test_a_folder_that_holds_the_checkout_is_graded_on_its_library(tmp_path):
    """``--submission hw`` where ``hw/exercises/`` holds the course (a folder one level too
    high), one question graded: the checkout was taken for the topic's loose files with
    ``library/`` among them, the library moved away from the topic's folder, and the right
    code scored 0 with "there is no library/ in your submission"."""
    from nlpdojo_autograder.grading.grade import GradeOptions
    from nlpdojo_autograder.grading.grade import grade as grade_api
    from tests.grading.courses import edited_course

    edited_course(tmp_path / "hw" / "exercises", ("library", "neural_networks"))
    options = GradeOptions(questions=frozenset({"neural_networks.window_classifier"}))
    result = grade_api(["neural_networks"], submission=tmp_path / "hw", options=options,
                       replay_options={})
    checks = result.exercises[0].checks
    assert checks and all(c.score == c.max_score for c in checks), [
        (c.id, c.message) for c in checks]


def test_another_topics_folder_is_not_graded_as_the_topic_named(tmp_path):
    """One question graded on a folder that is another topic's (``grade word_vectors.softmax``
    inside ``exercises/neural_networks``), or holds only another topic's folder: its files
    were taken for the topic's loose files ("softmax.py is missing from the submission").
    Now every check says which topic's folder it is and what to give."""
    from nlpdojo_autograder.grading.grade import GradeOptions
    from nlpdojo_autograder.grading.grade import grade as grade_api
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "exercises", ("library", "neural_networks"))
    options = GradeOptions(questions=frozenset({"word_vectors.softmax"}))
    for submission in (course / "neural_networks", course):
        result = grade_api(["word_vectors"], submission=submission, options=options,
                           replay_options={})
        checks = result.exercises[0].checks
        assert checks and all(c.status == "error" and c.score == 0 for c in checks)
        message = checks[0].message
        assert ("neural_networks/ is the folder of another topic, neural_networks: give the "
                "folder that holds word_vectors/") in message, message
        assert "missing from the submission" not in message


def test_the_library_folder_with_no_topic_named_says_to_give_its_parent(tmp_path):
    """``grade --submission exercises/library``: the advice was ``grade TOPIC --submission
    exercises/library``, which then said to give the parent; it says that at once."""
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "exercises", ("library", "neural_networks"))
    result = runner.invoke(app, ["--submission", str(course / "library")])
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    assert "is the course library's folder" in flat, flat
    assert f"grade --submission {course.resolve()}" in flat and "TOPIC" not in flat


def test_a_notebook_of_another_topic_is_named_as_such(tmp_path, monkeypatch):
    """``grade word_vectors.softmax --submission neural_networks.ipynb``: every check said a
    module was missing from the submission; the notebook's own topic is named, as soon as it
    is read (before its package is built, whose errors would hide why)."""
    from nlpdojo_autograder.release import notebook_submission
    from nlpdojo_autograder.release.notebooks import build_notebook, dumps
    from tests.grading.courses import SOLUTIONS

    def never(*args, **kwargs):
        raise AssertionError("the package of a notebook of another topic was built")

    for built in ("_template_from_reference", "_template_from_folder", "materialize_notebook"):
        monkeypatch.setattr(notebook_submission, built, never)

    notebook = tmp_path / "neural_networks.ipynb"
    notebook.write_text(dumps(build_notebook(SOLUTIONS / "neural_networks", stub=False)))
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["word_vectors.softmax", "--submission", str(notebook),
                                 "-f", "json", "-o", str(out)])
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    assert "is the notebook of neural_networks, not of word_vectors" in flat, flat
    assert f"grade neural_networks --submission {notebook}" in flat
    assert not out.exists() and "Traceback" not in result.output


def test_a_missing_notebook_is_told_as_a_missing_folder_is(tmp_path):
    """A misspelt notebook with ``--output``: a score-0 report was written (a misspelt folder
    writes none), in whatever format was asked; both are usage errors now, nothing written."""
    out = tmp_path / "r.json"
    for missing in ("nosuch.ipynb", "nosuch"):
        result = runner.invoke(app, ["--submission", str(tmp_path / missing), "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert "does not exist" in result.output and not out.exists()


def test_an_unknown_question_of_a_topic_lists_that_topics_questions():
    """``grade neural_networks.zzzzqq`` suggested other topics' questions (l2, sgd)."""
    result = runner.invoke(app, ["neural_networks.zzzzqq", "--solutions"])
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "neural_networks has no question 'zzzzqq'; its questions:" in flat, flat
    assert "relu" in flat and "skipgram" not in flat and "did you mean" not in flat
    typo = runner.invoke(app, ["neural_networks.rellu", "--solutions"])
    assert "did you mean neural_networks.relu?" in " ".join(typo.output.split())


def test_a_topic_folder_in_another_case_given_itself_says_why_its_library_is_not_taken(
        tmp_path):
    """``--submission exercises/Neural_Networks``: graded as the topic's files without the
    library beside it (taken only for a folder named as the topic), and the checks said
    "there is no library/ in your submission" with library/ right there."""
    from nlpdojo_autograder.grading.grade import GradeOptions
    from nlpdojo_autograder.grading.grade import grade as grade_api
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "exercises", ("library", "neural_networks"))
    (course / "neural_networks").rename(course / "Neural_Networks")
    options = GradeOptions(questions=frozenset({"neural_networks.relu"}))
    result = grade_api(["neural_networks"], submission=course / "Neural_Networks",
                       options=options, replay_options={})
    assert any("Neural_Networks/ was graded without the library/ beside it" in w
               and "name it neural_networks/" in w for w in result.warnings), result.warnings


def test_a_topic_folder_in_another_case_unwrapped_is_named(tmp_path):
    """``hw/Neural_Networks/`` beside ``hw/library/``, one question graded: the one folder is
    graded as the topic's (the student's own code, full marks), with no word of its name,
    which a grading of two topics refuses."""
    from nlpdojo_autograder.grading.grade import GradeOptions
    from nlpdojo_autograder.grading.grade import grade as grade_api
    from tests.grading.courses import edited_course

    course = edited_course(tmp_path / "hw", ("library", "neural_networks"))
    (course / "neural_networks").rename(course / "Neural_Networks")
    options = GradeOptions(questions=frozenset({"neural_networks.relu"}))
    result = grade_api(["neural_networks"], submission=course, options=options,
                       replay_options={})
    checks = result.exercises[0].checks
    assert checks and all(c.score == c.max_score for c in checks)
    assert any("graded Neural_Networks/ as neural_networks/" in w
               and "name it neural_networks/" in w for w in result.warnings), result.warnings
