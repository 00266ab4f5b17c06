"""The planted bugs of :mod:`nlpdojo_course.language_models.smoothing`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the discount written in, not the argument",
        "    « → discount = 0.75\n    »p = lookup(unigram_keys, unigram_counts, words)"),
    bug("all-<s> padding k-grams dropped (counts differ from nltk's)",
        "inside = «( → »windows[:, -1] != bos«) | np.all(windows == bos, axis=1) → »"),
    bug("smoothing mass not renormalised (discounted mass handed down but never taken from the "
        "seen counts)", "np.where(seen, «np.maximum(joint - discount, 0.0) → joint» / safe, 0.0)"),
    bug("an unseen context passes nothing down (gamma = 0)", "lookup(ctx_keys, types, context) / "
        "safe, «1.0 → 0.0»", says="γ(c) = 1 passes the shorter context's whole probability down"),
    bug("Kneser-Ney's discount written in, not the argument",
        "    « → discount = 0.75\n    »bigram_keys = counts[1][0]"),
    bug("discount applied twice", "np.where(seen, np.maximum(numerator - « → 2 * »discount, 0.0)"),
    # right values, a Python loop over the n-grams: require_vectorized fails them
    bug("every order's keys gathered in a Python loop over the windows",
        "keys, counts = np.unique(«ngram_keys(windows[inside], vocab_size) → np.array(\n"
        "            [int(key) for key in ngram_keys(windows[inside], vocab_size)], np.int64)»",
        says="a Python loop over the tokens"),
    bug("continuation counts by a Python loop over the keys",
        "suffixes = «higher_keys % (vocab_size ** k) → np.array(\n"
        "        [int(key) % vocab_size ** k for key in higher_keys], np.int64)»",
        says="a Python loop over the n-grams"),
    bug("continuation counts replaced by raw counts",
        "num_counts = «continuation_counts(counts[k][0], k, vocab_size) → raw_keys, raw_counts»"),
    # a student trial: 7 of 7, the rows scored one at a time (a loop over the n-grams)
    bug("absolute discounting scores one n-gram at a time",
        "    «p = lookup(unigram_keys, unigram_counts, words) / unigram_counts.sum()  # (M,)  "
        "C(w) / N → if len(windows) > 1:\n"
        "        return np.concatenate([absolute_discount_log_probs(counts, windows[i:i + 1], "
        "vocab_size, discount) for i in range(len(windows))])\n"
        "    p = lookup(unigram_keys, unigram_counts, words) / unigram_counts.sum()»",
        says="a Python loop over the n-grams"),
]
