"""Two real tasks, trained on OANC (Collobert et al. 2011, the window approach): a
part-of-speech tagger and a max-margin window scorer, both the student's window classifier,
loss and Adam trained by the given loops from the grader's initial parameters under a fixed
budget; the grader scores a fresh sample of the held-out windows (never sent to the worker)
with the reference's forward and audits every step."""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import CheckFailure, Context, Question, metric_checks
from nlpdojo_autograder.training import (
    TRAINED,
    TrainingPlan,
    accuracy_metric,
    classifier_plan,
    heldout_rng,
    initial_parameters,
    measured,
    require_datasets,
    sample_indices,
    training_seed,
)
from nlpdojo_course.neural_networks.data import (
    most_frequent_tag_accuracy,
    ranking_accuracy,
    ranking_data,
    tagging_data,
)

#: the quick budget: the first sentences of OANC's train and test splits, one epoch of Adam
TAGGING = {"train_sentences": 2000, "test_sentences": 1000}
TAGGER = {"dim": 50, "hidden": 100, "optimizer": "adam", "lr": 0.01, "epochs": 1,
          "batch_size": 128}


def window_shapes(vocab: int, window: int, classes: int, settings: dict
                  ) -> dict[str, tuple[int, ...]]:
    """The parameters of a :class:`WindowClassifier` of these sizes (the given names)."""
    d, h = settings["dim"], settings["hidden"]
    return {"embedding.weight": (vocab, d), "hidden.weight": (window * d, h),
            "hidden.bias": (h,), "output.weight": (h, classes), "output.bias": (classes,)}


#: each grading scores this share of the held-out windows, drawn from the run's input seed
HELDOUT_SHARE, PROBE_WINDOWS = 0.8, 500
#: a trained window model far above the reference under the same budget (four seeds of the
#: reference, each on its own held-out sample: tagging 0.826-0.833, ranking 0.731-0.737)
TOO_GOOD = ("far above what the reference reaches under the same budget: a model trained on "
            "more, or on the held-out windows, is not this run's training")


# -- a real task: part-of-speech tagging (Collobert et al. 2011, the window approach) ----------
def tagger_plan(ctx: Context) -> TrainingPlan:
    """The given tagger loop (the instructor's) trains your window classifier, loss and Adam
    from the grader's initial parameters; the grader tags a fresh sample of the held-out
    windows (never sent to the worker) with the reference's forward."""
    require_datasets(["oanc-pos"])
    data = tagging_data("oanc-pos", **TAGGING)
    width = data.train_windows.shape[1]
    return classifier_plan(
        ctx, salt=0x7A6, train=("tagger", "train_tagger_parameters"),
        score=("tagger", "window_scores"), train_inputs=data.train_windows,
        train_labels=data.train_tags, test_inputs=data.test_windows,
        test_labels=data.test_tags, classes=data.n_tags, share=HELDOUT_SHARE,
        probe=PROBE_WINDOWS, shapes=window_shapes(data.vocab_size, width, data.n_tags, TAGGER),
        options={"vocab_size": data.vocab_size, "n_tags": data.n_tags, **TAGGER},
        score_options={"vocab_size": data.vocab_size, "n_classes": data.n_tags,
                       "dim": TAGGER["dim"], "hidden": TAGGER["hidden"]},
        floors=lambda labels, sample: {"baseline": most_frequent_tag_accuracy(data, sample)},
        who="tagger", items="held-out windows")


POS_TAGGING = Question(
    "pos_tagging", "Part-of-speech tagging of held-out OANC text", integrative=True,
    datasets=("oanc-pos",),
    checks=metric_checks(
        "run", measured(tagger_plan), [
            accuracy_metric("held-out tagging accuracy", 3.0,
                            title="POS tagging of held-out OANC text", margin=0.02,
                            chance="baseline", chance_name="the most-frequent-tag baseline",
                            too_good=0.05, why=TOO_GOOD),
        ], budget="OANC: 2,000 training sentences, 1 epoch of Adam (lr 0.01, batches of 128)",
        hint="the tagger trains your WindowClassifier, with your library's Embedding, Linear, "
             "tanh and Dropout inside it, your SoftmaxCrossEntropy and your Adam: their own "
             "checks say which one is wrong", timeout_s=300, **TRAINED))


# -- a window scorer trained with the max-margin loss (notes part III; Collobert et al. 2011) ---
#: the quick budget: the tagging task's windows, one epoch of Adam, 5 corruptions per window
RANKING = {"train_sentences": 2000, "test_sentences": 1000, "corruptions": 5}
SCORER = {"dim": 50, "hidden": 100, "optimizer": "adam", "lr": 0.01, "epochs": 1,
          "batch_size": 128}
#: a scorer that cannot tell a true window from a corrupted one ranks half the pairs right
RANKING_CHANCE = 0.5


def scorer_plan(ctx: Context) -> TrainingPlan:
    """The given scorer loop trains your window classifier (one output), your MaxMargin and
    Adam from the grader's initial parameters; the grader draws the corrupted held-out windows
    and scores true and corrupted windows in one shuffled batch with the reference's forward."""
    require_datasets(["oanc-pos"])
    rng = heldout_rng(ctx, 0x5C0)
    data = ranking_data("oanc-pos", seed=int(rng.integers(2**31)), **RANKING)
    n = len(data.test_windows)
    sample = sample_indices(n, max(1, int(HELDOUT_SHARE * n)), rng)
    m, k, w = data.corrupted[sample].shape
    every = np.concatenate([data.test_windows[sample], data.corrupted[sample].reshape(m * k, w)])
    order = rng.permutation(len(every))  # one call: the scorer cannot tell which are true
    probe = sample_indices(len(data.train_windows), PROBE_WINDOWS, rng)
    valid = data.valid[sample]
    vocab = int(data.noise.shape[0])
    shapes = window_shapes(vocab, w, 1, SCORER)

    def measure(scores: np.ndarray) -> dict[str, float]:
        if scores.shape != (len(every), 1):
            raise CheckFailure(f"the scorer gave scores of shape {scores.shape} for "
                               f"{len(every)} windows: the window classifier with "
                               "n_classes=1 must return scores of shape (N, 1)")
        back = np.empty(len(every))
        back[order] = scores[:, 0]  # the grader's order again
        return {"ranking": ranking_accuracy(back[:m], back[m:].reshape(m, k), valid)}

    return TrainingPlan(
        train=("scorer", "train_scorer_parameters"), train_args=(data.train_windows, data.noise),
        options={"vocab_size": vocab, **SCORER}, shapes=shapes,
        init=initial_parameters(shapes, ctx.input_seed), seed=training_seed(ctx),
        score=("tagger", "window_scores"),
        score_options={"vocab_size": vocab, "n_classes": 1, "dim": SCORER["dim"],
                       "hidden": SCORER["hidden"]},
        heldout=every[order], probe=data.train_windows[probe], measure=measure,
        extra={"chance": RANKING_CHANCE})


WINDOW_SCORING = Question(
    "window_scoring", "A max-margin window scorer on held-out OANC text", integrative=True,
    datasets=("oanc-pos",),
    checks=metric_checks(
        "run", measured(scorer_plan), [
            accuracy_metric("held-out ranking accuracy (true window above a corrupted one)",
                            3.0, key="ranking", margin=0.03, floor=RANKING_CHANCE + 0.1,
                            title="Max-margin window scorer on held-out OANC text",
                            chance="chance",
                            chance_name="chance (a scorer that cannot tell them apart)",
                            too_good=0.06, why=TOO_GOOD),
        ], budget="OANC: 2,000 training sentences, 1 epoch of Adam (lr 0.01, batches of 128), "
                  "each window against one corrupted copy; 5 corrupted copies per held-out "
                  "window",
        hint="the scorer trains your WindowClassifier (one output; your library's Embedding, "
             "Linear, tanh and Dropout inside it) with your MaxMargin and Adam: their own "
             "checks say which one is wrong; a ranking near chance with a loss "
             "stuck at 0 means the margin is not 1 - s + s_c, a ranking below chance that the "
             "corrupted window's score is not pushed down", timeout_s=300, **TRAINED))

QUESTIONS = [POS_TAGGING, WINDOW_SCORING]
