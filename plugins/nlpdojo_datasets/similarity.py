"""Word-similarity test sets: WordSim-353 (Finkelstein et al. 2002) and SimLex-999 (Hill et al.
2015), as shipped in gensim's test data. Evaluation: Spearman correlation between the human
scores and the cosine similarity of the two words' vectors (CS224n lecture 2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.records import SimilarityPairs
from nlpdojo.dataset import Dataset
from nlpdojo_datasets.pins import gensim_sources


def parse_pairs(path: Path) -> SimilarityPairs:
    """Lines ``word1<TAB>word2<TAB>score``; lines starting with ``#`` are comments."""
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    bad = [r for r in rows if len(r) != 3]
    if bad:
        raise ValueError(f"{path.name}: expected 3 fields per line, got {bad[0]}")
    return SimilarityPairs(word1=[r[0] for r in rows], word2=[r[1] for r in rows],
                           score=np.array([float(r[2]) for r in rows], dtype=np.float64))


class WordSim353(Dataset):
    records = SimilarityPairs
    name = "wordsim353"
    description = "WordSim-353: 353 word pairs rated for relatedness 0-10 (evaluation only)"
    license = "free for research (Finkelstein et al.); redistributed in gensim (LGPL-2.1)"
    homepage = "https://gabrilovich.com/resources/data/wordsim353/wordsim353.html"
    citation = "Finkelstein et al. 2002, Placing search in context: the concept revisited. TOIS."
    split_note = "no splits: an evaluation set, load(None) returns all 353 pairs"
    files = (FileSpec("wordsim353.tsv",
                      "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d", 7186),)
    sources = gensim_sources("wordsim353.tsv", "gensim/test/test_data/wordsim353.tsv")

    def parse(self, folder: Path, split: str | None) -> SimilarityPairs:
        return parse_pairs(folder / "wordsim353.tsv")


class SimLex999(Dataset):
    records = SimilarityPairs
    name = "simlex999"
    description = "SimLex-999: 999 word pairs rated for similarity (not relatedness) 0-10"
    license = "free for research (Hill et al.); redistributed in gensim (LGPL-2.1)"
    homepage = "https://fh295.github.io/simlex.html"
    citation = ("Hill, Reichart, Korhonen 2015, SimLex-999: Evaluating semantic models with "
                "(genuine) similarity estimation. Computational Linguistics.")
    split_note = "no splits: an evaluation set, load(None) returns all 999 pairs"
    files = (FileSpec("simlex999.txt",
                      "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d", 18126),)
    sources = gensim_sources("simlex999.txt", "gensim/test/test_data/simlex999.txt")

    def parse(self, folder: Path, split: str | None) -> SimilarityPairs:
        return parse_pairs(folder / "simlex999.txt")
