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
    call,
    calls_check,
    function_check,
    function_checks,
    metric_checks,
)
from nlpdojo_autograder.checks import Context, Exercise, PlantedBug
from nlpdojo_autograder.inputs import (
    BACKEND,
    derived,
    draw,
    inputs,
    integers,
    normal,
    require,
    require_finite,
    require_rows_sum_to_one,
    require_shapes,
    scratch,
    student,
    uniform,
)
from nlpdojo_autograder.topics import word_vectors_training as training
from nlpdojo_autograder.trained import audit

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


# -- softmax ---------------------------------------------------------------------------------
SOFTMAX = [call("softmax", x, out=x) for x in ("matrix", "vector", "shifted")]
SOFTMAX_INPUTS = inputs(matrix=normal(4, 7), vector=normal(6), shifted=normal(3, 5, loc=50.0))


def _large_scores(rng, drawn):
    """Scores around 1000 (exp overflows unless the row's maximum is subtracted) and a row
    with one score around -1e4 (exp underflows to 0, which is right); the offsets drawn from
    the check's seed, so a fresh seed asks a fresh question."""
    large = 1000.0 + rng.uniform(0.0, 3.0, 3)  # (3,)
    mixed = np.array([-rng.uniform(1e4, 2e4), rng.uniform(-1.0, 1.0), rng.uniform(2.0, 4.0)])
    return np.stack([rng.permutation(large), rng.permutation(mixed)])  # (2, 3)


# -- one pair, a minibatch, a window: a loss and its gradients --------------------------------
PAIR = {"center_vec": normal(D), "outside_idx": integers(V), "outside_vectors": normal(V, D)}
#: a repeated negative: its gradient contributions must add up
NEGATIVES = integers(V, K, repeated=True)  # (K,)
WINDOW = {"current_center": integers(V), "outside_words": integers(V, 4),
          "center_vectors": normal(V, D), "outside_vectors": normal(V, D)}


def _push_scores(args: dict) -> dict:
    """Scores around +1000, the true word's around -1000: exp overflows and its probability
    underflows to 0 unless the loss is computed as log-sum-exp."""
    v_c, o, U = args["center_vec"], args["outside_idx"], args["outside_vectors"]
    push = 1000.0 / np.abs(v_c).sum() * np.sign(v_c)  # (D,)  push . v_c = 1000
    U = U + push[None, :]  # (V, D)  scores ~ +1000
    U[o] -= 2.0 * push  # the true word's score ~ -1000: P(o | c) ~ exp(-2000)
    return args | {"outside_vectors": U}


def _naive_loss(center_vec, outside_idx, outside_vectors):
    """-log softmax(U v_c)[o] (CS224n lecture 2), in torch: the second oracle on torch."""
    import torch

    scores = (outside_vectors @ center_vec)[None, :]  # (1, V)
    return torch.nn.functional.cross_entropy(scores, torch.tensor([outside_idx]))


def _sgns_loss(center, outside, negatives):
    """Σ_b -log σ(u_o·v_c) - Σ_k log σ(-u_k·v_c) (Mikolov et al. 2013b), over a batch: center
    (B, D), outside (B, D), negatives (B, K, D)."""
    from torch.nn.functional import logsigmoid

    s_o = (center * outside).sum(-1)  # (B,)
    s_k = (negatives @ center[:, :, None])[..., 0]  # (B, K)
    return -(logsigmoid(s_o).sum() + logsigmoid(-s_k).sum())


def _neg_sampling_loss(center_vec, outside_idx, outside_vectors, negatives):
    """The same for one pair: a batch of one."""
    return _sgns_loss(center_vec[None], outside_vectors[outside_idx][None],
                      outside_vectors[negatives.tolist()][None])  # (1, D), (1, D), (1, K, D)


LOG_SUM_EXP = ("the loss is {value} for scores around 1000: -log(softmax(s)[o]) overflows or "
               "takes log(0); compute it as log(sum(exp(s - max(s)))) + max(s) - s[o] "
               "(log-sum-exp)")
PAIR_OUT = ("loss", "grad_center_vec", "grad_outside_vectors")
WINDOW_OUT = ("loss", "grad_center_vectors", "grad_outside_vectors")
NAIVE = ("naive_softmax", "naive_softmax_loss_and_gradient")
NEG = ("negative_sampling", "neg_sampling_loss_and_gradient")
#: a window's loss calls the swapped-in pair loss once per outside word, each a call back to
#: the grader: 12 coordinates (6 of the largest gradients, 6 random) and 4 random directions
#: per matrix instead of all 50 coordinates (docs/benchmarks.md, "Trusted evaluation")
WINDOW_SAMPLING = {"max_full": 0, "n_samples": 12, "n_directions": 4}
WINDOW_SWAP = ("softmax", "naive_softmax", "neg_sampling")
#: both pair losses through skipgram, on one window: ``naive.loss``, ``negative.loss``...
SKIPGRAM = [call("skipgram", *WINDOW, variant, *more, out=[f"{variant}.{o}" for o in WINDOW_OUT])
            for variant, more in (("naive", ()), ("negative", ("negatives",)))]


# -- SGD -------------------------------------------------------------------------------------
def _steps(rng, drawn) -> list[int]:
    """The schedule at its start, a step inside, its middle, its end and past it."""
    t = drawn["total"]
    return [0, 1, int(rng.integers(2, t // 2)), t // 2, t - 1, t, t + int(rng.integers(1, t))]


SCHEDULE_INPUTS = inputs(  # the length, the rates and the inner step drawn from the check's seed
    total=integers(200, low=50), lr0=uniform(0.01, 0.05),
    # a floor that binds between 40% and 80% of the way: "never below lr_min"
    lr_min=draw(lambda rng, d: d["lr0"] * float(rng.uniform(0.2, 0.6))), steps=draw(_steps))
SCHEDULE = [call("linear_decay", "steps", "total", "lr0", each="steps", out="learning_rates"),
            call("linear_decay", "steps", "total", "lr0", "lr_min", each="steps",
                 out="learning_rates_with_lr_min"),
            call("linear_decay", 0, 0, "lr0", out="learning_rate_when_total_steps_is_0")]
# row 1 three times: the gradients add up
UPDATE = inputs(backend=BACKEND, matrix=normal(V, D), rows=np.array([1, 3, 1, 7, 1]),
                grads=normal(5, D), lr=0.5)
# row 1 twice in one pair, row 4 in both pairs
OUTER_UPDATE = inputs(backend=BACKEND, matrix=normal(V, D), rows=np.array([[1, 4, 1], [4, 0, 9]]),
                      coefs=normal(2, 3), vectors=normal(2, D), lr=0.5)
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
WORD2IND = {w: i for i, w in enumerate(WORDS)}


def _word_pairs(rng, drawn) -> list:
    pairs = [(WORDS[i], WORDS[j], float(s)) for i, j, s in
             zip(rng.integers(0, 40, 30), rng.integers(0, 40, 30), rng.uniform(0, 10, 30),
                 strict=True)]
    return pairs + [("w1", "unknown", 5.0)]  # out of vocabulary: skipped


SIMILARITY = [
    call("similarity_spearman", "vectors", "word2ind", "pairs", out=("rho", "n_used")),
    call("nearest_neighbours", "vectors", 3, 5, out="neighbours", inspect=require(
        "neighbours", lambda n: 3 not in n.tolist(), "nearest_neighbours(vectors, 3, 5) "
        "includes word 3 itself; a word is not its own neighbour (its cosine with itself is 1, "
        "the largest)")),
    call("cosine_similarities", "vectors", np.array([0, 1, 2]), np.array([3, 1, 39]),
         out="cosines")]


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


# -- plot: the student's part first, so that a wrong shape is blamed on it, not on given code --
PLOT = [call("project_2d", "four", out="projected", compare=False, inspect=require(
            "projected", lambda p: p.shape == (4, 2), "project_2d returned shape {shape} for 4 "
            "vectors; expected (4, 2): one row of 2 coordinates per vector")),
        call("plot_words", "vectors", "word2ind", ["w1", "w4", "w7", "w9"], "png",
             out="coordinates", writes="words.png")]
PLOT_INPUTS = inputs(vectors=normal(12, 6), word2ind={f"w{i}": i for i in range(12)},
                     four=derived(lambda d: d["vectors"][[1, 4, 7, 9]]),
                     png=scratch("words.png"))


# -- training on real text (measured grader-side: word_vectors_training) ----------------------
#: the too-good bounds' explanation: far beyond the reference under the same budget and seeds
#: (its seeds differ by < 0.01 in loss, < 0.03 in rho, < 0.01 in analogies)
TOO_GOOD = ("far beyond what the reference reaches under the same budget: vectors trained "
            "elsewhere, longer, or on the evaluation sets are not this run's training")
TRAINING = metric_checks(
    "training", "run", training.train_and_measure, [
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
    ], budget=training.BUDGET.format(epochs=training.QUICK_EPOCHS), hint=training.HINT,
    audit=audit, release_expected=False, dtype="float64")


CHECKS = [
    calls_check("softmax", "values", "softmax on random rows and vectors", 2.0, "softmax",
                SOFTMAX_INPUTS, SOFTMAX, inspect=require_rows_sum_to_one("matrix", "softmax")),
    function_check("softmax", "softmax", "softmax", inputs(x=draw(_large_scores)),
                   check="stability", title="no overflow on scores like 1000", points=1.0,
                   outputs=("large_scores",)),
    *function_checks("naive_softmax", *NAIVE, inputs(**PAIR), outputs=PAIR_OUT,
                     title="naive softmax",
                     points={"values": 2.0, "gradient": 2.0, "stability": 1.0, "hidden": 1.0},
                     cases={"stability": (lambda ctx: _push_scores(inputs(**PAIR)(ctx)),
                                          require_finite("loss", LOG_SUM_EXP))},
                     autograd=_naive_loss, swap_in=("softmax",),
                     titles={"values": "loss and gradients against the reference",
                             "stability": "a finite loss for scores like ±1000"}),
    *function_checks("neg_sampling", *NEG, inputs(**PAIR, negatives=NEGATIVES), outputs=PAIR_OUT,
                     title="negative sampling",
                     points={"values": 2.0, "gradient": 3.0, "hidden": 1.0},
                     autograd=_neg_sampling_loss,
                     titles={"values": "loss and gradients, with a repeated negative"}),
    *function_checks("sgns_batch", "negative_sampling", "sgns_batch_loss_and_gradients",
                     inputs(center=normal(6, D), outside=normal(6, D), negatives=normal(6, K, D)),
                     outputs=("loss", "grad_center", "coef_outside", "coef_negatives"),
                     title="minibatch", points={"values": 2.0, "gradient": 3.0, "hidden": 1.0},
                     inspect=require_shapes(coef_outside=(6,), coef_negatives=(6, K)),
                     gradients={"center": "grad_center",  # dJ/du = coef * v_c, rebuilt here
                                "outside": lambda o, a: o["coef_outside"][:, None] * a["center"],
                                "negatives": lambda o, a: (o["coef_negatives"][:, :, None]
                                                           * a["center"][:, None, :])},
                     autograd=_sgns_loss,
                     titles={"values": "a minibatch of 6 pairs against the reference",
                             "gradient": "batched gradients by central differences"}),
    calls_check("skipgram", "values", "a window, naive softmax and negative sampling", 2.0,
                "skipgram", inputs(**WINDOW, naive=student(*NAIVE), negatives=integers(V, 4, K),
                                   negative=student(*NEG)), SKIPGRAM, swap_in=WINDOW_SWAP),
    *function_checks("skipgram", "skipgram", "skipgram",
                     inputs(**WINDOW, pair=student(*NEG), negatives=integers(V, 4, K)),
                     outputs=WINDOW_OUT, title="window", points={"gradient": 2.0},
                     titles={"gradient": "window gradients by central differences"},
                     swap_in=WINDOW_SWAP, sampling=WINDOW_SAMPLING),
    calls_check("sgd", "schedule", "linear_decay: word2vec's learning-rate schedule", 1.0, "sgd",
                SCHEDULE_INPUTS, SCHEDULE),
    function_check("sgd", "sgd", "sparse_sgd_update", UPDATE, check="update",
                   title="sparse_sgd_update: repeated rows summed, in place", points=0.5,
                   outputs=("updated",), in_place="matrix", hint=IN_PLACE),
    function_check("sgd", "sgd", "sparse_outer_update", OUTER_UPDATE, check="outer_update",
                   title="sparse_outer_update: coefficients times vectors", points=0.5,
                   outputs=("outer_updated",), in_place="matrix", hint=IN_PLACE),
    function_check("count_svd", "count_based", "cooccurrence_matrix",
                   inputs(token_ids=integers(12, 200), vocab_size=12, window=2), arrays="numpy",
                   check="cooccurrence", title="cooccurrence_matrix: windowed counts",
                   points=1.0, outputs=("cooccurrence",)),
    function_check("count_svd", "count_based", "ppmi", lambda ctx: ((_counts_input(ctx),), {}),
                   check="ppmi", title="ppmi on given counts", points=1.0, outputs=("ppmi",),
                   atol=1e-8),
    function_check("count_svd", "count_based", "svd_vectors",
                   lambda ctx: ((_counts_input(ctx), 4), {"seed": 0}), check="svd",
                   title="svd_vectors on given counts (up to sign)", points=1.0,
                   outputs=("svd_vectors",), up_to_sign={"svd_vectors": ("svd_vectors",)}),
    calls_check("similarity", "values", "cosines, neighbours and Spearman's rho", 2.0,
                "evaluate", inputs(vectors=normal(40, 8), word2ind=WORD2IND,
                                   pairs=draw(_word_pairs)), SIMILARITY, arrays="numpy"),
    function_check("analogy", "evaluate", "analogy_accuracy", _analogy_args,
                   title="3CosAdd accuracy on planted analogies", points=2.0,
                   outputs=("accuracy", "n_used")),
    calls_check("plot", "png", "a labelled 2-D projection saved as PNG", 1.0, "plot",
                PLOT_INPUTS, PLOT, arrays="numpy", up_to_sign={"coordinates": ("coordinates",)},
                timeout_s=60.0),
    calls_check("softmax", "hidden", "softmax on another seed", 1.0, "softmax", SOFTMAX_INPUTS,
                SOFTMAX, inspect=require_rows_sum_to_one("matrix", "softmax"), hidden=True),
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
    # planted under the question whose code they change; `also`: the training checks must fail
    # too, a step that trains the wrong thing (measured: held-out loss 4.2 against the
    # reference's 2.9 for the first two)
    PlantedBug("batch center gradient ignores the negatives", "negative_sampling",
               "+ xp.matmul(coef_negatives[:, None, :], negatives)[:, 0, :])",
               "+ 0.0 * negatives[:, 0, :])", "sgns_batch", also=("training",)),
    PlantedBug("negative words never updated", "sgd",
               "scatter_add_weighted(matrix, rows, coefs, vectors, alpha=-lr)",
               "scatter_add_weighted(matrix, rows[:, :1], coefs[:, :1], vectors, alpha=-lr)",
               "sgd", also=("training",)),
    PlantedBug("learning rate ten times too small", "sgd",
               "return max(lr0 * (1.0 - progress), lr_min)",
               "return max(0.1 * lr0 * (1.0 - progress), lr_min)", "sgd", also=("training",)),
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
