"""A simple, documented tokenizer: one regular expression, applied by ``re.findall`` in C.

A token is, in order of preference:

1. a word: letters, optionally joined by an apostrophe or hyphen (``don't``, ``state-of-the-art``,
   ``l'état``) - letters are Unicode letters (``[^\\W\\d_]``);
2. a number: digits, optionally with ``.``, ``,`` or ``:`` between digit groups (``3.14``,
   ``1,000``, ``10:30``);
3. any other single non-space character (punctuation, symbols: ``$``, ``(``, ``—``).

Whitespace separates tokens and is dropped. This is the kind of "word" tokenization of the
word2vec and early language-model papers; it does not split clitics (``don't`` stays one token)
the way the Penn Treebank does. Corpora that are already tokenized (the Pang & Lee reviews)
should be split on whitespace instead (:func:`split_whitespace`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TOKEN_PATTERN = r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|\d+(?:[.,:]\d+)*|\S"
_TOKEN_RE = re.compile(TOKEN_PATTERN)


def tokenize(text: str, *, lower: bool = False) -> list[str]:
    """Tokens of ``text`` (see the module docstring); ``lower`` lowercases first."""
    return _TOKEN_RE.findall(text.lower() if lower else text)


def split_whitespace(text: str, *, lower: bool = False) -> list[str]:
    """Tokens of already-tokenized text: split on runs of whitespace."""
    return (text.lower() if lower else text).split()


def tokenize_all(texts: Iterable[str], *, lower: bool = False, pretokenized: bool = False
                 ) -> list[list[str]]:
    """Tokenize every text (one list of tokens per text)."""
    fn = split_whitespace if pretokenized else tokenize
    return [fn(t, lower=lower) for t in texts]
