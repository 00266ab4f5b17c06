"""The n-gram language models' data conventions (topic ``language_models``): a vocabulary from the
training split and sentences as one padded id stream.

Conventions (the same as ``nltk.lm`` with the padding stated here, so scores can be compared):

* the vocabulary is every token seen at least ``min_count`` times in the training sentences
  (after padding), plus ``<UNK>``; any other token, in training or test text, becomes ``<UNK>``;
* an order-n model pads each sentence with n − 1 ``<s>`` on the left and one ``</s>`` on the
  right: ``<s> <s> the cat sat </s>`` for n = 3. ``</s>`` is predicted (a model must know where
  sentences end); ``<s>`` is only ever context, never predicted;
* sentences are concatenated into one stream of ids; an n-gram whose last token is ``<s>``
  spans two sentences and is not an n-gram of the text;
* a table of counts is a pair of arrays: the keys sorted with no repeats (an n-gram's ids as
  the digits of one integer in base |V|) and their counts; :func:`lookup` reads one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

BOS, EOS, UNK = "<s>", "</s>", "<UNK>"


def pad(sentence: Sequence[str], n: int) -> list[str]:
    """``sentence`` with n − 1 ``<s>`` in front and one ``</s>`` behind."""
    return [BOS] * (n - 1) + list(sentence) + [EOS]


@dataclass(frozen=True)
class Vocabulary:
    """Token ↔ id; ids are positions in ``tokens`` (``<UNK>`` last)."""

    tokens: tuple[str, ...]

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], n: int, min_count: int = 1) -> Vocabulary:
        counts = Counter(t for s in sentences for t in pad(s, n))
        kept = sorted(t for t, c in counts.items() if c >= min_count and t != UNK)
        return cls(tuple(kept) + (UNK,))

    def __len__(self) -> int:
        return len(self.tokens)

    @cached_property
    def index(self) -> dict[str, int]:
        """Token -> id, made once per vocabulary (a dict of |V| entries: building it at every
        :meth:`id` or :meth:`stream` was most of a held-out set's conversion, sentence by
        sentence). Read it; do not change it."""
        return {t: i for i, t in enumerate(self.tokens)}

    def id(self, token: str) -> int:
        return self.index[token]

    def stream(self, sentences: Iterable[Sequence[str]], n: int) -> np.ndarray:
        """The padded sentences as one int64 id stream (unknown tokens as ``<UNK>``)."""
        index, unk = self.index, len(self.tokens) - 1
        return np.fromiter((index.get(t, unk) for s in sentences for t in pad(s, n)),
                           dtype=np.int64)


def lookup(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The count of each key in ``query`` (0 where absent) in the table ``keys`` (sorted, no
    repeats) → ``counts``: the shape of ``query``, the dtype of ``counts``."""
    if len(keys) == 0:
        return np.zeros(np.shape(query), dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)  # (M,)
    return np.where(keys[at] == query, counts[at], 0)  # (M,)
