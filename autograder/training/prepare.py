"""Data preparation shared by every topic that trains, on the grader's side (trusted).

* **Vocabulary** (:func:`vocabulary`, :func:`token_ids`): words by count with a minimum count
  or a size cap, unknown words mapped to one id (``<UNK>``), as every neural model of the
  course sees its text (CS224n lecture 6; Bengio et al. 2003 keep the most frequent words).
* **Running text as id streams** (:func:`token_streams`, :class:`TokenStreams`): a corpus's
  train and test splits, one ``</s>`` after every sentence, the ``vocab_size`` most frequent
  training tokens with ``<UNK>`` last: what a language model trains on and is scored on.
  :func:`stream_targets` is the order a stream model scores a stretch in (the BPTT batching:
  ``streams`` parallel rows cut into windows of ``bptt`` steps, Mikolov 2012).
* **Labelled sentences** (:func:`labelled_sentences`, :class:`SentenceData`): a sentence
  classification set (MR-style ``texts`` and ``labels``) as padded id matrices and lengths.
* **Held-out sampling from the grading's input seed** (:func:`heldout_rng`,
  :func:`sample_indices`, :func:`stretch`, :func:`take`): each grading scores a fresh sample
  (fresh in CI, docs/security.md "Metric checks").

Example, a classifier's held-out sample and probe::

    rng = heldout_rng(ctx, 0x3A7)
    sample = sample_indices(len(data.test_labels), int(0.8 * len(data.test_labels)), rng)
    probe = sample_indices(len(data.train_labels), 200, rng)
    heldout = take((data.test_ids, data.test_lengths), sample)
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from nlpdojo.data import load
from nlpdojo.text import tokenize

EOS, UNK = "</s>", "<UNK>"
#: where a sentence ends in running text: after ``.``, ``!`` or ``?`` and white space
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# -- vocabulary and ids ------------------------------------------------------------------------
def vocabulary(counts: Mapping[str, int], *, min_count: int = 1, size: int | None = None,
               order: str = "count") -> list[str]:
    """The words of ``counts`` seen ``min_count`` times or more, at most ``size`` of them, in
    ``order``: ``"count"`` (most frequent first, ties in ``counts``' order: a
    :class:`~collections.Counter`'s is first occurrence), ``"count-word"`` (ties by the word),
    ``"word"`` (alphabetical) or ``"first"`` (``counts``' order)."""
    kept = [(w, c) for w, c in counts.items() if c >= min_count]
    if order == "count":
        kept.sort(key=lambda wc: -wc[1])
    elif order == "count-word":
        kept.sort(key=lambda wc: (-wc[1], wc[0]))
    elif order == "word":
        kept.sort()
    elif order != "first":
        raise ValueError(f"unknown vocabulary order {order!r}")
    return [w for w, _ in kept[:size]]


def token_ids(tokens: Iterable[str], index: Mapping[str, int], unknown: int,
              count: int = -1) -> np.ndarray:
    """The ids of ``tokens`` (``index``: word → id; others get ``unknown``), int64 (N,); a
    dictionary lookup per token at C speed (``map`` of ``dict.get``)."""
    return np.fromiter(map(index.get, tokens, repeat(unknown)), np.int64, count)


# -- running text as id streams (language models) --------------------------------------------
def sentence_tokens(texts: Iterable[str]) -> list[str]:
    """Lower-cased :func:`nlpdojo.text.tokenize` tokens of running ``texts``, split into
    sentences after ``.``, ``!`` or ``?``, one ``</s>`` after every sentence."""
    out: list[str] = []
    for text in texts:  # documents, then sentences: the tokens are found by the regex engine
        for sentence in SENTENCE_END.split(text):
            if sentence.strip():
                out += tokenize(sentence, lower=True) + [EOS]
    return out


@dataclass(frozen=True)
class TokenStreams:
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


@functools.cache
def token_streams(corpus: str, *, train_texts: int | None = 40, test_texts: int | None = 4,
                  vocab_size: int = 2000, max_train_tokens: int | None = None,
                  max_test_tokens: int | None = None, heldout: str = "test") -> TokenStreams:
    """The first ``train_texts`` documents of ``corpus``'s train split and the first
    ``test_texts`` of its ``heldout`` split (``test``, or ``valid``; ``None``: all documents),
    as id streams over the ``vocab_size`` most frequent training tokens (``<UNK>`` included,
    last; ties by first occurrence)."""
    train = sentence_tokens(load(corpus, "train").texts[:train_texts])[:max_train_tokens]
    test = sentence_tokens(load(corpus, heldout).texts[:test_texts])[:max_test_tokens]
    counts = Counter(train)
    counts.pop(UNK, None)
    words = (*vocabulary(counts, size=vocab_size - 1), UNK)
    index = {w: i for i, w in enumerate(words)}
    unk = len(words) - 1
    return TokenStreams(token_ids(train, index, unk, len(train)),
                        token_ids(test, index, unk, len(test)), words)


def stream_targets(ids: np.ndarray, streams: int, bptt: int) -> np.ndarray:
    """The tokens a stream model predicts when it scores ``ids`` as ``streams`` parallel rows
    cut into windows of ``bptt`` steps, in the order it scores them (window by window, row by
    row): each row's first token is context only, a last partial window is dropped."""
    length = len(ids) // streams
    k = (length - 1) // bptt
    rows = ids[:length * streams].reshape(streams, length)  # (B, L)
    targets = rows[:, 1:k * bptt + 1].reshape(streams, k, bptt)  # (B, K, T)
    return targets.transpose(1, 0, 2).reshape(-1)  # (K·B·T,)


# -- labelled sentences (classifiers) ----------------------------------------------------------
@dataclass(frozen=True)
class SentenceData:
    """A classification set's train and test splits as padded id matrices (N, max_tokens),
    lengths (N,) and labels (N,); id 0 is ``<pad>``, 1 ``<unk>``."""

    train_ids: np.ndarray
    train_lengths: np.ndarray
    train_labels: np.ndarray
    test_ids: np.ndarray
    test_lengths: np.ndarray
    test_labels: np.ndarray
    vocab_size: int


def pad_rows(flat: np.ndarray, lengths: np.ndarray, width: int, pad: int = 0) -> np.ndarray:
    """Rows of ``lengths`` ids each, taken in order from ``flat`` (sum(lengths),), padded
    with ``pad`` to ``width``: (N, width)."""
    ids = np.full((len(lengths), width), pad, np.int64)  # (N, W)
    ids[np.arange(width)[None, :] < lengths[:, None]] = flat  # row-major fill
    return ids


@functools.cache
def labelled_sentences(name: str, *, max_tokens: int = 40, min_count: int = 2
                       ) -> SentenceData:
    """Data set ``name``'s train and test splits (``texts`` and ``labels``) as
    :func:`sentence_matrices`."""
    train, test = load(name, "train"), load(name, "test")
    return sentence_matrices(train.texts, train.labels, test.texts, test.labels,
                             max_tokens=max_tokens, min_count=min_count)


def sentence_matrices(train_texts: Sequence[str], train_labels: Sequence[int],
                      test_texts: Sequence[str], test_labels: Sequence[int], *,
                      max_tokens: int = 40, min_count: int = 2) -> SentenceData:
    """Labelled texts as padded id matrices: lower-cased :func:`~nlpdojo.text.tokenize`
    tokens, the first ``max_tokens`` of each sentence (an empty one is ``<unk>``); the
    vocabulary: ``<pad>``, ``<unk>`` and the training words seen ``min_count`` times or more,
    in order of first occurrence (a cross-validation fold's train and test, or a data set's
    splits)."""
    tokens = {s: [tokenize(t, lower=True)[:max_tokens] or ["<unk>"] for t in texts]
              for s, texts in (("train", train_texts), ("test", test_texts))}
    counts = Counter(w for sentence in tokens["train"] for w in sentence)
    words = ["<pad>", "<unk>", *(w for w in vocabulary(counts, min_count=min_count,
                                                         order="first")
                                 if w not in ("<pad>", "<unk>"))]
    index = {w: i for i, w in enumerate(words)}

    def matrix(sentences: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        lengths = np.array([len(s) for s in sentences], np.int64)  # (N,)
        flat = token_ids((w for s in sentences for w in s), index, 1)
        return pad_rows(flat, lengths, max_tokens), lengths

    (a, b), (c, d) = matrix(tokens["train"]), matrix(tokens["test"])
    return SentenceData(a, b, np.asarray(train_labels, np.int64), c, d,
                        np.asarray(test_labels, np.int64), len(words))


# -- held-out samples drawn from the grading's input seed --------------------------------------
def heldout_rng(ctx: Any, salt: int) -> np.random.Generator:
    """The generator a check draws its held-out sample from: the run's input seed (fresh in
    CI) and the check's own ``salt``."""
    return np.random.default_rng([ctx.input_seed, salt])


def training_seed(ctx: Any) -> int:
    """The seed a training run of the code under test is handed (its batch order, its dropout
    masks): the run's input seed hashed, so that code which receives it learns nothing of the
    input seed itself, from which every check's inputs and every held-out sample follow (an
    attacker's model printed the raw seed and, with the grader's public hash, the seeds of
    the checks after it). Seed 0 (a student release's, public) stays 0."""
    if ctx.input_seed == 0:
        return 0
    digest = hashlib.blake2b(f"{ctx.input_seed}:training".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 2**31


def sample_indices(n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct positions of ``n``, sorted (the held-out items scored)."""
    return np.sort(rng.choice(n, count, replace=False))


def stretch(ids: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """``length`` consecutive tokens of ``ids`` at an offset drawn from ``rng`` (all of them
    when there are fewer)."""
    start = int(rng.integers(0, max(1, len(ids) - length + 1)))
    return ids[start:start + length]


def take(inputs: np.ndarray | Sequence[np.ndarray], rows: np.ndarray) -> Any:
    """``inputs[rows]``, or each array's rows of a tuple of inputs (ids and lengths)."""
    if isinstance(inputs, tuple):
        return tuple(x[rows] for x in inputs)
    return inputs[rows]
