"""N-gram language models (CS224n lecture 6): counting n-grams of any order, add-δ smoothing
and perplexity, on fresh random streams and on held-out State of the Union addresses.

Every value the verdicts rest on is the reference's (live, on fresh inputs where it is
installed; the fixtures of ``dojo release`` in a student release); the held-out check runs the
student's whole pipeline (counts → add-δ log-probabilities → perplexity) on real text and
requires the reference's perplexity to 4 significant digits (``rtol`` 5e-5).
"""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    CheckFailure,
    Context,
    Question,
    drawn_setting,
    require_vectorized,
    value_check,
)
from nlpdojo_course.language_models.data import sotu_sentences

VOCAB = 12  # ids of the random streams: 0 is <s>, 1 is </s>, the rest words
BOS, EOS = 0, 1
#: (vocabulary size, <s>, </s>) of the values check's stream of each order: <s> 0 and 12 ids
#: in every case let count_ngrams with either written in keep full marks (on a real corpus
#: <s> is another id: SOTU's is 126), so the orders 2 and 4 have others
IDS_OF_ORDER = {1: (VOCAB, BOS, EOS), 2: (15, 6, 9), 3: (VOCAB, BOS, EOS), 4: (17, 13, 2)}
#: a vocabulary whose trigram keys pass 2³¹ (|V|³ ≈ 1.25·10¹⁴): keys made in int32 wrap
#: around there (a student trial: full marks, while on the State of the Union, |V| = 17,004,
#: 92 distinct trigrams merged)
LARGE_IDS = (50_000, BOS, EOS)


def _random_stream(rng: np.random.Generator, n: int, sentences: int = 40, *,
                   ids: tuple[int, int, int] = (VOCAB, BOS, EOS)) -> np.ndarray:
    """Random sentences of 1-9 words, padded as ``corpus.pad`` does; ``ids``: (vocabulary size,
    <s>, </s>), the words every other id (2..VOCAB-1 by default)."""
    vocab, bos, eos = ids
    words = np.setdiff1d(np.arange(vocab), [bos, eos])
    parts = []
    for length in rng.integers(1, 10, sentences):
        drawn = (rng.integers(2, VOCAB, length) if ids == (VOCAB, BOS, EOS)
                 else rng.choice(words, length))
        parts += [np.full(n - 1, bos), drawn, [eos]]
    return np.concatenate(parts).astype(np.int64)  # (T,)


def _counts(ctx: Context, stream: np.ndarray, n: int, vocab: int,
            bos: int = BOS) -> list[np.ndarray]:
    result = ctx.function("count_ngrams")(stream, n, vocab, bos)
    names = ["ngram_keys", "ngram_counts", "context_keys", "context_counts"]
    return [ctx.to_numpy(v, f"count_ngrams' {k}") for k, v in
            zip(names, ctx.unpack(result, names, "count_ngrams"), strict=True)]


def stream_of(ctx: Context, tokens: int, n: int = 3) -> np.ndarray:
    """About ``tokens`` ids of random padded sentences, drawn from the check's seed (the same
    for a size within one grading, another in the next: answers kept for a fixed stream, keyed
    by its hash, would pass the loop check with a loop)."""
    rng = np.random.default_rng([ctx.seed, tokens])
    return _random_stream(rng, n, sentences=max(1, tokens // 7))


def _rows(rows: np.ndarray) -> str:
    return ", ".join(str(r.tolist()) for r in rows[:2])


def _name_the_count_mistake(n: int, windows: np.ndarray, counts: list[np.ndarray],
                            vocab: int = VOCAB, bos: int = BOS) -> None:
    """Fail naming the usual mistakes of counting n-grams, told from the student's own
    outputs on a padded stream (ids: <s> = BOS): n-grams that span two sentences (the commonest
    first mistake, which made only shape mismatches), every n-gram holding <s> dropped, the key
    digits in reverse order, and context counts that are not those of predicted tokens."""
    keys, key_counts, _, context_counts = counts
    if windows.ndim == 2 and windows.shape[1] == n and n >= 2 and len(windows):
        spanning = windows[windows[:, -1] == bos]
        if len(spanning):
            raise CheckFailure(
                f"ngram_windows (n = {n}): {len(spanning)} of your n-grams end in <s> (id "
                f"{bos}), e.g. {_rows(spanning)}: such a window spans two sentences (the end "
                "of one, then the padding <s> of the next), and no word of the text is "
                "predicted there; keep only the windows whose last token is not <s>")
        if not (windows == bos).any():
            raise CheckFailure(
                f"ngram_windows (n = {n}): none of your n-grams holds <s>, so the first words "
                "of each sentence are never predicted: their context is the padding (<s> … "
                "<s> w₁); drop only the windows whose last token is <s>")
    if windows.ndim == 2 and windows.shape[1] == n and n >= 2 and len(windows):
        powers = vocab ** np.arange(n - 1, -1, -1, dtype=np.int64)  # (n,)
        reverse = np.unique(windows[:, ::-1].astype(np.int64) @ powers)
        if (np.shape(keys) == reverse.shape and np.array_equal(keys, reverse)
                and not np.array_equal(reverse, np.unique(windows.astype(np.int64) @ powers))):
            raise CheckFailure(
                f"count_ngrams (n = {n}): your keys read each n-gram's ids with the last id "
                "most significant; the first id is the most significant digit, key = "
                "w₁·|V|ⁿ⁻¹ + … + wₙ·|V|⁰ (so that a context's keys are the n-gram's leading "
                "digits)")
    if n >= 2 and len(keys) and (np.asarray(keys) % vocab == bos).any():
        raise CheckFailure(
            f"count_ngrams (n = {n}): your counts include n-grams that end in <s> (a key whose "
            "last digit is <s>): windows that span two sentences; count only the n-grams of "
            "ngram_windows, whose last token is never <s>")
    total, contexts = int(np.sum(key_counts)), int(np.sum(context_counts))
    if total != contexts:
        raise CheckFailure(
            f"count_ngrams (n = {n}): your context counts sum to {contexts}, your n-gram counts "
            f"to {total}: C(c) counts c as the context of a predicted token, so Σ C(c) = Σ "
            "C(c, w), one per n-gram; count the contexts of the n-grams (their first n − 1 "
            "ids), not every (n − 1)-gram of the stream")


def _count_values(ctx: Context) -> dict[str, np.ndarray]:
    for name, make in (("ngram_windows", lambda t: (stream_of(ctx, t), 3, BOS)),
                       ("count_ngrams", lambda t: (stream_of(ctx, t), 3, VOCAB, BOS))):
        require_vectorized(ctx, "ngrams", name, make, items="tokens")
    rng, out = ctx.rng(), {}
    for n in (1, 2, 3, 4):  # any order: the unigram's context is empty
        vocab, bos, _ = IDS_OF_ORDER[n]
        stream = _random_stream(rng, n, ids=IDS_OF_ORDER[n])
        windows = ctx.to_numpy(ctx.function("ngram_windows")(stream, n, bos),
                               "ngram_windows' n-grams")
        out[f"n={n} windows"] = windows
        counts = _counts(ctx, stream, n, vocab, bos)
        _name_the_count_mistake(n, windows, counts, vocab, bos)
        for name, value in zip(("keys", "counts", "context keys", "context counts"), counts,
                               strict=True):
            out[f"n={n} {name}"] = value
    vocab, bos, eos = LARGE_IDS
    # trigrams past 2³¹, and 4-grams past 2⁵³ (|V|⁴ = 6.25·10¹⁸), two of them one apart near
    # the top: keys computed in floats and cast back to int64 share one key there (a float64
    # is exact up to 2⁵³ only; such keys kept 3 of 3 while every large key was a trigram's:
    # an adversarial trial)
    top = vocab - 1
    near = np.concatenate([[*np.full(3, bos), top, top, top, top - 3 + k, eos] for k in (0, 1)])
    large = {3: _random_stream(rng, 3, sentences=10, ids=LARGE_IDS),
             4: np.concatenate([_random_stream(rng, 4, sentences=6, ids=LARGE_IDS),
                                near.astype(np.int64)])}
    for n, stream in large.items():
        counts = _counts(ctx, stream, n, vocab, bos)
        _name_an_overflow(counts[0], stream, vocab, bos, n=n)
        for name, value in zip(("keys", "counts", "context keys", "context counts"), counts,
                               strict=True):
            out[f"n={n}, |V| = {vocab:,}: {name}"] = value
    return out


def _name_an_overflow(keys: np.ndarray, stream: np.ndarray, vocab: int, bos: int,
                      n: int = 3) -> None:
    """Fail saying so where the n-gram keys of a large vocabulary are not those of int64
    arithmetic: a narrower integer type wrapped around, or floats (the docstring's "as one
    int64")."""
    windows = np.lib.stride_tricks.sliding_window_view(stream.astype(np.int64), n)  # (T−n+1, n)
    windows = windows[windows[:, -1] != bos]
    right = np.unique(windows @ (vocab ** np.arange(n - 1, -1, -1, dtype=np.int64)))  # (K,)
    keys = np.asarray(keys)
    if keys.shape == right.shape and np.array_equal(keys, right) and keys.dtype == np.int64:
        return
    if keys.dtype.kind == "f":  # exact to rounding here, and compared so: told by its dtype
        raise CheckFailure(
            f"count_ngrams (n = {n}, |V| = {vocab:,}): your keys are {keys.dtype}, not the "
            "docstring's int64: a float holds integers exactly only up to 2⁵³ (9·10¹⁵, which "
            "4-grams of a 10,000-word vocabulary pass), beyond which distinct n-grams share a "
            "key and their counts merge; compute the keys in int64 (np.int64 powers and ids)")
    floated = np.unique((windows.astype(np.float64) @ (float(vocab) ** np.arange(
        n - 1, -1, -1, dtype=np.float64))).astype(np.int64))
    if keys.dtype.kind in "iu" and np.array_equal(keys, floated):
        raise CheckFailure(
            f"count_ngrams (n = {n}, |V| = {vocab:,}): your keys are those of floating-point "
            "arithmetic cast to integers: past 2⁵³ (9·10¹⁵) a float64 skips integers, and "
            f"here {right.size - floated.size} pair(s) of distinct n-grams one apart share a "
            "key; compute the keys in int64 throughout (np.int64 powers and ids)")
    narrow = keys.dtype.kind in "iu" and keys.dtype.itemsize < 8
    if narrow or (keys.size and keys.dtype.kind in "iu" and (keys < 0).any()):
        raise CheckFailure(
            f"count_ngrams (n = {n}, |V| = {vocab:,}): your keys are not those of int64 "
            f"arithmetic (they are {keys.dtype}{', some negative' if (keys < 0).any() else ''}"
            "): |V|ⁿ passes 2³¹ here, where a narrower integer wraps around and distinct "
            "n-grams share a key; compute the keys in int64 (np.int64 powers and ids)")


def add_delta_mistakes(model, windows: np.ndarray, vocab: int, delta: float
                        ) -> dict[str, np.ndarray]:
    """log P of the usual wrong versions of add-δ, computed here (float64) from the same
    counts: what a student's output is compared with when it is wrong, to say which it is."""
    from nlpdojo.text.ngram_corpus import lookup  # given: the student's ngrams.lookup

    powers = vocab ** np.arange(windows.shape[1] - 1, -1, -1, dtype=np.int64)  # (n,)
    keys, ctx_keys = windows @ powers, windows[:, :-1] @ powers[1:]  # (M,) x2
    joint = lookup(model[0], model[1], keys).astype(np.float64)  # (M,)  C(c, w)
    context = lookup(model[2], model[3], ctx_keys).astype(np.float64)  # (M,)  C(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "δ missing from the denominator: the smoothed probabilities of a context must "
            "sum to 1 over the whole vocabulary, so the denominator is C(c) + δ|V|":
            np.log(joint + delta) - np.log(context + delta),
            "no smoothing at all (C(c, w) / C(c)): add δ to every count, "
            "(C(c, w) + δ) / (C(c) + δ|V|)": np.log(joint) - np.log(context),
            "δ|V| added to the numerator too: only the denominator sums over the vocabulary":
            np.log(joint + delta * vocab) - np.log(context + delta * vocab),
            "a log base other than e: use natural logarithms (np.log)":
            (np.log(joint + delta) - np.log(context + delta * vocab)) / np.log(2.0),
        }


def _trigram_model(ctx: Context, tokens: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Trigram counts of about ``tokens`` ids, counted here (keys in base VOCAB, as
    ``count_ngrams`` returns them), and the trigrams to score: add_delta_log_probs' arguments
    for :func:`require_vectorized`."""
    stream = stream_of(ctx, tokens)
    windows = np.lib.stride_tricks.sliding_window_view(stream, 3)  # (T − 2, 3)
    windows = windows[windows[:, -1] != BOS]  # (M, 3)
    digits = VOCAB ** np.arange(2, -1, -1)  # (3,)
    model = (*np.unique(windows @ digits, return_counts=True),
             *np.unique(windows[:, :-1] @ digits[1:], return_counts=True))
    return model, np.ascontiguousarray(windows)


def _add_delta_values(ctx: Context) -> dict[str, np.ndarray]:
    require_vectorized(ctx, "ngrams", "add_delta_log_probs",
                       lambda t: (*_trigram_model(ctx, t), VOCAB, 0.5), items="n-grams")
    rng, out = ctx.rng(), {}
    for i, n in enumerate((2, 3, 1)):
        delta = drawn_setting(ctx, *DELTAS, which=i)
        model = _counts(ctx, _random_stream(rng, n), n, VOCAB)  # the reference's counts
        held_out = ctx.to_numpy(ctx.function("ngram_windows")(
            _random_stream(rng, n, sentences=10), n, BOS))
        theirs = ctx.to_numpy(ctx.function(
            "add_delta_log_probs")(tuple(model), held_out, VOCAB, delta),
            "add_delta_log_probs' log-probabilities")
        for what, wrong in add_delta_mistakes(model, held_out, VOCAB, delta).items():
            if theirs.shape == wrong.shape and np.allclose(theirs, wrong, rtol=1e-9,
                                                           atol=1e-12, equal_nan=True):
                raise CheckFailure(f"add_delta_log_probs (n = {n}, δ = {delta}): your "
                                   f"log-probabilities are exactly those of {what}")
        out[f"n={n}"] = theirs
    return out


def _perplexity_values(ctx: Context) -> dict[str, np.ndarray]:
    rng = ctx.rng()
    f = ctx.function("perplexity")
    out = {f"{m} tokens": np.asarray(ctx.to_numpy(f(-rng.exponential(3.0, m)), "perplexity"))
           for m in (1, 17, 500)}
    # a token of probability 0 among them (an unsmoothed model's unseen n-gram): perplexity
    # inf (one that left the non-finite entries out kept 1 of 1: a student trial)
    unseen = -rng.exponential(3.0, 9)
    unseen[int(rng.integers(9))] = -np.inf
    out["9 tokens, one of probability 0"] = np.asarray(
        ctx.to_numpy(f(unseen), "perplexity"), np.float64)
    # ngrams.py's "vectorized (no Python loop over tokens)" (a sum in a loop kept 1 of 1)
    require_vectorized(ctx, None, "perplexity", lambda n: (
        -np.random.default_rng([ctx.seed, n]).exponential(3.0, n),), items="tokens")
    return out


# -- real text ---------------------------------------------------------------------------------
#: the training budget: the first addresses of the train split; held-out sentences of the test
#: split drawn afresh per grading (scored on the whole split, the two perplexities were the same
#: numbers in every grading, and written in they kept 3 points)
TRAIN_ADDRESSES, HELDOUT_SENTENCES = 40, 1500
#: each case's δ is drawn per grading from these (a second review kept 6 points with δ chosen
#: by the order and the vocabulary's size, the argument ignored): random streams, and held-out
#: text (small δ, as the usual 0.01, which lies outside)
DELTAS, HELDOUT_DELTAS = (0.05, 1.5), (0.002, 0.008)


def _heldout_values(ctx: Context) -> dict[str, np.ndarray]:
    from nlpdojo.text import ngram_corpus as given  # the topic's data conventions

    train, every = sotu_sentences("train", TRAIN_ADDRESSES), sotu_sentences("test", None)
    picked = np.sort(ctx.rng().choice(len(every), HELDOUT_SENTENCES, replace=False))
    test = [every[i] for i in picked]
    out = {}
    for i, n in enumerate((2, 3)):
        delta = drawn_setting(ctx, *HELDOUT_DELTAS, which=i)
        vocab = given.Vocabulary.build(train, n, min_count=2)
        bos = vocab.id(given.BOS)
        model = ctx.function("count_ngrams")(vocab.stream(train, n), n, len(vocab), bos)
        windows = ctx.function("ngram_windows")(vocab.stream(test, n), n, bos)
        log_probs = ctx.to_numpy(ctx.function("add_delta_log_probs")(
            model, windows, len(vocab), delta), "add_delta_log_probs' log-probabilities")
        out[f"order {n}: log P(w | c) of every held-out n-gram"] = log_probs
        # the perplexity is the grader's: a bug in question perplexity costs points once
        out[f"order {n}: held-out perplexity"] = np.asarray(
            np.exp(-np.mean(log_probs)), dtype=np.float64)
    return out


NGRAMS = "ngrams"

NGRAM_COUNTS = Question(
    "ngram_counts", "Counting n-grams of any order, vectorized", code=NGRAMS,
    checks=[value_check("values", "n-gram windows, keys and counts (n = 1-4) on "
                        "random streams", 3.0, _count_values, rtol=0, atol=0)])

ADD_DELTA = Question(
    "add_delta", "Add-δ (Lidstone) smoothing", code=NGRAMS,
    checks=[
        value_check("values", "add-δ log-probabilities of held-out n-grams", 3.0,
                    _add_delta_values, rtol=1e-10),
        value_check("sotu", f"log-probabilities of {HELDOUT_SENTENCES} held-out "
                    "sentences (a fresh sample) under add-δ bigram and trigram models trained "
                    f"on {TRAIN_ADDRESSES} State of the Union addresses", 3.0, _heldout_values,
                    rtol=1e-8, atol=1e-10, timeout_s=240),
    ],
    requires=(NGRAM_COUNTS,), datasets=("sotu",))

PERPLEXITY = Question(
    "perplexity", "Perplexity", code=NGRAMS,
    checks=[value_check("values", "perplexity of log-probabilities", 1.0,
                        _perplexity_values, rtol=1e-10, mistakes={
                            "the mean of natural logarithms raised to a power of 2: perplexity "
                            "is exp(−mean ln p), or 2 to the −mean log₂ p (one base throughout)":
                            lambda expected: {k: 2.0 ** np.log(v) for k, v in expected.items()}})])

QUESTIONS = [NGRAM_COUNTS, ADD_DELTA, PERPLEXITY]
