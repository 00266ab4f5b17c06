"""The real corpora in the user's cache: pins verified, counts and splits as in docs/data.md.

``make test`` fetches them first (``make data``); elsewhere each test skips, saying which
command fetches its data set. A corrupt cache fails (it is never silently skipped).
"""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest

from nlpdojo.data import get_dataset
from nlpdojo.dataset import Status
from nlpdojo.text import Vocab, bptt_batches, numericalize, tokenize_all


def cached(name: str):
    ds = get_dataset(name)
    status = ds.status()
    if status is Status.MISSING:
        pytest.skip(f"data set {name!r} is not fetched: run `dojo data fetch {name}` "
                    "(`make test` does it for you)")
    assert status is Status.CACHED, f"{name}: {ds.problems()}; run `dojo data fetch {name}`"
    return ds


def split_sizes(ds) -> dict[str, int]:
    return {s: len(ds.load(s)) for s in ds.splits}


def test_wordsim353() -> None:
    pairs = cached("wordsim353").load()
    assert len(pairs) == 353
    assert (pairs.word1[0], pairs.word2[0], pairs.score[0]) == ("love", "sex", 6.77)
    assert 0 <= pairs.score.min() and pairs.score.max() <= 10


def test_simlex999() -> None:
    pairs = cached("simlex999").load()
    assert len(pairs) == 999
    assert (pairs.word1[0], pairs.word2[0], pairs.score[0]) == ("old", "new", 1.58)


def test_google_analogies() -> None:
    ds = cached("google-analogies")
    data = ds.load()
    assert len(data) == 19_544 and len(data.sections) == 14
    assert data.questions[0] == ("Athens", "Greece", "Baghdad", "Iraq")
    assert split_sizes(ds) == {"semantic": 8_869, "syntactic": 10_675}


def test_pang_lee_reviews_as_lm_corpus() -> None:
    ds = cached("pang-lee-reviews")
    docs = ds.load()
    assert len(docs) == 1_500 and docs.pretokenized and docs.lowercased
    assert Counter(docs.meta["polarity"].tolist()) == {1: 750, -1: 750}
    assert split_sizes(ds) == {"train": 1_200, "valid": 150, "test": 150}
    tokens = {s: sum(len(t.split()) for t in ds.load(s).texts) for s in ds.splits}
    assert sum(tokens.values()) == 1_118_148
    assert tokens == {"train": 900_447, "valid": 111_665, "test": 106_036}


def test_lm_pipeline_takes_seconds() -> None:
    ds = cached("pang-lee-reviews")
    start = time.perf_counter()
    train = ds.load("train")
    toks = tokenize_all(train.texts, pretokenized=True)
    vocab = Vocab.build(toks, max_size=10_000, specials=("</s>",))
    stream = numericalize(toks, vocab, eos="</s>")
    batches = bptt_batches(stream.values, 20, 35)
    n = sum(x.size for x, _ in batches)
    elapsed = time.perf_counter() - start
    assert len(vocab) == 10_000 and n == batches.n_tokens
    assert elapsed < 5, f"loading + batching the LM corpus took {elapsed:.1f} s"


def test_sotu() -> None:
    ds = cached("sotu")
    docs = ds.load()
    assert len(docs) == 233
    assert docs.meta["year"].min() == 1790 and docs.meta["year"].max() == 2021
    assert docs.meta["president"][0] == "George Washington"
    assert sum(len(t.split()) for t in docs.texts) == 1_794_884
    assert sum(map(len, tokenize_all(docs.texts))) == 1_964_431
    assert split_sizes(ds) == {"train": 185, "valid": 24, "test": 24}


def test_mr_polarity_and_folds() -> None:
    ds = cached("mr")
    data = ds.load()
    assert len(data) == 10_568
    assert Counter(data.labels.tolist()) == {1: 5_242, 0: 5_326}
    assert np.all((data.meta["score"] > 0) == (data.labels == 1))
    sizes = split_sizes(ds)
    assert (sizes["train"], sizes["dev"], sizes["test"]) == (8_454, 1_057, 1_057)
    assert [sizes[f"fold{k}"] for k in range(10)] == [1_057] * 8 + [1_056] * 2
    train, test = ds.cv(3)
    assert len(train) + len(test) == 10_568 and len(test) == 1_057
    assert not set(train.meta["id"].tolist()) & set(test.meta["id"].tolist())
    assert data.texts[0].startswith("The Rock is destined")


@pytest.mark.parametrize(("name", "lines", "tokens", "tags", "sizes"), [
    ("wsj-pos", 1_001, 25_026, 44, {"train": 800, "valid": 100, "test": 101}),
    ("oanc-pos", 20_000, 360_524, 48, {"train": 16_000, "valid": 2_000, "test": 2_000}),
])
def test_tagged(name: str, lines: int, tokens: int, tags: int, sizes: dict[str, int]) -> None:
    ds = cached(name)
    data = ds.load()
    assert (len(data), data.n_tokens, len(set(data.tags))) == (lines, tokens, tags)
    assert split_sizes(ds) == sizes


def test_brown() -> None:
    ds = cached("brown")
    tagged = ds.tagged()
    assert (len(tagged), tagged.n_tokens, len(set(tagged.tags))) == (57_340, 1_161_192, 472)
    assert tagged.sentence(0)[:3] == [("The", "AT"), ("Fulton", "NP-TL"), ("County", "NN-TL")]
    docs = ds.load()
    assert len(docs) == 500 and docs.pretokenized and docs.lowercased
    assert len(set(docs.meta["genre"].tolist())) == 15
    assert Counter(docs.meta["genre"].tolist())["learned"] == 80
    sizes = {}
    for split in ds.splits:  # Bengio et al. 2003: 800,000 / 200,000 / the rest, whole sentences
        part = ds.load(split)
        sentences = [line.split() for t in part.texts for line in t.split("\n")]
        sizes[split] = (len(part), len(sentences), sum(map(len, sentences)))
    assert sizes == {"train": (348, 35_523, 800_001), "valid": (86, 11_690, 200_021),
                     "test": (68, 10_127, 161_170)}
