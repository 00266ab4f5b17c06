"""The window tagger's held-out accuracy per optimizer, with and without dropout, against the
most-frequent-tag baseline and against the same architecture in plain torch trained with
identical hyper-parameters in the same run (the peer).

Ours: the reference solutions' ``WindowClassifier`` with the course library's softmax
cross-entropy and optimizers, trained by the given loop (``tagger.train_epochs``) on the NumPy
backend. The peer: ``bench/torch_window_tagger.py`` (``nn.Embedding``/``nn.Linear``/tanh/
``nn.Dropout``/``F.cross_entropy``/``torch.optim``), same initialisation scheme, same sizes,
same learning rates, same epochs, batches and example order. Data: OANC (``oanc-pos``),
vocabulary from the training split (words seen once are ``<unk>``), windows of 5, scored on
the whole held-out split (2,000 sentences, 36,729 tokens).

    python bench/tagger_results.py                  # print the table
    python bench/tagger_results.py --write-docs     # and write it into docs/results.md

Torch runs with one intra-op thread. On a small shared machine, give NumPy's BLAS one thread
too (``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``): two threads there made our training 5-10x
slower (docs/benchmarks.md, the window tagger step); accuracies do not depend on it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- neural_networks:begin -->", "<!-- neural_networks:end -->"
COMMAND = "python bench/tagger_results.py --write-docs"


def main() -> None:
    from nlpdojo_course.neural_networks.trainer import DEFAULT_LR, OPTIMIZER_NAMES

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-sentences", type=int, default=4000)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--dim", type=int, default=50)
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--optimizers", default=",".join(OPTIMIZER_NAMES))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args()

    import torch
    from torch_window_tagger import train_and_predict as torch_train_and_predict

    from nlpdojo.selection import load_backend
    from nlpdojo_course.neural_networks.data import (
        most_frequent_tag_accuracy,
        tagging_data,
    )
    from nlpdojo_solutions.neural_networks import tagger

    torch.set_num_threads(1)  # faster than the default on this shared 2-core machine
    be = load_backend("numpy", None, "float32")
    # 0: the whole training split (the full-training table)
    data = tagging_data("oanc-pos", train_sentences=args.train_sentences or None,
                        test_sentences=None)
    baseline = most_frequent_tag_accuracy(data)
    rows = []
    for name in args.optimizers.split(","):
        for dropout in (0.0, args.dropout):
            settings = {"vocab_size": data.vocab_size, "n_tags": data.n_tags, "dim": args.dim,
                        "hidden": args.hidden, "dropout": dropout, "optimizer": name,
                        "lr": DEFAULT_LR[name], "epochs": args.epochs,
                        "batch_size": args.batch_size, "seed": args.seed}
            t = time.perf_counter()
            ours = tagger.train_and_predict(be, data.train_windows, data.train_tags,
                                            data.test_windows, **settings)
            ours_s = time.perf_counter() - t
            t = time.perf_counter()
            peer, _ = torch_train_and_predict(data.train_windows, data.train_tags,
                                              data.test_windows, **settings)
            peer_s = time.perf_counter() - t
            row = (name, DEFAULT_LR[name], dropout,
                   float(np.mean(ours["predicted"] == data.test_tags)),
                   float(np.mean(peer == data.test_tags)), ours_s, peer_s)
            rows.append(row)
            print(f"{name:9} lr {row[1]:<7g} dropout {dropout:<4g} ours {row[3]:.4f} "
                  f"({ours_s:.0f}s)  torch {row[4]:.4f} ({peer_s:.0f}s)", flush=True)

    which = (f"the first {args.train_sentences:,} training sentences" if args.train_sentences
             else "the whole training split")
    setup = (f"OANC (`oanc-pos`): {which} "
             f"({len(data.train_tags):,} tokens; {data.vocab_size:,} words seen twice or more, "
             f"the rest `<unk>`; {data.n_tags} tags), scored on the whole held-out split "
             f"({len(data.test_tags):,} tokens). Windows of 5 words, embeddings of "
             f"{args.dim}, {args.hidden} tanh hidden units, {args.epochs} epoch(s) of "
             f"batches of {args.batch_size}, seed {args.seed}; dropout on the hidden layer. "
             "Learning rates: the defaults of `dojo train tagger` for each optimizer, the "
             "same for both columns; the rest of each optimizer's settings torch's defaults.")
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"Python {platform.python_version()}, NumPy {np.__version__}, torch "
               f"{torch.__version__}")
    table = ["| optimizer | lr | dropout | accuracy: nlpdojo (numpy) | plain torch (peer) | "
             "difference | time ours / torch |", "|---|---|---|---|---|---|---|"]
    for name, lr, dropout, ours, peer, ours_s, peer_s in rows:
        table.append(f"| {name} | {lr:g} | {dropout:g} | {100 * ours:.2f}% | "
                     f"{100 * peer:.2f}% | {100 * (ours - peer):+.2f} | "
                     f"{ours_s:.0f} s / {peer_s:.0f} s |")
    table += [f"| most-frequent-tag baseline | | | {100 * baseline:.2f}% | | | |",
              "| Collobert et al. 2011, window approach, full WSJ (for scale) | | | 96.37% | | "
              "| |"]
    text = (f"{BEGIN}\n# Results: neural networks (topic `neural_networks`)\n\n"
            f"Part-of-speech tagging with the window classifier (Collobert et al. 2011, "
            f"\"the window approach\"), produced by "
            f"`{' '.join(['python bench/tagger_results.py', *sys.argv[1:]])}` "
            f"({time.strftime('%Y-%m-%d')}; {machine}).\n\n{setup}\n\n" + "\n".join(table)
            + "\n\nTimes are wall-clock seconds of the whole run (training and tagging the "
            "held-out split) on a shared machine, torch and NumPy's BLAS single-threaded; they "
            "are not a "
            "benchmark (bench/window_tagger_step.py is, docs/benchmarks.md). With dropout the "
            "two columns draw different masks, so they differ by more than rounding. "
            "Collobert et al. train on the whole WSJ (~950k tokens of training text) "
            "for far longer, with pre-trained embeddings and capitalisation features; the "
            "figure gives the scale of what the architecture reaches, not a like-for-like "
            f"comparison.\n{END}\n")
    print("\n" + "\n".join(table))
    if args.write_docs:
        path = ROOT / "docs" / "results.md"
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if BEGIN in old and END in old:
            new = old[:old.index(BEGIN)] + text + old[old.index(END) + len(END) + 1:]
        else:
            new = old.rstrip("\n") + "\n\n" + text
        path.write_text(new, encoding="utf-8")
        print(f"-> {path}")


if __name__ == "__main__":
    main()
