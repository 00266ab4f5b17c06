"""What a graded training's CPU buys: the heaviest metric checks' runs at a fraction of their
budget, and in float32, against the whole budget in float64 (what grades today).

Issue 66 asks for at most 10 CPU-s a topic's grading. A student release of rnn_variants and
cnn_text costs 15-17 CPU-s on an Intel Xeon (docs/benchmarks.md, "Grading time per topic"),
about 10 of them in the graded trainings, so the target is out of reach unless those runs
shrink: this bench measures what shrinking them would cost the figure the grade reports.

Each run is the metric check's own (the reference's given trainer, the check's ``BUDGET``, the
grader's initial parameters at input seed 0, NumPy, one BLAS thread), its budget cut to a
fraction: the sentence classifiers train on the first fraction of MR's shuffled training
sentences (one epoch of Kim's two, for the CNN, is what a half does: the same steps), the LSTM
LM on ``max_windows`` times the fraction. Each run's figure is measured as its check measures
it where the whole data allows it: accuracy on MR's whole test split (1,057 sentences),
perplexity on the check's held-out stretch (30,000 tokens of the State of the Union test
split, from its start: the check draws the stretch's offset per grading). CPU is the
process's (``time.process_time``), the runs interleaved over ``--rounds``.

    .venv/bin/python bench/budget_tradeoff.py --rounds 2
"""

from __future__ import annotations

import argparse
import os
import time

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # before NumPy loads

import numpy as np  # noqa: E402
from _machine import machine  # noqa: E402  (bench/ is on sys.path)

#: the budget's fractions, and the precisions (the audit follows float64 to 1e-5; a float32
#: run is audited to 5e-2: autograder/training/trained.py, AUDIT_RTOL)
FRACTIONS = (1.0, 0.5, 1 / 3)
DTYPES = ("float64", "float32")


def _subset(ids: np.ndarray, lengths: np.ndarray, labels: np.ndarray, fraction: float):
    """The first ``fraction`` of the training sentences in a fixed shuffled order."""
    order = np.random.default_rng(0).permutation(len(labels))
    keep = order[:int(round(fraction * len(labels)))]
    return ids[keep], lengths[keep], labels[keep]


def classifiers():
    """Name -> run(backend, fraction) -> (figure's name, figure)."""
    from nlpdojo_autograder.training import initial_parameters
    from nlpdojo_autograder.training.prepare import labelled_sentences
    from nlpdojo_course.cnn_text import classifier as cnn
    from nlpdojo_course.rnn_variants import classifier as bilstm
    from nlpdojo_solutions.cnn_text import polarity_training
    from nlpdojo_solutions.rnn_variants import classifier_training

    data = labelled_sentences("mr", max_tokens=40, min_count=2)
    v = data.vocab_size

    def runner(module, budget, sizes, init):
        def run(backend, fraction):
            ids, lengths, labels = _subset(data.train_ids, data.train_lengths,
                                           data.train_labels, fraction)
            trained = module.train_polarity(backend, ids, lengths, labels, vocab_size=v,
                                            seed=0, init=init(), **dict(budget))
            scores = module.score_sentences(backend, trained["parameters"],
                                            (data.test_ids, data.test_lengths), vocab_size=v,
                                            **{k: budget[k] for k in sizes})
            return "accuracy", float(np.mean(np.asarray(scores).argmax(1) == data.test_labels))
        return run

    b = cnn.BUDGET
    return {
        "BiLSTM on MR (rnn_variants)": runner(
            classifier_training, bilstm.BUDGET, bilstm.SIZES,
            lambda: bilstm.open_forget_gates(initial_parameters(bilstm.classifier_shapes(
                v, bilstm.BUDGET["hidden"], bilstm.BUDGET["dim"]), 0))),
        "Kim's CNN on MR (cnn_text)": runner(
            polarity_training, b, cnn.SIZES,
            lambda: initial_parameters(cnn.cnn_shapes(v, b["dim"], b["filters"],
                                                      b["widths"]), 0)),
    }


def lstm_lm():
    """The LSTM LM on State of the Union (rnn_variants.lstm_lm_perplexity)."""
    from nlpdojo_autograder.training import initial_parameters, lm_shapes, token_streams
    from nlpdojo_autograder.training.evaluate import perplexity
    from nlpdojo_course.rnn_variants import language_model as lm
    from nlpdojo_solutions.rnn_variants import lm_training

    data = token_streams("sotu", **lm.NEURAL_DATA)
    shapes = lm_shapes("lstm", data.vocab_size, lm.BUDGET["dim"], lm.BUDGET["hidden"])
    heldout = data.test_ids[:30_000]
    sizes = {k: lm.BUDGET[k] for k in ("dim", "hidden", "cell", "dropout", "eval_bptt")}

    def run(backend, fraction):
        init = initial_parameters(shapes, 0)
        hidden = lm.BUDGET["hidden"]
        init["rnn.cell.bias"][hidden:2 * hidden] = 1.0  # the forget gate's, as lm_plan
        options = {**lm.BUDGET, "max_windows": int(round(lm.BUDGET["max_windows"] * fraction))}
        trained = lm_training.train_lm(backend, data.train_ids, vocab_size=data.vocab_size,
                                       seed=0, init=init, **options)
        log_probs = lm_training.score_lm(backend, trained["parameters"], heldout,
                                         vocab_size=data.vocab_size, **sizes)
        return "perplexity", perplexity(log_probs)
    return {"LSTM LM on State of the Union (rnn_variants)": run}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", default="", help="a comma-separated part of the names")
    args = parser.parse_args()
    from nlpdojo.selection import load_backend

    backends = {d: load_backend("numpy", "cpu", d) for d in DTYPES}
    runs = {**classifiers(), **lstm_lm()}
    chosen = {k: r for k, r in runs.items()
              if not args.models or any(p and p in k for p in args.models.split(","))}
    print(machine())
    print("| training | budget | dtype | CPU s (median) | figure | CPU / whole float64 |")
    print("|---|---|---|---|---|---|")
    for name, run in chosen.items():
        cpu: dict[tuple[float, str], list[float]] = {}
        figure: dict[tuple[float, str], tuple[str, float]] = {}
        for _ in range(args.rounds):
            for dtype in DTYPES:
                for fraction in FRACTIONS:
                    started = time.process_time()
                    figure[fraction, dtype] = run(backends[dtype], fraction)
                    cpu.setdefault((fraction, dtype), []).append(time.process_time() - started)
        whole = float(np.median(cpu[1.0, "float64"]))
        for (fraction, dtype), seconds in cpu.items():
            what, value = figure[fraction, dtype]
            median = float(np.median(seconds))
            print(f"| {name} | {fraction:.2f} | {dtype} | {median:.2f} | {what} {value:.4g} | "
                  f"{median / whole:.2f} |", flush=True)


if __name__ == "__main__":
    main()
