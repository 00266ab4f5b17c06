"""The tiny corpus as a data set: bundled, so ``fetch`` copies it from the package, offline."""

from __future__ import annotations

from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.sources import Bundled
from nlpdojo_datasets.tagged import TaggedCorpus


class Tiny(TaggedCorpus):
    name = "tiny"
    filename = "tiny.txt"
    description = "synthetic 400-sentence tagged corpus made by nlpdojo, for fast tests"
    license = "MIT (made by the nlpdojo developers)"
    homepage = "nlpdojo_datasets/tiny/generate.py"
    citation = "-"
    split_note = "by line, 80/10/10 (SplitMix64 rank, salt crc32('tiny')): 320 / 40 / 40"
    files = (FileSpec(filename, "de6839d2666be830c4bdee13316ef160a0c838d2a5f5a2e6cfc23510f2f95bb8",
                      25798),)
    sources = (Bundled("nlpdojo_datasets.tiny", {filename: "tiny.txt"}),)
