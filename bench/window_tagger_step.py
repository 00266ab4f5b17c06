"""One training step of the window tagger: our NumPy backend against plain torch on the CPU.

The step is what ``dojo train tagger`` repeats: embedding look-up of a batch of windows,
concatenation, Linear → tanh → Linear, softmax cross-entropy, the backward pass through all of
it (the embedding's gradient scattered into its rows) and an Adam update of every parameter.

* **nlpdojo numpy**: the reference ``WindowClassifier`` (course library: ``Embedding``,
  ``Linear``, ``Tanh``, ``Dropout`` at p = 0), ``SoftmaxCrossEntropy`` and ``Adam``, float32;
* **torch cpu** (the peer, ``bench/torch_window_tagger.py``): ``nn.Embedding``, ``nn.Linear``,
  ``nn.Tanh``, ``F.cross_entropy`` and ``torch.optim.Adam`` with the same sizes and settings,
  float32, torch's default intra-op threads.

Sizes are the full OANC training split's (``dojo train tagger`` defaults): V words seen twice
or more, windows of 5, D = 50, H = 100, the tag set, batches of 64 (``--batch-size`` for
others). Both run in the same process, interleaved round by round (a change in the machine's
load hits both alike), each round ``--steps`` steps on fresh batches; the table gives the
median per-step time and the ratio torch / numpy (> 1: NumPy is faster).

    python bench/window_tagger_step.py [--rounds 15] [--steps 50] [--batch-size 64]
                                       [--torch-threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch intra-op threads (0: torch's default)")
    args = parser.parse_args()

    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    from torch_window_tagger import make_model, step

    from nlpdojo.selection import load_backend
    from nlpdojo_course.neural_networks.data import tagging_data
    from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy
    from nlpdojo_solutions.library.optim import Adam
    from nlpdojo_solutions.neural_networks.window import WindowClassifier

    data = tagging_data("oanc-pos", train_sentences=None, test_sentences=None)
    v, w, c, b = data.vocab_size, data.train_windows.shape[1], data.n_tags, args.batch_size
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, len(data.train_tags), b) for _ in range(args.steps)]

    be = load_backend("numpy", None, "float32")
    ours = WindowClassifier(be, v, w, args.dim, args.hidden, c, seed=0)
    loss_fn = SoftmaxCrossEntropy(be)
    adam = Adam(ours.parameters(), lr=1e-3)
    xs = [be.asarray(data.train_windows[i]) for i in batches]  # (B, W) each
    ys = [be.asarray(data.train_tags[i]) for i in batches]  # (B,)

    def numpy_round() -> None:
        for x, y in zip(xs, ys, strict=True):
            adam.zero_grad()
            scores, cache = ours(x)  # (B, C)
            loss, loss_cache = loss_fn(scores, y)
            ours.backward(loss_fn.backward(1.0, loss_cache), cache)
            adam.step()

    peer = make_model(v, w, args.dim, args.hidden, c)
    opt = torch.optim.Adam(peer.parameters(), lr=1e-3)
    txs = [torch.as_tensor(data.train_windows[i]) for i in batches]
    tys = [torch.as_tensor(data.train_tags[i]) for i in batches]

    def torch_round() -> None:
        for x, y in zip(txs, tys, strict=True):
            step(peer, opt, x, y)

    runs = {"nlpdojo numpy": numpy_round, "torch cpu (peer)": torch_round}
    for fn in runs.values():  # warm-up: first-touch allocations, Adam's state
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) / args.steps)
    med = {name: statistics.median(ts) * 1e3 for name, ts in times.items()}
    lo_hi = {name: (min(ts) * 1e3, max(ts) * 1e3) for name, ts in times.items()}
    print(f"window tagger step: V={v:,}, W={w}, D={args.dim}, H={args.hidden}, C={c}, B={b}; "
          f"{args.rounds} interleaved rounds of {args.steps} steps; torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    print(f"{'':18} {'median ms/step':>15} {'min-max':>16}")
    for name in runs:
        print(f"{name:18} {med[name]:15.3f} {lo_hi[name][0]:7.3f}-{lo_hi[name][1]:<8.3f}")
    ratio = med["torch cpu (peer)"] / med["nlpdojo numpy"]
    print(f"ratio torch / numpy: {ratio:.2f}x ({'numpy faster' if ratio >= 1 else 'torch faster'};"
          " target >= 1.0)")


if __name__ == "__main__":
    main()
