"""A tagged corpus's split is parsed from its own lines only: the same sentences, in the same
order, as the whole file's parse restricted to the split (the split drawn over all lines)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from nlpdojo.data.splits import TRAIN_VALID_TEST, named_splits
from nlpdojo_datasets.tagged import TaggedCorpus


class _Tiny(TaggedCorpus):
    name = "tiny-pos"
    filename = "tagged.txt"


def test_each_split_holds_the_whole_files_sentences_at_its_lines(tmp_path):
    rng = np.random.default_rng(0)
    lines = [" ".join(f"w{rng.integers(50)}/T{rng.integers(5)}" for _ in range(1 + i % 7))
             for i in range(300)]
    lines.insert(10, "")  # an empty line is no sentence
    lines.insert(20, "1/2/CD and/CC")  # the tag after the last /
    (tmp_path / "tagged.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = _Tiny()
    whole = corpus.parse(tmp_path, None)
    assert len(whole) == 301 and whole.sentence(19) == [("1/2", "CD"), ("and", "CC")]
    masks = named_splits(np.arange(len(whole), dtype=np.int64), TRAIN_VALID_TEST,
                         salt=zlib.crc32(b"tiny-pos"))
    for split in corpus.splits:
        part, expected = corpus.parse(tmp_path, split), whole.subset(masks[split])
        assert (part.words, part.tags) == (expected.words, expected.tags)
        np.testing.assert_array_equal(part.offsets, expected.offsets)
    assert sum(len(corpus.parse(tmp_path, s)) for s in corpus.splits) == len(whole)


def test_a_token_without_a_tag_is_refused_by_name(tmp_path):
    (tmp_path / "tagged.txt").write_text("a/DT cat\n", encoding="utf-8")
    with pytest.raises(ValueError, match="tagged.txt: token without a /TAG: 'cat'"):
        _Tiny().parse(tmp_path, None)
