"""word2vec's pieces (CS224n lectures 1-2; Mikolov et al. 2013a, b): a stable softmax, the
naive-softmax and negative-sampling losses with their gradients, minibatched negative
sampling and skip-gram over a window.

Value checks compare with the reference on seeded inputs; gradient checks compare each
gradient with central differences of the student's own loss (float64), that loss with the
true one at the check's point and the gradient with the reference's there; torch's autograd
of the same loss is a second oracle on the torch backend. Later questions run with the
reference swapped in for earlier ones, so one bug costs points once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nlpdojo_autograder.authoring import (
    Question,
    call,
    calls_check,
    function_check,
    function_checks,
)
from nlpdojo_autograder.authoring.inputs import (
    Draw,
    draw,
    inputs,
    integers,
    normal,
    require_finite,
    require_rows_sum_to_one,
    require_shapes,
    student,
)

V, D, K = 10, 5, 4  # vocabulary, dimension, negatives of the small checks


# -- softmax ---------------------------------------------------------------------------------
SOFTMAX_CALLS = [call("softmax", x, out=x) for x in ("matrix", "vector", "shifted")]
SOFTMAX_INPUTS = inputs(matrix=normal(4, 7), vector=normal(6), shifted=normal(3, 5, loc=50.0))


def _large_scores(rng, drawn):
    """Scores around 1000 (exp overflows unless the row's maximum is subtracted) and a row
    with one score around -1e4 (exp underflows to 0, which is right); the offsets drawn from
    the check's seed, so a fresh seed asks a fresh question."""
    large = 1000.0 + rng.uniform(0.0, 3.0, 3)  # (3,)
    mixed = np.array([-rng.uniform(1e4, 2e4), rng.uniform(-1.0, 1.0), rng.uniform(2.0, 4.0)])
    return np.stack([rng.permutation(large), rng.permutation(mixed)])  # (2, 3)


SOFTMAX = Question(
    "softmax", "Numerically stable softmax",
    checks=[
        calls_check("values", "softmax on random rows and vectors", 2.0,
                    SOFTMAX_INPUTS, SOFTMAX_CALLS,
                    inspect=require_rows_sum_to_one("matrix", "softmax")),
        function_check("softmax", inputs(x=draw(_large_scores)),
                       check="stability", title="no overflow on scores like 1000", points=1.0,
                       outputs=("large_scores",), case="on scores around 1000 and -1e4",
                       stable=True),
        calls_check("hidden", "softmax on another seed", 1.0,
                    SOFTMAX_INPUTS, SOFTMAX_CALLS,
                    inspect=require_rows_sum_to_one("matrix", "softmax"), hidden=True),
    ])


# -- one pair, a minibatch, a window: a loss and its gradients --------------------------------
PAIR = {"center_vec": normal(D), "outside_idx": integers(V), "outside_vectors": normal(V, D)}
def _negatives_with_the_outside_word(ctx, rng, drawn) -> np.ndarray:
    """K negative ids, the last a repeat of the first (their gradient contributions add up),
    the second the outside word itself, as sampling can draw it (a gradient assigned to the
    outside word's row, not added, kept the values check where no draw did: a student
    trial)."""
    ids = rng.integers(0, V, K)
    ids[-1] = ids[0]
    ids[1] = drawn["outside_idx"]
    return ids


NEGATIVES = Draw(_negatives_with_the_outside_word)  # (K,)
#: a window whose last outside word repeats its first: each occurrence is a pair of its own
#: (one that counted a repeated word once kept 4 of 4 where no draw repeated one: a student
#: trial)
WINDOW = {"current_center": integers(V), "outside_words": integers(V, 4, repeated=True),
          "center_vectors": normal(V, D), "outside_vectors": normal(V, D)}
#: (V, D) at scale: a pair's loss and gradients over 1,048,704 numbers (builders'
#: ``at_scale``: gradients found by differentiating the loss numerically cannot be computed
#: there in a check's time and memory; the chain rule's take a few (V, D) products)
V_AT_SCALE, D_AT_SCALE = 8192, 128
PAIR_AT_SCALE = {"center_vec": normal(D_AT_SCALE, scale=0.1),
                 "outside_idx": integers(V_AT_SCALE),
                 "outside_vectors": normal(V_AT_SCALE, D_AT_SCALE, scale=0.1)}


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
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    import torch

    scores = (outside_vectors @ center_vec)[None, :]  # (1, V)
    return torch.nn.functional.cross_entropy(scores, torch.tensor([outside_idx]))


def _sgns_loss(center, outside, negatives):
    """Σ_b -log σ(u_o·v_c) - Σ_k log σ(-u_k·v_c) (Mikolov et al. 2013b), over a batch: center
    (B, D), outside (B, D), negatives (B, K, D)."""
    # imported on use: torch is optional (a NumPy-only grader never loads it)
    from torch.nn.functional import logsigmoid

    s_o = (center * outside).sum(-1)  # (B,)
    s_k = (negatives @ center[:, :, None])[..., 0]  # (B, K)
    return -(logsigmoid(s_o).sum() + logsigmoid(-s_k).sum())


def _neg_sampling_loss(center_vec, outside_idx, outside_vectors, negatives):
    """The same for one pair: a batch of one."""
    return _sgns_loss(center_vec[None], outside_vectors[outside_idx][None],
                      outside_vectors[negatives.tolist()][None])  # (1, D), (1, D), (1, K, D)


def _saturate_batch(args: dict) -> dict:
    """A minibatch's scores past the overflow of exp, as :func:`_push_scores` pushes a pair's
    (negative sampling's ``saturated`` case): each pair's u_o·v_c around -1000, its
    negatives' around +1000, so log σ(u_o·v_c) and log σ(-u_k·v_c) are about -1000 and
    σ(u_k·v_c) is 1 (each pair pushed along the signs of its own v_c)."""
    c = args["center"]  # (B, D)
    push = 1000.0 / np.abs(c).sum(axis=1, keepdims=True) * np.sign(c)  # (B, D) push . v_c = 1000
    return args | {"outside": args["outside"] - push,
                   "negatives": args["negatives"] + push[:, None, :]}


#: what a naive log σ or σ does at scores like ±1000, and the cure
LOG_SIGMOID = ("the loss is {value} for scores u·v_c around ±1000: log(sigmoid(x)) takes log(0) "
               "once sigmoid(x) underflows (x below about -745), and -log(1 / (1 + exp(-x))) "
               "overflows exp(-x) there; compute log sigmoid(x) as min(x, 0) - "
               "log1p(exp(-|x|)) (or -logaddexp(0, -x)), which never overflows")
SIGMOID_NAN = ("{what} holds NaN for scores u·v_c around ±1000: your sigmoid overflows "
               "(exp(x) / (1 + exp(x)) is inf / inf above x = 709); compute it from "
               "exp(-|x|), which never overflows, or as 1 / (1 + exp(-x))")


def _saturated(outputs: tuple[str, ...]) -> Callable[[dict, dict], None]:
    """Require a finite loss (naming log σ's overflow) and finite gradients (naming σ's)."""
    checks = [require_finite(outputs[0], LOG_SIGMOID),
              *(require_finite(o, SIGMOID_NAN.format(what=o)) for o in outputs[1:])]

    def inspect(out: dict, args: dict) -> None:
        for check in checks:
            check(out, args)

    return inspect


LOG_SUM_EXP = ("the loss is {value} for scores around 1000: -log(softmax(s)[o]) overflows or "
               "takes log(0); compute it as log(sum(exp(s - max(s)))) + max(s) - s[o] "
               "(log-sum-exp)")
PAIR_OUT = ("loss", "grad_center_vec", "grad_outside_vectors")
WINDOW_OUT = ("loss", "grad_center_vectors", "grad_outside_vectors")
NAIVE = ("naive_softmax", "naive_softmax_loss_and_gradient")
#: the pair losses and the window's return their loss as a Python float, as CS224n's
#: assignment 2 does (``float(loss)``); every other output is an array (the batched loss too)
LOSS_NUMBER = ("loss",)
NEG = ("negative_sampling", "neg_sampling_loss_and_gradient")
#: a window's loss calls the swapped-in pair loss once per outside word, each a call back to
#: the grader: 12 coordinates (6 of the largest gradients, 6 random) and 4 random directions
#: per matrix instead of all 50 coordinates (docs/benchmarks.md, "Trusted evaluation")
WINDOW_SAMPLING = {"max_full": 0, "n_samples": 12, "n_directions": 4}
#: both pair losses through skipgram, on one window: ``naive.loss``, ``negative.loss``...
SKIPGRAM_CALLS = [call("skipgram", *WINDOW, variant, *more,
                       out=[f"{variant}.{o}" for o in WINDOW_OUT], numbers=(f"{variant}.loss",))
                  for variant, more in (("naive", ()), ("negative", ("negatives",)))]

NAIVE_SOFTMAX = Question(
    "naive_softmax", "Naive-softmax loss and gradients",
    checks=function_checks(
        NAIVE[1], inputs(**PAIR), outputs=PAIR_OUT, title="naive softmax",
        points={"values": 2.0, "gradient": 2.0, "stability": 1.0, "hidden": 1.0},
        cases={"stability": (lambda ctx: _push_scores(inputs(**PAIR)(ctx)),
                             require_finite("loss", LOG_SUM_EXP))},
        torch=_naive_loss, swap_in=(SOFTMAX,), stable=("stability",), numbers=LOSS_NUMBER,
        at_scale=inputs(**PAIR_AT_SCALE),
        titles={"values": "loss and gradients against the reference",
                "stability": "a finite loss for scores like ±1000"}))

NEG_SAMPLING = Question(
    "neg_sampling", "Negative-sampling loss and gradients", code="negative_sampling",
    checks=function_checks(
        NEG[1], inputs(**PAIR, negatives=NEGATIVES), outputs=PAIR_OUT,
        title="negative sampling",
        points={"values": 2.0, "gradient": 2.0, "saturated": 1.0, "hidden": 1.0},
        cases={"saturated": (lambda ctx: _push_scores(inputs(**PAIR, negatives=NEGATIVES)(ctx)),
                             _saturated(PAIR_OUT))},
        torch=_neg_sampling_loss, numbers=LOSS_NUMBER,
        at_scale=inputs(**PAIR_AT_SCALE, negatives=integers(V_AT_SCALE, 10, repeated=True)),
        titles={"values": "loss and gradients, with a repeated negative",
                "saturated": "a finite loss and gradients for scores like ±1000"}))

SGNS_INPUTS = inputs(center=normal(6, D), outside=normal(6, D), negatives=normal(6, K, D))
SGNS_OUT = ("loss", "grad_center", "coef_outside", "coef_negatives")

SGNS_BATCH = Question(
    "sgns_batch", "Minibatched negative sampling", code="negative_sampling",
    checks=function_checks(
        "sgns_batch_loss_and_gradients",
        SGNS_INPUTS, outputs=SGNS_OUT,
        title="minibatch",
        points={"values": 2.0, "gradient": 2.0, "saturated": 1.0, "hidden": 1.0},
        inspect=require_shapes(coef_outside=(6,), coef_negatives=(6, K)),
        cases={"saturated": (lambda ctx: _saturate_batch(SGNS_INPUTS(ctx)),
                             _saturated(SGNS_OUT))},
        gradients={"center": "grad_center",  # dJ/du = coef * v_c, rebuilt here
                   "outside": lambda o, a: o["coef_outside"][:, None] * a["center"],
                   "negatives": lambda o, a: (o["coef_negatives"][:, :, None]
                                              * a["center"][:, None, :])},
        torch=_sgns_loss, array_outputs=("loss",),
        batched=("center", "outside", "negatives"),  # the README's "no loops", required
        # the pairs of a batch are independent, so a numerical gradient needs only as many
        # steps as a row has numbers, at any batch size: nothing to gain at scale
        at_scale=None,
        titles={"values": "a minibatch of 6 pairs against the reference",
                "gradient": "batched gradients by central differences",
                "saturated": "a finite loss and gradients for scores like ±1000"}))

#: the questions a window's checks swap in: the softmax and both pair losses
WINDOW_SWAP = (SOFTMAX, NAIVE_SOFTMAX, NEG_SAMPLING)

SKIPGRAM = Question(
    "skipgram", "Skip-gram over a window",
    checks=[
        calls_check("values", "a window, naive softmax and negative sampling", 2.0,
                    inputs(**WINDOW, naive=student(*NAIVE),
                           negatives=integers(V, 4, K), negative=student(*NEG)),
                    SKIPGRAM_CALLS, swap_in=WINDOW_SWAP),
        function_checks("skipgram",
                        inputs(**WINDOW, pair=student(*NEG), negatives=integers(V, 4, K)),
                        outputs=WINDOW_OUT, title="window", points={"gradient": 2.0},
                        titles={"gradient": "window gradients by central differences"},
                        swap_in=WINDOW_SWAP, sampling=WINDOW_SAMPLING, numbers=LOSS_NUMBER,
                        at_scale=inputs(current_center=integers(V_AT_SCALE),
                                        outside_words=integers(V_AT_SCALE, 4),
                                        center_vectors=normal(V_AT_SCALE, D_AT_SCALE,
                                                              scale=0.1),
                                        outside_vectors=normal(V_AT_SCALE, D_AT_SCALE,
                                                               scale=0.1),
                                        pair=student(*NEG),
                                        negatives=integers(V_AT_SCALE, 4, K))),
    ])

QUESTIONS = [SOFTMAX, NAIVE_SOFTMAX, NEG_SAMPLING, SGNS_BATCH, SKIPGRAM]
