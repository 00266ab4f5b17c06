"""The planted bugs of :mod:`nlpdojo_course.language_models.smoothing`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the discount written in, not the argument", "backoff",
        "    p = lookup(unigram_keys, unigram_counts, words)",
        "    discount = 0.75\n    p = lookup(unigram_keys, unigram_counts, words)",
        "backoff"),
    bug("all-<s> padding k-grams dropped (counts differ from nltk's)", "backoff",
        "inside = (windows[:, -1] != bos) | np.all(windows == bos, axis=1)",
        "inside = windows[:, -1] != bos", "backoff"),
    bug("smoothing mass not renormalised (discounted mass handed down but never taken "
        "from the seen counts)", "backoff",
        "alpha = np.where(seen, np.maximum(joint - discount, 0.0) / safe, 0.0)",
        "alpha = np.where(seen, joint / safe, 0.0)", "backoff"),
    bug("an unseen context passes nothing down (gamma = 0)", "backoff",
        "gamma = np.where(seen, discount * lookup(ctx_keys, types, context) / safe, 1.0)",
        "gamma = np.where(seen, discount * lookup(ctx_keys, types, context) / safe, 0.0)",
        "backoff", says="γ(c) = 1 passes the shorter context's whole probability down"),
    bug("Kneser-Ney's discount written in, not the argument", "kneser_ney",
        "    bigram_keys = counts[1][0]  # (K₂,)  distinct bigrams",
        "    discount = 0.75\n    bigram_keys = counts[1][0]  # (K₂,)  distinct bigrams",
        "kneser_ney"),
    bug("discount applied twice", "kneser_ney",
        "alpha = np.where(seen, np.maximum(numerator - discount, 0.0) / safe, 0.0)",
        "alpha = np.where(seen, np.maximum(numerator - 2 * discount, 0.0) / safe, 0.0)",
        "kneser_ney"),
    bug("continuation counts replaced by raw counts", "kneser_ney",
        "num_keys, num_counts = continuation_counts(counts[k][0], k, vocab_size)",
        "num_keys, num_counts = raw_keys, raw_counts", "kneser_ney"),
]
