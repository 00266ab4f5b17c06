"""The containers loaders return."""

from __future__ import annotations

import numpy as np

from nlpdojo.data.records import Analogies, LabeledSentences, TaggedSentences


def test_tagged_subset_keeps_alignment() -> None:
    data = TaggedSentences(words=["a", "b", "c", "d", "e", "f"],
                           tags=["1", "2", "3", "4", "5", "6"],
                           offsets=np.array([0, 2, 3, 6]))
    assert len(data) == 3 and data.n_tokens == 6
    sub = data.subset(np.array([True, False, True]))
    assert sub.words == ["a", "b", "d", "e", "f"] and sub.offsets.tolist() == [0, 2, 5]
    assert sub.sentence(1) == [("d", "4"), ("e", "5"), ("f", "6")]


def test_labeled_subset() -> None:
    data = LabeledSentences(texts=["x", "y", "z"], labels=np.array([0, 1, 1]),
                            classes=("neg", "pos"), meta={"id": np.array([7, 8, 9])})
    sub = data.subset(np.array([False, True, True]))
    assert sub.texts == ["y", "z"] and sub.meta["id"].tolist() == [8, 9]


def test_analogies_semantic_flag() -> None:
    data = Analogies(questions=[("a", "b", "c", "d")] * 3, section=np.array([0, 1, 1]),
                     sections=["capital-world", "gram1-adjective-to-adverb"])
    assert data.is_semantic.tolist() == [True, False, False]
