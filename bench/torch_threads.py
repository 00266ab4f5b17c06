"""How many intra-op threads the torch backend should use: small per-op work against large.

On a 2-core machine with another process busy, ``dojo train word2vec --solutions`` on torch ran at
3.2k words/s with torch's default thread count and 92k with one thread. This bench times, with
1, 2 and torch's default number of intra-op threads (``torch.get_num_threads()`` at start-up):

* **w2v step** — one skip-gram negative-sampling step at the trainer's sizes (V = 11,269 words,
  D = 100, a batch of 512 centers, 1 + 5 outside/negative rows): gathers, a batched product,
  sigmoid, the gradient products and two ``index_add_`` scatters;
* **matvec** — a (512, 100) x (100,) product, the smallest op of that step;
* **gather + index_add_** — (3072,) rows gathered from (V, 100) and scattered back;
* **matmul 4096** — a (4096, 512) x (512, 512) product, work large enough to split.

Settings are interleaved round by round (so a change in the machine's load hits all of them
alike); the table shows medians and the ratio to one thread (> 1: slower than one thread).
``--busy N`` starts N processes that spin on a core each for the run (another student's job, a
test run beside it): the loaded machine the slow-down was first seen on, made reproducible.

    python bench/torch_threads.py [--rounds 15] [--busy 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable

import torch

V, D, B, M = 11_269, 100, 512, 6  # vocabulary, dimension, centers per batch, 1 outside + 5 neg.


def make_workloads() -> dict[str, tuple[Callable[[], object], int]]:
    """Name -> (function, calls per timing); each call does one unit of work."""
    gen = torch.Generator().manual_seed(0)
    center = torch.randn(V, D, generator=gen) * 0.1  # (V, D)
    outside = torch.randn(V, D, generator=gen) * 0.1  # (V, D)
    c_idx = torch.randint(0, V, (B,), generator=gen)  # (B,)
    o_idx = torch.randint(0, V, (B, M), generator=gen)  # (B, M)
    sign = torch.ones(B, M)
    sign[:, 1:] = -1.0  # the outside word scores +, the negatives -

    def w2v_step() -> None:
        v = center[c_idx]  # (B, D)
        u = outside[o_idx.reshape(-1)].reshape(B, M, D)  # (B, M, D)
        scores = torch.bmm(u, v[:, :, None])[:, :, 0] * sign  # (B, M)
        g = (torch.sigmoid(scores) - 1.0) * sign  # (B, M): dJ/dscore
        grad_v = torch.bmm(g[:, None, :], u)[:, 0, :]  # (B, D)
        grad_u = g[:, :, None] * v[:, None, :]  # (B, M, D)
        center.index_add_(0, c_idx, grad_v, alpha=-0.025)
        outside.index_add_(0, o_idx.reshape(-1), grad_u.reshape(B * M, D), alpha=-0.025)

    a = torch.randn(512, 100, generator=gen)  # (512, 100)
    x = torch.randn(100, generator=gen)  # (100,)
    rows = torch.randint(0, V, (B * M,), generator=gen)  # (3072,)
    target = torch.zeros(V, D)  # (V, D)

    def gather_scatter() -> None:
        target.index_add_(0, rows, center[rows])  # (3072, D) gathered, summed back

    big_a = torch.randn(4096, 512, generator=gen)  # (4096, 512)
    big_b = torch.randn(512, 512, generator=gen)  # (512, 512)
    return {
        "w2v step (B=512, 1+5 rows)": (w2v_step, 20),
        "matvec (512,100)x(100,)": (lambda: a @ x, 200),
        "gather + index_add_ (3072 rows)": (gather_scatter, 50),
        "matmul (4096,512)x(512,512)": (lambda: big_a @ big_b, 2),
    }


def time_us(fn: Callable[[], object], calls: int) -> float:
    """Microseconds per call, over ``calls`` calls."""
    t = time.perf_counter()
    for _ in range(calls):
        fn()
    return 1e6 * (time.perf_counter() - t) / calls


def _spin() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--busy", type=int, default=0, help="busy-looping processes beside")
    args = parser.parse_args()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.busy)]
    for proc in spinners:
        proc.start()
    try:
        run(args.rounds, args.busy)
    finally:
        for proc in spinners:
            proc.terminate()
            proc.join()


def run(rounds: int, busy: int) -> None:
    default = torch.get_num_threads()
    settings = {"1 thread": 1, "2 threads": 2, f"default ({default})": default}
    cores = len(os.sched_getaffinity(0))
    print(f"torch {torch.__version__}, {cores} usable cores (sched_getaffinity), "
          f"os.cpu_count() = {os.cpu_count()}, default intra-op threads = {default}, "
          f"load average {os.getloadavg()[0]:.2f}, {busy} busy process(es) beside, "
          f"{rounds} rounds")
    workloads = make_workloads()
    times: dict[tuple[str, str], list[float]] = {}
    for fn, calls in workloads.values():  # warm-up: allocator, thread pool
        for n in set(settings.values()):
            torch.set_num_threads(n)
            time_us(fn, calls)
    for _ in range(rounds):
        for wname, (fn, calls) in workloads.items():
            for sname, n in settings.items():
                torch.set_num_threads(n)
                times.setdefault((wname, sname), []).append(time_us(fn, calls))
    torch.set_num_threads(default)
    header = f"| workload | {' | '.join(settings)} | ratio 2/1 | ratio default/1 |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for wname in workloads:
        med = [statistics.median(times[(wname, s)]) for s in settings]
        cells = " | ".join(f"{m:,.0f} µs" for m in med)
        print(f"| {wname} | {cells} | {med[1] / med[0]:.2f} | {med[2] / med[0]:.2f} |")


if __name__ == "__main__":
    main()
