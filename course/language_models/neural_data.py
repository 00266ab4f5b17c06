"""language_models' data for the neural LMs, prepared on the grader's side (trusted): State of
the Union addresses as one id stream per split, the vocabulary from the training text only,
and the add-one unigram model every trained LM must clearly beat.

Conventions (stated to students in the topic's README): text lower-cased and tokenized by
:func:`nlpdojo.text.tokenize`, one ``</s>`` after every sentence (predicted, like any word);
the vocabulary is the ``vocab_size − 1`` most frequent training tokens (ties by first
occurrence) plus ``<UNK>`` for everything else, in training and held-out text alike.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

import numpy as np

from nlpdojo_course.language_models.data import SENTENCE_END

EOS, UNK = "</s>", "<UNK>"


@dataclass(frozen=True)
class LMData:
    """Id streams of the training and held-out text and the vocabulary (``<UNK>`` last)."""

    train_ids: np.ndarray  # (N,)
    test_ids: np.ndarray  # (M,)
    words: tuple[str, ...]

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    @property
    def eos(self) -> int:
        return self.words.index(EOS)


def _tokens(texts) -> list[str]:
    from nlpdojo.text import tokenize

    out: list[str] = []
    for text in texts:
        for sentence in SENTENCE_END.split(text):
            if sentence.strip():
                out += tokenize(sentence, lower=True) + [EOS]
    return out


@functools.cache
def lm_data(corpus: str = "sotu", *, train_texts: int | None = 40,
            test_texts: int | None = 4, vocab_size: int = 2000,
            max_train_tokens: int | None = None, max_test_tokens: int | None = None) -> LMData:
    """The first ``train_texts`` documents of ``corpus``'s train split and the first
    ``test_texts`` of its test split (``None``: all), as id streams over the ``vocab_size``
    most frequent training tokens (``<UNK>`` included)."""
    from nlpdojo.data import load

    train = _tokens(load(corpus, "train").texts[:train_texts])[:max_train_tokens]
    test = _tokens(load(corpus, "test").texts[:test_texts])[:max_test_tokens]
    counts = Counter(train)
    counts.pop(UNK, None)
    words = tuple(w for w, _ in counts.most_common(vocab_size - 1)) + (UNK,)
    index = {w: i for i, w in enumerate(words)}
    unk = len(words) - 1

    def ids(tokens: list[str]) -> np.ndarray:
        return np.fromiter((index.get(t, unk) for t in tokens), np.int64, len(tokens))

    return LMData(ids(train), ids(test), words)


def unigram_perplexity(data: LMData, targets: np.ndarray | None = None) -> float:
    """Held-out perplexity of the add-one unigram model of the training stream (over
    ``targets``, default every held-out token): the floor a neural LM must clearly beat."""
    counts = np.bincount(data.train_ids, minlength=data.vocab_size).astype(np.float64)  # (V,)
    log_p = np.log(counts + 1.0) - np.log(counts.sum() + data.vocab_size)  # (V,)
    targets = data.test_ids if targets is None else targets
    return float(np.exp(-np.mean(log_p[targets])))


def perplexity_of_log_probs(log_probs: np.ndarray) -> float:
    """exp(−mean log P), natural logarithms; NaN for an empty or non-finite input."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.size == 0 or not np.all(np.isfinite(log_probs)):
        return float("nan")
    return float(np.exp(-np.mean(log_probs)))
