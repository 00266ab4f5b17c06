"""The planted bugs of :mod:`nlpdojo_course.language_models.ngrams`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("<s> = 0 written in, not the argument bos", "windows[windows[:, -1] != «bos → 0»]"),
    bug("a vocabulary of 12 written in, not the argument vocab_size",
        "powers = «vocab_size → 12» ** np.arange(k - 1, -1, -1, dtype=np.int64)"),
    bug("windows spanning two sentences counted",
        "return np.ascontiguousarray(windows«[windows[:, -1] != bos] → », dtype=np.int64)",
        says="such a window spans two sentences"),
    bug("every n-gram holding <s> dropped (first words never predicted)",
        "windows[«windows[:, -1] != bos → ~np.any(windows == bos, axis=1)»]",
        says="the first words of each sentence are never predicted"),
    bug("context counts of every (n-1)-gram of the stream",
        "ctx_keys, ctx_counts = np.unique(ngram_keys(windows[:, :-1], vocab_size),",
        "ctx_keys, ctx_counts = np.unique(ngram_keys(\n"
        "        np.lib.stride_tricks.sliding_window_view(stream, n - 1), vocab_size),",
        says="C(c) counts c as the context of a predicted token"),
    # right values, a Python loop over the tokens: require_vectorized fails it
    bug("n-gram windows by a comprehension over the tokens",
        "windows = np.lib.stride_tricks.sliding_window_view(stream, n)  # (T − n + 1, n)",
        "windows = np.array([stream[i:i + n] for i in range(len(stream) - n + 1)],\n"
        "                       dtype=np.int64).reshape(-1, n)"),
    bug("key digits in the wrong order",
        "vocab_size ** np.arange(k« - 1, -1, -1 → », dtype=np.int64)",
        says="the first id is the most significant digit"),
    bug("δ written in, not the argument",
        "return np.log(joint + «delta) - np.log(context + delta → 0.01) - np.log(context + 0.01» "
        "* vocab_size)  # (M,)"),
    bug("smoothing mass not renormalised (δ missing from the denominator)",
        "np.log(context + delta« * vocab_size → »)"),
    bug("add-δ looks each n-gram up in a Python loop",
        "joint = lookup(ngram_k, ngram_c, ngram_keys(windows, vocab_size))  # (M,)  C(c, w)",
        "joint = np.array([lookup(ngram_k, ngram_c, ngram_keys(w[None], vocab_size))[0]\n"
        "                      for w in windows])"),
    bug("perplexity with the log base mixed up",
        "return float(«np.exp → 2.0 ** »(-np.mean(log_probs)))"),
]
