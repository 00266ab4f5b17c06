"""What loaders return: small typed containers over NumPy arrays, never per-token objects.

* :class:`SimilarityPairs` - word pairs with a human score (WordSim-353, SimLex-999);
* :class:`Analogies` - ``a : b :: c : d`` questions in named sections (Mikolov et al. 2013);
* :class:`Documents` - running text, one string per document (LM and word-vector corpora);
* :class:`LabeledSentences` - sentences with an integer label (and fold) for classification;
* :class:`TaggedSentences` - tokens and tags, flat, with sentence offsets (window tagging).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SimilarityPairs:
    """``word1[i]``, ``word2[i]`` and their mean human rating ``score[i]``."""

    word1: list[str]
    word2: list[str]
    score: np.ndarray  # (N,) float64

    def __len__(self) -> int:
        return len(self.word1)


@dataclass(frozen=True)
class Analogies:
    """``questions[i] = (a, b, c, d)``: a is to b as c is to d; ``section[i]`` indexes
    ``sections``; a section is semantic unless its name starts with ``gram``."""

    questions: list[tuple[str, str, str, str]]
    section: np.ndarray  # (N,) int64 into `sections`
    sections: list[str]

    def __len__(self) -> int:
        return len(self.questions)

    @property
    def is_semantic(self) -> np.ndarray:
        """(N,) bool: the question's section is semantic (not ``gram*``)."""
        semantic = np.array([not s.startswith("gram") for s in self.sections], dtype=bool)
        return semantic[self.section]


@dataclass(frozen=True)
class Documents:
    """Running text: ``texts[i]`` is one document (a review, an address).

    ``pretokenized`` says the text is already tokenized (split on whitespace); otherwise use
    :func:`nlpdojo.text.tokenize`. ``meta`` holds per-document arrays (labels, years...).
    """

    texts: list[str]
    pretokenized: bool = False
    lowercased: bool = False
    meta: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class LabeledSentences:
    """``texts[i]`` with class ``labels[i]`` (int64 in ``[0, len(classes))``)."""

    texts: list[str]
    labels: np.ndarray  # (N,) int64
    classes: tuple[str, ...]
    meta: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, mask: np.ndarray) -> LabeledSentences:
        """The sentences where ``mask`` (N,) bool is true, in order."""
        idx = np.flatnonzero(mask)
        return LabeledSentences(
            texts=[self.texts[i] for i in idx],
            labels=self.labels[idx],
            classes=self.classes,
            meta={k: v[idx] for k, v in self.meta.items()},
        )


@dataclass(frozen=True)
class TaggedSentences:
    """Sentences of ``word/TAG`` tokens, stored flat.

    Sentence ``i`` is ``words[offsets[i]:offsets[i + 1]]`` with tags
    ``tags[offsets[i]:offsets[i + 1]]``.
    """

    words: list[str]  # (T,) every token of every sentence
    tags: list[str]  # (T,)
    offsets: np.ndarray  # (S + 1,) int64

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        return len(self.words)

    def sentence(self, i: int) -> list[tuple[str, str]]:
        """Sentence ``i`` as ``(word, tag)`` pairs."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return list(zip(self.words[lo:hi], self.tags[lo:hi], strict=True))

    def subset(self, mask: np.ndarray) -> TaggedSentences:
        """The sentences where ``mask`` (S,) bool is true, in order."""
        idx = np.flatnonzero(mask)
        lengths = np.diff(self.offsets)[idx]
        words: list[str] = []
        tags: list[str] = []
        for i in idx:  # per sentence, slicing C-level lists
            lo, hi = self.offsets[i], self.offsets[i + 1]
            words.extend(self.words[lo:hi])
            tags.extend(self.tags[lo:hi])
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return TaggedSentences(words=words, tags=tags, offsets=offsets)
