"""Gradient flow through depth (CS224n lecture 7, "vanishing gradients are not just an RNN
problem"): how much of a loss's gradient reaches the inputs of a stack of L recurrent layers,
plain (``Stacked``), with residual or highway connections around each layer above the first,
and densely connected (``DenselyConnected``: every layer reads the inputs and every layer
below, Huang et al. 2017), from the reference solutions.

The layers are tanh RNNs (``Recurrent`` over the library's ``RNNCell``, Xavier-initialised as
the library does; D = H = 32, T = 12 steps, B = 16 sequences of unit normal inputs from one
zero state). The loss is J = Σ G ⊙ outputs over every step, G unit normal; the figure is
‖∂J/∂xs‖ / ‖G‖, the median over 5 seeds (weights, inputs and G drawn from each), at depths
L = 1, 2, 4, 8 and 16. The walk back in time inside each layer is the one the ``vanishing``
question measures step by step; here each layer's own backward is the reference's, and what
varies is the path through the stack. Prints a Markdown table, and with ``--write-json``
writes it to ``bench/results/depth_gradient_flow.json``.

    python bench/depth_gradient_flow.py [--write-json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
from _machine import machine  # bench/ is on sys.path when a bench runs

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = ROOT / "bench" / "results" / "depth_gradient_flow.json"
B, T, D, H = 16, 12, 32, 32
DEPTHS = (1, 2, 4, 8, 16)
SEEDS = 5
KINDS = ("none", "residual", "highway", "dense")


def tanh_layer(backend, input_size: int, hidden_size: int, *, seed: int = 0):
    """A tanh RNN over a sequence: the library's ``Recurrent`` over its ``RNNCell``."""
    from nlpdojo_solutions.library import Recurrent, RNNCell

    layer = Recurrent(backend, RNNCell(backend, input_size, hidden_size, seed=seed))
    layer.hidden_size = hidden_size
    return layer


def reaching(backend, kind: str, depth: int, seed: int) -> float:
    """‖∂J/∂xs‖ / ‖G‖ for a stack of ``kind`` and ``depth`` layers, weights and data from
    ``seed``."""
    from nlpdojo_solutions.library import DenselyConnected, Stacked

    if kind == "dense":
        stack = DenselyConnected(backend, D, H, depth, layer=tanh_layer, seed=100 * seed)
    else:
        stack = Stacked(backend, D, H, depth, layer=tanh_layer, connection=kind,
                        seed=100 * seed)
    rng = np.random.default_rng(seed)
    xs = backend.asarray(rng.standard_normal((B, T, D)))  # (B, T, D)
    grad_output = rng.standard_normal((B, T, H))  # G: (B, T, H)
    _, cache = stack(xs, backend.asarray(np.zeros((B, H))))
    grad_xs, _ = stack.backward(backend.asarray(grad_output), cache)
    return float(np.linalg.norm(np.asarray(backend.to_numpy(grad_xs)))
                 / np.linalg.norm(grad_output))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-json", action="store_true")
    args = parser.parse_args()
    from nlpdojo.selection import load_backend

    backend = load_backend("numpy", "cpu", "float64")
    table = {kind: {depth: statistics.median(reaching(backend, kind, depth, s)
                                             for s in range(SEEDS))
                    for depth in DEPTHS} for kind in KINDS}
    labels = {"none": "Stacked, no connection", "residual": "Stacked, residual",
              "highway": "Stacked, highway (gate bias −1)", "dense": "DenselyConnected"}
    print(f"‖∂J/∂xs‖ / ‖G‖, tanh RNN layers, D = H = {H}, T = {T}, B = {B}, median of "
          f"{SEEDS} seeds; {machine()}\n", file=sys.stderr)
    print("| stack | " + " | ".join(f"L = {d}" for d in DEPTHS) + " |")
    print("|---|" + "---:|" * len(DEPTHS))
    for kind in KINDS:
        print(f"| {labels[kind]} | " + " | ".join(f"{table[kind][d]:.3g}" for d in DEPTHS)
              + " |")
    if args.write_json:
        NUMBERS.write_text(json.dumps({"sizes": {"B": B, "T": T, "D": D, "H": H},
                                       "seeds": SEEDS, "ratio": table}, indent=1) + "\n")


if __name__ == "__main__":
    main()
