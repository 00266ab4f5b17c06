"""The bundled tiny corpus: reproducible from its generator, fetchable offline."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from nlpdojo.data import get_dataset
from nlpdojo_datasets.tiny.generate import generate


def test_shipped_file_is_the_generators_output() -> None:
    shipped = resources.files("nlpdojo_datasets.tiny").joinpath("tiny.txt").read_text("utf-8")
    assert shipped == generate()


def test_fetch_and_load_offline(cache: Path) -> None:
    ds = get_dataset("tiny")
    ds.fetch(progress=False)
    everything = ds.load()
    assert len(everything) == 400 and everything.n_tokens == 3141
    sizes = {s: len(ds.load(s)) for s in ds.splits}
    assert sizes == {"train": 320, "valid": 40, "test": 40}
    assert set(everything.tags) <= {"DT", "JJ", "NN", "NNS", "NNP", "VBZ", "VBP", "VBD", "IN",
                                    "RB", "."}
