"""word_vectors' data plumbing, shared by ``dojo train word2vec``, the metric checks and the
benchmark: turning a corpus data set into word ids (:func:`prepare_corpus`), loading the
evaluation sets and measuring vectors with the grader's trusted metrics
(:func:`evaluation_sets`, :func:`evaluate_vectors`), and writing vectors in the word2vec text
format (:func:`save_word2vec_text`) that gensim's ``KeyedVectors.load_word2vec_format``,
fastText and most tools read.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.data import load
from nlpdojo_autograder.training import token_ids, vocabulary
from nlpdojo_course.word_vectors import metrics

#: word tokens: the letter-initial alternative of :data:`nlpdojo.text.TOKEN_PATTERN` (numbers and
#: punctuation are not words for word2vec)
WORD_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
#: the data sets :func:`evaluation_sets` loads
EVALUATION_SETS = ("wordsim353", "simlex999", "google-analogies")


@dataclass(frozen=True)
class Corpus:
    """A corpus as word ids: ``token_ids`` (N,) int64 in ``[0, V)``, ``counts`` (V,) and
    ``words`` (V,), the vocabulary sorted by decreasing count (ties by the word)."""

    name: str
    token_ids: np.ndarray
    counts: np.ndarray
    words: list[str]

    @property
    def word2ind(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}


def prepare_corpus(name: str = "sotu", *, min_count: int = 5, split: str | None = None,
                   max_words: int | None = None) -> Corpus:
    """Load data set ``name`` (a :class:`~nlpdojo.data.records.Documents` corpus), tokenize
    (lower-cased, :func:`nlpdojo.text.tokenize`), keep word tokens (those starting with a
    letter: numbers and punctuation are dropped), and remove words seen fewer than
    ``min_count`` times from the stream, as word2vec does. ``max_words`` truncates the raw
    token stream *before* the vocabulary is built (a small, fixed budget)."""
    docs = load(name, split)
    tokens: list[str] = []
    for text in docs.texts:  # a loop over documents; words are found by the regex engine
        tokens += WORD_RE.findall(text.lower())
        if max_words is not None and len(tokens) >= max_words:
            break
    if max_words is not None:
        tokens = tokens[:max_words]
    words = vocabulary(Counter(tokens), min_count=min_count, order="count-word")
    ids = token_ids(tokens, {w: i for i, w in enumerate(words)}, -1, len(tokens))
    ids = ids[ids >= 0]  # (N,) rare words removed from the stream
    return Corpus(name, ids, np.bincount(ids, minlength=len(words)), words)


def evaluation_sets() -> dict[str, Any]:
    """WordSim-353 and SimLex-999 as ``(w1, w2, score)`` lists, the Google analogies as
    ``(a, b, c, d)`` tuples (data sets ``wordsim353``, ``simlex999``, ``google-analogies``)."""
    def pairs(name: str) -> list[tuple[str, str, float]]:
        data = load(name)
        return list(zip(data.word1, data.word2, map(float, data.score), strict=True))

    return {"wordsim353": pairs("wordsim353"), "simlex999": pairs("simlex999"),
            "analogies": list(load("google-analogies").questions)}


def evaluate_vectors(vectors: np.ndarray, word2ind: dict[str, int],
                     sets: dict[str, Any] | None = None, *, restrict_vocab: int = 30_000
                     ) -> dict[str, float]:
    """WordSim-353 and SimLex-999 Spearman, 3CosAdd analogy accuracy, and how many items were
    usable, measured by the grader's own code (:mod:`.metrics`), so it works in a student
    release without the solutions."""
    sets = sets or evaluation_sets()
    ws, n_ws = metrics.similarity_rho(vectors, word2ind, sets["wordsim353"])
    sl, n_sl = metrics.similarity_rho(vectors, word2ind, sets["simlex999"])
    an, n_an = metrics.analogy_accuracy(vectors, word2ind, sets["analogies"],
                                        restrict_vocab=restrict_vocab)
    return {"wordsim353": ws, "wordsim353_n": n_ws, "simlex999": sl, "simlex999_n": n_sl,
            "analogy": an, "analogy_n": n_an}


def save_word2vec_text(path: str | Path, words: list[str], vectors: np.ndarray) -> Path:
    """Write the word2vec text format: a ``"V D"`` header, then ``word v1 ... vD`` per line
    (UTF-8, words must not contain whitespace). ``repr``-exact float32 values ("%.6g" would
    lose digits; ``float32`` round-trips through 9 significant digits)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(words):
        raise ValueError(f"{len(words)} words but {vectors.shape[0]} vectors")
    bad = [w for w in words if not w or any(ch.isspace() for ch in w)]
    if bad:
        raise ValueError(f"words must be non-empty without whitespace: {bad[:3]}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        f.write(f"{vectors.shape[0]} {vectors.shape[1]}\n")
        rows = np.char.mod("%.9g", vectors)  # (V, D) strings
        for word, row in zip(words, rows, strict=True):
            f.write(word + " " + " ".join(row) + "\n")
    return path
