"""Sampling the next word (CS224n lecture 6, "generating text"): temperature and top-k.

The checks judge the student's draws against the exact tempered distribution, computed by the
grader itself (:func:`exact_tempered`): support (top-k), greedy (temperature 0), chi-square
tests of many draws and of the ranks drawn, and reproducibility from a seed. Their inputs are
drawn afresh for every grading (the checks have an oracle: :attr:`Check.oracle`).
"""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import (
    CheckFailure,
    Context,
    Question,
    Verdict,
    custom_check,
    require_vectorized,
    stable_call,
    value_check,
)
from nlpdojo_autograder.authoring.statistics import chi2_upper_quantile


def exact_tempered(scores: np.ndarray, temperature: float, top_k: int | None) -> np.ndarray:
    """The grader's own tempered top-k distribution (B, V) (the oracle the draws are judged
    against): written independently of the reference, with ``scipy.special.softmax``."""
    # imported on use: scipy.special takes ~0.5 s to import, and few checks need it
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


def _rows_of_scores(ctx: Context, rows: int) -> np.ndarray:
    """Scores drawn from the check's seed (another grading, other rows: no answers kept for
    them pass the loop check)."""
    return np.random.default_rng([ctx.seed, rows]).normal(0, 2, (rows, 9))  # (rows, V)


#: rows whose k-th largest score is tied (count models tie all the time: words seen equally
#: often; random floats never do), each with the k that cuts through the tie: every word tied
#: with the k-th largest is kept (the docstring), so more than k words may be kept
TIED_SCORES = (
    (np.array([[3.0, 1.0, 1.0, 1.0, 0.0, -1.0, 2.0, 1.0, 0.5],     # k = 3: the four 1.0s kept
               [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],      # all equal: all kept
               [-2.0, 4.0, 0.0, 4.0, 1.0, 1.0, -2.0, 0.0, 4.0]]), 3),  # the top three tie
    (np.array([[2.0, 2.0, 0.0, -1.0, 1.0, 0.0, 2.0, -3.0, 1.5]]), 1),  # k = 1: three maxima
)


def _tied_values(ctx: Context, f) -> dict[str, np.ndarray]:
    """``tempered_probs`` on :data:`TIED_SCORES` (fixed: the same question on every draw); a
    word tied with the k-th largest score given probability 0 is named."""
    out = {}
    for scores, top_k in TIED_SCORES:
        got = ctx.to_numpy(f(scores, 1.0, top_k), "tempered_probs")
        exact = exact_tempered(scores, 1.0, top_k)
        if got.shape == exact.shape:
            dropped = np.argwhere((got == 0) & (exact > 0))
            if dropped.size:
                r, w = (int(i) for i in dropped[0])
                kth = float(np.sort(scores[r])[::-1][top_k - 1])
                if scores[r, w] != kth:  # not a tie: above the k-th largest, yet dropped
                    raise CheckFailure(
                        f"tempered_probs(top_k={top_k}) gave word {w} probability 0 in the row "
                        f"{scores[r].tolist()}, though its score {scores[r, w]} is above the "
                        f"k-th largest ({kth}): top-k keeps the k largest scores")
                raise CheckFailure(
                    f"tempered_probs(top_k={top_k}) gave word {w} probability 0 in the row "
                    f"{scores[r].tolist()}, though its score {scores[r, w]} ties with the "
                    f"k-th largest ({kth}): top-k keeps every word whose score is at least the "
                    "k-th largest, so ties at the border are all kept (more than k words): "
                    "take the k-th largest value (np.partition, or np.sort) and keep "
                    "scores >= it, rather than the k indices argsort or argpartition pick")
        out[f"ties, top_k={top_k}"] = got
    return out


#: rows whose maximum is tied, two and three ways: at T = 0 probability 1 on the first
TIED_MAXIMA = np.array([[1.0, 3.0, 3.0, 0.0, -2.0], [2.0, -1.0, 2.0, 0.5, 2.0]])


def _tempered_values(ctx: Context) -> dict[str, np.ndarray]:
    for name, make in (("tempered_probs", lambda r: (_rows_of_scores(ctx, r), 0.7, 5)),
                       ("sample_next", lambda r: (_rows_of_scores(ctx, r), 0, 0.7, 5))):
        require_vectorized(ctx, "sampling", name, make, items="rows", sizes=(500, 2_000))
    rng, out = ctx.rng(), {}
    f = ctx.function("tempered_probs")
    for temperature, top_k in SAMPLING_CASES:
        scores = rng.normal(0, 2, (4, 9))
        # "computed stably, so that a temperature of 1e-3 works too": no overflow on the way
        got = ctx.to_numpy(stable_call(ctx, f, [scores, temperature, top_k])
                           if 0 < temperature < 0.01 else f(scores, temperature, top_k),
                           "tempered_probs")
        out[f"T={temperature}, top_k={top_k}"] = got
        out[f"T={temperature}, top_k={top_k}|scores"] = scores  # the grader's: the same
    out.update(_tied_values(ctx, f))
    # T = 0 where a row's maximum is tied: all of it on the first (fixed rows)
    out["T=0, the maximum tied"] = ctx.to_numpy(f(TIED_MAXIMA, 0.0, None), "tempered_probs")
    return out


def _draws(ctx: Context, scores: np.ndarray, seed: int, temperature: float,
           top_k: int | None) -> np.ndarray:
    got = ctx.to_numpy(ctx.function("sample_next")(
        scores, int(seed), temperature, top_k), "sample_next's ids")
    if got.shape != (len(scores),) or not np.issubdtype(got.dtype, np.integer):
        raise CheckFailure(f"sample_next returned {got.dtype} of shape {got.shape} for "
                           f"{len(scores)} rows; expected ({len(scores)},) integer word ids")
    if got.size and (got.min() < 0 or got.max() >= scores.shape[1]):
        bad = int(got.min()) if got.min() < 0 else int(got.max())  # the one outside
        raise CheckFailure(f"sample_next returned id {bad}, outside the vocabulary "
                           f"0..{scores.shape[1] - 1}")
    return got


DRAWS = 20000


#: a row whose 3rd largest score is tied four ways (:data:`TIED_SCORES`' first): the draws of
#: ``sample_next`` itself must reach every tied word, whichever way it applies top-k
TIED_ROW, TIED_K = TIED_SCORES[0][0][0], TIED_SCORES[0][1]


def _frequency_collect(ctx: Context) -> dict[str, np.ndarray]:
    rng, out = ctx.rng(), {}
    cases = [(f"T={temperature}, top_k={top_k}", rng.normal(0, 1.5, 10), temperature, top_k)
             for temperature, top_k in ((1.0, None), (0.6, None), (1.7, 4))]
    cases.append((f"ties, top_k={TIED_K}", TIED_ROW, 1.0, TIED_K))  # fixed: every draw
    for i, (name, scores, temperature, top_k) in enumerate(cases):
        draws = _draws(ctx, np.tile(scores, (DRAWS, 1)), ctx.seed + i, temperature, top_k)
        out[f"{name}|observed"] = np.bincount(draws, minlength=len(scores))
        # the draws themselves, row by row: identical rows draw alike and independently,
        # wherever they sit in the batch (_by_position)
        out[f"{name}|draws"] = np.asarray(draws, np.int64)
        out[f"{name}|expected"] = exact_tempered(scores[None], temperature, top_k)[0] * DRAWS
        out[f"{name}|scores"] = np.asarray(scores, np.float64)
    return out


#: a correct sampler fails a chi-square test at this level once in a billion gradings (the
#: inputs and the sampler's seeds are drawn from the input seed: the same seed passes or fails
#: the same way every time); a wrong one (the argmax, a uniform draw, T multiplied) scores
#: hundreds to thousands, far beyond the limit
CHI2_ALPHA = 1e-9


def _chi_square(observed: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """Pearson's statistic of counts ``observed`` against ``expected`` (cells with expected
    counts > 0) and the limit it must stay under: the chi-square distribution's upper
    ``CHI2_ALPHA`` quantile at cells − 1 degrees of freedom."""
    stat = float(np.sum((observed - expected) ** 2 / expected))
    return stat, chi2_upper_quantile(CHI2_ALPHA, len(expected) - 1)


def _frequency_judge(actual: dict, expected: dict | None) -> Verdict:
    lines = []
    for name in sorted({k.split("|")[0] for k in actual}):
        obs = np.asarray(actual[f"{name}|observed"], np.float64)
        exp = np.asarray(actual[f"{name}|expected"], np.float64)
        outside = np.flatnonzero((exp == 0) & (obs > 0))
        if outside.size:
            return Verdict(False, f"{name}: {int(obs[outside].sum())} of {DRAWS} draws are "
                           f"word {int(outside[0])}, which has probability 0 there (outside the "
                           "top k)")
        scores = np.asarray(actual.get(f"{name}|scores", np.full(exp.shape, np.nan)))
        kth = np.sort(scores)[::-1][TIED_K - 1] if name.startswith("ties") else np.nan
        never = np.flatnonzero((exp > 100) & (obs == 0) & (scores == kth))
        if never.size:  # a word tied at the k-th largest, never drawn
            w = int(never[0])
            return Verdict(False, f"{name}: word {w} was never drawn in {DRAWS} draws of the "
                           f"row {scores.tolist()}, though its score {scores[w]} ties with the "
                           "k-th largest and it should come up about "
                           f"{exp[w]:.0f} times: top-k keeps every word whose score is at "
                           "least the k-th largest (ties at the border all kept), not the k "
                           "indices argsort or argpartition pick")
        cells = exp > 0
        stat, limit = _chi_square(obs[cells], exp[cells])
        worst = int(np.argmax(np.abs(obs - exp)))
        if stat > limit:
            one = _one_word_always(name, obs, scores)
            if one:
                return Verdict(False, one)
            return Verdict(False, f"{name}: your {DRAWS} draws do not follow softmax(scores / T) "
                           f"over the top k (chi-square {stat:.1f} > {limit:.1f}); word {worst} "
                           f"was drawn {int(obs[worst])} times, expected {exp[worst]:.0f}. Divide "
                           "the scores by T (not multiply) and renormalise after top-k")
        if f"{name}|draws" in actual:
            by_position = _by_position(name, np.asarray(actual[f"{name}|draws"], np.int64))
            if by_position:
                return Verdict(False, by_position)
        lines.append(f"{name}: chi-square {stat:.1f} ≤ {limit:.1f}")
    return Verdict(True, f"{DRAWS} draws each follow the tempered distribution (" +
                   "; ".join(lines) + ")")


#: the periods of a row's position and the distances between rows over which the draws of
#: identical rows are tested (blocks of 3 sorted, or pairs three rows apart drawn as u and
#: 1 − u, kept every point while only halves and parity were: an adversarial trial)
PERIODS, LAGS = range(2, 9), range(1, 9)
#: a word's share of the draws below which it joins the others in one category: every cell
#: of a test's table then expects dozens of draws at least (the chi-square law holds)
MIN_SHARE = 0.05


def _chi2_table(table: np.ndarray) -> tuple[float, int]:
    """Pearson's statistic of a contingency table (groups x categories, empty rows and
    columns dropped) against independence, and its degrees of freedom."""
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 0.0, 0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    return stat, (table.shape[0] - 1) * (table.shape[1] - 1)


def _by_position(name: str, draws: np.ndarray) -> str:
    """Why the draws of identical rows depend on where a row sits in the batch, or on the
    draw of another row ("" where they do not): chi-square tests at :data:`CHI2_ALPHA` of the
    two halves, of the positions modulo each of :data:`PERIODS`, and of each row's draw
    against the draw :data:`LAGS` rows before it, over categories of words (those drawn at
    least :data:`MIN_SHARE` of the time, the rest together). One uniform number spread over
    the rows or the rows' numbers sorted kept every point while the draws were only pooled (a
    student trial: the pooled histogram is near perfect)."""
    counts = np.bincount(draws)
    frequent = np.flatnonzero(counts >= MIN_SHARE * draws.size)
    label = np.full(counts.size, frequent.size)  # the rare words: one category
    label[frequent] = np.arange(frequent.size)
    k = frequent.size + int(counts.sum() - counts[frequent].sum() >= MIN_SHARE * draws.size)
    labels = label[draws]  # (N,)
    keep = labels < k
    if k < 2:  # one category: nothing to tell apart
        return ""
    rows = np.arange(draws.size)
    groupings = [("the first half of the rows and the second", rows >= draws.size // 2, 2)]
    groupings += [(f"the rows grouped by their position modulo {m}", rows % m, m)
                  for m in PERIODS]
    tables = []  # (what the draws depend on, the test, its table)
    for what, group, groups in groupings:
        table = np.zeros((groups, k))
        np.add.at(table, (group[keep].astype(np.int64), labels[keep]), 1)
        tables.append((f"where a row sits in the batch: {what} draw the words in other "
                       "proportions", "homogeneity", table))
    for lag in LAGS:
        pair = keep[:-lag] & keep[lag:]
        table = np.zeros((k, k))
        np.add.at(table, (labels[:-lag][pair], labels[lag:][pair]), 1)
        tables.append((f"the word drawn {lag} row{'s' if lag > 1 else ''} before it",
                       "independence", table))
    for what, test, table in tables:
        stat, df = _chi2_table(table)
        limit = chi2_upper_quantile(CHI2_ALPHA, df) if df else 0.0
        if df and stat > limit:
            return (f"{name}: the {DRAWS} rows are one row repeated, yet their draws depend on "
                    f"{what} (chi-square of {test} {stat:.1f} > {limit:.1f}): every row needs "
                    "a uniform number of its own, independent of the others' (rng.random(B)), "
                    "not one number spread over the rows, nor numbers sorted or paired (u and "
                    "1 − u)")
    return ""


def _one_word_always(name: str, observed: np.ndarray, scores: np.ndarray) -> str:
    """What it means when every draw of a row was one word: the row's best word is greedy
    decoding (a student trial's argmax was told to divide by T), another a draw that ignores
    the scores; "" where the draws spread over several words."""
    drawn = np.flatnonzero(observed)
    if drawn.size != 1:
        return ""
    word = int(drawn[0])
    per_row = ("draw one uniform number per row (rng.random(B)) against that row's "
               "cumulative probabilities")
    if np.isfinite(scores).all() and word == int(np.argmax(scores)):
        return (f"{name}: all {DRAWS} draws (one row, repeated) are word {word}, the "
                "highest-scoring one: the argmax (greedy decoding), or one uniform number for "
                "the whole batch (every row then draws the same word); sample from "
                f"softmax(scores / T) with `rng`: {per_row}")
    return (f"{name}: all {DRAWS} draws (one row, repeated) are word {word}: one uniform "
            "number for the whole batch (every row then draws the same word), a draw that "
            "does not depend on `rng`, or one that ignores the scores; " + per_row)


def _rank_fit(scores: np.ndarray, draws: np.ndarray, temperature: float,
              top_k: int | None) -> str:
    """Whether one draw per row of ``scores`` (B, V) follows the exact tempered distribution
    (:func:`exact_tempered`), told by the ranks drawn: row r draws its j-th most probable word
    with probability p_r(j), so over the rows rank j is expected Σ_r p_r(j) times (a
    chi-square test of those counts, ranks expected fewer than 5 times pooled into one).
    Draws that are always the argmax, one fixed word, or uniform over the kept words fail it.
    Returns what is wrong, or "" where they fit."""
    order = np.argsort(-scores, axis=1, kind="stable")  # (B, V) words by rank
    ranked = np.take_along_axis(exact_tempered(scores, temperature, top_k), order, axis=1)
    expected = ranked.sum(axis=0)  # (V,) draws of each rank expected over the rows
    rank_of = np.argsort(order, axis=1)  # (B, V) each word's rank
    observed = np.bincount(rank_of[np.arange(len(draws)), draws], minlength=scores.shape[1])
    big = expected >= 5
    cells_exp = np.append(expected[big], expected[~big].sum())
    cells_obs = np.append(observed[big], observed[~big].sum()).astype(np.float64)
    keep = cells_exp > 0
    if keep.sum() < 2:  # one rank carries everything (top-k = 1): nothing to fit
        return ""
    stat, limit = _chi_square(cells_obs[keep], cells_exp[keep])
    if stat <= limit:
        return ""
    worst = int(np.argmax(np.abs(observed - expected)))
    return (f"the rank-{worst + 1} word was drawn in {int(observed[worst])} of {len(draws)} "
            f"rows, where about {expected[worst]:.0f} are expected (chi-square {stat:.1f} > "
            f"{limit:.1f}): draw from the whole distribution with one uniform number per row "
            "and its cumulative sums, not its argmax, one word, or every kept word alike")


#: the temperature of the top-k draws, their rows and the scores' spread: a uniform draw
#: over the kept words must fail the rank fit on every seed (at T = 1.5, N(0, 1) scores and
#: 500 rows it failed on 10 of 20 seeds at k = 10 and none at k = 3; here on 20 of 20 at both)
TOP_K_T, TOP_K_ROWS, TOP_K_SPREAD = 1.0, 1000, 2.0


def _top_k_collect(ctx: Context) -> dict[str, np.ndarray]:
    rng, out = ctx.rng(), {}
    for top_k in (1, 3, 10):
        scores = rng.normal(0, TOP_K_SPREAD, (TOP_K_ROWS, 30))
        out[f"top_k={top_k}|scores"] = scores
        out[f"top_k={top_k}|draws"] = _draws(ctx, scores, ctx.seed + top_k, TOP_K_T, top_k)
    return out


def _top_k_judge(actual: dict, expected: dict | None) -> Verdict:
    for name in sorted({k.split("|")[0] for k in actual}):
        scores, draws = actual[f"{name}|scores"], np.asarray(actual[f"{name}|draws"], int)
        k = int(name.split("=")[1])
        rank = (scores > scores[np.arange(len(scores)), draws][:, None]).sum(axis=1)  # (B,)
        bad = np.flatnonzero(rank >= k)
        if bad.size:
            r = int(bad[0])
            worst = int(rank[bad].max()) + 1
            smallest = float(np.mean(rank[bad] >= scores.shape[1] - k))
            # a draw outside the top k at every rank is top-k not applied at all (a student
            # trial's sample_next that never passed top_k on was told to keep the largest)
            cause = ("the (k + 1)-th word is kept too: an off-by-one (k + 1 words kept, or "
                     "scores > the (k + 1)-th largest where >= the k-th largest is meant)"
                     if worst == k + 1 else "keep the k largest scores (np.partition or "
                     "np.argsort), not the smallest" if smallest > 0.9 else
                     "the draws reach words of every rank, as if top-k were not applied where "
                     "the draw is made: does sample_next pass top_k on to tempered_probs, and "
                     "are the probabilities outside the k largest 0 (and the kept ones "
                     "renormalised)?")
            return Verdict(False, f"{name}: row {r} drew word {int(draws[r])}, ranked "
                           f"{int(rank[r]) + 1} by probability; top-k must only draw among the "
                           f"k = {k} most probable ({bad.size} of {len(draws)} rows broke it, "
                           f"the lowest ranked drawn {worst}): {cause}")
        fit = _rank_fit(scores, draws, TOP_K_T, k)
        if fit:
            return Verdict(False, f"{name}: every draw is among the k most probable words, but "
                           f"they do not follow softmax(scores / T) over those k: {fit}")
    return Verdict(True, "every draw is among the k most probable words (k = 1, 3, 10), "
                   "drawn as often as the tempered top-k distribution says")


#: the rows of the greedy check whose maximum is tied (a copy of it at another position): T =
#: 0 is the first argmax there (a greedy decoder that split the ties kept 6.5 of 6.5: a
#: student trial)
TIED_AT_MAX = 20


def _greedy_collect(ctx: Context) -> dict[str, np.ndarray]:
    rng = ctx.rng()
    scores = rng.normal(0, 1, (200, 15))
    rows = np.arange(TIED_AT_MAX)
    # another position than the row's maximum's, which gets a copy of it
    other = (np.argmax(scores[rows], axis=1) + rng.integers(1, 15, TIED_AT_MAX)) % 15
    scores[rows, other] = np.max(scores[rows], axis=1)
    return {"scores": scores,
            "T=0": _draws(ctx, scores, ctx.seed, 0.0, None),
            "T=1e-4": _draws(ctx, scores, ctx.seed + 1, 1e-4, None)}


#: a draw at T = 1e-4 other than the argmax is wrong where its exact probability is below this:
#: two scores of a row within ~1e-3 of each other share the probability even at T = 1e-4
#: (200 rows of 15 normal scores had such a pair in 2.3 % of gradings, and the reference's
#: right draw of the runner-up failed), while a sampler that breaks at tiny T draws words of
#: probability e^-(gap / T), far below it
UNLIKELY = 1e-9


def _greedy_judge(actual: dict, expected: dict | None) -> Verdict:
    scores = np.asarray(actual["scores"], np.float64)
    best = np.argmax(scores, axis=1)
    for name, temperature in (("T=0", 0.0), ("T=1e-4", 1e-4)):
        drawn = np.asarray(actual[name])
        wrong = drawn != best
        if temperature:
            p = exact_tempered(scores, temperature, None)  # (B, V)
            wrong &= p[np.arange(len(drawn)), drawn] < UNLIKELY
        wrong = np.flatnonzero(wrong)
        if wrong.size:
            # a row whose maximum is not tied first, where there is one: the tied rows come
            # first, and a sampler that overflowed on most rows was told of ties alone (a
            # student trial: 186 of 200 rows wrong)
            untied = [int(i) for i in wrong
                      if int(np.sum(scores[i] == scores[i, best[i]])) == 1]
            r = untied[0] if untied else int(wrong[0])
            tied = not untied
            return Verdict(False, f"{name}: row {r} drew word {int(actual[name][r])}, not the "
                           f"argmax {int(best[r])} ({wrong.size} of {len(best)} rows): as T → 0 "
                           "sampling becomes greedy; T = 0 is the argmax itself" + (
                               f" (row {r}'s maximum is tied: the first of the tied words, "
                               "as np.argmax picks it, not a draw among them)" if tied else
                               ", and a tiny T needs the maximum subtracted before exp (no "
                               "overflow)"))
    return Verdict(True, "temperature 0 and 1e-4 both give the argmax of every row")


def _reproducible_collect(ctx: Context) -> dict[str, np.ndarray]:
    scores = ctx.rng().normal(0, 1, (300, 20))
    # "every random number comes from rng, never from np.random.*": NumPy's global generator
    # as it was after a call (one reseeded from rng, then drawn from, kept every point: its
    # draws are reproducible and rightly spread; a student trial)
    run = ctx.probe("keeps_global_rng")(ctx.function("sample_next"), [scores, 7, 1.0, None], {})
    if not run["kept"]:
        raise CheckFailure("sample_next changed NumPy's global random generator (np.random.seed, "
                           "np.random.random, np.random.choice...): every random number comes "
                           "from the generator it is given, rng (rng.random(B)), never from "
                           "np.random.*, whose state is the caller's")
    return {"scores": scores, "a": _draws(ctx, scores, 7, 1.0, None),
            "again": _draws(ctx, scores, 7, 1.0, None),
            "other seed": _draws(ctx, scores, 8, 1.0, None)}


def _reproducible_judge(actual: dict, expected: dict | None) -> Verdict:
    if not np.array_equal(actual["a"], actual["again"]):
        return Verdict(False, "two generators with the same seed gave different ids: draw "
                       "every random number from the `rng` argument (never np.random.*)")
    if np.array_equal(actual["a"], actual["other seed"]):
        return Verdict(False, "generators with different seeds gave the same 300 ids: the "
                       "draws must come from `rng`")
    fit = _rank_fit(actual["scores"], np.asarray(actual["a"], int), 1.0, None)
    if fit:  # reproducible, but not samples: a fixed word per seed is reproducible too
        return Verdict(False, f"the same seed gives the same ids, but they are not draws of "
                       f"softmax(scores): {fit}")
    return Verdict(True, "the same seed gives the same ids, another seed others, and they "
                   "follow softmax(scores)")


#: what the sampling checks compare the draws with: the grader's own distribution
EXACT = "the exact tempered top-k distribution, computed by the grader (exact_tempered)"


def _not_renormalised(expected: dict) -> dict:
    """The tempered distributions with top-k applied after the softmax and never renormalised
    (each row summing to the mass its k words had: a student trial was shown the differing
    entries only), from the expected payload's scores."""
    out = {}
    for temperature, top_k in SAMPLING_CASES:
        key = f"T={temperature}, top_k={top_k}"
        if top_k is None or not temperature or f"{key}|scores" not in expected:
            continue
        full = exact_tempered(np.asarray(expected[f"{key}|scores"]), temperature, None)
        out[key] = np.where(np.asarray(expected[key]) > 0, full, 0.0)
    return out


#: the usual mistakes of tempered_probs, told by the values check
TEMPERED_MISTAKES = {
    "top-k applied after the softmax without renormalising: the k kept probabilities must "
    "sum to 1 (divide by their sum, or mask the scores to -inf before the softmax)":
        _not_renormalised,
}

SAMPLING = Question(
    "sampling", "Sampling the next word: temperature and top-k",
    checks=[
        value_check("values", "tempered top-k distributions (T from 0 to 2, k from "
                    "1 to all)", 2.0, _tempered_values, rtol=1e-9, atol=1e-12,
                    mistakes=TEMPERED_MISTAKES),
        custom_check("frequencies", f"{DRAWS} draws follow the exact tempered "
                     "distribution (chi-square)", 2.0, _frequency_collect,
                     _frequency_judge, oracle=EXACT),
        custom_check("top_k", "top-k draws only among the k most probable, as "
                     "often as the tempered distribution says", 1.0, _top_k_collect,
                     _top_k_judge, oracle=EXACT),
        custom_check("greedy", "temperature → 0 is the argmax", 1.0,
                     _greedy_collect, _greedy_judge, oracle="the argmax of each row"),
        custom_check("reproducible", "the same generator seed gives the same "
                     "draws", 0.5, _reproducible_collect, _reproducible_judge, oracle=EXACT),
    ])

QUESTIONS = [SAMPLING]
