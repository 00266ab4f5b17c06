"""``dojo train word2vec``: train skip-gram with negative sampling from the command line.

The word_vectors topic's training command, registered as :data:`TRAINER` by the topic's
plugin (``register_trainers``). It trains the student's ``exercises/word_vectors`` (or the
reference with ``--solutions``) through that folder's own ``train.py``, saves the vectors in
the word2vec text format (in the training kit's outputs folder unless ``--output`` names a
folder) and reports the grader's similarity and analogy metrics. Whose code trains, where the
vectors go, the data checks and the errors come from the generic
:mod:`nlpdojo_autograder.training`.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer

from nlpdojo.cli.common import console
from nlpdojo.data import load
from nlpdojo.selection import load_backend
from nlpdojo.trainers import Trainer
from nlpdojo_autograder.training import (
    TopicCode,
    TrainError,
    check_output,
    options,
    output_path,
    require_datasets,
    say,
)
from nlpdojo_course.word_vectors.data import (
    EVALUATION_SETS,
    evaluate_vectors,
    prepare_corpus,
    save_word2vec_text,
)

TOPIC = "word_vectors"
#: the modules of a topic folder that ``train.py`` runs (how a folder is recognised as one)
CODE = TopicCode(TOPIC, ("train.py", "negative_sampling.py", "sgd.py"))
Code = options.code(TOPIC)
Output = options.output("Where to write the vectors (word2vec text format)")


def _documents_corpus(name: str) -> None:
    """Fail clearly when ``name`` is not a running-text corpus (e.g. an evaluation set)."""
    if not hasattr(load(name), "texts"):
        raise TrainError(f"data set {name!r} is not running text; word2vec trains on a corpus "
                         "such as sotu or pang-lee-reviews (`dojo data list`)")


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
    batch_size: Annotated[int | None, typer.Option(
        min=1, help="Pairs per SGD step (default: 1024 up to dim 100, 102400 / dim above: "
                    "larger minibatches of larger vectors leave the CPU's cache).")] = None,
    seed: options.Seed = 0,
    backend: options.Backend = None,
    device: options.Device = None,
    code: Code = None,
    solutions: options.Solutions = False,
    output: Output = "vectors.txt",
    evaluate: Annotated[bool, typer.Option(help="Report WordSim-353, SimLex-999 and "
                                                "analogies after training.")] = True,
) -> None:
    """Train skip-gram with negative sampling; save vectors in the word2vec text format."""
    chosen = CODE.choose(code, solutions)  # before the backend: a wrong --code fails fast
    be = load_backend(backend, device, "float32")
    train_module = chosen.load("train")
    output = output_path(output, "vectors.txt")
    check_output(output)
    require_datasets([corpus, *(EVALUATION_SETS if evaluate else ())])
    _documents_corpus(corpus)
    started = time.perf_counter()
    data = prepare_corpus(corpus, min_count=min_count, max_words=max_words)
    if len(data.words) < 2:
        raise TrainError(f"only {len(data.words)} words are seen {min_count}+ times in "
                         "the text used; raise --max-words or lower --min-count")
    say(f"{corpus}: {data.token_ids.shape[0]:,} tokens of {len(data.words):,} "
        f"words seen {min_count}+ times (rarer words dropped), prepared in "
        f"{time.perf_counter() - started:.1f}s; "
        f"training {chosen.whose} on {be.name}/{be.device}")
    with chosen.stubs():
        result = train_module.train_sgns(
            be, data.token_ids, data.counts, dim=dim, window=window, negatives=negatives,
            epochs=epochs, lr=lr, subsample=subsample, seed=seed, progress=options.shown(True),
            # unset: the folder's own default (a train.py of an older release has one too)
            **({} if batch_size is None else {"batch_size": batch_size}))
    save_word2vec_text(output, data.words, result.center_vectors)
    say(f"trained {result.words:,} words in {result.seconds:.1f}s "
        f"({result.words_per_second:,.0f} words/s); final loss "
        f"{result.losses[-1]:.4f}; vectors -> {output}")
    if evaluate:
        scores = evaluate_vectors(result.center_vectors, data.word2ind)
        console.print(
            f"WordSim-353 Spearman {scores['wordsim353']:.3f} "
            f"({scores['wordsim353_n']} pairs), "
            f"SimLex-999 {scores['simlex999']:.3f} ({scores['simlex999_n']}), "
            f"analogies {scores['analogy']:.3f} ({scores['analogy_n']} questions)")


TRAINER = Trainer("word2vec", TOPIC, "Skip-gram with negative sampling on a corpus; saves the "
                  "vectors and reports similarity and analogy scores.", word2vec)
