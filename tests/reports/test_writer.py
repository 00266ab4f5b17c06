"""write_report: look-up by name, stdout or an atomic file write."""

from __future__ import annotations

import json
import os

import pytest

from nlpdojo.errors import UnknownNameError
from nlpdojo_autograder.grading.results import GradingResult
from nlpdojo_reports import ReportError, write_report
from nlpdojo_reports.json_report import JsonReporter
from nlpdojo_reports.junit import JUnitReporter
from nlpdojo_reports.writer import atomic_write_text, check_writable


def test_writes_file_creating_parents(result, tmp_path):
    out = tmp_path / "deep" / "er" / "results.json"
    assert write_report(result, "json", out) == out
    assert GradingResult.load(out) == result
    assert os.listdir(out.parent) == ["results.json"]


def test_directory_gets_default_filename(result, tmp_path):
    path = write_report(result, "junit", tmp_path)
    assert path == tmp_path / JUnitReporter.default_filename
    assert path.read_text(encoding="utf-8").startswith("<?xml")


def test_stdout_when_no_output(result, capsys):
    assert write_report(result, "json", None) is None
    assert json.loads(capsys.readouterr().out)["score"] == 6


@pytest.mark.parametrize("fmt", ["table", "json", "junit", "gradescope"])
def test_every_format_writes_utf8(result, tmp_path, fmt):
    path = write_report(result, fmt, tmp_path / f"report.{fmt}")
    assert "students/ada" in path.read_text(encoding="utf-8") or fmt == "gradescope"


def test_unknown_format_lists_formats(result, tmp_path):
    with pytest.raises(UnknownNameError) as info:
        write_report(result, "yaml", tmp_path / "x")
    message = str(info.value)
    assert "'yaml'" in message
    assert "gradescope, json, junit, table" in message
    assert not (tmp_path / "x").exists()


def test_render_failure_leaves_old_file_untouched(result, tmp_path, monkeypatch):
    out = tmp_path / "results.json"
    out.write_text("previous report", encoding="utf-8")

    def boom(self, result):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(JsonReporter, "render", boom)
    with pytest.raises(ReportError, match="report format 'json' .*RuntimeError: renderer crashed"):
        write_report(result, "json", out)
    assert out.read_text(encoding="utf-8") == "previous report"
    assert os.listdir(tmp_path) == ["results.json"]


def test_failed_replace_leaves_no_partial_file(result, tmp_path, monkeypatch):
    out = tmp_path / "new" / "results.json"

    def fail_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(result, "json", out)
    assert not out.exists()
    assert os.listdir(out.parent) == []  # the temporary file was removed


def test_the_check_before_grading_leaves_no_folder_it_made(tmp_path):
    """``check_writable`` tries a file where the report will go, in the folders it must make
    for that, and takes them away again: a command refused after the check (a misspelt
    submission folder) left an empty folder tree behind. The report's writer makes them."""
    target = tmp_path / "a" / "b" / "report.json"
    check_writable(target)
    assert not (tmp_path / "a").exists()
    check_writable(tmp_path / "c" / "reports", folder=True)
    assert not (tmp_path / "c").exists()
    (tmp_path / "kept").mkdir()  # a folder that was there stays, and so does what it holds
    (tmp_path / "kept" / "old.txt").write_text("x")
    check_writable(tmp_path / "kept" / "new" / "r.json")
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["old.txt"]
    atomic_write_text(target, "{}")
    assert target.read_text() == "{}"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportError, match="is a file, not a folder"):
        check_writable(tmp_path / "file" / "r.json")
