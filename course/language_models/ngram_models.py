"""The count models of ``dojo train lm --model ngram`` (and of ``dojo sample`` for their
checkpoints): add-δ, backoff (interpolated absolute discounting) or interpolated Kneser-Ney,
counted and scored by the chosen code (the student's ``exercises/language_models`` or the
reference), never by the grader's own copy.

A checkpoint holds the vocabulary and the counts: for add-δ the four arrays of
``ngrams.count_ngrams``, for backoff and Kneser-Ney the (keys, counts) of every order of
``backoff.everygram_counts``; scoring a context against the whole vocabulary at sampling time
runs the same code again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo_autograder.training import (
    CodeChoice,
    ModelKind,
    Run,
    TrainError,
    read_checkpoint,
    save_checkpoint,
    unigram_perplexity,
)
from nlpdojo_course.language_models.data import CORPORA
from nlpdojo_course.language_models.trainer import CODE, MODELS

SMOOTHINGS = ("add-delta", "backoff", "kneser-ney")


def check_key_range(vocab_size: int, order: int) -> None:
    """An n-gram is one int64 in base |V|: |V|ⁿ must stay below 2⁶³."""
    if vocab_size ** order >= 2**63:
        raise TrainError(f"an order-{order} model over {vocab_size:,} words needs n-gram keys "
                         f"up to {vocab_size}^{order} ≥ 2^63 (int64): lower --order or raise "
                         "--min-count")


@dataclass
class NgramLM:
    """A trained count model: the vocabulary, its counts, and the code that scores them."""

    tokens: tuple[str, ...]
    order: int
    smoothing: str
    param: float  # δ for add-delta, the discount d otherwise
    counts: list[tuple[np.ndarray, np.ndarray]]
    code: CodeChoice
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def bos(self) -> int:
        """The id of ``<s>`` (-1 in a unigram model, which pads with none)."""
        return self.tokens.index("<s>") if "<s>" in self.tokens else -1

    def log_probs(self, windows: np.ndarray) -> np.ndarray:
        """log P(w | c) of every row (c…, w) of ``windows`` (M, n), by the chosen code."""
        v = len(self.tokens)
        with self.code.stubs():
            if self.smoothing == "add-delta":
                (keys, cnt), (ctx_keys, ctx_cnt) = self.counts
                return np.asarray(self.code.load("ngrams").add_delta_log_probs(
                    (keys, cnt, ctx_keys, ctx_cnt), windows, v, self.param), np.float64)
            if self.smoothing == "backoff":
                return np.asarray(self.code.load("backoff").absolute_discount_log_probs(
                    self.counts, windows, v, self.param), np.float64)
            return np.asarray(self.code.load("kneser_ney").kneser_ney_log_probs(
                self.counts, windows, v, self.param), np.float64)

    def begin(self, batch: int) -> np.ndarray:
        return np.full((batch, self.order - 1), self.bos, dtype=np.int64)  # (B, n − 1)

    def next_scores(self, history: np.ndarray) -> np.ndarray:
        """log P(· | the last n − 1 ids of each row) over the whole vocabulary: (B, V)."""
        v, b = len(self.tokens), len(history)
        context = history[:, history.shape[1] - (self.order - 1):][:, :self.order - 1]  # (B, n − 1)
        windows = np.column_stack([np.repeat(context, v, axis=0),
                                   np.tile(np.arange(v), b)])  # (B·V, n)
        return self.log_probs(windows).reshape(b, v)  # (B, V)

    def save(self, path: Path) -> None:
        arrays = {f"keys_{i}": k for i, (k, _) in enumerate(self.counts)}
        arrays |= {f"counts_{i}": c for i, (_, c) in enumerate(self.counts)}
        save_checkpoint(path, {**self.meta, "model": "ngram", "tokens": list(self.tokens),
                               "order": self.order, "smoothing": self.smoothing,
                               "param": self.param, "tables": len(self.counts)},
                        arrays=arrays, compress=True)


def load(path: Path, code: CodeChoice) -> NgramLM:
    saved = read_checkpoint(path, MODELS.files)
    meta, data = saved.meta, saved.arrays
    counts = [(data[f"keys_{i}"], data[f"counts_{i}"]) for i in range(int(meta["tables"]))]
    if meta.get("smoothing") not in SMOOTHINGS:
        raise TrainError(f"{path}: unknown smoothing {meta.get('smoothing')!r}; this nlpdojo "
                         f"knows {', '.join(SMOOTHINGS)}")
    return NgramLM(tuple(meta["tokens"]), int(meta["order"]), meta["smoothing"],
                   float(meta["param"]), counts, code, meta)


def validate(options: dict[str, Any]) -> None:
    if options.get("heldout") not in (None, "valid", "test"):
        raise TrainError(f"--heldout {options['heldout']!r}: choose valid or test")


def train(run: Run) -> NgramLM:
    from nlpdojo.text import ngram_corpus as given
    from nlpdojo_course.language_models.data import lm_sentences  # looked up here: tests patch it

    o = run.options
    n, smoothing, min_count = int(o["order"]), str(o["smoothing"]), int(o["min_count"])
    if smoothing == "kneser-ney" and n < 2:
        raise TrainError("Kneser-Ney needs --order 2 or more (its unigram level is built from "
                         "bigram types); use --smoothing add-delta for a unigram model")
    param = float(o["delta"] if smoothing == "add-delta" else o["discount"])
    t0 = time.perf_counter()
    train_sentences = lm_sentences(run.corpus, "train", o.get("max_documents"))
    held_out = lm_sentences(run.corpus, str(o.get("heldout") or "test"), None)
    vocab = given.Vocabulary.build(train_sentences, n, min_count)
    v, bos = len(vocab), vocab.index.get(given.BOS, -1)  # a unigram model has no <s>
    check_key_range(v, n)
    stream = vocab.stream(train_sentences, n)
    run.say(f"[1/3] {len(train_sentences):,} sentences, {len(stream):,} padded tokens, "
            f"{v:,} words (seen {min_count}+ times, with <UNK>) in "
            f"{time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    ngrams = run.code.load("ngrams")
    if smoothing == "add-delta":
        keys, cnt, ctx_keys, ctx_cnt = ngrams.count_ngrams(stream, n, v, bos)
        counts = [(np.asarray(keys), np.asarray(cnt)), (np.asarray(ctx_keys),
                                                       np.asarray(ctx_cnt))]
        distinct = len(keys)
    else:
        counts = [(np.asarray(k), np.asarray(c)) for k, c in
                  run.code.load("backoff").everygram_counts(stream, n, v, bos)]
        distinct = sum(len(k) for k, _ in counts)
    run.say(f"[2/3] counted {distinct:,} distinct n-grams (order {n}, {smoothing}) in "
            f"{time.perf_counter() - t0:.1f}s")
    model = NgramLM(tuple(vocab.tokens), n, smoothing, param, counts, run.code,
                    {"corpus": run.corpus, "min_count": min_count,
                     "train_sentences": len(train_sentences), "train_tokens": int(len(stream))})
    t0 = time.perf_counter()
    windows = ngrams.ngram_windows(vocab.stream(held_out, n), n, bos)
    log_probs = model.log_probs(np.asarray(windows))
    ppl = float(ngrams.perplexity(log_probs))
    run.say(f"[3/3] scored {len(windows):,} held-out n-grams in {time.perf_counter() - t0:.1f}s")
    # the add-one unigram model's, over the tokens predicted (<s> is never): the floor to beat
    unigram = unigram_perplexity(np.asarray(stream), np.asarray(windows)[:, -1], v,
                                 never=bos if bos >= 0 else None)
    run.report.update(perplexity=ppl, heldout_tokens=len(windows), vocab=v,
                      heldout=o.get("heldout") or "test", unigram_perplexity=unigram)
    model.meta.update(heldout=o.get("heldout") or "test", heldout_perplexity=ppl)
    return model


BUILDER = ModelKind("ngram", "counts with add-delta, backoff or Kneser-Ney smoothing", train,
                    load, CODE.modules,
                    frozenset({"order", "smoothing", "delta", "discount", "min_count"}),
                    {"order": 3, "smoothing": "kneser-ney", "delta": 0.01, "discount": 0.75,
                     "min_count": 2}, CORPORA, validate)
