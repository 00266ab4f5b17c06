"""A character-aware window tagger against its word-level twin on held-out part-of-speech tags:
what a word's characters add (CS224n lecture 11, §3.9-3.10; Santos and Zadrozny 2014, CharWNN:
a word's vector and a CNN over its characters side by side, for part-of-speech tagging).

The twin is ``neural_networks``' ``WindowClassifier`` (Collobert et al. 2011's window approach:
the words of a window of 5 embedded, concatenated, a tanh layer, the tag scores) as
``bench/tagger_results.py`` trains it. The character-aware model (:class:`CharWindowTagger`)
is the same network whose every word is its word vector *and* ``cnn_text``'s
``CharCNNEmbedding`` of its characters (embedded, your ``Conv1d``, ReLU, max over the
positions, a projection and a highway), concatenated: a word seen fewer than twice in training
is ``<unk>`` to the word vector and keeps its spelling in the characters. Both are the
reference solutions' code, trained by the topic's given loop (``tagger.train_epochs``: the same
optimizer, learning rate, epochs, batches, example order and seeds), scored on every token of
the held-out split, and on the held-out tokens whose word is ``<unk>`` (out of vocabulary)
apart.

Characters: each word as ``{`` + its characters + ``}`` (the begin and end markers of CS224n's
character-aware assignment), cut at :data:`MAX_CHARS`, padded with the pad character; the
character table is the training split's characters (the others one ``<unk>`` character).
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

from nlpdojo.backend import Array, Backend
from nlpdojo.module import Module

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- cnn_text-char-tagger:begin -->", "<!-- cnn_text-char-tagger:end -->"
COMMAND = "python bench/char_tagger_results.py --write-docs"
#: the last run's result, from which the section is written
RESULTS = ROOT / "bench" / "results" / "char_tagger.json"
#: characters kept of a word, its two markers included (longer words are cut)
MAX_CHARS = 20
PAD_CHAR, UNK_CHAR, BOW, EOW = "<pad>", "<unk>", "{", "}"
#: the sizes and training of both models: the tagger table's (``bench/tagger_results.py``,
#: Adam's row), the character part CS224n's assignment's kernel at a tagger's size
SETTINGS = {"dim": 50, "hidden": 100, "char_dim": 16, "char_filters": 50, "kernel": 3,
            "padding": 1, "optimizer": "adam", "lr": 0.003, "epochs": 3, "batch_size": 64,
            "dropout": 0.0, "seed": 0}


class CharWindowTagger(Module):
    """Tag scores (N, C) of N windows whose words come as their id and their characters,
    ``windows`` (N, W, 1 + L): column 0 the word id, the rest the character ids. Each word's
    vector is its embedding (D) beside its ``CharCNNEmbedding`` (F); the window's vectors
    concatenated, a tanh layer, dropout, the tag scores (the window classifier's)."""

    def __init__(self, backend: Backend, vocab_size: int, n_chars: int, window: int,
                 dim: int, char_dim: int, char_filters: int, hidden: int, n_classes: int, *,
                 kernel: int = 3, padding: int = 1, dropout: float = 0.0,
                 seed: int = 0) -> None:
        from nlpdojo_solutions.cnn_text.char_cnn import CharCNNEmbedding
        from nlpdojo_solutions.library import Dropout, Embedding, Linear, Tanh

        super().__init__(backend)
        self.embedding = Embedding(backend, vocab_size, dim, seed=seed, std=0.1)
        self.chars = CharCNNEmbedding(backend, n_chars, char_dim, char_filters,
                                      kernel_size=kernel, padding=padding, seed=seed + 5)
        self.hidden = Linear(backend, window * (dim + char_filters), hidden, seed=seed + 1)
        self.activation = Tanh(backend)
        self.dropout = Dropout(backend, dropout, seed=seed + 3)
        self.output = Linear(backend, hidden, n_classes, seed=seed + 2)

    def forward(self, windows: Array) -> tuple[Array, tuple]:
        # windows: (N, W, 1 + L) word id, then character ids
        xp = self.xp
        words, c_emb = self.embedding(windows[:, :, 0])  # (N, W, D)
        spelled, c_chars = self.chars(windows[:, :, 1:])  # (N, W, F)
        vectors = xp.concat([words, spelled], axis=-1)  # (N, W, D + F)
        x = xp.reshape(vectors, (vectors.shape[0], -1))  # (N, W·(D + F))
        z, c_hidden = self.hidden(x)
        a, c_act = self.activation(z)
        kept, c_drop = self.dropout(a)
        scores, c_out = self.output(kept)  # (N, C)
        return scores, (c_emb, c_chars, c_hidden, c_act, c_drop, c_out, tuple(vectors.shape))

    def backward(self, grad_output: Array, cache: tuple) -> None:
        # grad_output: (N, C); the ids have no gradient
        xp = self.xp
        c_emb, c_chars, c_hidden, c_act, c_drop, c_out, shape = cache
        grad_kept = self.output.backward(grad_output, c_out)
        grad_z = self.activation.backward(self.dropout.backward(grad_kept, c_drop), c_act)
        grad_vectors = xp.reshape(self.hidden.backward(grad_z, c_hidden), shape)  # (N, W, D+F)
        d = self.embedding.weight.data.shape[1]
        self.embedding.backward(grad_vectors[:, :, :d], c_emb)
        self.chars.backward(grad_vectors[:, :, d:], c_chars)
        return None


def spell(words: np.ndarray, table: dict[str, int]) -> np.ndarray:
    """(T,) words -> (T, MAX_CHARS) character ids: ``{`` + the word + ``}``, cut, padded.
    Vectorized: the marked words as fixed-width UTF-32 code points (0 past a word's end),
    each looked up among the table's characters by binary search."""
    marked = np.char.add(np.char.add(BOW, words.astype(str)), EOW).astype(f"<U{MAX_CHARS}")
    codes = marked.view(np.uint32).reshape(len(words), MAX_CHARS)  # (T, L), 0: padding
    chars = [c for c in table if len(c) == 1]
    points = np.array([ord(c) for c in chars], np.uint32)  # the table's characters
    order = np.argsort(points)
    points, ids = points[order], np.array([table[c] for c in chars], np.int32)[order]
    at = np.minimum(np.searchsorted(points, codes), len(points) - 1)  # (T, L)
    out = np.where(points[at] == codes, ids[at], np.int32(table[UNK_CHAR]))
    return np.where(codes == 0, np.int32(table[PAD_CHAR]), out).astype(np.int32)


def char_windows(words: np.ndarray, offsets: np.ndarray, table: dict[str, int],
                 half_window: int = 2) -> np.ndarray:
    """(N, W, MAX_CHARS) the characters of every window's words, aligned with the tagging
    data's word windows (``tagging_data``: the same sentences, the same windows, from a
    split's ``words`` and sentence ``offsets`` as ``_sentences`` reads them), the padding
    positions all pad characters."""
    from nlpdojo.text.ragged import Ragged
    from nlpdojo.text.windows import context_windows

    spelled = np.concatenate([np.full((1, MAX_CHARS), table[PAD_CHAR], np.int32),
                              spell(words.astype(str), table)])  # row 0: a padding word
    positions = np.arange(1, len(words) + 1, dtype=np.int64)  # 0 stands for the padding
    return spelled[context_windows(Ragged(positions, offsets), half_window, 0)]


def char_table(words: np.ndarray) -> dict[str, int]:
    """The training split's characters (and the markers, the pad and the unknown one)."""
    seen = sorted(set("".join(words.astype(str).tolist())) - {BOW, EOW})
    return {c: i for i, c in enumerate([PAD_CHAR, UNK_CHAR, BOW, EOW, *seen])}


def run(train_sentences: int | None, test_sentences: int | None, settings: dict) -> dict:
    """Both models trained and scored: accuracy on every held-out token and on those whose
    word is ``<unk>``, the most-frequent-tag baseline, the sizes and the seconds."""
    from nlpdojo.selection import load_backend
    from nlpdojo_course.neural_networks.data import (
        _sentences,
        most_frequent_tag_accuracy,
        tagging_data,
    )
    from nlpdojo_solutions.neural_networks import tagger

    be = load_backend("numpy", None, "float32")
    data = tagging_data("oanc-pos", train_sentences=train_sentences,
                        test_sentences=test_sentences)
    # each split's words read once: the character table is the training split's
    train_words, _, train_offsets = _sentences("oanc-pos", "train", train_sentences)
    test_words, _, test_offsets = _sentences("oanc-pos", "test", test_sentences)
    table = char_table(train_words)
    both = {}
    for split, windows, words, offsets in (
            ("train", data.train_windows, train_words, train_offsets),
            ("test", data.test_windows, test_words, test_offsets)):
        chars = char_windows(words, offsets, table)
        both[split] = np.concatenate([windows[:, :, None].astype(np.int32), chars], axis=2)
    s = settings
    unknown = data.test_windows[:, data.test_windows.shape[1] // 2] == 1  # the <unk> word
    out = {"sentences": {"train": train_sentences, "test": test_sentences},
           "tokens": {"train": len(data.train_tags), "test": len(data.test_tags),
                      "test_unk": int(unknown.sum())},
           "vocab": data.vocab_size, "chars": len(table), "tags": data.n_tags,
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
            model = CharWindowTagger(be, data.vocab_size, len(table), 5, s["dim"],
                                     s["char_dim"], s["char_filters"], s["hidden"],
                                     data.n_tags, kernel=s["kernel"], padding=s["padding"],
                                     dropout=s["dropout"], seed=s["seed"])
            opt = tagger.OPTIMIZERS[s["optimizer"]](model.parameters(), lr=s["lr"])
            train, test = both["train"], both["test"]
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
        "capitals here, which would help with proper nouns.", END, ""])


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
