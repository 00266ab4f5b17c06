"""The neural language models trained on real text and measured by the grader (CS224n lecture
6, "Evaluating language models"): State of the Union addresses, the quick training budgets,
the grader's initial parameters and held-out sample (:func:`lm_plan`), and the perplexity metric
every trained LM is judged by (within 5% of the reference's under the same budget, below the
add-one unigram model's).
"""

from __future__ import annotations

import numpy as np

from nlpdojo_autograder.authoring import CheckFailure, Context, Metric
from nlpdojo_autograder.training import (
    TrainingPlan,
    audit,
    initial_parameters,
    require_datasets,
    train_and_measure,
)

#: the data: the first 40 addresses of the train split, the first 4 of the test split, the
#: 2,000 most frequent training tokens (``<UNK>`` included)
NEURAL_DATA = {"train_texts": 40, "test_texts": 4, "vocab_size": 2000}
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


def rnn_targets(ids: np.ndarray) -> np.ndarray:
    """The held-out tokens the RNN LM is scored on, in the order it scores them (the grader's
    own windowing: 10 streams, windows of 50)."""
    length = len(ids) // EVAL_STREAMS
    k = (length - 1) // EVAL_BPTT
    streams = ids[:length * EVAL_STREAMS].reshape(EVAL_STREAMS, length)  # (B, L)
    targets = streams[:, 1:k * EVAL_BPTT + 1].reshape(EVAL_STREAMS, k, EVAL_BPTT)
    return targets.transpose(1, 0, 2).reshape(-1)  # (K·B·T,)


#: the held-out sample: a stretch of this many tokens of the whole test split, at an offset
#: drawn from the run's input seed (fresh in CI: each grading scores different text)
HELDOUT_TOKENS, PROBE_TOKENS = 30_000, 2_000


def lm_shapes(model: str, vocab: int, settings: dict) -> dict[str, tuple[int, ...]]:
    """The parameters a trained LM of this budget has (the given constructors' names)."""
    d, h = settings["dim"], settings["hidden"]
    body = ({"rnn.cell.weight_e": (d, h), "rnn.cell.weight_h": (h, h), "rnn.cell.bias": (h,)}
            if model == "rnn" else
            {"hidden.weight": (settings["context"] * d, h), "hidden.bias": (h,)})
    return {"embedding.weight": (vocab, d), **body, "output.weight": (h, vocab),
            "output.bias": (vocab,)}


def _stretch(ids: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    start = int(rng.integers(0, max(1, len(ids) - length + 1)))
    return ids[start:start + length]


def lm_plan(ctx: Context, model: str) -> TrainingPlan:
    """The quick budget's run of ``model`` ("rnn" or "window") on State of the Union: the
    training text and the grader's initial parameters go to the worker; a held-out stretch of
    the whole test split (never sent) is scored by the grader."""
    from nlpdojo_course.language_models.neural_data import (
        lm_data,
        perplexity_of_log_probs,
        unigram_perplexity,
    )

    require_datasets(["sotu"])
    data = lm_data("sotu", **{**NEURAL_DATA, "test_texts": None})
    rng = np.random.default_rng([ctx.input_seed, 0x5E1D])
    heldout = _stretch(data.test_ids, HELDOUT_TOKENS, rng)
    probe = _stretch(data.train_ids, PROBE_TOKENS, rng)
    if model == "rnn":
        budget, targets = dict(RNN_BUDGET), rnn_targets(heldout)
    else:
        budget, targets = {**WINDOW_BUDGET, "pad": data.eos}, heldout
    scoring = {k: budget[k] for k in ("dim", "hidden", "context", "pad", "eval_bptt")
               if k in budget}
    shapes = lm_shapes(model, data.vocab_size, budget)

    def measure(log_probs: np.ndarray) -> dict[str, float]:
        log_probs = log_probs.reshape(-1)
        if log_probs.shape != targets.shape:
            raise CheckFailure(f"the model scored {log_probs.shape[0]} held-out tokens; "
                               f"{targets.shape[0]} were expected")
        if np.any(log_probs > 1e-9):
            raise CheckFailure("a held-out log-probability is above 0: the scores are not "
                               "turned into a distribution over the vocabulary")
        return {"perplexity": perplexity_of_log_probs(log_probs)}

    return TrainingPlan(
        train=("lm_training", "train_lm"), train_args=(data.train_ids,),
        options={"model": model, "vocab_size": data.vocab_size, **budget},
        shapes=shapes, init=initial_parameters(shapes, ctx.base_seed), seed=ctx.base_seed,
        score=("lm_training", "score_lm"),
        score_options={"model": model, "vocab_size": data.vocab_size, **scoring},
        heldout=heldout, probe=probe, measure=measure,
        extra={"unigram": unigram_perplexity(data, targets)})


def heldout_run(model: str):
    """The run of a metric check: ``model`` trained under the quick budget, measured."""
    def train(ctx: Context) -> dict:
        return train_and_measure(ctx, lm_plan(ctx, model))

    return train


#: a trained LM is not 20 % better than the reference under the same budget (two seeds of
#: the reference differ by 0.1 %): far below it, the model was scored on tokens it was given
TOO_GOOD = (lambda ref: 0.8 * ref,
            "does the model see the token it predicts? The targets are the inputs shifted by "
            "one token (bptt_windows, the contexts)")


def perplexity_metric(title: str, points: float) -> Metric:
    return Metric("perplexity", "held-out perplexity", points, lambda ref: 1.05 * ref,
                  higher_is_better=False, title=title, chance="unigram",
                  chance_name="the add-one unigram model", too_good=TOO_GOOD)


#: what every trained-model check passes to :func:`metric_checks`
TRAINED = {"audit": audit, "release_expected": False, "dtype": "float64"}
