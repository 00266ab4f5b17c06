"""The planted bugs of :mod:`nlpdojo_course.word_vectors.count_based`'s questions (withheld
from a student's install: each quotes the reference it plants into)."""

from __future__ import annotations

from nlpdojo_autograder.authoring import bug

BUGS = [
    bug("the matrix sized by the largest id, vocab_size ignored",
        "counts = sp.coo_matrix((np.ones(rows.shape[0]), (rows, cols))«,\n"
        "                           shape=(vocab_size, vocab_size) → »)", by=("cooccurrence",)),
    # right counts, a Python loop over the tokens: require_vectorized fails it
    bug("co-occurrence pairs gathered in a Python loop over the tokens",
        "        left, right = «token_ids[:-j], token_ids[j:] → (\n"
        "            np.array([token_ids[t] for t in range(len(token_ids) - j)], np.int64),\n"
        "            np.array([token_ids[t + j] for t in range(len(token_ids) - j)], np.int64))»",
        says="a Python loop over the tokens"),
    bug("co-occurrence counts returned as the COO matrix, duplicates not summed",
        "return counts«.tocsr() → »  # (V, V), the conversion sums duplicate (row, col) "
        "entries", says="more than once"),
    bug("svd columns in ascending order", "order = np.argsort(s)«[::-1] → »"),
    bug("co-occurrence window written in, not the argument", "for j in range(1, «window → 2» + 1)"),
    bug("SVD size written in, not the argument", "s, _ = spla.svds(weighted, k=«dim → 4», v0=v0)"),
]
