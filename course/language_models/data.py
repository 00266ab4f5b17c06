"""The language-model corpora as sentences of tokens (topic ``language_models``): the State of
the Union addresses (``sotu``: raw text, split into sentences after ``.``, ``!`` or ``?`` and
tokenized lowercased, exactly as the grader's held-out checks do, :func:`sotu_sentences`), the
movie reviews (``pang-lee-reviews``: already tokenized and lowercased, one sentence per line)
and the Brown corpus (``brown``: the corpus's own tokens, lowercased, one sentence per line;
Bengio et al. 2003's split). Shared by the held-out checks, ``dojo train lm``, ``dojo sample`` and
``bench/lm_results.py``."""

from __future__ import annotations

import functools

from nlpdojo.data import load
from nlpdojo.data.records import Documents
from nlpdojo.text import tokenize
from nlpdojo_autograder.training import SENTENCE_END, TrainError

#: the built-in running-text corpora a language model trains on (any data set of
#: ``Documents`` is one: a data-set plugin's too)
CORPORA = ("sotu", "pang-lee-reviews", "brown")


@functools.cache
def sotu_sentences(split: str, limit: int | None) -> tuple[tuple[str, ...], ...]:
    """The sentences of the first ``limit`` State of the Union addresses (all: ``None``) of
    ``split``, lower-cased tokens: the held-out checks' text."""
    texts = load("sotu", split).texts[:limit]
    return tuple(tuple(tokenize(s, lower=True)) for t in texts for s in SENTENCE_END.split(t)
                 if s.strip())


@functools.cache
def lm_sentences(corpus: str, split: str, limit: int | None = None
                 ) -> tuple[tuple[str, ...], ...]:
    """The sentences of the first ``limit`` documents (all: ``None``) of ``split``."""
    docs = load(corpus, split)
    if not isinstance(docs, Documents):  # a data set that did not declare its records
        raise TrainError(f"corpus {corpus!r} is not a language-model corpus: it holds "
                         f"{type(docs).__name__}, not running text (Documents)")
    texts = docs.texts[:limit]
    if docs.pretokenized:
        return tuple(tuple(line.split()) for t in texts for line in t.split("\n")
                     if line.strip())
    return tuple(tuple(tokenize(s, lower=True)) for t in texts for s in SENTENCE_END.split(t)
                 if s.strip())
