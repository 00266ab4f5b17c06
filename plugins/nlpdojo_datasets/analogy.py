"""The Google word-analogy set (Mikolov et al. 2013, "Efficient Estimation of Word
Representations in Vector Space"): ``a : b :: c : d`` questions in 14 sections, 5 semantic
(capitals, currency, family...) and 9 syntactic (``gram1``-``gram9``). Evaluation: is ``d``
the nearest word to ``b - a + c`` (excluding a, b, c)? (CS224n lecture 2.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.records import Analogies
from nlpdojo.dataset import Dataset
from nlpdojo_datasets.pins import gensim_sources


def parse_analogies(path: Path) -> Analogies:
    """``: section`` header lines, then lines of four words (case kept as in the file)."""
    sections: list[str] = []
    questions: list[tuple[str, str, str, str]] = []
    section: list[int] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(":"):
            sections.append(line[1:].strip())
        elif line.strip():
            a, b, c, d = line.split()
            questions.append((a, b, c, d))
            section.append(len(sections) - 1)
    return Analogies(questions=questions, section=np.array(section, dtype=np.int64),
                     sections=sections)


class GoogleAnalogies(Dataset):
    records = Analogies
    name = "google-analogies"
    description = "Google analogy test set: 19,544 questions a:b::c:d in 14 sections"
    license = "Apache-2.0 (word2vec); redistributed in gensim (LGPL-2.1)"
    homepage = "https://code.google.com/archive/p/word2vec/"
    citation = ("Mikolov, Chen, Corrado, Dean 2013, Efficient Estimation of Word "
                "Representations in Vector Space. ICLR workshop.")
    splits = ("semantic", "syntactic")
    split_note = ("semantic = the 5 sections not named gram* (8,869 questions); syntactic = "
                  "gram1-gram9 (10,675)")
    files = (FileSpec("questions-words.txt",
                      "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
                      603955),)
    sources = gensim_sources("questions-words.txt", "gensim/test/test_data/questions-words.txt")

    def parse(self, folder: Path, split: str | None) -> Analogies:
        data = parse_analogies(folder / "questions-words.txt")
        if split is None:
            return data
        keep = data.is_semantic == (split == "semantic")
        idx = np.flatnonzero(keep)
        return Analogies(questions=[data.questions[i] for i in idx], section=data.section[idx],
                         sections=data.sections)
