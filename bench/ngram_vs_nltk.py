"""N-gram language models: our vectorized NumPy reference against ``nltk.lm`` (the peer), same
data, same run.

State of the Union addresses (the first ``--addresses`` of the train split for training, the
first ``--test-sentences`` sentences of the test split held out), an order-``--order`` model,
the same vocabulary (words seen twice, ``<UNK>``) and padding. Two stages, each timed end to end
from sentences of tokens, medians of ``--repeat`` runs:

* **count**: ours ``Vocabulary.build`` + ``stream`` + ``count_ngrams`` (add-δ) or
  ``everygram_counts`` (Kneser-Ney); nltk ``Vocabulary`` + ``fit(everygrams)``;
* **score**: the held-out perplexity; ours ``stream`` + ``ngram_windows`` + log-probabilities +
  ``perplexity``; nltk ``perplexity`` over the padded n-grams.

Add-δ (``Lidstone``) is scored on the whole held-out set by both. nltk's Kneser-Ney looks every
continuation count up by a scan over all (k+1)-grams (``KneserNey._continuation_counts``), so
it scores only the first ``--kn-ngrams`` held-out n-grams and the ratio is per n-gram; the two
perplexities are compared on that same slice. Every perplexity is printed next to nltk's (they
must agree to 1e-9).

    python bench/ngram_vs_nltk.py [--order 3] [--addresses 40] [--test-sentences 5000]
                                  [--kn-ngrams 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import numpy as np
from _machine import machine  # bench/ is on sys.path when a bench runs

ROOT = Path(__file__).resolve().parents[1]


def timed(f, *args):
    t0 = time.perf_counter()
    out = f(*args)
    return time.perf_counter() - t0, out


def ours_count(train, n, smoothing):
    from nlpdojo.text import ngram_corpus as corpus
    from nlpdojo_solutions.language_models import backoff, ngrams

    vocab = corpus.Vocabulary.build(train, n, min_count=2)
    stream = vocab.stream(train, n)
    bos = vocab.id(corpus.BOS)
    if smoothing == "add-delta":
        return vocab, ngrams.count_ngrams(stream, n, len(vocab), bos)
    return vocab, backoff.everygram_counts(stream, n, len(vocab), bos)


def ours_score(model, test, n, smoothing, param, limit=None):
    from nlpdojo.text import ngram_corpus as corpus
    from nlpdojo_solutions.language_models import kneser_ney, ngrams

    vocab, counts = model
    windows = ngrams.ngram_windows(vocab.stream(test, n), n, vocab.id(corpus.BOS))[:limit]
    if smoothing == "add-delta":
        log_probs = ngrams.add_delta_log_probs(counts, windows, len(vocab), param)
    else:
        log_probs = kneser_ney.kneser_ney_log_probs(counts, windows, len(vocab), param)
    return len(windows), ngrams.perplexity(log_probs)


def nltk_count(train, n, smoothing, param):
    from nltk import lm
    from nltk.util import everygrams

    from nlpdojo.text import ngram_corpus as corpus

    padded = [corpus.pad(s, n) for s in train]
    vocab = lm.Vocabulary([t for s in padded for t in s], unk_cutoff=2)
    model = (lm.Lidstone(param, n, vocabulary=vocab) if smoothing == "add-delta" else
             lm.KneserNeyInterpolated(n, discount=param, vocabulary=vocab))
    model.fit([everygrams(s, max_len=n) for s in padded])
    return model


def nltk_score(model, test, n, limit=None):
    from nltk.util import ngrams

    from nlpdojo.text import ngram_corpus as corpus

    grams = [g for s in test for g in ngrams(corpus.pad(s, n), n)][:limit]
    return len(grams), model.perplexity(grams)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--order", type=int, default=3)
    parser.add_argument("--addresses", type=int, default=40)
    parser.add_argument("--test-sentences", type=int, default=5000)
    parser.add_argument("--kn-ngrams", type=int, default=200)
    parser.add_argument("--delta", type=float, default=0.01)
    parser.add_argument("--discount", type=float, default=0.75)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import nltk.lm  # noqa: F401 - imports are not timed
    import nltk.util  # noqa: F401

    import nlpdojo_solutions.language_models.kneser_ney  # noqa: F401
    from nlpdojo_course.language_models.data import sotu_sentences

    n = args.order
    train = sotu_sentences("train", args.addresses)
    test = sotu_sentences("test", None)[:args.test_sentences]
    tokens = sum(len(s) + n for s in train)
    print(f"machine: {machine()}")
    print(f"sotu: {len(train):,} training sentences ({tokens:,} padded tokens, "
          f"{args.addresses} addresses), {len(test):,} held-out sentences; order {n}; "
          f"medians of {args.repeat} runs, ours and nltk interleaved")
    rows = []
    for smoothing, param, limit in (("add-delta", args.delta, None),
                                    ("kneser-ney", args.discount, args.kn_ngrams)):
        times: dict[str, list[float]] = {k: [] for k in ("oc", "os", "nc", "ns")}
        for _ in range(args.repeat):
            t, model = timed(ours_count, train, n, smoothing)
            times["oc"].append(t)
            t, (m_ours, ppl_ours) = timed(ours_score, model, test, n, smoothing, param)
            times["os"].append(t / m_ours)
            t, lm = timed(nltk_count, train, n, smoothing, param)
            times["nc"].append(t)
            t, (m_nltk, ppl_nltk) = timed(nltk_score, lm, test, n, limit)
            times["ns"].append(t / m_nltk)
        _, same = ours_score(model, test, n, smoothing, param, limit=m_nltk)
        assert math.isclose(same, ppl_nltk, rel_tol=1e-9), (same, ppl_nltk)
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append((smoothing, med, m_ours, m_nltk, ppl_ours, same, ppl_nltk))
    print()
    print("| model | stage | ours | nltk.lm | ratio |")
    print("|---|---|---|---|---|")
    for smoothing, med, m_ours, m_nltk, _, same, ppl_nltk in rows:
        name = {"add-delta": f"add-δ order {n} (Lidstone δ={args.delta})",
                "kneser-ney": f"Kneser-Ney order {n} (d={args.discount})"}[smoothing]
        print(f"| {name} | count ({tokens:,} tokens) | {med['oc']:.2f} s | {med['nc']:.2f} s | "
              f"**{med['nc'] / med['oc']:.1f}x** |")
        print(f"| {name} | score, per held-out n-gram (ours {m_ours:,}, nltk {m_nltk:,}) | "
              f"{med['os'] * 1e6:.2f} us | {med['ns'] * 1e6:.1f} us | "
              f"**{med['ns'] / med['os']:.0f}x** |")
        print(f"| {name} | perplexity | {same:.6f} | {ppl_nltk:.6f} | equal |")
    print("\nthe perplexity row is over the n-grams nltk scored (the whole held-out set for "
          "add-δ); ours over all held-out n-grams: " +
          ", ".join(f"{r[0]} {r[4]:.3f}" for r in rows))


if __name__ == "__main__":
    np.seterr(divide="ignore")
    main()
