"""Our skip-gram (NumPy, torch) and count+SVD against gensim's ``Word2Vec``, interleaved rounds.

Same corpus (the ``sotu`` data set unless ``--corpus``), same vocabulary (min_count 5), same
hyper-parameters (skip-gram, dim 100, window 5, negative 5, sample 1e-3, linear lr decay from
0.025), **one thread each**: gensim with ``workers=1``, our NumPy trainer with one BLAS thread
(the NumPy backend's policy, applied here to every BLAS in the process before anything runs).
Every model is evaluated by the same code (the grader's trusted metrics,
``nlpdojo_course.word_vectors.metrics``: WordSim-353 and SimLex-999 Spearman, 3CosAdd
on the Google analogies).

Each configuration runs ``--rounds`` times, the trainers interleaved and the order rotated
every round (so neither always runs first, after the other's cache traffic); a round's seed is
``--seed`` + round, the same for every trainer. Reported: the median over rounds and the spread
[min-max] of words/s in wall-clock and in CPU time, and of the per-round ratio ours / gensim
(a round's two runs ran back to back, under the same load). The machine (CPU, cores, BLAS and
its threads, load average) is printed with every figure.

    python bench/word2vec_vs_gensim.py                         # 1 epoch, 3 rounds, NumPy
    python bench/word2vec_vs_gensim.py --epochs 1,5 --scaling --write-docs   # the docs' figures
    python bench/word2vec_vs_gensim.py --backends numpy,torch:cuda --all-cores   # on a GPU box

Speed is raw corpus words (before subsampling) per second of training (corpus preparation and
gensim's vocabulary scan excluded).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _machine import machine, ratios, spread  # bench/ is on sys.path when a bench runs

ROOT = Path(__file__).resolve().parents[1]
GENSIM = "gensim Word2Vec (workers=1)"
#: the scaling table: fractions of the corpus at dim 100, vector sizes on the whole corpus
FRACTIONS, DIMS = (8, 4, 2, 1), (50, 100, 300)


def sentences_of(corpus, tokens: int) -> list[list[str]]:
    """The first ``tokens`` words of the corpus as gensim's input: "sentences" of 10k words,
    the chunks our trainer's windows do not cross either."""
    words = np.array(corpus.words, dtype=object)
    return [words[corpus.token_ids[i:min(i + 10_000, tokens)]].tolist()
            for i in range(0, tokens, 10_000)]


def run_gensim(corpus, args, *, seed: int, epochs: int, dim: int, tokens: int,
               workers: int = 1) -> dict:
    """gensim trains on the first ``tokens`` words; its vocabulary is the whole corpus's (ours)."""
    from gensim.models import Word2Vec

    model = Word2Vec(vector_size=dim, window=args.window, negative=args.negatives,
                     min_count=5, sample=1e-3, sg=1, hs=0, alpha=0.025, min_alpha=0.0001,
                     workers=workers, seed=seed)
    model.build_vocab(args.sentences)  # the whole corpus: the same vocabulary as ours
    sentences = args.sentences if tokens == corpus.token_ids.shape[0] \
        else sentences_of(corpus, tokens)
    wall, cpu = time.perf_counter(), time.process_time()
    model.train(sentences, total_examples=len(sentences), epochs=epochs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "words": tokens * epochs,
            "vectors": lambda: np.stack([model.wv[w] for w in corpus.words])}  # our word order


def run_ours(corpus, args, backend, *, seed: int, epochs: int, dim: int, tokens: int) -> dict:
    from nlpdojo_solutions.word_vectors import train

    cpu = time.process_time()
    result = train.train_sgns(backend, corpus.token_ids, corpus.counts, dim=dim,
                              window=args.window, negatives=args.negatives, epochs=epochs,
                              batch_size=args.batch_size, lr=0.025, subsample=1e-3, seed=seed,
                              max_words=tokens, progress=False)
    cpu = time.process_time() - cpu
    return {"wall": result.seconds, "cpu": cpu, "words": result.words,
            "vectors": lambda: result.center_vectors}


def interleaved(rounds: int, sides: dict[str, Callable[[int], dict]], *,
                evaluate: Callable[[np.ndarray], dict] | None = None,
                label: str = "") -> dict[str, list[dict]]:
    """``rounds`` runs of every side, in an order rotated each round; a run gets the round's
    index (its seed offset). Each run records words/s (wall, CPU), the load average before it
    and, with ``evaluate``, the metrics of its vectors."""
    names = list(sides)
    out: dict[str, list[dict]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            load = os.getloadavg()[0]
            run = sides[name](r)
            vectors = run.pop("vectors")
            run.update(load=load, wps=run["words"] / run["wall"], cps=run["words"] / run["cpu"])
            if evaluate is not None:
                run.update(evaluate(vectors()))
            out[name].append(run)
            print(f"  {label}round {r + 1}/{rounds} {name}: {run['wps']:,.0f} words/s wall, "
                  f"{run['cps']:,.0f} CPU (load {load:.2f})"
                  + (f", WS353 {run['wordsim353']:.3f} SL999 {run['simlex999']:.3f} analogy "
                     f"{run['analogy']:.3f}" if evaluate is not None else ""), flush=True)
    return out


def speed_rows(runs: dict[str, list[dict]]) -> list[str]:
    """The speed table of one configuration: words/s and the per-round ratios to gensim."""
    base = runs[GENSIM]
    rows = ["| model | words/s, wall | words/s, CPU | × gensim (wall), per round | "
            "× gensim (CPU), per round |", "|---|---|---|---|---|"]
    for name, rs in runs.items():
        wall = ratios([r["wps"] for r in rs], [r["wps"] for r in base])
        cpu = ratios([r["cps"] for r in rs], [r["cps"] for r in base])
        bold = "**" if name != GENSIM else ""
        rows.append(f"| {name} | {spread([r['wps'] for r in rs], '{:,.0f}')} "
                    f"| {spread([r['cps'] for r in rs], '{:,.0f}')} "
                    f"| {bold}{spread(wall)}{bold} | {bold}{spread(cpu)}{bold} |")
    return rows


def quality_rows(runs: dict[str, list[dict]]) -> list[str]:
    """Median [min-max] over rounds (seeds) of each metric, and the median's gap to gensim's."""
    keys = ("wordsim353", "simlex999", "analogy")
    base = {k: statistics.median(r[k] for r in runs[GENSIM]) for k in keys}
    rows = ["| model | WordSim-353 ρ | SimLex-999 ρ | analogy acc. (3CosAdd) | "
            "gap to gensim (medians) |", "|---|---|---|---|---|"]
    for name, rs in runs.items():
        gaps = ", ".join(f"{statistics.median(r[k] for r in rs) - base[k]:+.3f}" for k in keys)
        rows.append(f"| {name} | " + " | ".join(spread([r[k] for r in rs], "{:.3f}")
                                                for k in keys)
                    + f" | {gaps if name != GENSIM else ''} |")
    return rows


def loads(runs: dict[str, list[dict]]) -> str:
    values = [r["load"] for rs in runs.values() for r in rs]
    return f"load average (1 min) before the runs {min(values):.2f}-{max(values):.2f}"


def scaling(corpus, args, ours: dict[str, Callable]) -> list[str]:
    """Words/s against corpus size (dim 100) and against vector size (whole corpus), gensim and
    ours interleaved, 1 epoch each; the table's rows."""
    n = corpus.token_ids.shape[0]
    configs = [(n // f, 100) for f in FRACTIONS] + [(n, d) for d in DIMS if d != 100]
    rows = ["| corpus words | dim | " + " | ".join(f"{name}: words/s wall (CPU)"
                                                  for name in [GENSIM, *ours])
            + " | × gensim (CPU), per round |", "|---|---|" + "---|" * (len(ours) + 2)]
    for tokens, dim in configs:
        sides = {GENSIM: lambda r, t=tokens, d=dim: run_gensim(
            corpus, args, seed=args.seed + r, epochs=1, dim=d, tokens=t)}
        sides.update({name: (lambda r, f=f, t=tokens, d=dim: f(r, 1, d, t))
                      for name, f in ours.items()})
        runs = interleaved(args.rounds, sides, label=f"{tokens:,} words, dim {dim}: ")
        cells = [f"{spread([r['wps'] for r in rs], '{:,.0f}')} "
                 f"({statistics.median(r['cps'] for r in rs):,.0f})" for rs in runs.values()]
        first = next(iter(ours))
        cpu = ratios([r["cps"] for r in runs[first]], [r["cps"] for r in runs[GENSIM]])
        rows.append(f"| {tokens:,} | {dim} | " + " | ".join(cells) + f" | {spread(cpu)} |")
        print(rows[-1], f"({machine()})", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", default="sotu")
    p.add_argument("--epochs", default="1", help="comma-separated: one comparison per count")
    p.add_argument("--full", action="store_true", help="same as --epochs 5")
    p.add_argument("--rounds", type=int, default=3, help="interleaved runs of each trainer")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negatives", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=None,
                   help="ours: pairs per step (default: the trainer's, by vector size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backends", default="numpy",
                   help="ours, comma-separated; a device after a colon: numpy,torch:cuda")
    p.add_argument("--all-cores", action="store_true",
                   help="also gensim with one worker per core (not a like-for-like figure)")
    p.add_argument("--svd", action="store_true", help="also the count+PPMI+SVD baseline")
    p.add_argument("--scaling", action="store_true",
                   help="words/s against corpus size and vector size (1 epoch)")
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args()
    epoch_counts = [5] if args.full else [int(e) for e in args.epochs.split(",") if e]

    from nlpdojo.selection import load_backend
    from nlpdojo_course.word_vectors.data import (
        evaluate_vectors,
        evaluation_sets,
        prepare_corpus,
    )

    backends = {}
    for spec in [b for b in args.backends.split(",") if b]:
        name, _, device = spec.partition(":")  # "torch:cuda" -> torch on cuda
        try:
            be = load_backend(name, device or None, "float32")  # numpy: one BLAS thread
        except Exception as exc:  # noqa: BLE001 - e.g. torch not installed: report, go on
            print(f"skipping backend {spec}: {exc}")
            continue
        backends[f"nlpdojo skip-gram SGNS ({be.name}/{be.device})"] = be
    import gensim.models  # noqa: F401 - loads SciPy's BLAS, so that the limit reaches it too
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # every BLAS in the process, gensim's too

    corpus = prepare_corpus(args.corpus, min_count=5)
    args.sentences = sentences_of(corpus, corpus.token_ids.shape[0])
    sets = evaluation_sets()
    n = corpus.token_ids.shape[0]
    start = machine()
    print(f"{args.corpus}: {n:,} tokens, {len(corpus.words):,} words; {start}", flush=True)

    def ours_at(be):
        return lambda r, epochs, dim, tokens: run_ours(corpus, args, be, seed=args.seed + r,
                                                       epochs=epochs, dim=dim, tokens=tokens)

    ours = {name: ours_at(be) for name, be in backends.items()}
    sections = []
    for epochs in epoch_counts:
        sides = {GENSIM: lambda r, e=epochs: run_gensim(corpus, args, seed=args.seed + r,
                                                        epochs=e, dim=args.dim, tokens=n)}
        if args.all_cores:
            sides[f"gensim Word2Vec (workers={os.cpu_count()})"] = (
                lambda r, e=epochs: run_gensim(corpus, args, seed=args.seed + r, epochs=e,
                                               dim=args.dim, tokens=n, workers=os.cpu_count()))
        sides.update({name: (lambda r, f=f, e=epochs: f(r, e, args.dim, n))
                      for name, f in ours.items()})
        runs = interleaved(args.rounds, sides, label=f"{epochs} epoch(s): ",
                           evaluate=lambda v: evaluate_vectors(v, corpus.word2ind, sets))
        speed, quality = speed_rows(runs), quality_rows(runs)
        where = f"Machine: {machine()}; {loads(runs)}."
        print("\n".join([where, "", *speed, "", *quality]), flush=True)
        sections.append((epochs, where, speed, quality))
    first = next(iter(runs.values()))[0] if epoch_counts else {}
    args.coverage = (f"Evaluated on {first.get('wordsim353_n')} of 353 WordSim-353 pairs, "
                     f"{first.get('simlex999_n')} of 999 SimLex-999 pairs and "
                     f"{first.get('analogy_n', 0):,} of 19,544 analogy questions (the others "
                     f"use a word outside the vocabulary).")
    svd = run_svd(corpus, args, evaluate_vectors, sets) if args.svd else None
    table = scaling(corpus, args, ours) if args.scaling else None
    if table:
        print("\n".join(table))
    if args.write_docs:
        write_docs(args, corpus, start, sections, svd, table)


def batch_words(args) -> str:
    """Our minibatch, as the table's set-up states it."""
    if args.batch_size:
        return f"{args.batch_size} pairs"
    from nlpdojo_solutions.word_vectors.train import BATCH_FLOATS, MAX_BATCH, default_batch_size

    return (f"the trainer's default, {MAX_BATCH:,} pairs up to dim {BATCH_FLOATS // MAX_BATCH}"
            f" and {BATCH_FLOATS:,} / dim above ({default_batch_size(300)} at dim 300)")


def run_svd(corpus, args, evaluate_vectors, sets) -> str:
    from nlpdojo_solutions.word_vectors import count_based

    wall = time.perf_counter()
    counts = count_based.cooccurrence_matrix(corpus.token_ids, len(corpus.words), args.window)
    vectors = count_based.svd_vectors(counts, args.dim, seed=args.seed)
    wall = time.perf_counter() - wall
    m = evaluate_vectors(vectors, corpus.word2ind, sets)
    row = (f"| nlpdojo count + PPMI + SVD ({wall:.1f} s: counting and SVD) | "
           f"{m['wordsim353']:.3f} | {m['simlex999']:.3f} | {m['analogy']:.3f} | |")
    print(row)
    return row


def write_docs(args, corpus, start, sections, svd, table) -> None:
    import gensim

    command = ("python bench/word2vec_vs_gensim.py --epochs "
               f"{','.join(str(e) for e, *_ in sections)} --rounds {args.rounds}"
               + (" --svd" if svd else "") + (" --scaling" if table else "") + " --write-docs")
    setup = (f"Corpus `{args.corpus}` ({corpus.token_ids.shape[0]:,} tokens after dropping "
             f"numbers, punctuation and words seen < 5 times; {len(corpus.words):,} words), "
             f"skip-gram, dim {args.dim}, window {args.window}, {args.negatives} negatives, "
             f"sample 1e-3, lr 0.025 → 0.0001 linear; our batch size {batch_words(args)}; "
             f"one thread each; {args.rounds} rounds interleaved, seeds {args.seed}.."
             f"{args.seed + args.rounds - 1}: medians [min-max] over rounds. Python "
             f"{sys.version.split()[0]}, NumPy {np.__version__}, gensim {gensim.__version__}.")
    body = [f"## Last run of `{command}`", "", f"Machine at the start: {start}.", "", setup]
    quality_md = []
    for epochs, where, speed, quality in sections:
        body += ["", f"### {epochs} epoch(s)", "", where, "", *speed, "", *quality]
        quality_md += ["", f"{epochs} epoch(s), {args.rounds} seeds, medians [min-max]:", "",
                       *quality, *([svd] if svd else [])]
    if table:
        body += ["", "### Scaling: words/s against corpus size and vector size (1 epoch)", "",
                 f"The first 1/8, 1/4, 1/2 and all of the corpus at dim 100, then dims 50 and "
                 f"300 on the whole corpus; words/s: median [min-max] over {args.rounds} rounds "
                 f"(CPU time: median); ratio: ours / gensim per round, CPU time. Machine at "
                 f"the end: {machine()}.", "", *table]
    bench = ROOT / "docs" / "benchmarks.md"
    head = bench.read_text(encoding="utf-8").split("<!-- generated -->")[0] if bench.exists() \
        else "# Benchmarks\n\n"
    bench.write_text(head + "<!-- generated -->\n" + "\n".join(body) + "\n", encoding="utf-8")
    results = ROOT / "docs" / "results.md"
    # other topics' sections (bench/tagger_results.py) follow ours: keep them
    others = results.read_text(encoding="utf-8") if results.exists() else ""
    others = others[others.index("<!-- "):] if "<!-- " in others else ""
    results.write_text(
        "# Results: word vectors (topic `word_vectors`)\n\n"
        f"Produced by `{command}` (speed: docs/benchmarks.md).\n\n{setup}\n"
        + "\n".join(quality_md) + f"\n\n{args.coverage}\n" + (f"\n{others}" if others else ""),
        encoding="utf-8")


if __name__ == "__main__":
    main()
