"""MR sentence polarity by 10-fold cross-validation: the very deep CNN of topic ``cnn_text``
(``VeryDeepCNN``, Conneau et al. 2017, depth 9) against Kim's single-layer CNN of the same
topic, on the folds, vocabulary, settings and protocol of ``bench/mr_classifier_results.py``
(its ``fold_data``; Kim's CNN is its ``cnn`` row, read from its results file, so the two are
compared fold by fold on the same test folds). Reference solutions, NumPy backend, float32.

VD-CNN is trained as the paper trains it, without dropout or max norm (batch norm is its
regulariser), but with the table's Adam (lr 0.002, batches of 50; the paper: SGD with
momentum 0.9, lr 0.01, batches of 128), one optimizer for the whole run. The training kit cuts
each batch to its longest sentence (60 tokens at most); every batch is then padded with id 0
to the network's ``min_length`` (71 at the paper's k = 8 after three poolings), as the paper
pads every text to one length. Up to ``--epochs`` epochs, the one with the best dev accuracy
scored on the test fold; every fold's figures go to ``--results`` as they come (a stopped run
goes on from the next fold).

    OMP_NUM_THREADS=1 python bench/mr_vdcnn_results.py --write-docs

The network is the paper's depth 9 (four stages of one block, k = 8) at half its channels
(32 to 256, not 64 to 512) and a quarter of its hidden units (512, not 2048), over the table's
100-d word vectors (the paper embeds characters in 16): at the paper's sizes an epoch took 1.4
min on one core here (Intel Xeon), 11 min a fold of 8 epochs, against about 0.4 min.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/: the table's script, _machine
import mr_classifier_results as mr  # noqa: E402

ROOT = mr.ROOT
BEGIN, END = "<!-- cnn_text-vdcnn-mr:begin -->", "<!-- cnn_text-vdcnn-mr:end -->"
COMMAND = "OMP_NUM_THREADS=1 python bench/mr_vdcnn_results.py --write-docs"
#: the rows: label and the network's sizes
MODELS = {
    "vdcnn9": ("VD-CNN, depth 9, half the paper's widths: channels 32, 64, 128, 256, one "
               "block a stage, k 8, two hidden layers of 512 (cnn_text)",
               {"channels": (32, 64, 128, 256), "blocks": 1, "k": 8, "hidden": 512}),
}
#: Kim's CNN as bench/mr_classifier_results.py ran it (its ``cnn`` row)
KIM = (mr.MODELS["cnn"][0], ROOT / "bench" / "results" / "mr_classifiers.json")


class PaddedToMinLength:
    """A :class:`VeryDeepCNN` over batches cut to their longest sentence: each padded at the
    end with id 0 to the network's ``min_length``, which the padding mask already covers."""

    def __init__(self, net) -> None:
        self.net = net

    def __call__(self, ids, lengths):
        xp, short = self.net.xp, self.net.min_length - ids.shape[1]
        if short > 0:
            pad = xp.zeros((ids.shape[0], short), dtype=ids.dtype, device=self.net.backend.device)
            ids = xp.concat([ids, pad], axis=1)  # (b, min_length)
        return self.net(ids, lengths)

    def backward(self, grad_output, cache):
        return self.net.backward(grad_output, cache)

    def parameters(self):
        return self.net.parameters()

    def eval(self):
        return self.net.eval()

    def train(self, mode: bool = True):
        return self.net.train(mode)


def run_fold(backend, name: str, k: int, epochs: int) -> dict:
    """Fold k of row ``name``: the table's epoch loop and scoring (``mr.fit``'s), but the
    paper's training, which is neither of fit's (the CNN's max norm, the recurrent models'
    clipping): no constraint, one Adam for every epoch."""
    from nlpdojo import training
    from nlpdojo_solutions.cnn_text.vdcnn import VeryDeepCNN
    from nlpdojo_solutions.library import Adam, SoftmaxCrossEntropy

    settings = mr.SETTINGS
    data, (dev_ids, dev_lengths, dev_labels) = mr.fold_data(k)
    model = PaddedToMinLength(VeryDeepCNN(backend, data.vocab_size, settings["dim"], 2, seed=k,
                                          **MODELS[name][1]))
    optimizer, loss_fn = Adam(model.parameters(), lr=settings["lr"]), SoftmaxCrossEntropy(backend)

    def scores(ids, lengths):
        return training.sentence_scores(backend, model, ids, lengths, classes=2)

    best, history, start = (-1.0, None, 0), [], time.perf_counter()
    for epoch in range(1, epochs + 1):
        training.train_on_sentences(backend, model, data.train_ids, data.train_lengths,
                                    data.train_labels, loss_fn=loss_fn, optimizer=optimizer,
                                    batch_size=settings["batch_size"], epochs=1,
                                    seed=1000 * k + epoch)
        dev = float(np.mean(scores(dev_ids, dev_lengths).argmax(1) == dev_labels))
        history.append(round(dev, 4))
        if dev > best[0]:
            test = scores(data.test_ids, data.test_lengths)
            best = (dev, float(np.mean(test.argmax(1) == data.test_labels)), epoch)
        print(f"  fold {k} {name} epoch {epoch}: dev {dev:.4f} "
              f"({(time.perf_counter() - start) / 60:.1f} min)", file=sys.stderr, flush=True)
    return {"test": best[1], "dev": best[0], "epoch": best[2], "dev_history": history,
            "minutes": (time.perf_counter() - start) / 60, "vocab": data.vocab_size,
            "train": len(data.train_labels), "test_size": len(data.test_labels)}


def _row(label: str, folds: dict) -> str:
    acc = [f["test"] for f in folds.values()]
    sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
    return (f"| {label} | {statistics.mean(acc):.3f} ± {sd:.3f} | {len(acc)} | "
            f"{statistics.median(f['epoch'] for f in folds.values()):g} | "
            f"{statistics.median(f['minutes'] for f in folds.values()):.1f} |")


def table(results: dict, kim: dict) -> str:
    lines = ["| model | accuracy, mean ± sd over folds | folds | best epochs (median) | "
             "minutes per fold (median) |", "|---|---|---|---|---|"]
    if kim:
        lines.append(_row(KIM[0], kim))
    paired = []
    for name, (label, _) in MODELS.items():
        folds = results.get("folds", {}).get(name, {})
        if not folds:
            continue
        lines.append(_row(label, folds))
        shared = sorted(set(folds) & set(kim), key=int)
        if len(shared) > 1:
            diff = [folds[f]["test"] - kim[f]["test"] for f in shared]
            drop = statistics.median(f["dev"] - f["dev_history"][-1] for f in folds.values())
            mean, sd = statistics.mean(diff), statistics.stdev(diff)
            verdict = ("level with Kim's CNN within the folds' spread: on this little "
                       "data, depth 9 gains nothing measurable over one layer of wide filters"
                       if abs(mean) < sd else
                       "ahead of" if mean > 0 else "behind")
            if abs(mean) >= sd:
                verdict += " Kim's CNN by more than the folds' spread"
            paired.append(f"{name} minus Kim's CNN, fold by fold: {mean:+.3f} ± {sd:.3f} "
                          f"(ahead on {sum(d > 0 for d in diff)} of {len(shared)} folds): "
                          f"{verdict}. Its dev accuracy falls by {drop:.3f} (median) from its "
                          "best epoch to the last.")
    runs = results.get("meta", {}).get("runs", {})
    ran = "; ".join(f"{name} ran {run['date']} on {run['machine']}" for name, run in runs.items())
    return "\n".join([
        "## MR sentence polarity: a very deep CNN against Kim's (topic `cnn_text`)", "",
        f"Produced by `{COMMAND}`: the folds, vocabulary and settings of the table above (dim "
        "100, lr 0.002, batches of 50, up to 8 epochs, the best-dev epoch scored), Kim's row "
        "from it; VD-CNN without dropout or max norm, one Adam for the whole run, every batch "
        "padded to 71 positions; the paper's depth 9 at half its channels and a quarter of its "
        f"hidden units (its sizes: 11 min a fold here). {ran}.", "", *lines, "", *paired, "",
        "Conneau et al. (2017) do not report MR: they train on eight large data sets of 120,000 "
        "to 3.6 million texts of characters (AG's news to Amazon reviews), where depth pays "
        "(their Table 4: test error falls from depth 9 to 29 on every set, on Yelp polarity "
        "from about 5 % to 4.3 %: figures recalled, not checked against the paper here). MR has "
        "10,662 sentences of words (about 8,600 train a fold "
        "here); Kim's CNN with random embeddings reaches 76.1 there (Kim 2014). Each row's "
        "minutes are its own machine's.", ""])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--folds", default="0-9", help="0-9, or a list such as 0,1")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "mr_vdcnn.json")
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args()
    from nlpdojo.selection import load_backend

    backend = load_backend("numpy", "cpu", "float32")
    names, folds = mr.selection(p, args.models, args.folds, MODELS)
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    if results.get("meta", {}).get("epochs", args.epochs) != args.epochs:
        p.error(f"{args.results} holds a run of other epochs; move it away to start anew")
    mr.run_folds(results, args.results, names, folds,
                 lambda name, k: run_fold(backend, name, k, args.epochs), {"epochs": args.epochs})
    kim = json.loads(KIM[1].read_text()).get("folds", {}).get("cnn", {}) if KIM[1].exists() \
        else {}
    text = table(results, kim)
    print(text)
    if args.write_docs:
        mr.write_docs(text, BEGIN, END, after=mr.END)


if __name__ == "__main__":
    main()
