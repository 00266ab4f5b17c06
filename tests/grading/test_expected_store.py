"""The reference's expected outcomes kept on disk (``grading/expected.py``, issue 66 item 1):
stored exactly, keyed by everything they depend on, read by a later process instead of
running the reference again, and computed once for a whole cohort, whose children judge by
them."""

from __future__ import annotations

import json
import math
import os

import numpy as np
from typer.testing import CliRunner

from nlpdojo_autograder.cli import grade as grade_cli
from nlpdojo_autograder.grading import expected, grade
from nlpdojo_autograder.grading.grade import ExpectedCache, GradeOptions, grade_exercise
from nlpdojo_autograder.grading.runner import Outcome


def _outcome(status="ok", **arrays):
    return Outcome(status=status, scalars={"loss": 0.1 + 0.2, "nan": math.nan, "n": 3,
                                           "flag": True, "none": None, "text": "é"},
                   arrays=arrays)


def test_outcomes_come_back_exactly_and_only_completed_ones_are_kept(tmp_path):
    store = expected.ExpectedStore(tmp_path)
    grads = np.random.default_rng(0).standard_normal((3, 4))
    store.save("t", "k1", {"q.values": _outcome(out=grads, idx=np.arange(5)),
                           "q.timeout": _outcome("timeout"), "q.error": _outcome("error")})
    back = store.load("t", "k1")
    assert set(back) == {"q.values"}
    assert back["q.values"].arrays["out"].tobytes() == grads.tobytes()
    assert back["q.values"].arrays["idx"].dtype == np.arange(5).dtype
    scalars = back["q.values"].scalars
    assert scalars["loss"] == 0.1 + 0.2 and math.isnan(scalars["nan"])
    assert (scalars["n"], scalars["flag"], scalars["none"], scalars["text"]) == (3, True, None,
                                                                               "é")
    # a later save adds to the entry; another key is another entry
    store.save("t", "k1", {"q.other": _outcome(out=np.ones(2))})
    assert set(store.load("t", "k1")) == {"q.values", "q.other"}
    assert store.load("t", "k2") == {}
    assert oct((tmp_path / "t").stat().st_mode & 0o777) == "0o700"


def test_arrays_of_every_kept_dtype_come_back_exactly_and_writable(tmp_path):
    """The arrays file holds each array's bytes where the JSON says: every dtype a check
    returns (floats, ints, booleans, complex, fixed-width strings, empty and non-contiguous
    arrays) comes back equal, of its dtype and shape, and writable as a fresh array is."""
    store = expected.ExpectedStore(tmp_path)
    rng = np.random.default_rng(1)
    arrays = {"f64": rng.standard_normal((3, 4)),
              "f32": rng.standard_normal(5).astype(np.float32), "i64": np.arange(7),
              "i8": np.arange(3, dtype=np.int8), "bool": np.array([True, False]),
              "c128": np.array([1 + 2j, -3j]), "words": np.array(["the", "cat"]),
              "bytes": np.array([b"ab", b"c"]), "empty": np.zeros((0, 3)),
              "scalar": np.array(2.5), "strided": rng.standard_normal((4, 6))[::2, ::3],
              "big_endian": np.arange(4, dtype=">i4")}
    store.save("t", "k", {"q.values": _outcome(**arrays)})
    back = store.load("t", "k")["q.values"].arrays
    assert set(back) == set(arrays)
    for name, value in arrays.items():
        got = back[name]
        assert got.dtype == value.dtype and got.shape == value.shape, name
        assert np.array_equal(got, value), name
    back["f64"][0, 0] = 7.0  # writable, as the arrays a fresh reference run returns
    assert back["f64"][0, 0] == 7.0


def test_an_entry_with_an_array_of_objects_is_not_kept_and_a_forged_place_is_a_miss(tmp_path):
    """Objects are never stored (they would need pickle): such an entry is not kept, as a
    store that cannot be written is skipped. A place the JSON gives outside the arrays file,
    or an object dtype written into it by hand, is a miss, not an error or a pickle."""
    store = expected.ExpectedStore(tmp_path)
    store.save("t", "objects", {"q.a": _outcome(out=np.array([{}, None], dtype=object))})
    assert store.load("t", "objects") == {} and not (tmp_path / "t" / "objects").exists()
    store.save("t", "k", {"q.a": _outcome(out=np.ones(4))})
    listing = tmp_path / "t" / "k" / "outcomes.json"
    good = json.loads(listing.read_text())
    assert store.load("t", "k")["q.a"].arrays["out"].tolist() == [1.0] * 4
    for forged in (["<f8", [5], 0], ["<f8", [4], 8], ["<f8", [4], -8], ["|O", [1], 0],
                   ["<f8", [-4], 0], ["<f8", [4.0], 0], ["not a dtype", [4], 0]):
        entry = json.loads(json.dumps(good))
        entry["checks"]["q.a"]["arrays"]["out"] = forged
        listing.write_text(json.dumps(entry))
        assert store.load("t", "k") == {}, forged


def test_an_unreadable_entry_is_a_miss_and_old_entries_are_dropped(tmp_path):
    store = expected.ExpectedStore(tmp_path)
    store.save("t", "k", {"a.b": _outcome(out=np.ones(3))})
    (tmp_path / "t" / "k" / "outcomes.json").write_text("{not json")
    assert store.load("t", "k") == {}
    (tmp_path / "t" / "k" / "outcomes.json").write_text(json.dumps({"format": 999}))
    assert store.load("t", "k") == {}
    for i in range(expected.KEEP_PER_TOPIC + 3):
        store.save("t", f"key{i}", {"a.b": _outcome()})
        os.utime(tmp_path / "t" / f"key{i}", (i + 10, i + 10))
    store.save("t", "last", {"a.b": _outcome()})
    kept = {p.name for p in (tmp_path / "t").iterdir()}
    assert len(kept) == expected.KEEP_PER_TOPIC and "last" in kept and "key0" not in kept


def test_off_means_no_store(monkeypatch, tmp_path):
    monkeypatch.setenv(expected.ROOT_ENV, "off")
    assert expected.default_root() is None
    monkeypatch.setenv(expected.ROOT_ENV, str(tmp_path))
    assert expected.default_root() == tmp_path


def test_a_second_process_judges_by_the_stored_outcomes(toy, make_submission, monkeypatch):
    """A fresh cache (as a new process has) reads the outcomes the first computed: the
    reference does not run again, and every verdict is the same; another input seed, or a
    reference edited on disk, is another key."""
    submission = make_submission({"scale": ("return xp.multiply(x, k)",
                                            "return xp.add(x, k)")}) / "toy"
    options = GradeOptions(input_seed=11)
    first_cache, second_cache = ExpectedCache(), ExpectedCache()
    monkeypatch.setattr(grade, "EXPECTED", first_cache)
    first = grade_exercise(toy, submission, options)
    assert first_cache.computed > 0 and first_cache.loaded == 0
    monkeypatch.setattr(grade, "EXPECTED", second_cache)
    second = grade_exercise(toy, submission, options)
    assert second_cache.computed == 0 and second_cache.loaded == first_cache.computed
    assert [(c.id, c.status, c.score, c.message) for c in first.checks] == [
        (c.id, c.status, c.score, c.message) for c in second.checks]
    assert 0 < sum(c.score for c in second.checks) < sum(c.max_score for c in second.checks)

    other = ExpectedCache()
    monkeypatch.setattr(grade, "EXPECTED", other)
    grade_exercise(toy, submission, GradeOptions(input_seed=12))
    assert other.loaded == 0 and other.computed > 0

    reference = grade.load_reference_dir(toy.reference_package) / "scale.py"
    text = reference.read_text()
    try:
        reference.write_text(text + "\n# edited\n")
        edited = ExpectedCache()
        monkeypatch.setattr(grade, "EXPECTED", edited)
        grade_exercise(toy, submission, options)
        assert edited.loaded == 0 and edited.computed > 0
    finally:
        reference.write_text(text)


def test_a_cohort_computes_them_once_and_its_children_judge_by_them(toy, make_submission,
                                                                   tmp_path, monkeypatch):
    """The cohort's grader fills a store of its own before any child starts and hands it to
    every child: proved by tampering with it after it is filled (the honest submissions then
    fail scale.values, which they could only do by reading it), and by its removal after."""
    root = tmp_path / "cohort"
    root.mkdir()
    for name in ("alice", "ben"):
        make_submission(name=f"subs/{name}").rename(root / name)
    shared = []
    real = grade_cli.store_expected

    def tampered(names, options, folder, on_topic=None):
        real(names, options, folder, on_topic)
        shared.append(folder)
        store = expected.ExpectedStore(folder)
        (topic,) = names
        (key,) = [p.name for p in (folder / topic).iterdir()]
        outcomes = store.load(topic, key)
        outcomes["scale.values"].arrays["out"] = outcomes["scale.values"].arrays["out"] + 1
        store.save(topic, key, outcomes)

    monkeypatch.setattr(grade_cli, "store_expected", tampered)
    out = tmp_path / "out"
    ran = CliRunner().invoke(grade_cli.app, ["toy", "--submissions", str(root), "-j", "2",
                                             "-f", "json", "-o", str(out)])
    assert "the reference's expected values of" in " ".join(ran.output.split()), ran.output
    assert shared and not shared[0].exists()  # removed with the cohort
    for name in ("alice", "ben"):
        result = json.loads((out / name / "result.json").read_text())
        checks = {c["id"]: c for e in result["exercises"] for c in e["checks"]}
        assert checks["scale.values"]["status"] == "failed", checks["scale.values"]
        assert checks["quadratic.values"]["status"] == "passed"


def test_a_cohorts_store_is_filled_with_what_the_process_already_knew(toy, tmp_path):
    """``store_expected`` hands a cohort's children a store of their own: outcomes this
    process computed before (an earlier grading in it, kept in memory) are written there too,
    not taken as present."""
    options = GradeOptions(input_seed=21)
    first, second = tmp_path / "first", tmp_path / "second"
    grade.store_expected(["toy"], options, first)
    computed = grade.EXPECTED.computed
    assert computed > 0
    grade.store_expected(["toy"], options, second)
    assert grade.EXPECTED.computed == computed  # from memory, not computed again
    (key,) = [p.name for p in (first / "toy").iterdir()]
    assert [p.name for p in (second / "toy").iterdir()] == [key]
    stored = expected.ExpectedStore(second).load("toy", key)
    assert set(stored) == set(expected.ExpectedStore(first).load("toy", key)) and stored
