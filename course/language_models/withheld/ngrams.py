"""The planted bugs of :mod:`nlpdojo_course.language_models.ngrams`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("<s> = 0 written in, not the argument bos", "windows[windows[:, -1] != «bos → 0»]"),
    bug("a vocabulary of 12 written in, not the argument vocab_size", "powers = «vocab_size → 12»"),
    # a student trial: 3 of 3, the keys compared as numbers (exact below 2⁵³)
    bug("n-gram keys computed in float64",
        "powers = vocab_size ** np.arange(k - 1, -1, -1, dtype=«np.int64 → np.float64»)",
        says="not the docstring's int64"),
    bug("windows spanning two sentences counted",
        "windows«[windows[:, -1] != bos] → »", says="such a window spans two sentences"),
    bug("every n-gram holding <s> dropped (first words never predicted)",
        "windows[«windows[:, -1] != bos → ~np.any(windows == bos, axis=1)»]",
        says="the first words of each sentence are never predicted"),
    bug("context counts of every (n-1)-gram of the stream", "np.unique(ngram_keys«(windows[:, "
        ":-1] → (\n        np.lib.stride_tricks.sliding_window_view(stream, n - 1)», vocab_size),",
        says="C(c) counts c as the context of a predicted token"),
    # right values, a Python loop over the tokens: require_vectorized fails it
    bug("n-gram windows by a comprehension over the tokens",
        "windows = «np.lib.stride_tricks.sliding_window_view(stream, n)  # (T − n + 1, n) → "
        "np.array([stream[i:i + n] for i in range(len(stream) - n + 1)],\n"
        "                       dtype=np.int64).reshape(-1, n)»"),
    bug("key digits in the wrong order", "np.arange(k« - 1, -1, -1 → », dtype=np.int64)",
        says="the first id is the most significant digit"),
    bug("δ written in, not the argument",
        "return np.log(joint + «delta → 0.01») - np.log(context + «delta → 0.01» * vocab_size)"),
    bug("smoothing mass not renormalised (δ missing from the denominator)",
        "np.log(context + delta« * vocab_size → »)"),
    bug("add-δ looks each n-gram up in a Python loop",
        "joint = « → np.array([»lookup(ngram_k, ngram_c, ngram_keys(«windows → w[None]», "
        "vocab_size)«)  # (M,)  C(c, w) → )[0]\n                      for w in windows])»"),
    bug("perplexity summed in a Python loop over the tokens",
        "float(np.exp(-«np.mean(log_probs) → sum(float(lp) for lp in log_probs)\n"
        "                       / len(log_probs)»))",
        says="a Python loop over the tokens"),
    bug("perplexity with the log base mixed up", "float(«np.exp( → 2.0 ** (»-np.mean(log_probs)))"),
    # a student trial: 1 of 1 while every log-probability checked was finite
    bug("perplexity leaves the tokens of probability 0 out",
        "return float(np.exp(-np.mean(«log_probs → log_probs[np.isfinite(log_probs)]»)))"),
]
