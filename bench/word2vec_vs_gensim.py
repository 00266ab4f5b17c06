"""Our skip-gram (NumPy, torch) and count+SVD against gensim's ``Word2Vec``, in one run.

Same corpus (the ``sotu`` data set unless ``--corpus``), same vocabulary (min_count 5), same
hyper-parameters (skip-gram, dim 100, window 5, negative 5, sample 1e-3, linear lr decay from
0.025); gensim is timed with 1 worker thread and with every core. Every model is evaluated by
the same code (the grader's trusted metrics, ``nlpdojo_autograder.topics.word_vector_metrics``:
WordSim-353 and SimLex-999 Spearman, 3CosAdd on the Google analogies over the 30k most frequent
words).

    python bench/word2vec_vs_gensim.py                      # quick: 1 epoch
    python bench/word2vec_vs_gensim.py --full --write-docs  # 5 epochs; writes docs/results.md
                                                            # and docs/benchmarks.md
    python bench/word2vec_vs_gensim.py --backends numpy,torch:cuda   # on a GPU

Speed is raw corpus words (before subsampling) per second of training (corpus preparation and
gensim's vocabulary scan excluded), wall clock and CPU time; the ratios compare the two.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from nlpdojo_autograder.topics.word_vectors_data import (
    evaluate_vectors,
    evaluation_sets,
    prepare_corpus,
)
from nlpdojo_solutions.word_vectors import count_based, train

ROOT = Path(__file__).resolve().parents[1]


def run_gensim(corpus, args, workers: int) -> dict:
    from gensim.models import Word2Vec

    words = np.array(corpus.words, dtype=object)
    sentences = [words[corpus.token_ids[i:i + 10_000]].tolist()
                 for i in range(0, corpus.token_ids.shape[0], 10_000)]
    model = Word2Vec(vector_size=args.dim, window=args.window, negative=args.negatives,
                     min_count=5, sample=1e-3, sg=1, hs=0, alpha=0.025, min_alpha=0.0001,
                     workers=workers, seed=args.seed)
    model.build_vocab(sentences)
    wall, cpu = time.perf_counter(), time.process_time()
    model.train(sentences, total_examples=len(sentences), epochs=args.epochs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    vectors = np.stack([model.wv[w] for w in corpus.words])  # our word order
    return {"name": f"gensim Word2Vec (workers={workers})", "vectors": vectors, "wall": wall,
            "cpu": cpu, "words": corpus.token_ids.shape[0] * args.epochs}


def run_ours(corpus, args, backend_name: str) -> dict:
    from nlpdojo.selection import load_backend

    name, _, device = backend_name.partition(":")  # "torch:cuda" -> torch on cuda
    backend = load_backend(name, device or None, "float32")
    cpu = time.process_time()
    result = train.train_sgns(backend, corpus.token_ids, corpus.counts, dim=args.dim,
                              window=args.window, negatives=args.negatives, epochs=args.epochs,
                              batch_size=args.batch_size, lr=0.025, subsample=1e-3,
                              seed=args.seed, progress=False)
    cpu = time.process_time() - cpu
    return {"name": f"nlpdojo skip-gram SGNS ({backend.name}/{backend.device})",
            "vectors": result.center_vectors, "wall": result.seconds, "cpu": cpu,
            "words": result.words}


def run_svd(corpus, args) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    counts = count_based.cooccurrence_matrix(corpus.token_ids, len(corpus.words), args.window)
    vectors = count_based.svd_vectors(counts, args.dim, seed=args.seed)
    return {"name": "nlpdojo count + PPMI + SVD", "vectors": vectors,
            "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "words": None}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", default="sotu")
    p.add_argument("--full", action="store_true", help="5 epochs (gensim's default)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negatives", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backends", default="numpy,torch",
                   help="comma-separated; a device after a colon: numpy,torch:cuda")
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args()
    args.epochs = args.epochs or (5 if args.full else 1)

    corpus = prepare_corpus(args.corpus, min_count=5)
    sets = evaluation_sets()
    print(f"{args.corpus}: {corpus.token_ids.shape[0]:,} tokens, {len(corpus.words):,} words; "
          f"{args.epochs} epoch(s)", flush=True)
    # gensim with one worker (the speed reference) and with every core of the machine
    runs = [run_gensim(corpus, args, 1), run_gensim(corpus, args, max(2, os.cpu_count() or 2))]
    for name in [b for b in args.backends.split(",") if b]:
        try:
            runs.append(run_ours(corpus, args, name))
        except Exception as exc:  # noqa: BLE001 - e.g. torch not installed: report, go on
            print(f"skipping backend {name}: {exc}")
    runs.append(run_svd(corpus, args))
    for r in runs:
        r.update(evaluate_vectors(r["vectors"], corpus.word2ind, sets))
        print(f"{r['name']}: wall {r['wall']:.1f}s cpu {r['cpu']:.1f}s "
              f"WS353 {r['wordsim353']:.3f} SL999 {r['simlex999']:.3f} "
              f"analogy {r['analogy']:.4f}", flush=True)

    base = runs[0]
    quality = ["| model | WordSim-353 ρ | SimLex-999 ρ | analogy acc. (3CosAdd) |",
               "|---|---|---|---|"]
    speed = ["| model | words/s (wall) | × gensim 1 worker (wall) | words/s (CPU time) "
             "| × gensim 1 worker (CPU) |", "|---|---|---|---|---|"]
    for r in runs:
        quality.append(f"| {r['name']} | {r['wordsim353']:.3f} | {r['simlex999']:.3f} "
                       f"| {r['analogy']:.3f} |")
        if r["words"]:
            wps, cps = r["words"] / r["wall"], r["words"] / r["cpu"]
            speed.append(f"| {r['name']} | {wps:,.0f} | {wps / (base['words'] / base['wall']):.2f} "
                         f"| {cps:,.0f} | {cps / (base['words'] / base['cpu']):.2f} |")
        else:
            speed.append(f"| {r['name']} | (counting + SVD: {r['wall']:.1f}s wall) | | | |")
    n = runs[0]
    coverage = (f"Evaluated on {n['wordsim353_n']} of 353 WordSim-353 pairs, {n['simlex999_n']} of "
                f"999 SimLex-999 pairs and {n['analogy_n']:,} of 19,544 analogy questions (the "
                f"others use a word outside the vocabulary).")
    print("\n".join(quality), "\n", "\n".join(speed), "\n", coverage, sep="\n")
    if args.write_docs:
        write_docs(args, corpus, quality, speed, coverage)


def write_docs(args, corpus, quality, speed, coverage) -> None:
    import gensim

    command = "python bench/word2vec_vs_gensim.py --full --write-docs"
    setup = (f"Corpus `{args.corpus}` ({corpus.token_ids.shape[0]:,} tokens after dropping "
             f"numbers, punctuation and words seen < 5 times; {len(corpus.words):,} words), "
             f"{args.epochs} epochs, skip-gram, dim {args.dim}, window {args.window}, "
             f"{args.negatives} negatives, sample 1e-3, lr 0.025 → 0.0001 linear, seed "
             f"{args.seed}; our batch size {args.batch_size} pairs; count+SVD: window "
             f"{args.window}, PPMI with context smoothing 0.75, rank {args.dim}, U·S^½.")
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}, NumPy {np.__version__}, gensim "
               f"{gensim.__version__}")
    results = ROOT / "docs" / "results.md"
    # other topics' sections (bench/tagger_results.py) follow ours: keep them
    others = results.read_text(encoding="utf-8") if results.exists() else ""
    others = others[others.index("<!-- "):] if "<!-- " in others else ""
    results.write_text(
        "# Results: word vectors (topic `word_vectors`)\n\n"
        f"Produced by `{command}`.\n\n{setup}\n\n" + "\n".join(quality) + f"\n\n{coverage}\n"
        + (f"\n{others}" if others else ""), encoding="utf-8")
    bench = ROOT / "docs" / "benchmarks.md"
    head = bench.read_text(encoding="utf-8").split("<!-- generated -->")[0] if bench.exists() \
        else "# Benchmarks\n\n"
    bench.write_text(
        head + "<!-- generated -->\n"
        f"## Last run of `{command}`\n\nMachine: {machine}.\n\n{setup}\n\n"
        + "\n".join(speed) + "\n\n" + "\n".join(quality) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
