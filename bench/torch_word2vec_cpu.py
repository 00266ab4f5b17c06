"""Where the torch backend's word2vec time goes on the CPU, and what two fixes gave.

``grade word_vectors --backend torch`` spends most of its time in the training check (skip-gram
with negative sampling, 1 epoch of the SOTU training split). Profiled on the CPU, a step was
dominated by two things NumPy does not pay:

* ``Tensor.index_add_(..., alpha=lr)``: with ``alpha != 1`` torch's CPU kernel is 2-4x slower
  than a scaled copy followed by ``index_add_`` without ``alpha``;
* ``array_api_compat.torch.vecdot``: a batch of (1, D) x (D, 1) matrix products, 3-7x slower
  than ``torch.linalg.vecdot``.

This bench trains the reference solution's ``train_sgns`` on the first ``--words`` tokens of the
grader's SOTU split, interleaving round by round: NumPy (the peer), torch as it was (``before``:
both slow paths restored) and torch now (``after``). It reports the median process CPU time
(this machine is shared: CPU time varies less than wall time) and the final loss of each, which
must agree between ``before`` and ``after``.

    python bench/torch_word2vec_cpu.py [--rounds 3] [--words 300000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager

import array_api_compat.torch as atorch

from nlpdojo.selection import load_backend
from nlpdojo_course.word_vectors.data import prepare_corpus
from nlpdojo_solutions.word_vectors.train import train_sgns
from nlpdojo_torch import backend as tb


@contextmanager
def before():
    """The torch backend as it was: ``alpha`` passed to ``index_add_``, compat's vecdot."""
    cls = tb.TorchBackend
    saved = cls.scatter_add, cls.scatter_add_weighted, tb.install_vecdot

    def scatter_add(self, target, index, values, *, alpha=1.0):
        index = index.reshape(-1)
        values = values.to(target.dtype).reshape(index.shape[0], *target.shape[1:])
        return target.index_add_(0, index, values, alpha=alpha)

    def scatter_add_weighted(self, target, index, weights, rows, *, alpha=1.0):
        B, M = index.shape
        products = (weights[:, :, None] * rows[:, None, :]).to(target.dtype)
        return target.index_add_(0, index.reshape(-1),
                                 products.reshape(B * M, *target.shape[1:]), alpha=alpha)

    cls.scatter_add, cls.scatter_add_weighted = scatter_add, scatter_add_weighted
    tb.install_vecdot = lambda: None
    atorch.vecdot = tb._compat_vecdot
    try:
        yield
    finally:
        cls.scatter_add, cls.scatter_add_weighted, tb.install_vecdot = saved


def run(name: str, corpus, words: int) -> tuple[float, float]:
    backend = load_backend("numpy" if name == "numpy" else "torch", "cpu", "float32")
    start = time.process_time()
    result = train_sgns(backend, corpus.token_ids[:words], corpus.counts, dim=100, window=5,
                        negatives=5, epochs=1, seed=0, progress=False)
    return time.process_time() - start, result.losses[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--words", type=int, default=300_000)
    args = parser.parse_args()
    corpus = prepare_corpus("sotu", split="train")
    times: dict[str, list[float]] = {"numpy": [], "torch before": [], "torch after": []}
    losses: dict[str, float] = {}
    for _ in range(args.rounds):
        for name in times:
            if name == "torch before":
                with before():
                    spent, loss = run(name, corpus, args.words)
            else:
                spent, loss = run(name, corpus, args.words)
            times[name].append(spent)
            losses[name] = loss
    peer = statistics.median(times["numpy"])
    print(f"{args.words:,} words of SOTU, 1 epoch, {args.rounds} rounds, median CPU seconds")
    print("| trainer | CPU s | / NumPy | final loss |\n|---|---|---|---|")
    for name, spent in times.items():
        median = statistics.median(spent)
        print(f"| {name} | {median:.2f} [{min(spent):.2f}-{max(spent):.2f}] | "
              f"{median / peer:.2f}x | {losses[name]:.4f} |")


if __name__ == "__main__":
    main()
