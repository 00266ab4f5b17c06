"""neural_networks' tagging data, prepared on the grader's side (trusted): word and tag ids
of a corpus split, the context windows of every token (:func:`nlpdojo.text.windows.
context_windows`), the vocabulary from the training split only, and the most-frequent-tag
baseline the tagger must clearly beat."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from nlpdojo.data import load
from nlpdojo.text.ragged import Ragged
from nlpdojo.text.windows import context_windows
from nlpdojo_autograder.training import most_frequent_label_accuracy

PAD, UNK = "<pad>", "<unk>"


@dataclass(frozen=True)
class TaggingData:
    """Windows (N, W) and tags (N,) of the training and held-out tokens; ``test_tags`` is -1
    for a tag never seen in training (always an error: no model can predict it)."""

    train_windows: np.ndarray
    train_tags: np.ndarray
    test_windows: np.ndarray
    test_tags: np.ndarray
    words: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    @property
    def n_tags(self) -> int:
        return len(self.tags)


def tagged_sentences(name: str, split: str, limit: int | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``limit`` sentences (None: every one) of a tagged corpus's split: its words
    (T,) lower-cased, their tags (T,) and the sentences' offsets (S + 1,) into both."""
    data = load(name, split)
    stop = data.offsets[min(limit, len(data.offsets) - 1)] if limit else data.offsets[-1]
    words = np.asarray([w.lower() for w in data.words[:stop]], dtype=object)  # (T,)
    tags = np.asarray(data.tags[:stop], dtype=object)  # (T,)
    offsets = data.offsets[:(limit or len(data.offsets) - 1) + 1]
    return words, tags, np.asarray(offsets, dtype=np.int64)


@functools.cache
def tagging_data(name: str = "oanc-pos", *, train_sentences: int | None = 3000,
                 test_sentences: int | None = 1000, half_window: int = 2,
                 min_count: int = 2) -> TaggingData:
    """The ``train`` and ``test`` splits of ``name`` (the first sentences of each, for a
    budget): words lower-cased, those seen fewer than ``min_count`` times in training as
    ``<unk>``, windows of ``2 * half_window + 1`` words padded with ``<pad>``."""
    tr_words, tr_tags, tr_off = tagged_sentences(name, "train", train_sentences)
    te_words, te_tags, te_off = tagged_sentences(name, "test", test_sentences)
    uniq, counts = np.unique(tr_words.astype(str), return_counts=True)
    words = (PAD, UNK, *uniq[counts >= min_count].tolist())
    index = {w: i for i, w in enumerate(words)}
    tags = tuple(np.unique(tr_tags.astype(str)).tolist())
    tag_index = {t: i for i, t in enumerate(tags)}

    def ids(tokens: np.ndarray, table: dict[str, int], missing: int) -> np.ndarray:
        return np.fromiter((table.get(t, missing) for t in tokens), np.int64, len(tokens))

    def windows(tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        return context_windows(Ragged(ids(tokens, index, 1), offsets), half_window, 0)

    return TaggingData(windows(tr_words, tr_off), ids(tr_tags, tag_index, -1),
                       windows(te_words, te_off), ids(te_tags, tag_index, -1), words, tags)


def most_frequent_tag_accuracy(data: TaggingData, sample: np.ndarray | None = None) -> float:
    """Held-out accuracy of tagging every word with its most frequent training tag (unknown
    words with the most frequent tag overall): the baseline a tagger must beat. ``sample``:
    the held-out windows measured (default all)."""
    centre = data.train_windows.shape[1] // 2
    sample = np.arange(len(data.test_tags)) if sample is None else sample
    return most_frequent_label_accuracy(
        data.train_windows[:, centre], data.train_tags, data.test_windows[sample, centre],
        data.test_tags[sample], keys=data.vocab_size, labels=data.n_tags, unknown=1)


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
