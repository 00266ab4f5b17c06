"""Checks for topic ``word_vectors`` (CS224n lectures 1-2: word2vec from scratch).

Value checks compare with the reference on seeded inputs; gradient checks compare each
gradient with central differences of the student's own loss (float64), that loss with the
true one at the check's point and the gradient with the reference's there; checks of later
questions run with the reference swapped in for earlier ones, so one bug costs points once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nlpdojo_autograder.builders import (
    Metric,
    function_check,
    function_checks,
    metric_checks,
    send_argument,
)
from nlpdojo_autograder.checks import CheckFailure, Context, Exercise, PlantedBug
from nlpdojo_autograder.kinds import value_check
from nlpdojo_autograder.topics import word_vectors_training as training

QUESTIONS = {
    "softmax": "Numerically stable softmax",
    "naive_softmax": "Naive-softmax loss and gradients",
    "neg_sampling": "Negative-sampling loss and gradients",
    "sgns_batch": "Minibatched negative sampling",
    "skipgram": "Skip-gram over a window",
    "sgd": "SGD with a learning-rate schedule",
    "count_svd": "Co-occurrence counts, PPMI and truncated SVD",
    "similarity": "Cosine similarity, neighbours and WordSim-353",
    "analogy": "Analogies by 3CosAdd",
    "plot": "A 2-D projection of word vectors",
    "training": "Training skip-gram on real text",
}

V, D, K = 10, 5, 4  # vocabulary, dimension, negatives of the small checks


# -- the true losses in torch, the second oracle on the torch backend -------------------------
def _torch():
    import torch

    return torch


def _torch_neg_sampling_loss(v_c, o: int, U, negatives: np.ndarray):
    """-log σ(u_o·v_c) - Σ_k log σ(-u_k·v_c), Mikolov et al. 2013b."""
    F = _torch().nn.functional
    u_k = U[_torch().as_tensor(negatives)]  # (K, D)
    return -F.logsigmoid(U[o] @ v_c) - F.logsigmoid(-(u_k @ v_c)).sum()


def _torch_sgns_loss(center, outside, negatives):
    """The same, summed over a batch: center (B, D), outside (B, D), negatives (B, K, D)."""
    F = _torch().nn.functional
    s_o = (center * outside).sum(-1)  # (B,)
    s_k = (negatives @ center[:, :, None])[..., 0]  # (B, K)
    return -(F.logsigmoid(s_o).sum() + F.logsigmoid(-s_k).sum())


# -- softmax ---------------------------------------------------------------------------------
def _softmax_values(ctx: Context):
    softmax = ctx.function("softmax", "softmax")
    rng = ctx.rng()
    out = {}
    for name, x in {"matrix": rng.standard_normal((4, 7)), "vector": rng.standard_normal(6),
                    "shifted": rng.standard_normal((3, 5)) + 50.0}.items():
        out[name] = ctx.to_numpy(softmax(ctx.asarray(x)), f"softmax of a {name}")
    _softmax_axis_hint(out["matrix"])
    return out


def _softmax_axis_hint(probs: np.ndarray) -> None:
    """A softmax over the wrong axis: its columns sum to 1, its rows do not."""
    if probs.shape == (4, 7) and np.all(np.isfinite(probs)):
        rows_ok = np.allclose(probs.sum(axis=1), 1.0)
        if not rows_ok and np.allclose(probs.sum(axis=0), 1.0):
            raise CheckFailure("softmax of a (4, 7) matrix: your columns sum to 1, not your "
                               "rows; normalise over the last axis (axis=-1): each row is one "
                               "distribution")


def _softmax_stability(ctx: Context):
    """Scores around 1000 (exp overflows unless the row's maximum is subtracted) and a row
    with one score around -1e4 (exp underflows to 0, which is right); the offsets drawn from
    the check's seed, so a fresh seed asks a fresh question."""
    softmax = ctx.function("softmax", "softmax")
    rng = ctx.rng()
    large = 1000.0 + rng.uniform(0.0, 3.0, 3)  # (3,)
    mixed = np.array([-rng.uniform(1e4, 2e4), rng.uniform(-1.0, 1.0), rng.uniform(2.0, 4.0)])
    x = np.stack([rng.permutation(large), rng.permutation(mixed)])  # (2, 3)
    return {"large_scores": ctx.to_numpy(softmax(ctx.asarray(x)), "softmax of large scores")}


# -- one pair, a minibatch, a window: a loss and its gradients --------------------------------
def _pair(ctx: Context) -> dict:
    """One (center, outside) pair: v_c (D,), o, U (V, D)."""
    rng = ctx.rng()
    return {"center_vec": rng.standard_normal(D), "outside_idx": int(rng.integers(V)),
            "outside_vectors": rng.standard_normal((V, D))}


def _pair_with_negatives(ctx: Context) -> dict:
    negatives = ctx.rng(1).integers(0, V, K)  # (K,)
    negatives[-1] = negatives[0]  # a repeated negative: its gradient contributions must add up
    return _pair(ctx) | {"negatives": negatives}


def _large_scores(ctx: Context) -> dict:
    """Scores around +1000, the true word's around -1000: exp overflows and its probability
    underflows to 0 unless the loss is computed as log-sum-exp."""
    args = _pair(ctx)
    v_c, o, U = args["center_vec"], args["outside_idx"], args["outside_vectors"]
    push = 1000.0 / np.abs(v_c).sum() * np.sign(v_c)  # (D,)  push . v_c = 1000
    U = U + push[None, :]  # (V, D)  scores ~ +1000
    U[o] -= 2.0 * push  # the true word's score ~ -1000: P(o | c) ~ exp(-2000)
    return args | {"outside_vectors": U}


def _finite_loss(outputs: dict, args: dict) -> None:
    if not np.all(np.isfinite(outputs["loss"])):
        raise CheckFailure(f"the loss is {float(outputs['loss'])} for scores around 1000: "
                           "-log(softmax(s)[o]) overflows or takes log(0); compute it as "
                           "log(sum(exp(s - max(s)))) + max(s) - s[o] (log-sum-exp)")


def _batch(ctx: Context) -> dict:
    """A minibatch of 6 gathered pairs: center (B, D), outside (B, D), negatives (B, K, D)."""
    rng = ctx.rng()
    return {"center": rng.standard_normal((6, D)), "outside": rng.standard_normal((6, D)),
            "negatives": rng.standard_normal((6, K, D))}


def _coefficient_shapes(outputs: dict, args: dict) -> None:
    B, K_ = args["negatives"].shape[:2]
    co, cn = outputs["coef_outside"], outputs["coef_negatives"]
    if co.shape != (B,) or cn.shape != (B, K_):
        raise CheckFailure(f"coef_outside should have shape {(B,)} and coef_negatives "
                           f"{(B, K_)}; got {co.shape} and {cn.shape}")


def _window(ctx: Context, variant: str) -> dict:
    """A window of 4 outside words around one center, with the pair loss of ``variant``."""
    rng = ctx.rng()
    args = {"current_center": int(rng.integers(V)), "outside_words": rng.integers(0, V, 4),
            "center_vectors": rng.standard_normal((V, D)),
            "outside_vectors": rng.standard_normal((V, D))}
    negatives = rng.integers(0, V, (4, K))
    if variant == "naive":
        return args | {"pair": ctx.function("naive_softmax", "naive_softmax_loss_and_gradient")}
    return args | {"pair": ctx.function("negative_sampling", "neg_sampling_loss_and_gradient"),
                   "negatives": negatives}


def _torch_naive_loss(p: dict, args: dict):
    """-log softmax(U v_c)[o] (CS224n lecture 2)."""
    torch = _torch()
    scores = (p["outside_vectors"] @ p["center_vec"])[None, :]  # (1, V)
    return torch.nn.functional.cross_entropy(scores, torch.tensor([args["outside_idx"]]))


PAIR = ("loss", "grad_center_vec", "grad_outside_vectors")
WINDOW = ("loss", "grad_center_vectors", "grad_outside_vectors")
SGNS = ("loss", "grad_center", "coef_outside", "coef_negatives")
NAIVE = ("naive_softmax", "naive_softmax_loss_and_gradient")
NEG = ("negative_sampling", "neg_sampling_loss_and_gradient")
BATCH = ("negative_sampling", "sgns_batch_loss_and_gradients")
PAIR_SWAP = ("softmax",)
#: a window's loss calls the swapped-in pair loss once per outside word, each a call back to
#: the grader: 12 coordinates (6 of the largest gradients, 6 random) and 4 random directions
#: per matrix instead of all 50 coordinates (docs/benchmarks.md, "Trusted evaluation")
WINDOW_SAMPLING = {"max_full": 0, "n_samples": 12, "n_directions": 4}
WINDOW_SWAP = ("softmax", "naive_softmax", "neg_sampling")


def _skipgram_values(ctx: Context):
    """Both pair losses through ``skipgram``: ``naive.loss``, ``negative.loss``..."""
    out = {}
    for variant in ("naive", "negative"):
        args = _window(ctx, variant)
        result = ctx.function("skipgram", "skipgram")(*[send_argument(ctx, a)
                                                        for a in args.values()])
        out |= {f"{variant}.{k}": ctx.to_numpy(v, k) for k, v in zip(
            WINDOW, ctx.unpack(result, list(WINDOW), "skipgram"), strict=True)}
    return out


# -- SGD -------------------------------------------------------------------------------------
def _schedule_values(ctx: Context):
    """The schedule at its start, a step inside, its middle, its end and past it, with and
    without a floor; the length, the rates and the inner step drawn from the check's seed."""
    decay = ctx.function("sgd", "linear_decay")
    rng = ctx.rng()
    total = int(rng.integers(50, 200))
    lr0 = float(rng.uniform(0.01, 0.05))
    # a floor that binds between 40% and 80% of the way: "never below lr_min"
    lr_min = lr0 * float(rng.uniform(0.2, 0.6))
    steps = [0, 1, int(rng.integers(2, total // 2)), total // 2, total - 1, total,
             total + int(rng.integers(1, total))]
    return {"learning_rates": np.array([float(decay(s, total, lr0)) for s in steps]),
            "learning_rates_with_lr_min": np.array(
                [float(decay(s, total, lr0, lr_min)) for s in steps]),
            "learning_rate_when_total_steps_is_0": np.array(float(decay(0, 0, lr0)))}


def _update_args(ctx: Context):
    rng = ctx.rng()
    rows = np.array([1, 3, 1, 7, 1])  # row 1 three times: the gradients add up
    return (ctx.backend, ctx.asarray(rng.standard_normal((V, D))), ctx.asarray(rows),
            ctx.asarray(rng.standard_normal((rows.size, D))), 0.5), {}


def _outer_update_args(ctx: Context):
    rng = ctx.rng()
    matrix = rng.standard_normal((V, D))
    rows = np.array([[1, 4, 1], [4, 0, 9]])  # row 1 twice in one pair, row 4 in both pairs
    coefs, vectors = rng.standard_normal((2, 3)), rng.standard_normal((2, D))
    return (ctx.backend, ctx.asarray(matrix), ctx.asarray(rows), ctx.asarray(coefs),
            ctx.asarray(vectors), 0.5), {}


IN_PLACE = "backend.scatter_add(...) and scatter_add_weighted(...) work in place"


# -- count-based baseline --------------------------------------------------------------------
def _counts_input(ctx: Context):
    """(12, 12) symmetric co-occurrence counts with zeros, made here: the PPMI and SVD checks
    do not depend on the student's co-occurrence counts."""
    import scipy.sparse as sp

    upper = np.triu(ctx.rng(1).poisson(1.5, (12, 12)))  # (12, 12)
    return sp.csr_matrix((upper + np.triu(upper, 1).T).astype(np.float64))


# -- evaluation ------------------------------------------------------------------------------
WORDS = [f"w{i}" for i in range(40)]


def _similarity_values(ctx: Context):
    rng = ctx.rng()
    vectors = rng.standard_normal((40, 8))
    word2ind = {w: i for i, w in enumerate(WORDS)}
    pairs = [(WORDS[i], WORDS[j], float(s)) for i, j, s in
             zip(rng.integers(0, 40, 30), rng.integers(0, 40, 30), rng.uniform(0, 10, 30),
                 strict=True)]
    pairs.append(("w1", "unknown", 5.0))  # out of vocabulary: skipped
    rho, n_used = ctx.function("evaluate", "similarity_spearman")(vectors, word2ind, pairs)
    neighbours = ctx.to_numpy(ctx.function("evaluate", "nearest_neighbours")(vectors, 3, 5),
                              "nearest_neighbours").astype(np.int64)
    if 3 in neighbours.tolist():
        raise CheckFailure("nearest_neighbours(vectors, 3, 5) includes word 3 itself; a word "
                           "is not its own neighbour (its cosine with itself is 1, the largest)")
    cosines = ctx.function("evaluate", "cosine_similarities")(
        vectors, np.array([0, 1, 2]), np.array([3, 1, 39]))
    return {"rho": np.float64(rho), "n_used": np.int64(n_used),
            "neighbours": neighbours,
            "cosines": ctx.to_numpy(cosines, "cosine_similarities")}


def _analogy_args(ctx: Context):
    """Planted analogies (word b_i = word a_i + one offset), vectors with a little noise."""
    rng = ctx.rng()
    base = rng.standard_normal((20, 6))
    offset = rng.standard_normal(6) * 2.0
    vectors = np.concatenate([base, base + offset])  # word i+20 = word i + offset
    words = [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(20)]
    word2ind = {w: i for i, w in enumerate(words)}
    questions = [(f"a{i}", f"b{i}", f"a{j}", f"b{j}") for i, j in
                 zip(rng.integers(0, 20, 25), rng.integers(0, 20, 25), strict=True) if i != j]
    questions += [("a0", "b0", "a1", "b2")]  # a wrong "answer": accuracy below 1
    return (vectors + 0.05 * rng.standard_normal(vectors.shape), word2ind, questions), {}


# -- plot ------------------------------------------------------------------------------------
def _plot_values(ctx: Context):
    rng = ctx.rng()
    vectors = rng.standard_normal((12, 6))
    word2ind = {f"w{i}": i for i in range(12)}
    # the student's part first, so that a wrong shape is blamed on it, not on the given code
    projected = ctx.to_numpy(ctx.function("plot", "project_2d")(vectors[[1, 4, 7, 9]]),
                             "project_2d's result")  # (4, 2)
    if projected.shape != (4, 2):
        raise CheckFailure(f"project_2d returned shape {projected.shape} for 4 vectors; expected "
                           "(4, 2): one row of 2 coordinates per vector")
    coords = ctx.function("plot", "plot_words")(vectors, word2ind, ["w1", "w4", "w7", "w9"],
                                                ctx.scratch_file("words.png"))
    png = ctx.read_scratch_file("words.png") or b""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 1000:
        raise CheckFailure("plot_words did not save a PNG image at the given path")
    return {"coordinates": ctx.to_numpy(coords, "plot_words' coordinates")}


# -- training on real text (measured grader-side: word_vectors_training) ----------------------
TRAINING = metric_checks(
    "training", "run", training.train_and_measure, [
        Metric("heldout_loss", "held-out loss per pair", 2.0, lambda ref: ref + 0.15,
               higher_is_better=False, title="held-out loss after training"),
        Metric("analogy", "3CosAdd accuracy on the Google analogies", 1.0,
               lambda ref: 0.5 * ref, title="analogies after training"),
        Metric("wordsim", "WordSim-353 Spearman rho", 1.0, lambda ref: ref - 0.1,
               title="WordSim-353 after training", chance="wordsim353_chance"),
    ], budget=training.BUDGET.format(epochs=training.QUICK_EPOCHS), hint=training.HINT)


CHECKS = [
    value_check("softmax", "values", "softmax on random rows and vectors", 2.0, _softmax_values),
    value_check("softmax", "stability", "no overflow on scores like 1000", 1.0,
                _softmax_stability),
    *function_checks("naive_softmax", *NAIVE, _pair, outputs=PAIR, title="naive softmax",
                     points={"values": 2.0, "gradient": 2.0, "stability": 1.0, "hidden": 1.0},
                     cases={"stability": (_large_scores, _finite_loss)},
                     autograd=_torch_naive_loss, swap_in=PAIR_SWAP,
                     titles={"values": "loss and gradients against the reference",
                             "stability": "a finite loss for scores like ±1000"}),
    *function_checks("neg_sampling", *NEG, _pair_with_negatives, outputs=PAIR,
                     title="negative sampling",
                     points={"values": 2.0, "gradient": 3.0, "hidden": 1.0},
                     autograd=lambda p, a: _torch_neg_sampling_loss(
                         p["center_vec"], a["outside_idx"], p["outside_vectors"],
                         a["negatives"]),
                     titles={"values": "loss and gradients, with a repeated negative"}),
    *function_checks("sgns_batch", *BATCH, _batch, outputs=SGNS, title="minibatch",
                     points={"values": 2.0, "gradient": 3.0, "hidden": 1.0},
                     inspect=_coefficient_shapes,
                     gradients={"center": "grad_center",  # dJ/du = coef * v_c, rebuilt here
                                "outside": lambda o, a: o["coef_outside"][:, None] * a["center"],
                                "negatives": lambda o, a: (o["coef_negatives"][:, :, None]
                                                           * a["center"][:, None, :])},
                     autograd=lambda p, a: _torch_sgns_loss(p["center"], p["outside"],
                                                            p["negatives"]),
                     titles={"values": "a minibatch of 6 pairs against the reference",
                             "gradient": "batched gradients by central differences"}),
    value_check("skipgram", "values", "a window, naive softmax and negative sampling", 2.0,
                _skipgram_values, swap_in=WINDOW_SWAP),
    *function_checks("skipgram", "skipgram", "skipgram", lambda ctx: _window(ctx, "negative"),
                     outputs=WINDOW, title="window", points={"gradient": 2.0},
                     gradients={"center_vectors": "grad_center_vectors",
                                "outside_vectors": "grad_outside_vectors"},
                     titles={"gradient": "window gradients by central differences"},
                     swap_in=WINDOW_SWAP, sampling=WINDOW_SAMPLING),
    value_check("sgd", "schedule", "linear_decay: word2vec's learning-rate schedule", 1.0,
                _schedule_values),
    function_check("sgd", "sgd", "sparse_sgd_update", _update_args, check="update",
                   title="sparse_sgd_update: repeated rows summed, in place", points=0.5,
                   outputs=("updated",), in_place="matrix", hint=IN_PLACE),
    function_check("sgd", "sgd", "sparse_outer_update", _outer_update_args,
                   check="outer_update", points=0.5, outputs=("outer_updated",),
                   title="sparse_outer_update: coefficients times vectors", in_place="matrix",
                   hint=IN_PLACE),
    function_check("count_svd", "count_based", "cooccurrence_matrix",
                   lambda ctx: ((ctx.rng().integers(0, 12, 200), 12, 2), {}),
                   check="cooccurrence", title="cooccurrence_matrix: windowed counts",
                   points=1.0, outputs=("cooccurrence",)),
    function_check("count_svd", "count_based", "ppmi", lambda ctx: ((_counts_input(ctx),), {}),
                   check="ppmi", title="ppmi on given counts", points=1.0, outputs=("ppmi",),
                   atol=1e-8),
    function_check("count_svd", "count_based", "svd_vectors",
                   lambda ctx: ((_counts_input(ctx), 4), {"seed": 0}), check="svd",
                   title="svd_vectors on given counts (up to sign)", points=1.0,
                   outputs=("svd_vectors",), up_to_sign={"svd_vectors": ("svd_vectors",)}),
    value_check("similarity", "values", "cosines, neighbours and Spearman's rho", 2.0,
                _similarity_values),
    function_check("analogy", "evaluate", "analogy_accuracy", _analogy_args,
                   title="3CosAdd accuracy on planted analogies", points=2.0,
                   outputs=("accuracy", "n_used")),
    value_check("plot", "png", "a labelled 2-D projection saved as PNG", 1.0, _plot_values,
                up_to_sign={"coordinates": ("coordinates",)}, timeout_s=60.0),
    value_check("softmax", "hidden", "softmax on another seed", 1.0, _softmax_values,
                hidden=True),
    *TRAINING,
]

PLANTED_BUGS = [
    PlantedBug("svd columns in ascending order", "count_based",
               "order = np.argsort(s)[::-1]", "order = np.argsort(s)", "count_svd"),
    PlantedBug("naive-softmax loss as -log of the softmax", "naive_softmax",
               "loss = xp.log(xp.sum(xp.exp(scores - m))) + m - scores[outside_idx]",
               "loss = -xp.log(xp.exp(scores[outside_idx]) / xp.sum(xp.exp(scores)))",
               "naive_softmax"),
    PlantedBug("learning rate ignores lr_min", "sgd",
               "return max(lr0 * (1.0 - progress), lr_min)", "return lr0 * (1.0 - progress)",
               "sgd"),
    PlantedBug("softmax without max-subtraction", "softmax",
               "shifted = x - xp.max(x, axis=-1, keepdims=True)", "shifted = x", "softmax"),
    PlantedBug("naive softmax gradient transposed", "naive_softmax",
               "grad_outside_vectors = delta[:, None] * center_vec[None, :]",
               "grad_outside_vectors = (delta[:, None] * center_vec[None, :]).T", "naive_softmax"),
    PlantedBug("negative-sampling sign flipped", "negative_sampling",
               "g_o = sigmoid(s_o) - 1.0  # ()", "g_o = 1.0 - sigmoid(s_o)  # ()", "neg_sampling"),
    PlantedBug("repeated negatives not accumulated", "negative_sampling",
               "coef = xp.matmul(g_k, hits)  # (V,)",
               "coef = xp.astype(xp.matmul(g_k, hits) != 0, g_k.dtype) * xp.max(g_k)  # (V,)",
               "neg_sampling"),
    PlantedBug("batch gradient of the negatives halved", "negative_sampling",
               "coef_negatives = sigmoid(s_k)  # (B, K)", "coef_negatives = 0.5 * sigmoid(s_k)  #",
               "sgns_batch"),
    PlantedBug("outer-product update ignores its coefficients", "sgd",
               "scatter_add_weighted(matrix, rows, coefs, vectors, alpha=-lr)",
               "scatter_add_weighted(matrix, rows, coefs * 0 + 1, vectors, alpha=-lr)", "sgd"),
    PlantedBug("skip-gram overwrites instead of accumulating", "skipgram",
               "grad_outside_vectors += g_outside", "grad_outside_vectors = g_outside * 1.0",
               "skipgram"),
    PlantedBug("learning rate does not decay", "sgd",
               "return max(lr0 * (1.0 - progress), lr_min)", "return lr0", "sgd"),
    # the training checks fail too when a step trains the wrong thing (measured: held-out loss
    # 4.2 against the reference's 2.9 for the first two)
    PlantedBug("batch center gradient ignores the negatives", "negative_sampling",
               "+ xp.matmul(coef_negatives[:, None, :], negatives)[:, 0, :])",
               "+ 0.0 * negatives[:, 0, :])", "training"),
    PlantedBug("negative words never updated", "sgd",
               "scatter_add_weighted(matrix, rows, coefs, vectors, alpha=-lr)",
               "scatter_add_weighted(matrix, rows[:, :1], coefs[:, :1], vectors, alpha=-lr)",
               "training"),
    PlantedBug("learning rate ten times too small", "sgd",
               "return max(lr0 * (1.0 - progress), lr_min)",
               "return max(0.1 * lr0 * (1.0 - progress), lr_min)", "training"),
    PlantedBug("analogy does not exclude question words", "evaluate",
               "scores[rows, a] = scores[rows, b] = scores[rows, c] = -np.inf", "pass",
               "analogy"),
]

EXERCISE = Exercise(
    name="word_vectors",
    title="Word vectors: word2vec from scratch",
    checks=CHECKS,
    questions=QUESTIONS,
    fixtures=Path(__file__).parent / "fixtures" / "word_vectors",
    planted_bugs=PLANTED_BUGS,
    given_modules=("train",),
    datasets={"training": ("sotu", "wordsim353", "simlex999", "google-analogies")},
    integrative=("training",),
)
