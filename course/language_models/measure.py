"""The neural language models trained on real text and measured by the grader (CS224n lecture
6, "Evaluating language models"): State of the Union addresses, the quick training budgets and
the parameters they train; the run itself is the training kit's language-model plan
(:func:`~nlpdojo_autograder.training.language_model_plan`: the grader's initial parameters,
a fresh held-out stretch of the test split scored by the reference's forward) and the metric
its perplexity (within 5% of the reference's under the same budget, below the add-one
unigram model's).
"""

from __future__ import annotations

from nlpdojo_autograder.authoring import Context, Metric
from nlpdojo_autograder.training import (
    TRAINED,
    TrainingPlan,
    language_model_plan,
    measured,
    require_datasets,
    stream_targets,
    token_streams,
)
from nlpdojo_autograder.training import lm_shapes as recurrent_shapes
from nlpdojo_autograder.training import perplexity_metric as within_reference

__all__ = ["TRAINED", "heldout_run", "lm_plan", "perplexity_metric"]

#: the data: the first 40 addresses of the train split, the first 4 of the test split, the
#: 2,000 most frequent training tokens (``<UNK>`` included)
NEURAL_DATA = {"train_texts": 40, "test_texts": 4, "vocab_size": 2000}
#: the RNN LM scores held-out text as 10 streams in windows of 50 (the grader's own windowing)
EVAL_STREAMS, EVAL_BPTT = 10, 50
#: the quick budgets (a few seconds each on NumPy)
#: SGD, not Adam, for the RNN: with Adam (lr 1e-3 to 1e-2) W_h grew until the state dynamics
#: were chaotic, and the held-out perplexity of the trained weights ranged over 190-860 with
#: the seed (a 1e-6 change of the initial weights moved it by 10%); SGD at lr 0.7 gave 131.3
#: and 131.2 for two seeds, and diverges only above lr 1.5
RNN_BUDGET = {"dim": 32, "hidden": 64, "batch_size": 20, "bptt": 20, "optimizer": "sgd",
              "lr": 0.7, "epochs": 1, "max_windows": 300, "eval_bptt": EVAL_BPTT}
WINDOW_BUDGET = {"dim": 32, "hidden": 64, "context": 3, "batch_size": 256,
                 "optimizer": "adam", "lr": 0.01, "epochs": 1, "max_steps": 300}


def lm_shapes(model: str, vocab: int, settings: dict) -> dict[str, tuple[int, ...]]:
    """The parameters a trained LM of this budget has (the given constructors' names; the
    RNN LM's as the training kit states a recurrent LM's)."""
    d, h = settings["dim"], settings["hidden"]
    if model == "rnn":
        return recurrent_shapes("rnn", vocab, d, h)
    return {"embedding.weight": (vocab, d), "hidden.weight": (settings["context"] * d, h),
            "hidden.bias": (h,), "output.weight": (h, vocab), "output.bias": (vocab,)}


def lm_plan(ctx: Context, model: str) -> TrainingPlan:
    """The quick budget's run of ``model`` ("rnn" or "window") on State of the Union: the
    training text and the grader's initial parameters go to the worker; a held-out stretch of
    the whole test split (never sent) is scored by the grader."""
    require_datasets(["sotu"])
    data = token_streams("sotu", **{**NEURAL_DATA, "test_texts": None})
    rnn = model == "rnn"
    budget = dict(RNN_BUDGET) if rnn else {**WINDOW_BUDGET, "pad": data.eos}
    scoring = {k: budget[k] for k in ("dim", "hidden", "context", "pad", "eval_bptt")
               if k in budget}
    return language_model_plan(
        ctx, data, salt=0x5E1D, train=("lm_training", "train_lm"),
        score=("lm_training", "score_lm"),
        options={"model": model, "vocab_size": data.vocab_size, **budget},
        score_options={"model": model, "vocab_size": data.vocab_size, **scoring},
        shapes=lm_shapes(model, data.vocab_size, budget),
        targets=(lambda ids: stream_targets(ids, EVAL_STREAMS, EVAL_BPTT)) if rnn else
        (lambda ids: ids))


def heldout_run(model: str):
    """The run of a metric check: ``model`` trained under the quick budget, measured."""
    return measured(lambda ctx: lm_plan(ctx, model))


def perplexity_metric(title: str, points: float) -> Metric:
    """Within 5 % of the reference's; not 20 % better than it under the same budget (two
    seeds of the reference differ by 0.1 %): far below it, the model was scored on tokens it
    was given."""
    return within_reference(title, points, within=1.05, too_good=0.8, why=(
        "does the model see the token it predicts? The targets are the inputs shifted by "
        "one token (bptt_windows, the contexts)"))
