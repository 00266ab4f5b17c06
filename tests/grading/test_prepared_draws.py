"""Prepared draws (``grading/draws.py``, ``dojo draws``; issue 66): the reference's expected
outcomes computed before the grading that takes them, each draw taken by one grading only, at
random among those that fit, and never one prepared with another reference, budget or topic."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nlpdojo_autograder.cli import draws_command
from nlpdojo_autograder.cli import grade as grade_cli
from nlpdojo_autograder.grading import draws, expected, grade
from nlpdojo_autograder.grading.grade import INPUT_SEED_ENV
from nlpdojo_autograder.grading.runner import Limits


@pytest.fixture
def drawn_afresh(monkeypatch):
    """Gradings that draw their input seed, as outside the suite (which fixes one for every
    grading, tests/conftest.py): what a prepared draw stands in for."""
    monkeypatch.delenv(INPUT_SEED_ENV, raising=False)


def _pool() -> draws.DrawPool:
    pool = draws.default_pool()
    assert pool is not None  # the test's own store (tests/conftest.py)
    return pool


def _tamper(pool: draws.DrawPool, check: str = "scale.values") -> None:
    """Shift the stored expected output of ``check`` in every prepared draw: a grading that
    judges by a draw's outcomes then fails an honest submission there."""
    for draw in pool.draws():
        store = expected.ExpectedStore(draw.folder)
        outcomes = store.load("toy", draw.keys["toy"])
        outcomes[check].arrays["out"] = outcomes[check].arrays["out"] + 1
        store.save("toy", draw.keys["toy"], outcomes)


def _grade(submission: Path, out: Path, *extra: str) -> tuple[dict, str]:
    ran = CliRunner().invoke(grade_cli.app, ["toy", "--submission", str(submission), "-f",
                                             "json", "-o", str(out), *extra])
    assert ran.exit_code in (0, 1), ran.output
    return json.loads(out.read_text()), " ".join(ran.output.split())


def _statuses(result: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for e in result["exercises"] for c in e["checks"]}


def test_each_draw_is_taken_by_one_grading_which_judges_by_its_outcomes(toy, make_submission,
                                                                       tmp_path, drawn_afresh):
    """Two draws serve two gradings, each its own, on the draw's seed and by the draw's
    outcomes (proved by tampering with them: the honest submission then fails there); the
    third grading finds none left, says so, and runs the reference at a fresh draw."""
    pool = _pool()
    made = [draws.prepare(pool, ["toy"], full=False, limits=Limits()) for _ in range(2)]
    assert all(m.stored["toy"][0] == m.stored["toy"][1] > 0 for m in made)
    seeds = {m.draw.input_seed for m in made}
    assert len(seeds) == 2 and all(s >= 1 for s in seeds)  # never the release's seed 0
    _tamper(pool)
    ids = pool.draws()
    submission = make_submission()

    taken = []
    for n in range(2):
        result, output = _grade(submission, tmp_path / f"r{n}.json")
        seed = result["options"]["input_seed"]
        taken.append(seed)
        assert result["settings"]["input_seed"]["value"] == seed
        # the draw's name, not the grader's folder
        assert result["settings"]["input_seed"]["source"] in {f"prepared {d.id}" for d in ids}
        statuses = _statuses(result)
        assert statuses["scale.values"] == "failed" and statuses["quadratic.values"] == "passed"
        assert len(pool.draws()) == 1 - n
        assert "prepared draws" not in output
    assert set(taken) == seeds

    result, output = _grade(submission, tmp_path / "fresh.json")
    assert result["options"]["input_seed"] not in seeds
    assert "input_seed" not in result["settings"]
    assert "prepared draws: none is left in" in output and "dojo draws prepare toy" in output
    assert set(_statuses(result).values()) == {"passed"}  # the reference ran at this draw

    # a replay of a grading that took a draw grades on its seed again and takes no draw
    draws.prepare(pool, ["toy"], full=False, limits=Limits())
    replayed = CliRunner().invoke(grade_cli.app, ["--replay", str(tmp_path / "r0.json"), "-f",
                                                  "json", "-o", str(tmp_path / "replay.json")])
    assert replayed.exit_code in (0, 1), replayed.output
    again = json.loads((tmp_path / "replay.json").read_text())
    assert again["options"]["input_seed"] == taken[0] and len(pool.draws()) == 1


def test_gradings_that_did_not_draw_their_seed_take_no_draw(toy, toy_fixtures, make_submission,
                                                            tmp_path, drawn_afresh):
    """``--seed``, ``--solutions``, ``--as-student`` and a cohort (which draws one seed for all
    its submissions and computes the reference once itself) leave the prepared draws alone."""
    pool = _pool()
    draws.prepare(pool, ["toy"], full=False, limits=Limits())
    submission = make_submission()
    question = CliRunner().invoke(grade_cli.app, ["toy.scale", "--submission",
                                                  str(submission), "-q"])
    assert question.exit_code == 0, question.output  # a question alone: no draw spent on it
    for extra in (["--seed", "5"], ["--as-student"]):
        result, _ = _grade(submission, tmp_path / "r.json", *extra)
        assert "input_seed" not in result["settings"], extra
    ran = CliRunner().invoke(grade_cli.app, ["toy", "--solutions", "-q"])
    assert ran.exit_code == 0, ran.output
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    make_submission(name="subs/alice").rename(cohort / "alice")
    ran = CliRunner().invoke(grade_cli.app, ["toy", "--submissions", str(cohort), "-f", "json",
                                             "-o", str(tmp_path / "out")])
    assert ran.exit_code == 0, ran.output
    assert len(pool.draws()) == 1


def test_a_draw_of_another_reference_is_stale_never_taken_and_cleared(toy, make_submission,
                                                                      tmp_path, drawn_afresh):
    """A draw's key holds the reference's source: after an edit to it the draw serves no
    grading (which says why and runs the reference), ``dojo draws list`` counts it stale and
    ``dojo draws clear --stale`` removes it."""
    pool = _pool()
    draws.prepare(pool, ["toy"], full=False, limits=Limits())
    reference = grade.load_reference_dir(toy.reference_package) / "scale.py"
    text = reference.read_text()
    try:
        reference.write_text(text + "\n# edited\n")
        result, output = _grade(make_submission(), tmp_path / "r.json")
        assert "input_seed" not in result["settings"]
        assert "none of the 1 in" in output and "1 prepared with another reference or grader" \
            in output
        listed = CliRunner().invoke(draws_command.app, ["list", "--format", "json"])
        assert listed.exit_code == 0, listed.output
        (group,) = json.loads(listed.output)["groups"]
        assert (group["topics"], group["ready"], group["stale"]) == (["toy"], 0, 1)
        cleared = CliRunner().invoke(draws_command.app, ["clear", "--stale"])
        assert cleared.exit_code == 0 and "removed 1 prepared draw " in cleared.output
        assert pool.draws() == []
    finally:
        reference.write_text(text)


def _fake_pool(root: Path, specs: list[tuple[list[str], bool]]) -> draws.DrawPool:
    """A pool of draws holding nothing but their records (``topics``, ``full``), keyed as
    :func:`_key_of` says."""
    pool = draws.DrawPool(root)
    for n, (topics, full) in enumerate(specs):
        seed = 1000 + n
        pool.add(seed, full, lambda folder, t=topics, s=seed, f=full: {
            topic: _key_of(topic, s, f) for topic in t})
    return pool


def _key_of(topic: str, seed: int, full: bool) -> str:
    return f"{topic}-{seed}-{full}"


def test_a_draw_serves_only_its_topics_and_budget_and_the_narrowest_is_spent(tmp_path):
    pool = _fake_pool(tmp_path, [(["a", "b"], False), (["a"], True), (["a"], False),
                                 (["b"], False)])
    assert pool.claim(["c"], False, _key_of) is None
    first = pool.claim(["a"], False, _key_of)
    assert first is not None and (first.topics(), first.full) == (["a"], False)
    second = pool.claim(["a"], False, _key_of)  # only the draw of a and b is left for a
    assert second is not None and second.topics() == ["a", "b"]
    assert pool.claim(["a"], False, _key_of) is None
    full = pool.claim(["a"], True, _key_of)
    assert full is not None and full.full
    assert [d.topics() for d in pool.draws()] == [["b"]]
    # a key that is not the store's now (another reference or grader) serves nothing
    assert pool.claim(["b"], False, lambda t, s, f: "other") is None


def test_gradings_at_once_never_share_a_draw(tmp_path):
    """Eight claims at once on five draws: five take one each, each a different one."""
    pool = _fake_pool(tmp_path, [(["a"], False)] * 5)
    barrier = threading.Barrier(8)
    taken: list[int | None] = []
    lock = threading.Lock()

    def claim() -> None:
        barrier.wait()
        draw = pool.claim(["a"], False, _key_of)
        with lock:
            taken.append(None if draw is None else draw.input_seed)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seeds = [s for s in taken if s is not None]
    assert sorted(seeds) == [1000, 1001, 1002, 1003, 1004] and taken.count(None) == 3
    assert pool.draws() == [] and not [p for p in pool.folder.iterdir()]


def test_a_half_made_or_unreadable_draw_is_never_taken(tmp_path):
    pool = draws.DrawPool(tmp_path)

    def broken(folder: Path) -> dict[str, str]:
        (folder / "a").mkdir()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pool.add(7, False, broken)
    assert list(pool.folder.iterdir()) == []  # the half-made draw is gone
    made = pool.add(8, False, lambda folder: {"a": _key_of("a", 8, False)})
    (made.folder / draws.RECORD).write_text("{not json")
    forged = pool.folder / "forged"
    forged.mkdir()
    (forged / draws.RECORD).write_text(json.dumps({
        "format": draws.FORMAT, "input_seed": True, "full": False, "created": 0,
        "keys": {"a": "a-1-False"}}))
    assert pool.draws() == [] and pool.claim(["a"], False, _key_of) is None
    assert sorted(p.name for p in pool.unreadable()) == sorted([made.id, "forged"])
    # what a process killed while preparing or claiming left: hidden, never taken; cleared
    # once old (a younger one may be a draw still being made), or by clearing everything
    old, young = pool.folder / ".new-killed", pool.folder / f"{draws.CLAIMED_PREFIX}x-1"
    old.mkdir()
    young.mkdir()
    os.utime(old, (1, 1))
    assert pool.remove_unreadable() == 3
    assert [p.name for p in pool.folder.iterdir()] == [young.name]
    assert pool.remove() == 0 and [p.name for p in pool.folder.iterdir()] == [young.name]


def test_the_commands_refuse_what_they_cannot_do(toy, monkeypatch):
    runner = CliRunner()
    unknown = runner.invoke(draws_command.app, ["prepare", "nosuch"])
    assert unknown.exit_code == 2 and "unknown topic nosuch" in unknown.output
    empty = runner.invoke(draws_command.app, ["list"])
    assert empty.exit_code == 0 and "no prepared draws in" in " ".join(empty.output.split())
    made = runner.invoke(draws_command.app, ["prepare", "toy", "--count", "2"])
    assert made.exit_code == 0, made.output
    said = " ".join(made.output.split())  # the console wraps the line at a width a path can pass
    assert "prepared 2 draws in" in said and "2 ready for toy" in said
    listed = runner.invoke(draws_command.app, ["list", "--json"])
    data = json.loads(listed.output)
    (group,) = data["groups"]
    assert (group["topics"], group["full"], group["ready"]) == (["toy"], False, 2)
    assert group["bytes"] > 0 and data["leftovers"] == []
    leftover = Path(data["folder"]) / ".new-killed"
    leftover.mkdir()
    table = runner.invoke(draws_command.app, ["list"])
    assert table.exit_code == 0 and " MB " in table.output
    assert "left by a killed process" in " ".join(table.output.split())
    leftover.rmdir()
    cleared = runner.invoke(draws_command.app, ["clear"])
    assert cleared.exit_code == 0 and "removed 2 prepared draws" in cleared.output
    monkeypatch.setenv(expected.ROOT_ENV, "off")
    off = runner.invoke(draws_command.app, ["prepare", "toy"])
    assert off.exit_code == 2 and "NLPDOJO_EXPECTED_CACHE is off" in " ".join(off.output.split())


def test_a_store_that_cannot_be_written_says_so(tmp_path, monkeypatch):
    """A draw that cannot be claimed for want of the right to write the store is not "taken by
    another grading": no grading could take one, and the warning says why; a draw that
    cannot be removed is not counted as removed."""
    pool = _fake_pool(tmp_path, [(["a"], False)])

    def refused(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(draws.os, "rename", refused)
    with pytest.raises(draws.DrawError, match="cannot be claimed: Permission denied"):
        pool.claim(["a"], False, _key_of)
    monkeypatch.setattr(draws, "default_pool", lambda: pool)
    monkeypatch.setattr(draws, "memo_key_of", lambda: _key_of)
    taken, why = draws.take(["a"], False)
    assert taken is None and "the grading's user must be able to write the store" in why
    monkeypatch.undo()
    monkeypatch.setattr(draws.shutil, "rmtree", lambda path, onerror=None, **kw: onerror(
        None, path, (PermissionError, PermissionError(13, "Permission denied"), None)))
    with pytest.raises(draws.DrawError, match="cannot remove .*: Permission denied"):
        pool.remove()


def test_an_entry_missing_its_arrays_is_a_miss(tmp_path):
    """An entry whose arrays file was deleted or cut short (by hand, a copy between volumes)
    is no expected outcome: judged by its scalars alone, a right answer failed its checks."""
    import numpy as np

    from nlpdojo_autograder.grading.runner import Outcome

    store = expected.ExpectedStore(tmp_path)
    store.save("t", "k", {"q.a": Outcome(status="ok", scalars={"x": 1.0},
                                         arrays={"out": np.ones(3)}),
                          "q.b": Outcome(status="ok", scalars={"y": 2.0}, arrays={})})
    assert set(store.load("t", "k")) == {"q.a", "q.b"}
    stored = tmp_path / "t" / "k" / expected.ARRAYS_FILE
    data = stored.read_bytes()
    stored.write_bytes(data[: len(data) // 2])
    assert store.load("t", "k") == {}
    stored.unlink()
    assert store.load("t", "k") == {}
    # an entry of scalars only needs no arrays file
    store.save("t", "s", {"q.b": Outcome(status="ok", scalars={"y": 2.0}, arrays={})})
    assert not (tmp_path / "t" / "s" / expected.ARRAYS_FILE).exists() and store.load("t", "s")


def test_prepare_and_clear_print_json_for_scripts_and_never_the_seed(toy, tmp_path):
    """``--format json``: what ``prepare`` made (each draw's id and the outcomes it holds,
    with the progress lines on stderr only) and what ``clear`` removed, as one JSON object on
    stdout; a draw's seed is in neither (it is as secret as a fresh draw's)."""
    ran = CliRunner().invoke(draws_command.app, ["prepare", "toy", "--count", "2",
                                                 "--format", "json"])
    assert ran.exit_code == 0, ran.output
    made = json.loads(ran.stdout)
    pool = _pool()
    assert made["folder"] == str(pool.folder) and made["topics"] == ["toy"]
    assert made["full"] is False and made["ready"] == 2
    assert {d["id"] for d in made["prepared"]} == {d.id for d in pool.draws()}
    for record in made["prepared"]:
        held = record["outcomes"]["toy"]
        assert held["stored"] == held["checks"] > 0 and record["seconds"] >= 0
    assert "draw 2/2:" in ran.stderr
    for draw in pool.draws():
        assert str(draw.input_seed) not in ran.stdout
    cleared = CliRunner().invoke(draws_command.app, ["clear", "--format", "json"])
    assert cleared.exit_code == 0, cleared.output
    assert json.loads(cleared.stdout) == {"folder": str(pool.folder), "removed": 2,
                                          "stale_only": False}
    assert pool.draws() == []
