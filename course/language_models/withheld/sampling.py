"""The planted bugs of :mod:`nlpdojo_course.language_models.sampling`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("temperature applied as a multiplication", "z = scores «/ → *»", by=("frequencies",)),
    bug("top-k keeps the k least probable", "kth = «- → »np.partition(«- → »scores, top_k - 1, "
        "axis=1)[:, top_k - 1:top_k]  # (B, 1)\n        scores = np.where(scores «> → <»= kth"),
    bug("top-k by argsort drops ties at the k-th score", "«kth = -np.partition(-scores, top_k - "
        "1, axis=1)[:, top_k - 1:top_k]  # (B, 1) → keep = np.argsort(scores, axis=1)[:, "
        "-top_k:]  # (B, k)\n        kept = np.full_like(scores, -np.inf)\n"
        "        np.put_along_axis(kept, keep, np.take_along_axis(scores, keep, axis=1), 1)»\n"
        "        scores = «np.where(scores >= kth, scores, -np.inf) → kept»"),
    bug("sample_next's own top-k by argsort drops ties at the k-th score",
        "    probs = tempered_probs(scores, temperature, «top_k → None»)  # (B, V)\n"
        "« →     if top_k is not None and top_k < probs.shape[1]:  # the k most probable\n"
        "        drop = np.argsort(probs, axis=1)[:, :-top_k]  # (B, V - k)\n"
        "        np.put_along_axis(probs, drop, 0.0, axis=1)\n»", says="never drawn"),
    bug("one draw per row in a Python loop", "np.«sum(cdf < u, axis=1).astype( → array([np.sum(c "
        "< x) for c, x in zip(cdf, u[:, 0], strict=True)],\n                    dtype=»np.int64)"),
    bug("sampling ignores the generator", "u = (1.0 - «rng → np.random»", by=("reproducible",)),
    # the answers that satisfy every property without sampling: proved to fail the checks
    # judged against exact_tempered
    bug("sample_next returns the most probable word",
        "np.«sum(cdf < u → argmax(probs», axis=1", by=("frequencies", "top_k", "reproducible")),
    bug("sample_next draws every kept word alike",
        "    probs = « → 1.0 * (»tempered_probs(scores, temperature, top_k« → ) > 0»)  # (B, V)\n",
        by=("frequencies", "top_k", "reproducible")),
    bug("softmax without the maximum subtracted: a tiny temperature overflows",
        "e = np.exp(z« - np.max(z, axis=1, keepdims=True) → »)", by=("greedy",)),
    # a student trial: 6.5 of 6.5 while the draws were only pooled over the rows
    bug("sample_next sorts the rows' uniform numbers",
        "u = «(1.0 - rng.random(len(probs))) → np.sort(1.0 - rng.random(len(probs)))»[:, None]",
        by=("frequencies",), says="where a row sits in the batch"),
    # a student trial: 6.5 of 6.5, reproducible and rightly spread
    bug("sample_next reseeds NumPy's global generator from rng and draws from it",
        "u = (1.0 - «rng.random(len(probs)) → (np.random.seed(int(rng.integers(2**32))), "
        "np.random.random(len(probs)))[1]»)[:, None]", by=("reproducible",),
        says="global random generator"),
]
