"""A data-set plugin's running text trains ``dojo train lm`` (issue 65 item 5): the n-gram
model accepted three corpora written in (sotu, pang-lee-reviews, brown), so a corpus a
data-set plugin registered could not be used; now any data set that declares ``Documents``
records is a corpus of every model of the command, and one that holds something else is
refused before anything is fetched, naming those that are."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from nlpdojo.cli.app import build_app
from nlpdojo.data import FileSpec
from nlpdojo.data.records import Documents
from nlpdojo.dataset import Dataset
from nlpdojo.plugins import get_registry

#: the plugin's corpus: three splits of short pretokenized sentences, one document each
TEXT = {split: "\n".join(" ".join(("the", animal, verb, "the", thing)) for animal in
                         ("fox", "crow", "lion", "mouse") for verb in ("saw", "took", "left")
                         for thing in things)
        for split, things in (("train", ("grapes", "cheese", "net", "tree")),
                              ("valid", ("cheese", "net")), ("test", ("grapes", "tree")))}


def _fables(root: Path) -> Dataset:
    pins = {}
    for split, text in TEXT.items():
        data = text.encode()
        (root / "fables").mkdir(parents=True, exist_ok=True)
        (root / "fables" / f"{split}.txt").write_bytes(data)
        pins[split] = FileSpec(f"{split}.txt", hashlib.sha256(data).hexdigest(), len(data))

    class Fables(Dataset):
        name = "fables"
        description = "a data-set plugin's running text"
        splits = ("train", "valid", "test")
        records = Documents
        files = tuple(pins.values())

        def parse(self, folder: Path, split: str | None) -> Documents:
            return Documents(texts=[(folder / f"{split}.txt").read_text()], pretokenized=True,
                             lowercased=True)

    return Fables()


def test_a_plugins_running_text_trains_the_ngram_lm_and_other_records_are_refused(
        tmp_path, monkeypatch):
    monkeypatch.setenv("NLPDOJO_DATA", str(tmp_path / "data"))
    get_registry().add("dataset", "fables", _fables(tmp_path / "data"), plugin="fables-pack")
    out = tmp_path / "lm.npz"
    result = CliRunner().invoke(build_app(), [
        "train", "lm", "--model", "ngram", "--order", "2", "--min-count", "1", "--corpus",
        "fables", "--solutions", "--output", str(out), "--heldout", "valid"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "on fables" in result.output and "perplexity" in result.output

    # labeled sentences are no running text: refused at once, the running-text sets named
    refused = CliRunner().invoke(build_app(), [
        "train", "lm", "--model", "ngram", "--corpus", "mr", "--solutions", "--output",
        str(tmp_path / "mr.npz")])
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.output.split())
    assert "corpus 'mr' is not a language-model corpus: it holds LabeledSentences, not " \
        "Documents" in said
    for corpus in ("sotu", "pang-lee-reviews", "brown", "fables"):
        assert corpus in said.split("choose one of")[1]
    assert not (tmp_path / "mr.npz").exists()
