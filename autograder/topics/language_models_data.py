"""The language-model corpora as sentences of tokens (topic ``language_models``): the State of
the Union addresses (``sotu``: raw text, split into sentences after ``.``, ``!`` or ``?`` and
tokenized lowercased, exactly as the grader's held-out check does) and the movie reviews
(``pang-lee-reviews``: already tokenized and lowercased, one sentence per line). Shared by
``dojo train lm``, ``dojo sample`` and ``bench/lm_results.py``."""

from __future__ import annotations

import functools

from nlpdojo_autograder.train import TrainError

#: the running-text corpora a language model trains on, and how their texts split into sentences
CORPORA = ("sotu", "pang-lee-reviews")


@functools.cache
def lm_sentences(corpus: str, split: str, limit: int | None = None
                 ) -> tuple[tuple[str, ...], ...]:
    """The sentences of the first ``limit`` documents (all: ``None``) of ``split``."""
    from nlpdojo.data import load
    from nlpdojo.text import tokenize
    from nlpdojo_autograder.topics.language_models import SENTENCE_END

    if corpus not in CORPORA:
        raise TrainError(f"corpus {corpus!r} is not a language-model corpus; choose one of "
                         f"{', '.join(CORPORA)}")
    docs = load(corpus, split)
    texts = docs.texts[:limit]
    if docs.pretokenized:
        return tuple(tuple(line.split()) for t in texts for line in t.split("\n")
                     if line.strip())
    return tuple(tuple(tokenize(s, lower=True)) for t in texts for s in SENTENCE_END.split(t)
                 if s.strip())
