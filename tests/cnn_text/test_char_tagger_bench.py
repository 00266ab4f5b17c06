"""``bench/char_tagger_results.py`` (a character-aware window tagger against its word-level
twin): words spelled with their markers, character windows aligned with the tagging data's word
windows (an out-of-vocabulary word keeps its spelling), the model's gradients against central
differences, and the section written from a result."""

from __future__ import annotations

import numpy as np
import pytest

from tests._bench import bench_script


@pytest.fixture(scope="module")
def script():
    with bench_script("char_tagger_results") as module:
        yield module


def test_a_word_is_spelled_with_its_markers_cut_and_padded(script):
    table = {c: i for i, c in enumerate([script.PAD_CHAR, script.UNK_CHAR, "{", "}", "a", "b"])}
    out = script.spell(np.array(["ab", "a" * 40, "aé"]), table)
    assert out.shape == (3, script.MAX_CHARS)
    assert out[0, :4].tolist() == [2, 4, 5, 3] and (out[0, 4:] == 0).all()
    assert out[1, 0] == 2 and (out[1, 1:] == 4).all()  # cut: the end marker falls off
    assert out[2, :4].tolist() == [2, 4, 1, 3]  # a character never seen in training


def test_character_windows_are_the_word_windows_spelled(script):
    from nlpdojo_course.neural_networks.data import _sentences, tagging_data

    data = tagging_data("oanc-pos", train_sentences=40, test_sentences=20)
    table = script.char_table(_sentences("oanc-pos", "train", 40)[0])
    words, _, offsets = _sentences("oanc-pos", "test", 20)
    chars = script.char_windows(words, offsets, table)
    assert chars.shape == (*data.test_windows.shape, script.MAX_CHARS)
    centre = data.test_windows.shape[1] // 2
    np.testing.assert_array_equal(chars[:, centre], script.spell(words.astype(str), table))
    padded = data.test_windows == 0  # the windows' padding positions: all pad characters
    assert padded.any() and (chars[padded] == table[script.PAD_CHAR]).all()
    unknown = data.test_windows[:, centre] == 1  # <unk> to the word vectors...
    assert unknown.any()
    assert (chars[unknown, centre, 1] != table[script.PAD_CHAR]).all()  # ...still spelled


def test_the_character_aware_tagger_differentiates_as_its_loss_does(script):
    from nlpdojo.selection import load_backend

    backend = load_backend("numpy", "cpu", "float64")
    rng = np.random.default_rng(0)
    model = script.CharWindowTagger(backend, 6, 7, 3, 2, 3, 4, 5, 3, dropout=0.0)
    for _, p in model.named_parameters():
        p.data = 0.5 * rng.standard_normal(p.shape)
    windows = np.concatenate([rng.integers(0, 6, (4, 3, 1)), rng.integers(0, 7, (4, 3, 5))],
                             axis=2)
    weights = rng.standard_normal((4, 3))

    def loss() -> float:
        return float(np.sum(model(windows)[0] * weights))

    model.zero_grad()
    _, cache = model(windows)
    assert model.backward(weights, cache) is None
    for name, p in model.named_parameters():
        flat = p.data.reshape(-1)
        for i in rng.choice(flat.size, min(flat.size, 4), replace=False):
            keep = flat[i]
            flat[i] = keep + 1e-6
            up = loss()
            flat[i] = keep - 1e-6
            down = loss()
            flat[i] = keep
            assert p.grad.reshape(-1)[i] == pytest.approx((up - down) / 2e-6, rel=1e-5,
                                                         abs=1e-8), name


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
