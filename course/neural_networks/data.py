"""neural_networks' tagging data, prepared on the grader's side (trusted): the training kit's
tagged windows (:mod:`nlpdojo_autograder.training.tagging`: word and tag ids of a corpus split,
the context windows of every token, the vocabulary from the training split only, and the
most-frequent-tag baseline the tagger must clearly beat), and the max-margin scorer's
corrupted windows built on them."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from nlpdojo_autograder.training import (
    TaggingData,
    most_frequent_tag_accuracy,
    tagged_sentences,
    tagging_data,
)

#: what the topic's modules and commands read from here (the kit's, re-exported)
__all__ = ["RankingData", "TaggingData", "most_frequent_tag_accuracy", "ranking_accuracy",
           "ranking_data", "tagged_sentences", "tagging_data"]

@dataclass(frozen=True)
class RankingData:
    """The max-margin window scorer's task: true training windows, the noise distribution
    (V,) their corrupted center words are drawn from, held-out windows (M, W) and K corrupted
    versions of each (M, K, W), and which corrupted versions really differ (M, K)."""

    train_windows: np.ndarray
    noise: np.ndarray
    test_windows: np.ndarray
    corrupted: np.ndarray
    valid: np.ndarray


@functools.cache
def ranking_data(name: str = "oanc-pos", *, train_sentences: int | None = 2000,
                 test_sentences: int | None = 1000, corruptions: int = 5,
                 seed: int = 0) -> RankingData:
    """Windows of :func:`tagging_data` (tags unused). A corrupted window has its center word
    replaced by a word drawn in proportion to its frequency as a center word in training (a
    uniform draw would mostly pick rare words, and word frequency alone would tell the two
    apart); ``<pad>`` is never drawn. A draw equal to the true center word is left out of the
    measurement (``valid`` False)."""
    data = tagging_data(name, train_sentences=train_sentences, test_sentences=test_sentences)
    centre = data.train_windows.shape[1] // 2
    counts = np.bincount(data.train_windows[:, centre], minlength=data.vocab_size)  # (V,)
    counts[0] = 0  # <pad>
    noise = counts / counts.sum()  # (V,)
    rng = np.random.default_rng(seed)
    m = len(data.test_windows)
    words = rng.choice(data.vocab_size, size=(m, corruptions), p=noise)  # (M, K)
    corrupted = np.repeat(data.test_windows[:, None, :], corruptions, axis=1)  # (M, K, W)
    corrupted[:, :, centre] = words
    valid = words != data.test_windows[:, centre:centre + 1]  # (M, K)
    return RankingData(data.train_windows, noise, data.test_windows, corrupted, valid)


def ranking_accuracy(true: np.ndarray, corrupted: np.ndarray, valid: np.ndarray) -> float:
    """The fraction of (window, corrupted version) pairs in which the true window scores
    strictly higher: 0.5 for a scorer that cannot tell them apart, 1 for a perfect one."""
    wins = true[:, None] > corrupted  # (M, K)
    return float(np.mean(wins[valid]))
