"""The scan for the reference in a student wheel (nlpdojo_autograder.release.leaks), on small
made-up solutions: each form a solution line can ship in is found (code, string constant,
docstring, comment, JSON, an array of strings, a name), what students get anyway is not, and
the bundle's wheel check refuses a wheel with a finding or a withheld package. The real
bundle holds none: tests/test_student_bundle.py."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nlpdojo_autograder.authoring import Question, Topic, value_check
from nlpdojo_autograder.authoring.markers import strip_solutions
from nlpdojo_autograder.authoring.topic import withheld_bugs
from nlpdojo_autograder.release import leaks
from nlpdojo_autograder.release.bundle import BundleError, check_wheel

SOLUTION = '''"""A topic."""


def _scaled(x):
    return 2.0 * x


def clip(grads, max_norm):
    """Clip by the global norm."""
    ### BEGIN SOLUTION clip
    # one norm over every parameter, every gradient scaled alike
    total = sum(float((g * g).sum()) for g in grads) ** 0.5
    factor = min(1.0, max_norm / (total + 1e-6))  # (): 1 below the threshold
    def _helper_only_here(g):
        return g * factor
    return [_helper_only_here(g) for g in grads], total
    ### END SOLUTION


def doubled(x):
    ### BEGIN SOLUTION doubled
    y = _scaled(x)
    return y
    ### END SOLUTION
'''
TOTAL = "total = sum(float((g * g).sum()) for g in grads) ** 0.5"
FACTOR = "factor = min(1.0, max_norm / (total + 1e-6))"


@pytest.fixture
def found(tmp_path: Path) -> leaks.SolutionText:
    solutions = tmp_path / "solutions" / "topic"
    solutions.mkdir(parents=True)
    (solutions / "clip.py").write_text(SOLUTION)
    stub = strip_solutions(SOLUTION)
    return leaks.solution_lines(tmp_path / "solutions", {"topic/clip.py": stub.encode()})


def test_the_lines_searched_for_are_the_blocks_substantial_ones(found):
    shown = {text for text, _ in found.lines.values()}
    assert TOTAL in shown and FACTOR in shown
    assert "# one norm over every parameter, every gradient scaled alike" in shown
    assert found.lines[leaks.key(TOTAL)][1] == "solutions/topic/clip.py:12"
    # short, trivial and commented-only-after-code text is not searched for
    assert not {"y = _scaled(x)", "return y", "return g * factor"} & shown
    assert not [t for t in shown if "1 below the threshold" in t]
    assert found.names == {"_helper_only_here": "solutions/topic/clip.py:10"}


def test_what_the_stubs_hand_out_is_not_searched_for(tmp_path: Path):
    solutions = tmp_path / "solutions" / "topic"
    solutions.mkdir(parents=True)
    (solutions / "clip.py").write_text(SOLUTION)
    given = strip_solutions(SOLUTION) + f"\n\ndef given(grads):\n    {TOTAL}\n    return total\n"
    found = leaks.solution_lines(tmp_path / "solutions", {"topic/clip.py": given.encode()})
    shown = {text for text, _ in found.lines.values()}
    assert TOTAL not in shown and FACTOR in shown


@pytest.mark.parametrize("form, module, line", [
    ("string", f'FIND = "    {TOTAL}\\n"\n', 1),
    ("string", f'"""A docstring.\n\nIt quotes:\n\n    {FACTOR}\n"""\n', 5),
    ("string", 'bug("x", M,\n    "total = sum(float((g * g).sum()) "\n    "for g in grads) ** 0.5",'
               ' "", "clip")\n', 2),  # implicitly joined literals, split mid-line
    ("string", f'x = f"{{a}} {FACTOR}"\n', 1),
    ("comment", f"x = 1\n# {TOTAL}\n", 2),
    ("comment", "# one norm over every parameter, every gradient scaled alike\n", 1),
    ("code", f"def f(grads, max_norm):\n    {TOTAL}\n    {FACTOR}\n", 2),
    ("code", "def f(grads):\n    total=sum( float((g*g).sum())  for g in grads )**0.5\n", 2),
    ("name", "from x import _helper_only_here\n", 1),
])
def test_a_solution_line_planted_in_a_shipped_module_is_reported(found, form, module, line):
    [first, *_] = leaks.scan_files(found, {"nlpdojo_course/topic/checks.py": module.encode()})
    assert (first.file, first.line, first.form) == ("nlpdojo_course/topic/checks.py", line, form)
    assert first.source.startswith("solutions/topic/clip.py:")
    assert "nlpdojo_course/topic/checks.py:" in str(first)


def test_a_clean_module_and_numeric_fixtures_are_not_reported(found):
    arrays = io.BytesIO()
    np.savez(arrays, values=np.arange(6.0))
    files = {"nlpdojo_course/topic/checks.py": b'"""Clip checks."""\nCASES = (1.0, 2.0)\n',
             "nlpdojo_course/topic/fixtures/clip.npz": arrays.getvalue(),
             "nlpdojo_course/topic/fixtures/clip.json": b'{"norm": [1.5, 2.5]}'}
    assert leaks.scan_files(found, files) == []


def test_data_files_are_read_too(found):
    arrays = io.BytesIO()
    np.savez(arrays, text=np.array(["fine", f"    {FACTOR}"]))
    document = json.dumps({"hint": f"write {TOTAL}\nthen return"})
    files = {"nlpdojo_course/topic/fixtures/clip.npz": arrays.getvalue(),
             "nlpdojo_course/topic/fixtures/clip.json": document.encode(),
             "nlpdojo-0.1.dist-info/METADATA": f"Description\n\n    {FACTOR}\n".encode()}
    reported = {(leak.file, leak.form) for leak in leaks.scan_files(found, files)}
    assert reported == {("nlpdojo_course/topic/fixtures/clip.npz:text", "data"),
                        ("nlpdojo_course/topic/fixtures/clip.json", "text"),  # its line
                        ("nlpdojo_course/topic/fixtures/clip.json", "data"),  # its string
                        ("nlpdojo-0.1.dist-info/METADATA", "text")}


def _wheel(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("nlpdojo_autograder/__init__.py", "")
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_the_wheel_check_refuses_a_solution_line_naming_file_and_line(found, tmp_path: Path):
    wheel = _wheel(tmp_path / "a.whl", {"nlpdojo_course/topic/checks.py":
                                        f'"""Checks."""\n\nFIND = "{FACTOR}"\n'.encode()})
    with pytest.raises(BundleError) as caught:
        check_wheel(wheel, [], found)
    message = str(caught.value)
    assert "nlpdojo_course/topic/checks.py:3 (string) holds solutions/topic/clip.py:13" in message
    assert "nothing was written" in message and "withheld" in message
    clean = _wheel(tmp_path / "b.whl", {"nlpdojo_course/topic/checks.py": b"X = 1\n"})
    assert check_wheel(clean, [], found) == 0


def test_the_wheel_check_refuses_a_withheld_package(tmp_path: Path):
    wheel = _wheel(tmp_path / "a.whl", {"nlpdojo_course/topic/withheld/__init__.py": b""})
    with pytest.raises(BundleError, match="withheld"):
        check_wheel(wheel, [])


# -- the withheld module of a topic -----------------------------------------------------------
def _topic(withheld: str | None) -> Topic:
    check = value_check("values", "clip on a case", 1.0, lambda ctx: {}, question="clip")
    return Topic("topic", "A topic", 1, [Question("clip", "Clipping", [check],
                                                  code="clip")], withheld=withheld)


def test_a_topics_withheld_bugs_join_its_questions_where_installed(tmp_path: Path, monkeypatch):
    package = tmp_path / "made_up_pack" / "withheld"
    package.mkdir(parents=True)
    (tmp_path / "made_up_pack" / "__init__.py").write_text("")
    (package / "__init__.py").write_text(
        "from nlpdojo_autograder.authoring import bug\n"
        "BUGS = {'clip': [bug('no clip', 'min(1.0, ', 'max(1.0, ')]}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("made_up_pack", "made_up_pack.withheld"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    [planted] = _topic("made_up_pack.withheld").exercise().planted_bugs
    # listed under its question: that question's, planted into its code's module
    assert (planted.name, planted.question, planted.module) == ("no clip", "clip", "clip")
    # a student's install: the package is not there, and the topic has no planted bugs
    assert withheld_bugs("made_up_pack.withheld.absent") == []
    assert _topic("made_up_pack.withheld.absent").exercise().planted_bugs == []


def test_a_misspelt_or_unlisted_withheld_module_is_an_error(tmp_path: Path, monkeypatch):
    """A misspelt ``withheld=`` planted no bug, silently, and ``dojo verify`` passed proving
    nothing; so did a module of the package whose ``BUGS`` its ``__init__`` does not list.
    Both are errors where the package is installed; where it is not (a student wheel, a
    Gradescope bundle: the reference may be there), the topic has no planted bugs."""
    package = tmp_path / "made_up_pack5" / "withheld"
    package.mkdir(parents=True)
    (tmp_path / "made_up_pack5" / "__init__.py").write_text("")
    bug = "from nlpdojo_autograder.authoring import bug\n"
    (package / "__init__.py").write_text(f"{bug}from . import clip\nBUGS = [clip.BUGS]\n")
    (package / "clip.py").write_text(f"{bug}BUGS = [bug('no clip', 'min(1.0, ', 'max(1.0, ')]\n")
    (tmp_path / "made_up_pack6").mkdir()
    (tmp_path / "made_up_pack6" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("made_up_pack5", "made_up_pack5.withheld", "made_up_pack5.withheld.clip",
                 "made_up_pack6"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert [b.name for b in withheld_bugs("made_up_pack5.withheld")] == ["no clip"]
    with pytest.raises(ValueError, match="withheld='made_up_pack5.witheld' names no module, "
                       "though made_up_pack5.withheld is there"):
        withheld_bugs("made_up_pack5.witheld")
    assert withheld_bugs("made_up_pack6.withheld") == []  # an install without the package
    (package / "scale.py").write_text(f"{bug}BUGS = [bug('no scale', 'x *', 'x +')]\n")
    with pytest.raises(ValueError, match=r"scale.py defines planted bugs its package's BUGS .* "
                       r"does not list \(no scale\): add scale.BUGS to it"):
        withheld_bugs("made_up_pack5.withheld")


CLIP = """def clip(x, limit):
    scale = limit
    ### BEGIN SOLUTION clip
    return min(1.0, scale / x) * x
    ### END SOLUTION
"""
SCALE = """def scale(x, k):
    ### BEGIN SOLUTION scale
    return x * k  # shared text
    ### END SOLUTION
"""
PLACED = """from nlpdojo_autograder.authoring import bug
BUGS = [
    bug("no clip", "min(1.0, ", "max(1.0, "),
    bug("marker line", "scale = limit\\n    ### BEGIN SOLUTION clip",
        "scale = 1\\n    ### BEGIN SOLUTION clip"),
    bug("limit ignored", "scale = limit", "scale = 1.0", question="clip"),
    bug("outside every block", "scale = limit", "scale = 1.0"),
    bug("in two modules", "return ", "return -"),
    bug("one of two, said", "x * k  # shared", "x + k  # shared", module="scale"),
    bug("stale", "no such text", "x"),
    bug("respaced", "min(1.0,scale / x)", "max(1.0, scale / x)"),
]
"""


def _reference(tmp_path: Path, package: str) -> Path:
    """A reference package ``package`` whose topic holds ``clip.py`` and ``scale.py``."""
    reference = tmp_path / package / "topic"
    reference.mkdir(parents=True)
    (tmp_path / package / "__init__.py").write_text("")
    (reference / "__init__.py").write_text("")
    (reference / "clip.py").write_text(CLIP)
    (reference / "scale.py").write_text(SCALE)
    return reference


def test_a_withheld_bug_is_placed_by_the_solution_block_its_find_lies_in(tmp_path: Path,
                                                                         monkeypatch):
    """A withheld bug names neither question nor module: its topic finds the solution block
    its ``find`` lies in (the marker lines count); where it cannot (outside every block,
    in two modules, nowhere), the bug is unplaced, with what to add, at its own line, and the
    release checks report it; the topic still grades."""
    from nlpdojo_autograder.release.consistency import _check_bugs

    reference = _reference(tmp_path, "made_up_ref")
    (tmp_path / "made_up_pack3").mkdir()
    (tmp_path / "made_up_pack3" / "__init__.py").write_text(PLACED)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("made_up_ref", "made_up_ref.topic", "made_up_pack3"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    checks = [value_check("values", "a case", 1.0, lambda ctx: {}, question=q)
              for q in ("clip", "scale")]
    topic = Topic("topic", "A topic", 1, [Question("clip", "Clipping", [checks[0]], code="clip"),
                                         Question("scale", "Scaling", [checks[1]], code="scale")],
                  withheld="made_up_pack3", reference="made_up_ref.topic")
    exercise = topic.exercise()
    bugs = {b.name: b for b in exercise.planted_bugs}
    placed = {name: (b.question, b.module) for name, b in bugs.items() if not b.unplaced}
    assert placed == {"no clip": ("clip", "clip"), "marker line": ("clip", "clip"),
                      "limit ignored": ("clip", "clip"), "one of two, said": ("scale", "scale")}
    reasons = {name: b.unplaced for name, b in bugs.items() if b.unplaced}
    assert "no question's solution block" in reasons["outside every block"]
    assert "give question=" in reasons["outside every block"]
    # (an instructor's trial: told only "give question=", an author who had forgotten a
    # block's markers gave it, and the code outside every block shipped as written)
    assert "put it inside the question's ### BEGIN SOLUTION / ### END SOLUTION markers" \
        in reasons["outside every block"]
    # the text with other spacing is said where it is (the docs' promise; it said "none")
    assert reasons["respaced"].endswith("occurs with different whitespace or line breaks at "
                                        "clip line 4: copy that text exactly")
    assert "occurs in clip, scale" in reasons["in two modules"]
    assert "give module=" in reasons["in two modules"]
    assert "occurs in none of clip, scale" in reasons["stale"]
    # placed ones in question order, the unplaced last; each told at its bug(...) line
    assert [b.name for b in exercise.planted_bugs][-4:] == ["outside every block",
                                                           "in two modules", "stale",
                                                           "respaced"]
    assert bugs["stale"].where.endswith("made_up_pack3/__init__.py:10")
    problems: list = []
    _check_bugs(exercise, reference, ["clip", "scale"], problems)
    told = {p.where: p.message for p in problems}
    assert any(w.endswith("__init__.py:7") and "give question=" in r for w, r in told.items())
    assert len([r for r in told.values() if "planted bug" in r]) == 4


def test_a_withheld_bug_is_first_looked_for_in_the_questions_of_its_namesake(tmp_path: Path,
                                                                          monkeypatch):
    """``withheld/scaling.py``'s bugs are first placed among the questions ``scaling.py``
    declares: a ``find`` in two modules of the topic, once in theirs, needs no ``module=``; one
    outside every block of the one module their one question holds needs no ``question=``.
    A bug listed elsewhere is placed (or not) as before."""
    _reference(tmp_path, "made_up_ref4")
    pack = tmp_path / "made_up_pack4"
    pack.mkdir()
    header = "from nlpdojo_autograder.authoring import bug\n"
    (pack / "clipping.py").write_text(
        header + 'BUGS = [bug("outside every block", "scale = limit", "scale = 1.0")]\n')
    (pack / "scaling.py").write_text(
        header + 'BUGS = [bug("in two modules", "return ", "return -")]\n')
    (pack / "__init__.py").write_text(
        header + "from . import clipping, scaling\n"
        'BUGS = [clipping.BUGS, scaling.BUGS, [bug("elsewhere", "return ", "return -")]]\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("made_up_ref4", "made_up_ref4.topic", "made_up_pack4",
                 "made_up_pack4.clipping", "made_up_pack4.scaling"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    checks = [value_check("values", "a case", 1.0, lambda ctx: {}, question=q)
              for q in ("clip", "scale")]
    declared = tmp_path / "course" / "topic"
    topic = Topic("topic", "A topic", 1, [
        Question("clip", "Clipping", [checks[0]], site=str(declared / "clipping.py")),
        Question("scale", "Scaling", [checks[1]], site=str(declared / "scaling.py"))],
        withheld="made_up_pack4", reference="made_up_ref4.topic")
    bugs = {b.name: b for b in topic.exercise().planted_bugs}
    assert (bugs["outside every block"].question, bugs["outside every block"].module) == (
        "clip", "clip")
    assert (bugs["in two modules"].question, bugs["in two modules"].module) == (
        "scale", "scale")
    assert "occurs in clip, scale" in bugs["elsewhere"].unplaced


def test_a_questions_code_is_by_default_the_module_named_as_it():
    check = value_check("values", "a case", 1.0, lambda ctx: {}, question="clip")
    question = Question("clip", "Clipping", [check])
    assert question.code == ("clip",) and question.checks[0].module == "clip"
    assert question.site == __file__  # where it is declared
    trained = value_check("values", "a run", 1.0, lambda ctx: {}, question="run")
    assert Question("run", "Training", [trained], integrative=True).code == ()
    assert Question("clip", "Clipping", [check], code=()).code == ()
    assert Question("clip", "Clipping", [check], code="library/clip").code == ("library/clip",)


def test_a_withheld_bug_of_another_question_or_a_broken_module_is_an_error(tmp_path: Path,
                                                                            monkeypatch):
    pack = tmp_path / "made_up_pack2"
    pack.mkdir()
    (pack / "__init__.py").write_text("")
    (pack / "stray.py").write_text(
        "from nlpdojo_autograder.authoring import bug\n"
        "BUGS = {'no_such_question': [bug('stray', 'a', 'b')]}\n")
    (pack / "broken.py").write_text("import made_up_pack2.missing_dependency\nBUGS = []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "made_up_pack2", raising=False)
    with pytest.raises(ValueError, match="no_such_question"):
        _topic("made_up_pack2.stray").exercise()
    with pytest.raises(ModuleNotFoundError, match="missing_dependency"):
        withheld_bugs("made_up_pack2.broken")


def test_the_built_in_course_declares_its_planted_bugs_withheld():
    """Every planted bug of the built-in course comes from a withheld module: none is
    declared where a student's install would have it."""
    from nlpdojo_course.plugin import topic_modules

    for _, module in topic_modules():
        topic = module.TOPIC
        assert topic.withheld == f"{module.__name__}.withheld", topic.name
        assert not [b.name for q in topic.questions for b in q.planted_bugs], topic.name
        assert topic.exercise().planted_bugs, topic.name


def test_a_topics_planted_bugs_are_placed_when_first_read_not_when_registered(monkeypatch):
    """Placing a bug reads the reference's modules and searches them for its text: the
    registry (every command's start, every grading) never reads planted bugs, so an exercise
    places its own the first time they are read, once, as :meth:`Topic.planted_bugs` does."""
    from nlpdojo_course.cnn_text import TOPIC

    placed = []
    place = Topic._placed

    def counted(self, bug, texts):
        placed.append(bug.name)
        return place(self, bug, texts)

    monkeypatch.setattr(Topic, "_placed", counted)
    exercise = TOPIC.exercise()
    assert placed == []
    bugs = list(exercise.planted_bugs)
    assert placed and len(bugs) >= len(placed)
    assert all(b.question and b.module and not b.unplaced for b in bugs)
    first = len(placed)
    assert [b.name for b in exercise.planted_bugs] == [b.name for b in bugs]
    assert len(placed) == first  # once: read again, nothing is placed again
    listed = TOPIC.planted_bugs()
    assert exercise.planted_bugs == listed and isinstance(listed, list)
    assert exercise.planted_bugs[0] == listed[0] and len(exercise.planted_bugs) == len(listed)


def test_a_withheld_bug_for_a_question_the_topic_lacks_is_told_at_its_line(tmp_path: Path,
                                                                           monkeypatch):
    """An instructor's trial: ``bug(..., question="swsh")`` in withheld/ was reported at the
    topic's registration line with no hint; it is told at the bug's own line, with the
    question meant."""
    _reference(tmp_path, "made_up_ref4")
    (tmp_path / "made_up_pack4").mkdir()
    (tmp_path / "made_up_pack4" / "__init__.py").write_text(
        "from nlpdojo_autograder.authoring import bug\n"
        "BUGS = [\n"
        "    bug('typo', 'min(1.0, ', 'max(1.0, ', question='clp'),\n"
        "]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("made_up_ref4", "made_up_ref4.topic", "made_up_pack4"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    check = value_check("values", "a case", 1.0, lambda ctx: {}, question="clip")
    topic = Topic("topic", "A topic", 1, [Question("clip", "Clipping", [check], code="clip")],
                  withheld="made_up_pack4", reference="made_up_ref4.topic")
    with pytest.raises(ValueError, match=r"made_up_pack4/__init__\.py:3: topic topic: planted "
                                         r"bug 'typo' .* is planted for 'clp', not a question of "
                                         r"the topic \(clip\); did you mean 'clip'\?"):
        list(topic.exercise().planted_bugs)
