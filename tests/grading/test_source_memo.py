"""The analyses of source files kept on disk between the grader's processes
(``runtime/source_memo.py``): an answer is computed once per content and code, a changed file
or a changed analysis is computed again, a store that is broken or off costs nothing but time,
and the two analyses that use it (the code rules, the solution markers) answer from it as they
would have computed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nlpdojo_autograder.grading import grade
from nlpdojo_autograder.runtime import code_rules, source_memo

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


@pytest.fixture
def store(tmp_path, monkeypatch):
    root = tmp_path / "store"
    monkeypatch.setenv(source_memo.ROOT_ENV, str(root))
    return root


def _counting(value):
    calls = []

    def compute():
        calls.append(1)
        return value
    return compute, calls


def test_an_answer_is_computed_once_per_key_and_json_round_trips(store):
    compute, calls = _counting({"q": [["softmax", None]]})
    first = source_memo.remembered("kind", ["a", 1], compute, code=(source_memo,))
    again = source_memo.remembered("kind", ["a", 1], compute, code=(source_memo,))
    assert first == again == {"q": [["softmax", None]]}
    assert len(calls) == 1
    source_memo.remembered("kind", ["a", 2], compute, code=(source_memo,))
    source_memo.remembered("other kind", ["a", 1], compute, code=(source_memo,))
    assert len(calls) == 3  # another key, another kind: computed


def test_an_edited_file_or_an_edited_analysis_is_computed_again(store, tmp_path, monkeypatch):
    folder = tmp_path / "topic"
    folder.mkdir()
    (folder / "a.py").write_text("x = 1\n")
    analysis = tmp_path / "analysis.py"
    analysis.write_text("RULES = 1\n")
    module = type(source_memo)("analysis")
    module.__file__ = str(analysis)
    compute, calls = _counting("answer")

    def ask():
        return source_memo.remembered("kind", source_memo.folder_contents([folder]), compute,
                                      code=(module,))
    ask(), ask()
    assert len(calls) == 1
    (folder / "a.py").write_text("x = 2\n")  # the file's content
    ask()
    assert len(calls) == 2
    (folder / "b.py").write_text("")  # a new file of the folder
    ask()
    assert len(calls) == 3
    analysis.write_text("RULES = 2\n")  # the analysing code's source
    ask()
    assert len(calls) == 4
    ask()
    assert len(calls) == 4


def test_a_broken_entry_an_unwritable_store_or_none_only_compute_again(store, tmp_path,
                                                                       monkeypatch):
    compute, calls = _counting([1, 2])
    assert source_memo.remembered("kind", "k", compute, code=()) == [1, 2]
    (entry,) = (store / "kind").glob("*.json")
    entry.write_text("{not json")
    assert source_memo.remembered("kind", "k", compute, code=()) == [1, 2]
    entry.write_text(json.dumps({"no value": 1}))
    assert source_memo.remembered("kind", "k", compute, code=()) == [1, 2]
    assert len(calls) == 3
    blocked = tmp_path / "a file"
    blocked.write_text("")
    monkeypatch.setenv(source_memo.ROOT_ENV, str(blocked / "store"))  # cannot be made
    assert source_memo.remembered("kind", "k", compute, code=()) == [1, 2]
    monkeypatch.setenv(source_memo.ROOT_ENV, "off")
    assert source_memo.remembered("kind", "k", compute, code=()) == [1, 2]
    assert source_memo.remembered("kind", "k", compute, code=()) == [1, 2]
    assert len(calls) == 6


def test_the_store_keeps_the_newest_entries_of_a_kind(store, monkeypatch):
    monkeypatch.setattr(source_memo, "KEEP_PER_KIND", 3)
    for i in range(5):
        source_memo.remembered("kind", i, lambda i=i: i, code=())
    assert len(list((store / "kind").glob("*.json"))) == 3


def test_the_code_rules_answer_from_the_store_and_see_an_edit(store, tmp_path, monkeypatch):
    course = tmp_path / "course"
    shutil.copytree(SOLUTIONS / "word_vectors", course / "word_vectors",
                    ignore=shutil.ignore_patterns("__pycache__"))
    folders = ["word_vectors"]
    monkeypatch.setattr(code_rules, "_REFUSED", {})
    assert code_rules.refused_modules(course, folders) == {}
    # a fresh process: nothing in memory, the store answers without reading a tree
    monkeypatch.setattr(code_rules, "_REFUSED", {})
    monkeypatch.setattr(code_rules, "folder_refusals", lambda *a, **k: pytest.fail("read"))
    assert code_rules.refused_modules(course, folders) == {}
    monkeypatch.undo()
    monkeypatch.setenv(source_memo.ROOT_ENV, str(store))
    monkeypatch.setattr(code_rules, "_REFUSED", {})
    softmax = course / "word_vectors" / "softmax.py"
    softmax.write_text(softmax.read_text() + "\nimport gc\n", encoding="utf-8")
    refused = code_rules.refused_modules(course, folders)
    assert list(refused) == ["word_vectors.softmax"] and "gc" in refused["word_vectors.softmax"]


def test_the_question_functions_answer_from_the_store_as_computed(store, monkeypatch):
    exercise = grade.get_exercise("word_vectors")
    computed = grade.question_functions(exercise)
    assert computed["word_vectors.softmax"] == [("softmax", "softmax")]
    monkeypatch.setattr(grade, "questions_in", lambda folder: pytest.fail("read"))
    assert grade.question_functions(exercise) == computed  # from the store, tuples again
