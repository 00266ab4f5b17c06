"""The training checks of topic ``word_vectors``, measured where student code cannot reach.

:func:`train_and_measure` trains skip-gram with negative sampling (Mikolov et al. 2013a, b)
through the given loop, with the submission's step functions, under a fixed budget and seeds,
and measures the vectors that come back with the grader's own metrics
(:mod:`.metrics`): the held-out SGNS loss, WordSim-353's Spearman rho (with the
rho random vectors reach by chance, the floor of its threshold) and 3CosAdd analogies.

The loop runs in the worker, beside the submission, so what it returns proves nothing by
itself: :func:`audit_steps` first checks each step function at the training's size against
the grader's own SGD step (:func:`sgns_step`, not the reference's), so that a submission
whose steps cannot train earns no training points, whatever vectors it returns.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from nlpdojo.text import keep_probability
from nlpdojo_autograder.authoring import CheckFailure, Context
from nlpdojo_autograder.authoring.compare import compare_array
from nlpdojo_autograder.training import (
    FLOAT64,
    LOSSES,
    PARAM,
    heldout_rng,
    is_float64,
    require_datasets,
    sample_indices,
    training_seed,
)
from nlpdojo_course.word_vectors import metrics
from nlpdojo_course.word_vectors.data import (
    EVALUATION_SETS,
    Corpus,
    evaluation_sets,
    prepare_corpus,
)

#: the quick budget (every `grade`) and the full one (`grade --full`): the SOTU training split
QUICK_EPOCHS, FULL_EPOCHS = 1, 5
BUDGET = ("skip-gram with negative sampling on the State of the Union training split "
          "(185 addresses, ~1.4M words), dim 100, window 5, 5 negatives, {epochs} epoch(s), "
          "lr 0.025 -> 0, seed = the run's base seed")
#: added to a missed threshold's message: the numbers alone do not name a culprit
HINT = ("Training ran your sgns_batch_loss_and_gradients (negative_sampling.py) and your "
        "linear_decay, sparse_sgd_update and sparse_outer_update (sgd.py): make their checks "
        "pass first")
#: the audit's minibatch (the given loop's batch size) and the vectors' size
AUDIT_BATCH, AUDIT_NEGATIVES, DIM = 1024, 5, 100


def train_and_measure(ctx: Context) -> dict:
    """Audit the steps, train them under the budget, measure the vectors here (every metric
    of the three training checks, which share this one run)."""
    require_datasets(["sotu", *EVALUATION_SETS])  # every missing one named, before training
    corpus = _corpus("train", 5)
    epochs = FULL_EPOCHS if ctx.full else QUICK_EPOCHS
    audit_steps(ctx, corpus.counts.shape[0], corpus.token_ids.shape[0] * epochs)
    # the given training loop is the instructor's (the budget is not the submission's to
    # change); the steps it calls are the submission's; the corpus and the budget are sent
    steps = ctx.given_function("train", "SGNSSteps.of").lazy(
        ctx.module("negative_sampling"), ctx.module("sgd"))
    result = ctx.given_function("train", "train_sgns")(
        ctx.backend, corpus.token_ids, corpus.counts, dim=DIM, window=5, negatives=5,
        epochs=epochs, seed=training_seed(ctx), progress=False, steps=steps)
    if not hasattr(result, "center_vectors"):
        raise CheckFailure("the training loop did not return its trained vectors")
    center = ctx.to_numpy(result.center_vectors, "the trained center vectors")
    outside = ctx.to_numpy(result.outside_vectors, "the trained outside vectors")
    size = (corpus.counts.shape[0], DIM)
    if center.shape != size or outside.shape != size:
        raise CheckFailure(f"the trained vectors have shapes {center.shape} and {outside.shape}"
                           f"; expected {size}")
    word2ind = corpus.word2ind
    # held-out pairs: the validation split, subsampled like training, a fixed window of 5,
    # drawn afresh per grading (the input seed: fresh in CI)
    rng = heldout_rng(ctx, 0x2C)
    valid = _corpus("valid", 1)
    to_train = np.array([word2ind.get(w, -1) for w in valid.words], np.int64)
    ids = to_train[valid.token_ids]
    ids = ids[ids >= 0]
    ids = ids[rng.random(ids.shape[0]) < keep_probability(corpus.counts.astype(float), 1e-3)[ids]]
    offsets = np.r_[-5:0, 1:6]  # (10,)
    # 5,000 centers spread over the whole split (every address, not the first few)
    middle = 5 + sample_indices(ids.shape[0] - 10, 5_000, rng)  # (C,) in [5, N - 5)
    positions = middle[:, None] + offsets  # (C, 10)
    centers = np.repeat(ids[middle], offsets.shape[0])  # (P,) = (C * 10,)
    outsides = ids[positions].reshape(-1)  # (P,)
    noise = corpus.counts.astype(float) ** 0.75
    negatives = rng.choice(noise.shape[0], (centers.shape[0], 5), p=noise / noise.sum())
    sets = _evaluation_sets()
    rho, n_pairs = metrics.similarity_rho(center, word2ind, sets["wordsim353"])
    accuracy, n_questions = metrics.analogy_accuracy(center, word2ind, sets["analogies"])
    losses = ctx.to_numpy(getattr(result, "losses", []), "the training losses",
                          number=True).reshape(-1)
    return {
        **audited(ctx, center, outside, losses),
        "heldout_loss": metrics.heldout_sgns_loss(center, outside, centers, outsides, negatives),
        # vectors that did not train (outside vectors start at 0): every pair's σ(0) = 1/2
        "untrained_loss": (1 + 5) * math.log(2.0),
        "wordsim": rho, "wordsim353_pairs": n_pairs,
        # what random vectors reach by chance (95th percentile of 1,000 draws): 0.12-0.13
        "wordsim353_chance": _wordsim_chance(),
        "analogy": accuracy, "analogy_questions": n_questions,
        # random vectors answer about none of them: at least one right beats chance
        "analogy_chance": 1.0 / max(n_questions, 1),
        "heldout_pairs": int(centers.size),
    }


@functools.cache
def _corpus(split: str, min_count: int) -> Corpus:
    """The SOTU split as word ids, prepared once per process (its arrays read-only): a CI
    grading measures the reference's training for the expected values and then the
    submission's in one process, and each preparation tokenizes ~1.4M words (~0.4 CPU-s)."""
    corpus = prepare_corpus("sotu", split=split, min_count=min_count)
    corpus.token_ids.setflags(write=False)
    corpus.counts.setflags(write=False)
    return corpus


#: the evaluation sets, loaded once per process (read, never changed)
_evaluation_sets = functools.cache(evaluation_sets)


@functools.cache
def _wordsim_chance() -> float:
    """What random vectors of the training's size reach on WordSim-353 by chance (1,000 draws,
    the same every run: ~0.2 CPU-s), once per process."""
    word2ind = _corpus("train", 5).word2ind
    return metrics.similarity_rho_chance(word2ind, _evaluation_sets()["wordsim353"], DIM)


#: rows of the random sketch the training audit compares (sketch @ vectors, (64, dim)): a
#: Johnson-Lindenstrauss projection keeps relative distances to a few per cent, so the audit
#: tells trained vectors from others without carrying 2 x 10,216 x 100 floats per payload
SKETCH_ROWS = 64


def audited(ctx: Context, center: np.ndarray, outside: np.ndarray, losses: np.ndarray) -> dict:
    """What :func:`nlpdojo_autograder.training.audit` compares with the reference's run from
    the same seeds: the loss of every report interval and sketches of both matrices (a
    projection drawn from the input seed, the same on both sides)."""
    rng = np.random.default_rng([ctx.input_seed, 0x5E7C])
    sketch = rng.standard_normal((SKETCH_ROWS, center.shape[0])) / math.sqrt(SKETCH_ROWS)
    return {LOSSES: losses, FLOAT64: float(is_float64(ctx)),
            PARAM + "center_vectors (sketch)": sketch @ center,  # (64, dim)
            PARAM + "outside_vectors (sketch)": sketch @ outside}


def audit_steps(ctx: Context, vocabulary: int, total_words: int) -> None:
    """The step functions training will run must do a plain SGD step at the training's size.

    The loop runs in the worker, next to the submission, so what comes back from it is not
    proof of anything; the training checks measure it only once the submission's own
    ``sgns_batch_loss_and_gradients``, ``sparse_sgd_update``, ``sparse_outer_update`` and
    ``linear_decay`` agree with the grader's step (:func:`sgns_step`, written here, not the
    reference's) on grader-drawn matrices of the training's shape: a submission whose steps
    cannot train earns no training points, whatever vectors it returns (vectors trained
    elsewhere included). Run before training, it also saves the run of a broken step.
    """
    rng = ctx.rng(7)
    B, K = AUDIT_BATCH, AUDIT_NEGATIVES
    center_vectors = (0.3 * rng.standard_normal((vocabulary, DIM))).astype(np.float32)  # (V, D)
    outside_vectors = (0.3 * rng.standard_normal((vocabulary, DIM))).astype(np.float32)
    c = rng.integers(0, vocabulary, B)  # (B,)
    rows = rng.integers(0, vocabulary, (B, 1 + K))  # (B, 1 + K)  outside word, negatives
    rows[:, -1] = rows[:, 1]  # a repeated negative in every pair: updates must add up
    c[1::2] = c[::2]  # repeated center words: their updates must add up too
    center, outside = center_vectors[c], outside_vectors[rows[:, 0]]  # (B, D) each
    negatives = outside_vectors[rows[:, 1:]]  # (B, K, D)
    want = sgns_step(center, outside, negatives)
    got = ctx.unpack(ctx.function("negative_sampling", "sgns_batch_loss_and_gradients")(
        ctx.asarray(center), ctx.asarray(outside), ctx.asarray(negatives)), list(want),
        "sgns_batch_loss_and_gradients")
    lr0 = float(rng.uniform(0.01, 0.05))
    schedule = ctx.function("sgd", "linear_decay")
    steps = [0, total_words // 3, total_words - 1, total_words]
    lr = float(lr0 * (1.0 - steps[1] / total_words))
    coefs = np.concatenate([want["coef_outside"][:, None], want["coef_negatives"]], axis=1)
    updated_center = center_vectors.astype(np.float64)
    np.add.at(updated_center, c, -lr * want["grad_center"])  # repeats summed
    updated_outside = outside_vectors.astype(np.float64)
    np.add.at(updated_outside, rows, -lr * coefs[:, :, None] * center[:, None, :])
    outcomes = {  # what the submission computed, what the grader's step computes
        **{f"sgns_batch_loss_and_gradients' {k}": (ctx.to_numpy(v, k), want[k])
           for k, v in zip(want, got, strict=True)},
        "linear_decay over the training's words": (
            np.array([float(schedule(s, total_words, lr0)) for s in steps]),
            np.array([max(lr0 * (1.0 - min(s / total_words, 1.0)), 1e-4 * lr0) for s in steps])),
        # the updates get the grader's gradients: each step is judged on its own
        "sparse_sgd_update": (_updated(ctx, "sparse_sgd_update", (
            ctx.backend, ctx.asarray(center_vectors), ctx.asarray(c, np.int64),
            ctx.asarray(want["grad_center"]), lr)), updated_center),
        "sparse_outer_update": (_updated(ctx, "sparse_outer_update", (
            ctx.backend, ctx.asarray(outside_vectors), ctx.asarray(rows, np.int64),
            ctx.asarray(coefs), ctx.asarray(center), lr)), updated_outside),
    }
    for name, (yours, true) in outcomes.items():
        problem = compare_array(name, yours, true, rtol=1e-4, atol=1e-5)
        if problem:
            raise CheckFailure(
                f"training was not run: the training checks measure only vectors your step "
                f"functions can train, and at the training's size ({vocabulary:,} words, dim "
                f"{DIM}, {B} pairs, {K} negatives) {problem}. {HINT}")


def _updated(ctx: Context, name: str, args: tuple) -> np.ndarray:
    """The matrix an update of ``sgd`` returned (it may, and should, change ``matrix``: the
    trainer uses what it returns; question ``sgd``'s checks ask for the update in place)."""
    out, _ = ctx.function("sgd", name).call(args, mutable=("matrix",))
    return ctx.to_numpy(out, f"{name}'s result")


def sgns_step(center: np.ndarray, outside: np.ndarray, negatives: np.ndarray
               ) -> dict[str, np.ndarray]:
    """The grader's own SGNS minibatch step (Mikolov et al. 2013b), float64: the loss
    -Σ_b [log σ(u_o·v_c) + Σ_k log σ(-u_k·v_c)] and its gradients (as the question returns
    them: dJ/dv_c, and dJ/du = coef * v_c for the outside and negative words)."""
    v = center.astype(np.float64)  # (B, D)
    s_o = np.sum(v * outside, axis=1)  # (B,)
    s_k = np.einsum("bkd,bd->bk", negatives.astype(np.float64), v)  # (B, K)
    log_sig = lambda x: np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))  # noqa: E731
    coef_outside = np.exp(log_sig(s_o)) - 1.0  # (B,)   dJ/ds_o = σ(s_o) - 1
    coef_negatives = np.exp(log_sig(s_k))  # (B, K)  dJ/ds_k = σ(s_k)
    return {"loss": np.array(-(log_sig(s_o).sum() + log_sig(-s_k).sum())),
            "grad_center": coef_outside[:, None] * outside
            + np.einsum("bk,bkd->bd", coef_negatives, negatives),  # (B, D)
            "coef_outside": coef_outside, "coef_negatives": coef_negatives}
