"""One training step of the character-level word vectors: nlpdojo's NumPy reference against
plain torch on the CPU.

The step: a batch of sentences' words, each padded to W characters, through
``nlpdojo_solutions.cnn_text.char_cnn.CharCNNEmbedding`` (a character table, the course
library's ``Conv1d`` with F filters of width 5 and one zero each side, ReLU, ``MaxOverTime``,
a ReLU projection and ``Highway``), a loss Σ G ⊙ vectors for a fixed upstream gradient G,
backward, and one Adam update of every parameter. Peer, in the same process on the same
batch and sizes: the same pipeline in ``torch.nn`` (``Embedding``, ``Conv1d``, ReLU, ``amax``,
two ``Linear`` layers, a sigmoid gate), autograd and ``torch.optim.Adam``. The default sizes
are CS224n's character-aware assignment's: 96 characters of 50 dimensions, words of 21
characters, 256-d word vectors; 32 sentences of 20 words.

Threads: 1 each unless ``--threads``. The two run interleaved, ``--rounds`` rounds of
``--repeat`` steps; the table gives the median step of each round's median (min–max) and the
ratio torch / nlpdojo of CPU time per round (above 1: NumPy faster), with the machine line.

    python bench/char_cnn_step.py                     # the assignment's sizes, float32 and 64
    python bench/char_cnn_step.py --sentences 8 --words 10 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=32)
    parser.add_argument("--words", type=int, default=20, help="words a sentence")
    parser.add_argument("--chars", type=int, default=21, help="characters a word, padded")
    parser.add_argument("--alphabet", type=int, default=96)
    parser.add_argument("--char-dim", type=int, default=50)
    parser.add_argument("--word-dim", type=int, default=256)
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10, help="steps per round")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS
    import numpy as np
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _machine import machine
    from rnn_lm_step import interleaved_rounds, print_step_table

    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.cnn_text.char_cnn import CharCNNEmbedding
    from nlpdojo_solutions.library import Adam

    torch.set_num_threads(args.threads)
    B, T, W = args.sentences, args.words, args.chars
    V, C, F = args.alphabet, args.char_dim, args.word_dim
    rng = np.random.default_rng(0)
    chars = rng.integers(0, V, size=(B, T, W))  # (B, T, W) character ids
    upstream = rng.standard_normal((B, T, F))  # G: (B, T, F)
    print(f"one training step of CharCNNEmbedding: {B} x {T} words of {W} characters, "
          f"{V} characters of {C} dimensions, {F} filters of width 5 (padding 1), "
          f"projection and highway, Adam; {args.threads} thread(s) each; {args.rounds} "
          f"interleaved rounds of {args.repeat} steps\nNumPy {np.__version__}, "
          f"torch {torch.__version__}")
    rows = []
    for dtype in args.dtypes.split(","):
        be = load_backend("numpy", "cpu", dtype)
        model = CharCNNEmbedding(be, V, C, F, kernel_size=5, padding=1, seed=0)
        opt = Adam(model.parameters(), lr=1e-3)
        x, g = be.asarray(chars), be.asarray(upstream, dtype=be.default_dtype)

        def ours(model=model, opt=opt, x=x, g=g) -> None:
            opt.zero_grad()
            _, cache = model(x)  # (B, T, F)
            model.backward(g, cache)  # the loss Σ G ⊙ vectors: its gradient is G
            opt.step()

        peer = _torch_step(torch, chars, upstream, V, C, F, getattr(torch, dtype))
        rounds = interleaved_rounds({"nlpdojo NumPy": ours, "torch.nn (CPU)": peer},
                                    args.rounds, args.repeat, warmup=2)
        ratios = [p[1] / o[1] for o, p in zip(*rounds.values(), strict=True)]
        rows.append((dtype, rounds, ratios))
    print(f"machine: {machine()}")
    print_step_table(rows)


def _torch_step(torch, chars, upstream, V, C, F, dtype):
    """The peer's step: the same pipeline in ``torch.nn``, autograd, ``torch.optim.Adam``."""
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(V, C, dtype=dtype)
    conv = torch.nn.Conv1d(C, F, 5, padding=1, dtype=dtype)
    projection = torch.nn.Linear(F, F, dtype=dtype)
    gate = torch.nn.Linear(F, F, dtype=dtype)
    params = [*embedding.parameters(), *conv.parameters(), *projection.parameters(),
              *gate.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3)
    x = torch.as_tensor(chars).reshape(-1, chars.shape[-1])  # (N, W)
    g = torch.as_tensor(upstream, dtype=dtype).reshape(-1, upstream.shape[-1])  # (N, F)

    def step() -> None:
        opt.zero_grad()
        c = torch.relu(conv(embedding(x).transpose(1, 2))).amax(dim=2)  # (N, F)
        y = torch.relu(projection(c))
        t = torch.sigmoid(gate(c))
        ((t * y + (1 - t) * c) * g).sum().backward()
        opt.step()

    return step


if __name__ == "__main__":
    main()
