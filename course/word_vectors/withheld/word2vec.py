"""The planted bugs of :mod:`nlpdojo_course.word_vectors.word2vec`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("softmax without max-subtraction", "softmax",
        "shifted = x - xp.max(x, axis=-1, keepdims=True)", "shifted = x", "softmax"),
    bug("softmax as 1 / sum(exp(x_j - x_i)): finite, after an overflow", "softmax",
        "    return exps / xp.sum(exps, axis=-1, keepdims=True)  # (..., N)\n",
        "    return 1.0 / xp.sum(xp.exp(x[..., None, :] - x[..., :, None]), axis=-1)\n",
        "softmax"),
    bug("naive-softmax loss as -log of the softmax", "naive_softmax",
        "loss = xp.log(xp.sum(xp.exp(scores - m))) + m - scores[outside_idx]",
        "loss = -xp.log(xp.exp(scores[outside_idx]) / xp.sum(xp.exp(scores)))",
        "naive_softmax"),
    bug("naive softmax gradient transposed", "naive_softmax",
        "grad_outside_vectors = delta[:, None] * center_vec[None, :]",
        "grad_outside_vectors = (delta[:, None] * center_vec[None, :]).T", "naive_softmax"),
    bug("negative-sampling sign flipped", "negative_sampling",
        "g_o = sigmoid(s_o) - 1.0  # ()", "g_o = 1.0 - sigmoid(s_o)  # ()", "neg_sampling"),
    bug("repeated negatives not accumulated", "negative_sampling",
        "coef = xp.matmul(g_k, hits)  # (V,)",
        "coef = xp.astype(xp.matmul(g_k, hits) != 0, g_k.dtype) * xp.max(g_k)  # (V,)",
        "neg_sampling"),
    bug("negative-sampling loss as log(sigmoid(x)): log(0) past x = -745", "negative_sampling",
        "loss = -log_sigmoid(s_o) - xp.sum(log_sigmoid(-s_k))",
        "loss = -xp.log(sigmoid(s_o)) - xp.sum(xp.log(sigmoid(-s_k)))", "neg_sampling",
        says="log(sigmoid(x)) takes log(0)", by=("saturated",)),
    bug("batch loss as -log(1 / (1 + exp(-x))): exp overflows past x = -709", "negative_sampling",
        "    loss = -(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k)))\n",
        "    loss = (xp.sum(-xp.log(1.0 / (1.0 + xp.exp(-s_o))))\n"
        "            + xp.sum(-xp.log(1.0 / (1.0 + xp.exp(s_k)))))\n", "sgns_batch",
        says="overflows exp(-x)", by=("saturated",)),
    bug("batch loss returned as a Python float", "negative_sampling",
        "    loss = -(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k)))\n",
        "    loss = float(-(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k))))\n",
        "sgns_batch"),
    bug("batch gradient of the negatives halved", "negative_sampling",
        "coef_negatives = sigmoid(s_k)  # (B, K)", "coef_negatives = 0.5 * sigmoid(s_k)  #",
        "sgns_batch"),
    # the training checks must fail too: a step that trains the wrong thing (measured:
    # held-out loss 4.2 against the reference's 2.9)
    bug("batch center gradient ignores the negatives", "negative_sampling",
        "+ xp.matmul(coef_negatives[:, None, :], negatives)[:, 0, :])",
        "+ 0.0 * negatives[:, 0, :])", "sgns_batch", also=("training",)),
    bug("skip-gram overwrites instead of accumulating", "skipgram",
        "grad_outside_vectors += g_outside", "grad_outside_vectors = g_outside * 1.0",
        "skipgram"),
]
