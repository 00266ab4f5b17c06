"""The graded MR trainings in batches of similar lengths against shuffled batches.

Each of the three sentence classifiers the grader trains on MR (rnn_variants' BiLSTM,
cnn_text's Kim CNN, language_models' RNN encoder) trained as its metric check trains it: the
given ``train_polarity`` of the reference solutions, the check's budget (``BUDGET`` of its
course module), the grader's initial parameters at input seed 0 (the LSTM's forget gates at
one), NumPy in float64, one BLAS thread. Peer, in the same process: the same run with
``bucketing=0``, the shuffled batches of ``nlpdojo.training.train_on_sentences`` (every batch
cut to its longest sentence). The two run interleaved, ``--rounds`` rounds; a round's ratio is
shuffled CPU / bucketed CPU (above 1: bucketing faster). Each run's accuracy on MR's whole
test split (scored by the reference's ``score_sentences``) is reported beside it, with the
recurrence's padded steps per epoch (sum over batches of the batch's longest sentence).

    OMP_NUM_THREADS=1 python bench/mr_bucketing.py --rounds 3
"""

from __future__ import annotations

import argparse
import os
import time

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # before NumPy loads

import numpy as np  # noqa: E402
from _machine import machine, ratios, spread  # noqa: E402  (bench/ is on sys.path)


def models() -> dict:
    """Name -> (given module, budget, scoring sizes, the grader's initial parameters)."""
    from nlpdojo_autograder.training import initial_parameters
    from nlpdojo_course.cnn_text import classifier as cnn
    from nlpdojo_course.language_models import encoder
    from nlpdojo_course.rnn_variants import classifier as bilstm
    from nlpdojo_solutions.cnn_text import polarity_training
    from nlpdojo_solutions.language_models import sentence_training
    from nlpdojo_solutions.rnn_variants import classifier_training

    def bilstm_init(vocab: int) -> dict:
        return bilstm.open_forget_gates(initial_parameters(bilstm.classifier_shapes(
            vocab, bilstm.BUDGET["hidden"], bilstm.BUDGET["dim"]), 0))

    b = cnn.BUDGET
    return {
        "BiLSTM (rnn_variants)": (classifier_training, bilstm.BUDGET, bilstm.SIZES, bilstm_init),
        "Kim's CNN (cnn_text)": (polarity_training, b, cnn.SIZES, lambda v: initial_parameters(
            cnn.cnn_shapes(v, b["dim"], b["filters"], b["widths"]), 0)),
        "RNN encoder (language_models)": (
            sentence_training, encoder.CLASSIFIER, ("dim", "hidden", "pooling"),
            lambda v: initial_parameters(encoder.classifier_shapes(v, encoder.CLASSIFIER), 0)),
    }


def padded_steps(lengths: np.ndarray, bucketing: int) -> int:
    from nlpdojo.training import batches_of_sentences

    batches = batches_of_sentences(np.random.default_rng(0), lengths, 50, bucketing)
    return sum(int(lengths[rows].max()) for rows in batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--models", default="", help="a comma-separated part of the names")
    args = parser.parse_args()
    from nlpdojo.selection import load_backend
    from nlpdojo_autograder.training.prepare import labelled_sentences

    backend = load_backend("numpy", "cpu", "float64")
    data = labelled_sentences("mr", max_tokens=40, min_count=2)
    v = data.vocab_size
    chosen = {k: m for k, m in models().items()
              if not args.models or any(p and p in k for p in args.models.split(","))}
    print(f"MR: {len(data.train_labels):,} training sentences, {v:,} words; padded steps an "
          f"epoch: shuffled {padded_steps(data.train_lengths, 0):,}, bucketed (pools of 10) "
          f"{padded_steps(data.train_lengths, 10):,}")
    print(machine())
    print("| model | shuffled batches, CPU s | bucketed, CPU s | shuffled / bucketed | "
          "test accuracy, shuffled | bucketed |")
    print("|---|---|---|---|---|---|")
    for name, (module, budget, sizes, init) in chosen.items():
        cpu: dict[int, list[float]] = {0: [], budget["bucketing"]: []}
        accuracy: dict[int, float] = {}
        for _ in range(args.rounds):
            for bucketing in cpu:
                options = {**budget, "bucketing": bucketing}
                started = time.process_time()
                run = module.train_polarity(backend, data.train_ids, data.train_lengths,
                                            data.train_labels, vocab_size=v, seed=0,
                                            init=init(v), **options)
                cpu[bucketing].append(time.process_time() - started)
                scores = module.score_sentences(
                    backend, run["parameters"], (data.test_ids, data.test_lengths),
                    vocab_size=v, **{k: budget[k] for k in sizes})
                accuracy[bucketing] = float(np.mean(scores.argmax(1) == data.test_labels))
        plain, bucketed = cpu.values()
        acc = list(accuracy.values())
        print(f"| {name} | {spread(plain)} | {spread(bucketed)} | "
              f"**{spread(ratios(plain, bucketed))}x** | {acc[0]:.4f} | {acc[1]:.4f} |")


if __name__ == "__main__":
    main()
