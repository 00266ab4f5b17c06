"""Evaluation measured by the grader: perplexity, accuracy, the floors a trained model must
clear, and the metric declarations of the trained-model checks.

* :func:`perplexity` — exp(−mean log P) over the predicted tokens (CS224n lecture 6,
  "Evaluating language models"); :func:`unigram_perplexity`, the add-one unigram model of the
  training stream, the floor every language model must clearly beat.
* :func:`accuracy` of class scores; :func:`majority_share`, the majority-class floor;
  :func:`most_frequent_label_accuracy`, the per-word most-frequent-label baseline of a tagger
  (every word its most frequent training tag).
* :func:`perplexity_metric`, :func:`accuracy_metric`: the :class:`Metric` of a check, judged
  against the reference's under the same budget, above the chance floor and below a too-good
  bound (far better than the reference under the same budget was not earned by this run)::

      accuracy_metric("held-out polarity accuracy", 2.0, title="sentence polarity ...",
                      margin=0.03, chance="majority", chance_name="the majority class",
                      too_good=0.06, why="was the model trained on the held-out sentences?")
"""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import Metric


def perplexity(log_probs: np.ndarray) -> float:
    """exp(−mean log P), natural logarithms; NaN for an empty or non-finite input; inf where
    the mean is below −709 (a model that puts next to nothing on the words that came: exp
    overflows, as the perplexity is)."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.size == 0 or not np.all(np.isfinite(log_probs)):
        return float("nan")
    with np.errstate(over="ignore"):  # inf is the answer there, not a warning in the report
        return float(np.exp(-log_probs.mean()))


def unigram_perplexity(train_ids: np.ndarray, targets: np.ndarray, vocab_size: int, *,
                       never: int | None = None) -> float:
    """Perplexity over ``targets`` of the add-one unigram model of ``train_ids``:
    P(w) = (C(w) + 1) / (N + |V'|), where ``never`` (a padding id such as ``<s>``, never
    predicted) is neither counted in N nor among the |V'| words that can be predicted."""
    predicted = train_ids if never is None else train_ids[train_ids != never]  # (N,)
    counts = np.bincount(predicted, minlength=vocab_size).astype(np.float64)  # (V,)
    kinds = vocab_size - (1 if never is not None else 0)
    log_p = np.log(counts + 1.0) - np.log(len(predicted) + kinds)  # (V,)
    return float(np.exp(-np.mean(log_p[targets])))


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """The share of rows of ``scores`` (N, C) whose highest score is the label (N,)."""
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def majority_share(labels: np.ndarray) -> float:
    """The accuracy of always answering the most frequent of two labels (0/1)."""
    positive = float(np.mean(labels))
    return max(positive, 1.0 - positive)


def most_frequent_label_accuracy(train_keys: np.ndarray, train_labels: np.ndarray,
                                 test_keys: np.ndarray, test_labels: np.ndarray, *, keys: int,
                                 labels: int, unknown: int) -> float:
    """Accuracy of answering, for each test key (a word id), its most frequent training label
    (keys never seen in training and the ``unknown`` key: the most frequent label overall)."""
    table = np.zeros((keys, labels), dtype=np.int64)  # (V, C) counts
    np.add.at(table, (train_keys, train_labels), 1)
    best = table.argmax(axis=1)  # (V,)
    overall = np.bincount(train_labels, minlength=labels).argmax()
    best[table.sum(axis=1) == 0] = overall
    best[unknown] = overall
    return float(np.mean(best[test_keys] == test_labels))


def perplexity_metric(title: str, points: float, *, within: float = 1.05,
                      too_good: float = 0.8, why: str = "") -> Metric:
    """Held-out perplexity within ``within`` times the reference's, below the add-one
    unigram model's (the payload's ``unigram``), and not below ``too_good`` times the
    reference's (``why``: what such a model usually does)."""
    return Metric("perplexity", "held-out perplexity", points, lambda ref: within * ref,
                  higher_is_better=False, title=title, chance="unigram",
                  chance_name="the add-one unigram model",
                  too_good=(lambda ref: too_good * ref, why))


def accuracy_metric(description: str, points: float, *, title: str, margin: float,
                    chance: str, chance_name: str, too_good: float, why: str,
                    key: str = "accuracy", floor: float | None = None) -> Metric:
    """A held-out accuracy (payload key ``key``) at most ``margin`` below the reference's
    (and above ``floor``, when given), above the payload's ``chance`` floor, and not more
    than ``too_good`` above the reference's (``why``)."""
    def threshold(ref: float) -> float:
        return ref - margin if floor is None else max(ref - margin, floor)

    return Metric(key, description, points, threshold, title=title, chance=chance,
                  chance_name=chance_name, too_good=(lambda ref: ref + too_good, why))
