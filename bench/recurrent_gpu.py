"""One training step of an LSTM or GRU layer on a CUDA GPU: the course library on the torch
backend, the backend's native layer (cuDNN), and plain ``torch.nn.LSTM``/``GRU``.

The step is ``bench/lstm_step.py``'s: the layer over T steps from a zero state, the loss
Σ outputs ⊙ G for a fixed G, backward through time (dL/dxs included) and one SGD update, float32.
Three implementations, same sizes, interleaved rounds:

* the library's ``LSTM``/``GRU`` (``Recurrent`` over the cells of ``library/gated.py``) on
  ``torch:cuda``: what a student's layer runs, one cell step at a time (2T small kernels and
  more per step: launch-bound at these sizes);
* the native layer the torch backend registers under the same names (``registry.get("module",
  "lstm", backend="torch", native=True)``: ``torch.nn.LSTM`` over the library's parameters,
  cuDNN's fused RNN on CUDA), used only on request, never for code under test;
* ``torch.nn.LSTM``/``GRU`` with autograd and ``torch.optim.SGD``, the peer.

Each step ends with ``torch.cuda.synchronize()``; a round's figure is its median step, the table
the median over rounds (min-max). Figures: docs/benchmarks.md, "On a GPU".

    python bench/recurrent_gpu.py                               # B=20, T=35, D=H=200
    python bench/recurrent_gpu.py --batch 64 --dim 512 --hidden 512
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lstm_step import step_arguments

    parser = step_arguments(__doc__.splitlines()[0], rounds=5)
    parser.add_argument("--device", default="cuda", help="cpu: a smoke test of this script")
    args = parser.parse_args()

    import numpy as np
    import torch

    from nlpdojo.plugins import get_registry
    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.library import recurrent
    from nlpdojo_solutions.library.optim import SGD

    if args.device != "cpu" and not torch.cuda.is_available():
        raise SystemExit("bench/recurrent_gpu.py: no CUDA device here")

    def synchronize() -> None:
        if args.device != "cpu":
            torch.cuda.synchronize()
    B, T, D, H = args.batch, args.bptt, args.dim, args.hidden
    be = load_backend("torch", args.device, "float32")
    rng = np.random.default_rng(0)
    xs = be.asarray(rng.standard_normal((B, T, D)).astype(np.float32))  # (B, T, D)
    grad = be.asarray(rng.standard_normal((B, T, H)).astype(np.float32))  # (B, T, H)
    txs = xs.clone().requires_grad_()
    where = torch.cuda.get_device_name() if args.device != "cpu" else "the CPU"
    print(f"one training step of a recurrent layer on {where}: B={B}, "
          f"T={T}, D={D}, H={H}, float32; {args.rounds} interleaved rounds of {args.repeat} "
          f"steps; torch {torch.__version__}")
    print("| layer | implementation | ms per step, median of rounds (min–max) | / torch.nn |"
          "\n|---|---|---|---|")
    for kind in args.cells.split(","):
        library_cls = {"lstm": recurrent.LSTM, "gru": recurrent.GRU}[kind]
        native_cls = get_registry().get("module", kind, backend="torch", native=True)
        peer_cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
        zeros = be.xp.zeros((B, H), dtype=be.default_dtype, device=be.device)
        state0 = (zeros, zeros) if kind == "lstm" else zeros

        peer_layer = peer_cls(D, H, batch_first=True, device=args.device)
        steps = {"library on torch:cuda": library_step(library_cls(be, D, H), SGD, xs, state0,
                                                       grad),
                 "native (cuDNN) through the library's contract":
                     library_step(native_cls(be, D, H), SGD, xs, state0, grad),
                 f"torch.nn.{peer_cls.__name__}": peer_step(torch, peer_layer, txs, grad)}
        rounds: dict[str, list[float]] = {name: [] for name in steps}
        for step in steps.values():
            for _ in range(3):
                step()
        synchronize()
        names = list(steps)
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    steps[name]()
                    synchronize()
                    times.append((time.perf_counter() - start) * 1e3)
                rounds[name].append(statistics.median(times))
        peer_ms = rounds[names[-1]]
        for name, values in rounds.items():
            ratio = [v / p for v, p in zip(values, peer_ms, strict=True)]
            print(f"| {kind.upper()} | {name} | {statistics.median(values):.2f} "
                  f"({min(values):.2f}–{max(values):.2f}) | {statistics.median(ratio):.2f}x |")


def library_step(layer, optimizer, xs, state0, grad):
    """One step of a layer of the library's contract: forward, backward through time, SGD."""
    opt = optimizer(layer.parameters(), lr=0.01)

    def step() -> None:
        opt.zero_grad()
        _, cache = layer(xs, state0)  # (B, T, H)
        layer.backward(grad, cache)
        opt.step()
    return step


def peer_step(torch, peer_layer, txs, grad):
    """One step of ``torch.nn.LSTM``/``GRU`` with autograd and ``torch.optim.SGD``."""
    opt = torch.optim.SGD(peer_layer.parameters(), lr=0.01)

    def step() -> None:
        opt.zero_grad()
        txs.grad = None
        out, _ = peer_layer(txs)  # (B, T, H), zero initial state
        (out * grad).sum().backward()
        opt.step()
    return step


if __name__ == "__main__":
    main()
