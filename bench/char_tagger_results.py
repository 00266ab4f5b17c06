"""A character-aware window tagger against its word-level twin on held-out part-of-speech tags:
what a word's characters add (CS224n lecture 11, §3.9-3.10; Santos and Zadrozny 2014, CharWNN:
a word's vector and a CNN over its characters side by side, for part-of-speech tagging).

The twin is ``neural_networks``' ``WindowClassifier`` (Collobert et al. 2011's window approach:
the words of a window of 5 embedded, concatenated, a tanh layer, the tag scores) as
``bench/tagger_results.py`` trains it. The character-aware model (``cnn_text``'s given
``CharWindowTagger``, which its graded ``char_tagging`` question trains under a small budget)
is the same network whose every word is its word vector *and* ``cnn_text``'s
``CharCNNEmbedding`` of its characters (embedded, your ``Conv1d``, ReLU, max over the
positions, a projection and a highway), concatenated: a word seen fewer than twice in training
is ``<unk>`` to the word vector and keeps its spelling in the characters. Both are the
reference solutions' code, trained by the topic's given loop (``tagger.train_epochs``: the same
optimizer, learning rate, epochs, batches, example order and seeds), scored on every token of
the held-out split, and on the held-out tokens whose word is ``<unk>`` (out of vocabulary)
apart.

Characters (``nlpdojo_course.cnn_text.char_tagging``, the graded question's data): each word
as ``{`` + its characters + ``}`` (the begin and end markers of CS224n's character-aware
assignment), cut at 20, padded with the pad character; the character table is the training
split's characters (the others one ``<unk>`` character).
Words are lower-cased as the tagging data has them, so capitals tell nothing.

    python bench/char_tagger_results.py                  # print the table
    python bench/char_tagger_results.py --write-docs     # keep the result, write its section
    python bench/char_tagger_results.py --section-only   # the section again from the result

Give NumPy's BLAS one thread on a shared machine (``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- cnn_text-char-tagger:begin -->", "<!-- cnn_text-char-tagger:end -->"
COMMAND = "python bench/char_tagger_results.py --write-docs"
#: the last run's result, from which the section is written
RESULTS = ROOT / "bench" / "results" / "char_tagger.json"
#: the sizes and training of both models: the tagger table's (``bench/tagger_results.py``,
#: Adam's row), the character part CS224n's assignment's kernel at a tagger's size
SETTINGS = {"dim": 50, "hidden": 100, "char_dim": 16, "char_filters": 50, "kernel": 3,
            "padding": 1, "optimizer": "adam", "lr": 0.003, "epochs": 3, "batch_size": 64,
            "dropout": 0.0, "seed": 0}


def run(train_sentences: int | None, test_sentences: int | None, settings: dict) -> dict:
    """Both models trained and scored: accuracy on every held-out token and on those whose
    word is ``<unk>``, the most-frequent-tag baseline, the sizes and the seconds."""
    from nlpdojo.selection import load_backend
    from nlpdojo_autograder.training import most_frequent_tag_accuracy
    from nlpdojo_course.cnn_text.char_tagging import char_tagging_data
    from nlpdojo_solutions.cnn_text.char_tagger import CharWindowTagger
    from nlpdojo_solutions.neural_networks import tagger

    be = load_backend("numpy", None, "float32")
    spelled = char_tagging_data("oanc-pos", train_sentences=train_sentences,
                                test_sentences=test_sentences)
    data = spelled.words
    s = settings
    unknown = spelled.unknown  # (M,) the held-out words <unk> to the word vectors
    out = {"sentences": {"train": train_sentences, "test": test_sentences},
           "tokens": {"train": len(data.train_tags), "test": len(data.test_tags),
                      "test_unk": int(unknown.sum())},
           "vocab": data.vocab_size, "chars": spelled.n_chars, "tags": data.n_tags,
           "baseline": most_frequent_tag_accuracy(data), "rows": {}}
    for name in ("word", "char"):
        started = time.perf_counter()
        if name == "word":
            model, opt = tagger.build_tagger(
                be, vocab_size=data.vocab_size, n_tags=data.n_tags, window=5, dim=s["dim"],
                hidden=s["hidden"], dropout=s["dropout"], optimizer=s["optimizer"],
                lr=s["lr"], seed=s["seed"])
            train, test = data.train_windows, data.test_windows
        else:
            model = CharWindowTagger(
                be, data.vocab_size, spelled.n_chars, data.n_tags, window=5, dim=s["dim"],
                char_dim=s["char_dim"], char_filters=s["char_filters"], hidden=s["hidden"],
                kernel=s["kernel"], padding=s["padding"], dropout=s["dropout"], seed=s["seed"])
            opt = tagger.OPTIMIZERS[s["optimizer"]](model.parameters(), lr=s["lr"])
            train, test = spelled.train_inputs, spelled.test_inputs
        tagger.train_epochs(be, model, opt, train, data.train_tags, epochs=s["epochs"],
                            batch_size=s["batch_size"], seed=s["seed"])
        predicted = tagger.predict(be, model, test)
        right = predicted == data.test_tags
        out["rows"][name] = {"accuracy": float(right.mean()),
                             "unk": float(right[unknown].mean()),
                             "known": float(right[~unknown].mean()),
                             "parameters": int(sum(np.size(p.data) for p in model.parameters())),
                             "seconds": round(time.perf_counter() - started, 1)}
        print(f"{name}: {out['rows'][name]}", flush=True)
    return out


def section(result: dict) -> str:
    """The section of docs/results.md, from a run's result (:func:`run`, kept in
    :data:`RESULTS`)."""
    from nlpdojo_course.cnn_text.char_tagging import MAX_CHARS

    settings, machine = result["settings"], result["machine"]
    which = [f"the first {n:,} sentences of the {split} split" if n else f"the whole {split} split"
             for split, n in (("training", result["sentences"]["train"]),
                              ("held-out", result["sentences"]["test"]))]
    rows = result["rows"]
    t = result["tokens"]
    label = {"word": "word-level twin: `WindowClassifier` (neural_networks)",
             "char": "character-aware: word vector + `CharCNNEmbedding` (cnn_text)"}
    lines = ["| model | parameters | accuracy, every held-out token | out-of-vocabulary "
             f"tokens ({t['test_unk']:,}) | the others | minutes |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in ("word", "char"):
        r = rows[name]
        lines.append(f"| {label[name]} | {r['parameters']:,} | {100 * r['accuracy']:.2f}% | "
                     f"{100 * r['unk']:.2f}% | {100 * r['known']:.2f}% | "
                     f"{r['seconds'] / 60:.1f} |")
    lines.append(f"| most-frequent-tag baseline | | {100 * result['baseline']:.2f}% | | | |")
    lines.append("| Santos and Zadrozny 2014, CharWNN, WSJ (for scale) | | 97.32% | | | |")
    gain = {k: 100 * (rows["char"][k] - rows["word"][k]) for k in ("accuracy", "unk", "known")}
    s = settings
    return "\n".join([
        BEGIN, "## A character-aware tagger against its word-level twin (topics "
        "`neural_networks`, `cnn_text`)", "",
        f"Produced by `{COMMAND}` ({result['date']}; {machine}). OANC (`oanc-pos`): "
        f"{which[0]} ({t['train']:,} tokens; {result['vocab']:,} words seen twice "
        f"or more, the rest `<unk>`; {result['chars']} characters; {result['tags']} tags), "
        f"scored on {which[1]} ({t['test']:,} tokens, {t['test_unk']:,} of them "
        "`<unk>` to the word vectors). Both models: windows of 5 words, word vectors of "
        f"{s['dim']}, {s['hidden']} tanh hidden units, {s['optimizer']} (lr {s['lr']}), "
        f"{s['epochs']} epochs of batches of {s['batch_size']}, seed {s['seed']}, the same "
        "example order (the topic's given loop). The character-aware one adds to each word "
        f"the `CharCNNEmbedding` of its characters: {s['char_dim']}-d characters, "
        f"{s['char_filters']} filters of width {s['kernel']} (padding {s['padding']}), max "
        f"over the positions, a projection and a highway; words as `{{` + word + `}}`, cut "
        f"at {MAX_CHARS} characters, lower-cased.", "", *lines, "",
        f"What it shows: the characters add {gain['accuracy']:+.2f} points in all, "
        f"{gain['unk']:+.2f} on the words the word vectors do not know and "
        f"{gain['known']:+.2f} on the others: a word's spelling (its suffix: -ly, -ed, -ing, "
        "-s) tells its part of speech where its vector is the one `<unk>` row: the point of "
        "Santos and Zadrozny (2014), whose CharWNN (a word vector and a character CNN side by "
        "side, this model's idea, in a window tagger too) tags the WSJ at 97.32 % with about "
        "three times the training text, capitals and longer training. Lower-cased words hide "
        "capitals here, which would help with proper nouns.", "",
        "The graded question `cnn_text.char_tagging` trains this model (the given "
        "`char_tagger.py`, the student's `CharCNNEmbedding`) under a quick budget: the first "
        "1,000 training sentences, one epoch of Adam (lr 0.01, batches of 128), scored on 80 % "
        "of the first 1,000 held-out sentences: about 0.84 on every word and 0.60 on the words "
        "without a vector, where the word-level twin under the same budget reaches 0.42 "
        "(tests/cnn_text/test_char_tagging.py).", END, ""])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--train-sentences", type=int, default=0, help="0: the whole split")
    p.add_argument("--test-sentences", type=int, default=0, help="0: the whole split")
    p.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    p.add_argument("--write-docs", action="store_true",
                   help=f"keep the result in {RESULTS.relative_to(ROOT)} and write its section")
    p.add_argument("--section-only", action="store_true",
                   help="write the section of the kept result again, training nothing")
    args = p.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from _machine import machine

    if args.section_only:
        result = json.loads(RESULTS.read_text())
    else:
        settings = {**SETTINGS, "epochs": args.epochs}
        result = {**run(args.train_sentences or None, args.test_sentences or None, settings),
                  "settings": settings, "machine": machine(), "date": time.strftime("%Y-%m-%d")}
        if args.write_docs:
            RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    text = section(result)
    print(text)
    if args.write_docs or args.section_only:
        path = ROOT / "docs" / "results.md"
        old = path.read_text(encoding="utf-8")
        new = (old[:old.index(BEGIN)] + text + old[old.index(END) + len(END) + 1:]
               if BEGIN in old else old.rstrip("\n") + "\n\n" + text)
        path.write_text(new, encoding="utf-8")
        print(f"-> {path}")


if __name__ == "__main__":
    main()
