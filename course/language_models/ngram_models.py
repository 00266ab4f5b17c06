"""The count models of ``dojo train lm --model ngram`` (and of ``dojo sample`` for their
checkpoints): add-δ, backoff (interpolated absolute discounting) or interpolated Kneser-Ney,
counted and scored by the chosen code (the student's ``exercises/language_models`` or the
reference), never by the grader's own copy.

A checkpoint holds the vocabulary and the counts: for add-δ the four arrays of
``ngrams.count_ngrams``, for backoff and Kneser-Ney the (keys, counts) of every order of
``backoff.everygram_counts``; scoring a context against the whole vocabulary at sampling time
runs the same code again. Sampling scores B contexts × V words once per word drawn, and the
chosen code recomputes, every call, what depends on the counts alone (Kneser-Ney's continuation
counts and every order's context totals: ``np.unique`` over a million keys, 75% of a step);
:class:`CountStatistics` computes those once per model (a trigram Kneser-Ney model on sotu:
three sentences in 0.6 s of scoring instead of 2.4 s).
"""

from __future__ import annotations

import functools
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlpdojo.text import ngram_corpus as given
from nlpdojo_autograder.training import (
    CodeChoice,
    ModelKind,
    Run,
    TrainError,
    read_checkpoint,
    save_checkpoint,
    unigram_perplexity,
)
from nlpdojo_course.language_models.trainer import CODE, MODELS

SMOOTHINGS = ("add-delta", "backoff", "kneser-ney")
#: the modules of the chosen code a count model is scored by
SCORING_MODULES = ("ngrams", "backoff", "kneser_ney")
_SCALARS = (bool, int, float, str, type(None), np.integer, np.floating)


class CountStatistics:
    """What the chosen code computes from a model's counts alone, computed once while the model
    scores batch after batch (``dojo sample``).

    During :meth:`reusing`, every function of the chosen code's :data:`SCORING_MODULES` (theirs,
    or one they import from each other) is swapped for one that remembers its result when it is
    called with nothing but the model's count arrays, arrays such calls returned and plain
    numbers (``continuation_counts(counts[2][0], 2, V)``, ``context_totals(keys, counts, V)``);
    a call with anything else (the windows scored, arrays made from them) runs as written. The
    arrays remembered are kept alive (their ids stay theirs) and read-only: code that would
    change one in place raises, and the batch is scored again without reuse, as are all later
    ones. The functions are put back after each batch."""

    def __init__(self, counts: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.known: dict[int, np.ndarray] = {id(a): a for pair in counts for a in pair}
        self.results: dict[Any, Any] = {}
        self.enabled = True

    def _key(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return ("array", id(value)) if id(value) in self.known else None
        if isinstance(value, _SCALARS):
            return ("value", type(value).__name__, value)
        if isinstance(value, tuple | list):
            parts = [self._key(v) for v in value]
            return None if any(p is None for p in parts) else ("seq", tuple(parts))
        return None

    def _keep(self, value: Any) -> None:
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
            self.known[id(value)] = value
        elif isinstance(value, tuple | list):
            for v in value:
                self._keep(v)

    def _reusing(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            key = self._key((fn.__module__, fn.__qualname__, args, sorted(kwargs.items())))
            if key is None:
                return fn(*args, **kwargs)
            if key not in self.results:
                result = fn(*args, **kwargs)
                self._keep(result)
                self.results[key] = result
            return self.results[key]

        return call

    @contextmanager
    def reusing(self, modules: list[types.ModuleType]) -> Iterator[None]:
        """The functions of ``modules`` swapped for remembering ones, and put back after."""
        names = {m.__name__ for m in modules}
        swapped = [(m, name, fn) for m in modules for name, fn in list(vars(m).items())
                   if isinstance(fn, types.FunctionType) and fn.__module__ in names]
        for module, name, fn in swapped:
            setattr(module, name, self._reusing(fn))
        try:
            yield
        finally:
            for module, name, fn in swapped:
                setattr(module, name, fn)


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
    #: what sampling computes once from the counts (made by the first :meth:`next_scores`)
    statistics: CountStatistics | None = field(default=None, repr=False)

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
        """log P(· | the last n − 1 ids of each row) over the whole vocabulary: (B, V), the
        statistics of the counts computed once for every call (:class:`CountStatistics`)."""
        v, b = len(self.tokens), len(history)
        context = history[:, history.shape[1] - (self.order - 1):][:, :self.order - 1]  # (B, n − 1)
        windows = np.column_stack([np.repeat(context, v, axis=0),
                                   np.tile(np.arange(v), b)])  # (B·V, n)
        if self.statistics is None:
            self.statistics = CountStatistics(self.counts)
        if self.statistics.enabled:
            modules = [self.code.load(m) for m in SCORING_MODULES]
            try:
                with self.statistics.reusing(modules):
                    return self.log_probs(windows).reshape(b, v)  # (B, V)
            except ValueError as exc:  # a remembered array changed in place: no reuse
                if "read-only" not in str(exc):
                    raise
                self.statistics.enabled = False
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
                     "min_count": 2}, None, validate)
