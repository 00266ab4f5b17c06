"""Checks of topic ``language_models``, the count-model half (CS224n lecture 6): backoff
(interpolated absolute discounting), interpolated Kneser-Ney (Chen & Goodman 1998) and sampling
with temperature and top-k. Merged into the topic by :mod:`.language_models` (a block of its
own there, so the neural-LM checks can grow next to it without touching this file).

Value checks compare with the reference on fresh random streams; a held-out State of the Union
check requires the reference's perplexity to 4 significant digits (computed here, in the
grader, from the student's log-probabilities, so a ``perplexity`` bug costs points once); the
distributions must sum to 1 over the vocabulary for several contexts (computed here too). The
sampling checks judge the student's draws against the exact tempered distribution, computed by
the grader itself (:func:`exact_tempered`): support (top-k), greedy (temperature 0), a
chi-square test of many draws with a fixed seed (stable), and reproducibility from a seed.
"""

from __future__ import annotations

import math

import numpy as np

from nlpdojo_autograder.builders import require_vectorized
from nlpdojo_autograder.checks import CheckFailure, Context, PlantedBug, Verdict
from nlpdojo_autograder.kinds import custom_check, value_check

QUESTIONS = {
    "backoff": "Backoff: interpolated absolute discounting",
    "kneser_ney": "Interpolated Kneser-Ney smoothing",
    "sampling": "Sampling the next word: temperature and top-k",
}
REQUIRES = {
    "backoff": ("ngram_counts",),
    "kneser_ney": ("backoff", "ngram_counts"),
    "sampling": (),
}
DATASETS = {"backoff": ("sotu",), "kneser_ney": ("sotu",)}

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


def _log_probs(ctx: Context, module: str, func: str, counts, windows, vocab: int,
               discount: float) -> np.ndarray:
    out = ctx.to_numpy(ctx.function(module, func)(counts, windows, vocab, discount),
                       f"{func}' log-probabilities")
    if out.shape != (len(windows),):
        raise CheckFailure(f"{func} returned shape {out.shape} for {len(windows)} n-grams; "
                           f"expected ({len(windows)},): one log-probability per row")
    return out


# -- backoff -------------------------------------------------------------------------------------
def _everygram_values(ctx: Context) -> dict[str, np.ndarray]:
    rng, out = ctx.rng(), {}
    for n in (1, 2, 3, 4):
        for k, (keys, counts) in enumerate(_everygrams(ctx, _random_stream(rng, n), n, VOCAB),
                                           start=1):
            out[f"n={n}, order {k} keys"], out[f"n={n}, order {k} counts"] = keys, counts
    return out


#: Kneser-Ney with raw counts at every order (the unigram C(w)/N included) is exactly
#: interpolated absolute discounting, the backoff question's model: told when seen
RAW_COUNTS_KN = ("interpolated absolute discounting (the backoff question's model): Kneser-Ney "
                 "uses continuation counts below the highest order, N₁₊(• c w) / N₁₊(• c •), "
                 "and N₁₊(• w) / N₁₊(• •) for the unigram, not raw counts")


def _smoothed_values(module: str, func: str, cases: tuple[tuple[int, float], ...],
                     raw_counts_hint: bool = False):
    def run(ctx: Context) -> dict[str, np.ndarray]:
        rng, out = ctx.rng(), {}
        for n, discount in cases:
            counts = _everygrams(ctx, _random_stream(rng, n), n, VOCAB)
            held_out = _sentence_ngrams(_random_sentences(rng, n, sentences=10), n)
            theirs = _log_probs(ctx, module, func, counts, held_out, VOCAB, discount)
            if raw_counts_hint:
                _raw_counts_kneser_ney(ctx, theirs, counts, held_out, n, discount)
            out[f"n={n}, discount={discount}"] = theirs
        return out
    return run


def _raw_counts_kneser_ney(ctx: Context, theirs: np.ndarray, counts, held_out: np.ndarray,
                           n: int, discount: float) -> None:
    """Fail with :data:`RAW_COUNTS_KN` where the Kneser-Ney log-probabilities equal absolute
    discounting's on the same counts (the backoff question's function: the reference where it
    is installed, else the student's own, whose failures only mean no hint)."""
    try:
        backoff = _log_probs(ctx, "backoff", "absolute_discount_log_probs", counts, held_out,
                             VOCAB, discount)
    except Exception:  # noqa: BLE001 - no comparison to make, no hint to give
        return
    if np.allclose(theirs, backoff, rtol=1e-10, atol=0.0, equal_nan=True):
        raise CheckFailure(f"kneser_ney_log_probs (n = {n}, d = {discount}): your "
                           f"log-probabilities are exactly those of {RAW_COUNTS_KN}")


def _sums(module: str, func: str, cases: tuple[tuple[int, float], ...]):
    """P(w | c) summed over the whole vocabulary (``<s>`` and ``</s>`` included) for contexts
    of words: seen ones, and one never seen (everything passes to the shorter context)."""
    def collect(ctx: Context) -> dict[str, np.ndarray]:
        rng, out = ctx.rng(), {}
        for n, discount in cases:
            sentences = _random_sentences(rng, n, words=VOCAB - 1)  # id VOCAB-1 never occurs...
            counts = _everygrams(ctx, np.concatenate(sentences), n, VOCAB)
            seen = _sentence_ngrams(sentences, n)[:, :-1]
            seen = seen[np.all(seen >= 2, axis=1)][:3]  # (≤3, n−1) contexts of words only
            unseen = np.full((1, n - 1), VOCAB - 1)  # ...so this context never was seen
            for context in np.concatenate([seen, unseen]):
                windows = np.column_stack([np.tile(context, (VOCAB, 1)), np.arange(VOCAB)])
                p = np.exp(_log_probs(ctx, module, func, counts, windows, VOCAB, discount))
                out[f"n={n}, d={discount}, context {context.tolist()}"] = np.asarray(p.sum())
        return out

    def judge(actual: dict, expected: dict | None) -> Verdict:
        for name, total in actual.items():
            total = float(total)
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


def _sotu_perplexity(module: str, func: str, n: int, discount: float):
    def run(ctx: Context) -> dict[str, np.ndarray]:
        from nlpdojo.text import ngram_corpus as given
        from nlpdojo_autograder.topics.language_models import _sotu_sentences

        train = _sotu_sentences("train", SOTU_TRAIN)
        every = _sotu_sentences("test", None)
        # a fresh sample of the test split per grading (the input seed): no single number,
        # and no fixed held-out text, to reproduce
        picked = np.sort(ctx.rng().choice(len(every), SOTU_TEST_SENTENCES, replace=False))
        test = [every[i] for i in picked]
        vocab = given.Vocabulary.build(train, n, min_count=2)
        bos = vocab.id(given.BOS)
        counts = _everygrams(ctx, vocab.stream(train, n), n, len(vocab), bos)
        windows = _sentence_ngrams([vocab.stream([s], n) for s in test], n)
        log_probs = _log_probs(ctx, module, func, counts, windows, len(vocab), discount)
        name = f"order {n}, discount {discount}"
        return {f"{name}: log P(w | c) of every held-out n-gram": log_probs,
                f"{name}: held-out perplexity": np.asarray(math.exp(-float(np.mean(log_probs))))}
    return run


AD_CASES = ((2, 0.75), (3, 0.3), (4, 1.0))
KN_CASES = ((2, 0.75), (3, 0.1), (4, 0.9))
SOTU_N, SOTU_DISCOUNT = 3, 0.75
#: the held-out budget (kept small: every planted bug of ``dojo verify`` grades it again): the
#: first addresses of the train split; sentences of the test split drawn afresh per grading
SOTU_TRAIN, SOTU_TEST_SENTENCES = 15, 1500

_ad_sum_collect, _ad_sum_judge = _sums("backoff", "absolute_discount_log_probs",
                                       ((2, 0.75), (3, 0.5)))
_kn_sum_collect, _kn_sum_judge = _sums("kneser_ney", "kneser_ney_log_probs",
                                       ((2, 0.75), (3, 0.5), (4, 0.9)))


def _continuation_values(ctx: Context) -> dict[str, np.ndarray]:
    rng, out = ctx.rng(), {}
    for k in (1, 2, 3):
        windows = _sentence_ngrams(_random_sentences(rng, k + 1), k + 1)
        keys = np.unique(windows @ (VOCAB ** np.arange(k, -1, -1, dtype=np.int64)))
        got = ctx.function("kneser_ney", "continuation_counts")(keys, k, VOCAB)
        g_keys, g_counts = ctx.unpack(got, ["keys", "counts"], "continuation_counts")
        out[f"k={k} keys"] = ctx.to_numpy(g_keys, "continuation_counts' keys")
        out[f"k={k} counts"] = ctx.to_numpy(g_counts, "continuation_counts' counts")
    return out


# -- sampling ------------------------------------------------------------------------------------
def exact_tempered(scores: np.ndarray, temperature: float, top_k: int | None) -> np.ndarray:
    """The grader's own tempered top-k distribution (B, V) (the oracle the draws are judged
    against): written independently of the reference, with ``scipy.special.softmax``."""
    from scipy.special import softmax

    scores = np.asarray(scores, np.float64)
    if temperature == 0:
        return np.eye(scores.shape[1])[np.argmax(scores, axis=1)]
    keep = np.ones(scores.shape, bool)
    if top_k is not None:
        kth = np.sort(scores, axis=1)[:, ::-1][:, top_k - 1:top_k]
        keep = scores >= kth
    return softmax(np.where(keep, scores / temperature, -np.inf), axis=1)


SAMPLING_CASES = ((1.0, None), (0.5, None), (2.0, 3), (0.7, 5), (1e-3, None), (0.0, None),
                  (1.0, 1))


def _rows_of_scores(rows: int) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 2, (rows, 9))  # (rows, V)


def _tempered_values(ctx: Context) -> dict[str, np.ndarray]:
    for name, make in (("tempered_probs", lambda r: (_rows_of_scores(r), 0.7, 5)),
                       ("sample_next", lambda r: (_rows_of_scores(r), 0, 0.7, 5))):
        require_vectorized(ctx, "sampling", name, make, items="rows", sizes=(500, 2_000))
    rng, out = ctx.rng(), {}
    f = ctx.function("sampling", "tempered_probs")
    for temperature, top_k in SAMPLING_CASES:
        scores = rng.normal(0, 2, (4, 9))
        got = ctx.to_numpy(f(scores, temperature, top_k), "tempered_probs")
        out[f"T={temperature}, top_k={top_k}"] = got
    return out


def _draws(ctx: Context, scores: np.ndarray, seed: int, temperature: float,
           top_k: int | None) -> np.ndarray:
    got = ctx.to_numpy(ctx.function("sampling", "sample_next")(
        scores, int(seed), temperature, top_k), "sample_next's ids")
    if got.shape != (len(scores),) or not np.issubdtype(got.dtype, np.integer):
        raise CheckFailure(f"sample_next returned {got.dtype} of shape {got.shape} for "
                           f"{len(scores)} rows; expected ({len(scores)},) integer word ids")
    if got.size and (got.min() < 0 or got.max() >= scores.shape[1]):
        raise CheckFailure(f"sample_next returned id {int(got.max())}, outside the vocabulary "
                           f"0..{scores.shape[1] - 1}")
    return got


DRAWS = 20000


def _frequency_collect(ctx: Context) -> dict[str, np.ndarray]:
    rng, out = ctx.rng(), {}
    for i, (temperature, top_k) in enumerate(((1.0, None), (0.6, None), (1.7, 4))):
        scores = rng.normal(0, 1.5, 10)
        draws = _draws(ctx, np.tile(scores, (DRAWS, 1)), ctx.seed + i, temperature, top_k)
        out[f"T={temperature}, top_k={top_k}|observed"] = np.bincount(draws, minlength=10)
        out[f"T={temperature}, top_k={top_k}|expected"] = exact_tempered(
            scores[None], temperature, top_k)[0] * DRAWS
    return out


#: a correct sampler fails a chi-square test at this level once in a million runs (and the
#: check's seed is fixed, so it passes or fails the same way every time)
CHI2_ALPHA = 1e-6


def _frequency_judge(actual: dict, expected: dict | None) -> Verdict:
    from scipy.stats import chi2

    lines = []
    for name in sorted({k.split("|")[0] for k in actual}):
        obs = np.asarray(actual[f"{name}|observed"], np.float64)
        exp = np.asarray(actual[f"{name}|expected"], np.float64)
        outside = np.flatnonzero((exp == 0) & (obs > 0))
        if outside.size:
            return Verdict(False, f"{name}: {int(obs[outside].sum())} of {DRAWS} draws are "
                           f"word {int(outside[0])}, which has probability 0 there (outside the "
                           "top k)")
        cells = exp > 0
        stat = float(np.sum((obs[cells] - exp[cells]) ** 2 / exp[cells]))
        limit = float(chi2.isf(CHI2_ALPHA, int(cells.sum()) - 1))
        worst = int(np.argmax(np.abs(obs - exp)))
        if stat > limit:
            return Verdict(False, f"{name}: your {DRAWS} draws do not follow softmax(scores / T) "
                           f"over the top k (chi-square {stat:.1f} > {limit:.1f}); word {worst} "
                           f"was drawn {int(obs[worst])} times, expected {exp[worst]:.0f}. Divide "
                           "the scores by T (not multiply) and renormalise after top-k")
        lines.append(f"{name}: chi-square {stat:.1f} ≤ {limit:.1f}")
    return Verdict(True, f"{DRAWS} draws each follow the tempered distribution (" +
                   "; ".join(lines) + ")")


def _top_k_collect(ctx: Context) -> dict[str, np.ndarray]:
    rng, out = ctx.rng(), {}
    for top_k in (1, 3, 10):
        scores = rng.normal(0, 1, (500, 30))
        out[f"top_k={top_k}|scores"] = scores
        out[f"top_k={top_k}|draws"] = _draws(ctx, scores, ctx.seed + top_k, 1.5, top_k)
    return out


def _top_k_judge(actual: dict, expected: dict | None) -> Verdict:
    for name in sorted({k.split("|")[0] for k in actual}):
        scores, draws = actual[f"{name}|scores"], np.asarray(actual[f"{name}|draws"], int)
        k = int(name.split("=")[1])
        rank = (scores > scores[np.arange(len(scores)), draws][:, None]).sum(axis=1)  # (B,)
        bad = np.flatnonzero(rank >= k)
        if bad.size:
            r = int(bad[0])
            return Verdict(False, f"{name}: row {r} drew word {int(draws[r])}, the "
                           f"{int(rank[r]) + 1}th most probable; top-k must only draw among the "
                           f"k = {k} most probable ({bad.size} of {len(draws)} rows broke it). "
                           "Keep the k largest scores (np.partition or np.argsort), not the "
                           "smallest")
    return Verdict(True, "every draw is among the k most probable words (k = 1, 3, 10)")


def _greedy_collect(ctx: Context) -> dict[str, np.ndarray]:
    scores = ctx.rng().normal(0, 1, (200, 15))
    return {"scores": scores,
            "T=0": _draws(ctx, scores, ctx.seed, 0.0, None),
            "T=1e-4": _draws(ctx, scores, ctx.seed + 1, 1e-4, None)}


def _greedy_judge(actual: dict, expected: dict | None) -> Verdict:
    best = np.argmax(actual["scores"], axis=1)
    for name in ("T=0", "T=1e-4"):
        wrong = np.flatnonzero(np.asarray(actual[name]) != best)
        if wrong.size:
            r = int(wrong[0])
            return Verdict(False, f"{name}: row {r} drew word {int(actual[name][r])}, not the "
                           f"argmax {int(best[r])} ({wrong.size} of {len(best)} rows): as T → 0 "
                           "sampling becomes greedy; T = 0 is the argmax itself, and a tiny T "
                           "needs the maximum subtracted before exp (no overflow)")
    return Verdict(True, "temperature 0 and 1e-4 both give the argmax of every row")


def _reproducible_collect(ctx: Context) -> dict[str, np.ndarray]:
    scores = ctx.rng().normal(0, 1, (300, 20))
    return {"a": _draws(ctx, scores, 7, 1.0, None), "again": _draws(ctx, scores, 7, 1.0, None),
            "other seed": _draws(ctx, scores, 8, 1.0, None)}


def _reproducible_judge(actual: dict, expected: dict | None) -> Verdict:
    if not np.array_equal(actual["a"], actual["again"]):
        return Verdict(False, "two generators with the same seed gave different ids: draw "
                       "every random number from the `rng` argument (never np.random.*)")
    if np.array_equal(actual["a"], actual["other seed"]):
        return Verdict(False, "generators with different seeds gave the same 300 ids: the "
                       "draws must come from `rng`")
    return Verdict(True, "the same seed gives the same ids, another seed others")


CHECKS = [
    value_check("backoff", "counts", "counts of every order 1..n as nltk.lm counts them (n = "
                "1-4, random streams)", 2.0, _everygram_values, rtol=0, atol=0),
    value_check("backoff", "values", "log-probabilities of held-out n-grams under interpolated "
                "absolute discounting (n = 2-4)", 2.0,
                _smoothed_values("backoff", "absolute_discount_log_probs", AD_CASES),
                rtol=1e-10),
    custom_check("backoff", "sums_to_one", "P(· | c) sums to 1 over the vocabulary", 1.0,
                 _ad_sum_collect, _ad_sum_judge),
    value_check("backoff", "sotu", f"log-probabilities of {SOTU_TEST_SENTENCES} held-out "
                f"sentences (a fresh sample) under an absolute-discounting order-{SOTU_N} "
                f"model of {SOTU_TRAIN} State of the Union addresses", 2.0,
                _sotu_perplexity("backoff", "absolute_discount_log_probs", SOTU_N,
                                 SOTU_DISCOUNT), rtol=1e-8, atol=1e-10, timeout_s=240),
    value_check("kneser_ney", "continuation", "continuation counts N₁₊(• g) (k = 1-3)", 1.0,
                _continuation_values, rtol=0, atol=0),
    value_check("kneser_ney", "values", "log-probabilities of held-out n-grams under "
                "interpolated Kneser-Ney (n = 2-4)", 3.0,
                _smoothed_values("kneser_ney", "kneser_ney_log_probs", KN_CASES,
                                 raw_counts_hint=True), rtol=1e-10),
    custom_check("kneser_ney", "sums_to_one", "P_KN(· | c) sums to 1 over the vocabulary", 1.0,
                 _kn_sum_collect, _kn_sum_judge),
    value_check("kneser_ney", "sotu", f"log-probabilities of {SOTU_TEST_SENTENCES} held-out "
                f"sentences (a fresh sample) under a Kneser-Ney order-{SOTU_N} model of "
                f"{SOTU_TRAIN} State of the Union addresses", 2.0,
                _sotu_perplexity("kneser_ney", "kneser_ney_log_probs", SOTU_N, SOTU_DISCOUNT),
                rtol=1e-8, atol=1e-10, timeout_s=240),
    value_check("sampling", "values", "tempered top-k distributions (T from 0 to 2, k from 1 "
                "to all)", 2.0, _tempered_values, rtol=1e-9, atol=1e-12),
    custom_check("sampling", "frequencies", f"{DRAWS} draws follow the exact tempered "
                 "distribution (chi-square, fixed seed)", 2.0, _frequency_collect,
                 _frequency_judge),
    custom_check("sampling", "top_k", "top-k never draws outside the k most probable", 1.0,
                 _top_k_collect, _top_k_judge),
    custom_check("sampling", "greedy", "temperature → 0 is the argmax", 1.0, _greedy_collect,
                 _greedy_judge),
    custom_check("sampling", "reproducible", "the same generator seed gives the same draws",
                 0.5, _reproducible_collect, _reproducible_judge),
]

BACKOFF, KNESER_NEY, SAMPLING = "backoff", "kneser_ney", "sampling"
PLANTED_BUGS = [
    PlantedBug("all-<s> padding k-grams dropped (counts differ from nltk's)", BACKOFF,
               "inside = (windows[:, -1] != bos) | np.all(windows == bos, axis=1)",
               "inside = windows[:, -1] != bos", "backoff"),
    PlantedBug("smoothing mass not renormalised (discounted mass handed down but never "
               "taken from the seen counts)", BACKOFF,
               "alpha = np.where(seen, np.maximum(joint - discount, 0.0) / safe, 0.0)",
               "alpha = np.where(seen, joint / safe, 0.0)", "backoff"),
    PlantedBug("discount applied twice", KNESER_NEY,
               "alpha = np.where(seen, np.maximum(numerator - discount, 0.0) / safe, 0.0)",
               "alpha = np.where(seen, np.maximum(numerator - 2 * discount, 0.0) / safe, 0.0)",
               "kneser_ney"),
    PlantedBug("continuation counts replaced by raw counts", KNESER_NEY,
               "num_keys, num_counts = continuation_counts(counts[k][0], k, vocab_size)",
               "num_keys, num_counts = raw_keys, raw_counts", "kneser_ney"),
    PlantedBug("temperature applied as a multiplication", SAMPLING,
               "z = scores / temperature", "z = scores * temperature", "sampling"),
    PlantedBug("top-k keeps the k least probable", SAMPLING,
               "kth = -np.partition(-scores, top_k - 1, axis=1)[:, top_k - 1:top_k]  # (B, 1)\n"
               "        scores = np.where(scores >= kth, scores, -np.inf)",
               "kth = np.partition(scores, top_k - 1, axis=1)[:, top_k - 1:top_k]  # (B, 1)\n"
               "        scores = np.where(scores <= kth, scores, -np.inf)", "sampling"),
    PlantedBug("one draw per row in a Python loop", SAMPLING,
               "return np.sum(cdf < u, axis=1).astype(np.int64)",
               "return np.array([np.sum(c < x) for c, x in zip(cdf, u[:, 0], strict=True)],\n"
               "                    dtype=np.int64)", "sampling"),
    PlantedBug("sampling ignores the generator", SAMPLING,
               "u = (1.0 - rng.random(len(probs)))[:, None] * cdf[:, -1:]",
               "u = (1.0 - np.random.random(len(probs)))[:, None] * cdf[:, -1:]", "sampling"),
]
