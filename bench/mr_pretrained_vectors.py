"""Kim (2014)'s CNN on MR with word vectors the course trains itself: CNN-static (pre-trained
vectors, frozen), CNN-non-static (pre-trained vectors, fine-tuned) and CNN-multichannel (one
channel of each, topic ``cnn_text``'s ``MultichannelCNN``), beside CNN-rand, by the
10-fold protocol of ``bench/mr_classifier_results.py`` (its fold split, dev tenth, epoch loop,
seeds and resume machinery are used as they are, not copied).

1. **Vectors.** Skip-gram with negative sampling, the course's reference trainer
   (``nlpdojo_solutions.word_vectors.train.train_sgns``, topic ``word_vectors``), on the
   corpus of :data:`WORD2VEC` (tokens as ``dojo train word2vec`` takes them:
   ``nlpdojo_course.word_vectors.data.WORD_RE``, lower-cased, words seen fewer than
   ``min_count`` times removed), dim = the CNN's. Cached in ``--cache`` (the repository's
   ignored ``.checkpoints/``) under a name that holds the settings, so every fold and rerun
   reuses them; the results file keeps their checksum.
2. **Vocabulary.** The table's (the training part's words seen twice or more), plus every word of
   MR that has a pre-trained vector, as Kim's code builds its look-up table over the whole data
   set: a word the training part lacks keeps its pre-trained vector where it has one (nothing
   about labels or test sentences is used beyond that look-up).
3. **Initialisation** (:func:`embedding_init`): a word with a vector starts from it; the others
   (``<unk>``, numbers, punctuation, words rarer than ``min_count`` in the corpus) from
   U[-a, a], a chosen so that their variance is the pre-trained entries' (a² / 3 = var), as Kim
   does (his a = 0.25 for Google News); ``<pad>`` is zero (the CNN zeroes padded positions
   anyway).
4. **Training**: the topic's ``train_cnn`` (Adam, batches of 50, dropout 0.5, max norm 3) on a
   view of the model (:class:`Trainable`) whose ``parameters()`` leaves the frozen ones out, so
   the optimizer never sees them (static); everything else (conv and output initialisation,
   batch order, dropout masks, the dev tenth, the epochs) is CNN-rand's, fold by fold, so the
   difference to CNN-rand is paired.

A row is a registered builder (:func:`variant`): ``builder(backend, vocab_size, init, seed) ->
(model, frozen parameters)``; CNN-multichannel's model keeps its static channel out of
``parameters()`` itself (a plain array), so its frozen list is empty.

    python bench/mr_pretrained_vectors.py --vectors-only     # train (or load) the vectors
    python bench/mr_pretrained_vectors.py                    # and the folds (resumes)
    python bench/mr_pretrained_vectors.py --corpus pang-lee-reviews,brown,sotu   # other vectors
    python bench/mr_pretrained_vectors.py --write-docs       # and its section of docs/results.md

Each corpus's rows go to their own ``bench/results/mr_pretrained-CORPUS.json``; the section
shows every such file's rows, CNN-rand's from ``bench/results/mr_classifiers.json``.

Give NumPy's BLAS one thread on a shared machine (``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/: the table's script, _machine
import mr_classifier_results as mr  # noqa: E402

ROOT = mr.ROOT
BEGIN, END = "<!-- cnn_text-mr-pretrained:begin -->", "<!-- cnn_text-mr-pretrained:end -->"
COMMAND = "python bench/mr_pretrained_vectors.py --write-docs"
#: skip-gram's settings: word2vec's defaults but the epochs (a corpus of a million words wants
#: many passes: 20 against 5 took a mean-of-vectors logistic regression on MR folds 0-2 from
#: 0.683 to 0.717), dim the CNN's
WORD2VEC = {"corpus": ["pang-lee-reviews"], "min_count": 5, "dim": mr.SETTINGS["dim"],
            "window": 5, "negatives": 5, "subsample": 1e-3, "lr": 0.025, "epochs": 20, "seed": 0}
#: Kim (2014), table 2, MR: 300-d word2vec trained on 100 billion words of Google News
KIM = {"rand": 76.1, "static": 81.0, "non-static": 81.5, "multichannel": 81.1}
#: the baseline row: CNN-rand of the 10-fold table
RAND = "cnn"


# -- 1. the vectors ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Vectors:
    """Pre-trained word vectors: ``words`` (V,), ``vectors`` (V, D) float32, and how they were
    made (``info``: the corpus's size, training time, the file's checksum)."""

    words: list[str]
    vectors: np.ndarray
    info: dict

    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}


def corpus(names: list[str], min_count: int):
    """The data sets ``names`` as one word-id stream
    (:class:`nlpdojo_course.word_vectors.data.Corpus`), tokenized as
    :func:`~nlpdojo_course.word_vectors.data.prepare_corpus` tokenizes one."""
    from nlpdojo.data import load
    from nlpdojo_autograder.training import token_ids, vocabulary
    from nlpdojo_course.word_vectors.data import WORD_RE, Corpus

    tokens: list[str] = []
    for name in names:
        for text in load(name).texts:
            tokens += WORD_RE.findall(text.lower())
    words = vocabulary(Counter(tokens), min_count=min_count, order="count-word")
    ids = token_ids(tokens, {w: i for i, w in enumerate(words)}, -1, len(tokens))
    ids = ids[ids >= 0]  # (N,) rare words removed from the stream, as word2vec does
    return Corpus("+".join(names), ids, np.bincount(ids, minlength=len(words)), words)


def cache_path(settings: dict, cache: Path) -> Path:
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    return cache / f"sgns-{'+'.join(settings['corpus'])}-{settings['dim']}d-{key}.npz"


def pretrained(settings: dict, cache: Path, backend=None) -> Vectors:
    """Skip-gram vectors of ``settings`` (:data:`WORD2VEC`'s keys), from ``cache`` when they
    were trained before, else trained now with the course's reference and stored there."""
    path = cache_path(settings, cache)
    if not path.exists():
        from nlpdojo.selection import load_backend
        from nlpdojo_solutions.word_vectors.train import train_sgns

        backend = backend or load_backend("numpy", "cpu", "float32")
        text = corpus(settings["corpus"], settings["min_count"])
        print(f"word2vec on {text.name}: {len(text.token_ids):,} tokens, "
              f"{len(text.words):,} words", file=sys.stderr, flush=True)
        result = train_sgns(backend, text.token_ids, text.counts, dim=settings["dim"],
                            window=settings["window"], negatives=settings["negatives"],
                            epochs=settings["epochs"], lr=settings["lr"],
                            subsample=settings["subsample"], seed=settings["seed"],
                            progress=False)
        info = {"tokens": int(len(text.token_ids)), "words": len(text.words),
                "seconds": round(result.seconds, 1),
                "words_per_second": round(result.words_per_second),
                "final_loss": round(result.losses[-1], 4)}
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, words=np.array(text.words), vectors=result.center_vectors,
                 info=json.dumps(info))
        partial.replace(path)
    with np.load(path) as f:
        words, vectors, info = f["words"].tolist(), f["vectors"], json.loads(str(f["info"]))
    info["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return Vectors(words, vectors.astype(np.float32), info)


def overlap_with_mr(names: list[str], n: int = 8) -> dict:
    """How much of MR the corpus holds: MR sentences of ``n`` tokens or more found whole in
    it, and those sharing at least one ``n``-gram with it (MR's tokenization on both sides)."""
    from nlpdojo.data import load
    from nlpdojo.text import tokenize

    docs = [tokenize(t, lower=True) for name in names for t in load(name).texts]
    grams = {tuple(d[i:i + n]) for d in docs for i in range(len(d) - n + 1)}
    text = " \n ".join(" ".join(d) for d in docs)
    sentences = [s for s in (tokenize(t, lower=True) for t in load("mr").texts) if len(s) >= n]
    return {"n": n, "sentences": len(sentences),
            "shared_ngram": sum(any(tuple(s[i:i + n]) in grams for i in range(len(s) - n + 1))
                                for s in sentences),
            "whole": sum(" ".join(s) in text for s in sentences)}


# -- 2. the vocabulary ----------------------------------------------------------------------------
def matrices(train_texts, train_labels, held_texts, held_labels, known: set[str]):
    """:func:`~nlpdojo_autograder.training.sentence_matrices` (same tokens, same cut, same
    ``<pad>``, ``<unk>`` and training words in order of first occurrence) with the words of
    any sentence that are ``known`` (have a pre-trained vector) appended to the vocabulary.
    Returns ``(SentenceData, words)``; with nothing known, exactly ``sentence_matrices``'."""
    from nlpdojo.text import tokenize
    from nlpdojo_autograder.training import SentenceData, pad_rows, token_ids, vocabulary

    cut = mr.SETTINGS["max_tokens"]
    tokens = [[tokenize(t, lower=True)[:cut] or ["<unk>"] for t in texts]
              for texts in (train_texts, held_texts)]
    counts = Counter(w for sentence in tokens[0] for w in sentence)
    words = ["<pad>", "<unk>", *(w for w in vocabulary(counts, min_count=mr.SETTINGS["min_count"],
                                                       order="first")
                                 if w not in ("<pad>", "<unk>"))]
    index = {w: i for i, w in enumerate(words)}
    for sentences in tokens:
        for sentence in sentences:
            for w in sentence:
                if w in known and w not in index:
                    index[w] = len(words)
                    words.append(w)

    def matrix(sentences: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        lengths = np.array([len(s) for s in sentences], np.int64)  # (N,)
        return pad_rows(token_ids((w for s in sentences for w in s), index, 1), lengths,
                        cut), lengths

    (a, b), (c, d) = matrix(tokens[0]), matrix(tokens[1])
    return SentenceData(a, b, np.asarray(train_labels, np.int64), c, d,
                        np.asarray(held_labels, np.int64), len(words)), words


def fold_data(k: int, known: set[str]):
    """Fold k's (train, dev, test) as :func:`mr_classifier_results.fold_data` gives them, the
    vocabulary extended by :func:`matrices`; and the words."""
    train, held, n = mr.fold_texts(k)
    data, words = matrices(*train, *held, known)
    return (*mr.split_held(data, n), words)


# -- 3. the initialisation ---------------------------------------------------------------------
def embedding_init(words: list[str], vectors: Vectors, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The embedding's initial (V, D) float32 matrix for ``words`` and the mask (V,) of the
    rows taken from ``vectors``: those words' vectors; the others U[-a, a] with a² / 3 the
    variance of the pre-trained entries (Kim 2014, §3.3); ``<pad>`` (row 0) zero."""
    index = vectors.index()
    found = np.array([w in index for w in words])  # (V,)
    dim = vectors.vectors.shape[1]
    a = float(np.sqrt(3 * np.var(vectors.vectors)))
    init = rng.uniform(-a, a, (len(words), dim)).astype(np.float32)  # (V, D)
    init[found] = vectors.vectors[[index[w] for w in np.array(words)[found]]]
    init[0] = 0.0  # <pad>
    return init, found


# -- 4. the rows ----------------------------------------------------------------------------------
class Trainable:
    """``model`` as the optimizer sees it: the same forward, backward and layers, but
    ``parameters()`` without ``frozen``, so the topic's ``train_cnn`` (``Adam(model.parameters())``)
    never updates them."""

    def __init__(self, model, frozen) -> None:
        self.model, self.frozen = model, {id(p) for p in frozen}

    def __call__(self, *inputs):
        return self.model(*inputs)

    def __getattr__(self, name: str):
        return getattr(self.model, name)

    def parameters(self) -> list:
        return [p for p in self.model.parameters() if id(p) not in self.frozen]


#: row name -> (label, builder(backend, vocab_size, init (V, D), seed) -> (model, frozen))
VARIANTS: dict[str, tuple[str, Callable]] = {}


def variant(name: str, label: str):
    """Register a row: its builder returns a fresh model started from ``init`` and the
    parameters training leaves as they are."""
    def register(builder: Callable) -> Callable:
        VARIANTS[name] = (label, builder)
        return builder
    return register


def cnn_from(backend, vocab_size: int, init: np.ndarray, seed: int):
    """CNN-rand's model of seed ``seed`` (the same conv and output layers) with its embedding
    set to ``init``."""
    model = mr.build(backend, RAND, vocab_size, seed=seed)
    model.embedding.weight.data = backend.asarray(init)
    return model


@variant("static", "CNN-static: pre-trained vectors, frozen")
def static(backend, vocab_size: int, init: np.ndarray, seed: int):
    model = cnn_from(backend, vocab_size, init, seed)
    return model, [model.embedding.weight]


@variant("non-static", "CNN-non-static: pre-trained vectors, fine-tuned")
def non_static(backend, vocab_size: int, init: np.ndarray, seed: int):
    return cnn_from(backend, vocab_size, init, seed), []


@variant("multichannel", "CNN-multichannel: a static and a fine-tuned channel")
def multichannel(backend, vocab_size: int, init: np.ndarray, seed: int):
    """The topic's ``MultichannelCNN`` (cnn_text.multichannel_cnn) of CNN-rand's sizes and
    seed (the same conv and output initialisation): its static channel is a plain array,
    outside ``parameters()`` already."""
    from nlpdojo_solutions.cnn_text.multichannel import MultichannelCNN

    sizes = {k: v for k, v in mr.MODELS[RAND][1].items() if k != "max_norm"}
    return MultichannelCNN(backend, init, 2, seed=seed, **sizes), []


def run_fold(backend, name: str, k: int, epochs: int, vectors: Vectors) -> dict:
    data, held, words = fold_data(k, set(vectors.words))
    init, found = embedding_init(words, vectors, np.random.default_rng(k))
    model, frozen = VARIANTS[name][1](backend, data.vocab_size, init, k)
    out = mr.fit(backend, model, data, held, k, epochs, label=name, cnn=True,
                 trainable=Trainable(model, frozen))
    test = data.test_ids[np.arange(data.test_ids.shape[1])[None, :] < data.test_lengths[:, None]]
    return {**out, "found": int(found.sum()),
            "test_tokens_with_vector": round(float(found[test].mean()), 4)}


# -- the section ---------------------------------------------------------------------------------
def results_path(corpus: list[str]) -> Path:
    """Where the rows of vectors trained on ``corpus`` are kept."""
    return ROOT / "bench" / "results" / f"mr_pretrained-{'+'.join(corpus)}.json"


def every_corpus() -> list[dict]:
    """The results of every corpus (``bench/results/mr_pretrained-*.json``), the smallest
    corpus first."""
    return sorted((json.loads(f.read_text())
                   for f in (ROOT / "bench" / "results").glob("mr_pretrained-*.json")),
                  key=lambda r: r["meta"]["vectors"]["tokens"])


def section(runs: list[dict], baseline: dict) -> str:
    """The section: CNN-rand (``baseline``: the 10-fold table's results), then each variant of
    each results file of ``runs`` (one per corpus), their paired differences to CNN-rand,
    Kim's figures beside; the corpora against each other."""
    from _machine import cpu_model

    rand = baseline.get("folds", {}).get(RAND, {})
    lines = ["| vectors | variant | accuracy, mean ± sd over folds | folds | minus CNN-rand, "
             "fold by fold (ahead on) | best epochs (median) | minutes per fold (median) | "
             "Kim 2014 |", "|---|---|---|---|---|---|---|---|"]
    lines.append(row("none", "CNN-rand: random vectors, fine-tuned (the table above)", rand,
                     KIM["rand"], ""))
    for results in runs:
        folds, info = results.get("folds", {}), results["meta"]["vectors"]
        name = " + ".join(results["meta"]["word2vec"]["corpus"])
        for key, (label, _) in VARIANTS.items():
            if folds.get(key):
                lines.append(row(f"{name} ({info['tokens'] / 1e6:.2f}M tokens)", label,
                                 folds[key], KIM[key], versus(folds[key], rand)))
    w2v = runs[0]["meta"]["word2vec"] if runs else WORD2VEC
    vectors = [f"{' + '.join(r['meta']['word2vec']['corpus'])}: {r['meta']['vectors']['tokens']:,}"
               f" tokens, {r['meta']['vectors']['words']:,} words, "
               f"{r['meta']['vectors']['seconds'] / 60:.0f} min" for r in runs]
    coverage = [f"{' + '.join(r['meta']['word2vec']['corpus'])}: "
                f"{statistics.median(f['found'] / f['vocab'] for f in fs.values()):.0%} of the "
                "vocabulary, "
                f"{statistics.median(f['test_tokens_with_vector'] for f in fs.values()):.0%} of "
                "the test folds' tokens" for r in runs for fs in list(r["folds"].values())[:1]]
    ran = "; ".join(ran_on(r) for r in runs)
    text = [
        "## Kim's CNN on MR with the course's own word vectors (topics `word_vectors`, "
        "`cnn_text`)", "",
        f"Produced by `{COMMAND}` for each corpus (`--corpus pang-lee-reviews`, `--corpus "
        "pang-lee-reviews,brown,sotu`). Word vectors: skip-gram with negative sampling, the "
        "course's reference (`word_vectors`' `train_sgns`, NumPy, float32), words as "
        f"`dojo train word2vec` takes them (punctuation and numbers dropped, words seen fewer "
        f"than {w2v['min_count']} times removed), dim {w2v['dim']}, window {w2v['window']}, "
        f"{w2v['negatives']} negatives, subsampling {w2v['subsample']:g}, lr {w2v['lr']} "
        f"decayed linearly, {w2v['epochs']} epochs (not word2vec's 5: a million words wants "
        "more passes; a logistic regression on the mean vector of an MR sentence, folds 0-2, "
        f"went from 0.683 with 5 to 0.717 with 20), seed {w2v['seed']} ("
        + "; ".join(vectors) + "). The CNN, its settings, the folds, the dev tenth, the "
        "epochs and the seeds are CNN-rand's, so every difference is paired fold by fold; the "
        "vocabulary adds to the training part's words every MR word with a pre-trained vector "
        "(Kim's look-up table covers the whole data set); a word without one starts from "
        "U[-a, a], a² / 3 the pre-trained entries' variance (Kim's a = 0.25); static leaves "
        "the embedding out of Adam. A pre-trained vector for " + "; ".join(coverage)
        + f" (medians over folds). {ran or 'Ran on ' + cpu_model()}. CNN-rand ran on another "
        "machine (the table above); its fold 0 run again on this one gave the same dev "
        "accuracy at every epoch and the same test accuracy.", "", *lines, ""]
    return "\n".join(text + notes(runs))


def ran_on(results: dict) -> str:
    """When and where a corpus's rows ran: one machine for the rows that shared it, and the
    load average when each row's last fold ended."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name, run in results["meta"].get("runs", {}).items():
        machine, _, load = run["machine"].partition(", load average ")
        groups.setdefault((run["date"], machine), []).append(f"{load} ({name})")
    corpus = " + ".join(results["meta"]["word2vec"]["corpus"])
    return "; ".join(f"The rows of {corpus} ran {when} on {where}, load average "
                     f"{' and '.join(loads)}" for (when, where), loads in groups.items())


def row(vectors: str, label: str, runs: dict, kim, versus_rand: str) -> str:
    acc = [f["test"] for f in runs.values()]
    if not acc:
        return f"| {vectors} | {label} | | 0 | | | | {kim / 100:.3f} |"
    sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
    return (f"| {vectors} | {label} | {statistics.mean(acc):.3f} ± {sd:.3f} | {len(acc)} | "
            f"{versus_rand} | {statistics.median(f['epoch'] for f in runs.values()):g} | "
            f"{statistics.median(f['minutes'] for f in runs.values()):.1f} | {kim / 100:.3f} |")


def versus(runs: dict, other: dict) -> str:
    """Mean ± sd over the folds both have of (``runs`` − ``other``), and on how many
    ``runs`` is ahead."""
    shared = sorted(set(runs) & set(other), key=int)
    if len(shared) < 2:
        return ""
    diff = [runs[k]["test"] - other[k]["test"] for k in shared]
    return (f"{statistics.mean(diff):+.3f} ± {statistics.stdev(diff):.3f} "
            f"({sum(d > 0 for d in diff)} of {len(shared)})")


def notes(runs: list[dict]) -> list[str]:
    """What the section says below the table: the corpora against each other, how static
    trains, each corpus's overlap with MR and what differs from Kim's conditions."""
    out = []
    for a, b in pairwise(runs):
        names = [" + ".join(r["meta"]["word2vec"]["corpus"]) for r in (a, b)]
        for key, (label, _) in VARIANTS.items():
            diff = versus(b.get("folds", {}).get(key, {}), a.get("folds", {}).get(key, {}))
            if diff:
                out.append(f"{label.split(':')[0]}, vectors of {names[1]} minus those of "
                           f"{names[0]}, fold by fold: {diff}.")
    for r in runs:
        folds = r.get("folds", {})
        for other in ("non-static", "static"):
            diff = versus(folds.get("multichannel", {}), folds.get(other, {}))
            if diff:
                out.append(f"CNN-multichannel minus CNN-{other} "
                           f"({' + '.join(r['meta']['word2vec']['corpus'])}), fold by fold: "
                           f"{diff}.")
    for r in runs:
        for key, (label, _) in VARIANTS.items():
            folds = r.get("folds", {}).get(key, {})
            last = sum(f["epoch"] == len(f["dev_history"]) for f in folds.values())
            if folds and last:
                why = (" (the frozen vectors leave only the filters and the output layer to "
                       "learn, and they learn slower)" if key == "static" else "")
                out.append(f"{label.split(':')[0]} ({' + '.join(r['meta']['word2vec']['corpus'])}"
                           f"): the best dev accuracy came at the last epoch on {last} of "
                           f"{len(folds)} folds{why}.")
    for r in runs:
        done = min(len(folds) for folds in r.get("folds", {}).values())
        if done < 10:
            out.append(f"The rows of {' + '.join(r['meta']['word2vec']['corpus'])} have "
                       f"{done} of the 10 folds: the run was stopped there, and the same "
                       f"command (`--corpus {','.join(r['meta']['word2vec']['corpus'])}`) goes "
                       "on from the next fold.")
    if out:
        out.append("")
    for r in runs:
        o = r["meta"].get("overlap")
        if o:
            out.append(f"{' + '.join(r['meta']['word2vec']['corpus'])} and MR: of MR's "
                       f"{o['sentences']:,} sentences of {o['n']} tokens or more, {o['whole']} "
                       f"occur in the corpus whole and {o['shared_ngram']} share an "
                       f"{o['n']}-gram with it (Pang & Lee's 2004 reviews come from the IMDb "
                       "archive, MR's snippets from Rotten Tomatoes).")
    return [*out, "",
            "What it shows: fine-tuned, the course's vectors start Kim's CNN a little ahead of "
            "random ones, by about a point on most folds, within the folds' spread; frozen, "
            "they leave it behind CNN-rand: vectors from one to four million words hold less of "
            "a sentence's polarity than random vectors learn from MR's 8,500 training "
            "sentences, where Kim's, from 100 billion words, gained 4.9 points frozen and 5.4 "
            "fine-tuned. Four times the words, Brown and SOTU beside the reviews (out of MR's "
            "domain, but 89 % of its vocabulary has a vector against 78 %), moved both variants "
            "by less than a point. Both channels at once (multichannel) land between the two, "
            "as in Kim's table (81.1 between 81.0 and 81.5): well ahead of static on every "
            "fold, level with non-static within the folds' spread; the static channel keeps "
            "what the vectors knew, and here they knew little that MR's training set does not "
            "teach.", "",
            "Kim's figures (table 2, MR) beside ours; what differs: his vectors are 300-d, "
            "trained by CBOW on about 100 billion words of Google News, ours 100-d by "
            "skip-gram on one to four million words (movie reviews: MR's domain); Adadelta and "
            "25 epochs (his code) there, Adam (lr 0.002) and 8 here; his MR is Pang & Lee's "
            "10,662 sentences, ours Hutto & Gilbert's re-scored copy (10,568, docs/data.md); his "
            "vocabulary keeps every word, ours drops training words seen once that have no "
            "vector; sentences cut at 60 tokens. Multichannel is the graded question's model "
            "(`cnn_text.multichannel_cnn`: each filter over both channels, its bias once), "
            "its convolutions and output layer started as CNN-rand's.", ""]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default=",".join(VARIANTS))
    p.add_argument("--folds", default="0-9", help="0-9, or a list such as 0,1")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--corpus", default=",".join(WORD2VEC["corpus"]),
                   help="data sets, comma-separated, word2vec trains on")
    p.add_argument("--w2v-epochs", type=int, default=WORD2VEC["epochs"])
    p.add_argument("--cache", type=Path, default=ROOT / ".checkpoints" / "mr_pretrained_vectors")
    p.add_argument("--results", type=Path,
                   help="default: bench/results/mr_pretrained-CORPUS.json")
    p.add_argument("--baseline", type=Path,
                   default=ROOT / "bench" / "results" / "mr_classifiers.json",
                   help="the 10-fold table's results, for CNN-rand")
    p.add_argument("--vectors-only", action="store_true")
    p.add_argument("--write-docs", action="store_true",
                   help="the section, from every bench/results/mr_pretrained-*.json")
    args = p.parse_args()
    from nlpdojo.selection import load_backend

    backend = load_backend("numpy", "cpu", "float32")
    names, folds = mr.selection(p, args.models, args.folds, VARIANTS)
    settings = {**WORD2VEC, "corpus": [c for c in args.corpus.split(",") if c],
                "epochs": args.w2v_epochs}
    path = args.results or results_path(settings["corpus"])
    start = time.perf_counter()
    vectors = pretrained(settings, args.cache, backend)
    print(f"vectors: {len(vectors.words):,} words ({time.perf_counter() - start:.0f} s; "
          f"{vectors.info})", flush=True)
    if args.vectors_only:
        return
    results = json.loads(path.read_text()) if path.exists() else {}
    baseline = json.loads(args.baseline.read_text()) if args.baseline.exists() else {}
    meta = {"settings": mr.SETTINGS, "epochs": args.epochs, "word2vec": settings,
            "vectors": vectors.info}
    kept = results.get("meta") or {**meta, "overlap": overlap_with_mr(settings["corpus"])}
    if any(kept.get(key) != meta[key] for key in ("settings", "epochs", "word2vec")) or \
            kept["vectors"]["sha256"] != vectors.info["sha256"]:
        p.error(f"{path} holds a run with other settings or vectors; move it away to start "
                "anew")
    if baseline.get("meta", {}).get("epochs", args.epochs) != args.epochs:
        p.error(f"{args.baseline}'s CNN-rand ran {baseline['meta']['epochs']} epochs: give "
                "--epochs the same")
    mr.run_folds(results, path, names, folds,
                 lambda name, k: run_fold(backend, name, k, args.epochs, vectors), kept)
    text = section(every_corpus(), baseline)
    print(text)
    if args.write_docs:
        mr.write_docs(text, BEGIN, END, after=mr.END)


if __name__ == "__main__":
    main()
