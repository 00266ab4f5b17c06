"""MR sentence polarity by 10-fold cross-validation (Kim 2014's protocol for MR, which has no
standard split): the BiLSTM-max classifier of topic ``rnn_variants``, the same one way (an
LSTM), ``language_models``' tanh RNN encoder with mean pooling, and Kim's CNN of topic
``cnn_text``, reference solutions on the NumPy backend, float32. The recurrent ones are trained
by the same given loop (``classifier_training``: Adam, batches of 50, gradients clipped at 5),
the CNN by its topic's (``polarity_training``: Adam, batches of 50, dropout 0.5 on the pooled
features, the output weights' max norm 3, Kim's regularisation, no clipping).

Per fold k: test = fold k (``MRPolarity.cv(k)``); a tenth of the other nine folds, drawn from
seed k, is the dev set and the rest trains; the vocabulary is the training part's words seen
twice or more; sentences are cut to 60 tokens. Each model trains up to ``--epochs`` epochs and
the epoch with the best dev accuracy is scored on test. Every fold's figures go to
``--results`` as they come, so a stopped run goes on from the next fold (``--resume``).

    python bench/mr_classifier_results.py                 # run (resumes), print the table
    python bench/mr_classifier_results.py --write-docs    # and write it into docs/results.md

Give NumPy's BLAS one thread on a shared machine (``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- rnn_variants-mr:begin -->", "<!-- rnn_variants-mr:end -->"
COMMAND = "python bench/mr_classifier_results.py --write-docs"
#: the table's rows: label and the model's settings
MODELS = {
    "bilstm": ("BiLSTM, max pooling", {"bidirectional": True, "pooling": "max"}),
    "lstm": ("LSTM (one way), max pooling", {"bidirectional": False, "pooling": "max"}),
    "rnn": ("tanh RNN, mean pooling (language_models)", {"pooling": "mean"}),
    "cnn": ("Kim's CNN, widths 3, 4, 5, 100 filters each, dropout 0.5, max norm 3 (cnn_text)",
            {"widths": (3, 4, 5), "filters": 100, "dropout": 0.5, "max_norm": 3.0}),
}
SETTINGS = {"dim": 100, "hidden": 100, "lr": 0.002, "clip": 5.0, "batch_size": 50,
            "max_tokens": 60, "min_count": 2}


def build(backend, name: str, vocab_size: int, seed: int):
    """A fresh model of row ``name``."""
    if name == "cnn":
        from nlpdojo_solutions.cnn_text.polarity_training import build_cnn

        sizes = {k: v for k, v in MODELS[name][1].items() if k != "max_norm"}
        return build_cnn(backend, vocab_size, dim=SETTINGS["dim"], seed=seed, **sizes)
    sizes = (vocab_size, SETTINGS["dim"], SETTINGS["hidden"], 2)
    if name == "rnn":
        from nlpdojo_solutions.language_models.encoder import SentenceClassifier

        return SentenceClassifier(backend, *sizes, seed=seed, **MODELS[name][1])
    from nlpdojo_solutions.rnn_variants.classifier import SentenceLSTM

    return SentenceLSTM(backend, *sizes, seed=seed, **MODELS[name][1])


def fold_texts(k: int) -> tuple[tuple[list, np.ndarray], tuple[list, np.ndarray], int]:
    """Fold k's sentences: ``(train texts, labels)``, ``(held-out texts, labels)`` and n: the
    held-out rows are the test fold's n sentences, then the dev tenth of the other nine folds
    (drawn from seed k), so that one tokenization serves both."""
    from nlpdojo_datasets.mr import MRPolarity

    train, test = MRPolarity().cv(k)
    rng = np.random.default_rng(k)
    dev = np.zeros(len(train.labels), bool)
    dev[rng.permutation(len(dev))[:len(dev) // 10]] = True
    texts = np.asarray(train.texts, dtype=object)
    return ((list(texts[~dev]), train.labels[~dev]),
            ([*test.texts, *texts[dev]], np.concatenate([test.labels, train.labels[dev]])),
            len(test.labels))


def split_held(data, n: int):
    """``data`` (:class:`~nlpdojo_autograder.training.SentenceData` of :func:`fold_texts`'
    sentences) as ``(data with the test fold as its test part, (dev ids, lengths, labels))``."""
    held = (data.test_ids[n:], data.test_lengths[n:], data.test_labels[n:])
    fit = dataclasses.replace(data, test_ids=data.test_ids[:n],
                              test_lengths=data.test_lengths[:n], test_labels=data.test_labels[:n])
    return fit, held


def fold_data(k: int):
    """Fold k's (train, dev, test) as padded id matrices with one vocabulary."""
    from nlpdojo_autograder.training import sentence_matrices

    (train_texts, train_labels), (held_texts, held_labels), n = fold_texts(k)
    return split_held(sentence_matrices(train_texts, train_labels, held_texts, held_labels,
                                        max_tokens=SETTINGS["max_tokens"],
                                        min_count=SETTINGS["min_count"]), n)


def run_fold(backend, name: str, k: int, epochs: int) -> dict:
    data, held = fold_data(k)
    model = build(backend, name, data.vocab_size, seed=k)
    return fit(backend, model, data, held, k, epochs, label=name, cnn=name == "cnn")


def fit(backend, model, data, held, k: int, epochs: int, *, label: str, cnn: bool,
        trainable=None) -> dict:
    """Train ``model`` on ``data`` one epoch at a time (batch order of epoch e drawn from seed
    1000 k + e), the CNN by its topic's loop (``cnn``), the others by ``classifier_training``;
    score the test fold at the epoch of best accuracy on ``held`` (the dev tenth).
    ``trainable``: the model as the optimizer sees it (default ``model``; a view that leaves
    parameters out keeps them as they are)."""
    from nlpdojo_solutions.cnn_text.polarity_training import cnn_scores, train_cnn
    from nlpdojo_solutions.rnn_variants.classifier_training import (
        sentence_scores,
        train_classifier,
    )

    dev_ids, dev_lengths, dev_labels = held
    trainable = model if trainable is None else trainable
    if cnn:
        sentence_scores = cnn_scores  # noqa: F811 - the CNN's own, the same contract
    best, history, start = (-1.0, None, 0), [], time.perf_counter()
    for epoch in range(1, epochs + 1):
        common = {"epochs": 1, "lr": SETTINGS["lr"], "batch_size": SETTINGS["batch_size"],
                  "seed": 1000 * k + epoch}
        if cnn:
            train_cnn(backend, trainable, data.train_ids, data.train_lengths,
                      data.train_labels, max_norm=MODELS["cnn"][1]["max_norm"], **common)
        else:
            train_classifier(backend, trainable, data.train_ids, data.train_lengths,
                             data.train_labels, clip=SETTINGS["clip"], **common)
        dev = float(np.mean(sentence_scores(backend, model, dev_ids, dev_lengths).argmax(1)
                            == dev_labels))
        history.append(round(dev, 4))
        if dev > best[0]:
            test = sentence_scores(backend, model, data.test_ids, data.test_lengths)
            best = (dev, float(np.mean(test.argmax(1) == data.test_labels)), epoch)
        print(f"  fold {k} {label} epoch {epoch}: dev {dev:.4f}", file=sys.stderr, flush=True)
    return {"test": best[1], "dev": best[0], "epoch": best[2], "dev_history": history,
            "minutes": (time.perf_counter() - start) / 60, "vocab": data.vocab_size,
            "train": len(data.train_labels), "test_size": len(data.test_labels)}


def table(results: dict) -> str:
    from _machine import cpu_model

    lines = ["| model | accuracy, mean ± sd over folds | folds | best epochs (median) | "
             "minutes per fold (median) |", "|---|---|---|---|---|"]
    for name, (label, _) in MODELS.items():
        folds = results.get("folds", {}).get(name, {})
        if not folds:
            continue
        acc = [f["test"] for f in folds.values()]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        lines.append(f"| {label} | {statistics.mean(acc):.3f} ± {sd:.3f} | {len(acc)} | "
                     f"{statistics.median(f['epoch'] for f in folds.values()):g} | "
                     f"{statistics.median(f['minutes'] for f in folds.values()):.1f} |")
    lines += ["", *paired(results.get("folds", {}))]
    meta = results.get("meta", {})
    return "\n".join([
        "## MR sentence polarity, 10-fold cross-validation (topics `rnn_variants`, "
        "`cnn_text`)", "",
        f"Produced by `{COMMAND}`: reference solutions, NumPy backend, float32; "
        f"{', '.join(f'{k} {v}' for k, v in SETTINGS.items())}; up to "
        f"{meta.get('epochs', '?')} epochs, the epoch with the best accuracy on a dev tenth of "
        "the training folds scored on the test fold (Kim 2014's protocol). "
        f"{ran(meta, results.get('folds', {})) or 'Ran on ' + cpu_model()}.", "",
        *lines, "",
        "For scale, on MR: Kim's CNN with random embeddings 76.1, with word2vec 81.5 (Kim 2014, "
        "table 2).", ""])


def ran(meta: dict, folds: dict) -> str:
    """When and where each row ran (``meta["runs"]``; rows run before it was kept: the run's
    ``date`` and ``machine``)."""
    runs = {name: meta.get("runs", {}).get(name, {"date": meta.get("date", "?"),
                                                  "machine": meta.get("machine", "?")})
            for name in MODELS if folds.get(name)}
    groups: dict[tuple[str, str], list[str]] = {}
    for name, run in runs.items():
        groups.setdefault((run["date"], run["machine"]), []).append(name)
    return "; ".join(f"{', '.join(names)} ran {when} on {where}"
                     for (when, where), names in groups.items())


def paired(folds: dict) -> list[str]:
    """The BiLSTM against each other row, fold by fold (the same test folds): the mean
    difference, its sd over folds, the folds it wins; and how training went (dev accuracy at
    the best epoch against the last)."""
    out = []
    base = folds.get("bilstm", {})
    for name, (label, _) in MODELS.items():
        other = folds.get(name, {})
        shared = sorted(set(base) & set(other), key=int)
        if name == "bilstm" or len(shared) < 2:
            continue
        diff = [base[k]["test"] - other[k]["test"] for k in shared]
        wins = sum(d > 0 for d in diff)
        out.append(f"BiLSTM minus {label}, fold by fold: {statistics.mean(diff):+.3f} ± "
                   f"{statistics.stdev(diff):.3f} (BiLSTM ahead on {wins} of {len(shared)} "
                   "folds).")
    drops = [f["dev"] - f["dev_history"][-1] for name, runs in folds.items() if name != "cnn"
             for f in runs.values()]
    cnn_drops = [f["dev"] - f["dev_history"][-1] for f in folds.get("cnn", {}).values()]
    if drops:
        out.append(f"Dev accuracy peaks early (median best epoch in the table) and then falls: "
                   f"for the recurrent models by {statistics.median(drops):.3f} (median) at the "
                   "last epoch, which have no dropout and overfit the 8,500 training sentences "
                   "after a few passes; the CNN, with dropout and max norm, by "
                   f"{statistics.median(cnn_drops):.3f}. The best-dev epoch, not the last, is "
                   "scored." if cnn_drops else
                   f"Dev accuracy peaks early (median best epoch in the table) and then falls: "
                   f"by {statistics.median(drops):.3f} (median) at the last epoch; the models "
                   "have no dropout and overfit the 8,500 training sentences after a few "
                   "passes, so the best-dev epoch, not the last, is scored.")
    return out


def write_docs(text: str, begin: str = BEGIN, end: str = END, *, after: str | None = None
               ) -> None:
    """Put ``text`` between the markers ``begin`` and ``end`` of docs/results.md (a section
    not there yet goes right after the marker ``after`` where given and found, else at the
    end)."""
    path = ROOT / "docs" / "results.md"
    doc = path.read_text()
    block = f"{begin}\n{text}\n{end}"
    if begin in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    elif after is not None and after in doc:
        at = doc.index(after) + len(after)
        doc = doc[:at] + "\n\n" + block + doc[at:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(doc)


def selection(p, models: str, folds: str, known) -> tuple[list[str], list[int]]:
    """The rows (``a,b``) and folds (``0-9`` or ``0,3``) a command line names; an unknown row
    is the parser's error."""
    names = [m for m in models.split(",") if m]
    unknown = sorted(set(names) - set(known))
    if unknown:
        p.error(f"unknown model {unknown[0]!r}; choose from {', '.join(known)}")
    a, _, b = folds.partition("-")
    return names, (list(range(int(a), int(b) + 1)) if b else [int(x) for x in folds.split(",")])


def run_folds(results: dict, path: Path, names: list[str], folds: list[int], run, meta: dict
              ) -> None:
    """``run(name, k)`` for every row and fold ``results`` lacks, each fold's figures written
    to ``path`` as it comes (with ``meta`` the first time, and when and where the row ran), so
    that a stopped run goes on from the next fold."""
    from _machine import machine

    for name in names:
        for k in folds:
            done = results.setdefault("folds", {}).setdefault(name, {})
            if str(k) in done:
                continue
            done[str(k)] = run(name, k)
            kept = results.setdefault("meta", meta)
            kept.setdefault("runs", {})[name] = {"date": date.today().isoformat(),
                                                 "machine": machine()}
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(results, indent=1) + "\n")
            print(f"{name} fold {k}: test {done[str(k)]['test']:.4f} (epoch "
                  f"{done[str(k)]['epoch']}, {done[str(k)]['minutes']:.1f} min)", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--folds", default="0-9", help="0-9, or a list such as 0,1")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--results", type=Path,
                   default=ROOT / "bench" / "results" / "mr_classifiers.json")
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from nlpdojo.selection import load_backend

    backend = load_backend("numpy", "cpu", "float32")
    names, folds = selection(p, args.models, args.folds, MODELS)
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    if results.get("meta", {}).get("settings", SETTINGS) != SETTINGS or \
            results.get("meta", {}).get("epochs", args.epochs) != args.epochs:
        p.error(f"{args.results} holds a run with other settings; move it away to start anew")
    run_folds(results, args.results, names, folds,
              lambda name, k: run_fold(backend, name, k, args.epochs),
              {"settings": SETTINGS, "epochs": args.epochs})
    text = table(results)
    print(text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
