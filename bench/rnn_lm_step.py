"""One RNN language-model training step: nlpdojo's NumPy reference against PyTorch on the CPU.

The step is what ``train_rnn_lm`` does per window: embedding look-up, a tanh RNN over T steps,
the output layer at every step, softmax cross-entropy averaged over all B·T predictions,
backward through time and one SGD update. nlpdojo: ``nlpdojo_solutions.language_models.
rnn_lm.RNNLM`` with the library's ``SoftmaxCrossEntropy`` and ``SGD`` on the NumPy backend
(float32). Peer, measured in the same run with the same sizes: ``torch.nn.Embedding`` +
``torch.nn.RNN`` (tanh, batch first) + ``torch.nn.Linear`` + ``F.cross_entropy`` with autograd
and ``torch.optim.SGD``, float32 on the CPU, with the same number of threads as NumPy's BLAS
(1 unless ``--threads``). Medians of ``--repeat`` steps after warm-up; the ratio is
torch's time over ours (above 1: NumPy faster).

    python bench/rnn_lm_step.py                 # V=10,000, B=20, T=35, D=H=200
    python bench/rnn_lm_step.py --vocab 2000 --hidden 64 --dim 32 --bptt 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def median_ms(step, repeat: int) -> float:
    for _ in range(3):
        step()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--dim", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for both NumPy's BLAS and torch (set before import)")
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before NumPy loads its BLAS
    import numpy as np

    from nlpdojo.selection import load_backend
    from nlpdojo_solutions.language_models.rnn_lm import RNNLM
    from nlpdojo_solutions.library.losses import SoftmaxCrossEntropy
    from nlpdojo_solutions.library.optim import SGD

    V, B, T, D, H = args.vocab, args.batch, args.bptt, args.dim, args.hidden
    rng = np.random.default_rng(0)
    ids = rng.integers(0, V, (B, T + 1))
    x, y = ids[:, :-1], ids[:, 1:]  # (B, T) inputs, targets shifted by one

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

    results = {"nlpdojo NumPy RNNLM": median_ms(ours, args.repeat)}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)
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

        results["torch.nn.RNN + Linear + CE (CPU)"] = median_ms(peer, args.repeat)
    print(f"one training step: V={V:,}, B={B}, T={T}, D={D}, H={H}, float32, "
          f"{args.threads} thread(s), median of {args.repeat}")
    print("| implementation | ms per step |\n|---|---|")
    for name, ms in results.items():
        print(f"| {name} | {ms:.2f} |")
    if len(results) == 2:
        ours_ms, peer_ms = results.values()
        print(f"\nratio torch / nlpdojo NumPy: {peer_ms / ours_ms:.2f}x "
              f"({'NumPy faster' if peer_ms > ours_ms else 'torch faster'})")


if __name__ == "__main__":
    main()
