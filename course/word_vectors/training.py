"""Training skip-gram on real text, graded: the student's steps train through the given loop
under a fixed budget, and the grader measures the vectors (:mod:`.measure`): the held-out
loss, WordSim-353's rho and analogies, against the reference's under the same budget."""

from __future__ import annotations

from nlpdojo_autograder.authoring import Metric, Question, metric_checks
from nlpdojo_autograder.training import TRAINED
from nlpdojo_course.word_vectors import measure

#: the too-good bounds' explanation: far beyond the reference under the same budget and seeds
#: (its seeds differ by < 0.01 in loss, < 0.03 in rho, < 0.01 in analogies)
TOO_GOOD = ("far beyond what the reference reaches under the same budget: vectors trained "
            "elsewhere, longer, or on the evaluation sets are not this run's training")

TRAINING = Question(
    "training", "Training skip-gram on real text", integrative=True,
    datasets=("sotu", "wordsim353", "simlex999", "google-analogies"),
    checks=metric_checks(
        "run", measure.train_and_measure, [
            Metric("heldout_loss", "held-out loss per pair", 2.0, lambda ref: ref + 0.15,
                   higher_is_better=False, title="held-out loss after training",
                   too_good=(lambda ref: ref - 0.3, TOO_GOOD), chance="untrained_loss",
                   chance_name="untrained vectors"),
            Metric("analogy", "3CosAdd accuracy on the Google analogies", 1.0,
                   lambda ref: 0.5 * ref, title="analogies after training",
                   too_good=(lambda ref: 2.0 * ref + 0.05, TOO_GOOD), chance="analogy_chance"),
            Metric("wordsim", "WordSim-353 Spearman rho", 1.0, lambda ref: ref - 0.1,
                   title="WordSim-353 after training", chance="wordsim353_chance",
                   too_good=(lambda ref: ref + 0.2, TOO_GOOD)),
        ], budget=measure.BUDGET.format(epochs=measure.QUICK_EPOCHS), hint=measure.HINT,
        **TRAINED))

QUESTIONS = [TRAINING]
