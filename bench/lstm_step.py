"""One training step of an LSTM or GRU layer: nlpdojo's NumPy reference against torch on the CPU.

The step: the layer over T steps from a zero state (``nlpdojo_solutions.library.recurrent.LSTM``
or ``GRU``, the course library's cells of ``library/gated.py`` under ``Recurrent``), a fixed
upstream gradient G for its outputs (the loss Σ outputs ⊙ G), backward through time and one SGD
update of every parameter. Peer, in the same process with the same sizes: ``torch.nn.LSTM`` or
``torch.nn.GRU`` (one layer, ``batch_first``) with autograd and ``torch.optim.SGD``, float32,
its input requiring a gradient as the library's layer computes dL/dxs (in a model the layer
below, an embedding or another layer, needs it; without it torch's fused LSTM skips one of
the step's six matmuls: ``--no-input-grad`` measures that). On the CPU torch runs the LSTM
as oneDNN's fused RNN primitive (``aten::mkldnn_rnn_layer``, its own JIT-compiled kernels);
the third row turns oneDNN off (``torch.backends.mkldnn.flags(enabled=False)``), torch's own
loop over the steps.
Threads: 1 each unless ``--threads`` (the BLAS variables are set before NumPy loads). The two
run interleaved, ``--rounds`` rounds of ``--repeat`` steps; a round's figure is its median step,
the table the median over rounds (min–max), with the ratio torch / nlpdojo per round (above 1:
NumPy faster) and the machine.

    python bench/lstm_step.py                          # LSTM and GRU at B=20, T=35, D=H=200
    python bench/lstm_step.py --batch 3 --bptt 5 --dim 4 --hidden 5   # the graded size
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path


def step_arguments(description: str, rounds: int) -> argparse.ArgumentParser:
    """The options of a recurrent layer's step benchmark: cells, sizes, steps and rounds (also
    ``bench/recurrent_gpu.py``'s)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20, help="steps per round")
    parser.add_argument("--rounds", type=int, default=rounds, help="interleaved rounds")
    return parser


def main() -> None:
    parser = step_arguments(__doc__.splitlines()[0], rounds=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-input-grad", action="store_true",
                        help="the peer's input needs no gradient (torch then skips dL/dxs)")
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS
    import warnings

    import numpy as np
    import torch

    # mkldnn.flags() warns, on every call, that TF32 needs an Intel GPU: not about this run
    warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _machine import machine
    from rnn_lm_step import interleaved_rounds, spread

    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.library import recurrent
    from nlpdojo_solutions.library.optim import SGD

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(args.threads)
    except RuntimeError:  # already set in this process
        pass
    B, T, D, H = args.batch, args.bptt, args.dim, args.hidden
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((B, T, D)).astype(np.float32)  # (B, T, D)
    grad = rng.standard_normal((B, T, H)).astype(np.float32)  # (B, T, H)
    txs, tgrad = torch.as_tensor(xs), torch.as_tensor(grad)  # the peer's, sharing the memory
    txs.requires_grad_(not args.no_input_grad)  # dL/dxs, as the library's layer returns it
    be = load_backend("numpy", "cpu", "float32")
    print(f"one training step of a recurrent layer: B={B}, T={T}, D={D}, H={H}, float32, "
          f"{args.threads} thread(s) each; peer's input "
          f"{'without' if args.no_input_grad else 'with'} a gradient; {args.rounds} "
          f"interleaved rounds of {args.repeat} steps\nmachine: {machine()}; "
          f"NumPy {np.__version__}, torch {torch.__version__}")
    print("| layer | implementation | wall ms per step, median of rounds (min–max) | CPU ms |"
          "\n|---|---|---|---|")
    for kind in args.cells.split(","):
        ours_cls, peer_cls = {"lstm": (recurrent.LSTM, torch.nn.LSTM),
                              "gru": (recurrent.GRU, torch.nn.GRU)}[kind]
        layer = ours_cls(be, D, H)
        zeros = np.zeros((B, H), np.float32)
        state0 = (zeros, zeros) if kind == "lstm" else zeros
        opt = SGD(layer.parameters(), lr=0.01)

        def ours(layer=layer, state0=state0, opt=opt) -> None:
            opt.zero_grad()
            _, cache = layer(xs, state0)  # (B, T, H)
            layer.backward(grad, cache)
            opt.step()

        peer_layer = peer_cls(D, H, batch_first=True)
        t_opt = torch.optim.SGD(peer_layer.parameters(), lr=0.01)
        def peer(peer_layer=peer_layer, t_opt=t_opt) -> None:
            t_opt.zero_grad()
            txs.grad = None
            out, _ = peer_layer(txs)  # (B, T, H), zero initial state
            (out * tgrad).sum().backward()
            t_opt.step()

        def peer_plain(peer=peer) -> None:
            with torch.backends.mkldnn.flags(enabled=False):  # torch's own cell loop
                peer()

        steps = {"nlpdojo NumPy": ours, f"torch.nn.{peer_cls.__name__} (CPU)": peer,
                 f"torch.nn.{peer_cls.__name__}, oneDNN off": peer_plain}
        rounds = interleaved_rounds(steps, args.rounds, args.repeat)
        for name, values in rounds.items():
            print(f"| {kind.upper()} | {name} | {spread([w for w, _ in values], '{:.2f}')} | "
                  f"{spread([c for _, c in values], '{:.2f}')} |")
        ours_r, *peers = rounds.values()
        for label, peer_r in zip(("torch", "torch, oneDNN off"), peers, strict=True):
            ratios = [p[1] / o[1] for o, p in zip(ours_r, peer_r, strict=True)]
            print(f"| {kind.upper()} | ratio {label} / nlpdojo (CPU time), per round | "
                  f"**{spread(ratios, '{:.2f}')}x** "
                  f"({'NumPy faster' if statistics.median(ratios) > 1 else 'torch faster'}) | |")


if __name__ == "__main__":
    main()
