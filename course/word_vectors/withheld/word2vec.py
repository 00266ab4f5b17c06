"""The planted bugs of :mod:`nlpdojo_course.word_vectors.word2vec`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug
from nlpdojo_course.word_vectors.training import TRAINING

BUGS = [
    bug("softmax without max-subtraction", "shifted = x« - xp.max(x, axis=-1, keepdims=True) → »"),
    bug("softmax as 1 / sum(exp(x_j - x_i)): finite, after an overflow",
        "    return «exps / xp.sum(exps, axis=-1, keepdims=True)  # (..., N) → 1.0 / "
        "xp.sum(xp.exp(x[..., None, :] - x[..., :, None]), axis=-1)»"),
    bug("naive-softmax loss as -log of the softmax",
        "loss = «xp.log(xp.sum(xp.exp(scores - m))) + m - scores[outside_idx] → "
        "-xp.log(xp.exp(scores[outside_idx]) / xp.sum(xp.exp(scores)))»"),
    bug("naive softmax gradient transposed",
        "grad_outside_vectors = « → (»delta[:, None] * center_vec[None, :]« → ).T»"),
    # student trials: each kept every point where no draw repeated the outside word
    bug("the outside word's gradient assigned, not added (it may be a negative too)",
        "coef[outside_idx] «+= → =» g_o"),
    bug("a repeated outside word of a window counted once",
        "for j, o in enumerate(«outside_list → dict.fromkeys(outside_list)»):"),
    bug("negative-sampling sign flipped", "g_o = «sigmoid(s_o) - 1.0 → 1.0 - sigmoid(s_o)»  # ()"),
    bug("repeated negatives not accumulated",
        "coef = « → xp.astype(»xp.matmul(g_k, hits« → ) != 0, g_k.dtype) * xp.max(g_k»)  # (V,)"),
    bug("negative-sampling loss as log(sigmoid(x)): log(0) past x = -745",
        "loss = -«log_sigmoid(s_o) - xp.sum(log_sigmoid(-s_k → xp.log(sigmoid(s_o)) - "
        "xp.sum(xp.log(sigmoid(-s_k)»))", says="log(sigmoid(x)) takes log(0)", by=("saturated",)),
    bug("batch loss as -log(1 / (1 + exp(-x))): exp overflows past x = -709",
        "    loss = «-(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k → (xp.sum(-xp.log(1.0 / "
        "(1.0 + xp.exp(-s_o))))\n            + xp.sum(-xp.log(1.0 / (1.0 + xp.exp(s_k))»)))",
        says="overflows exp(-x)", by=("saturated",)),
    bug("minibatch as a Python loop over its pairs (the README's \"no loops\")",
        "    s_o = xp.vecdot(center, outside)  # (B,)     u_o . v_c per pair\n"
        "    s_k = xp.vecdot(negatives, center[:, None, :])  # (B, K)   u_k . v_c\n",
        "    s_o = xp.stack([xp.vecdot(center[b], outside[b]) for b in range(center.shape[0])])\n"
        "    s_k = xp.stack([xp.vecdot(negatives[b], center[b][None, :])\n"
        "                    for b in range(center.shape[0])])\n",
        says="a Python loop over the batch", by=("values",)),
    bug("batch loss returned as a Python float",
        "    loss = « → float(»-(xp.sum(log_sigmoid(s_o)) + xp.sum(log_sigmoid(-s_k)))« → )»\n"),
    bug("batch gradient of the negatives halved",
        "coef_negatives = «sigmoid(s_k)  # (B, K) → 0.5 * sigmoid(s_k)  #»"),
    # the training checks must fail too: a step that trains the wrong thing (measured:
    # held-out loss 4.2 against the reference's 2.9)
    bug("batch center gradient ignores the negatives",
        "+ «xp.matmul(coef_negatives[:, None, :], negatives) → 0.0 * negatives»", also=(TRAINING,)),
    bug("skip-gram overwrites instead of accumulating",
        "grad_outside_vectors «+= g_outside → = g_outside * 1.0»"),
]
