"""One training step of Kim (2014)'s CNN: nlpdojo's NumPy reference against plain torch on the CPU.

The step, as ``dojo train polarity --model cnn`` takes it (``cnn_text``'s ``train_cnn``): a
batch of padded sentences through ``nlpdojo_solutions.cnn_text.kim_cnn.SentenceCNN`` (an
embedding, wide convolutions of widths 3, 4 and 5, ReLU, max over each sentence's positions,
dropout 0.5, a Linear layer: the course library's layers), softmax cross-entropy, backward and
one Adam update of every parameter (the embedding's whole table included, as a dense
gradient). Peer, in the same process on the same batch and sizes: the same network written
with ``torch.nn`` (``Embedding``, ``Conv1d(padding=k-1)``, ReLU, a masked max, ``Dropout``,
``Linear``), ``F.cross_entropy``, autograd and ``torch.optim.Adam``.

Threads: 1 each unless ``--threads`` (the BLAS variables are set before NumPy loads). The two
run interleaved, ``--rounds`` rounds of ``--repeat`` steps; a round's figure is its median step,
the table the median over rounds (min–max), with the ratio torch / nlpdojo of CPU time per
round (above 1: NumPy faster) and the machine, whose line names the BLAS kernel.

    python bench/kim_cnn_step.py                       # MR's sizes: B=50, T=40, D=100, F=100
    python bench/kim_cnn_step.py --batch 4 --length 9 --vocab 30 --dim 6 --filters 5   # graded
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--length", type=int, default=40, help="the batch's longest sentence")
    parser.add_argument("--vocab", type=int, default=16000)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--filters", type=int, default=100)
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10, help="steps per round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS
    import numpy as np
    import torch
    import torch.nn.functional as F

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _machine import machine
    from rnn_lm_step import interleaved_rounds, print_step_table

    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.cnn_text.kim_cnn import SentenceCNN
    from nlpdojo_solutions.library import Adam, SoftmaxCrossEntropy

    torch.set_num_threads(args.threads)
    B, T, V, D, nf = args.batch, args.length, args.vocab, args.dim, args.filters
    widths = (3, 4, 5)
    rng = np.random.default_rng(0)
    lengths = rng.integers(max(1, T // 4), T + 1, size=B)  # (B,)
    lengths[0] = T
    ids = rng.integers(1, V, size=(B, T)) * (np.arange(T)[None, :] < lengths[:, None])  # (B, T)
    labels = rng.integers(0, 2, size=B)  # (B,)
    print(f"one training step of Kim's CNN: B={B}, T={T} (lengths {lengths.min()}-{T}), "
          f"V={V}, D={D}, {nf} filters of widths 3, 4, 5, dropout 0.5, Adam; "
          f"{args.threads} thread(s) each; {args.rounds} interleaved rounds of {args.repeat} "
          f"steps\nNumPy {np.__version__}, torch {torch.__version__}")
    rows = []
    for dtype in args.dtypes.split(","):
        be = load_backend("numpy", "cpu", dtype)
        model = SentenceCNN(be, V, D, 2, widths=widths, filters=nf, dropout=0.5, seed=0)
        loss_fn, opt = SoftmaxCrossEntropy(be), Adam(model.parameters(), lr=1e-3)
        x, n, y = be.asarray(ids), be.asarray(lengths), be.asarray(labels)

        def ours(model=model, loss_fn=loss_fn, opt=opt, x=x, n=n, y=y) -> None:
            opt.zero_grad()
            scores, cache = model(x, n)  # (B, 2)
            loss, c_loss = loss_fn(scores, y)
            model.backward(loss_fn.backward(1.0, c_loss), cache)
            opt.step()

        peer = _torch_step(torch, F, ids, lengths, labels, V, D, nf, widths,
                           getattr(torch, dtype))
        steps = {"nlpdojo NumPy": ours, "torch.nn (CPU)": peer}
        rounds = interleaved_rounds(steps, args.rounds, args.repeat, warmup=2)
        ratios = [p[1] / o[1] for o, p in zip(*rounds.values(), strict=True)]
        rows.append((dtype, rounds, ratios))
    print(f"machine: {machine()}")
    print_step_table(rows)


def _torch_step(torch, F, ids, lengths, labels, V, D, nf, widths, dtype):
    """The peer's step: the same network in ``torch.nn``, autograd, ``torch.optim.Adam``."""
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(V, D, dtype=dtype)
    convs = torch.nn.ModuleList(torch.nn.Conv1d(D, nf, k, padding=k - 1, dtype=dtype)
                                for k in widths)
    output = torch.nn.Linear(nf * len(widths), 2, dtype=dtype)
    dropout = torch.nn.Dropout(0.5)
    params = [*embedding.parameters(), *convs.parameters(), *output.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    x, n, y = torch.as_tensor(ids), torch.as_tensor(lengths), torch.as_tensor(labels)
    real = (torch.arange(x.shape[1])[None, :] < n[:, None]).to(dtype)  # (B, T)

    def step() -> None:
        opt.zero_grad()
        vectors = (embedding(x) * real[:, :, None]).transpose(1, 2)  # (B, D, T)
        pooled = []
        for k, conv in zip(widths, convs, strict=True):
            h = torch.relu(conv(vectors))  # (B, F, T + k - 1)
            valid = torch.arange(h.shape[2])[None, :] < (n + k - 1)[:, None]  # (B, T + k - 1)
            pooled.append(h.masked_fill(~valid[:, None, :], float("-inf")).amax(dim=2))
        scores = output(dropout(torch.cat(pooled, dim=1)))  # (B, 2)
        F.cross_entropy(scores, y).backward()
        opt.step()

    return step


if __name__ == "__main__":
    main()
