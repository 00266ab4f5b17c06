"""Text pipeline: tokenization, vocabularies, numericalization, sampling tables and batching.

One module per concept: :mod:`~nlpdojo.text.tokenize`, :mod:`~nlpdojo.text.vocab`,
:mod:`~nlpdojo.text.ragged`, :mod:`~nlpdojo.text.numericalize`, :mod:`~nlpdojo.text.subsample`,
:mod:`~nlpdojo.text.negative`, :mod:`~nlpdojo.text.lm_batch`, :mod:`~nlpdojo.text.padding`,
:mod:`~nlpdojo.text.windows`.
"""

from __future__ import annotations

from nlpdojo.text.lm_batch import BPTTBatches, batchify, bptt_batches
from nlpdojo.text.negative import NegativeSampler, noise_distribution
from nlpdojo.text.numericalize import encode_texts, numericalize
from nlpdojo.text.padding import PaddedBatch, bucket_batches, pad
from nlpdojo.text.ragged import Ragged
from nlpdojo.text.subsample import keep_probability, subsample
from nlpdojo.text.tokenize import TOKEN_PATTERN, split_whitespace, tokenize, tokenize_all
from nlpdojo.text.vocab import BOS, EOS, PAD, UNK, Vocab
from nlpdojo.text.windows import context_windows

__all__ = [
    "BOS", "BPTTBatches", "EOS", "NegativeSampler", "PAD", "PaddedBatch", "Ragged",
    "TOKEN_PATTERN", "UNK", "Vocab", "batchify", "bptt_batches", "bucket_batches",
    "context_windows", "encode_texts", "keep_probability", "noise_distribution", "numericalize",
    "pad", "split_whitespace", "subsample", "tokenize", "tokenize_all",
]
