"""One RNN language-model training step: nlpdojo's NumPy reference against PyTorch on the CPU.

The step is what ``train_rnn_lm`` does per window: embedding look-up, a tanh RNN over T steps,
the output layer at every step, softmax cross-entropy averaged over all B·T predictions,
backward through time and one SGD update. nlpdojo: ``nlpdojo_solutions.language_models.
rnn_lm.RNNLM`` with the library's ``SoftmaxCrossEntropy`` and ``SGD`` on the NumPy backend
(float32). Peer, measured in the same process with the same sizes: ``torch.nn.Embedding`` +
``torch.nn.RNN`` (tanh, batch first) + ``torch.nn.Linear`` + ``F.cross_entropy`` with autograd
and ``torch.optim.SGD``, float32 on the CPU.

Threads: NumPy's BLAS and torch get the same number, 1 unless ``--threads`` (the BLAS variables
are set before NumPy loads; ``torch.set_num_threads`` and ``set_num_interop_threads``); the
output states it. The two run interleaved, ``--rounds`` rounds of ``--repeat`` steps each (the
one that goes first alternates), so a change in the machine's load hits both alike; a round's
figure is its median step, and the table gives the median over rounds and their spread
(min–max), in wall-clock and in CPU time (on a shared machine the CPU time leaves out what
other jobs took), with the ratio torch / nlpdojo per round (above 1: NumPy faster) and the
machine (CPU, cores, load average). ``--phases`` also prints where NumPy's step goes, layer
by layer.

    python bench/rnn_lm_step.py                 # V=10,000, B=20, T=35, D=H=200
    python bench/rnn_lm_step.py --vocab 2000 --hidden 64 --dim 32 --bptt 20
    python bench/rnn_lm_step.py --phases --rounds 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path


def median_ms(step, repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU ms of ``repeat`` steps (CPU time: this process's, all threads;
    with one thread each it leaves out the time other jobs on a shared machine took)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return 1e3 * statistics.median(wall), 1e3 * statistics.median(cpu)


def interleaved_rounds(steps: dict, rounds: int, repeat: int, warmup: int = 3
                       ) -> dict[str, list[tuple[float, float]]]:
    """Each of ``steps`` (name -> step) warmed up, then ``rounds`` rounds of :func:`median_ms`
    over ``repeat`` steps, the order reversed every other round: per name, its rounds."""
    for step in steps.values():  # warm-up: allocator, BLAS buffers
        for _ in range(warmup):
            step()
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in steps}
    names = list(steps)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            found[name].append(median_ms(steps[name], repeat))
    return found


def print_step_table(rows: list[tuple[str, dict, list[float]]]) -> None:
    """The Markdown table of a step benchmark against torch: per ``(dtype, rounds, ratios)``
    row, each implementation's wall and CPU ms (median of rounds, min–max, from
    :func:`interleaved_rounds`) and the per-round ratio torch / nlpdojo of CPU time."""
    print("| dtype | implementation | wall ms per step, median of rounds (min–max) | CPU ms |"
          "\n|---|---|---|---|")
    for dtype, rounds, ratios in rows:
        for name, values in rounds.items():
            print(f"| {dtype} | {name} | {spread([w for w, _ in values], '{:.2f}')} | "
                  f"{spread([c for _, c in values], '{:.2f}')} |")
        print(f"| {dtype} | ratio torch / nlpdojo (CPU time), per round | "
              f"**{spread(ratios, '{:.2f}')}x** "
              f"({'NumPy faster' if statistics.median(ratios) > 1 else 'torch faster'}) | |")


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    """``median (min–max)``."""
    return (f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–"
            f"{fmt.format(max(values))})")


def phases(model, loss_fn, opt, x, y, h0, repeat: int) -> dict[str, float]:
    """Median ms of each part of our step, run layer by layer as ``RNNLM`` does."""
    b, t = x.shape
    acc: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeat):
        last = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal last
            now = time.perf_counter()
            acc[name].append(1e3 * (now - last))
            last = now

        opt.zero_grad()
        lap("zero_grad")
        vectors, c_emb = model.embedding(x)  # (B, T, D)
        lap("embedding forward")
        hs, c_rnn = model.rnn(vectors, h0)  # (B, T, H)
        lap("RNN forward (T cell steps)")
        scores, c_out = model.output(hs.reshape(b * t, -1))  # (B·T, V)
        lap("output Linear forward")
        loss, c_loss = loss_fn(scores, y.reshape(-1))
        lap("cross-entropy forward")
        grad = loss_fn.backward(1.0, c_loss)  # (B·T, V)
        lap("cross-entropy backward")
        grad_hs = model.output.backward(grad, c_out)  # (B·T, H)
        lap("output Linear backward")
        grad_v, _ = model.rnn.backward(grad_hs.reshape(b, t, -1), c_rnn)  # (B, T, D)
        lap("RNN backward (BPTT)")
        model.embedding.backward(grad_v, c_emb)
        lap("embedding backward")
        opt.step()
        lap("SGD step")
    return {k: statistics.median(v) for k, v in acc.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20, help="steps per round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for both NumPy's BLAS and torch (set before import)")
    parser.add_argument("--phases", action="store_true",
                        help="also time each part of NumPy's step")
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _machine import machine

    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.language_models.rnn_lm import RNNLM
    from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy
    from nlpdojo_solutions.library.optim import SGD

    V, B, T, D, H = args.vocab, args.batch, args.bptt, args.dim, args.hidden
    rng = np.random.default_rng(0)
    ids = rng.integers(0, V, (B, T + 1))
    x, y = np.ascontiguousarray(ids[:, :-1]), np.ascontiguousarray(ids[:, 1:])  # (B, T) x2

    be = load_backend("numpy", "cpu", "float32")
    model = RNNLM(be, V, D, H)
    loss_fn = SoftmaxCrossEntropy(be)
    opt = SGD(model.parameters(), lr=0.5)
    h0 = model.initial_state(B)

    def ours() -> None:
        opt.zero_grad()
        scores, cache = model(x, h0)  # (B, T, V)
        loss, c_loss = loss_fn(scores.reshape(B * T, V), y.reshape(-1))
        model.backward(loss_fn.backward(1.0, c_loss).reshape(B, T, V), cache)
        opt.step()

    steps = {"nlpdojo NumPy RNNLM": ours}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)
        try:
            torch.set_num_interop_threads(args.threads)
        except RuntimeError:  # already set in this process
            pass
        emb, rnn = torch.nn.Embedding(V, D), torch.nn.RNN(D, H, batch_first=True)
        out = torch.nn.Linear(H, V)
        params = [*emb.parameters(), *rnn.parameters(), *out.parameters()]
        t_opt = torch.optim.SGD(params, lr=0.5)
        tx, ty, th = torch.as_tensor(x), torch.as_tensor(y), torch.zeros(1, B, H)

        def peer() -> None:
            t_opt.zero_grad()
            hs, _ = rnn(emb(tx), th)  # (B, T, H)
            loss = torch.nn.functional.cross_entropy(out(hs).reshape(B * T, V), ty.reshape(-1))
            loss.backward()
            t_opt.step()

        steps["torch.nn.RNN + Linear + CE (CPU)"] = peer
    rounds = interleaved_rounds(steps, args.rounds, args.repeat)
    threads = (f"{args.threads} thread(s) each (NumPy's BLAS via OPENBLAS/OMP/MKL_NUM_THREADS"
               + (f"; torch {torch.get_num_threads()} intra-op" if torch is not None else "")
               + ")")
    print(f"one training step: V={V:,}, B={B}, T={T}, D={D}, H={H}, float32, {threads}; "
          f"{args.rounds} interleaved rounds of {args.repeat} steps")
    print(f"machine: {machine()}; NumPy {np.__version__}"
          + (f", torch {torch.__version__}" if torch is not None else ""))
    print("| implementation | wall ms per step, median of rounds (min–max) | CPU ms per step |"
          "\n|---|---|---|")
    for name, values in rounds.items():
        print(f"| {name} | {spread([w for w, _ in values])} | {spread([c for _, c in values])} |")
    if len(rounds) == 2:
        ours, peer = rounds.values()
        for i, what in enumerate(("wall", "CPU")):
            ratios = [p[i] / o[i] for o, p in zip(ours, peer, strict=True)]
            print(f"ratio torch / nlpdojo NumPy ({what} time), per round: "
                  f"{spread(ratios, '{:.2f}')}x "
                  f"({'NumPy faster' if statistics.median(ratios) > 1 else 'torch faster'})")
    if args.phases:
        parts = phases(model, loss_fn, opt, x, y, h0, args.repeat)
        total = sum(parts.values())
        print(f"\nwhere NumPy's step goes (median of {args.repeat} steps, sum {total:.1f} ms):")
        print("| part | ms | share |\n|---|---|---|")
        for name, ms in parts.items():
            print(f"| {name} | {ms:.2f} | {100 * ms / total:.0f}% |")


if __name__ == "__main__":
    main()
