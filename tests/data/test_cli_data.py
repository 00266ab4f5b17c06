"""``dojo data list|info|fetch|path`` through typer's CliRunner, on an isolated cache."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nlpdojo.cli.app import build_app


def invoke(*args: str):
    return CliRunner().invoke(build_app(), ["data", *args])


def test_list_shows_every_dataset_with_status(cache: Path) -> None:
    result = invoke("list")
    assert result.exit_code == 0, result.output
    for name in ("wordsim353", "simlex999", "google-analogies", "pang-lee-reviews", "sotu", "mr",
                 "wsj-pos", "oanc-pos", "brown", "tiny"):
        assert name in result.output
    assert "missing" in result.output and "a:b::c:d" in result.output  # no emoji mangling


def test_fetch_path_and_list_cached(cache: Path) -> None:
    result = invoke("fetch", "tiny", "--quiet")
    assert result.exit_code == 0, result.output
    assert "tiny: ok" in result.output
    again = invoke("fetch", "tiny")
    assert again.exit_code == 0 and "tiny: cached" in again.output
    path = invoke("path", "tiny")
    assert path.exit_code == 0 and path.output.strip() == str(cache / "tiny")
    listing = invoke("list")
    assert any("tiny" in line and "cached" in line for line in listing.output.splitlines())


def test_list_shows_corrupt(cache: Path) -> None:
    invoke("fetch", "tiny", "-q")
    (cache / "tiny" / "tiny.txt").write_text("damaged", encoding="utf-8")
    listing = invoke("list")
    assert any("tiny" in line and "corrupt" in line for line in listing.output.splitlines())


def test_info_shows_sources_license_files_splits(cache: Path) -> None:
    result = invoke("info", "mr")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "license:" in out and "MIT" in out
    assert "pip vaderSentiment==3.3.2" in out
    assert "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9" in out
    assert "movieReviewSnippets_GroundTruth.txt" in out and "fold9" in out


def test_path_of_missing_dataset_says_what_to_do(cache: Path) -> None:
    result = invoke("path", "mr")
    assert result.exit_code == 2
    assert "dojo data fetch mr" in result.output
    assert "Traceback" not in result.output


def test_unknown_name_lists_known(cache: Path) -> None:
    result = invoke("info", "nope")
    assert result.exit_code == 2
    assert "unknown dataset 'nope'" in result.output and "wordsim353" in result.output


def test_fetch_needs_names_or_all(cache: Path) -> None:
    assert invoke("fetch").exit_code == 2
    assert invoke("fetch", "tiny", "--all").exit_code == 2
