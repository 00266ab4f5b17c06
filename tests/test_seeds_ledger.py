"""The seeded run's ledger (tests/seeds.py): which commits share a fingerprint, and from which
seed a run goes on."""

from __future__ import annotations

import subprocess

import pytest

from tests import seeds


def _repo(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@t")
    git("config", "user.name", "t")
    for path, text in {"autograder/a.py": "x = 1\n", "docs/results.md": "r\n",
                       "Makefile": "all:\n", "tests/seeds.json": "{}\n"}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    git("add", "-A")
    git("commit", "-qm", "one")
    return git


def _commit(tmp_path, git, path, text):
    (tmp_path / path).write_text(text)
    git("commit", "-qam", path)
    return seeds.fingerprint("HEAD", cwd=tmp_path)


def test_docs_and_bookkeeping_keep_the_fingerprint_and_code_changes_it(tmp_path):
    git = _repo(tmp_path)
    first = seeds.fingerprint("HEAD", cwd=tmp_path)
    assert _commit(tmp_path, git, "docs/results.md", "new table\n") == first
    assert _commit(tmp_path, git, "Makefile", "all: seeds\n") == first
    assert _commit(tmp_path, git, "tests/seeds.json", '{"entries": []}\n') == first
    assert _commit(tmp_path, git, "autograder/a.py", "x = 2\n") != first
    assert seeds.fingerprint("HEAD~1", cwd=tmp_path) == first  # any revision, not only HEAD


def test_a_changed_or_new_file_that_the_tests_read_is_reported(tmp_path):
    _repo(tmp_path)
    assert seeds.changed_files(cwd=tmp_path) == []
    (tmp_path / "docs/results.md").write_text("edited\n")
    assert seeds.changed_files(cwd=tmp_path) == []
    (tmp_path / "autograder/a.py").write_text("x = 3\n")
    (tmp_path / "autograder/b.py").write_text("new\n")
    assert sorted(seeds.changed_files(cwd=tmp_path)) == ["autograder/a.py", "autograder/b.py"]


def _entry(fp, seed, passed=True):
    return seeds.Entry(fp, "abc", seed, passed, "76 passed", 1.0, "2026-11-25 12:00", "cpu",
                       True)


def test_seeds_count_in_a_row_per_fingerprint_and_a_failure_ends_the_row():
    entries = [_entry("A", 1), _entry("A", 2), _entry("B", 3), _entry("A", 4)]
    assert seeds.in_a_row(entries, "A") == (2, None)  # 3 was passed on another fingerprint
    assert seeds.in_a_row(entries, "B") == (0, None)
    failed = _entry("A", 3, passed=False)
    assert seeds.in_a_row([*entries, failed], "A") == (2, failed)
    # a later pass of the same seed on the same fingerprint (a rerun) counts: the last verdict
    assert seeds.in_a_row([*entries, failed, _entry("A", 3)], "A") == (4, None)


def test_the_ledger_is_appended_to_and_a_broken_one_is_refused(tmp_path):
    ledger = tmp_path / "seeds.json"
    seeds.append(_entry("A", 1), ledger)
    seeds.append(_entry("A", 2, passed=False), ledger)
    assert [(e.seed, e.passed) for e in seeds.read_ledger(ledger)] == [(1, True), (2, False)]
    ledger.write_text("{not json")
    with pytest.raises(seeds.SeedsError, match="not a seeds ledger"):
        seeds.read_ledger(ledger)


def test_the_command_is_the_makefiles():
    """``make test-seeds`` runs this module, and the module runs COMMAND."""
    from pathlib import Path

    makefile = (Path(seeds.ROOT) / "Makefile").read_text()
    assert "-m tests.seeds run" in makefile
    assert "-m seeded" in seeds.COMMAND and "NLPDOJO_SLOW_TESTS=1" in seeds.COMMAND
