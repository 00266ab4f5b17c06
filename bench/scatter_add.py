"""Row scatter-add, the gradient of an embedding look-up: our NumPy backend against its peers.

``target[index[i]] += values[i]`` with repeated indices summed, at word2vec's sizes (a
vocabulary of 11k words, D = 100, float32, a batch of 1024 pairs x (1 + 5) rows, indices drawn
from the unigram^0.75 distribution so frequent words repeat). Peers, measured in the same run:

* ``np.add.at`` — NumPy's own unbuffered scatter (the obvious implementation);
* sort + ``np.add.reduceat`` — the first vectorized version of our backend;
* ``torch.Tensor.index_add_`` on the CPU (when torch is installed).

And the weighted form the word2vec trainer uses (``scatter_add_weighted``: rows that are
multiples of the center vectors) against materializing the (B, M, D) block and scattering it.

    python bench/scatter_add.py
"""

from __future__ import annotations

import time

import numpy as np

from nlpdojo.selection import load_backend


def best_ms(fn, repeat: int = 30) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * min(times)


def main() -> None:
    rng = np.random.default_rng(0)
    V, D, B, M = 11_269, 100, 1024, 6
    p = 1.0 / np.arange(1, V + 1) ** 0.75
    index = rng.choice(V, (B, M), p=p / p.sum())  # (B, M)
    values = rng.standard_normal((B * M, D)).astype(np.float32)  # (B M, D)
    weights = rng.standard_normal((B, M)).astype(np.float32)
    rows = rng.standard_normal((B, D)).astype(np.float32)
    target = np.zeros((V, D), np.float32)
    flat = index.reshape(-1)
    backend = load_backend("numpy", None, "float32")

    def reduceat() -> None:
        order = np.argsort(flat, kind="stable")
        s = flat[order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        target[s[starts]] += np.add.reduceat(values[order], starts, axis=0)

    results = {
        "np.add.at (peer)": best_ms(lambda: np.add.at(target, flat, values)),
        "sort + np.add.reduceat": best_ms(reduceat),
        "nlpdojo numpy scatter_add": best_ms(lambda: backend.scatter_add(target, flat, values)),
    }
    try:
        import torch

        t_target, t_index = torch.zeros(V, D), torch.as_tensor(flat)
        t_values = torch.as_tensor(values)
        results["torch index_add_ (CPU)"] = best_ms(
            lambda: t_target.index_add_(0, t_index, t_values))
    except ImportError:
        pass
    peer = results["np.add.at (peer)"]
    print(f"scatter-add of {B * M:,} rows of {D} into ({V:,}, {D}) float32")
    print("| implementation | ms | speed-up over np.add.at |\n|---|---|---|")
    for name, ms in results.items():
        print(f"| {name} | {ms:.3f} | {peer / ms:.1f}x |")

    def materialized() -> None:
        block = weights[:, :, None] * rows[:, None, :]  # (B, M, D)
        backend.scatter_add(target, flat, block.reshape(B * M, D))

    dense = best_ms(materialized)
    weighted = best_ms(lambda: backend.scatter_add_weighted(target, index, weights, rows))
    print(f"\nweighted rows (target[index[b, m]] += w[b, m] * rows[b]), B={B}, M={M}")
    print("| implementation | ms | speed-up |\n|---|---|---|")
    print(f"| build the (B, M, D) block, then scatter_add (peer) | {dense:.3f} | 1.0x |")
    print(f"| scatter_add_weighted: one sparse (V, B) x (B, D) product | {weighted:.3f} | "
          f"{dense / weighted:.1f}x |")


if __name__ == "__main__":
    main()
