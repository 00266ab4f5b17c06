"""The planted bugs of :mod:`nlpdojo_course.language_models.ngrams`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

from ..ngrams import NGRAMS

BUGS = [
    bug("<s> = 0 written in, not the argument bos", NGRAMS,
        "windows[windows[:, -1] != bos]", "windows[windows[:, -1] != 0]", "ngram_counts"),
    bug("a vocabulary of 12 written in, not the argument vocab_size", NGRAMS,
        "powers = vocab_size ** np.arange(k - 1, -1, -1, dtype=np.int64)",
        "powers = 12 ** np.arange(k - 1, -1, -1, dtype=np.int64)", "ngram_counts"),
    bug("windows spanning two sentences counted", NGRAMS,
        "return np.ascontiguousarray(windows[windows[:, -1] != bos], dtype=np.int64)",
        "return np.ascontiguousarray(windows, dtype=np.int64)", "ngram_counts",
        says="such a window spans two sentences"),
    bug("every n-gram holding <s> dropped (first words never predicted)", NGRAMS,
        "windows[windows[:, -1] != bos]", "windows[~np.any(windows == bos, axis=1)]",
        "ngram_counts", says="the first words of each sentence are never predicted"),
    bug("context counts of every (n-1)-gram of the stream", NGRAMS,
        "ctx_keys, ctx_counts = np.unique(ngram_keys(windows[:, :-1], vocab_size),",
        "ctx_keys, ctx_counts = np.unique(ngram_keys(\n"
        "        np.lib.stride_tricks.sliding_window_view(stream, n - 1), vocab_size),",
        "ngram_counts", says="C(c) counts c as the context of a predicted token"),
    # right values, a Python loop over the tokens: require_vectorized fails it
    bug("n-gram windows by a comprehension over the tokens", NGRAMS,
        "windows = np.lib.stride_tricks.sliding_window_view(stream, n)  # (T − n + 1, n)",
        "windows = np.array([stream[i:i + n] for i in range(len(stream) - n + 1)],\n"
        "                       dtype=np.int64).reshape(-1, n)", "ngram_counts"),
    bug("key digits in the wrong order", NGRAMS,
        "vocab_size ** np.arange(k - 1, -1, -1, dtype=np.int64)",
        "vocab_size ** np.arange(k, dtype=np.int64)", "ngram_counts",
        says="the first id is the most significant digit"),
    bug("δ written in, not the argument", NGRAMS,
        "return np.log(joint + delta) - np.log(context + delta * vocab_size)  # (M,)",
        "return np.log(joint + 0.01) - np.log(context + 0.01 * vocab_size)  # (M,)",
        "add_delta"),
    bug("smoothing mass not renormalised (δ missing from the denominator)", NGRAMS,
        "np.log(context + delta * vocab_size)", "np.log(context + delta)", "add_delta"),
    bug("add-δ looks each n-gram up in a Python loop", NGRAMS,
        "joint = lookup(ngram_k, ngram_c, ngram_keys(windows, vocab_size))  # (M,)  C(c, w)",
        "joint = np.array([lookup(ngram_k, ngram_c, ngram_keys(w[None], vocab_size))[0]\n"
        "                      for w in windows])", "add_delta"),
    bug("perplexity with the log base mixed up", NGRAMS,
        "return float(np.exp(-np.mean(log_probs)))",
        "return float(2.0 ** (-np.mean(log_probs)))", "perplexity"),
]
