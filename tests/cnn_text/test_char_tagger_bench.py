"""``bench/char_tagger_results.py`` (a character-aware window tagger against its word-level
twin): the section written from a result, and the committed one. Its data and model are the
graded ``cnn_text.char_tagging`` question's (tests/cnn_text/test_char_tagging.py)."""

from __future__ import annotations

import pytest

from tests._bench import bench_script


@pytest.fixture(scope="module")
def script():
    with bench_script("char_tagger_results") as module:
        yield module


def test_the_section_says_what_the_characters_add(script):
    row = {"parameters": 10, "seconds": 60.0}
    result = {"sentences": {"train": None, "test": None}, "settings": script.SETTINGS,
              "machine": "here", "date": "2026-11-30",
              "tokens": {"train": 1000, "test": 200, "test_unk": 20}, "vocab": 50,
              "chars": 30, "tags": 5, "baseline": 0.5,
              "rows": {"word": {**row, "accuracy": 0.8, "unk": 0.4, "known": 0.84},
                       "char": {**row, "accuracy": 0.85, "unk": 0.6, "known": 0.875}}}
    text = script.section(result)
    assert text.startswith(script.BEGIN) and text.rstrip().endswith(script.END)
    assert "| 80.00% | 40.00% | 84.00% |" in text and "| 85.00% | 60.00% | 87.50% |" in text
    assert "+5.00 points in all, +20.00 on the words" in text
    assert "the whole training split (1,000 tokens" in text


def test_the_committed_section_is_the_committed_result(script):
    """docs/results.md shows what bench/results/char_tagger.json holds."""
    import json

    text = script.section(json.loads(script.RESULTS.read_text()))
    assert text in (script.ROOT / "docs" / "results.md").read_text()
