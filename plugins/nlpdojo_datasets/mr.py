"""MR sentence polarity: the Rotten Tomatoes snippets of Pang & Lee's sentence-polarity set
(Pang & Lee 2005), the "MR" column of Kim 2014 ("Convolutional Neural Networks for Sentence
Classification", CS224n lecture on CNNs).

The copy here is Hutto & Gilbert's (2014) re-annotation, shipped with the vaderSentiment sdist:
10,605 snippets with a mean human score in [-4, 4]. Label = sign of the score (1 positive, 0
negative); the 37 snippets scored exactly 0 are dropped, leaving 10,568 (5,242 / 5,326).

Kim evaluates MR by 10-fold cross-validation (it has no standard split). Each sentence's fold is
fixed by :func:`nlpdojo.data.splits.assign_folds` on its id (salt crc32("mr")), so every user
gets the same folds: ``load("fold3")`` is fold 3, :meth:`MRPolarity.cv` gives (train, test) for
one fold. The fixed split for quick work: test = fold 0, dev = fold 1, train = folds 2-9.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.records import LabeledSentences
from nlpdojo.data.splits import assign_folds
from nlpdojo.dataset import Dataset
from nlpdojo_datasets.pins import vader_sources

MR_FILE = "movieReviewSnippets_GroundTruth.txt"
N_FOLDS = 10
FIXED = {"test": (0,), "dev": (1,), "train": (2, 3, 4, 5, 6, 7, 8, 9)}


class MRPolarity(Dataset):
    records = LabeledSentences
    name = "mr"
    description = "MR: 10,568 movie-review sentences, positive/negative (Kim 2014's MR)"
    license = "MIT (vaderSentiment resources, Hutto & Gilbert); sentences from Pang & Lee 2005"
    homepage = "https://github.com/cjhutto/vaderSentiment"
    citation = ("Pang & Lee 2005 (ACL); Hutto & Gilbert 2014, VADER (ICWSM); "
                "Kim 2014, CNNs for Sentence Classification (EMNLP)")
    splits = ("train", "dev", "test", *(f"fold{k}" for k in range(N_FOLDS)))
    split_note = ("10 folds of 1,056-1,057 sentences by sentence id (SplitMix64 rank, salt "
                  "crc32('mr')); test = fold0 (1,057), dev = fold1 (1,057), train = fold2-9 "
                  "(8,454); Kim's protocol: cv(k) for k in 0..9")
    files = (FileSpec(MR_FILE, "c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350",
                      1383098),)
    sources = vader_sources(MR_FILE, MR_FILE)

    def parse(self, folder: Path, split: str | None) -> LabeledSentences:
        lines = (folder / MR_FILE).read_text(encoding="utf-8").splitlines()
        fields = [line.split("\t", 2) for line in lines if line.strip()]
        ids = np.array([int(f[0]) for f in fields], dtype=np.int64)
        score = np.array([float(f[1]) for f in fields], dtype=np.float64)
        keep = np.flatnonzero(score != 0)
        ids, score = ids[keep], score[keep]
        data = LabeledSentences(
            texts=[fields[i][2].strip() for i in keep],
            labels=(score > 0).astype(np.int64),
            classes=("negative", "positive"),
            meta={"id": ids, "score": score,
                  "fold": assign_folds(ids, N_FOLDS, salt=zlib.crc32(self.name.encode()))},
        )
        if split is None:
            return data
        folds = FIXED[split] if split in FIXED else (int(split.removeprefix("fold")),)
        return data.subset(np.isin(data.meta["fold"], folds))

    def cv(self, k: int, *, root: Path | None = None) -> tuple[LabeledSentences, LabeledSentences]:
        """Kim's 10-fold protocol, fold ``k``: (train on the other nine folds, test on fold k)."""
        if not 0 <= k < N_FOLDS:
            raise ValueError(f"fold must be in 0..{N_FOLDS - 1}, got {k}")
        data = self.load(root=root)
        test = data.meta["fold"] == k
        return data.subset(~test), data.subset(test)
