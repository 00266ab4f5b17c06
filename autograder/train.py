"""``dojo train word2vec``: train skip-gram with negative sampling from the command line.

Also the shared plumbing of the word-vector metric checks and the benchmark: turning a corpus
data set into word ids (:func:`prepare_corpus`), loading the evaluation sets and measuring
vectors with the grader's trusted metrics (:func:`evaluation_sets`, :func:`evaluate_vectors`),
and writing vectors in the word2vec text format (:func:`save_word2vec_text`) that gensim's
``KeyedVectors.load_word2vec_format``, fastText and most tools read.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import numpy as np
import typer

from nlpdojo.errors import NlpdojoError

TOPIC = "word_vectors"
#: word tokens: the letter-initial alternative of :data:`nlpdojo.text.TOKEN_PATTERN` (numbers and
#: punctuation are not words for word2vec)
WORD_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


@dataclass(frozen=True)
class Corpus:
    """A corpus as word ids: ``token_ids`` (N,) int64 in ``[0, V)``, ``counts`` (V,) and
    ``words`` (V,), the vocabulary sorted by decreasing count (ties by the word)."""

    name: str
    token_ids: np.ndarray
    counts: np.ndarray
    words: list[str]

    @property
    def word2ind(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}


def prepare_corpus(name: str = "sotu", *, min_count: int = 5, split: str | None = None,
                   max_words: int | None = None) -> Corpus:
    """Load data set ``name`` (a :class:`~nlpdojo.data.records.Documents` corpus), tokenize
    (lower-cased, :func:`nlpdojo.text.tokenize`), keep word tokens (those starting with a
    letter: numbers and punctuation are dropped), and remove words seen fewer than
    ``min_count`` times from the stream, as word2vec does. ``max_words`` truncates the raw
    token stream *before* the vocabulary is built (a small, fixed budget)."""
    from nlpdojo.data import load

    docs = load(name, split)
    tokens: list[str] = []
    for text in docs.texts:  # a loop over documents; words are found by the regex engine
        tokens += WORD_RE.findall(text.lower())
        if max_words is not None and len(tokens) >= max_words:
            break
    if max_words is not None:
        tokens = tokens[:max_words]
    counts = Counter(tokens)
    words = [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])) if c >= min_count]
    index = {w: i for i, w in enumerate(words)}
    ids = np.fromiter(map(index.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
    ids = ids[ids >= 0]  # (N,) rare words removed from the stream
    return Corpus(name, ids, np.bincount(ids, minlength=len(words)), words)


def evaluation_sets() -> dict[str, Any]:
    """WordSim-353 and SimLex-999 as ``(w1, w2, score)`` lists, the Google analogies as
    ``(a, b, c, d)`` tuples (data sets ``wordsim353``, ``simlex999``, ``google-analogies``)."""
    from nlpdojo.data import load

    def pairs(name: str) -> list[tuple[str, str, float]]:
        data = load(name)
        return list(zip(data.word1, data.word2, map(float, data.score), strict=True))

    return {"wordsim353": pairs("wordsim353"), "simlex999": pairs("simlex999"),
            "analogies": list(load("google-analogies").questions)}


def evaluate_vectors(vectors: np.ndarray, word2ind: dict[str, int],
                     sets: dict[str, Any] | None = None, *, restrict_vocab: int = 30_000
                     ) -> dict[str, float]:
    """WordSim-353 and SimLex-999 Spearman, 3CosAdd analogy accuracy, and how many items were
    usable, measured by the grader's own code (:mod:`~nlpdojo_autograder.topics.
    word_vector_metrics`), so it works in a student release without the solutions."""
    from nlpdojo_autograder.topics import word_vector_metrics as metrics

    sets = sets or evaluation_sets()
    ws, n_ws = metrics.similarity_rho(vectors, word2ind, sets["wordsim353"])
    sl, n_sl = metrics.similarity_rho(vectors, word2ind, sets["simlex999"])
    an, n_an = metrics.analogy_accuracy(vectors, word2ind, sets["analogies"],
                                        restrict_vocab=restrict_vocab)
    return {"wordsim353": ws, "wordsim353_n": n_ws, "simlex999": sl, "simlex999_n": n_sl,
            "analogy": an, "analogy_n": n_an}


def save_word2vec_text(path: str | Path, words: list[str], vectors: np.ndarray) -> Path:
    """Write the word2vec text format: a ``"V D"`` header, then ``word v1 ... vD`` per line
    (UTF-8, words must not contain whitespace). ``repr``-exact float32 values ("%.6g" would
    lose digits; ``float32`` round-trips through 9 significant digits)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(words):
        raise ValueError(f"{len(words)} words but {vectors.shape[0]} vectors")
    bad = [w for w in words if not w or any(ch.isspace() for ch in w)]
    if bad:
        raise ValueError(f"words must be non-empty without whitespace: {bad[:3]}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        f.write(f"{vectors.shape[0]} {vectors.shape[1]}\n")
        rows = np.char.mod("%.9g", vectors)  # (V, D) strings
        for word, row in zip(words, rows, strict=True):
            f.write(word + " " + " ".join(row) + "\n")
    return path


class TrainError(NlpdojoError):
    """Training cannot start or finish: the message says why and what to do."""


#: the modules of a topic folder that ``train.py`` runs (how a folder is recognised as one)
TRAIN_MODULES = ("train.py", "negative_sampling.py", "sgd.py")
EVALUATION_SETS = ("wordsim353", "simlex999", "google-analogies")


def is_topic_folder(folder: Path) -> bool:
    """Whether ``folder`` holds the word_vectors modules that training runs."""
    return all((folder / name).is_file() for name in TRAIN_MODULES)


def default_code(here: Path | None = None) -> Path | None:
    """The student's word_vectors folder seen from ``here`` (default: the working folder):
    ``./exercises/word_vectors``, ``./word_vectors`` (run from inside ``exercises/``), or
    ``here`` itself when it is a topic folder (run from inside ``exercises/word_vectors``);
    ``None`` when there is none (then the reference solutions train)."""
    here = Path(".") if here is None else here
    for folder in (here / "exercises" / TOPIC, here / TOPIC):
        if folder.is_dir():
            return folder
    return here if is_topic_folder(here) else None


def resolve_code(code: Path | None) -> Path:
    """The topic folder ``--code`` names: the folder itself (``exercises/word_vectors``, or a
    copy of it), or a folder that holds it (``exercises``); anything else is a clear error."""
    if code.is_file():
        raise TrainError(f"--code {code} is a file: pass your {TOPIC} folder (e.g. "
                         f"exercises/{TOPIC}), the folder that holds train.py and sgd.py")
    if not code.is_dir():
        raise TrainError(f"--code {code}: no such folder; pass your {TOPIC} folder (e.g. "
                         f"exercises/{TOPIC})")
    if is_topic_folder(code):
        return code
    if is_topic_folder(code / TOPIC):
        return code / TOPIC
    raise TrainError(f"--code {code} is not a {TOPIC} folder: it has no "
                     f"{', '.join(n for n in TRAIN_MODULES if not (code / n).is_file())}; pass "
                     f"your {TOPIC} folder (e.g. exercises/{TOPIC}) or the folder that holds it")


def load_topic_package(code: Path | None) -> ModuleType:
    """The ``train`` module of the reference solutions (``code`` None), or of a student's topic
    folder ``code`` (its ``train.py`` uses that folder's own functions)."""
    import importlib

    from nlpdojo_autograder.loader import load_folder_module

    if code is None:
        try:
            return importlib.import_module(f"nlpdojo_solutions.{TOPIC}.train")
        except ImportError as exc:
            raise TrainError("the reference solutions are not installed here; train your own "
                             f"code with --code exercises/{TOPIC}") from exc
    code = resolve_code(code)
    return load_folder_module(code.resolve(), TOPIC, "train", tag="cli")


def require_datasets(names: list[str]) -> None:
    """Every data set in ``names`` fetched and intact, checked before any work; otherwise one
    error listing all the missing ones and the one command that fetches them."""
    from nlpdojo.data import get_dataset
    from nlpdojo.dataset import DataMissingError

    missing: list[str] = []
    corrupt: list[str] = []
    for name in dict.fromkeys(names):
        dataset = get_dataset(name)  # an unknown name lists the known ones
        try:
            dataset.path()
        except DataMissingError:
            (corrupt if dataset.folder().is_dir() else missing).append(name)
    if not missing and not corrupt:
        return
    parts = []
    if missing:
        parts.append(f"not fetched yet: {', '.join(missing)}")
    if corrupt:
        parts.append(f"corrupt (fetch again): {', '.join(corrupt)}")
    needed = [n for n in dict.fromkeys(names) if n in missing or n in corrupt]
    what = "data set" if len(needed) == 1 else "data sets"
    raise DataMissingError(f"{what} {'; '.join(parts)}. Run: dojo data fetch "
                           f"{' '.join(needed)}")


def _documents_corpus(name: str) -> None:
    """Fail clearly when ``name`` is not a running-text corpus (e.g. an evaluation set)."""
    from nlpdojo.data import load

    if not hasattr(load(name), "texts"):
        raise TrainError(f"data set {name!r} is not running text; word2vec trains on a corpus "
                         "such as sotu or pang-lee-reviews (`dojo data list`)")


def add_train_commands(cli: typer.Typer) -> None:
    """Add the ``train`` command group (``dojo train word2vec``) to ``cli``."""
    from nlpdojo.cli.common import console, report_errors

    group = typer.Typer(name="train", help="Train models from the command line.",
                        no_args_is_help=True)

    @group.command("word2vec")
    @report_errors
    def word2vec(
        corpus: Annotated[str, typer.Option(help="Corpus data set (dojo data list).")] = "sotu",
        dim: Annotated[int, typer.Option(min=1, help="Vector size.")] = 100,
        window: Annotated[int, typer.Option(min=1, help="Maximum window radius.")] = 5,
        negatives: Annotated[int, typer.Option(min=1, help="Negative samples per pair.")] = 5,
        epochs: Annotated[int, typer.Option(min=1, help="Passes over the corpus.")] = 5,
        min_count: Annotated[int, typer.Option(min=1, help="Drop rarer words.")] = 5,
        subsample: Annotated[float, typer.Option(
            min=0.0, help="Subsampling threshold t (0: off).")] = 1e-3,
        max_words: Annotated[int | None, typer.Option(
            min=1, help="Use the first N tokens only.")] = None,
        lr: Annotated[float, typer.Option(min=0.0, help="Initial learning rate.")] = 0.025,
        batch_size: Annotated[int, typer.Option(min=1, help="Pairs per SGD step.")] = 1024,
        seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
        backend: Annotated[str | None, typer.Option(help="numpy or torch.")] = None,
        device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1...")] = None,
        code: Annotated[Path | None, typer.Option(
            help="Your word_vectors folder, or the folder holding it (default: "
                 "./exercises/word_vectors, ./word_vectors or the working folder if it is one)."
        )] = None,
        solutions: Annotated[bool, typer.Option(
            "--solutions", help="Train the reference solutions instead of your code.")] = False,
        output: Annotated[Path, typer.Option(help="Where to write the vectors (word2vec "
                                                  "text format).")] = Path("vectors.txt"),
        evaluate: Annotated[bool, typer.Option(help="Report WordSim-353, SimLex-999 and "
                                                    "analogies after training.")] = True,
    ) -> None:
        """Train skip-gram with negative sampling; save vectors in the word2vec text format."""
        from nlpdojo.selection import load_backend

        if solutions and code is not None:
            raise TrainError("--solutions trains the reference, --code your folder: choose one")
        be = load_backend(backend, device, "float32")
        fallback = ""
        if solutions:
            code = None
        elif code is not None:
            code = resolve_code(code)
        else:
            code = default_code()
            if code is None:
                fallback = (f" (no exercises/{TOPIC} here: pass --code DIR to train yours, "
                            "--solutions to say you mean the reference)")
        train_module = load_topic_package(code)
        if output.parent and not output.parent.is_dir():
            raise TrainError(f"--output {output}: folder {output.parent} does not exist")
        require_datasets([corpus, *(EVALUATION_SETS if evaluate else ())])
        _documents_corpus(corpus)
        started = time.perf_counter()
        data = prepare_corpus(corpus, min_count=min_count, max_words=max_words)
        if len(data.words) < 2:
            raise TrainError(f"only {len(data.words)} words are seen {min_count}+ times in "
                             "the text used; raise --max-words or lower --min-count")
        shown = code.resolve() if code is not None and code == Path(".") else code
        whose = (f"your code in {shown}" if code is not None
                 else f"the reference solutions{fallback}")
        console.print(f"{corpus}: {data.token_ids.shape[0]:,} tokens of {len(data.words):,} "
                      f"words seen {min_count}+ times (rarer words dropped), prepared in "
                      f"{time.perf_counter() - started:.1f}s; "
                      f"training {whose} on {be.name}/{be.device}")
        try:
            result = train_module.train_sgns(
                be, data.token_ids, data.counts, dim=dim, window=window, negatives=negatives,
                epochs=epochs, batch_size=batch_size, lr=lr, subsample=subsample, seed=seed,
                progress=True)
        except NotImplementedError as exc:
            raise TrainError(f"{exc} (in {shown}); `grade word_vectors` shows what is left "
                             "to write") from exc
        save_word2vec_text(output, data.words, result.center_vectors)
        console.print(f"trained {result.words:,} words in {result.seconds:.1f}s "
                      f"({result.words_per_second:,.0f} words/s); final loss "
                      f"{result.losses[-1]:.4f}; vectors -> {output}")
        if evaluate:
            scores = evaluate_vectors(result.center_vectors, data.word2ind)
            console.print(
                f"WordSim-353 Spearman {scores['wordsim353']:.3f} "
                f"({scores['wordsim353_n']} pairs), "
                f"SimLex-999 {scores['simlex999']:.3f} ({scores['simlex999_n']}), "
                f"analogies {scores['analogy']:.3f} ({scores['analogy_n']} questions)")

    cli.add_typer(group)
