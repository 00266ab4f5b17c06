"""Tagged text prepared on the grader's side (trusted), for every topic whose model tags
words: a corpus split's words (lower-cased) and tags, the context windows of every token
(:func:`nlpdojo.text.windows.context_windows`, padded at sentence borders, never crossing them),
the vocabulary from the training split only (words seen fewer than ``min_count`` times are
``<unk>``), and the most-frequent-tag baseline a tagger must clearly beat. Written once for
every topic that reads it: a window tagger, a window scorer, a tagger that also spells the
windows' words."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from nlpdojo.data import load
from nlpdojo.text.ragged import Ragged
from nlpdojo.text.windows import context_windows
from nlpdojo_autograder.training.evaluate import most_frequent_label_accuracy

#: the padding word and the unknown word: ids 0 and 1 of every vocabulary built here
PAD_WORD, UNK_WORD = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1


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


@functools.cache
def tagged_sentences(name: str, split: str, limit: int | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``limit`` sentences (None: every one) of a tagged corpus's split: its words
    (T,) lower-cased, their tags (T,) and the sentences' offsets (S + 1,) into both. Read
    once a process (a tagger that also spells the words reads what the word windows did),
    so the arrays are read-only."""
    data = load(name, split)
    stop = data.offsets[min(limit, len(data.offsets) - 1)] if limit else data.offsets[-1]
    words = np.asarray([w.lower() for w in data.words[:stop]], dtype=object)  # (T,)
    tags = np.asarray(data.tags[:stop], dtype=object)  # (T,)
    offsets = np.array(data.offsets[:(limit or len(data.offsets) - 1) + 1], dtype=np.int64)
    for array in (words, tags, offsets):
        array.flags.writeable = False
    return words, tags, offsets


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
    words = (PAD_WORD, UNK_WORD, *uniq[counts >= min_count].tolist())
    index = {w: i for i, w in enumerate(words)}
    tags = tuple(np.unique(tr_tags.astype(str)).tolist())
    tag_index = {t: i for i, t in enumerate(tags)}

    def ids(tokens: np.ndarray, table: dict[str, int], missing: int) -> np.ndarray:
        return np.fromiter((table.get(t, missing) for t in tokens), np.int64, len(tokens))

    def windows(tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        return context_windows(Ragged(ids(tokens, index, UNK_ID), offsets), half_window,
                               PAD_ID)

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
        data.test_tags[sample], keys=data.vocab_size, labels=data.n_tags, unknown=UNK_ID)
