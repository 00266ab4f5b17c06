"""Numericalization: a whole corpus of token lists -> one int64 array (plus document offsets).

The language-model view of a corpus (Bengio et al. 2003; Mikolov et al. 2010; CS224n lecture 5)
is one long stream of ids with an end-of-sentence/document marker between units. Tokens are
chained and encoded in one C-level pass (:meth:`Vocab.encode`); the markers are placed with
vectorized index arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np

from nlpdojo.text.ragged import Ragged
from nlpdojo.text.tokenize import tokenize_all
from nlpdojo.text.vocab import Vocab


def numericalize(token_lists: Sequence[Sequence[str]], vocab: Vocab, *,
                 bos: str | None = None, eos: str | None = None) -> Ragged:
    """Encode every list and concatenate, wrapping each in ``bos``/``eos`` when given.

    Returns a :class:`Ragged` whose ``values`` is the whole stream (N,) int64 and whose rows are
    the documents (markers included).
    """
    lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
    ids = vocab.encode(list(chain.from_iterable(token_lists)))  # (N_tokens,)
    n_docs = len(lengths)
    extra = int(bos is not None) + int(eos is not None)
    if extra == 0:
        return Ragged.from_lengths(ids, lengths)
    out_lengths = lengths + extra  # (D,)
    out = Ragged.from_lengths(np.empty(int(out_lengths.sum()), dtype=np.int64), out_lengths)
    # every token of document d moves right by d * extra (+1 when a bos precedes it)
    shift = np.repeat(np.arange(n_docs, dtype=np.int64) * extra + int(bos is not None), lengths)
    out.values[np.arange(len(ids), dtype=np.int64) + shift] = ids
    if bos is not None:
        out.values[out.offsets[:-1]] = vocab[bos]
    if eos is not None:
        out.values[out.offsets[1:] - 1] = vocab[eos]
    return out


def encode_texts(texts: Iterable[str], vocab: Vocab, *, lower: bool = False,
                 pretokenized: bool = False, bos: str | None = None,
                 eos: str | None = None) -> Ragged:
    """Tokenize raw texts (:mod:`nlpdojo.text.tokenize`) and numericalize them in one go."""
    return numericalize(tokenize_all(texts, lower=lower, pretokenized=pretokenized), vocab,
                        bos=bos, eos=eos)
