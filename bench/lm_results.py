"""Test perplexity of every count language model of topic ``language_models`` on the three LM
corpora (the State of the Union addresses ``sotu``, the movie reviews ``pang-lee-reviews`` and
the Brown corpus ``brown``), as in the course's n-gram vs RNN table; writes the "Language
models" section of docs/results.md.

Each model trains on the whole train split (words seen twice or more, the rest ``<UNK>``;
n − 1 ``<s>`` and one ``</s>`` per sentence, ``</s>`` predicted, ``<s>`` never), its one
hyper-parameter (δ or the discount d) is chosen on the valid split from a small grid, and the
test split is scored once with that choice. The reference solutions compute everything (the
same code whose parity with ``nltk.lm`` the tests prove). Rows of models measured elsewhere
(the neural LMs) are listed in :data:`PENDING` and shown as not yet measured.

    python bench/lm_results.py               # print the table
    python bench/lm_results.py --write-docs  # and replace the section in docs/results.md
"""

from __future__ import annotations

import argparse
import json
import time
from itertools import pairwise
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ("sotu", "pang-lee-reviews", "brown")
DELTAS = (1.0, 0.1, 0.01, 0.001, 0.0001)
DISCOUNTS = (0.5, 0.75, 0.9, 1.0)
#: (label, smoothing, order): the count models, weakest first
MODELS = (
    ("unigram, add-δ", "add-delta", 1),
    ("bigram, add-δ", "add-delta", 2),
    ("trigram, add-δ", "add-delta", 3),
    ("bigram, backoff (absolute discounting)", "backoff", 2),
    ("trigram, backoff (absolute discounting)", "backoff", 3),
    ("bigram, Kneser-Ney", "kneser-ney", 2),
    ("trigram, Kneser-Ney", "kneser-ney", 3),
    ("4-gram, Kneser-Ney", "kneser-ney", 4),
)
#: the neural models' rows, measured by bench/lm_neural_results.py (its JSON, when there)
PENDING = ("fixed-window neural LM", "RNN LM", "LSTM LM", "GRU LM")
#: rows measured on one corpus only (rnn_variants' deep LSTMs): shown once measured somewhere
ONE_CORPUS = ("2-layer LSTM LM", "2-layer LSTM LM, residual", "2-layer LSTM LM, highway")
#: the neural LMs whose test perplexity is set against the best count model's, and (the gated
#: ones) against the RNN LM's (issue targets: the LSTM LM below both, 10 % below the former)
COMPARED = ("rnn", "lstm", "gru")
#: the gated LMs' target (the rnn_variants issue): at least this much below the best count model
GATED, GATED_TARGET = ("lstm", "gru"), 0.10
#: the deep LSTMs, compared with the one-layer LSTM at equal epochs
DEEP = ("lstm-2layer", "lstm-residual", "lstm-highway")
#: Bengio et al. 2003, table 1 (Brown): test perplexity of the best neural model and n-gram
BENGIO_NEURAL, BENGIO_NGRAM = 252, 312
NEURAL = ROOT / "bench" / "results" / "lm_neural.json"
NEURAL_COMMAND = "python bench/lm_neural_results.py"
BEGIN, END = "<!-- language_models results: begin -->", "<!-- language_models results: end -->"
COMMAND = "python bench/lm_results.py --write-docs"
NOTE = ("Add-δ gets worse from bigrams to trigrams (sparsity: most held-out trigram contexts were "
        "seen rarely or never, and add-δ spreads their mass evenly over the vocabulary), while the "
        "models that back off to shorter contexts improve with n, Kneser-Ney most (CS224n "
        "lecture 6).")


def score(counts, windows, vocab_size, smoothing, param) -> float:
    from nlpdojo_solutions.language_models import backoff, kneser_ney, ngrams

    if smoothing == "add-delta":
        log_probs = ngrams.add_delta_log_probs(counts, windows, vocab_size, param)
    elif smoothing == "backoff":
        log_probs = backoff.absolute_discount_log_probs(counts, windows, vocab_size, param)
    else:
        log_probs = kneser_ney.kneser_ney_log_probs(counts, windows, vocab_size, param)
    return ngrams.perplexity(log_probs)


def measure(corpus: str) -> tuple[dict, dict]:
    from nlpdojo.text import ngram_corpus as given
    from nlpdojo_course.language_models.data import lm_sentences
    from nlpdojo_solutions.language_models import backoff, ngrams

    splits = {s: lm_sentences(corpus, s) for s in ("train", "valid", "test")}
    rows, info = {}, {}
    for label, smoothing, n in MODELS:
        t0 = time.perf_counter()
        vocab = given.Vocabulary.build(splits["train"], n, min_count=2)
        v, bos = len(vocab), vocab.index.get(given.BOS, -1)  # a unigram model has no <s>
        stream = vocab.stream(splits["train"], n)
        counts = (ngrams.count_ngrams(stream, n, v, bos) if smoothing == "add-delta" else
                  backoff.everygram_counts(stream, n, v, bos))
        windows = {s: ngrams.ngram_windows(vocab.stream(splits[s], n), n, bos)
                   for s in ("valid", "test")}
        grid = DELTAS if smoothing == "add-delta" else DISCOUNTS
        valid = {p: score(counts, windows["valid"], v, smoothing, p) for p in grid}
        best = min(valid, key=valid.get)
        test = score(counts, windows["test"], v, smoothing, best)
        rows[label] = (("δ" if smoothing == "add-delta" else "d"), best, valid[best], test)
        info = {"vocab": v, "train": int(np.sum(stream != bos)),
                "valid": len(windows["valid"]), "test": len(windows["test"])}
        print(f"{corpus:17s} {label:42s} {rows[label][0]}={best:<6g} valid {valid[best]:9.2f} "
              f"test {test:9.2f}  ({time.perf_counter() - t0:.1f}s)", flush=True)
    return rows, info


def section(results: dict[str, tuple[dict, dict]]) -> str:
    lines = [BEGIN, "## Language models (topic `language_models`)", "",
             f"Produced by `{COMMAND}` (the neural rows from the results of `{NEURAL_COMMAND}`).",
             "",
             "Test perplexity per predicted token (every word and `</s>`; words seen fewer than "
             "twice in the training split are `<UNK>`; n − 1 `<s>` of padding per sentence). "
             "Each count model trains on the whole train split; δ or the discount d is chosen "
             f"on the valid split from {list(DELTAS)} / {list(DISCOUNTS)}. Backoff is "
             "interpolated absolute discounting, Kneser-Ney is interpolated with one discount "
             "for every order (nltk.lm's `AbsoluteDiscountingInterpolated` and "
             "`KneserNeyInterpolated`, whose scores ours equal in the tests).", ""]
    sizes = []
    for corpus, (_, info) in results.items():
        sizes.append(f"`{corpus}`: {info['train']:,} training tokens (with `</s>`), "
                     f"{info['vocab']:,} words with `<UNK>` and the markers, "
                     f"{info['test']:,} test tokens")
    lines += ["; ".join(sizes) + ".", ""]
    head = "| model | " + " | ".join(f"{c} test ppl (valid, chosen)" for c in results) + " |"
    lines += [head, "|---|" + "---|" * len(results)]
    for label, _, _ in MODELS:
        cells = []
        for rows, _ in results.values():
            name, best, valid, test = rows[label]
            cells.append(f"{test:.1f} ({valid:.1f}, {name} = {best:g})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    neural = json.loads(NEURAL.read_text()) if NEURAL.exists() else {}
    measured_somewhere = {r["label"] for models in neural.values() for r in models.values()}
    for label in (*PENDING, *[x for x in ONE_CORPUS if x in measured_somewhere]):
        cells = []
        for corpus in results:
            found = [r for r in neural.get(corpus, {}).values() if r["label"] == label]
            cells.append(f"{found[0]['test']:.1f} ({found[0]['valid']:.1f}, "
                         f"{_epochs(found[0]['epochs'])})" if found else
                         "not measured" if label in ONE_CORPUS else "not yet measured")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for corpus, (rows, _) in results.items():
        best_label, best = _best_count_model(rows)
        runs = neural.get(corpus, {})
        for name in COMPARED:
            run = runs.get(name)
            if run is None:
                continue
            what = (f"`{corpus}`: the {run['label']} ({run['test']:.1f} after "
                    f"{_epochs(run['epochs'])})")
            if run["test"] > best:
                line = (f"{what} is not below the best count model ({best_label}, {best:.1f}): "
                        f"{_progress(run['history'])}.")
            else:
                line = (f"{what} is below the best count model ({best_label}, {best:.1f}), by "
                        f"{100 * (1 - run['test'] / best):.1f} %")
                rnn = runs.get("rnn")
                if name != "rnn" and rnn is not None:
                    line += (f", and {'below' if run['test'] < rnn['test'] else 'not below'} "
                             f"the RNN LM ({rnn['test']:.1f})")
                if name in GATED and 1 - run["test"] / best < GATED_TARGET:
                    line += (f"; short of the {100 * GATED_TARGET:.0f} % target: "
                             f"{_progress(run['history'])}")
                line += "."
            lines.append(f"\n{line}")
    lines += _bengio_line(results, neural) + _depth_line(neural)
    lines += ["", NOTE, *_neural_notes(neural), "",
              "For scale, on Penn Treebank: Kneser-Ney 5-gram 141.2, RNN LM 124.7 "
              "(Mikolov 2012, table 4.1).", END]
    return "\n".join(lines) + "\n"


def _best_count_model(rows: dict[str, tuple]) -> tuple[str, float]:
    """The count model of lowest test perplexity on a corpus: its label and that perplexity."""
    label = min(rows, key=lambda name: rows[name][3])
    return label, rows[label][3]


def _bengio_line(results: dict[str, tuple[dict, dict]], neural: dict) -> list[str]:
    """Brown's literature anchor (the rnn_variants issue: the gated LMs' relative gap to the
    best count model at least Bengio et al.'s): their best neural model, an MLP over 5 words,
    252 against 312 for their best n-gram (a class-based back-off trigram), test perplexity,
    JMLR 3:1137-1155, 2003, table 1; the paper's "24 %" is (312 − 252) / 252."""
    if "brown" not in results or not any(m in neural.get("brown", {}) for m in GATED):
        return []
    best_label, best = _best_count_model(results["brown"][0])
    theirs = 1 - BENGIO_NEURAL / BENGIO_NGRAM
    gaps = [f"the {run['label']} {100 * (1 - run['test'] / best):.1f} %"
            for name in GATED if (run := neural["brown"].get(name))]
    return [f"\n`brown`: relative gap to the best count model ({best_label}, {best:.1f}): "
            f"{', '.join(gaps)}; Bengio et al. (2003, table 1) measured {100 * theirs:.1f} % on "
            f"their split of the same corpus ({BENGIO_NEURAL} for their best neural model "
            f"against {BENGIO_NGRAM} for their best n-gram; the paper's \"24 %\" counts the "
            f"difference against the neural model's perplexity). Their vocabulary (16,383 "
            "words, rare ones merged) and ours (words seen twice) differ, so the perplexities "
            "are not comparable, only the gaps."]


def _depth_line(neural: dict) -> list[str]:
    """The deep LSTMs against the one-layer LSTM at the epochs all of them ran (the issue's
    "equal hidden size and epochs"): valid perplexity from each run's history."""
    out = []
    for corpus, runs in neural.items():
        deep = [name for name in DEEP if name in runs]
        if not deep or "lstm" not in runs:
            continue
        names = ["lstm", *deep]
        epochs = min(len(runs[name]["history"]) for name in names)
        cells = ", ".join(f"{runs[name]['label']} {runs[name]['history'][epochs - 1]['valid']:.1f}"
                          for name in names)
        out.append(f"\n`{corpus}`, one LSTM layer against two at the same hidden size, valid "
                   f"perplexity after {_epochs(epochs)} (the fewest any of them ran): {cells}.")
    return out


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _progress(history: list[dict]) -> str:
    """Where a neural run stood when it stopped, as measured: the last epoch's gain, and the
    learning-rate halvings of the schedule (halved after an epoch that gained under 1 %)."""
    valid = [h["valid"] for h in history]
    if len(valid) < 2:
        return "one epoch only"
    best = min(range(len(valid)), key=valid.__getitem__)
    if best < len(valid) - 1:
        later = ", ".join(f"{v:.1f}" for v in valid[best + 1:])
        return (f"its best valid perplexity came at epoch {history[best]['epoch']} of "
                f"{len(valid)} ({valid[best]:.1f}; then {later}, the learning rate halved "
                "along the way), so it was no longer improving: more epochs of the same "
                "setting will not close the gap")
    gain = (valid[-2] - valid[-1]) / valid[-2]
    halvings = sum(1 for a, b in pairwise(history) if b.get("lr", 0) < a.get("lr", 0))
    if gain >= 0.01:
        return (f"valid perplexity was still falling by {100 * gain:.0f} % in the last epoch "
                f"({valid[-2]:.1f} → {valid[-1]:.1f}), so it stopped short of convergence")
    if halvings >= 3:
        return (f"valid perplexity fell by only {100 * gain:.1f} % in the last epoch "
                f"({valid[-2]:.1f} → {valid[-1]:.1f}) after {halvings} halvings of the "
                "learning rate: more epochs of the same setting are unlikely to close the gap")
    return (f"valid perplexity fell by only {100 * gain:.1f} % in the last epoch "
            f"({valid[-2]:.1f} → {valid[-1]:.1f}), so the schedule halves the learning rate "
            "next; the epochs at the smaller rate were not run")


def _neural_notes(neural: dict) -> list[str]:
    """How the neural rows were trained (bench/lm_neural_results.py), if they were."""
    runs = [(c, r) for c, models in neural.items() for r in models.values()]
    if not runs:
        return []
    lines = ["", f"Neural rows: `{NEURAL_COMMAND}` (reference solutions, float32, on the NumPy "
             "backend unless a row names `torch:cuda`; the test split is scored as one "
             "stream, so the same tokens are predicted as by the count models; the learning "
             "rate is halved when valid perplexity stops improving by 1 %; the epoch with the "
             "best valid perplexity is scored on test). The `torch:cuda` rows ran side by side, "
             "one process each, on one GPU (`bash bench/gpu.sh OUT lm`), their valid split "
             "scored as 20 streams (a GPU's batch; each stream starts from a zero state):"]
    for corpus, r in runs:
        s = ", ".join(f"{k} {v}" for k, v in r["settings"].items())
        on = f"{r['backend']}; " if r.get("backend", "numpy:cpu") != "numpy:cpu" else ""
        lines.append(f"- {corpus}, {r['label']}: {s}; {_epochs(r['epochs'])} in "
                     f"{r['minutes']} min ({r['date']}; {on}{r['machine']}){_restarts(r)}.")
    return lines


def _restarts(run: dict) -> str:
    """The epochs that started Adam's moments afresh after the first: a resumed run, a
    restore to the best weights, and every epoch of runs made before the benchmark kept each
    model's optimizer (history entries without ``optimizer``; since, ``"new"`` or ``"kept"``)."""
    if not run["settings"].get("optimizer", "").startswith("adam"):
        return ""
    fresh = [number for number, h in enumerate(run["history"], 1)
             if number > 1 and h.get("optimizer") != "kept"]
    if not fresh:
        return ""
    old = [number for number, h in enumerate(run["history"], 1) if "optimizer" not in h]
    return (f"; Adam's moments started afresh at epoch{'s' if len(fresh) > 1 else ''} "
            f"{_numbers(fresh)}" + (f" (epochs {_numbers(old)}: an earlier version of the "
                                    "benchmark restarted them every epoch)" if len(old) > 1
                                    else ""))


def _numbers(values: list[int]) -> str:
    """1, 2, 3, 5 → "1-3, 5"."""
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in runs)


def write_docs(text: str) -> None:
    path = ROOT / "docs" / "results.md"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Results\n"
    if BEGIN in old and END in old:
        new = old.split(BEGIN)[0] + text.rstrip("\n") + old.split(END, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new, encoding="utf-8")
    print(f"wrote the language-model section of {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    np.seterr(divide="ignore")
    results = {c: measure(c) for c in args.corpora.split(",")}
    text = section(results)
    print()
    print(text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
