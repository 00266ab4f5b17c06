"""The vanishing-gradient figure of topic ``rnn_variants`` (CS224n lecture 7; Pascanu et al.
2013), from the reference solutions on State of the Union text, written to
``docs/figures/vanishing.svg`` with its numbers in ``bench/results/vanishing.json``.

Left: ‖∂J/∂h⁽ᵀ⁻ᵏ⁾‖ / ‖∂J/∂h⁽ᵀ⁾‖ against k for a loss J at the last of T = 50 steps
(``state_gradient_norms``, the question ``vanishing``), over 20 streams of SOTU tokens embedded
by a fixed random table (32-d, unit variance): a tanh RNN whose W_h is rescaled to largest
singular value σ ∈ {0.5, 1, 2, 4}, with Pascanu et al.'s bound σᵏ (γ = 1 for tanh) for σ = 0.5,
and an LSTM and a GRU cell as the library initialises them (σ of their whole W_h noted).

Right: what clipping does to a run that explodes: ``GatedLM(cell="rnn")`` (the tanh RNN LM,
32-d embeddings, 64 units, W_h rescaled to σ = 3) trained by ``train_gated_lm`` with SGD at
lr 3 on 300 windows of 20 × 35 SOTU tokens, unclipped and clipped at global norm 1.

    python bench/vanishing_figure.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIGURE = ROOT / "docs" / "figures" / "vanishing.svg"
NUMBERS = ROOT / "bench" / "results" / "vanishing.json"
STREAMS, T, D, H = 20, 50, 32, 64
SIGMAS = (0.5, 1.0, 2.0, 4.0)
EXPLODE = {"sigma": 3.0, "lr": 3.0, "clip": 1.0, "windows": 300, "bptt": 35}


def curves(backend, ids: np.ndarray) -> dict[str, list[float]]:
    """Each cell's norms k = 0..T steps back, relative to k = 0."""
    from nlpdojo_solutions.rnn_variants.gradient_flow import build_cell
    from nlpdojo_solutions.rnn_variants.vanishing import state_gradient_norms

    rng = np.random.default_rng(0)
    table = rng.standard_normal((int(ids.max()) + 1, D))
    rows = ids[:STREAMS * T].reshape(STREAMS, T)  # (B, T) consecutive stretches of text
    xs = backend.asarray(table[rows])  # (B, T, D)
    grad_last = backend.asarray(rng.standard_normal((STREAMS, H)) / np.sqrt(H))
    zeros = backend.asarray(np.zeros((STREAMS, H)))
    out: dict[str, list[float]] = {}
    runs = [(f"tanh RNN, σ = {s:g}", "rnn", s) for s in SIGMAS]
    runs += [("LSTM (library init)", "lstm", None), ("GRU (library init)", "gru", None)]
    for label, kind, sigma in runs:
        cell = build_cell(backend, kind, D, H, sigma=sigma, seed=1)
        state0 = (zeros, zeros) if kind == "lstm" else zeros
        norms = np.asarray(backend.to_numpy(state_gradient_norms(cell, xs, state0, grad_last)),
                           np.float64)
        w = np.asarray(backend.to_numpy(cell.weight_h.data), np.float64)
        out[label] = {"relative": (norms / norms[0]).tolist(),
                      "sigma_max": float(np.linalg.norm(w, 2))}
    return out


def explosion(backend, ids: np.ndarray) -> dict[str, list[float]]:
    """The tanh RNN LM's training losses, unclipped and clipped."""
    from nlpdojo_solutions.rnn_variants.gradient_flow import scaled_to
    from nlpdojo_solutions.rnn_variants.lstm_lm import GatedLM, train_gated_lm

    out = {}
    for label, clip in (("unclipped", None), (f"clipped at {EXPLODE['clip']:g}",
                                              EXPLODE["clip"])):
        lm = GatedLM(backend, int(ids.max()) + 1, D, H, cell="rnn", seed=0)
        w = np.asarray(backend.to_numpy(lm.rnn.cell.weight_h.data), np.float64)
        lm.rnn.cell.weight_h.data = backend.asarray(scaled_to(w, EXPLODE["sigma"]),
                                                    dtype=backend.default_dtype)
        out[label] = train_gated_lm(backend, lm, ids, optimizer="sgd", lr=EXPLODE["lr"],
                                    clip=clip, bptt=EXPLODE["bptt"],
                                    max_windows=EXPLODE["windows"])
    return out


def plot(norms: dict, losses: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "nlpdojo"  # the same file for the same numbers
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    k = np.arange(T + 1)
    for label, run in norms.items():
        style = "-" if label.startswith("tanh") else "--"
        left.semilogy(k, run["relative"], style,
                      label=f"{label} (σ_max {run['sigma_max']:.2f})")
    left.semilogy(k, SIGMAS[0] ** k, ":", color="grey", label=f"bound σᵏ, σ = {SIGMAS[0]:g}")
    left.set(xlabel="k, steps back from the loss", ylabel="‖∂J/∂h⁽ᵀ⁻ᵏ⁾‖ / ‖∂J/∂h⁽ᵀ⁾‖",
             title="Gradient reaching k steps back (SOTU text)", ylim=(1e-36, 1e4))
    left.legend(fontsize=7)
    for label, run in losses.items():
        right.plot(np.arange(1, len(run) + 1), run, label=label, linewidth=1)
    right.set(xlabel="SGD step", ylabel="training loss (nats)", yscale="log",
              title=f"tanh RNN LM, σ_max(W_h) = {EXPLODE['sigma']:g}, lr {EXPLODE['lr']:g}")
    right.legend()
    fig.tight_layout()
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURE, metadata={"Date": None})


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from nlpdojo.selection import load_backend
    from nlpdojo_autograder.training import token_streams

    ids = token_streams("sotu", train_texts=40, vocab_size=2000).train_ids
    norms = curves(load_backend("numpy", "cpu", "float64"), ids)
    losses = explosion(load_backend("numpy", "cpu", "float32"), ids)
    NUMBERS.parent.mkdir(parents=True, exist_ok=True)
    NUMBERS.write_text(json.dumps({"norms": norms, "losses": losses}, indent=1) + "\n")
    plot(norms, losses)
    for label, run in norms.items():
        r = run["relative"]
        print(f"{label:24s} σ_max {run['sigma_max']:.2f}: k=10 {r[10]:.2e}, k=50 {r[50]:.2e}")
    for label, run in losses.items():
        print(f"{label:16s} loss: max {max(run):.2f}, mean of the last 50 {np.mean(run[-50:]):.2f}")
    print(f"wrote {FIGURE.relative_to(ROOT)} and {NUMBERS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
