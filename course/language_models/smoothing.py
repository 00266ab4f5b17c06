"""Smoothing by backoff (CS224n lecture 6): interpolated absolute discounting and interpolated
Kneser-Ney (Chen & Goodman 1998), on counts of every order.

Value checks compare with the reference on fresh random streams; a held-out State of the Union
check requires the reference's log-probabilities and perplexity (the perplexity computed here,
in the grader, from the student's log-probabilities, so a ``perplexity`` bug costs points
once); the distributions must sum to 1 over the vocabulary for several contexts (computed here
too).
"""

from __future__ import annotations

import math

import numpy as np

from nlpdojo.text import ngram_corpus as given
from nlpdojo_autograder.authoring import (
    CheckFailure,
    Context,
    Question,
    Verdict,
    custom_check,
    drawn_setting,
    require_vectorized,
    value_check,
)
from nlpdojo_course.language_models.data import sotu_sentences
from nlpdojo_course.language_models.ngrams import NGRAM_COUNTS, stream_of

VOCAB = 12  # ids of the random streams: 0 is <s>, 1 is </s>, the rest words
BOS, EOS = 0, 1


def _random_sentences(rng: np.random.Generator, n: int, sentences: int = 40,
                      words: int = VOCAB) -> list[np.ndarray]:
    """Random sentences of 1-9 words over ids 2..words-1, each padded as
    ``ngram_corpus.pad``: n − 1 ``<s>``, the words, ``</s>``."""
    return [np.concatenate([np.full(n - 1, BOS), rng.integers(2, words, length), [EOS]]
                           ).astype(np.int64) for length in rng.integers(1, 10, sentences)]


def _random_stream(rng: np.random.Generator, n: int, sentences: int = 40,
                   words: int = VOCAB) -> np.ndarray:
    """:func:`_random_sentences` as one id stream, (T,)."""
    return np.concatenate(_random_sentences(rng, n, sentences, words))


def _sentence_ngrams(padded: list[np.ndarray], n: int) -> np.ndarray:
    """The grader's own n-grams, (M, n): every n-gram of each padded sentence, in order. Made
    from the sentences the grader drew, one by one, never from a stream: the stream version
    is the ``ngram_counts`` question's ``ngram_windows``, whose answer the student wheel
    must not ship (tests/test_student_bundle.py)."""
    grams = [sentence[i:i + n] for sentence in padded for i in range(len(sentence) - n + 1)]
    return np.array(grams, dtype=np.int64).reshape(-1, n)


def _everygrams(ctx: Context, stream: np.ndarray, n: int, vocab: int,
                bos: int = BOS) -> list[tuple[np.ndarray, np.ndarray]]:
    result = ctx.function("backoff", "everygram_counts")(stream, n, vocab, bos)
    if not isinstance(result, (list, tuple)) or len(result) != n:
        got = f"{len(result)} entries" if isinstance(result, (list, tuple)) else type(
            result).__name__
        raise CheckFailure(f"everygram_counts(..., n={n}) should return a list of {n} (keys, "
                           f"counts) pairs, one per order 1..{n}; it returned {got}")
    out = []
    for k, pair in enumerate(result, start=1):
        keys, counts = ctx.unpack(pair, ["keys", "counts"], f"everygram_counts' order {k}")
        out.append((ctx.to_numpy(keys, f"the keys of order {k}"),
                    ctx.to_numpy(counts, f"the counts of order {k}")))
    return out


def _log_probs(ctx: Context, func: str, counts, windows, vocab: int, discount: float,
               module: str | None = None) -> np.ndarray:
    """``func`` of the check's question (of ``module`` where given) on ``counts``."""
    function = ctx.function(module, func) if module else ctx.function(func)
    out = ctx.to_numpy(function(counts, windows, vocab, discount),
                       f"{func}' log-probabilities")
    if out.shape != (len(windows),):
        raise CheckFailure(f"{func} returned shape {out.shape} for {len(windows)} n-grams; "
                           f"expected ({len(windows)},): one log-probability per row")
    above = int(np.sum(out > 1e-12))
    if above:  # log P > 0 is P > 1: probabilities returned as they are (a student trial),
        # or logarithms of a P above 1, mass handed down that was never taken (a γ over C(c)
        # where N₁₊(c •) is meant was told to take the logarithm: a student trial)
        raise CheckFailure(
            f"{func}: {above} of your {len(out)} log-probabilities are above 0, that is P > 1"
            + ("; all of them are between 0 and 1: probabilities, not their logarithms? "
               "Return log P(w | c), the natural logarithm (np.log) of each probability"
               if np.all((out >= 0) & (out <= 1)) else
               "; some are below 0, so these are logarithms of probabilities above 1: each "
               "order's weights must sum to 1, the discounted mass handed down what was "
               "taken, γ(c) = d · N₁₊(c •) / C(c) (N₁₊(c •): the distinct words seen after "
               "c, not C(c), the tokens)"))
    return out


# -- backoff -------------------------------------------------------------------------------------
def _everygram_values(ctx: Context) -> dict[str, np.ndarray]:
    # the README's "a loop over tokens, n-grams or rows is not" (a helper's loop over the
    # windows kept 7 of 7 points): its lines of Python must not grow with the stream
    require_vectorized(ctx, "backoff", "everygram_counts",
                       lambda t: (stream_of(ctx, t), 3, VOCAB, BOS), items="tokens")
    rng, out = ctx.rng(), {}
    for n in (1, 2, 3, 4):
        for k, (keys, counts) in enumerate(_everygrams(ctx, _random_stream(rng, n), n, VOCAB),
                                           start=1):
            _name_the_everygram_mistake(keys, k, n)
            out[f"n={n}, order {k} keys"], out[f"n={n}, order {k} counts"] = keys, counts
    return out


def _name_the_everygram_mistake(keys: np.ndarray, k: int, n: int) -> None:
    """Fail naming the two ways of miscounting the padded sentences' k-grams (a student trial
    saw shape lists only): windows that span two sentences (a key whose last id is ``<s>``
    after other ids), and the padding's own k-grams (``<s> <s>``, key 0, which nltk counts)
    left out. The streams' sentences each start with n − 1 ``<s>``."""
    if k < 2:
        return
    keys = np.asarray(keys)
    spanning = keys[(keys % VOCAB == BOS) & (keys != 0)]
    if spanning.size:
        raise CheckFailure(
            f"everygram_counts (n = {n}, order {k}): your counts include {spanning.size} "
            f"{k}-gram(s) that end in <s> after other ids: windows that span two sentences "
            "(the end of one, then the padding of the next); a window ending in <s> is inside "
            "a sentence only when it is all <s>, the padding")
    if k <= n - 1 and not np.any(keys == 0):
        raise CheckFailure(
            f"everygram_counts (n = {n}, order {k}): your counts leave out the {k}-gram of "
            "<s> alone, the padding (<s> <s> …), which nltk counts as a k-gram of the sentence: "
            "keep a window that ends in <s> when it is all <s>")


#: Kneser-Ney with raw counts at every order (the unigram C(w)/N included) is exactly
#: interpolated absolute discounting, the backoff question's model: told when seen
RAW_COUNTS_KN = ("interpolated absolute discounting (the backoff question's model): Kneser-Ney "
                 "uses continuation counts below the highest order, N₁₊(• c w) / N₁₊(• c •), "
                 "and N₁₊(• w) / N₁₊(• •) for the unigram, not raw counts")


#: what an unseen context's γ does, said by both models' −inf explanations
_PASSES_DOWN = "γ(c) = 1 passes the shorter context's whole probability down, not 0"


def _zero_probability(found: np.ndarray) -> str | None:
    """What −inf log-probabilities mean under backoff (the general causes for a NaN)."""
    if not np.isneginf(found).all():
        return None
    return ("−inf is log 0: your P(w | c) is 0 for n-grams an interpolated model gives mass "
            "(every order adds its share, down to the unigram C(w) / N): where a context was "
            f"never seen (C(c) = 0), {_PASSES_DOWN}")


def _zero_probability_kn(found: np.ndarray) -> str | None:
    """What −inf log-probabilities mean under Kneser-Ney: backoff's causes, and the lowest
    order's continuation counts (a student trial's zero counts were blamed on γ alone)."""
    if not np.isneginf(found).all():
        return None
    return ("−inf is log 0: your P_KN(w | c) is 0 for n-grams an interpolated model gives mass. "
            "Its lowest order is N₁₊(• w) / N₁₊(• •): a word with continuation count 0 there "
            "gets nothing (every word that follows something, <s> included, counts at least "
            "1: the continuation check says whether your counts are right); and where a "
            f"context was never seen, {_PASSES_DOWN}")


def _discount(ctx: Context, which: int) -> float:
    """A discount d in [0.1, 0.95], drawn per grading (:data:`DISCOUNTS`): one written in, or
    chosen by the order or the vocabulary's size, fails."""
    return drawn_setting(ctx, *DISCOUNTS, which=which)


def _require_scoring_vectorized(ctx: Context, func: str) -> None:
    """The README's "a loop over tokens, n-grams or rows is not" for the scoring ``func``: its
    lines of Python on about 2,000 and 8,000 trigrams (drawn with repeats from held-out
    sentences, scored on the counts of one stream) must not grow (a loop over the windows,
    scoring one row at a time, kept 7 of 7 in backoff and in Kneser-Ney: a student trial)."""
    own = np.random.default_rng([ctx.seed, 0x5C0])
    counts = _everygrams(ctx, _random_stream(own, 3), 3, VOCAB)
    grams = _sentence_ngrams(_random_sentences(own, 3), 3)  # (M, 3)

    def args(size: int) -> tuple:
        rows = np.random.default_rng([ctx.seed, size]).integers(0, len(grams), size)
        return counts, grams[rows], VOCAB, _discount(ctx, 0)

    require_vectorized(ctx, None, func, args, items="n-grams")


def _smoothed_values(func: str, orders: tuple[int, ...],
                     raw_counts_hint: bool = False):
    def run(ctx: Context) -> dict[str, np.ndarray]:
        _require_scoring_vectorized(ctx, func)
        rng, out = ctx.rng(), {}
        for i, n in enumerate(orders):
            discount = _discount(ctx, i)
            counts = _everygrams(ctx, _random_stream(rng, n), n, VOCAB)
            held_out = _sentence_ngrams(_random_sentences(rng, n, sentences=10), n)
            theirs = _log_probs(ctx, func, counts, held_out, VOCAB, discount)
            if raw_counts_hint:
                _raw_counts_kneser_ney(ctx, theirs, counts, held_out, n, discount)
            out[f"n={n}"] = theirs
        return out
    return run


def _raw_counts_kneser_ney(ctx: Context, theirs: np.ndarray, counts, held_out: np.ndarray,
                           n: int, discount: float) -> None:
    """Fail with :data:`RAW_COUNTS_KN` where the Kneser-Ney log-probabilities equal absolute
    discounting's on the same counts (the backoff question's function: the reference where it
    is installed, else the student's own, whose failures only mean no hint)."""
    try:
        backoff = _log_probs(ctx, "absolute_discount_log_probs", counts, held_out, VOCAB,
                             discount, module="backoff")
    except Exception:  # noqa: BLE001 - no comparison to make, no hint to give
        return
    if np.allclose(theirs, backoff, rtol=1e-10, atol=0.0, equal_nan=True):
        raise CheckFailure(f"kneser_ney_log_probs (n = {n}, d = {discount}): your "
                           f"log-probabilities are exactly those of {RAW_COUNTS_KN}")
    # Kneser-Ney is absolute discounting on relabelled counts: continuation counts below the
    # highest order, on every raw k-gram (γ's N₁₊(c •) counts those); the textbook variant
    # keeps only the k-grams some (k+1)-gram completes
    relabelled, textbook = [], []
    for k in range(1, n):
        keys, continuation = _continuation(counts[k][0], k, VOCAB)
        raw = np.asarray(counts[k - 1][0], dtype=np.int64)
        on_raw = np.zeros(len(raw), np.int64)
        on_raw[np.searchsorted(raw, keys)] = continuation
        relabelled.append((raw, on_raw))
        textbook.append((keys, continuation))
    try:
        right, variant = (_log_probs(ctx, "absolute_discount_log_probs", [*c, counts[-1]],
                                     held_out, VOCAB, discount, module="backoff")
                          for c in (relabelled, textbook))
    except Exception:  # noqa: BLE001 - no comparison to make, no hint to give
        return
    if np.allclose(right, variant, rtol=1e-10, atol=0.0, equal_nan=True) or \
            not np.allclose(theirs, variant, rtol=1e-10, atol=0.0, equal_nan=True):
        return
    raise CheckFailure(
        f"kneser_ney_log_probs (n = {n}, d = {discount}): your γ(c) = d · N₁₊(c •) / … counts "
        "N₁₊(c •) on the continuation counts; this model (nltk's KneserNeyInterpolated) counts "
        "it on the raw counts of the k-grams, the counts you were given. The two differ only "
        "for contexts made of <s> alone (<s> <s> is a raw bigram that no trigram continues): "
        "one held-out row per sentence")


def _continuation(higher_keys: np.ndarray, k: int, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """N₁₊(• g) of every k-gram g completing a (k+1)-gram of ``higher_keys``: (keys, counts)."""
    keys, found = np.unique(np.asarray(higher_keys, dtype=np.int64) % vocab ** k,
                            return_counts=True)
    return keys, found.astype(np.int64)


def _sums(func: str, orders: tuple[int, ...]):
    """P(· | c) over the whole vocabulary (``<s>`` and ``</s>`` included) for contexts of
    words, seen ones and one never seen (everything passes to the shorter context): it must
    sum to 1, and the points need it to be the reference's too (a uniform distribution sums
    to 1 without any counting)."""
    def collect(ctx: Context) -> dict[str, np.ndarray]:
        rng, out = ctx.rng(), {}
        for i, n in enumerate(orders):
            discount = _discount(ctx, i)
            sentences = _random_sentences(rng, n, words=VOCAB - 1)  # id VOCAB-1 never occurs...
            counts = _everygrams(ctx, np.concatenate(sentences), n, VOCAB)
            seen = _sentence_ngrams(sentences, n)[:, :-1]
            seen = seen[np.all(seen >= 2, axis=1)][:3]  # (≤3, n−1) contexts of words only
            unseen = np.full((1, n - 1), VOCAB - 1)  # ...so this context never was seen
            for context in np.concatenate([seen, unseen]):
                windows = np.column_stack([np.tile(context, (VOCAB, 1)), np.arange(VOCAB)])
                p = np.exp(_log_probs(ctx, func, counts, windows, VOCAB, discount))
                out[f"n={n}, d={discount}, context {context.tolist()}"] = p  # (VOCAB,)
        return out

    def judge(actual: dict, expected: dict | None) -> Verdict:
        for name, p in actual.items():
            total = float(np.sum(p))
            if math.isnan(total):
                return Verdict(False, f"P(w | c) summed over the vocabulary is NaN for {name}: "
                               f"{int(np.sum(np.isnan(p)))} of your P(w | c) are NaN (0/0, or "
                               "the log of a negative number: is a discounted count below 0, "
                               "max(C(c, w) − d, 0) missing?)")
            if not (math.isfinite(total) and abs(total - 1.0) <= 1e-9):
                more = ("more than 1: mass was added without being taken away (is the "
                        "discount subtracted from every seen count, and γ(c) exactly the mass "
                        "the discounts freed?)" if total > 1 else
                        "less than 1: some freed mass went nowhere (γ(c) should be d · N₁₊(c •) "
                        "over the same denominator as the discounted counts; an unseen "
                        "context passes everything down, γ = 1)")
                return Verdict(False, f"P(w | c) summed over the vocabulary is {total:.10g} "
                               f"for {name}; a distribution sums to 1, yours sums to {more}")
        return Verdict(True, f"P(· | c) sums to 1 over the vocabulary for {len(actual)} "
                       "contexts (seen and unseen)")
    return collect, judge


def _sotu_perplexity(func: str, n: int):
    def run(ctx: Context) -> dict[str, np.ndarray]:
        discount = drawn_setting(ctx, *SOTU_DISCOUNTS)
        train = sotu_sentences("train", SOTU_TRAIN)
        every = sotu_sentences("test", None)
        # a fresh sample of the test split per grading (the input seed): no single number,
        # and no fixed held-out text, to reproduce
        picked = np.sort(ctx.rng().choice(len(every), SOTU_TEST_SENTENCES, replace=False))
        test = [every[i] for i in picked]
        vocab = given.Vocabulary.build(train, n, min_count=2)
        bos = vocab.id(given.BOS)
        counts = _everygrams(ctx, vocab.stream(train, n), n, len(vocab), bos)
        windows = _sentence_ngrams([vocab.stream([s], n) for s in test], n)
        log_probs = _log_probs(ctx, func, counts, windows, len(vocab), discount)
        name = f"order {n}"
        return {f"{name}: log P(w | c) of every held-out n-gram": log_probs,
                f"{name}: held-out perplexity": np.asarray(math.exp(-float(np.mean(log_probs))))}
    return run


#: the orders of the values checks; each order's discount is drawn per grading from DISCOUNTS
#: (a second review kept 14 points with the discounts chosen by the order and the vocabulary's
#: size, the argument ignored), the held-out check's from SOTU_DISCOUNTS (around the usual 0.75)
AD_ORDERS = KN_ORDERS = (2, 3, 4)
DISCOUNTS, SOTU_DISCOUNTS = (0.1, 0.95), (0.55, 0.9)
SOTU_N = 3
#: the held-out budget (kept small: every planted bug of ``dojo verify`` grades it again): the
#: first addresses of the train split; sentences of the test split drawn afresh per grading
SOTU_TRAIN, SOTU_TEST_SENTENCES = 15, 1500

_ad_sum_collect, _ad_sum_judge = _sums("absolute_discount_log_probs", (2, 3))
_kn_sum_collect, _kn_sum_judge = _sums("kneser_ney_log_probs", (2, 3, 4))


def _distinct_keys(ctx: Context, size: int, k: int = 2, vocab: int = 60) -> tuple:
    """About ``size`` distinct sorted keys of (k+1)-grams over ``vocab`` ids, for the rule
    against Python loops: ``continuation_counts``' arguments."""
    rng = np.random.default_rng([ctx.seed, size, 0xC0])
    return np.unique(rng.integers(0, vocab ** (k + 1), size)), k, vocab


def _continuation_values(ctx: Context) -> dict[str, np.ndarray]:
    # the README's "a loop over tokens, n-grams or rows is not" (a helper's loop over the keys
    # kept the question's 7 points): its lines of Python must not grow with the keys
    require_vectorized(ctx, "kneser_ney", "continuation_counts",
                       lambda size: _distinct_keys(ctx, size), items="n-grams")
    rng, out = ctx.rng(), {}
    for k in (1, 2, 3):
        windows = _sentence_ngrams(_random_sentences(rng, k + 1), k + 1)
        keys = np.unique(windows @ (VOCAB ** np.arange(k, -1, -1, dtype=np.int64)))
        got = ctx.function("continuation_counts")(keys, k, VOCAB)
        g_keys, g_counts = ctx.unpack(got, ["keys", "counts"], "continuation_counts")
        out[f"k={k} keys"] = ctx.to_numpy(g_keys, "continuation_counts' keys")
        out[f"k={k} counts"] = ctx.to_numpy(g_counts, "continuation_counts' counts")
    return out


BACKOFF = Question(
    "backoff", "Backoff: interpolated absolute discounting",
    checks=[
        value_check("counts", "counts of every order 1..n as nltk.lm counts them (n "
                    "= 1-4, random streams)", 2.0, _everygram_values, rtol=0, atol=0),
        value_check("values", "log-probabilities of held-out n-grams under "
                    "interpolated absolute discounting (n = 2-4)", 2.0,
                    _smoothed_values("absolute_discount_log_probs", AD_ORDERS),
                    rtol=1e-10, nonfinite=_zero_probability),
        custom_check("sums_to_one", "P(· | c) sums to 1 over the vocabulary", 1.0,
                     _ad_sum_collect, _ad_sum_judge, right=(1e-9, 1e-12)),
        value_check("sotu", f"log-probabilities of {SOTU_TEST_SENTENCES} held-out "
                    f"sentences (a fresh sample) under an absolute-discounting order-{SOTU_N} "
                    f"model of {SOTU_TRAIN} State of the Union addresses", 2.0,
                    _sotu_perplexity("absolute_discount_log_probs", SOTU_N),
                    rtol=1e-8, atol=1e-10, timeout_s=240,
                    nonfinite=_zero_probability),
    ],
    requires=(NGRAM_COUNTS,), datasets=("sotu",))

KNESER_NEY = Question(
    "kneser_ney", "Interpolated Kneser-Ney smoothing",
    checks=[
        value_check("continuation", "continuation counts N₁₊(• g) (k = 1-3)", 1.0,
                    _continuation_values, rtol=0, atol=0),
        value_check("values", "log-probabilities of held-out n-grams under "
                    "interpolated Kneser-Ney (n = 2-4)", 3.0,
                    _smoothed_values("kneser_ney_log_probs", KN_ORDERS,
                                     raw_counts_hint=True), rtol=1e-10,
                    nonfinite=_zero_probability_kn),
        custom_check("sums_to_one", "P_KN(· | c) sums to 1 over the vocabulary",
                     1.0, _kn_sum_collect, _kn_sum_judge, right=(1e-9, 1e-12)),
        value_check("sotu", f"log-probabilities of {SOTU_TEST_SENTENCES} held-out "
                    f"sentences (a fresh sample) under a Kneser-Ney order-{SOTU_N} model of "
                    f"{SOTU_TRAIN} State of the Union addresses", 2.0,
                    _sotu_perplexity("kneser_ney_log_probs", SOTU_N),
                    rtol=1e-8, atol=1e-10, timeout_s=240,
                    nonfinite=_zero_probability_kn),
    ],
    requires=(BACKOFF, NGRAM_COUNTS), datasets=("sotu",))

QUESTIONS = [BACKOFF, KNESER_NEY]
