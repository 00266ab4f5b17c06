"""A real task for the character-aware word vectors (CS224n lecture 11, §3.9-3.10; Santos and
Zadrozny 2014): part-of-speech tagging of held-out OANC text with ``neural_networks``' window
tagger whose words are their word vector and the student's ``CharCNNEmbedding`` of their
characters (the given ``char_tagger``), trained from the grader's initial parameters under a
fixed budget. The grader scores a fresh sample of the held-out windows (never sent) with the
reference's forward, and measures the accuracy on every word and on the words seen fewer than
twice in training, which the word vectors do not know (their one ``<unk>`` row) and only the
characters can tell apart.

The data is prepared here, on the grader's side: the tagging windows of
:func:`~nlpdojo_autograder.training.tagging.tagging_data` (``neural_networks``' tagger's),
each word's characters beside its
id (:func:`spell`: ``{`` + the word + ``}``, the begin and end markers of CS224n's
character-aware assignment, cut at :data:`MAX_CHARS`, padded with the pad character); the
character table is the training split's characters, the others one ``<unk>`` character.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from nlpdojo.text.ragged import Ragged
from nlpdojo.text.windows import context_windows
from nlpdojo_autograder.authoring import Context, Question, metric_checks
from nlpdojo_autograder.training import (
    TRAINED,
    UNK_ID,
    TaggingData,
    TrainingPlan,
    accuracy_metric,
    classifier_plan,
    measured,
    most_frequent_tag_accuracy,
    require_datasets,
    tagged_sentences,
    tagging_data,
)

#: characters kept of a word, its two markers included (longer words are cut)
MAX_CHARS = 20
PAD_CHAR, UNK_CHAR, BOW, EOW = "<pad>", "<unk>", "{", "}"


def char_table(words: np.ndarray) -> dict[str, int]:
    """The training split's characters (and the markers, the pad and the unknown one)."""
    seen = sorted(set("".join(words.astype(str).tolist())) - {BOW, EOW})
    return {c: i for i, c in enumerate([PAD_CHAR, UNK_CHAR, BOW, EOW, *seen])}


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
    data's word windows (the same sentences, the same windows, from a split's ``words`` and
    sentence ``offsets`` as :func:`tagged_sentences` reads them), the padding positions all
    pad characters."""
    spelled = np.concatenate([np.full((1, MAX_CHARS), table[PAD_CHAR], np.int32),
                              spell(words, table)])  # row 0: a padding word
    positions = np.arange(1, len(words) + 1, dtype=np.int64)  # 0 stands for the padding
    return spelled[context_windows(Ragged(positions, offsets), half_window, 0)]


@dataclass(frozen=True)
class CharTaggingData:
    """The tagging data (``words``) and its windows with characters: ``train_inputs``
    (N, W, 1 + L) and ``test_inputs`` (M, W, 1 + L), column 0 the word id, the rest its
    characters; ``n_chars`` the character table's size; ``unknown`` (M,) the held-out words
    that are ``<unk>`` to the word vectors."""

    words: TaggingData
    train_inputs: np.ndarray
    test_inputs: np.ndarray
    n_chars: int
    unknown: np.ndarray


@functools.cache
def char_tagging_data(name: str = "oanc-pos", *, train_sentences: int | None = 1000,
                      test_sentences: int | None = 1000) -> CharTaggingData:
    """:func:`tagging_data` of these sentences, each window's words with their characters
    (the table from the training split's)."""
    data = tagging_data(name, train_sentences=train_sentences, test_sentences=test_sentences)
    train_words, _, train_offsets = tagged_sentences(name, "train", train_sentences)
    test_words, _, test_offsets = tagged_sentences(name, "test", test_sentences)
    table = char_table(train_words)
    inputs = [np.concatenate([windows[:, :, None].astype(np.int32),
                              char_windows(words, offsets, table)], axis=2)
              for windows, words, offsets in ((data.train_windows, train_words, train_offsets),
                                              (data.test_windows, test_words, test_offsets))]
    centre = data.test_windows.shape[1] // 2
    return CharTaggingData(data, *inputs, len(table), data.test_windows[:, centre] == UNK_ID)


def unknown_word_baseline(data: TaggingData, sample: np.ndarray) -> float:
    """The accuracy on the sample's ``<unk>`` held-out words of tagging each with the tag
    most frequent among the training words seen once (a word model's best guess without a
    vector for them)."""
    centre = data.test_windows.shape[1] // 2
    return most_frequent_tag_accuracy(data, sample[data.test_windows[sample, centre] == UNK_ID])


#: the quick budget: the first sentences of OANC's splits, one epoch of Adam (the POS
#: tagger's, ``neural_networks.pos_tagging``, on half its sentences: 8 s for the reference on
#: NumPy, 9 on torch; at 2,000 the words without a vector told the two models apart no better,
#: 0.63 against 0.41, than at 1,000, 0.60 against 0.42); the character CNN CS224n's
#: assignment's at a tagger's size: 16-d characters, 50 filters of width 3
CHAR_TAGGING = {"train_sentences": 1000, "test_sentences": 1000}
CHAR_TAGGER = {"window": 5, "dim": 50, "char_dim": 16, "char_filters": 50, "hidden": 100,
               "kernel": 3, "padding": 1, "dropout": 0.0}
TRAINING = {"lr": 0.01, "epochs": 1, "batch_size": 128}
#: each grading scores this share of the held-out windows, drawn from the run's input seed
HELDOUT_SHARE, PROBE_WINDOWS = 0.8, 500


def char_tagger_shapes(vocab: int, n_chars: int, n_tags: int, sizes: dict
                       ) -> dict[str, tuple[int, ...]]:
    """The parameters of a ``CharWindowTagger`` of these sizes (the given names)."""
    d, f, h = sizes["dim"], sizes["char_filters"], sizes["hidden"]
    k, c, w = sizes["kernel"], sizes["char_dim"], sizes["window"]
    return {"embedding.weight": (vocab, d), "chars.embedding.weight": (n_chars, c),
            "chars.conv.weight": (k, c, f), "chars.conv.bias": (f,),
            "chars.projection.weight": (f, f), "chars.projection.bias": (f,),
            "chars.highway.weight": (f, f), "chars.highway.bias": (f,),
            "hidden.weight": (w * (d + f), h), "hidden.bias": (h,),
            "output.weight": (h, n_tags), "output.bias": (n_tags,)}


def char_tagger_plan(ctx: Context) -> TrainingPlan:
    """The given loop trains the character-aware tagger (your CharCNNEmbedding beside your
    Embedding, your Linear, Tanh, softmax cross-entropy and Adam) from the grader's initial
    parameters; the grader tags a fresh sample of the held-out windows (never sent) with the
    reference's forward."""
    require_datasets(["oanc-pos"])
    data = char_tagging_data("oanc-pos", **CHAR_TAGGING)
    words = data.words
    sizes = {"vocab_size": words.vocab_size, "n_chars": data.n_chars,
             "n_tags": words.n_tags, **CHAR_TAGGER}
    return classifier_plan(
        ctx, salt=0xC4A7, train=("char_tagger", "train_char_tagger"),
        score=("char_tagger", "char_window_scores"), train_inputs=data.train_inputs,
        train_labels=words.train_tags, test_inputs=data.test_inputs,
        test_labels=words.test_tags, classes=words.n_tags, share=HELDOUT_SHARE,
        probe=PROBE_WINDOWS,
        shapes=char_tagger_shapes(words.vocab_size, data.n_chars, words.n_tags, CHAR_TAGGER),
        options={**sizes, **TRAINING}, score_options=sizes,
        subsets={"unknown": data.unknown},
        floors=lambda labels, sample: {
            "baseline": most_frequent_tag_accuracy(words, sample),
            "unknown_baseline": unknown_word_baseline(words, sample)},
        who="character-aware tagger", items="held-out windows")


#: a tagger far above the reference under the same budget was not this run's training
TOO_GOOD = ("far above what the reference reaches under the same budget: a model trained on "
            "more, or on the held-out windows, is not this run's training")

CHAR_TAGGING_QUESTION = Question(
    "char_tagging", "Part-of-speech tagging of held-out OANC words the word vectors never saw "
    "(trains your character CNN)", integrative=True, datasets=("oanc-pos",),
    checks=metric_checks(
        "run", measured(char_tagger_plan), [
            accuracy_metric("held-out tagging accuracy", 1.0,
                            title="Character-aware POS tagging of held-out OANC text",
                            margin=0.02, chance="baseline",
                            chance_name="the most-frequent-tag baseline", too_good=0.05,
                            why=TOO_GOOD),
            accuracy_metric("held-out accuracy on the words seen fewer than twice in training",
                            2.0, key="unknown",
                            title="Character-aware POS tagging of words without a vector",
                            margin=0.03, chance="unknown_baseline",
                            chance_name="the most frequent tag of the training's rare words",
                            too_good=0.06, why=TOO_GOOD),
        ], budget="OANC: 1,000 training sentences, 1 epoch of Adam (lr 0.01, batches of 128); "
                  "16-d characters, 50 filters of width 3, words cut at 20 characters",
        hint="the tagger trains your CharCNNEmbedding beside your Embedding, with your "
             "Linear, Tanh, SoftmaxCrossEntropy and Adam: their own checks say which one is "
             "wrong; an accuracy on the unseen words near the rare words' most frequent tag "
             "means the characters teach the tagger nothing",
        timeout_s=300, **TRAINED))

QUESTIONS = [CHAR_TAGGING_QUESTION]
